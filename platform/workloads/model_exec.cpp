// The model executor (docs/models.md): each layer of a model graph lowered onto compute_runner
// phases, a per-layer record, and the per-layer host reference.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "platform/runtime/im2col.h"
#include "platform/workloads/model.h"

namespace accelvp::model {

namespace {

constexpr uint64_t kSlack = 256;  // bytes past every buffer: the wide-row gather reads up to S-1 elements beyond

std::vector<uint64_t> row_major(const std::vector<uint64_t>& shape) {
    std::vector<uint64_t> s(shape.size(), 1);
    for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
    return s;
}
uint64_t prod(const std::vector<uint64_t>& v) {
    return std::accumulate(v.begin(), v.end(), uint64_t{1}, std::multiplies<uint64_t>());
}
uint64_t prod(const std::vector<uint64_t>& v, size_t from, size_t to) {
    to = std::min(to, v.size());
    return from >= to ? 1 : std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(from),
                                            v.begin() + static_cast<std::ptrdiff_t>(to), uint64_t{1},
                                            std::multiplies<uint64_t>());
}

using view = model_state::view;

bool contiguous(const view& v) {
    const auto rm = row_major(v.shape);
    for (size_t i = 0; i < v.shape.size(); ++i)
        if (v.shape[i] > 1 && v.strides[i] != rm[i]) return false;
    return true;
}

// The strides of `shape` viewing the same elements as v without a copy, if there are.
bool reshape_view(const view& v, const std::vector<uint64_t>& shape, std::vector<uint64_t>& st) {
    std::vector<uint64_t> os, ost;
    for (size_t i = 0; i < v.shape.size(); ++i)
        if (v.shape[i] != 1) os.push_back(v.shape[i]), ost.push_back(v.strides[i]);
    st.assign(shape.size(), 1);
    size_t oi = 0, ni = 0;
    while (ni < shape.size() && oi < os.size()) {
        uint64_t np = shape[ni], op = os[oi];
        size_t nj = ni + 1, oj = oi + 1;
        while (np != op) {
            if (np < op) {
                if (nj >= shape.size()) return false;
                np *= shape[nj++];
            } else {
                if (oj >= os.size()) return false;
                op *= os[oj++];
            }
        }
        for (size_t k = oi; k + 1 < oj; ++k)
            if (ost[k] != os[k + 1] * ost[k + 1]) return false;
        st[nj - 1] = ost[oj - 1];
        for (size_t k = nj - 1; k > ni; --k) st[k - 1] = st[k] * shape[k];
        ni = nj;
        oi = oj;
    }
    return oi == os.size();
}

// Tensors read (through views) by a GEMM in workload.dtype: their producer also writes that copy.
std::vector<bool> gemm_inputs(const graph& g) {
    std::vector<bool> need(g.tensors.size(), false);
    for (auto it = g.layers.rbegin(); it != g.layers.rend(); ++it) {
        const layer& l = *it;
        if (l.kind == op_kind::matmul) need[l.in[0]] = need[l.in[1]] = true;
        if (l.kind == op_kind::conv) need[l.in[0]] = need[l.in[1]] = true;
        if ((l.kind == op_kind::transpose || l.kind == op_kind::reshape || l.kind == op_kind::slice) && need[l.out])
            need[l.in[0]] = true;
        if (l.kind == op_kind::cache_write) need[l.in[0]] = true;
    }
    return need;
}

struct executor {
    workload_context& ctx;
    model_state& st;
    compute_runner& rt;
    const num::dtype dt;
    const uint8_t dtc;
    const uint64_t e;
    std::vector<bool> feeds_gemm;
    std::map<std::string, int> consts;  // selection/mean matrices by shape (buffer ids)
    std::string phase;                  // the current layer's name, for errors

    executor(workload_context& c, model_state& s)
        : ctx(c), st(s), rt(*s.rt), dt(s.dt), dtc(static_cast<uint8_t>(s.dt)), e(num::dtype_size(s.dt)),
          feeds_gemm(gemm_inputs(s.g)) {}

    int new_buf(uint64_t elems, uint64_t cols, const std::string& what, int& id) {
        model_state::buffer b;
        b.elems = elems;
        b.cols = cols ? cols : 1;
        if (rt.alloc(b.f32, elems * 4 + kSlack, what)) return 1;
        st.bufs.push_back(std::move(b));
        id = static_cast<int>(st.bufs.size()) - 1;
        return 0;
    }
    int alloc_low(model_state::buffer& b, const std::string& what) {
        return b.low.size ? 0 : rt.alloc(b.low, b.elems * e + kSlack, what);
    }
    uint64_t a32(const view& v) const { return st.bufs[v.buf].f32.va + v.off * 4; }
    uint64_t alow(const view& v) const { return st.bufs[v.buf].low.va + v.off * e; }

