// Hardware performance counters (BAR0 0xB000, platform/chip/perf_counters.h,
// docs/profiling.md "Hardware performance counters"): the figures read through the
// registers equal the stats of the same run; START/STOP/CLEAR/SNAPSHOT; a bad index.
#include <cstring>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "tlm/compute/numerics.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {

// A job on `queue` that copies `bytes` from a host BO into device memory, then runs a GEMM
// (m x n x k, BF16) on cluster `cluster` and a VEC (exp over rows x cols FP32).
std::vector<uint8_t> mixed_job(uapi::device& dev, workload_context& ctx, unsigned cluster, uint64_t bytes,
                               buffer& host, buffer& dst) {
    host = make_bo(dev, bytes, uapi::BO_HOST);
    dst = make_bo(dev, bytes, uapi::BO_DEVICE);
    cmdbuf_builder cb;
    cb.copy(host.va(), dst.va(), bytes);
    aax_pkt_gemm g{};
    g.cluster = static_cast<uint16_t>(cluster);
    g.dtype_in = AAX_DT_BF16;
    g.dtype_out = AAX_DT_FP32;
    g.m = 64;
    g.n = 48;
    g.k = 40;
    g.a_addr = 0;
    g.b_addr = 16384;
    g.c_addr = 32768;
    cb.gemm(g);
    aax_pkt_vec v{};
    v.cluster = static_cast<uint16_t>(cluster);
    v.op = AAX_VEC_EXP;
    v.dtype = AAX_DT_FP32;
    v.dtype_out = AAX_DT_FP32;
    v.rows = 16;
    v.cols = 64;
    v.src0 = 32768;
    v.dst = 65536;
    cb.vec(v);
    (void)ctx;
    return cb.bytes();
}

// The stats figure a counter is a view of ("" when it has none).
struct stat_ref {
    std::string comp, name, field;  // field: "" for a counter, "total" for a rate
};
stat_ref stat_of(const perf_counter& c) {
    const std::string u = std::to_string(c.unit);
    switch (c.cls) {
    case AAX_PERF_CLASS_DEVICE:
        return c.event == AAX_PERF_DEVICE_PACKETS ? stat_ref{"board.chip.qman", "packets", ""} : stat_ref{};
    case AAX_PERF_CLASS_MXU:
    case AAX_PERF_CLASS_VPU: {
        const std::string comp = "board.chip.compute.cluster" + u + (c.cls == AAX_PERF_CLASS_MXU ? ".mxu" : ".vpu");
        const char* names[] = {"packets", "busy_cycles", c.cls == AAX_PERF_CLASS_MXU ? "macs" : "elements",
                               "stall_cycles", "queue_wait_ps", "errors"};
        return {comp, names[c.event], ""};
    }
    case AAX_PERF_CLASS_DMA: {
        const char* names[] = {"commands", "bytes", "bursts", "busy", "read_wait_ps", "errors"};
        return {"board.chip.dma" + u, names[c.event], c.event == AAX_PERF_DMA_BUSY_PS ? "total" : ""};
    }
    case AAX_PERF_CLASS_DRAM: {
        const char* names[] = {"reads", "writes", "row_hits", "row_misses", "row_conflicts", "refreshes"};
        return {"board.chip.devmem.ch" + u, names[c.event], ""};
    }
    case AAX_PERF_CLASS_RING: {
        const char* names[] = {"jobs", "packets", "doorbells", "queue_depth_sum", "queue_depth_max"};
        return {"board.chip.qman.ring" + u, names[c.event], ""};
    }
    case AAX_PERF_CLASS_PCIE: {
        const char* names[] = {"bytes_h2d", "bytes_d2h", "tlps", "msi_sent", "busy_h2d", "busy_d2h"};
        return {"board.chip.pcie", names[c.event], c.event >= AAX_PERF_PCIE_BUSY_H2D_PS ? "total" : ""};
    }
    default:
        return {};
    }
}

uint64_t stat_value(const nlohmann::json& comps, const stat_ref& r) {
    const nlohmann::json& v = comps.at(r.comp).at(r.name);
    return r.field.empty() ? v.get<uint64_t>() : static_cast<uint64_t>(v.at(r.field).get<double>());
}

// Counter i of the last snapshot, read with debug accesses through BAR0 (no time passes).
uint64_t debug_read(harness& h, uint32_t off) {
    uint32_t v = 0;
    const bool ok = h.top().host.cpu.peek(h.top().host.bar0() + off, &v, 4);
    CHECK(ok);
    return v;
}
void debug_write(harness& h, uint32_t off, uint32_t v) { CHECK(h.top().host.cpu.poke(h.top().host.bar0() + off, &v, 4)); }

} // namespace

