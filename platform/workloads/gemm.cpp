#include "platform/workloads/gemm.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "platform/chip/chip.h"
#include "platform/host/uapi.h"
#include "platform/runtime/gemm_tiler.h"
#include "tlm/compute/numerics.h"

namespace accelvp {

void gemm_workload::declare(param_schema& s) const {
    s.integer("workload.m", 256, 1, 1 << 20, "rows of A and C");
    s.integer("workload.n", 256, 1, 1 << 20, "columns of B and C");
    s.integer("workload.k", 256, 1, 1 << 20, "columns of A, rows of B");
    s.string("workload.dtype", "bf16", "element type of A and B (C is fp32, int32 for int8)",
             {"fp32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "int8"});
    s.string("workload.layout", "nn", "nn: A and B row-major; nt: B stored transposed (N x K)", {"nn", "nt"});
    s.integer("workload.tile_m", 0, 0, 1 << 20, "output tile rows (0 = chosen by the tiler)");
    s.integer("workload.tile_n", 0, 0, 1 << 20, "output tile columns (0 = chosen by the tiler)");
    s.integer("workload.tile_k", 0, 0, 1 << 20, "k chunk per GEMM packet (0 = chosen by the tiler)");
    s.real("workload.timeout_ms", 60000, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
}

namespace {
// Seeded operand values: floats in [-2, 2) rounded to the type, int8 in [-128, 127].
std::vector<uint8_t> make_operand(num::dtype t, uint64_t count, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> out(count * num::dtype_size(t));
    if (t == num::dtype::int8) {
        for (auto& b : out) b = static_cast<uint8_t>(rng());
        return out;
    }
    std::uniform_real_distribution<float> d(-2.0f, 2.0f);
    std::vector<float> f(count);
    for (auto& x : f) x = d(rng);
    num::from_f32(t, f.data(), out.data(), count);
    return out;
}
} // namespace

int gemm_workload::run(workload_context& ctx) {
    auto& dev = ctx.dev;
    const config& c = ctx.cfg;
    const compute_params p = compute_params::from_config(c);
    num::dtype dt;
    num::parse_dtype(c.get_string("workload.dtype"), dt);
    gemm_problem g;
    g.m = c.get_uint("workload.m");
    g.n = c.get_uint("workload.n");
    g.k = c.get_uint("workload.k");
    g.dtype = static_cast<uint8_t>(dt);
    g.b_trans = c.get_string("workload.layout") == "nt";
    const uint64_t e = num::dtype_size(dt);
    auto fail = [&ctx](const std::string& what, int rc) {
        ctx.error = fmt::format("{}: {}", what, std::strerror(-rc));
        return 1;
    };

    uapi::info_args info;
    dev.get_info(info);
    uapi::bo_create_args A{g.m * g.k * e, uapi::BO_DEVICE}, B{g.k * g.n * e, uapi::BO_DEVICE},
        C{g.m * g.n * 4, uapi::BO_DEVICE};
    for (auto* bo : {&A, &B, &C})
        if (int rc = dev.bo_create(*bo)) return fail(fmt::format("allocating {} bytes of device memory", bo->size), rc);
    std::unique_ptr<uapi::mapping> am, bm, cm;
    dev.bo_mmap(A.handle, am);
    dev.bo_mmap(B.handle, bm);
    dev.bo_mmap(C.handle, cm);
    g.a = A.device_va;
    g.b = B.device_va;
    g.c = C.device_va;

    // Operands: B is generated K x N and stored as given by the layout.
    std::vector<uint8_t> a, b, bt;
    if (ctx.functional) {
        a = make_operand(dt, g.m * g.k, ctx.seed * 2 + 1);
        b = make_operand(dt, g.k * g.n, ctx.seed * 2 + 2);
        if (g.b_trans) {
            bt.resize(b.size());
            num::transpose(b.data(), bt.data(), g.k, g.n, e);
        }
        if (int rc = am->write(0, a.data(), a.size())) return fail("writing A", rc);
        if (int rc = bm->write(0, (g.b_trans ? bt : b).data(), b.size())) return fail("writing B", rc);
    } else {
        if (int rc = am->write_timing_only(0, A.size)) return fail("writing A", rc);
        if (int rc = bm->write_timing_only(0, B.size)) return fail("writing B", rc);
    }

    std::vector<uint64_t> srams;
    for (uint32_t i = 0; i < p.clusters; ++i) srams.push_back(ctx.soc.sram_addr(i));
    gemm_tiling want{c.get_uint("workload.tile_m"), c.get_uint("workload.tile_n"), c.get_uint("workload.tile_k")};
    gemm_plan plan;
    try {
        plan = plan_gemm(p, g, srams, info.queues, 0, want);
    } catch (const std::exception& ex) {
        ctx.error = std::string("tiling the GEMM: ") + ex.what();
        return 1;
    }

    // One job per ring; all submitted, then all awaited.
    std::vector<uint32_t> seqs;
    for (uint32_t r = 0; r < plan.streams.size(); ++r) {
        const cmdbuf_builder& cb = plan.streams[r];
        if (cb.size() == 0) continue;
        uapi::bo_create_args cmd{cb.size(), uapi::BO_DEVICE};
        if (int rc = dev.bo_create(cmd)) return fail("allocating a command buffer", rc);
        std::unique_ptr<uapi::mapping> map;
        dev.bo_mmap(cmd.handle, map);
        map->write(0, cb.bytes().data(), cb.size());
        uapi::submit_args sub;
        sub.queue = r;
        sub.cmdbuf_handle = cmd.handle;
        sub.cmdbuf_size = cb.size();
        if (int rc = dev.submit(sub)) return fail(fmt::format("submitting ring {}", r), rc);
        seqs.push_back(sub.seq);
    }
    uint64_t t0 = UINT64_MAX, t1 = 0;
    for (uint32_t s : seqs) {
        uapi::wait_args w;
        w.seq = s;
        w.timeout_ns = static_cast<uint64_t>(c.get_real("workload.timeout_ms") * 1e6);
        if (dev.wait(w)) {
            error_record er;
            std::string why = w.status == AAX_OK ? "the host wait timed out" : aax_status_name(w.status);
            if (dev.last_error(er) == 0) why += " (" + er.describe() + ")";
            ctx.error = "GEMM job failed: " + why;
            return 1;
        }
        t0 = std::min(t0, w.ts_start_ns);
        t1 = std::max(t1, w.ts_end_ns);
    }

    // Figures. Analytic times of each resource, the largest names the bound.
    const double ns = static_cast<double>(t1 - t0);
    const double flops = 2.0 * static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
    const double peak = 2.0 * p.peak_macs_per_s() * p.clusters;
    const double f = p.freq_hz();
    const uint64_t max_cycles = *std::max_element(plan.cluster_cycles.begin(), plan.cluster_cycles.end());
    const uint64_t max_sram = *std::max_element(plan.cluster_sram_bytes.begin(), plan.cluster_sram_bytes.end());
    // DMA: one engine, one packet at a time; each pays its setup and one memory latency, then
    // streams at the slowest of its datapath, HBM, the SRAM port, and what max_outstanding
    // bursts in flight cover over a memory round trip (Little's law; bursts never cross a row).
    double t_dma = 0;
    {
        const double lat_ns = c.get_real("mem.latency_ns") + 2 * c.get_real("chip.noc_hop_ns");
        const double bw = std::min({c.get_real("dma.bandwidth_gbps"), c.get_real("mem.bandwidth_gbps"),
                                    p.sram_bytes_per_cycle * p.freq_mhz * 1e-3});
        for (const auto& d : plan.dmas) {
            const double burst = static_cast<double>(std::min<uint64_t>(c.get_uint("dma.burst_bytes"), d.row_bytes));
            const double eff = std::min(bw, c.get_real("dma.max_outstanding") * burst / lat_ns);  // GB/s = bytes/ns
            t_dma += c.get_real("dma.setup_ns") + lat_ns + static_cast<double>(d.bytes) / eff;
        }
    }
    struct bound_time {
        const char* what;
        double ns;
    };
    const bound_time times[] = {
        {"compute", static_cast<double>(max_cycles) / f * 1e9},  // busiest matrix engine, fill/drain included
        {"SRAM", static_cast<double>(max_sram) / (p.sram_bytes_per_cycle * f) * 1e9},
        {"HBM", static_cast<double>(plan.hbm_bytes) / (c.get_real("mem.bandwidth_gbps") * 1e9) * 1e9},
        {"DMA", t_dma},
    };
    const bound_time* top = &times[0];
    for (const auto& t : times)
        if (t.ns > top->ns) top = &t;
    // Far above every resource: per-packet and per-job overheads and pipeline ramp dominate.
    const char* bound = ns > 2 * top->ns ? "host" : top->what;

    auto& s = ctx.summary;
    s["m"] = g.m;
    s["n"] = g.n;
    s["k"] = g.k;
    s["dtype"] = num::dtype_name(dt);
    s["clusters_used"] = plan.clusters;
    s["tile"] = fmt::format("{}x{}x{}", plan.tile.tm, plan.tile.tn, plan.tile.tk);
    s["gemm_packets"] = plan.gemm_packets;
    s["dma_packets"] = plan.dma_packets;
    s["device_ns"] = ns;
    s["cycles"] = static_cast<uint64_t>(ns * f / 1e9 + 0.5);
    s["engine_cycles_max"] = max_cycles;
    s["flops"] = flops;
    s["tflops"] = ns > 0 ? flops / ns / 1e3 : 0.0;
    s["peak_tflops"] = peak / 1e12;
    s["utilization"] = ns > 0 ? flops / ns * 1e9 / peak : 0.0;
    s["hbm_bytes"] = plan.hbm_bytes;
    s["hbm_bandwidth_gbps"] = ns > 0 ? static_cast<double>(plan.hbm_bytes) / ns : 0.0;
    for (const auto& t : times) s[fmt::format("t_{}_ns", t.what)] = t.ns;
    s["bound"] = bound;

    if (!ctx.functional) return 0;
    std::vector<uint8_t> got(C.size), want_c(C.size);
    if (cm->peek(0, got.data(), got.size())) return fail("reading back C", -EIO);
    num::gemm_ref(dt, a.data(), b.data(), want_c.data(), g.m, g.n, g.k, g.k, g.n, g.n, false);
    if (std::memcmp(got.data(), want_c.data(), got.size()) != 0) {
        uint64_t i = 0;
        while (std::memcmp(&got[i * 4], &want_c[i * 4], 4) == 0) ++i;
        ctx.verified = false;
        ctx.error = fmt::format("verification failed: C[{}][{}] differs from the reference", i / g.n, i % g.n);
        return 1;
    }
    ctx.verified = true;
    return 0;
}

} // namespace accelvp
