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

const param_table<gemm_params>& gemm_params::table() {
    using P = gemm_params;
    static const auto t =
        param_table<P>()
            .integer("m", &P::m, 1, 1 << 20, "rows of A and C")
            .integer("n", &P::n, 1, 1 << 20, "columns of B and C")
            .integer("k", &P::k, 1, 1 << 20, "columns of A, rows of B")
            .integer("batch", &P::batch, 1, 1 << 16,
                     "independent GEMMs of this shape (batched GEMM, items packed one after another)")
            .string("dtype", &P::dtype, "element type of A and B (C is fp32, int32 for int8)",
                    {"fp32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "int8"})
            .string("layout", &P::layout, "nn: A and B row-major; nt: B stored transposed (N x K)", {"nn", "nt"})
            .integer("tile_m", &P::tile_m, 0, 1 << 20, "output tile rows (0 = chosen by the tiler)")
            .integer("tile_n", &P::tile_n, 0, 1 << 20, "output tile columns (0 = chosen by the tiler)")
            .integer("tile_k", &P::tile_k, 0, 1 << 20, "k chunk per GEMM packet (0 = chosen by the tiler)")
            .integer("c_buffers", &P::c_buffers, 0, 2,
                     "C tiles in SRAM: 2 overlap a tile's store with the next (0 = chosen by the tiler)")
            .integer("tile_clusters", &P::tile_clusters, 0, 64,
                     "clusters the output tiles are dealt over (0 = chosen by the tiler)")
            .real("timeout_ms", &P::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
    return t;
}

void gemm_workload::validate(const params& p, const config& c) const {
    const uint64_t want = p.tile_clusters, clusters = c.get(keys::compute::clusters);
    if (want > clusters)
        throw config_error(fmt::format("workload.tile_clusters = {} exceeds compute.clusters = {}: valid values are "
                                       "0 (chosen by the tiler) to {}",
                                       want, clusters, clusters));
}

int gemm_workload::plan(workload_context& ctx, const params& p, state& st) {
    st.rt = std::make_unique<compute_runner>(ctx);
    compute_runner& rt = *st.rt;
    num::parse_dtype(p.dtype, st.dt);
    const num::dtype dt = st.dt;
    gemm_problem& g = st.g;
    g.m = p.m;
    g.n = p.n;
    g.k = p.k;
    g.dtype = static_cast<uint8_t>(dt);
    g.b_trans = p.layout == "nt";
    g.batch = p.batch;
    const uint64_t e = num::dtype_size(dt), nb = g.batch;
    g.stride_a = g.m * g.k * e;
    g.stride_b = g.k * g.n * e;
    g.stride_c = g.m * g.n * 4;

    if (rt.alloc(st.A, nb * g.stride_a, "A") || rt.alloc(st.B, nb * g.stride_b, "B") ||
        rt.alloc(st.C, nb * g.stride_c, "C"))
        return 1;
    g.a = st.A.va;
    g.b = st.B.va;
    g.c = st.C.va;

    // Operands: B is generated K x N per item and stored as given by the layout.
    std::vector<uint8_t> bt;
    if (ctx.functional) {
        st.a = make_operand(dt, nb * g.m * g.k, ctx.seed * 2 + 1);
        st.b = make_operand(dt, nb * g.k * g.n, ctx.seed * 2 + 2);
        if (g.b_trans) {
            bt.resize(st.b.size());
            for (uint64_t i = 0; i < nb; ++i)
                num::transpose(st.b.data() + i * g.stride_b, bt.data() + i * g.stride_b, g.k, g.n, e);
        }
    }
    if (rt.write(st.A, st.a, "A") || rt.write(st.B, g.b_trans ? bt : st.b, "B")) return 1;
    return 0;
}

int gemm_workload::submit(workload_context& ctx, const params& p, state& st) {
    compute_runner& rt = *st.rt;
    const gemm_problem& g = st.g;
    gemm_tiling want{p.tile_m, p.tile_n, p.tile_k, p.c_buffers, p.tile_clusters, 0};
    if (rt.run_gemm("gemm", g, want)) return 1;
    const gemm_plan& plan = rt.last_plan();

    const uint64_t nb = g.batch;
    auto& s = ctx.summary;
    s["m"] = g.m;
    s["n"] = g.n;
    s["k"] = g.k;
    s["batch"] = nb;
    s["dtype"] = num::dtype_name(st.dt);
    s["tile"] = fmt::format("{}x{}x{}", plan.tile.tm, plan.tile.tn, plan.tile.tk);
    s["c_buffers"] = plan.tile.c_buffers;
    s["tile_clusters"] = std::count_if(plan.cluster_cycles.begin(), plan.cluster_cycles.end(),
                                       [](uint64_t c) { return c > 0; });  // clusters the tiles went to
    s["job_ns"] = rt.machine().job_ns;  // the control path the tiler weighed (measured, compute_runner)
    s["job_latency_ns"] = rt.machine().job_latency_ns;
    s["predicted_ns"] = plan.tile.predicted_ns;
    rt.summarize(s, 2.0 * static_cast<double>(nb) * static_cast<double>(g.m) * static_cast<double>(g.n) *
                        static_cast<double>(g.k));
    return 0;
}

int gemm_workload::verify(workload_context& ctx, const params&, state& st) {
    const gemm_problem& g = st.g;
    const uint64_t nb = g.batch;
    std::vector<uint8_t> got, want_c(st.C.size);
    if (st.rt->read(st.C, got)) return 1;
    for (uint64_t i = 0; i < nb; ++i)
        num::gemm_ref(st.dt, st.a.data() + i * g.stride_a, st.b.data() + i * g.stride_b,
                      want_c.data() + i * g.stride_c, g.m, g.n, g.k, g.k, g.n, g.n, false);
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
