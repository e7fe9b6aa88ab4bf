// Unit tests of the first-fit range allocator (platform/host/range_allocator.h).
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <vector>

#include "platform/host/range_allocator.h"

using accelvp::range_allocator;

TEST_CASE("range_allocator: blocks honour the requested alignment and do not overlap", "[range_allocator]") {
    range_allocator a(0x10000, 0x10000);
    CHECK(a.base() == 0x10000);
    CHECK(a.size() == 0x10000);

    const auto b1 = a.alloc(0x10, 1);
    REQUIRE(b1);
    CHECK(*b1 == 0x10000);
    const auto b2 = a.alloc(0x100, 0x1000);  // skips to the next 4 KiB boundary
    REQUIRE(b2);
    CHECK(*b2 == 0x11000);
    const auto b3 = a.alloc(0x20, 0x40);     // first fit: in the gap left by the alignment
    REQUIRE(b3);
    CHECK(*b3 == 0x10040);
    const auto b4 = a.alloc(3, 1);
    REQUIRE(b4);
    CHECK(*b4 == 0x10010);
    const auto b5 = a.alloc(8, 8);
    REQUIRE(b5);
    CHECK(*b5 == 0x10018);  // 0x10013 rounded up to 8
    CHECK(a.in_use() == 0x10 + 0x100 + 0x20 + 3 + 8);

    for (uint64_t align : {1ull, 2ull, 16ull, 256ull, 0x2000ull, 0x8000ull}) {
        INFO("align 0x" << std::hex << align);
        const auto p = a.alloc(0x30, align);
        REQUIRE(p);
        CHECK(*p % align == 0);
        CHECK(*p >= a.base());
        CHECK(*p + 0x30 <= a.base() + a.size());
    }

    // An unaligned base still yields aligned addresses.
    range_allocator odd(0x1003, 0x3000);
    const auto o = odd.alloc(0x10, 0x1000);
    REQUIRE(o);
    CHECK(*o == 0x2000);
    const auto o2 = odd.alloc(0x10, 1);
    REQUIRE(o2);
    CHECK(*o2 == 0x1003);  // the gap before the aligned block is still free
}

TEST_CASE("range_allocator: exhaustion and invalid requests return nullopt", "[range_allocator]") {
    range_allocator a(0x1000, 0x1000);
    CHECK_FALSE(a.alloc(0x1001, 1));       // larger than everything
    CHECK_FALSE(a.alloc(0, 1));            // empty
    CHECK_FALSE(a.alloc(0x10, 0));         // no alignment
    CHECK_FALSE(a.alloc(0x10, 3));         // not a power of two
    CHECK_FALSE(a.alloc(0x10, 0x3000));        // not a power of two either
    CHECK_FALSE(a.alloc(0x800, 0x2000));   // no 8 KiB boundary inside [0x1000, 0x2000)
    CHECK(a.in_use() == 0);

    const auto whole = a.alloc(0x1000, 0x1000);
    REQUIRE(whole);
    CHECK(*whole == 0x1000);
    CHECK(a.in_use() == 0x1000);
    CHECK_FALSE(a.alloc(1, 1));  // full

    REQUIRE(a.free(*whole));
    std::vector<uint64_t> blocks;
    while (auto p = a.alloc(0x300, 0x100)) blocks.push_back(*p);
    CHECK(blocks == std::vector<uint64_t>{0x1000, 0x1300, 0x1600, 0x1900, 0x1C00});
    // 0x1C00 + 0x300 = 0x1F00: the remaining 0x100 bytes cannot hold another block...
    CHECK_FALSE(a.alloc(0x101, 1));
    // ...but can hold a block that fits.
    const auto tail = a.alloc(0x100, 0x100);
    REQUIRE(tail);
    CHECK(*tail == 0x1F00);
    CHECK_FALSE(a.alloc(1, 1));
}

TEST_CASE("range_allocator: free coalesces neighbours so the full size can be allocated again",
          "[range_allocator]") {
    range_allocator a(0x4000, 0x4000);
    std::vector<uint64_t> blocks;
    for (int k = 0; k < 16; ++k) {
        const auto p = a.alloc(0x400, 0x400);
        REQUIRE(p);
        blocks.push_back(*p);
    }
    CHECK(a.in_use() == 0x4000);
    CHECK_FALSE(a.alloc(1, 1));

    // Free in a scrambled order: every merge case (with the next, the previous, both, none).
    const std::vector<size_t> order = {5, 7, 6, 0, 15, 1, 14, 3, 2, 8, 10, 9, 12, 11, 13, 4};
    for (size_t n = 0; n < order.size(); ++n) {
        INFO("freeing block " << order[n]);
        CHECK(a.free(blocks[order[n]]));
        if (n + 1 < order.size()) CHECK_FALSE(a.alloc(0x4000, 1));  // not whole before the last free
    }
    CHECK(a.in_use() == 0);
    const auto whole = a.alloc(0x4000, 0x4000);
    REQUIRE(whole);
    CHECK(*whole == 0x4000);
    CHECK(a.free(*whole));

    // An aligned allocation leaves a gap before it; freeing the block merges the gap back.
    const auto aligned = a.alloc(0x100, 0x2000);
    REQUIRE(aligned);
    CHECK(*aligned == 0x4000);
    const auto shifted = a.alloc(0x100, 0x1000);
    REQUIRE(shifted);
    CHECK(*shifted == 0x5000);
    CHECK(a.free(*aligned));
    CHECK(a.free(*shifted));
    const auto again = a.alloc(0x4000, 1);
    REQUIRE(again);
    CHECK(*again == 0x4000);
}

TEST_CASE("range_allocator: double free and freeing unknown addresses return false", "[range_allocator]") {
    range_allocator a(0x1000, 0x1000);
    const auto p = a.alloc(0x100, 0x10);
    const auto q = a.alloc(0x100, 0x10);
    REQUIRE(p);
    REQUIRE(q);
    CHECK(a.free(*p));
    CHECK(a.in_use() == 0x100);
    CHECK_FALSE(a.free(*p));  // double free
    CHECK(a.in_use() == 0x100);
    CHECK_FALSE(a.free(*q + 0x10));  // inside a block, not its start
    CHECK_FALSE(a.free(0x1000 + 0x800));  // free space
    CHECK_FALSE(a.free(0));  // outside the range
    CHECK(a.free(*q));
    CHECK_FALSE(a.free(*q));
    CHECK(a.in_use() == 0);
    // The double frees did not corrupt the free list.
    const auto whole = a.alloc(0x1000, 1);
    REQUIRE(whole);
    CHECK(*whole == 0x1000);
}