    // The workload.dtype copy of buffer `id` (a CONVERT phase unless its producer wrote it).
    int ensure_low(int id) {
        auto& b = st.bufs[id];
        if (b.low_valid) return 0;
        if (alloc_low(b, "a GEMM operand")) return 1;
        vec_program v;
        v.rows = b.elems / b.cols;
        v.cols = b.cols;
        v.bufs = {AAX_DT_FP32, dtc};
        v.loads = {{0, {b.f32.va, 0}}};
        v.ops = {{AAX_VEC_CONVERT, 0, 0, 0, 1}};
        v.stores = {{1, {b.low.va, 0}}};
        if (rt.run_vec("convert", v)) return 1;
        b.low_valid = true;
        return 0;
    }
    int run_jobs(const char* ph, const std::vector<gemm_plan>& jobs) {
        for (const auto& j : jobs)
            if (rt.run(ph, j)) return 1;
        return 0;
    }
    uint32_t dma_streams(uint64_t bytes) {
        uapi::info_args info;
        ctx.dev.get_info(info);
        const uint64_t engines = std::max(1u, std::min(info.queues, info.dma_engines));
        return static_cast<uint32_t>(std::clamp<uint64_t>(bytes / (4ull << 20), 1, engines));
    }
    // Copies view v into a new contiguous buffer; returns the new view.
    int materialize(int t) {
        view& v = st.views[t];
        if (contiguous(v)) return 0;
        int id;
        const uint64_t n = prod(v.shape);
        if (new_buf(n, v.shape.empty() ? 1 : v.shape.back(), "a copy of " + st.g.tensors[t].name, id)) return 1;
        view nv{id, 0, v.shape, row_major(v.shape)};
        std::vector<copy_dim> dims;
        for (size_t d = 0; d < v.shape.size(); ++d) dims.push_back({v.shape[d], v.strides[d] * 4, nv.strides[d] * 4});
        std::vector<gemm_plan> jobs;
        try {
            jobs = plan_copy(a32(v), a32(nv), 4, dims, dma_streams(n * 4));
        } catch (const std::exception& ex) {
            ctx.error = fmt::format("layer {}: copying {}: {}", phase, st.g.tensors[t].name, ex.what());
            return 1;
        }
        if (run_jobs("copy", jobs)) return 1;
        v = nv;
        return 0;
    }
    // A constant fp32 matrix (rows x cols) made by the lowering: sel (1 at (q*stride, q)) or mean (all 1/rows).
    int constant(bool sel, uint64_t rows, uint64_t cols, uint64_t stride, int& id) {
        const std::string key = fmt::format("{}:{}x{}:{}", sel, rows, cols, stride);
        auto it = consts.find(key);
        if (it != consts.end()) return id = it->second, 0;
        if (new_buf(rows * cols, cols, sel ? "a selection matrix" : "a mean vector", id)) return 1;
        std::vector<float> f;
        if (ctx.functional) {
            f.assign(rows * cols + kSlack / 4, 0.0f);
            for (uint64_t q = 0; q < cols; ++q)
                if (sel) f[q * stride * cols + q] = 1.0f;
            if (!sel)
                for (uint64_t r = 0; r < rows; ++r) f[r * cols] = 1.0f / static_cast<float>(rows);
        }
        std::vector<uint8_t> bytes(f.size() * 4);
        if (!f.empty()) std::memcpy(bytes.data(), f.data(), bytes.size());
        if (rt.write(st.bufs[id].f32, bytes, "a constant")) return 1;
        consts[key] = id;
        return 0;
    }

    // Output tensor t as a new contiguous buffer (cols = its last dimension).
    int out_buf(int t) {
        const auto& s = st.g.tensors[t].shape;
        int id;
        if (new_buf(prod(s), s.back(), st.g.tensors[t].name, id)) return 1;
        st.views[t] = view{id, 0, s, row_major(s)};
        return 0;
    }

    static bool is_vec(op_kind k) {
        return k == op_kind::add || k == op_kind::mul || k == op_kind::scale || k == op_kind::shift ||
               k == op_kind::relu || k == op_kind::gelu || k == op_kind::softmax || k == op_kind::layernorm;
    }
    // One vector phase for a chain of vector layers (each the only reader of the one before:
    // fused, docs/models.md): loads the first layer's inputs and the others' extra operands
    // (one_row for a broadcast parameter), applies each layer's ops in place on the result
    // buffer, stores the last layer's output, and its workload.dtype copy when a GEMM reads it.
    int vec_chain(const std::vector<const layer*>& chain) {
        const layer& last = *chain.back();
        if (out_buf(last.out)) return 1;
        const view& o = st.views[last.out];
        vec_program v;
        v.cols = o.shape.back();
        v.rows = prod(o.shape) / v.cols;
        auto load = [&](int t, bool row) {
            v.bufs.push_back(AAX_DT_FP32);
            v.loads.push_back({static_cast<unsigned>(v.bufs.size() - 1), {a32(st.views[t]), 0}, row});
            return static_cast<unsigned>(v.bufs.size() - 1);
        };
        std::vector<std::vector<unsigned>> ins;
        for (size_t i = 0; i < chain.size(); ++i) {
            const layer& l = *chain[i];
            ins.emplace_back();
            for (size_t k = i ? 1 : 0; k < l.in.size(); ++k) {
                const tensor& t = st.g.tensors[l.in[k]];
                ins.back().push_back(load(l.in[k], t.param && t.shape != st.g.tensors[l.out].shape));
            }
        }
        const unsigned res = static_cast<unsigned>(v.bufs.size());
        v.bufs.push_back(AAX_DT_FP32);
        for (size_t i = 0; i < chain.size(); ++i) {
            const layer& l = *chain[i];
            const unsigned src = i ? res : ins[i][0];
            auto extra = [&](size_t k) { return ins[i].at(i ? k - 1 : k); };  // buffer of input k
            switch (l.kind) {
            case op_kind::add:
            case op_kind::mul: {
                const tensor& t = st.g.tensors[l.in[1]];
                const bool row = t.param && t.shape != st.g.tensors[l.out].shape;
                v.ops.push_back({static_cast<uint8_t>(l.kind == op_kind::add ? AAX_VEC_ADD : AAX_VEC_MUL),
                                 row ? AAX_VEC_B_ROW : 0u, src, extra(1), res});
                break;
            }
            case op_kind::scale:
            case op_kind::shift:
                v.ops.push_back({static_cast<uint8_t>(l.kind == op_kind::scale ? AAX_VEC_MUL : AAX_VEC_ADD),
                                 AAX_VEC_B_SCALAR, src, 0, res, l.scalar});
                break;
            case op_kind::relu: v.ops.push_back({AAX_VEC_RELU, 0, src, 0, res}); break;
            case op_kind::gelu: v.ops.push_back({AAX_VEC_GELU, 0, src, 0, res}); break;
            case op_kind::softmax:
                if (l.scalar != 1.0f) {
                    v.ops.push_back({AAX_VEC_MUL, AAX_VEC_B_SCALAR, src, 0, res, l.scalar});
                    v.ops.push_back({AAX_VEC_SOFTMAX, 0, res, 0, res});
                } else {
                    v.ops.push_back({AAX_VEC_SOFTMAX, 0, src, 0, res});
                }
                break;
            case op_kind::layernorm:
                if (l.in.size() == 3)
                    v.ops.push_back({AAX_VEC_LAYERNORM, AAX_VEC_AFFINE, src, extra(1), res, 0.0f, l.eps, extra(2)});
                else
                    v.ops.push_back({AAX_VEC_LAYERNORM, 0, src, 0, res, 0.0f, l.eps});
                break;
            default: break;
            }
        }
        v.stores = {{res, {a32(o), 0}}};
        auto& b = st.bufs[o.buf];
        if (feeds_gemm[last.out]) {
            if (alloc_low(b, "a GEMM operand")) return 1;
            v.bufs.push_back(dtc);
            v.ops.push_back({AAX_VEC_CONVERT, 0, res, 0, res + 1});
            v.stores.push_back({res + 1, {b.low.va, 0}});
        }
        if (rt.run_vec(op_name(chain.front()->kind), v)) return 1;
        b.low_valid = feeds_gemm[last.out];
        for (size_t i = 0; i + 1 < chain.size(); ++i) st.views[chain[i]->out].buf = -1;  // fused: never stored
        return 0;
    }