TEST_CASE("Performance counters read through BAR0 equal the stats of the same run", "[perf]") {
    harness h({"mem.model=dram", "dma.engines=2", "sim.mode=timing"});
    perf_snapshot in_run;
    nlohmann::json stats_in_run;
    h.run([&](uapi::device& dev, workload_context& ctx) {
        buffer h0, d0, h1, d1;
        const auto j0 = mixed_job(dev, ctx, 0, 256 << 10, h0, d0);
        const auto j1 = mixed_job(dev, ctx, 1, 128 << 10, h1, d1);
        uapi::wait_args w0, w1;
        const uint32_t s0 = submit(dev, j0, 0), s1 = submit(dev, j1, 1);
        CHECK(wait_job(dev, s0, w0) == 0);
        CHECK(wait_job(dev, s1, w1) == 0);
        // The user API's sample, and the stats at that moment (nothing runs while it reads).
        CHECK(dev.perf_sample(in_run) == 0);
        stats_in_run = global_stats().to_json(1.0);
    });
    REQUIRE(h.finished());
    perf_counters& perf = h.top().soc.perf;
    REQUIRE(perf.size() == in_run.counters.size());
    REQUIRE(in_run.running);

    // After the run: SNAPSHOT, then every counter through PERF_SEL / PERF_DATA and PERF_DESC.
    perf.control(AAX_PERF_CTRL_SNAPSHOT);
    const nlohmann::json comps = global_stats().to_json(1.0);
    const uint32_t info = static_cast<uint32_t>(debug_read(h, AAX_REG_PERF_INFO));
    REQUIRE((info & 0xFFFF) == perf.size());
    REQUIRE((info >> 16 & 0xFF) == AAX_PERF_CLASSES);
    std::map<unsigned, unsigned> units;  // class -> units seen
    size_t compared = 0;
    for (uint32_t i = 0; i < perf.size(); ++i) {
        debug_write(h, AAX_REG_PERF_SEL, i);
        const uint32_t desc = static_cast<uint32_t>(debug_read(h, AAX_REG_PERF_DESC));
        perf_counter c;
        c.event = static_cast<uint8_t>(desc & 0xFF);
        c.cls = static_cast<uint8_t>(desc >> 8 & 0xFF);
        c.unit = static_cast<uint16_t>(desc >> 16);
        c.value = debug_read(h, AAX_REG_PERF_DATA_LO) | debug_read(h, AAX_REG_PERF_DATA_HI) << 32;
        // The driver's decoding of the class table names the same counter.
        REQUIRE(in_run.counters[i].cls == c.cls);
        REQUIRE(in_run.counters[i].unit == c.unit);
        REQUIRE(in_run.counters[i].event == c.event);
        units[c.cls] = std::max(units[c.cls], c.unit + 1u);
        const stat_ref r = stat_of(c);
        if (r.comp.empty()) continue;
        INFO(r.comp << "." << r.name << " counter " << i);
        REQUIRE(c.value == stat_value(comps, r));
        if (c.cls != AAX_PERF_CLASS_PCIE) REQUIRE(in_run.counters[i].value == stat_value(stats_in_run, r));
        ++compared;
    }
    // The layout: 2 MXU/VPU clusters of the preset at least, 2 DMA engines, DRAM channels, 4 rings.
    REQUIRE(units[AAX_PERF_CLASS_DMA] == 2);
    REQUIRE(units[AAX_PERF_CLASS_RING] == h.cfg().get(keys::qman::rings));
    REQUIRE(units[AAX_PERF_CLASS_DRAM] == h.top().soc.devmem->dram()->system().channels());
    REQUIRE(units.count(AAX_PERF_CLASS_LINK) == 0);  // one chip: no wired port
    REQUIRE(compared == perf.size() - 1);            // all but ELAPSED_PS have a stats figure
    // The work is really there: MACs of both GEMMs, bytes of both copies, the rings' jobs.
    auto at = [&](unsigned cls, unsigned unit, unsigned ev) { return in_run.counters[perf.index(cls, unit, ev)].value; };
    REQUIRE(at(AAX_PERF_CLASS_MXU, 0, AAX_PERF_ENG_WORK) == 64 * 48 * 40);
    REQUIRE(at(AAX_PERF_CLASS_MXU, 1, AAX_PERF_ENG_WORK) == 64 * 48 * 40);
    REQUIRE(at(AAX_PERF_CLASS_VPU, 0, AAX_PERF_ENG_WORK) == 16 * 64);
    REQUIRE(at(AAX_PERF_CLASS_MXU, 0, AAX_PERF_ENG_STALL_CYCLES) > 0);
    REQUIRE(at(AAX_PERF_CLASS_MXU, 0, AAX_PERF_ENG_STALL_CYCLES) < at(AAX_PERF_CLASS_MXU, 0, AAX_PERF_ENG_BUSY_CYCLES));
    REQUIRE(at(AAX_PERF_CLASS_DMA, 0, AAX_PERF_DMA_BYTES) == 256 << 10);  // ring 0 -> engine 0
    REQUIRE(at(AAX_PERF_CLASS_DMA, 1, AAX_PERF_DMA_BYTES) == 128 << 10);  // ring 1 -> engine 1
    REQUIRE(at(AAX_PERF_CLASS_DMA, 0, AAX_PERF_DMA_READ_WAIT_PS) > 0);
    REQUIRE(at(AAX_PERF_CLASS_RING, 0, AAX_PERF_RING_JOBS) == 1);
    REQUIRE(at(AAX_PERF_CLASS_RING, 1, AAX_PERF_RING_PACKETS) == 3);
    REQUIRE(at(AAX_PERF_CLASS_RING, 0, AAX_PERF_RING_DOORBELLS) == 1);
    REQUIRE(at(AAX_PERF_CLASS_RING, 0, AAX_PERF_RING_DEPTH_MAX) == 1);
    uint64_t dram_writes = 0;
    for (unsigned ch = 0; ch < units[AAX_PERF_CLASS_DRAM]; ++ch) dram_writes += at(AAX_PERF_CLASS_DRAM, ch, AAX_PERF_DRAM_WRITES);
    REQUIRE(dram_writes * 32 >= (256 + 128) << 10);  // the copies' bytes landed in DRAM (32-byte bursts)
    REQUIRE(at(AAX_PERF_CLASS_DEVICE, 0, AAX_PERF_DEVICE_ELAPSED_PS) / 1000 == in_run.time_ns);  // the snapshot's time
}

