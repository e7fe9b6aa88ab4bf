#include "platform/workloads/conv2d.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "platform/runtime/im2col.h"
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
    s.string("workload.im2col", "device",
             "device: the DMA engine gathers the im2col matrix from the input in device memory (counted in "
             "the device time); host: the host builds it and writes it (the device runs only the GEMM)",
             {"device", "host"});
    s.string("workload.im2col_rows", "wide",
             "device im2col: wide = B rows over the padded width (one long DMA row per (n, c, r, s); "
             "the GEMM computes unused output columns); compact = rows of Q elements (element-wise "
             "with stride > 1)",
             {"wide", "compact"});
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

    // Device im2col (docs/compute.md, "conv2d"): Y (K x N*P*Qw) = W (K x C*R*S) x B with the
    // im2col matrix B ((C*R*S) x (N*P*Qw)) gathered by DMA from the NCHW input in device memory
    // (platform/runtime/im2col.h; Qw = Q, or the padded width with wide rows).
    // Host im2col (the earlier lowering): the host writes A = (N*P*Q) x (C*R*S) and the device
    // runs Y (N*P*Q x K, NHWC) = A x W with W stored (C*R*S) x K.
    const bool dev_im2col = cf.get_string("workload.im2col") == "device";
    // A 1x1 filter with stride 1, no padding and one image: the NCHW input already is B.
    const bool identity = dev_im2col && N == 1 && R == 1 && S == 1 && st == 1 && pad == 0;
    compute_runner rt(ctx);
    conv_shape cs;
    cs.n = N, cs.c = C, cs.h = H, cs.w = W, cs.r = R, cs.s = S, cs.stride = st, cs.pad = pad, cs.elem = e;
    cs.wide = dev_im2col && cf.get_string("workload.im2col_rows") == "wide";
    const uint64_t QW = cs.qw();  // row pitch of B and Y (device im2col)
    gemm_problem g;
    g.m = dev_im2col ? K : N * P * Q;
    g.n = dev_im2col ? N * P * QW : K;
    g.k = crs;
    g.dtype = static_cast<uint8_t>(dt);
    device_buffer X, XP, COL, Wt, Y;
    if ((!identity && rt.alloc(COL, cs.matrix_bytes(), "the im2col matrix")) || rt.alloc(Wt, crs * K * e, "weights") ||
        rt.alloc(Y, g.m * g.n * 4, "output"))
        return 1;
    const bool xp = cs.padded_copy();
    if (dev_im2col && (rt.alloc(X, N * C * H * W * e + (xp ? 0 : cs.slack_bytes()), "the input") ||
                       (xp && rt.alloc(XP, cs.padded_bytes() + cs.slack_bytes(), "the padded input"))))
        return 1;
    g.a = dev_im2col ? Wt.va : COL.va;
    g.b = identity ? X.va : dev_im2col ? COL.va : Wt.va;
    g.c = Y.va;

    std::vector<uint8_t> x, w, a, wt;
    if (ctx.functional) {
        x = make_operand(dt, N * C * H * W, ctx.seed * 2 + 1);
        w = make_operand(dt, crs * K, ctx.seed * 2 + 2);  // (c, r, s) x k
    }
    if (dev_im2col) {
        // The weights in their usual K x C x R x S layout; the input as it is (NCHW).
        if (ctx.functional) {
            wt.resize(w.size());
            num::transpose(w.data(), wt.data(), crs, K, e);
            x.resize(X.size, 0);  // the slack, if any, is zero
        }
        if (rt.write(X, x, "the input") || rt.write(Wt, wt, "weights")) return 1;
        // Gather streams: one per DMA engine (ring r runs on engine r % engines) for a large
        // matrix; a small one stays on one stream, since with several the zero fill, the row
        // copies and the gather become three rounds of jobs, whose start and completion cost
        // more than the engines save (4 MiB per stream at least).
        uapi::info_args info;
        if (int rc = ctx.dev.get_info(info)) {
            ctx.error = fmt::format("querying the device: {}", std::strerror(-rc));
            return 1;
        }
        const uint64_t engines = std::max(1u, std::min(info.queues, info.dma_engines));
        const uint32_t gather_streams =
            static_cast<uint32_t>(std::clamp<uint64_t>(cs.matrix_bytes() / (4ull << 20), 1, engines));
        std::vector<gemm_plan> gather;  // no jobs for the identity case
        if (!identity) {
            try {
                gather = plan_im2col(cs, X.va, XP.va, COL.va, gather_streams);
            } catch (const std::exception& ex) {
                ctx.error = fmt::format("planning the im2col gather: {}", ex.what());
                return 1;
            }
        }
        uint64_t moved = 0, packets = 0;
        for (const gemm_plan& job : gather) {
            if (rt.run("im2col", job)) return 1;
            for (const auto& d : job.dmas) moved += d.bytes;
            packets += job.dma_packets;
        }
        ctx.summary["im2col_bytes"] = moved;
        ctx.summary["im2col_packets"] = packets;
        ctx.summary["im2col_jobs"] = gather.size();
        ctx.summary["im2col_streams"] = gather_streams;
    } else {
        // Host-side im2col: row (n, p, q), column (c, r, s); padding gives zeros.
        if (ctx.functional) {
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
        if (rt.write(COL, a, "the im2col matrix") || rt.write(Wt, w, "weights")) return 1;
    }
    if (rt.run_gemm("conv2d", g)) return 1;
    const gemm_plan& plan = rt.last_plan();

    auto& sm = ctx.summary;
    sm["output"] = fmt::format("{}x{}x{}x{}", N, K, P, Q);
    sm["gemm"] = fmt::format("{}x{}x{}", g.m, g.n, g.k);
    sm["dtype"] = num::dtype_name(dt);
    sm["output_layout"] =
        !dev_im2col ? "NPQK" : QW == Q ? "KNPQ" : fmt::format("KNPQ, row pitch {}, q at column q*{}", QW, st);
    sm["tile"] = fmt::format("{}x{}x{}", plan.tile.tm, plan.tile.tn, plan.tile.tk);
    sm["im2col"] = dev_im2col ? "device" : "host";
    if (dev_im2col) sm["im2col_rows"] = cs.wide ? "wide" : "compact";
    sm["im2col_matrix_bytes"] = cs.matrix_bytes();
    rt.summarize(sm, 2.0 * static_cast<double>(N * K) * static_cast<double>(crs) * static_cast<double>(P * Q));
    if (dev_im2col) {
        const double t = identity ? 0.0 : sm["phase_ns"]["im2col"].get<double>();
        sm["im2col_ns"] = t;
        sm["im2col_share"] = t / sm["device_ns"].get<double>();
    }
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
                    const uint64_t i =
                        dev_im2col ? ((k * N + n) * P + p) * QW + cs.col(q) : ((n * P + p) * Q + q) * K + k;
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
