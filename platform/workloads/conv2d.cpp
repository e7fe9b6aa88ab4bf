#include "platform/workloads/conv2d.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "platform/workloads/compute_run.h"

namespace accelvp {

void conv2d_workload::declare(param_schema& s) const {
    s.integer("workload.n", 1, 1, 4096, "batch");
    s.integer("workload.c", 16, 1, 1 << 16, "input channels");
    s.integer("workload.h", 16, 1, 1 << 16, "input height");
    s.integer("workload.w", 16, 1, 1 << 16, "input width");
    s.integer("workload.k", 32, 1, 1 << 16, "output channels (filters)");
    s.integer("workload.r", 3, 1, 64, "filter height");
    s.integer("workload.s", 3, 1, 64, "filter width");
    s.integer("workload.stride", 1, 1, 64, "stride (both dimensions)");
    s.integer("workload.padding", 1, 0, 64, "zero padding on each side (both dimensions)");
    s.string("workload.dtype", "bf16", "element type of input and weights (output fp32, int32 for int8)",
             {"fp32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "int8"});
    s.real("workload.timeout_ms", 60000, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
}

int conv2d_workload::run(workload_context& ctx) {
    const config& cf = ctx.cfg;
    num::dtype dt;
    num::parse_dtype(cf.get_string("workload.dtype"), dt);
    const uint64_t N = cf.get_uint("workload.n"), C = cf.get_uint("workload.c"), H = cf.get_uint("workload.h"),
                   W = cf.get_uint("workload.w"), K = cf.get_uint("workload.k"), R = cf.get_uint("workload.r"),
                   S = cf.get_uint("workload.s"), st = cf.get_uint("workload.stride"),
                   pad = cf.get_uint("workload.padding");
    if (pad >= R || pad >= S) {
        ctx.error = fmt::format("config error: workload.padding ({}) must be smaller than the filter "
                                "(workload.r {}, workload.s {})", pad, R, S);
        return 1;
    }
    if (H + 2 * pad < R || W + 2 * pad < S) {
        ctx.error = fmt::format("config error: the filter ({}x{}) is larger than the padded input ({}x{}): "
                                "check workload.h/w/r/s/padding", R, S, H + 2 * pad, W + 2 * pad);
        return 1;
    }
    const uint64_t P = (H + 2 * pad - R) / st + 1, Q = (W + 2 * pad - S) / st + 1;
    const uint64_t e = num::dtype_size(dt), crs = C * R * S;
    // Input element under filter tap (r, s) of output (n, c, p, q), or false in the padding.
    auto tap = [&](uint64_t n, uint64_t c, uint64_t p, uint64_t q, uint64_t r, uint64_t s, uint64_t& idx) {
        const uint64_t ih = p * st + r, iw = q * st + s;  // in padded coordinates
        if (ih < pad || iw < pad || ih - pad >= H || iw - pad >= W) return false;
        idx = ((n * C + c) * H + ih - pad) * W + iw - pad;
        return true;
    };

    compute_runner rt(ctx);
    gemm_problem g;
    g.m = N * P * Q;
    g.n = K;
    g.k = crs;
    g.dtype = static_cast<uint8_t>(dt);
    device_buffer A, B, Y;
    if (rt.alloc(A, g.m * g.k * e, "the im2col matrix") || rt.alloc(B, g.k * g.n * e, "weights") ||
        rt.alloc(Y, g.m * g.n * 4, "output"))
        return 1;
    g.a = A.va;
    g.b = B.va;
    g.c = Y.va;

    // Host-side im2col: row (n, p, q), column (c, r, s); padding gives zeros.
    std::vector<uint8_t> x, w, a;
    if (ctx.functional) {
        x = make_operand(dt, N * C * H * W, ctx.seed * 2 + 1);
        w = make_operand(dt, crs * K, ctx.seed * 2 + 2);  // (c, r, s) x k
        a.assign(g.m * g.k * e, 0);
        for (uint64_t n = 0; n < N; ++n)
            for (uint64_t p = 0; p < P; ++p)
                for (uint64_t q = 0; q < Q; ++q)
                    for (uint64_t c = 0; c < C; ++c)
                        for (uint64_t r = 0; r < R; ++r)
                            for (uint64_t s = 0; s < S; ++s) {
                                uint64_t xi;
                                if (!tap(n, c, p, q, r, s, xi)) continue;
                                const uint64_t row = (n * P + p) * Q + q, col = (c * R + r) * S + s;
                                std::memcpy(&a[(row * crs + col) * e], &x[xi * e], e);
                            }
    }
    if (rt.write(A, a, "the im2col matrix") || rt.write(B, w, "weights")) return 1;
    if (rt.run_gemm("conv2d", g)) return 1;
    const gemm_plan& plan = rt.last_plan();

    auto& sm = ctx.summary;
    sm["output"] = fmt::format("{}x{}x{}x{}", N, K, P, Q);
    sm["gemm"] = fmt::format("{}x{}x{}", g.m, g.n, g.k);
    sm["dtype"] = num::dtype_name(dt);
    sm["clusters_used"] = plan.clusters;
    sm["tile"] = fmt::format("{}x{}x{}", plan.tile.tm, plan.tile.tn, plan.tile.tk);
    rt.summarize(sm, 2.0 * static_cast<double>(N * K) * static_cast<double>(crs) * static_cast<double>(P * Q));
    if (!ctx.functional) return 0;

    // Direct convolution: the products in (c, r, s) order, each added to an fp32 (int32 for int8)
    // accumulator starting at +0, exactly like the engine's increasing-k order over the im2col
    // columns (padding terms are 0 * w = +-0, which leave a sum that started at +0 unchanged).
    std::vector<uint8_t> got;
    if (rt.read(Y, got)) return 1;
    std::vector<float> xf(N * C * H * W), wf(crs * K);
    num::to_f32(dt, x.data(), xf.data(), xf.size());
    num::to_f32(dt, w.data(), wf.data(), wf.size());
    const bool is_int = dt == num::dtype::int8;
    for (uint64_t n = 0; n < N; ++n)
        for (uint64_t p = 0; p < P; ++p)
            for (uint64_t q = 0; q < Q; ++q)
                for (uint64_t k = 0; k < K; ++k) {
                    float acc = 0.0f;
                    uint32_t iacc = 0;  // two's-complement wrap-around like the engine
                    for (uint64_t c = 0; c < C; ++c)
                        for (uint64_t r = 0; r < R; ++r)
                            for (uint64_t s = 0; s < S; ++s) {
                                uint64_t xi;
                                if (!tap(n, c, p, q, r, s, xi)) continue;
                                const float xv = xf[xi];
                                const float wv = wf[((c * R + r) * S + s) * K + k];
                                if (is_int) iacc += static_cast<uint32_t>(static_cast<int32_t>(xv * wv));
                                else acc += xv * wv;
                            }
                    const uint64_t i = ((n * P + p) * Q + q) * K + k;
                    if (std::memcmp(&got[i * 4], is_int ? static_cast<const void*>(&iacc) : &acc, 4) != 0) {
                        ctx.verified = false;
                        ctx.error = fmt::format("verification failed: output (n {}, k {}, p {}, q {}) differs from "
                                                "the direct convolution", n, k, p, q);
                        return 1;
                    }
                }
    ctx.verified = true;
    return 0;
}

} // namespace accelvp
