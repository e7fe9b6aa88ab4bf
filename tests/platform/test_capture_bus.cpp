// The Linux-guest capture's recorder (capture_recorder::bus_*, `accelvp qemu --capture`,
// docs/debugging.md): buffers from the ranges packets touch, .data/.wait placement, the jobs it
// leaves out and why, and the capture text. No SystemC: a map of byte ranges stands for the
// bus the VP reads with debugger accesses. (The whole path through a guest: ctest `guest`.)
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "abi/aax_queue.h"
#include "platform/host/capture.h"
#include "platform/workloads/cmdstream.h"

using namespace accelvp;

namespace {
constexpr uint64_t hw = 1ull << 48;  // host window
constexpr uint64_t sram = 0x200'0000'0000ull;

struct fake_bus {
    std::map<uint64_t, std::vector<uint8_t>> regions;  // base -> bytes
    bool read(uint64_t a, uint8_t* p, size_t n) const {
        for (const auto& [b, v] : regions)
            if (a >= b && n <= v.size() && a - b <= v.size() - n) {
                std::memcpy(p, v.data() + (a - b), n);
                return true;
            }
        return false;
    }
    void write(uint64_t a, const void* p, size_t n) {
        for (auto& [b, v] : regions)
            if (a >= b && a - b + n <= v.size()) std::memcpy(v.data() + (a - b), p, n);
    }
    // A command buffer of the given packets at address a.
    uint64_t put(uint64_t a, const std::vector<uint8_t>& bytes) {
        regions[a] = bytes;
        return a;
    }
};

std::vector<uint8_t> dma(uint64_t src, uint64_t dst, uint64_t width) {
    aax_pkt_dma p{};
    p.hdr.opcode = AAX_OP_DMA;
    p.hdr.size_qw = sizeof(p) / 8;
    p.src = src;
    p.dst = dst;
    p.width = width;
    p.height = 1;
    std::vector<uint8_t> b(sizeof(p));
    std::memcpy(b.data(), &p, sizeof(p));
    return b;
}
std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
std::vector<uint8_t> fence(uint64_t addr) {
    aax_pkt_fence p{};
    p.hdr.opcode = AAX_OP_FENCE;
    p.hdr.size_qw = sizeof(p) / 8;
    p.hdr.param = AAX_FENCE_WRITE_VALUE;
    p.addr = addr;
    p.value = 1;
    std::vector<uint8_t> b(sizeof(p));
    std::memcpy(b.data(), &p, sizeof(p));
    return b;
}
} // namespace