TEST_CASE("Performance counters: STOP freezes; START resumes; CLEAR zeroes; SNAPSHOT copies", "[perf]") {
    harness h;
    std::vector<uint64_t> bytes;  // DMA0 bytes in the successive samples
    std::vector<uint64_t> jobs;   // ring 0 jobs
    std::vector<bool> running;
    uint32_t status_after = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer src = make_bo(dev, 64 << 10, uapi::BO_HOST), dst = make_bo(dev, 64 << 10, uapi::BO_DEVICE);
        cmdbuf_builder cb;
        cb.copy(src.va(), dst.va(), 64 << 10);
        auto job = [&] {
            uapi::wait_args w;
            CHECK(wait_job(dev, submit(dev, cb.bytes()), w) == 0);
        };
        auto sample = [&](bool clear = false) {
            perf_snapshot s;
            CHECK(dev.perf_sample(s, clear) == 0);
            long i = h.top().soc.perf.index(AAX_PERF_CLASS_DMA, 0, AAX_PERF_DMA_BYTES);
            long j = h.top().soc.perf.index(AAX_PERF_CLASS_RING, 0, AAX_PERF_RING_JOBS);
            bytes.push_back(s.counters.at(static_cast<size_t>(i)).value);
            jobs.push_back(s.counters.at(static_cast<size_t>(j)).value);
            running.push_back(s.running);
        };
        job();
        sample();                    // 0: counting from power-on: one copy
        CHECK(dev.perf_stop() == 0);
        job();
        sample();                    // 1: stopped: still one
        CHECK(dev.perf_start(false) == 0);
        job();
        sample();                    // 2: resumed without clear: two (the stopped job not counted)
        CHECK(dev.perf_start() == 0);  // already running: CLEAR, then START does nothing more
        sample();                    // 3: cleared: zero
        job();
        sample(true);                // 4: one, and cleared after the sample
        sample();                    // 5: zero
        uint32_t st = 0;
        dev.drv().host().cpu.mmio_read32(dev.drv().host().bar0() + AAX_REG_PERF_STATUS, st);
        status_after = st;
    });
    REQUIRE(h.finished());
    REQUIRE(bytes == std::vector<uint64_t>{64 << 10, 64 << 10, 128 << 10, 0, 64 << 10, 0});
    REQUIRE(jobs == std::vector<uint64_t>{1, 1, 2, 0, 1, 0});
    REQUIRE(running == std::vector<bool>{true, false, true, true, true, true});
    REQUIRE((status_after & AAX_PERF_STATUS_RUNNING));
    REQUIRE((status_after >> 16) == 6);  // six snapshots
    // The stats keep counting whatever the counters do: four copies.
    REQUIRE(stat_u64("board.chip.dma0", "bytes") == 4 * (64 << 10));
}

