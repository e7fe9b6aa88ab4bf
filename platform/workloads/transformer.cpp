#include "platform/workloads/transformer.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "platform/workloads/attention.h"
#include "platform/workloads/compute_run.h"

namespace accelvp {

namespace {
constexpr float ln_eps = 1e-12f;  // BERT's layernorm epsilon
}

const param_table<transformer_params>& transformer_params::table() {
    using P = transformer_params;
    static const auto t =
        param_table<P>()
            .integer("hidden", &P::hidden, 1, 65536, "hidden size (model width)")
            .integer("heads", &P::heads, 1, 1024, "attention heads (must divide workload.hidden)")
            .integer("mlp", &P::mlp, 1, 1 << 18, "MLP inner size")
            .integer("seq", &P::seq, 1, 65536, "sequence length")
            .integer("batch", &P::batch, 1, 4096, "batch")
            .string("dtype", &P::dtype, "element type of the GEMM operands", {"fp32", "bf16", "fp16"})
            .real("timeout_ms", &P::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
    return t;
}

void transformer_workload::validate(const params& p, const config&) const {
    if (p.hidden % p.heads)
        throw config_error(
            fmt::format("config error: workload.heads ({}) must divide workload.hidden ({})", p.heads, p.hidden));
}

int transformer_workload::plan(workload_context& ctx, const params& p, state& st) {
    const uint64_t Hd = p.hidden, heads = p.heads, M = p.mlp, seq = p.seq, batch = p.batch, T = batch * seq;
    num::parse_dtype(p.dtype, st.dt);
    const num::dtype dt = st.dt;
    const uint64_t e = num::dtype_size(dt);
    attention_shape& at = st.at;
    at.batch = batch;
    at.heads = heads;
    at.seq = seq;
    at.head_dim = Hd / heads;
    at.dtype = dt;
    at.ld = 3 * Hd;  // Q, K, V are column slices of the converted QKV projection
    at.ld_ctx = Hd;

    st.rt = std::make_unique<compute_runner>(ctx);
    compute_runner& rt = *st.rt;
    const struct {
        device_buffer* b;
        uint64_t bytes;
        const char* what;
    } bufs[] = {{&st.X, T * Hd * e, "X"},          {&st.X32, T * Hd * 4, "X (fp32)"},
                {&st.Wqkv, Hd * 3 * Hd * e, "Wqkv"}, {&st.Wo, Hd * Hd * e, "Wo"},
                {&st.W1, Hd * M * e, "W1"},          {&st.W2, M * Hd * e, "W2"},
                {&st.QKV, T * 3 * Hd * 4, "QKV"},    {&st.QKVb, T * 3 * Hd * e, "QKV"},
                {&st.S, at.scratch_elems() * 4, "scores"}, {&st.P, at.scratch_elems() * e, "probabilities"},
                {&st.Ctx, T * Hd * 4, "context"},    {&st.Ctxb, T * Hd * e, "context"},
                {&st.A, T * Hd * 4, "attention output"}, {&st.Y1, T * Hd * 4, "layernorm 1"},
                {&st.Y1b, T * Hd * e, "layernorm 1"}, {&st.H1, T * M * 4, "MLP hidden"},
                {&st.H1b, T * M * e, "MLP hidden"},  {&st.H2, T * Hd * 4, "MLP output"},
                {&st.Out, T * Hd * 4, "output"}};
    for (const auto& b : bufs)
        if (rt.alloc(*b.b, b.bytes, b.what)) return 1;

    // Inputs: X in dtype and the same values in fp32 (the residual), weights small so that
    // the sums stay in a useful range.
    if (ctx.functional) {
        st.x = make_operand(dt, T * Hd, ctx.seed * 5 + 1);
        st.x32.resize(T * Hd * 4);
        num::to_f32(dt, st.x.data(), reinterpret_cast<float*>(st.x32.data()), T * Hd);
        st.wqkv = make_operand(dt, Hd * 3 * Hd, ctx.seed * 5 + 2, -0.1f, 0.1f);
        st.wo = make_operand(dt, Hd * Hd, ctx.seed * 5 + 3, -0.1f, 0.1f);
        st.w1 = make_operand(dt, Hd * M, ctx.seed * 5 + 4, -0.1f, 0.1f);
        st.w2 = make_operand(dt, M * Hd, ctx.seed * 5 + 5, -0.1f, 0.1f);
    }
    return rt.write(st.X, st.x, "X") || rt.write(st.X32, st.x32, "X") || rt.write(st.Wqkv, st.wqkv, "Wqkv") ||
                   rt.write(st.Wo, st.wo, "Wo") || rt.write(st.W1, st.w1, "W1") || rt.write(st.W2, st.w2, "W2")
               ? 1
               : 0;
}

int transformer_workload::submit(workload_context& ctx, const params& p, state& st) {
    const uint64_t Hd = p.hidden, M = p.mlp, T = p.batch * p.seq;
    const uint8_t dtc = static_cast<uint8_t>(st.dt);
    const uint64_t e = num::dtype_size(st.dt);
    compute_runner& rt = *st.rt;
    auto gemm = [&](const char* phase, const device_buffer& a, const device_buffer& b, const device_buffer& c,
                    uint64_t n, uint64_t k) {
        gemm_problem g;
        g.m = T;
        g.n = n;
        g.k = k;
        g.dtype = dtc;
        g.a = a.va;
        g.b = b.va;
        g.c = c.va;
        return rt.run_gemm(phase, g);
    };
    // An elementwise fp32 -> dtype phase (CONVERT, or GELU before the down projection).
    auto unary = [&](const char* phase, uint8_t op, const device_buffer& src, const device_buffer& dst,
                     uint64_t cols) {
        vec_program v;
        v.rows = T;
        v.cols = cols;
        v.bufs = {AAX_DT_FP32, dtc};
        v.loads = {{0, {src.va, 0}}};
        v.ops = {{op, 0, 0, 0, 1}};
        v.stores = {{1, {dst.va, 0}}};
        return rt.run_vec(phase, v);
    };
    // y = layernorm(a + b) in fp32; also rounded to dtype when a GEMM reads it next.
    auto add_norm = [&](const char* phase, const device_buffer& a, const device_buffer& b, const device_buffer& y,
                        const device_buffer* yb) {
        vec_program v;
        v.rows = T;
        v.cols = Hd;
        v.bufs = {AAX_DT_FP32, AAX_DT_FP32, dtc};
        v.loads = {{0, {a.va, 0}}, {1, {b.va, 0}}};
        v.ops = {{AAX_VEC_ADD, 0, 0, 1, 0}, {AAX_VEC_LAYERNORM, 0, 0, 0, 0, 0.0f, ln_eps}};
        v.stores = {{0, {y.va, 0}}};
        if (yb) {
            v.ops.push_back({AAX_VEC_CONVERT, 0, 0, 0, 2});
            v.stores.push_back({2, {yb->va, 0}});
        }
        return rt.run_vec(phase, v);
    };
    if (gemm("qkv_proj", st.X, st.Wqkv, st.QKV, 3 * Hd, Hd) ||
        unary("qkv_convert", AAX_VEC_CONVERT, st.QKV, st.QKVb, 3 * Hd) ||
        run_attention(rt, st.at, st.QKVb.va, st.QKVb.va + Hd * e, st.QKVb.va + 2 * Hd * e, st.Ctx.va, st.S.va,
                      st.P.va) ||
        unary("ctx_convert", AAX_VEC_CONVERT, st.Ctx, st.Ctxb, Hd) || gemm("out_proj", st.Ctxb, st.Wo, st.A, Hd, Hd) ||
        add_norm("add_norm1", st.A, st.X32, st.Y1, &st.Y1b) || gemm("mlp_up", st.Y1b, st.W1, st.H1, M, Hd) ||
        unary("gelu", AAX_VEC_GELU, st.H1, st.H1b, M) || gemm("mlp_down", st.H1b, st.W2, st.H2, Hd, M) ||
        add_norm("add_norm2", st.H2, st.Y1, st.Out, nullptr))
        return 1;

    const double t = static_cast<double>(T), h = static_cast<double>(Hd), m = static_cast<double>(M);
    const double flops = 2 * t * h * 3 * h + attention_flops(st.at) + 2 * t * h * h + 4 * t * h * m;
    auto& sm = ctx.summary;
    sm["shape"] = fmt::format("hidden {} heads {} mlp {} seq {} batch {}", Hd, p.heads, M, p.seq, p.batch);
    sm["dtype"] = num::dtype_name(st.dt);
    rt.summarize(sm, flops);
    return 0;
}

// Host reference: the same operations in the same order.
int transformer_workload::verify(workload_context& ctx, const params& p, state& st) {
    const uint64_t Hd = p.hidden, M = p.mlp, T = p.batch * p.seq;
    const num::dtype dt = st.dt;
    const uint64_t e = num::dtype_size(dt);
    const float* xf = reinterpret_cast<const float*>(st.x32.data());
    std::vector<float> qkv(T * 3 * Hd), c(T * Hd), a(T * Hd), y1(T * Hd), h1(T * M), h2(T * Hd), out(T * Hd);
    std::vector<uint8_t> qkvb(T * 3 * Hd * e), cb(T * Hd * e), y1b(T * Hd * e), h1b(T * M * e);
    num::gemm_ref(dt, st.x.data(), st.wqkv.data(), qkv.data(), T, 3 * Hd, Hd, Hd, 3 * Hd, 3 * Hd, false);
    num::from_f32(dt, qkv.data(), qkvb.data(), qkv.size());
    attention_ref(st.at, qkvb.data(), qkvb.data() + Hd * e, qkvb.data() + 2 * Hd * e, c.data());
    num::from_f32(dt, c.data(), cb.data(), c.size());
    num::gemm_ref(dt, cb.data(), st.wo.data(), a.data(), T, Hd, Hd, Hd, Hd, Hd, false);
    num::vadd(a.data(), xf, y1.data(), y1.size());
    num::layernorm_rows(y1.data(), y1.data(), T, Hd, ln_eps, nullptr, nullptr);
    num::from_f32(dt, y1.data(), y1b.data(), y1.size());
    num::gemm_ref(dt, y1b.data(), st.w1.data(), h1.data(), T, M, Hd, Hd, M, M, false);
    num::vgelu(h1.data(), h1.data(), h1.size());
    num::from_f32(dt, h1.data(), h1b.data(), h1.size());
    num::gemm_ref(dt, h1b.data(), st.w2.data(), h2.data(), T, Hd, M, M, Hd, Hd, false);
    num::vadd(h2.data(), y1.data(), out.data(), out.size());
    num::layernorm_rows(out.data(), out.data(), T, Hd, ln_eps, nullptr, nullptr);

    std::vector<uint8_t> got;
    if (st.rt->read(st.Out, got)) return 1;
    if (std::memcmp(got.data(), out.data(), got.size()) != 0) {
        uint64_t i = 0;
        while (std::memcmp(&got[i * 4], &out[i], 4) == 0) ++i;
        ctx.verified = false;
        ctx.error = fmt::format("verification failed: output row {} column {} differs from the reference", i / Hd,
                                i % Hd);
        return 1;
    }
    ctx.verified = true;
    return 0;
}

} // namespace accelvp
