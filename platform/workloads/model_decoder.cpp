// workload decoder (docs/models.md, "Decoder LLM"): a GPT-2-small-shaped decoder as one graph.
// Step 0 is the prefill of `prompt` tokens, steps 1..tokens decode one token each; every step
// appends its keys and values to per-layer KV caches in device memory (state tensors
// [batch, heads, prompt + tokens, head_dim] in workload.dtype) and attends over the cache so far.
// Pre-LN layers: LN, fused QKV projection + bias, per-head Q.K^T over the cache, softmax
// (scaled), P.V, output projection + bias + residual, LN, MLP (GELU), residual; then the final
// LN and the LM head on the last position. Token embeddings are inputs (random); no causal
// mask in the prefill (the mask add does not change the lowering's timing). The weights are
// shared by all steps.
#include <cmath>

#include <fmt/format.h>

#include "platform/workloads/model.h"

namespace accelvp::model {

graph build_decoder(const model_params& p) {
    graph g;
    const uint64_t B = p.batch, D = p.hidden, H = p.heads, d = D / H, F = p.ffn, V = p.vocab,
                   S = p.prompt + p.tokens;
    g.name = fmt::format("decoder L{} D{} H{} F{} V{}", p.n_layers, D, H, F, V);
    g.source = "workload decoder";
    auto w = [&](const std::string& n, std::vector<uint64_t> s) { return g.add_tensor(n, std::move(s), true); };
    struct lw {
        int ln1g, ln1b, wqkv, bqkv, wo, bo, ln2g, ln2b, wup, bup, wdn, bdn, kc, vc;
    };
    std::vector<lw> L;
    for (uint64_t i = 0; i < p.n_layers; ++i) {
        const std::string n = fmt::format("h{}.", i);
        lw x{w(n + "ln1.g", {D}), w(n + "ln1.b", {D}), w(n + "attn.w", {D, 3 * D}), w(n + "attn.b", {3 * D}),
             w(n + "proj.w", {D, D}), w(n + "proj.b", {D}), w(n + "ln2.g", {D}), w(n + "ln2.b", {D}),
             w(n + "fc.w", {D, F}), w(n + "fc.b", {F}), w(n + "fcproj.w", {F, D}), w(n + "fcproj.b", {D}),
             g.add_tensor(n + "kcache", {B, H, S, d}, false), g.add_tensor(n + "vcache", {B, H, S, d}, false)};
        g.tensors[x.kc].state = g.tensors[x.vc].state = true;
        L.push_back(x);
    }
    const int lnfg = w("ln_f.g", {D}), lnfb = w("ln_f.b", {D}), head = w("lm_head.w", {D, V});
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));

    for (uint64_t step = 0; step <= p.tokens; ++step) {
        const uint64_t T = step ? 1 : p.prompt, t0 = step ? p.prompt + step - 1 : 0;
        const std::string sp = step ? fmt::format("t{}.", step) : "prefill.";
        int x = g.add_tensor(sp + "embeddings", {B, T, D}, false);
        g.inputs.push_back(x);
        auto add = [&](const std::string& name, op_kind k, std::vector<int> in, auto&& set) {
            layer l;
            l.name = sp + name;
            l.kind = k;
            l.in = std::move(in);
            l.step = static_cast<int>(step);
            l.origin = "workload decoder";
            set(l);
            g.add_layer(std::move(l));
            return g.layers.back().out;
        };
        auto none = [](layer&) {};
        for (uint64_t i = 0; i < p.n_layers; ++i) {
            const lw& c = L[i];
            const std::string n = fmt::format("h{}.", i);
            const int h = add(n + "ln1", op_kind::layernorm, {x, c.ln1g, c.ln1b}, [](layer& l) { l.eps = 1e-5f; });
            int qkv = add(n + "qkv", op_kind::matmul, {h, c.wqkv}, none);
            qkv = add(n + "qkv.bias", op_kind::add, {qkv, c.bqkv}, none);
            auto part = [&](const char* what, uint64_t j, std::vector<uint64_t> perm) {
                const int s = add(n + what, op_kind::slice, {qkv}, [&](layer& l) {
                    l.axis = 2;
                    l.start = j * D;
                    l.len = D;
                });
                const int r = add(n + what + ".heads", op_kind::reshape, {s}, [&](layer& l) { l.perm = {B, T, H, d}; });
                return add(n + what + ".t", op_kind::transpose, {r}, [&](layer& l) { l.perm = perm; });
            };
            const int q = part("q", 0, {0, 2, 1, 3}), k = part("k", 1, {0, 2, 1, 3}), v = part("v", 2, {0, 2, 1, 3});
            const int kc = add(n + "kcache", op_kind::cache_write, {k, L[i].kc}, [&](layer& l) { l.start = t0; });
            const int vc = add(n + "vcache", op_kind::cache_write, {v, L[i].vc}, [&](layer& l) { l.start = t0; });
            L[i].kc = kc;  // the next step writes into (and reads) the cache after this write
            L[i].vc = vc;
            auto upto = [&](int cache) {
                return add(g.tensors[cache].name + ".past", op_kind::slice, {cache}, [&](layer& l) {
                    l.axis = 2;
                    l.start = 0;
                    l.len = t0 + T;
                });
            };
            const int ks = upto(kc), vs = upto(vc);
            int a = add(n + "scores", op_kind::matmul, {q, ks}, [](layer& l) { l.trans_b = true; });
            a = add(n + "softmax", op_kind::softmax, {a}, [&](layer& l) { l.scalar = scale; });
            a = add(n + "context", op_kind::matmul, {a, vs}, none);
            a = add(n + "context.t", op_kind::transpose, {a}, [](layer& l) { l.perm = {0, 2, 1, 3}; });
            a = add(n + "context.merge", op_kind::reshape, {a}, [&](layer& l) { l.perm = {B, T, D}; });
            a = add(n + "proj", op_kind::matmul, {a, c.wo}, none);
            a = add(n + "proj.bias", op_kind::add, {a, c.bo}, none);
            a = add(n + "residual1", op_kind::add, {a, x}, none);
            const int h2 = add(n + "ln2", op_kind::layernorm, {a, c.ln2g, c.ln2b}, [](layer& l) { l.eps = 1e-5f; });
            int m = add(n + "fc", op_kind::matmul, {h2, c.wup}, none);
            m = add(n + "fc.bias", op_kind::add, {m, c.bup}, none);
            m = add(n + "gelu", op_kind::gelu, {m}, none);
            m = add(n + "fcproj", op_kind::matmul, {m, c.wdn}, none);
            m = add(n + "fcproj.bias", op_kind::add, {m, c.bdn}, none);
            x = add(n + "residual2", op_kind::add, {m, a}, none);
        }
        const int last = add("last", op_kind::slice, {x}, [&](layer& l) {
            l.axis = 1;
            l.start = T - 1;
            l.len = 1;
        });
        const int hf = add("ln_f", op_kind::layernorm, {last, lnfg, lnfb}, [](layer& l) { l.eps = 1e-5f; });
        add("lm_head", op_kind::matmul, {hf, head}, none);
    }
    return g;
}

} // namespace accelvp::model