    int matmul(const layer& l) {
        if (st.views[l.in[0]].strides.back() != 1 && materialize(l.in[0])) return 1;
        auto b_layout = [&](bool& bt, uint64_t& ldb) {
            const view& B = st.views[l.in[1]];
            const size_t n = B.shape.size();
            const uint64_t sk = l.trans_b ? B.strides[n - 1] : B.strides[n - 2];
            const uint64_t sn = l.trans_b ? B.strides[n - 2] : B.strides[n - 1];
            if (sn == 1) return bt = false, ldb = sk, true;
            if (sk == 1) return bt = true, ldb = sn, true;
            return false;
        };
        bool bt = false;
        uint64_t ldb = 0;
        if (!b_layout(bt, ldb)) {
            if (materialize(l.in[1])) return 1;
            b_layout(bt, ldb);
        }
        if (ensure_low(st.views[l.in[0]].buf) || ensure_low(st.views[l.in[1]].buf) || out_buf(l.out)) return 1;
        const view &A = st.views[l.in[0]], &B = st.views[l.in[1]], &C = st.views[l.out];
        const size_t r = C.shape.size();
        const uint64_t M = C.shape[r - 2], N = C.shape[r - 1], K = A.shape.back();
        const bool b2d = B.shape.size() == 2;
        gemm_problem g;
        g.m = M;
        g.n = N;
        g.k = K;
        g.dtype = dtc;
        g.b_trans = bt;
        g.lda = A.strides[r - 2];
        g.ldb = ldb;
        g.ldc = N;
        // Batch dimensions (count, stride of A, B, C in elements), merged where uniform.
        struct bd {
            uint64_t n, sa, sb, sc;
        };
        std::vector<bd> dims;
        for (size_t i = 0; i + 2 < r; ++i)
            if (C.shape[i] > 1) dims.push_back({C.shape[i], A.strides[i], b2d ? 0 : B.strides[i], C.strides[i]});
        // A 2-D weight: batch dimensions of A that continue its rows fold into M.
        while (b2d && !dims.empty() && dims.back().sa == g.m * g.lda) {
            g.m *= dims.back().n;
            dims.pop_back();
        }
        while (dims.size() >= 2) {
            const bd &x = dims[dims.size() - 2], &y = dims.back();
            if (x.sa != y.n * y.sa || x.sb != y.n * y.sb || x.sc != y.n * y.sc) break;
            const bd m{x.n * y.n, y.sa, y.sb, y.sc};
            dims.pop_back();
            dims.back() = m;
        }
        if (!dims.empty()) {
            g.batch = dims.back().n;
            g.stride_a = dims.back().sa * e;
            g.stride_b = dims.back().sb * e;
            g.stride_c = dims.back().sc * 4;
            dims.pop_back();
        }
        const uint64_t loops = std::accumulate(dims.begin(), dims.end(), uint64_t{1},
                                               [](uint64_t p, const bd& d) { return p * d.n; });
        for (uint64_t it = 0; it < loops; ++it) {
            uint64_t oa = 0, ob = 0, oc = 0, rem = it;
            for (size_t d = dims.size(); d-- > 0;) {
                const uint64_t i = rem % dims[d].n;
                rem /= dims[d].n;
                oa += i * dims[d].sa;
                ob += i * dims[d].sb;
                oc += i * dims[d].sc;
            }
            gemm_problem gi = g;
            gi.a = alow(A) + oa * e;
            gi.b = alow(B) + ob * e;
            gi.c = a32(C) + oc * 4;
            if (rt.run_gemm("matmul", gi)) return 1;
        }
        st.flops += 2.0 * static_cast<double>(prod(C.shape)) * static_cast<double>(K);
        return 0;
    }

    // Wide-row output (rows x Qw fp32, output q at column q*stride) -> the contiguous rows x Q
    // buffer `id`: a vector copy with stride 1, a selection GEMM (exact: x*1 plus zeros) else.
    int compact(uint64_t wide, uint64_t rows, uint64_t qw, uint64_t q, uint64_t stride, int id, bool low) {
        auto& b = st.bufs[id];
        if (stride == 1) {
            vec_program v;
            v.rows = rows;
            v.cols = q;
            v.bufs = {AAX_DT_FP32};
            v.loads = {{0, {wide, qw}}};
            v.stores = {{0, {b.f32.va, 0}}};
            if (low) {
                if (alloc_low(b, "a GEMM operand")) return 1;
                v.bufs.push_back(dtc);
                v.ops.push_back({AAX_VEC_CONVERT, 0, 0, 0, 1});
                v.stores.push_back({1, {b.low.va, 0}});
            }
            if (rt.run_vec("compact", v)) return 1;
            b.low_valid = low;
            return 0;
        }
        int sel;
        if (constant(true, qw, q, stride, sel)) return 1;
        gemm_problem g;
        g.m = rows;
        g.n = q;
        g.k = qw;
        g.dtype = AAX_DT_FP32;
        g.a = wide;
        g.b = st.bufs[sel].f32.va;
        g.c = b.f32.va;
        return rt.run_gemm("compact", g);
    }