TEST_CASE("Performance counters: an index out of range reads 0 and sets SEL_ERR; the layout registers",
          "[perf][errors]") {
    harness h;
    std::map<std::string, uint32_t> r;
    const uint32_t rings = static_cast<uint32_t>(h.cfg().get(keys::qman::rings));
    h.run([&](uapi::device& dev, workload_context&) {
        host_cpu& cpu = dev.drv().host().cpu;
        const uint64_t bar0 = dev.drv().host().bar0();
        auto rd = [&](uint32_t off) {
            uint32_t v = 0xDEAD;
            CHECK(cpu.mmio_read32(bar0 + off, v));
            return v;
        };
        auto wr = [&](uint32_t off, uint32_t v) { CHECK(cpu.mmio_write32(bar0 + off, v)); };
        r["info"] = rd(AAX_REG_PERF_INFO);
        const uint32_t n = r["info"] & 0xFFFF;
        wr(AAX_REG_PERF_CTRL, AAX_PERF_CTRL_SNAPSHOT);
        wr(AAX_REG_PERF_SEL, n);  // one past the last
        r["lo_bad"] = rd(AAX_REG_PERF_DATA_LO);
        r["hi_bad"] = rd(AAX_REG_PERF_DATA_HI);
        r["desc_bad"] = rd(AAX_REG_PERF_DESC);
        r["status_bad"] = rd(AAX_REG_PERF_STATUS);
        r["sel_after_hi"] = rd(AAX_REG_PERF_SEL);  // still advanced
        wr(AAX_REG_PERF_SEL, n - 1);
        r["desc_last"] = rd(AAX_REG_PERF_DESC);
        r["status_ok"] = rd(AAX_REG_PERF_STATUS);
        wr(AAX_REG_PERF_SEL, 0xFFFFFFFF);
        r["lo_max"] = rd(AAX_REG_PERF_DATA_LO);
        r["status_max"] = rd(AAX_REG_PERF_STATUS);
        r["class_ring"] = rd(AAX_PERF_CLASS_INFO(AAX_PERF_CLASS_RING));
        r["class_pcie"] = rd(AAX_PERF_CLASS_INFO(AAX_PERF_CLASS_PCIE));
        r["class_dram"] = rd(AAX_PERF_CLASS_INFO(AAX_PERF_CLASS_DRAM));
        // Writing a read-only register or reading the write-only CTRL is a failed access.
        uint32_t v = 0;
        r["ctrl_read_ok"] = cpu.mmio_read32(bar0 + AAX_REG_PERF_CTRL, v);
        r["gap_read_ok"] = cpu.mmio_read32(bar0 + 0xB800, v);
    });
    REQUIRE(h.finished());
    const uint32_t n = r["info"] & 0xFFFF;
    REQUIRE(r["lo_bad"] == 0);
    REQUIRE(r["hi_bad"] == 0);
    REQUIRE(r["desc_bad"] == 0);
    REQUIRE(r["status_bad"] == (AAX_PERF_STATUS_RUNNING | AAX_PERF_STATUS_SEL_ERR | 1u << 16));
    REQUIRE(r["sel_after_hi"] == n + 1);
    // The last counter is PCIe's BUSY_D2H_PS (PCIe is the last class, one unit).
    REQUIRE(r["desc_last"] == (AAX_PERF_PCIE_BUSY_D2H_PS | AAX_PERF_CLASS_PCIE << 8));
    REQUIRE(r["status_ok"] == (AAX_PERF_STATUS_RUNNING | 1u << 16));
    REQUIRE(r["lo_max"] == 0);
    REQUIRE((r["status_max"] & AAX_PERF_STATUS_SEL_ERR));
    // The rings (5 events each), then PCIe (6 events, one unit) end the table; no DRAM channel
    // with the simple memory model.
    REQUIRE(r["class_ring"] == ((n - 6 - rings * 5) | 5u << 16 | rings << 24));
    REQUIRE(r["class_pcie"] == ((n - 6) | 6u << 16 | 1u << 24));
    REQUIRE((r["class_dram"] >> 24) == 0);
    REQUIRE(r["ctrl_read_ok"] == 0);
    REQUIRE(r["gap_read_ok"] == 0);
}
