// DMA engine correctness through the whole path (driver -> ring -> queue manager ->
// DMA -> memories), checked bit-exact against a host reference, including the bytes
// around the destination that must stay untouched.
#include <cstring>

#include "harness.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {

constexpr uint8_t guard = 0xEE;

struct copy_case {
    uint32_t src_flags, dst_flags;
    uint64_t bytes, src_off, dst_off;
};

// Copies `bytes` from src+src_off to dst+dst_off and returns the destination buffer
// with `pad` guard bytes around the copied range, plus the expected contents.
void run_linear_copy(const copy_case& c, std::vector<uint8_t>& got, std::vector<uint8_t>& want, int& status) {
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        const uint64_t pad = 64;
        buffer src = make_bo(dev, c.bytes + c.src_off, c.src_flags);
        buffer dst = make_bo(dev, c.bytes + c.dst_off + pad, c.dst_flags);
        const auto data = pattern(c.bytes + c.src_off, 7);
        CHECK(src.map->write(0, data.data(), data.size()) == 0);
        std::vector<uint8_t> init(c.bytes + c.dst_off + pad, guard);
        CHECK(dst.map->write(0, init.data(), init.size()) == 0);

        cmdbuf_builder cb;
        cb.copy(src.va() + c.src_off, dst.va() + c.dst_off, c.bytes);
        uapi::wait_args w;
        status = wait_job(dev, submit(dev, cb.bytes()), w);

        want = init;
        std::memcpy(want.data() + c.dst_off, data.data() + c.src_off, c.bytes);
        got.resize(init.size());
        CHECK(dst.map->peek(0, got.data(), got.size()) == 0);
    });
    REQUIRE(h.finished());
}

} // namespace

TEST_CASE("DMA copies host to device bit-exact for an odd size at unaligned addresses", "[dma][h2d]") {
    std::vector<uint8_t> got, want;
    int st = -1;
    run_linear_copy({uapi::BO_HOST, uapi::BO_DEVICE, 12345, 3, 5}, got, want, st);
    REQUIRE(st == 0);
    REQUIRE(got == want);
}

TEST_CASE("DMA copies device to host bit-exact for an odd size at unaligned addresses", "[dma][d2h]") {
    std::vector<uint8_t> got, want;
    int st = -1;
    run_linear_copy({uapi::BO_DEVICE, uapi::BO_HOST, 100003, 7, 1}, got, want, st);
    REQUIRE(st == 0);
    REQUIRE(got == want);
}

TEST_CASE("DMA copies device to device bit-exact across many bursts", "[dma][d2d]") {
    std::vector<uint8_t> got, want;
    int st = -1;
    run_linear_copy({uapi::BO_DEVICE, uapi::BO_DEVICE, (1u << 20) + 17, 1, 4095}, got, want, st);
    REQUIRE(st == 0);
    REQUIRE(got == want);
}

TEST_CASE("DMA copies a single byte", "[dma]") {
    std::vector<uint8_t> got, want;
    int st = -1;
    run_linear_copy({uapi::BO_HOST, uapi::BO_DEVICE, 1, 0, 63}, got, want, st);
    REQUIRE(st == 0);
    REQUIRE(got == want);
}

TEST_CASE("DMA 2-D strided copy moves each row and leaves the gaps untouched", "[dma][2d]") {
    // Rows wider than a burst (4096 B) so rows split into several bursts.
    const uint64_t width = 5000, height = 7, sstride = 6144, dstride = 5003;
    std::vector<uint8_t> got, want;
    int st = -1;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer src = make_bo(dev, sstride * height, uapi::BO_HOST);
        buffer dst = make_bo(dev, dstride * height + 64, uapi::BO_DEVICE);
        const auto data = pattern(sstride * height, 11);
        CHECK(src.map->write(0, data.data(), data.size()) == 0);
        std::vector<uint8_t> init(dstride * height + 64, guard);
        CHECK(dst.map->write(0, init.data(), init.size()) == 0);
        cmdbuf_builder cb;
        cb.copy_2d(src.va() + 10, dst.va() + 2, width, height, sstride, dstride);
        uapi::wait_args w;
        st = wait_job(dev, submit(dev, cb.bytes()), w);
        want = init;
        for (uint64_t r = 0; r < height; ++r)
            std::memcpy(want.data() + 2 + r * dstride, data.data() + 10 + r * sstride, width);
        got.resize(init.size());
        CHECK(dst.map->peek(0, got.data(), got.size()) == 0);
    });
    REQUIRE(h.finished());
    REQUIRE(st == 0);
    REQUIRE(got == want);
}

TEST_CASE("DMA fill writes the 32-bit pattern restarting at each row", "[dma][fill]") {
    const uint64_t width = 10, height = 5, stride = 16;
    const uint32_t pat = 0xAABBCCDDu;
    std::vector<uint8_t> got, want;
    int st = -1;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer dst = make_bo(dev, stride * height + 8, uapi::BO_DEVICE);
        std::vector<uint8_t> init(stride * height + 8, guard);
        CHECK(dst.map->write(0, init.data(), init.size()) == 0);
        cmdbuf_builder cb;
        cb.fill(dst.va() + 1, width, height, stride, pat);
        uapi::wait_args w;
        st = wait_job(dev, submit(dev, cb.bytes()), w);
        want = init;
        for (uint64_t r = 0; r < height; ++r)
            for (uint64_t i = 0; i < width; ++i) want[1 + r * stride + i] = static_cast<uint8_t>(pat >> (8 * (i % 4)));
        got.resize(init.size());
        CHECK(dst.map->peek(0, got.data(), got.size()) == 0);
    });
    REQUIRE(h.finished());
    REQUIRE(st == 0);
    REQUIRE(got == want);
    REQUIRE(got[1] == 0xDD);
    REQUIRE(got[1 + stride] == 0xDD);  // restarts at the next row
}

TEST_CASE("A large fill into host memory crosses the link and lands exactly", "[dma][fill][d2h]") {
    const uint64_t n = 3u << 20;
    bool ok = false;
    int st = -1;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer dst = make_bo(dev, n, uapi::BO_HOST);
        cmdbuf_builder cb;
        cb.fill(dst.va(), n, 1, 0, 0x01020304u);
        uapi::wait_args w;
        st = wait_job(dev, submit(dev, cb.bytes()), w);
        std::vector<uint8_t> got(n);
        CHECK(dst.map->read(0, got.data(), n) == 0);
        ok = true;
        for (uint64_t i = 0; i < n; ++i)
            if (got[i] != static_cast<uint8_t>(4 - (i % 4))) ok = false;
    });
    REQUIRE(h.finished());
    REQUIRE(st == 0);
    REQUIRE(ok);
}

TEST_CASE("Packets of one job execute in order: copy then copy-back reproduces the data", "[dma][order]") {
    const uint64_t n = 200000;
    std::vector<uint8_t> got, data;
    int st = -1;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer a = make_bo(dev, n, uapi::BO_HOST);
        buffer b = make_bo(dev, n, uapi::BO_DEVICE);
        buffer c = make_bo(dev, n, uapi::BO_HOST);
        data = pattern(n, 3);
        CHECK(a.map->write(0, data.data(), n) == 0);
        cmdbuf_builder cb;
        cb.copy(a.va(), b.va(), n).nop(3).copy(b.va(), c.va(), n);
        uapi::wait_args w;
        st = wait_job(dev, submit(dev, cb.bytes()), w);
        got.resize(n);
        CHECK(c.map->read(0, got.data(), n) == 0);
    });
    REQUIRE(h.finished());
    REQUIRE(st == 0);
    REQUIRE(got == data);
}