    // Conv and pooling: the im2col gather (device, wide rows) of input `x` with element size `el`.
    int gather(const layer& l, int x, uint64_t el, conv_shape& cs, uint64_t& col) {
        const view& X = st.views[x];
        cs.n = X.shape[0], cs.c = X.shape[1], cs.h = X.shape[2], cs.w = X.shape[3];
        cs.r = l.kr, cs.s = l.ks, cs.stride = l.stride, cs.pad = l.pad, cs.elem = el, cs.wide = true;
        const uint64_t xa = el == 4 ? a32(X) : alow(X);
        if (el != 4 && cs.n == 1 && cs.r == 1 && cs.s == 1 && cs.stride == 1 && cs.pad == 0) return col = xa, 0;
        device_buffer m, xp;
        if (rt.alloc(m, cs.matrix_bytes(), "an im2col matrix") ||
            (cs.padded_copy() && rt.alloc(xp, cs.padded_bytes() + cs.slack_bytes(), "a padded input")))
            return 1;
        col = m.va;
        std::vector<gemm_plan> jobs;
        try {
            jobs = plan_im2col(cs, xa, xp.va, col, dma_streams(cs.matrix_bytes()));
        } catch (const std::exception& ex) {
            ctx.error = fmt::format("layer {}: planning the im2col gather: {}", l.name, ex.what());
            return 1;
        }
        return run_jobs("im2col", jobs);
    }
    // Output [N, K, P, Q] of a wide [K, N, P, Qw] result: contiguous for N = 1, a view else.
    int conv_out(const layer& l, const conv_shape& cs, uint64_t K, int wide_id) {
        const uint64_t wide = st.bufs[wide_id].f32.va;
        const uint64_t N = cs.n, P = cs.p(), Q = cs.q(), QW = cs.qw();
        const bool low = feeds_gemm[l.out];
        int id;
        if (QW == Q) {  // already compact: the wide result is the output
            id = wide_id;
            st.bufs[id].cols = Q;
            if (low && ensure_low(id)) return 1;
        } else {
            if (new_buf(K * N * P * Q, Q, st.g.tensors[l.out].name, id) || compact(wide, K * N * P, QW, Q, cs.stride, id, low))
                return 1;
        }
        st.views[l.out] = view{id, 0, {N, K, P, Q}, {P * Q, N * P * Q, Q, 1}};
        if (N == 1) st.views[l.out].strides = row_major({N, K, P, Q});
        return 0;
    }

    int conv(const layer& l) {
        if (materialize(l.in[0]) || ensure_low(st.views[l.in[0]].buf)) return 1;
        conv_shape cs;
        uint64_t col;
        if (gather(l, l.in[0], e, cs, col)) return 1;
        const view& W = st.views[l.in[1]];
        const uint64_t K = W.shape[0], crs = cs.c * cs.r * cs.s, cols = cs.n * cs.p() * cs.qw();
        int wide;
        if (new_buf(K * cols, cols, st.g.tensors[l.out].name + " (wide rows)", wide)) return 1;
        gemm_problem g;
        g.m = K;
        g.n = cols;
        g.k = crs;
        g.dtype = dtc;
        g.a = alow(W);
        g.b = col;
        g.c = st.bufs[wide].f32.va;
        if (rt.run_gemm("conv", g)) return 1;
        st.flops += 2.0 * static_cast<double>(K * crs) * static_cast<double>(cs.n * cs.p() * cs.q());
        return conv_out(l, cs, K, wide);
    }

    int pool(const layer& l) {
        if (materialize(l.in[0])) return 1;
        conv_shape cs;
        uint64_t col;
        if (gather(l, l.in[0], 4, cs, col)) return 1;
        const uint64_t C = cs.c, rs = cs.r * cs.s, npq = cs.n * cs.p() * cs.qw();
        int wide;
        if (new_buf(C * npq, npq, st.g.tensors[l.out].name + " (wide rows)", wide)) return 1;
        const uint64_t wa = st.bufs[wide].f32.va;
        const auto& cp = rt.params();
        const uint64_t chunk = std::max<uint64_t>(1, std::min(npq, cp.sram_bytes / ((rs + 1) * 4 * 8)));
        const bool mx = l.kind == op_kind::maxpool;
        for (uint64_t c0 = 0; c0 < npq; c0 += chunk) {
            vec_program v;
            v.rows = C;
            v.cols = std::min(chunk, npq - c0);
            const unsigned acc = static_cast<unsigned>(rs);
            for (uint64_t t = 0; t < rs; ++t) {
                v.bufs.push_back(AAX_DT_FP32);
                v.loads.push_back({static_cast<unsigned>(t), {col + (t * npq + c0) * 4, rs * npq}});
            }
            v.bufs.push_back(AAX_DT_FP32);
            const uint8_t op = mx ? AAX_VEC_MAX : AAX_VEC_ADD;
            if (rs == 1) v.ops.push_back({AAX_VEC_CONVERT, 0, 0, 0, acc});
            else v.ops.push_back({op, 0, 0, 1, acc});
            for (uint64_t t = 2; t < rs; ++t) v.ops.push_back({op, 0, acc, static_cast<unsigned>(t), acc});
            if (!mx) v.ops.push_back({AAX_VEC_MUL, AAX_VEC_B_SCALAR, acc, 0, acc, 1.0f / static_cast<float>(rs)});
            v.stores = {{acc, {wa + c0 * 4, npq}}};
            if (rt.run_vec(op_name(l.kind), v)) return 1;
        }
        return conv_out(l, cs, C, wide);
    }