TEST_CASE("capture: a guest's jobs become buffers, data, waits and jobs; VM and failed jobs are left out",
          "[capture]") {
    fake_bus bus;
    bus.regions[hw + 0x1000] = std::vector<uint8_t>(0x3000, 0);  // guest RAM: sources, a fence, results
    bus.regions[0x10000] = std::vector<uint8_t>(0x2000, 0);      // device memory
    for (size_t i = 0; i < 0x1000; ++i) bus.regions[hw + 0x1000][i] = static_cast<uint8_t>(i * 7 + 1);
    const auto rd = [&](uint64_t a, uint8_t* p, size_t n) { return bus.read(a, p, n); };
    capture_recorder r(true);
    // Job A: host -> device, then a fence right behind the source (touching it: one buffer).
    const auto a_cmds = dma(hw + 0x1000, 0x10000, 0x1000) + fence(hw + 0x2000);
    const uint64_t a_cmd = bus.put(0x40000, a_cmds);
    r.bus_job(rd, 0, a_cmd, static_cast<uint32_t>(a_cmds.size()), AAX_JOB_TIMESTAMP, 0, 0, 1);
    // Job B in a VM (device virtual addresses): never replayed; a reset drops it (no record).
    const auto b_cmds = dma(0x7000'0000, 0x7100'0000, 64);
    r.bus_job(rd, 1, bus.put(0x41000, b_cmds), static_cast<uint32_t>(b_cmds.size()), 0, 0, 2, 7);
    // A completes: the device copied the source and wrote the fence.
    bus.write(0x10000, bus.regions[hw + 0x1000].data(), 0x1000);
    const uint64_t one = 1;
    bus.write(hw + 0x2000, &one, 8);
    CHECK(r.bus_complete(rd, 0, 1, AAX_OK, 100, 300));
    CHECK_FALSE(r.bus_complete(rd, 0, 1, AAX_OK, 100, 300));  // a record seen twice counts once
    CHECK_FALSE(r.bus_complete(rd, 3, 9, AAX_OK, 0, 0));      // no such job
    // Job C: device -> host, submitted after A completed (B never does): a .wait before it.
    const auto c_cmds = dma(0x10000, hw + 0x3000, 0x800);
    r.bus_job(rd, 0, bus.put(0x42000, c_cmds), static_cast<uint32_t>(c_cmds.size()), 0, 0, 0, 2);
    // Job E on ring 2 while C runs: from cluster SRAM (not readable: stays a literal address).
    const auto e_cmds = dma(sram + 0x100, 0x11000, 0x100);
    r.bus_job(rd, 2, bus.put(0x43000, e_cmds), static_cast<uint32_t>(e_cmds.size()), 0, 0, 0, 1);
    bus.write(hw + 0x3000, bus.regions[0x10000].data(), 0x800);
    CHECK(r.bus_complete(rd, 0, 2, AAX_OK, 400, 650));
    CHECK(r.bus_complete(rd, 2, 1, AAX_OK, 420, 500));
    // Job D fails in the guest.
    const auto d_cmds = dma(hw + 0x1000, 0x10000, 16);
    r.bus_job(rd, 0, bus.put(0x44000, d_cmds), static_cast<uint32_t>(d_cmds.size()), 0, 0, 0, 3);
    CHECK(r.bus_complete(rd, 0, 3, AAX_ERR_BAD_OPCODE, 0, 0));
    CHECK(r.bus_jobs() == 5);
    CHECK(r.bus_completed() == 4);

    r.bus_finish(hw);
    REQUIRE(r.skipped().size() == 2);
    CHECK(r.skipped()[0].ring == 1);
    CHECK(r.skipped()[0].job_id == 7);
    CHECK(r.skipped()[0].why == "it ran in address space 2 (device virtual addresses)");
    CHECK(r.skipped()[1].job_id == 3);
    CHECK(r.skipped()[1].why == "it failed in the guest (status 1)");
    // Buffers, by address: device [0x10000, 0x11100) (A's and C's 4 KiB and E's destination
    // right behind: touching), host [hw+0x1000, hw+0x2008) (source + fence), host [hw+0x3000, +0x800).
    const auto& b = r.buffers();
    REQUIRE(b.size() == 3);
    CHECK((b[0].va == 0x10000 && b[0].size == 0x1100 && !b[0].host));
    CHECK((b[1].va == hw + 0x1000 && b[1].size == 0x1008 && b[1].host));
    CHECK((b[2].va == hw + 0x3000 && b[2].size == 0x800 && b[2].host));
    // Steps: A's source data, A, .wait, the device buffer as A left it, C, E.
    std::string kinds;
    for (const auto& s : r.steps()) kinds += s.kind == capture_recorder::step::data ? 'd' : s.kind == capture_recorder::step::job ? 'j' : 'w';
    CHECK(kinds == "djwdjj");
    CHECK(r.steps()[0].buf == 1);
    CHECK(r.steps()[3].buf == 0);
    CHECK(r.steps()[1].ts_end_ns - r.steps()[1].ts_start_ns == 200);
    CHECK(r.steps()[5].queue == 2);
    // Expectations: each buffer as last seen.
    const auto& fin = r.final_contents();
    REQUIRE(fin.size() == 3);
    CHECK(std::memcmp(fin.at(0).data(), bus.regions[hw + 0x1000].data(), 0x1000) == 0);
    CHECK(std::memcmp(fin.at(2).data(), bus.regions[hw + 0x1000].data(), 0x800) == 0);
    CHECK(fin.at(1)[0x1000] == 1);  // the fence

    cmdstream::capture_header h;
    h.workload = "qemu";
    h.config = "edge";
    const std::string text = cmdstream::capture_text(r, h);
    CHECK(text.find(".capture version=1 workload=qemu\n.config edge\n") != std::string::npos);
    CHECK(text.find(".job queue=0\ndma src=@b1 dst=@b0 width=4096\n") != std::string::npos);
    CHECK(text.find(".wait\n") != std::string::npos);
    CHECK(text.find("dma src=@b0 dst=@b2 width=2048\n") != std::string::npos);
    CHECK(text.find(".job queue=2\ndma src=0x20000000100 dst=@b0+0x1000 width=256\n") != std::string::npos);
    CHECK(text.find(".captured job=0 queue=0 status=0 start_ns=100 end_ns=300\n") != std::string::npos);
    CHECK(text.find(".captured job=2 queue=2 status=0 start_ns=420 end_ns=500\n") != std::string::npos);
    // The text parses as a command-stream program: the replay's input.
    const auto prog = cmdstream::parse(text, "guest.capture");
    CHECK(prog.jobs.size() == 3);
    CHECK(prog.buffers.size() == 3);
    CHECK(prog.captured.size() == 3);
}
