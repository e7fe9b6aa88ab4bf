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

void transformer_workload::declare(param_schema& s) const {
    s.integer("workload.hidden", 768, 1, 65536, "hidden size (model width)");
    s.integer("workload.heads", 12, 1, 1024, "attention heads (must divide workload.hidden)");
    s.integer("workload.mlp", 3072, 1, 1 << 18, "MLP inner size");
    s.integer("workload.seq", 512, 1, 65536, "sequence length");
    s.integer("workload.batch", 1, 1, 4096, "batch");
    s.string("workload.dtype", "bf16", "element type of the GEMM operands", {"fp32", "bf16", "fp16"});
    s.real("workload.timeout_ms", 60000, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
}

int transformer_workload::run(workload_context& ctx) {
    const config& cf = ctx.cfg;
    const uint64_t Hd = cf.get_uint("workload.hidden"), heads = cf.get_uint("workload.heads"),
                   M = cf.get_uint("workload.mlp"), seq = cf.get_uint("workload.seq"),
                   batch = cf.get_uint("workload.batch"), T = batch * seq;
    if (Hd % heads) {
        ctx.error = fmt::format("config error: workload.heads ({}) must divide workload.hidden ({})", heads, Hd);
        return 1;
    }
    num::dtype dt;
    num::parse_dtype(cf.get_string("workload.dtype"), dt);
    const uint8_t dtc = static_cast<uint8_t>(dt);
    const uint64_t e = num::dtype_size(dt);
    attention_shape at;
    at.batch = batch;
    at.heads = heads;
    at.seq = seq;
    at.head_dim = Hd / heads;
    at.dtype = dt;
    at.ld = 3 * Hd;  // Q, K, V are column slices of the converted QKV projection
    at.ld_ctx = Hd;

    compute_runner rt(ctx);
    device_buffer X, X32, Wqkv, Wo, W1, W2, QKV, QKVb, S, P, Ctx, Ctxb, A, Y1, Y1b, H1, H1b, H2, Out;
    const struct {
        device_buffer* b;
        uint64_t bytes;
        const char* what;
    } bufs[] = {{&X, T * Hd * e, "X"},          {&X32, T * Hd * 4, "X (fp32)"},   {&Wqkv, Hd * 3 * Hd * e, "Wqkv"},
                {&Wo, Hd * Hd * e, "Wo"},       {&W1, Hd * M * e, "W1"},          {&W2, M * Hd * e, "W2"},
                {&QKV, T * 3 * Hd * 4, "QKV"},  {&QKVb, T * 3 * Hd * e, "QKV"},   {&S, at.scratch_elems() * 4, "scores"},
                {&P, at.scratch_elems() * e, "probabilities"}, {&Ctx, T * Hd * 4, "context"}, {&Ctxb, T * Hd * e, "context"},
                {&A, T * Hd * 4, "attention output"}, {&Y1, T * Hd * 4, "layernorm 1"}, {&Y1b, T * Hd * e, "layernorm 1"},
                {&H1, T * M * 4, "MLP hidden"}, {&H1b, T * M * e, "MLP hidden"}, {&H2, T * Hd * 4, "MLP output"},
                {&Out, T * Hd * 4, "output"}};
    for (const auto& b : bufs)
        if (rt.alloc(*b.b, b.bytes, b.what)) return 1;

    // Inputs: X in dtype and the same values in fp32 (the residual), weights small so that
    // the sums stay in a useful range.
    std::vector<uint8_t> x, x32, wqkv, wo, w1, w2;
    if (ctx.functional) {
        x = make_operand(dt, T * Hd, ctx.seed * 5 + 1);
        x32.resize(T * Hd * 4);
        num::to_f32(dt, x.data(), reinterpret_cast<float*>(x32.data()), T * Hd);
        wqkv = make_operand(dt, Hd * 3 * Hd, ctx.seed * 5 + 2, -0.1f, 0.1f);
        wo = make_operand(dt, Hd * Hd, ctx.seed * 5 + 3, -0.1f, 0.1f);
        w1 = make_operand(dt, Hd * M, ctx.seed * 5 + 4, -0.1f, 0.1f);
        w2 = make_operand(dt, M * Hd, ctx.seed * 5 + 5, -0.1f, 0.1f);
    }
    if (rt.write(X, x, "X") || rt.write(X32, x32, "X") || rt.write(Wqkv, wqkv, "Wqkv") || rt.write(Wo, wo, "Wo") ||
        rt.write(W1, w1, "W1") || rt.write(W2, w2, "W2"))
        return 1;

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
    if (gemm("qkv_proj", X, Wqkv, QKV, 3 * Hd, Hd) || unary("qkv_convert", AAX_VEC_CONVERT, QKV, QKVb, 3 * Hd) ||
        run_attention(rt, at, QKVb.va, QKVb.va + Hd * e, QKVb.va + 2 * Hd * e, Ctx.va, S.va, P.va) ||
        unary("ctx_convert", AAX_VEC_CONVERT, Ctx, Ctxb, Hd) || gemm("out_proj", Ctxb, Wo, A, Hd, Hd) ||
        add_norm("add_norm1", A, X32, Y1, &Y1b) || gemm("mlp_up", Y1b, W1, H1, M, Hd) || unary("gelu", AAX_VEC_GELU, H1, H1b, M) ||
        gemm("mlp_down", H1b, W2, H2, Hd, M) || add_norm("add_norm2", H2, Y1, Out, nullptr))
        return 1;

    const double t = static_cast<double>(T), h = static_cast<double>(Hd), m = static_cast<double>(M);
    const double flops = 2 * t * h * 3 * h + attention_flops(at) + 2 * t * h * h + 4 * t * h * m;
    auto& sm = ctx.summary;
    sm["shape"] = fmt::format("hidden {} heads {} mlp {} seq {} batch {}", Hd, heads, M, seq, batch);
    sm["dtype"] = num::dtype_name(dt);
    rt.summarize(sm, flops);
    if (!ctx.functional) return 0;

    // Host reference: the same operations in the same order.
    const float* xf = reinterpret_cast<const float*>(x32.data());
    std::vector<float> qkv(T * 3 * Hd), c(T * Hd), a(T * Hd), y1(T * Hd), h1(T * M), h2(T * Hd), out(T * Hd);
    std::vector<uint8_t> qkvb(T * 3 * Hd * e), cb(T * Hd * e), y1b(T * Hd * e), h1b(T * M * e);
    num::gemm_ref(dt, x.data(), wqkv.data(), qkv.data(), T, 3 * Hd, Hd, Hd, 3 * Hd, 3 * Hd, false);
    num::from_f32(dt, qkv.data(), qkvb.data(), qkv.size());
    attention_ref(at, qkvb.data(), qkvb.data() + Hd * e, qkvb.data() + 2 * Hd * e, c.data());
    num::from_f32(dt, c.data(), cb.data(), c.size());
    num::gemm_ref(dt, cb.data(), wo.data(), a.data(), T, Hd, Hd, Hd, Hd, Hd, false);
    num::vadd(a.data(), xf, y1.data(), y1.size());
    num::layernorm_rows(y1.data(), y1.data(), T, Hd, ln_eps, nullptr, nullptr);
    num::from_f32(dt, y1.data(), y1b.data(), y1.size());
    num::gemm_ref(dt, y1b.data(), w1.data(), h1.data(), T, M, Hd, Hd, M, M, false);
    num::vgelu(h1.data(), h1.data(), h1.size());
    num::from_f32(dt, h1.data(), h1b.data(), h1.size());
    num::gemm_ref(dt, h1b.data(), w2.data(), h2.data(), T, Hd, M, M, Hd, Hd, false);
    num::vadd(h2.data(), y1.data(), out.data(), out.size());
    num::layernorm_rows(out.data(), out.data(), T, Hd, ln_eps, nullptr, nullptr);

    std::vector<uint8_t> got;
    if (rt.read(Out, got)) return 1;
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