    int global_avgpool(const layer& l) {
        if (materialize(l.in[0]) || out_buf(l.out)) return 1;
        const view &X = st.views[l.in[0]], &O = st.views[l.out];
        const uint64_t nc = X.shape[0] * X.shape[1], hw = X.shape[2] * X.shape[3];
        int mean;
        if (constant(false, hw, 1, 1, mean)) return 1;
        gemm_problem g;
        g.m = nc;
        g.n = 1;
        g.k = hw;
        g.dtype = AAX_DT_FP32;
        g.a = a32(X);
        g.b = st.bufs[mean].f32.va;
        g.c = a32(O);
        if (rt.run_gemm("global_avgpool", g)) return 1;
        st.bufs[O.buf].low_valid = false;
        return feeds_gemm[l.out] ? ensure_low(O.buf) : 0;
    }

    int concat(const layer& l) {
        if (out_buf(l.out)) return 1;
        const view& O = st.views[l.out];
        uint64_t at = 0;
        for (int t : l.in) {
            const view& v = st.views[t];
            std::vector<copy_dim> dims;
            for (size_t d = 0; d < v.shape.size(); ++d) dims.push_back({v.shape[d], v.strides[d] * 4, O.strides[d] * 4});
            std::vector<gemm_plan> jobs;
            try {
                jobs = plan_copy(a32(v), a32(O) + at * O.strides[l.axis] * 4, 4, dims, dma_streams(prod(v.shape) * 4));
            } catch (const std::exception& ex) {
                ctx.error = fmt::format("layer {}: {}", l.name, ex.what());
                return 1;
            }
            if (run_jobs("concat", jobs)) return 1;
            at += v.shape[l.axis];
        }
        return feeds_gemm[l.out] ? ensure_low(O.buf) : 0;
    }

