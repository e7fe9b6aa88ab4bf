#include "platform/workloads/attention.h"

#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "platform/workloads/compute_run.h"

namespace accelvp {

namespace {
float attention_scale(const attention_shape& a) { return 1.0f / std::sqrt(static_cast<float>(a.head_dim)); }
} // namespace

double attention_flops(const attention_shape& a) {
    return 4.0 * static_cast<double>(a.batch * a.heads) * static_cast<double>(a.seq * a.seq) *
           static_cast<double>(a.head_dim);
}

int run_attention(compute_runner& rt, const attention_shape& a, uint64_t q, uint64_t k, uint64_t v, uint64_t ctx,
                  uint64_t s, uint64_t p) {
    const uint64_t e = num::dtype_size(a.dtype), ld = a.ld ? a.ld : a.row_len(),
                   ldc = a.ld_ctx ? a.ld_ctx : a.row_len(), ss = a.seq * a.seq;
    // Per batch item, three phases over all heads at once: the heads are a batched GEMM
    // (head h is the column slice h * head_dim of Q, K, V and the context, and the slab h of
    // the scores S and probabilities P), so each phase is one set of jobs, not one per head.
    vec_program soft;
    soft.rows = a.heads * a.seq;  // every head's seq rows of S, one after the other
    soft.cols = a.seq;
    soft.bufs = {AAX_DT_FP32, static_cast<uint8_t>(a.dtype)};
    soft.loads = {{0, {s, 0}}};
    soft.ops = {{AAX_VEC_MUL, AAX_VEC_B_SCALAR, 0, 0, 0, attention_scale(a), 0.0f}, {AAX_VEC_SOFTMAX, 0, 0, 0, 1}};
    soft.stores = {{1, {p, 0}}};
    for (uint64_t b = 0; b < a.batch; ++b) {
        const uint64_t off = b * a.seq * ld * e;  // this batch item's rows of Q, K, V
        gemm_problem qk;  // S_h = Q_h K_h^T
        qk.m = a.seq;
        qk.n = a.seq;
        qk.k = a.head_dim;
        qk.dtype = static_cast<uint8_t>(a.dtype);
        qk.b_trans = true;  // K is seq x head_dim = N x K
        qk.a = q + off;
        qk.b = k + off;
        qk.c = s;
        qk.lda = ld;
        qk.ldb = ld;
        qk.batch = a.heads;
        qk.stride_a = qk.stride_b = a.head_dim * e;
        qk.stride_c = ss * 4;
        if (rt.run_gemm("attn_scores", qk) || rt.run_vec("attn_softmax", soft)) return 1;
        gemm_problem pv;  // ctx_h = P_h V_h
        pv.m = a.seq;
        pv.n = a.head_dim;
        pv.k = a.seq;
        pv.dtype = qk.dtype;
        pv.a = p;
        pv.b = v + off;
        pv.c = ctx + b * a.seq * ldc * 4;
        pv.ldb = ld;
        pv.ldc = ldc;
        pv.batch = a.heads;
        pv.stride_a = ss * e;
        pv.stride_b = a.head_dim * e;
        pv.stride_c = a.head_dim * 4;
        if (rt.run_gemm("attn_context", pv)) return 1;
    }
    return 0;
}

void attention_ref(const attention_shape& a, const uint8_t* q, const uint8_t* k, const uint8_t* v, float* ctx) {
    const uint64_t e = num::dtype_size(a.dtype), ld = a.ld ? a.ld : a.row_len(),
                   ldc = a.ld_ctx ? a.ld_ctx : a.row_len(), n = a.seq * a.seq;
    std::vector<uint8_t> kt(a.head_dim * a.seq * e), pb(n * e);
    std::vector<float> S(n), scale(n, attention_scale(a));
    for (uint64_t b = 0; b < a.batch; ++b)
        for (uint64_t h = 0; h < a.heads; ++h) {
            const uint64_t off = (b * a.seq * ld + h * a.head_dim) * e;
            num::transpose(k + off, kt.data(), a.seq, a.head_dim, e, ld, a.seq);  // K^T: head_dim x seq
            num::gemm_ref(a.dtype, q + off, kt.data(), S.data(), a.seq, a.seq, a.head_dim, ld, a.seq, a.seq, false);
            num::vmul(S.data(), scale.data(), S.data(), n);
            num::softmax_rows(S.data(), S.data(), a.seq, a.seq);
            num::from_f32(a.dtype, S.data(), pb.data(), n);
            num::gemm_ref(a.dtype, pb.data(), v + off, ctx + b * a.seq * ldc + h * a.head_dim, a.seq, a.head_dim,
                          a.seq, a.seq, ld, ldc, false);
        }
}

const param_table<attention_params>& attention_params::table() {
    using P = attention_params;
    static const auto t =
        param_table<P>()
            .integer("batch", &P::batch, 1, 4096, "batch")
            .integer("heads", &P::heads, 1, 1024, "attention heads")
            .integer("seq", &P::seq, 1, 65536, "sequence length")
            .integer("head_dim", &P::head_dim, 1, 4096, "dimension per head")
            .string("dtype", &P::dtype, "element type of Q, K, V and the probabilities P", {"fp32", "bf16", "fp16"})
            .real("timeout_ms", &P::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
    return t;
}

int attention_workload::plan(workload_context& ctx, const params& p, state& st) {
    attention_shape& a = st.a;
    a.batch = p.batch;
    a.heads = p.heads;
    a.seq = p.seq;
    a.head_dim = p.head_dim;
    num::parse_dtype(p.dtype, a.dtype);
    const uint64_t e = num::dtype_size(a.dtype), qkv = a.batch * a.seq * a.row_len();

    st.rt = std::make_unique<compute_runner>(ctx);
    compute_runner& rt = *st.rt;
    if (rt.alloc(st.Q, qkv * e, "Q") || rt.alloc(st.K, qkv * e, "K") || rt.alloc(st.V, qkv * e, "V") ||
        rt.alloc(st.C, qkv * 4, "the context") || rt.alloc(st.S, a.scratch_elems() * 4, "the scores") ||
        rt.alloc(st.P, a.scratch_elems() * e, "the probabilities"))
        return 1;
    if (ctx.functional) {
        st.q = make_operand(a.dtype, qkv, ctx.seed * 3 + 1);
        st.k = make_operand(a.dtype, qkv, ctx.seed * 3 + 2);
        st.v = make_operand(a.dtype, qkv, ctx.seed * 3 + 3);
    }
    return rt.write(st.Q, st.q, "Q") || rt.write(st.K, st.k, "K") || rt.write(st.V, st.v, "V") ? 1 : 0;
}

int attention_workload::submit(workload_context& ctx, const params&, state& st) {
    const attention_shape& a = st.a;
    if (run_attention(*st.rt, a, st.Q.va, st.K.va, st.V.va, st.C.va, st.S.va, st.P.va)) return 1;
    auto& sm = ctx.summary;
    sm["shape"] = fmt::format("batch {} heads {} seq {} head_dim {}", a.batch, a.heads, a.seq, a.head_dim);
    sm["dtype"] = num::dtype_name(a.dtype);
    st.rt->summarize(sm, attention_flops(a));
    return 0;
}

int attention_workload::verify(workload_context& ctx, const params&, state& st) {
    const attention_shape& a = st.a;
    std::vector<uint8_t> got;
    if (st.rt->read(st.C, got)) return 1;
    std::vector<float> want(a.batch * a.seq * a.row_len());
    attention_ref(a, st.q.data(), st.k.data(), st.v.data(), want.data());
    if (std::memcmp(got.data(), want.data(), got.size()) != 0) {
        uint64_t i = 0;
        while (std::memcmp(&got[i * 4], &want[i], 4) == 0) ++i;
        ctx.verified = false;
        ctx.error = fmt::format("verification failed: context row {} column {} differs from the reference",
                                i / a.row_len(), i % a.row_len());
        return 1;
    }
    ctx.verified = true;
    return 0;
}

} // namespace accelvp
