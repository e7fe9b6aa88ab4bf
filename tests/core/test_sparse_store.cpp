// Unit tests of the sparse backing store (tlm/mem/sparse_store.h).
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <vector>

#include "tlm/mem/sparse_store.h"

using accelvp::sparse_store;

namespace {
constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t GiB = 1ull << 30;

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
    std::vector<uint8_t> v(n);
    uint32_t x = seed;
    for (auto& b : v) {
        x = x * 1664525u + 1013904223u;
        b = static_cast<uint8_t>(x >> 24);
    }
    return v;
}

std::vector<uint8_t> read(const sparse_store& s, uint64_t addr, size_t n) {
    std::vector<uint8_t> v(n, 0xEE);
    s.read(addr, v.data(), n);
    return v;
}
} // namespace

TEST_CASE("sparse_store: a 96 GiB store allocates nothing until written and reads zeros", "[sparse_store]") {
    sparse_store s(96 * GiB);
    CHECK(s.size() == 96 * GiB);
    CHECK(sparse_store::page_size == MiB);
    CHECK(s.pages_allocated() == 0);

    CHECK(read(s, 0, 64) == std::vector<uint8_t>(64, 0));
    CHECK(read(s, 50 * GiB + 123, 3 * MiB) == std::vector<uint8_t>(3 * MiB, 0));  // spans 4 pages
    CHECK(read(s, 96 * GiB - 16, 16) == std::vector<uint8_t>(16, 0));
    CHECK(s.pages_allocated() == 0);  // reads never allocate

    s.fill(10 * GiB, 0, 5 * MiB);  // zero-filling untouched memory costs nothing either
    CHECK(s.pages_allocated() == 0);

    const uint8_t one = 0x5A;
    s.write(96 * GiB - 1, &one, 1);  // the very last byte
    CHECK(s.pages_allocated() == 1);
    CHECK(read(s, 96 * GiB - 2, 2) == std::vector<uint8_t>{0, 0x5A});
    s.write(96 * GiB - 1, &one, 1);  // same page again
    CHECK(s.pages_allocated() == 1);
}

TEST_CASE("sparse_store: writes across 1 MiB page boundaries read back exactly", "[sparse_store]") {
    sparse_store s(16 * MiB);

    const auto small = pattern(8, 1);
    s.write(MiB - 3, small.data(), small.size());  // 3 bytes in page 0, 5 in page 1
    CHECK(s.pages_allocated() == 2);
    CHECK(read(s, MiB - 3, 8) == small);
    CHECK(read(s, MiB - 5, 2) == std::vector<uint8_t>{0, 0});
    CHECK(read(s, MiB + 5, 2) == std::vector<uint8_t>{0, 0});

    // 2.5 MiB starting mid-page: touches pages 4, 5 and 6.
    const auto big = pattern(5 * MiB / 2, 2);
    const uint64_t at = 4 * MiB + 777;
    s.write(at, big.data(), big.size());
    CHECK(s.pages_allocated() == 5);
    CHECK(read(s, at, big.size()) == big);
    // Partial reads at arbitrary offsets inside the written span.
    const auto mid = read(s, at + MiB - 777 - 10, 20);  // across the 5 MiB boundary
    CHECK(std::equal(mid.begin(), mid.end(), big.begin() + static_cast<long>(MiB - 777 - 10)));
    // Untouched neighbours are still zero, and the pages in between were not allocated.
    CHECK(read(s, at - 1, 1) == std::vector<uint8_t>{0});
    CHECK(read(s, at + big.size(), 1) == std::vector<uint8_t>{0});
    CHECK(read(s, 2 * MiB, MiB) == std::vector<uint8_t>(MiB, 0));

    // Overwrite a window straddling two pages and check the bytes around it.
    const auto patch = pattern(32, 3);
    s.write(5 * MiB - 16, patch.data(), patch.size());
    auto expect = big;
    std::memcpy(expect.data() + (5 * MiB - 16 - at), patch.data(), patch.size());
    CHECK(read(s, at, big.size()) == expect);
    CHECK(s.pages_allocated() == 5);
}

TEST_CASE("sparse_store: page_ptr allocates the page and aliases the stored bytes", "[sparse_store]") {
    sparse_store s(8 * MiB);
    CHECK(sparse_store::page_base(3 * MiB + 12345) == 3 * MiB);
    CHECK(sparse_store::page_base(3 * MiB) == 3 * MiB);
    CHECK(sparse_store::page_base(3 * MiB - 1) == 2 * MiB);

    uint8_t* p = s.page_ptr(3 * MiB + 100);
    REQUIRE(p != nullptr);
    CHECK(s.pages_allocated() == 1);
    CHECK(p[0] == 0);
    CHECK(p[MiB - 1] == 0);  // calloc'd
    CHECK(s.page_ptr(3 * MiB) == p);  // the same page for any address in it
    CHECK(s.pages_allocated() == 1);

    p[100] = 0xAB;
    CHECK(read(s, 3 * MiB + 100, 1) == std::vector<uint8_t>{0xAB});
    const uint8_t v[2] = {1, 2};
    s.write(3 * MiB + 200, v, 2);
    CHECK(p[200] == 1);
    CHECK(p[201] == 2);
}

TEST_CASE("sparse_store: fill sets bytes across pages and allocates only for non-zero bytes or touched pages",
          "[sparse_store]") {
    sparse_store s(8 * MiB);
    s.fill(2 * MiB - 10, 0xAB, 20);  // pages 1 and 2
    CHECK(s.pages_allocated() == 2);
    auto got = read(s, 2 * MiB - 12, 24);
    std::vector<uint8_t> want(24, 0xAB);
    want[0] = want[1] = want[22] = want[23] = 0;
    CHECK(got == want);

    // Zero-fill over a touched page clears it; over untouched pages it allocates nothing.
    s.fill(2 * MiB - 5, 0, 3 * MiB);  // pages 1..4, only 1 and 2 exist
    CHECK(s.pages_allocated() == 2);
    want.assign(24, 0);
    for (int k = 2; k < 7; ++k) want[static_cast<size_t>(k)] = 0xAB;  // [2MiB-10, 2MiB-5) keep 0xAB
    CHECK(read(s, 2 * MiB - 12, 24) == want);

    // A whole-page fill.
    s.fill(5 * MiB, 0x11, MiB);
    CHECK(s.pages_allocated() == 3);
    CHECK(read(s, 5 * MiB, MiB) == std::vector<uint8_t>(MiB, 0x11));
    CHECK(read(s, 6 * MiB, 1) == std::vector<uint8_t>{0});
    CHECK(read(s, 5 * MiB - 1, 1) == std::vector<uint8_t>{0});

    // Zero-length operations do nothing.
    s.fill(7 * MiB, 0xFF, 0);
    s.write(7 * MiB, nullptr, 0);
    CHECK(s.pages_allocated() == 3);
}