    // The new keys or values (workload.dtype copy) into the cache's rows [start, start + T).
    int cache_write(const layer& l) {
        if (ensure_low(st.views[l.in[0]].buf)) return 1;
        const view &x = st.views[l.in[0]], &c = st.views[l.in[1]];
        std::vector<copy_dim> dims;
        for (size_t d = 0; d < x.shape.size(); ++d) dims.push_back({x.shape[d], x.strides[d] * e, c.strides[d] * e});
        std::vector<gemm_plan> jobs;
        try {
            jobs = plan_copy(alow(x), alow(c) + l.start * c.strides[2] * e, e, dims, 1);
        } catch (const std::exception& ex) {
            ctx.error = fmt::format("layer {}: {}", l.name, ex.what());
            return 1;
        }
        if (run_jobs("cache_write", jobs)) return 1;
        st.views[l.out] = c;
        return 0;
    }
    std::vector<const layer*> fused;  // vector layers that run_layer(l) runs with l
    int run_layer(const layer& l) {
        phase = l.name;
        switch (l.kind) {
        case op_kind::matmul: return matmul(l);
        case op_kind::conv: return conv(l);
        case op_kind::maxpool:
        case op_kind::avgpool: return pool(l);
        case op_kind::global_avgpool: return global_avgpool(l);
        case op_kind::transpose: {
            const view& x = st.views[l.in[0]];
            view v{x.buf, x.off, {}, {}};
            for (uint64_t p : l.perm) v.shape.push_back(x.shape[p]), v.strides.push_back(x.strides[p]);
            st.views[l.out] = v;
            return 0;
        }
        case op_kind::reshape: {
            const auto& s = st.g.tensors[l.out].shape;
            std::vector<uint64_t> strides;
            if (!reshape_view(st.views[l.in[0]], s, strides)) {
                if (materialize(l.in[0])) return 1;
                strides = row_major(s);
            }
            const view& x = st.views[l.in[0]];
            st.views[l.out] = view{x.buf, x.off, s, strides};
            return 0;
        }
        case op_kind::slice: {
            view v = st.views[l.in[0]];
            v.off += l.start * v.strides[l.axis];
            v.shape[l.axis] = l.len;
            st.views[l.out] = v;
            return 0;
        }
        case op_kind::cache_write: return cache_write(l);
        case op_kind::concat: return concat(l);
        default: break;
        }
        if (is_vec(l.kind)) {
            std::vector<const layer*> chain{&l};
            for (const layer* x : fused) chain.push_back(x);
            for (const layer* x : chain)
                for (size_t k = x == &l ? 0 : 1; k < x->in.size(); ++k)
                    if (materialize(x->in[k])) return 1;
            return vec_chain(chain);
        }
        ctx.error = fmt::format("layer {}: op {} has no lowering", l.name, op_name(l.kind));
        return 1;
    }
};

double num_or0(const nlohmann::json& j, const char* k) { return j.contains(k) ? j[k].get<double>() : 0.0; }

// ---- host reference ----------------------------------------------------------------------

// The elements of view v of the fp32 buffer data, in row-major order of its shape.
std::vector<float> gather(const std::vector<float>& data, const view& v) {
    std::vector<float> out(prod(v.shape));
    std::vector<uint64_t> idx(v.shape.size(), 0);
    for (uint64_t i = 0; i < out.size(); ++i) {
        uint64_t o = v.off;
        for (size_t d = 0; d < idx.size(); ++d) o += idx[d] * v.strides[d];
        out[i] = data.at(o);
        for (size_t d = idx.size(); d-- > 0;) {
            if (++idx[d] < v.shape[d]) break;
            idx[d] = 0;
        }
    }
    return out;
}

std::vector<float> round_to(num::dtype t, const std::vector<float>& x) {
    std::vector<uint8_t> b(x.size() * num::dtype_size(t));
    num::from_f32(t, x.data(), b.data(), x.size());
    std::vector<float> y(x.size());
    num::to_f32(t, b.data(), y.data(), x.size());
    return y;
}

// The reference of layer l from its inputs (row-major, fp32); empty for views.
std::vector<float> reference(const layer& l, const graph& g, num::dtype dt, const std::vector<std::vector<float>>& in) {
    const auto& os = g.tensors[l.out].shape;
    const uint64_t n = prod(os);
    std::vector<float> y(n, 0.0f);
    const uint64_t cols = os.back(), rows = n / cols;
    switch (l.kind) {
    case op_kind::matmul: {
        const auto& bs = g.tensors[l.in[1]].shape;
        const uint64_t M = os[os.size() - 2], N = os.back(), K = g.tensors[l.in[0]].shape.back();
        const uint64_t batch = n / (M * N);
        std::vector<float> a = round_to(dt, in[0]), b = round_to(dt, in[1]);
        std::vector<uint8_t> ab(a.size() * 4), bb(K * N * 4), bt(K * N * 4);
        for (uint64_t i = 0; i < batch; ++i) {
            const float* bi = b.data() + (bs.size() == 2 ? 0 : i * K * N);
            if (l.trans_b) num::transpose(bi, bt.data(), N, K, 4);
            else std::memcpy(bt.data(), bi, K * N * 4);
            num::gemm_ref(num::dtype::fp32, a.data() + i * M * K, bt.data(), y.data() + i * M * N, M, N, K, K, N, N,
                          false);
        }
        break;
    }
    case op_kind::conv:
    case op_kind::maxpool:
    case op_kind::avgpool: {
        const auto& xs = g.tensors[l.in[0]].shape;
        const uint64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], K = os[1], P = os[2], Q = os[3];
        const std::vector<float> x = l.kind == op_kind::conv ? round_to(dt, in[0]) : in[0];
        auto at = [&](uint64_t nn, uint64_t c, uint64_t p, uint64_t q, uint64_t r, uint64_t s, float& v) {
            const uint64_t ih = p * l.stride + r, iw = q * l.stride + s;
            if (ih < l.pad || iw < l.pad || ih - l.pad >= H || iw - l.pad >= W) return false;
            v = x[((nn * C + c) * H + ih - l.pad) * W + iw - l.pad];
            return true;
        };
        for (uint64_t nn = 0; nn < N; ++nn)
            for (uint64_t k = 0; k < K; ++k)
                for (uint64_t p = 0; p < P; ++p)
                    for (uint64_t q = 0; q < Q; ++q) {
                        float acc = 0.0f, v = 0.0f;
                        if (l.kind == op_kind::conv) {
                            for (uint64_t c = 0; c < C; ++c)
                                for (uint64_t r = 0; r < l.kr; ++r)
                                    for (uint64_t s = 0; s < l.ks; ++s)
                                        if (at(nn, c, p, q, r, s, v))
                                            acc += v * in[1][((k * C + c) * l.kr + r) * l.ks + s];
                        } else {
                            // Taps in (r, s) order, padding as 0 (the gather's zeros).
                            for (uint64_t t = 0; t < l.kr * l.ks; ++t) {
                                float tv = 0.0f;
                                if (!at(nn, k, p, q, t / l.ks, t % l.ks, tv)) tv = 0.0f;
                                if (t == 0) acc = tv;
                                else if (l.kind == op_kind::maxpool) num::vmax(&acc, &tv, &acc, 1);
                                else acc = acc + tv;
                            }
                            if (l.kind == op_kind::avgpool) acc = acc * (1.0f / static_cast<float>(l.kr * l.ks));
                        }
                        y[((nn * K + k) * P + p) * Q + q] = acc;
                    }
        break;
    }
    case op_kind::global_avgpool: {
        const auto& xs = g.tensors[l.in[0]].shape;
        const uint64_t hw = xs[2] * xs[3];
        std::vector<float> mean(hw, 1.0f / static_cast<float>(hw));
        num::gemm_ref(num::dtype::fp32, in[0].data(), mean.data(), y.data(), xs[0] * xs[1], 1, hw, hw, 1, 1, false);
        break;
    }
    case op_kind::add:
    case op_kind::mul:
        for (uint64_t i = 0; i < n; ++i) {
            const float b = in[1].size() == n ? in[1][i] : in[1][i % cols];
            y[i] = l.kind == op_kind::add ? in[0][i] + b : in[0][i] * b;
        }
        break;
    case op_kind::scale:
        for (uint64_t i = 0; i < n; ++i) y[i] = in[0][i] * l.scalar;
        break;
    case op_kind::shift:
        for (uint64_t i = 0; i < n; ++i) y[i] = in[0][i] + l.scalar;
        break;
    case op_kind::relu: num::vrelu(in[0].data(), y.data(), n); break;
    case op_kind::gelu: num::vgelu(in[0].data(), y.data(), n); break;
    case op_kind::softmax: {
        std::vector<float> x = in[0];
        if (l.scalar != 1.0f)
            for (auto& v : x) v = v * l.scalar;
        num::softmax_rows(x.data(), y.data(), rows, cols);
        break;
    }
    case op_kind::layernorm:
        num::layernorm_rows(in[0].data(), y.data(), rows, cols, l.eps, in.size() == 3 ? in[1].data() : nullptr,
                            in.size() == 3 ? in[2].data() : nullptr);
        break;
    case op_kind::concat: {
        const uint64_t outer = prod(os, 0, l.axis), inner = prod(os, l.axis + 1, os.size());
        uint64_t at = 0;
        for (size_t i = 0; i < l.in.size(); ++i) {
            const uint64_t a = g.tensors[l.in[i]].shape[l.axis];
            for (uint64_t o = 0; o < outer; ++o)
                std::copy_n(in[i].begin() + o * a * inner, a * inner, y.begin() + (o * os[l.axis] + at) * inner);
            at += a;
        }
        break;
    }
    case op_kind::transpose:
    case op_kind::reshape:
    case op_kind::slice:
    case op_kind::cache_write: return {};
    }
    return y;
}

} // namespace

// ---- the workload --------------------------------------------------------------------------

