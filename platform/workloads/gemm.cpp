#include "platform/workloads/gemm.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "platform/workloads/compute_run.h"
#include "tlm/core/keys.h"

namespace accelvp {

void gemm_workload::declare(param_schema& s) const {
    s.integer("workload.m", 256, 1, 1 << 20, "rows of A and C");
    s.integer("workload.n", 256, 1, 1 << 20, "columns of B and C");
    s.integer("workload.k", 256, 1, 1 << 20, "columns of A, rows of B");
    s.integer("workload.batch", 1, 1, 1 << 16, "independent GEMMs of this shape (batched GEMM, items packed one after another)");
    s.string("workload.dtype", "bf16", "element type of A and B (C is fp32, int32 for int8)",
             {"fp32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "int8"});
    s.string("workload.layout", "nn", "nn: A and B row-major; nt: B stored transposed (N x K)", {"nn", "nt"});
    s.integer("workload.tile_m", 0, 0, 1 << 20, "output tile rows (0 = chosen by the tiler)");
    s.integer("workload.tile_n", 0, 0, 1 << 20, "output tile columns (0 = chosen by the tiler)");
    s.integer("workload.tile_k", 0, 0, 1 << 20, "k chunk per GEMM packet (0 = chosen by the tiler)");
    s.integer("workload.c_buffers", 0, 0, 2, "C tiles in SRAM: 2 overlap a tile's store with the next (0 = chosen by the tiler)");
    s.integer("workload.tile_clusters", 0, 0, 64, "clusters the output tiles are dealt over (0 = chosen by the tiler)");
    s.real("workload.timeout_ms", 60000, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
}

void gemm_workload::check(const config& c) const {
    const uint64_t want = c.get_uint("workload.tile_clusters"), clusters = c.get(keys::compute::clusters);
    if (want > clusters)
        throw config_error(fmt::format("workload.tile_clusters = {} exceeds compute.clusters = {}: valid values are "
                                       "0 (chosen by the tiler) to {}",
                                       want, clusters, clusters));
}

int gemm_workload::run(workload_context& ctx) {
    const config& c = ctx.cfg;
    compute_runner rt(ctx);
    num::dtype dt;
    num::parse_dtype(c.get_string("workload.dtype"), dt);
    gemm_problem g;
    g.m = c.get_uint("workload.m");
    g.n = c.get_uint("workload.n");
    g.k = c.get_uint("workload.k");
    g.dtype = static_cast<uint8_t>(dt);
    g.b_trans = c.get_string("workload.layout") == "nt";
    g.batch = c.get_uint("workload.batch");
    const uint64_t e = num::dtype_size(dt), nb = g.batch;
    g.stride_a = g.m * g.k * e;
    g.stride_b = g.k * g.n * e;
    g.stride_c = g.m * g.n * 4;

    device_buffer A, B, C;
    if (rt.alloc(A, nb * g.stride_a, "A") || rt.alloc(B, nb * g.stride_b, "B") || rt.alloc(C, nb * g.stride_c, "C"))
        return 1;
    g.a = A.va;
    g.b = B.va;
    g.c = C.va;

    // Operands: B is generated K x N per item and stored as given by the layout.
    std::vector<uint8_t> a, b, bt;
    if (ctx.functional) {
        a = make_operand(dt, nb * g.m * g.k, ctx.seed * 2 + 1);
        b = make_operand(dt, nb * g.k * g.n, ctx.seed * 2 + 2);
        if (g.b_trans) {
            bt.resize(b.size());
            for (uint64_t i = 0; i < nb; ++i)
                num::transpose(b.data() + i * g.stride_b, bt.data() + i * g.stride_b, g.k, g.n, e);
        }
    }
    if (rt.write(A, a, "A") || rt.write(B, g.b_trans ? bt : b, "B")) return 1;

    gemm_tiling want{c.get_uint("workload.tile_m"), c.get_uint("workload.tile_n"), c.get_uint("workload.tile_k"),
                     static_cast<uint32_t>(c.get_uint("workload.c_buffers")),
                     static_cast<uint32_t>(c.get_uint("workload.tile_clusters")), 0};
    if (rt.run_gemm("gemm", g, want)) return 1;
    const gemm_plan& plan = rt.last_plan();

    auto& s = ctx.summary;
    s["m"] = g.m;
    s["n"] = g.n;
    s["k"] = g.k;
    s["batch"] = nb;
    s["dtype"] = num::dtype_name(dt);
    s["tile"] = fmt::format("{}x{}x{}", plan.tile.tm, plan.tile.tn, plan.tile.tk);
    s["c_buffers"] = plan.tile.c_buffers;
    s["tile_clusters"] = std::count_if(plan.cluster_cycles.begin(), plan.cluster_cycles.end(),
                                       [](uint64_t c) { return c > 0; });  // clusters the tiles went to
    s["job_ns"] = rt.machine().job_ns;  // the control path the tiler weighed (measured, compute_runner)
    s["job_latency_ns"] = rt.machine().job_latency_ns;
    s["predicted_ns"] = plan.tile.predicted_ns;
    rt.summarize(s, 2.0 * static_cast<double>(nb) * static_cast<double>(g.m) * static_cast<double>(g.n) *
                        static_cast<double>(g.k));

    if (!ctx.functional) return 0;
    std::vector<uint8_t> got, want_c(C.size);
    if (rt.read(C, got)) return 1;
    for (uint64_t i = 0; i < nb; ++i)
        num::gemm_ref(dt, a.data() + i * g.stride_a, b.data() + i * g.stride_b, want_c.data() + i * g.stride_c, g.m,
                      g.n, g.k, g.k, g.n, g.n, false);
    if (std::memcmp(got.data(), want_c.data(), got.size()) != 0) {
        uint64_t i = 0;
        while (std::memcmp(&got[i * 4], &want_c[i * 4], 4) == 0) ++i;
        const uint64_t item = i / (g.m * g.n), at = i % (g.m * g.n);
        ctx.verified = false;
        ctx.error = fmt::format("verification failed: C[{}][{}] of batch item {} differs from the reference",
                                at / g.n, at % g.n, item);
        return 1;
    }
    ctx.verified = true;
    return 0;
}

} // namespace accelvp
