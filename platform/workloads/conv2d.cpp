#include "platform/workloads/conv2d.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "platform/runtime/im2col.h"
#include "platform/workloads/compute_run.h"

namespace accelvp {

const param_table<conv2d_params>& conv2d_params::table() {
    using P = conv2d_params;
    static const auto t =
        param_table<P>()
            .integer("n", &P::n, 1, 4096, "batch")
            .integer("c", &P::c, 1, 1 << 16, "input channels")
            .integer("h", &P::h, 1, 1 << 16, "input height")
            .integer("w", &P::w, 1, 1 << 16, "input width")
            .integer("k", &P::k, 1, 1 << 16, "output channels (filters)")
            .integer("r", &P::r, 1, 64, "filter height")
            .integer("s", &P::s, 1, 64, "filter width")
            .integer("stride", &P::stride, 1, 64, "stride (both dimensions)")
            .integer("padding", &P::padding, 0, 64, "zero padding on each side (both dimensions)")
            .string("dtype", &P::dtype, "element type of input and weights (output fp32, int32 for int8)",
                    {"fp32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "int8"})
            .string("im2col", &P::im2col,
                    "device: the DMA engine gathers the im2col matrix from the input in device memory (counted in "
                    "the device time); host: the host builds it and writes it (the device runs only the GEMM)",
                    {"device", "host"})
            .string("im2col_rows", &P::im2col_rows,
                    "device im2col: wide = B rows over the padded width (one long DMA row per (n, c, r, s); "
                    "the GEMM computes unused output columns); compact = rows of Q elements (element-wise "
                    "with stride > 1)",
                    {"wide", "compact"})
            .real("timeout_ms", &P::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
    return t;
}

void conv2d_workload::validate(const params& p, const config&) const {
    const uint64_t R = p.r, S = p.s, H = p.h, W = p.w, pad = p.padding;
    if (pad >= R || pad >= S)
        throw config_error(fmt::format("config error: workload.padding ({}) must be smaller than the filter "
                                       "(workload.r {}, workload.s {})", pad, R, S));
    if (H + 2 * pad < R || W + 2 * pad < S)
        throw config_error(fmt::format("config error: the filter ({}x{}) is larger than the padded input ({}x{}): "
                                       "check workload.h/w/r/s/padding", R, S, H + 2 * pad, W + 2 * pad));
}

namespace {
// Input element under filter tap (r, s) of output (n, c, p, q), or false in the padding.
bool tap(const conv_shape& cs, uint64_t n, uint64_t c, uint64_t p, uint64_t q, uint64_t r, uint64_t s, uint64_t& idx) {
    const uint64_t ih = p * cs.stride + r, iw = q * cs.stride + s;  // in padded coordinates
    if (ih < cs.pad || iw < cs.pad || ih - cs.pad >= cs.h || iw - cs.pad >= cs.w) return false;
    idx = ((n * cs.c + c) * cs.h + ih - cs.pad) * cs.w + iw - cs.pad;
    return true;
}
} // namespace

int conv2d_workload::plan(workload_context& ctx, const params& pr, state& st) {
    num::parse_dtype(pr.dtype, st.dt);
    const num::dtype dt = st.dt;
    const uint64_t N = pr.n, C = pr.c, H = pr.h, W = pr.w, K = pr.k, R = pr.r, S = pr.s, stride = pr.stride,
                   pad = pr.padding;
    const uint64_t P = (H + 2 * pad - R) / stride + 1, Q = (W + 2 * pad - S) / stride + 1;
    const uint64_t e = num::dtype_size(dt), crs = C * R * S;

    // Device im2col (docs/compute.md, "conv2d"): Y (K x N*P*Qw) = W (K x C*R*S) x B with the
    // im2col matrix B ((C*R*S) x (N*P*Qw)) gathered by DMA from the NCHW input in device memory
    // (platform/runtime/im2col.h; Qw = Q, or the padded width with wide rows).
    // Host im2col (the earlier lowering): the host writes A = (N*P*Q) x (C*R*S) and the device
    // runs Y (N*P*Q x K, NHWC) = A x W with W stored (C*R*S) x K.
    const bool dev_im2col = st.dev_im2col = pr.im2col == "device";
    // A 1x1 filter with stride 1, no padding and one image: the NCHW input already is B.
    const bool identity = st.identity = dev_im2col && N == 1 && R == 1 && S == 1 && stride == 1 && pad == 0;
    st.rt = std::make_unique<compute_runner>(ctx);
    compute_runner& rt = *st.rt;
    conv_shape& cs = st.cs;
    cs.n = N, cs.c = C, cs.h = H, cs.w = W, cs.r = R, cs.s = S, cs.stride = stride, cs.pad = pad, cs.elem = e;
    cs.wide = dev_im2col && pr.im2col_rows == "wide";
    const uint64_t QW = cs.qw();  // row pitch of B and Y (device im2col)
    gemm_problem& g = st.g;
    g.m = dev_im2col ? K : N * P * Q;
    g.n = dev_im2col ? N * P * QW : K;
    g.k = crs;
    g.dtype = static_cast<uint8_t>(dt);
    if ((!identity && rt.alloc(st.COL, cs.matrix_bytes(), "the im2col matrix")) ||
        rt.alloc(st.Wt, crs * K * e, "weights") || rt.alloc(st.Y, g.m * g.n * 4, "output"))
        return 1;
    const bool xp = cs.padded_copy();
    if (dev_im2col && (rt.alloc(st.X, N * C * H * W * e + (xp ? 0 : cs.slack_bytes()), "the input") ||
                       (xp && rt.alloc(st.XP, cs.padded_bytes() + cs.slack_bytes(), "the padded input"))))
        return 1;
    g.a = dev_im2col ? st.Wt.va : st.COL.va;
    g.b = identity ? st.X.va : dev_im2col ? st.COL.va : st.Wt.va;
    g.c = st.Y.va;

    std::vector<uint8_t>& x = st.x;
    std::vector<uint8_t>& w = st.w;
    std::vector<uint8_t> a, wt;
    if (ctx.functional) {
        x = make_operand(dt, N * C * H * W, ctx.seed * 2 + 1);
        w = make_operand(dt, crs * K, ctx.seed * 2 + 2);  // (c, r, s) x k
    }
    if (!dev_im2col) {
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
                                    if (!tap(cs, n, c, p, q, r, s, xi)) continue;
                                    const uint64_t row = (n * P + p) * Q + q, col = (c * R + r) * S + s;
                                    std::memcpy(&a[(row * crs + col) * e], &x[xi * e], e);
                                }
        }
        return rt.write(st.COL, a, "the im2col matrix") || rt.write(st.Wt, w, "weights") ? 1 : 0;
    }
    // The weights in their usual K x C x R x S layout; the input as it is (NCHW).
    if (ctx.functional) {
        wt.resize(w.size());
        num::transpose(w.data(), wt.data(), crs, K, e);
    }
    std::vector<uint8_t> xs;  // the input plus its zero slack, if any
    if (ctx.functional) {
        xs = x;
        xs.resize(st.X.size, 0);
    }
    if (rt.write(st.X, xs, "the input") || rt.write(st.Wt, wt, "weights")) return 1;
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
    st.gather_streams = static_cast<uint32_t>(std::clamp<uint64_t>(cs.matrix_bytes() / (4ull << 20), 1, engines));
    if (!identity) {
        try {
            st.gather = plan_im2col(cs, st.X.va, st.XP.va, st.COL.va, st.gather_streams);
        } catch (const std::exception& ex) {
            ctx.error = fmt::format("planning the im2col gather: {}", ex.what());
            return 1;
        }
    }
    return 0;
}

int conv2d_workload::submit(workload_context& ctx, const params& pr, state& st) {
    compute_runner& rt = *st.rt;
    const conv_shape& cs = st.cs;
    const gemm_problem& g = st.g;
    if (st.dev_im2col) {
        uint64_t moved = 0, packets = 0;
        for (const gemm_plan& job : st.gather) {
            if (rt.run("im2col", job)) return 1;
            for (const auto& d : job.dmas) moved += d.bytes;
            packets += job.dma_packets;
        }
        ctx.summary["im2col_bytes"] = moved;
        ctx.summary["im2col_packets"] = packets;
        ctx.summary["im2col_jobs"] = st.gather.size();
        ctx.summary["im2col_streams"] = st.gather_streams;
    }
    if (rt.run_gemm("conv2d", g)) return 1;
    const gemm_plan& plan = rt.last_plan();

    const uint64_t N = pr.n, K = pr.k, P = cs.p(), Q = cs.q(), QW = cs.qw(), crs = pr.c * pr.r * pr.s;
    auto& sm = ctx.summary;
    sm["output"] = fmt::format("{}x{}x{}x{}", N, K, P, Q);
    sm["gemm"] = fmt::format("{}x{}x{}", g.m, g.n, g.k);
    sm["dtype"] = num::dtype_name(st.dt);
    sm["output_layout"] = !st.dev_im2col ? "NPQK"
                          : QW == Q      ? "KNPQ"
                                         : fmt::format("KNPQ, row pitch {}, q at column q*{}", QW, pr.stride);
    sm["tile"] = fmt::format("{}x{}x{}", plan.tile.tm, plan.tile.tn, plan.tile.tk);
    sm["im2col"] = st.dev_im2col ? "device" : "host";
    if (st.dev_im2col) sm["im2col_rows"] = cs.wide ? "wide" : "compact";
    sm["im2col_matrix_bytes"] = cs.matrix_bytes();
    rt.summarize(sm, 2.0 * static_cast<double>(N * K) * static_cast<double>(crs) * static_cast<double>(P * Q));
    if (st.dev_im2col) {
        const double t = st.identity ? 0.0 : sm["phase_ns"]["im2col"].get<double>();
        sm["im2col_ns"] = t;
        sm["im2col_share"] = t / sm["device_ns"].get<double>();
    }
    return 0;
}

// Direct convolution: the products in (c, r, s) order, each added to an fp32 (int32 for int8)
// accumulator starting at +0, exactly like the engine's increasing-k order over the im2col
// columns (padding terms are 0 * w = +-0, which leave a sum that started at +0 unchanged).
int conv2d_workload::verify(workload_context& ctx, const params& pr, state& st) {
    const conv_shape& cs = st.cs;
    const num::dtype dt = st.dt;
    const uint64_t N = pr.n, C = pr.c, H = pr.h, W = pr.w, K = pr.k, R = pr.r, S = pr.s;
    const uint64_t P = cs.p(), Q = cs.q(), QW = cs.qw(), crs = C * R * S;
    std::vector<uint8_t> got;
    if (st.rt->read(st.Y, got)) return 1;
    std::vector<float> xf(N * C * H * W), wf(crs * K);
    num::to_f32(dt, st.x.data(), xf.data(), xf.size());
    num::to_f32(dt, st.w.data(), wf.data(), wf.size());
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
                                if (!tap(cs, n, c, p, q, r, s, xi)) continue;
                                const float xv = xf[xi];
                                const float wv = wf[((c * R + r) * S + s) * K + k];
                                if (is_int) iacc += static_cast<uint32_t>(static_cast<int32_t>(xv * wv));
                                else acc += xv * wv;
                            }
                    const uint64_t i =
                        st.dev_im2col ? ((k * N + n) * P + p) * QW + cs.col(q) : ((n * P + p) * Q + q) * K + k;
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