const param_table<model_params>& model_workload::table() const {
    using P = model_params;
    static const auto common = [](param_table<P> t) {
        return t
            .string("dtype", &P::dtype, "element type of the GEMM operands (activations are fp32 in device memory)",
                    {"fp32", "bf16", "fp16"})
            .boolean("verify_layers", &P::verify_layers,
                     "functional mode: check every layer's output against the host reference (bit-exact)")
            .real("timeout_ms", &P::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
    };
    static const auto tl = common(param_table<P>().string(
        "layers", &P::layers, "layer-list YAML file describing the model (docs/models.md, \"Layer-list format\")"));
    static const auto to = common(
        param_table<P>()
            .string("model", &P::model, "ONNX model file (docs/models.md, \"ONNX import\")")
            .integer("batch", &P::batch, 1, 4096, "value of the model's symbolic dimensions (e.g. batch)"));
    static const auto td = common(
        param_table<P>()
            .integer("layers", &P::n_layers, 1, 1024, "decoder layers")
            .integer("hidden", &P::hidden, 1, 65536, "model width (must be a multiple of workload.heads)")
            .integer("heads", &P::heads, 1, 1024, "attention heads")
            .integer("ffn", &P::ffn, 1, 1 << 18, "MLP inner size")
            .integer("vocab", &P::vocab, 1, 1 << 20, "vocabulary (LM head width)")
            .integer("prompt", &P::prompt, 1, 65536, "prompt tokens (the prefill)")
            .integer("tokens", &P::tokens, 0, 65536, "tokens generated after the prefill (decode steps)")
            .integer("batch", &P::batch, 1, 4096, "sequences decoded together"));
    return src_ == source::onnx ? to : src_ == source::decoder ? td : tl;
}

graph model_workload::load(const params& p) const {
    if (src_ == source::decoder) {
        if (p.hidden % p.heads)
            throw config_error(fmt::format("config error: workload.heads ({}) must divide workload.hidden ({})", p.heads,
                                           p.hidden));
        return build_decoder(p);
    }
    if (src_ == source::onnx) {
        if (p.model.empty())
            throw config_error("config error: workload.model is required: an ONNX file (-p workload.model=net.onnx)");
        return load_onnx(p.model, p.batch);
    }
    if (p.layers.empty())
        throw config_error("config error: workload.layers is required: a layer-list YAML file (-p workload.layers=net.yaml)");
    return load_layer_list(p.layers);
}

void model_workload::validate(const params& p, const config&) const { (void)load(p); }

int model_workload::plan(workload_context& ctx, const params& p, state& st) {
    st.g = load(p);
    num::parse_dtype(p.dtype, st.dt);
    st.rt = std::make_unique<compute_runner>(ctx);
    compute_runner& rt = *st.rt;
    const graph& g = st.g;
    const uint64_t e = num::dtype_size(st.dt);
    st.views.assign(g.tensors.size(), {});
    st.host.assign(g.tensors.size(), {});
    const auto gi = gemm_inputs(g);
    uint64_t seed = ctx.seed * 7919 + 1;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
        const tensor& ts = g.tensors[t];
        const bool input = std::find(g.inputs.begin(), g.inputs.end(), static_cast<int>(t)) != g.inputs.end();
        if (ts.state) {  // zero at the start, in workload.dtype only
            model_state::buffer b;
            b.elems = ts.numel();
            b.cols = ts.shape.back();
            b.low_only = b.low_valid = true;
            if (rt.alloc(b.low, b.elems * e + kSlack, ts.name)) return 1;
            st.bufs.push_back(std::move(b));
            st.views[t] = {static_cast<int>(st.bufs.size()) - 1, 0, ts.shape, row_major(ts.shape)};
            continue;
        }
        if (!ts.param && !input) continue;
        model_state::buffer b;
        b.elems = ts.numel();
        b.cols = ts.shape.back();
        if (rt.alloc(b.f32, b.elems * 4 + kSlack, ts.name)) return 1;
        const bool low = gi[t];
        if (low && rt.alloc(b.low, b.elems * e + kSlack, ts.name)) return 1;
        // Values in workload.dtype (weights small so sums stay in range), widened for the fp32 copy.
        std::vector<uint8_t> v, f;
        if (ctx.functional) {
            const float r = ts.param ? 0.1f : 2.0f;
            v = make_operand(st.dt, b.elems, seed++, -r, r);
            v.resize(b.elems * e + kSlack, 0);
            f.resize(b.elems * 4 + kSlack, 0);
            num::to_f32(st.dt, v.data(), reinterpret_cast<float*>(f.data()), b.elems);
            st.host[t] = f;
        }
        if (rt.write(b.f32, f, ts.name) || (low && rt.write(b.low, v, ts.name))) return 1;
        b.low_valid = low;
        st.bufs.push_back(std::move(b));
        st.views[t] = {static_cast<int>(st.bufs.size()) - 1, 0, ts.shape, row_major(ts.shape)};
    }
    return 0;
}

int model_workload::submit(workload_context& ctx, const params&, state& st) {
    executor ex(ctx, st);
    compute_runner& rt = *st.rt;
    nlohmann::json layers = nlohmann::json::array(), before, after;
    rt.summarize(before, 0);
    const auto& L = st.g.layers;
    std::vector<int> readers(st.g.tensors.size(), 0);
    for (const layer& l : L)
        for (int t : l.in) ++readers[t];
    std::vector<bool> fused(L.size(), false);
    for (size_t i = 0; i < L.size(); ++i) {
        const layer& l = L[i];
        if (fused[i]) {
            layers.push_back({{"name", l.name}, {"op", op_name(l.kind)},
                              {"shape", fmt::format("{}", fmt::join(st.g.tensors[l.out].shape, "x"))},
                              {"device_ns", 0.0}, {"flops", 0.0}, {"utilization", 0.0}, {"bound", "fused"},
                              {"hbm_bytes", 0.0}});
            if (l.step >= 0) layers.back()["step"] = l.step;
            continue;
        }
        ex.fused.clear();
        if (executor::is_vec(l.kind))
            for (size_t j = i + 1; j < L.size(); ++j) {
                const int prev = ex.fused.empty() ? l.out : ex.fused.back()->out;
                if (!executor::is_vec(L[j].kind) || L[j].in[0] != prev || readers[prev] != 1) break;
                ex.fused.push_back(&L[j]);
                fused[j] = true;
            }
        const double f0 = st.flops;
        if (ex.run_layer(l)) {
            ctx.error = fmt::format("layer '{}' ({}): {}", l.name, op_name(l.kind), ctx.error);
            return 1;
        }
        after = nlohmann::json();
        rt.summarize(after, 0);
        const double ns = num_or0(after, "device_ns") - num_or0(before, "device_ns");
        const double fl = st.flops - f0;
        const char* names[] = {"compute", "SRAM", "HBM", "DMA"};
        const char* bound = "none";
        double top = 0;
        for (const char* r : names) {
            const std::string k = fmt::format("t_{}_ns", r);
            const double d = num_or0(after, k.c_str()) - num_or0(before, k.c_str());
            if (d > top) top = d, bound = r;
        }
        if (ns > 2 * top && ns > 0) bound = "host";
        const double peak = num_or0(after, "peak_tflops") * 1e12;
        nlohmann::json r;
        r["name"] = l.name;
        r["op"] = op_name(l.kind);
        r["shape"] = fmt::format("{}", fmt::join(st.g.tensors[l.out].shape, "x"));
        r["device_ns"] = ns;
        r["flops"] = fl;
        r["utilization"] = ns > 0 && peak > 0 ? fl / ns * 1e9 / peak : 0.0;
        r["bound"] = ns > 0 ? bound : "view";
        r["hbm_bytes"] = num_or0(after, "hbm_bytes") - num_or0(before, "hbm_bytes");
        if (l.step >= 0) r["step"] = l.step;
        layers.push_back(r);
        before = after;
    }
    auto& sm = ctx.summary;
    sm["model"] = st.g.name;
    sm["layers_count"] = st.g.layers.size();
    sm["weights"] = st.g.weights();
    sm["dtype"] = num::dtype_name(st.dt);
    rt.summarize(sm, st.flops);
    sm.erase("phase_ns");  // per op kind; the per-layer table is `layers`
    if (!st.g.layers.empty() && st.g.layers.back().step >= 0) {
        // Decoder: time per step; the per-layer table of the prefill and the first decode step.
        std::vector<double> step_ns(static_cast<size_t>(st.g.layers.back().step) + 1, 0.0);
        nlohmann::json shown = nlohmann::json::array();
        for (const auto& r : layers) {
            const int64_t sidx = r.at("step").get<int64_t>();
            step_ns.at(static_cast<size_t>(sidx)) += r.at("device_ns").get<double>();
            if (sidx <= 1) shown.push_back(r);
        }
        const uint64_t B = st.g.tensors[st.g.inputs[0]].shape[0], M = step_ns.size() - 1;
        double decode = 0;
        for (size_t i = 1; i < step_ns.size(); ++i) decode += step_ns[i];
        sm["batch"] = B;
        sm["prompt_tokens"] = st.g.tensors[st.g.inputs[0]].shape[1];
        sm["decode_steps"] = M;
        sm["time_to_first_token_us"] = step_ns[0] / 1e3;
        if (M) {
            sm["decode_us_per_step"] = decode / static_cast<double>(M) / 1e3;
            sm["tokens_per_s_per_sequence"] = static_cast<double>(M) / decode * 1e9;
            sm["tokens_per_s"] = static_cast<double>(M * B) / decode * 1e9;
        }
        nlohmann::json su = nlohmann::json::array();
        for (double x : step_ns) su.push_back(x / 1e3);
        sm["step_us"] = su;
        sm["layers"] = shown;
        return 0;
    }
    sm["layers"] = layers;
    return 0;
}

int model_workload::verify(workload_context& ctx, const params& p, state& st) {
    const graph& g = st.g;
    std::vector<std::vector<float>> data(st.bufs.size());
    for (size_t b = 0; b < st.bufs.size(); ++b) {
        std::vector<uint8_t> raw;
        const auto& bf = st.bufs[b];
        if (st.rt->read(bf.low_only ? st.bufs[b].low : st.bufs[b].f32, raw)) return 1;
        data[b].resize(bf.elems);
        if (bf.low_only) num::to_f32(st.dt, raw.data(), data[b].data(), bf.elems);
        else std::memcpy(data[b].data(), raw.data(), data[b].size() * 4);
    }
    std::map<int, std::vector<float>> unstored;  // outputs of layers fused into the next: the reference's
    auto value = [&](int t) {
        if (st.views[t].buf < 0) return unstored.at(t);
        return gather(data[st.views[t].buf], st.views[t]);
    };
    uint64_t checked = 0;
    if (p.verify_layers)
        for (const layer& l : g.layers) {
            std::vector<std::vector<float>> in;
            for (int t : l.in) in.push_back(value(t));
            if (l.kind == op_kind::cache_write) {  // rows [start, start + T) of the cache hold x in workload.dtype
                const std::vector<float> x = round_to(st.dt, in[0]);
                view rows = st.views[l.out];
                rows.off += l.start * rows.strides[2];
                rows.shape[2] = g.tensors[l.in[0]].shape[2];
                const std::vector<float> got = gather(data[rows.buf], rows);
                for (uint64_t i = 0; i < x.size(); ++i)
                    if (got[i] != x[i]) {
                        ctx.verified = false;
                        ctx.error = fmt::format("verification failed: layer '{}' (cache_write) element {} is {} in the "
                                                "cache, {} in the reference", l.name, i, got[i], x[i]);
                        return 1;
                    }
                ++checked;
                continue;
            }
            const std::vector<float> want = reference(l, g, st.dt, in);
            if (want.empty()) continue;
            if (st.views[l.out].buf < 0) {
                unstored[l.out] = want;
                continue;
            }
            const std::vector<float> got = value(l.out);
            for (uint64_t i = 0; i < want.size(); ++i)
                if (!(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i])))) {
                    ctx.verified = false;
                    ctx.error = fmt::format("verification failed: layer '{}' ({}) element {} is {} on the device, {} "
                                            "in the reference", l.name, op_name(l.kind), i, got[i], want[i]);
                    return 1;
                }
            ++checked;
        }
    ctx.summary["layers_verified"] = checked;
    ctx.verified = p.verify_layers;
    return 0;
}

} // namespace accelvp::model
