// ONNX import (docs/models.md, "ONNX import"): the ModelProto read with Debian's libonnx
// (onnx_proto), each node lowered onto the graph IR with shapes computed layer by layer.
// Initializers and weight-slot graph inputs are parameters (their values are not read: weights
// are seeded random); scalar and shape constants are read.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "platform/workloads/model.h"

namespace accelvp::model {

namespace {

const char* kSupported =
    "Add, AveragePool, Concat, Constant, Conv, Div, Dropout, Erf (the x*0.5*(1+erf(x/sqrt(2))) GELU pattern), "
    "Flatten, Gelu, Gemm, GlobalAveragePool, Identity, LayerNormalization, MatMul, MaxPool, Mul, Relu, Reshape, "
    "Softmax, Squeeze, Transpose, Unsqueeze";

struct onnx_loader {
    std::string path;
    uint64_t symbolic;
    onnx::ModelProto m;
    graph g;
    std::map<std::string, int> ids;                     // value name -> tensor id
    std::map<std::string, std::vector<double>> consts;  // small constants (scalars, shapes)
    std::map<std::string, const onnx::TensorProto*> inits;
    std::map<std::string, int> uses;                    // consumers per value

    [[noreturn]] void fail(const onnx::NodeProto& n, int idx, const std::string& what) const {
        throw config_error(fmt::format("config error: {}: node {} '{}' ({}): {}", path, idx, n.name(), n.op_type(), what));
    }
    static std::vector<double> values(const onnx::TensorProto& t) {
        std::vector<double> v;
        const std::string& raw = t.raw_data();
        switch (t.data_type()) {
        case onnx::TensorProto::FLOAT:
            for (float f : t.float_data()) v.push_back(f);
            for (size_t i = 0; i + 4 <= raw.size(); i += 4) {
                float f;
                std::memcpy(&f, raw.data() + i, 4);
                v.push_back(f);
            }
            break;
        case onnx::TensorProto::INT64:
            for (int64_t x : t.int64_data()) v.push_back(static_cast<double>(x));
            for (size_t i = 0; i + 8 <= raw.size(); i += 8) {
                int64_t x;
                std::memcpy(&x, raw.data() + i, 8);
                v.push_back(static_cast<double>(x));
            }
            break;
        case onnx::TensorProto::DOUBLE:
            for (double x : t.double_data()) v.push_back(x);
            break;
        default: break;
        }
        return v;
    }
    std::vector<uint64_t> dims_of(const onnx::TensorProto& t) const {
        std::vector<uint64_t> d;
        for (int64_t x : t.dims()) d.push_back(static_cast<uint64_t>(x));
        if (d.empty()) d.push_back(1);
        return d;
    }
    const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name) const {
        for (const auto& a : n.attribute())
            if (a.name() == name) return &a;
        return nullptr;
    }
    int64_t iattr(const onnx::NodeProto& n, const char* name, int64_t def) const {
        const auto* a = attr(n, name);
        return a ? a->i() : def;
    }
    std::vector<int64_t> ints(const onnx::NodeProto& n, const char* name) const {
        std::vector<int64_t> v;
        if (const auto* a = attr(n, name))
            for (int64_t x : a->ints()) v.push_back(x);
        return v;
    }
    bool is_const(const std::string& v) const { return consts.count(v) > 0; }
    bool scalar(const std::string& v, double& x) const {
        auto it = consts.find(v);
        if (it == consts.end() || it->second.size() != 1) return false;
        x = it->second[0];
        return true;
    }
    int tensor(const onnx::NodeProto& n, int idx, const std::string& v) {
        auto it = ids.find(v);
        if (it != ids.end()) return it->second;
        auto ii = inits.find(v);
        if (ii != inits.end()) return ids[v] = g.add_tensor(v, dims_of(*ii->second), true);
        fail(n, idx, fmt::format("input '{}' is not produced by any earlier node, input or initializer", v));
    }
    const std::vector<uint64_t>& shape(int t) const { return g.tensors.at(t).shape; }

    void add(const onnx::NodeProto& n, int idx, layer l, const std::string& out) {
        l.origin = fmt::format("{}: node {} '{}' ({})", path, idx, n.name(), n.op_type());
        if (l.name.empty()) l.name = n.name().empty() ? out : n.name();
        if (ids.count(l.name) && l.name != out) l.name = out;
        g.add_layer(std::move(l));
        g.tensors[g.layers.back().out].name = out;
        ids[out] = g.layers.back().out;
    }

    void load() {
        std::ifstream f(path, std::ios::binary);
        if (!f) throw config_error(fmt::format("config error: workload.model: cannot read '{}'", path));
        if (!m.ParseFromIstream(&f))
            throw config_error(fmt::format("config error: workload.model: '{}' is not an ONNX model (protobuf parse failed)", path));
        const auto& gp = m.graph();
        g.name = gp.name().empty() ? path : gp.name();
        g.source = path;
        for (const auto& t : gp.initializer()) {
            inits[t.name()] = &t;
            if (t.dims_size() <= 1 && values(t).size() <= 64 && !values(t).empty()) consts[t.name()] = values(t);
        }
        for (const auto& n : gp.node())
            for (const auto& i : n.input()) ++uses[i];
        // Activation inputs: graph inputs that are the data operand (input 0) of a node other than
        // Add/Mul/Div, and the first graph input; every other graph input is a weight (docs/models.md).
        std::set<std::string> act;
        for (const auto& n : gp.node())
            if (n.input_size() && n.op_type() != "Add" && n.op_type() != "Mul" && n.op_type() != "Div")
                act.insert(n.input(0));
        for (const auto& vi : gp.input())
            if (!inits.count(vi.name())) {
                act.insert(vi.name());
                break;
            }
        for (const auto& vi : gp.input()) {
            if (inits.count(vi.name())) continue;
            std::vector<uint64_t> s;
            for (const auto& d : vi.type().tensor_type().shape().dim())
                s.push_back(d.has_dim_value() && d.dim_value() > 0 ? static_cast<uint64_t>(d.dim_value()) : symbolic);
            if (s.empty()) s.push_back(1);
            const bool p = !act.count(vi.name());
            ids[vi.name()] = g.add_tensor(vi.name(), s, p);
            if (!p) g.inputs.push_back(ids[vi.name()]);
        }
        if (g.inputs.empty()) throw config_error(fmt::format("config error: {}: the graph has no activation input", path));
        std::set<int> fused;
        std::map<std::string, std::string> alias;  // Identity/Dropout
        auto name = [&](const std::string& v) { return alias.count(v) ? alias[v] : v; };
        for (int idx = 0; idx < gp.node_size(); ++idx) {
            if (fused.count(idx)) continue;
            const auto& n = gp.node(idx);
            const std::string& op = n.op_type();
            auto in = [&](int i) {
                if (i >= n.input_size() || n.input(i).empty()) fail(n, idx, fmt::format("input {} is missing", i));
                return tensor(n, idx, name(n.input(i)));
            };
            const std::string out = n.output_size() ? n.output(0) : n.name();
            layer l;
            if (op == "Constant") {
                const auto* a = attr(n, "value");
                if (!a) fail(n, idx, "only Constant with a 'value' tensor is supported");
                consts[out] = values(a->t());
                continue;
            }
            if (op == "Identity" || op == "Dropout") {
                alias[out] = name(n.input(0));
                if (is_const(n.input(0))) consts[out] = consts[n.input(0)];
                continue;
            }
            if (op == "MatMul") {
                l.kind = op_kind::matmul;
                l.in = {in(0), in(1)};
            } else if (op == "Gemm") {
                if (iattr(n, "transA", 0)) fail(n, idx, "transA=1 is not supported");
                const auto* al = attr(n, "alpha");
                const auto* be = attr(n, "beta");
                if ((al && al->f() != 1.0f) || (be && be->f() != 1.0f)) fail(n, idx, "alpha and beta must be 1");
                l.kind = op_kind::matmul;
                l.trans_b = iattr(n, "transB", 0) != 0;
                l.in = {in(0), in(1)};
                if (n.input_size() > 2 && !n.input(2).empty()) {
                    add(n, idx, l, out + ":matmul");
                    layer b;
                    b.kind = op_kind::add;
                    b.name = (n.name().empty() ? out : n.name()) + ":bias";
                    b.in = {ids[out + ":matmul"], in(2)};
                    add(n, idx, b, out);
                    continue;
                }
            } else if (op == "Conv") {
                if (iattr(n, "group", 1) != 1) fail(n, idx, "group != 1 (grouped/depthwise convolution) is not supported");
                for (int64_t d : ints(n, "dilations"))
                    if (d != 1) fail(n, idx, "dilations != 1 are not supported");
                const auto s = ints(n, "strides"), p = ints(n, "pads");
                if (s.size() == 2 && s[0] != s[1]) fail(n, idx, "different strides per axis are not supported");
                if (p.size() == 4 && (p[0] != p[1] || p[0] != p[2] || p[0] != p[3]))
                    fail(n, idx, "asymmetric padding is not supported");
                l.kind = op_kind::conv;
                l.stride = s.empty() ? 1 : static_cast<uint64_t>(s[0]);
                l.pad = p.empty() ? 0 : static_cast<uint64_t>(p[0]);
                l.in = {in(0), in(1)};
                if (n.input_size() > 2 && !n.input(2).empty()) {
                    // Bias per output channel: an add of a parameter of the output's shape (docs/models.md).
                    add(n, idx, l, out + ":conv");
                    const int bias = g.add_tensor(n.input(2), g.tensors[ids[out + ":conv"]].shape, true);
                    layer b;
                    b.kind = op_kind::add;
                    b.name = (n.name().empty() ? out : n.name()) + ":bias";
                    b.in = {ids[out + ":conv"], bias};
                    add(n, idx, b, out);
                    continue;
                }
            } else if (op == "MaxPool" || op == "AveragePool") {
                const auto k = ints(n, "kernel_shape"), s = ints(n, "strides"), p = ints(n, "pads");
                if (k.size() != 2) fail(n, idx, "2-D kernel_shape needed");
                if (p.size() == 4 && (p[0] != p[1] || p[0] != p[2] || p[0] != p[3]))
                    fail(n, idx, "asymmetric padding is not supported");
                if (iattr(n, "ceil_mode", 0)) fail(n, idx, "ceil_mode=1 is not supported");
                l.kind = op == "MaxPool" ? op_kind::maxpool : op_kind::avgpool;
                l.kr = static_cast<uint64_t>(k[0]);
                l.ks = static_cast<uint64_t>(k[1]);
                l.stride = s.empty() ? 1 : static_cast<uint64_t>(s[0]);
                l.pad = p.empty() ? 0 : static_cast<uint64_t>(p[0]);
                l.in = {in(0)};
            } else if (op == "GlobalAveragePool") {
                l.kind = op_kind::global_avgpool;
                l.in = {in(0)};
            } else if (op == "Relu") {
                l.kind = op_kind::relu;
                l.in = {in(0)};
            } else if (op == "Gelu") {
                l.kind = op_kind::gelu;
                l.in = {in(0)};
            } else if (op == "Erf") {
                // x * 0.5 * (1 + erf(x / sqrt(2))): Div/Mul(x, c) -> Erf -> Add(1) -> Mul(x) -> Mul(0.5).
                int x = -1, last = -1;
                if (!match_gelu(idx, x, last, fused)) fail(n, idx, "Erf outside the GELU pattern x*0.5*(1+erf(x/sqrt(2)))");
                l.kind = op_kind::gelu;
                l.in = {x};
                l.name = n.name();
                add(n, idx, l, gp.node(last).output(0));
                continue;
            } else if (op == "Softmax") {
                const int64_t ax = iattr(n, "axis", -1);
                const int t = in(0);
                if (ax != -1 && ax != static_cast<int64_t>(shape(t).size()) - 1)
                    fail(n, idx, "only the last axis is supported");
                l.kind = op_kind::softmax;
                l.in = {t};
            } else if (op == "LayerNormalization") {
                const int t = in(0);
                const int64_t ax = iattr(n, "axis", -1);
                if (ax != -1 && ax != static_cast<int64_t>(shape(t).size()) - 1)
                    fail(n, idx, "only the last axis is supported");
                const auto* ep = attr(n, "epsilon");
                l.kind = op_kind::layernorm;
                l.eps = ep ? ep->f() : 1e-5f;
                l.in = {t};
                if (n.input_size() > 1) l.in.push_back(in(1));
                if (n.input_size() > 2 && !n.input(2).empty()) l.in.push_back(in(2));
                if (l.in.size() == 2) fail(n, idx, "LayerNormalization with a scale needs a bias too");
            } else if (op == "Add" || op == "Mul" || op == "Div") {
                double c;
                const bool c1 = scalar(name(n.input(1)), c), c0 = !c1 && scalar(name(n.input(0)), c);
                if (c0 || c1) {
                    l.kind = op == "Add" ? op_kind::shift : op_kind::scale;
                    l.scalar = static_cast<float>(op == "Div" ? 1.0 / c : c);
                    if (op == "Div" && c0) fail(n, idx, "a constant divided by a tensor is not supported");
                    l.in = {in(c1 ? 0 : 1)};
                } else {
                    if (op == "Div") fail(n, idx, "Div of two tensors is not supported");
                    l.kind = op == "Add" ? op_kind::add : op_kind::mul;
                    int a = in(0), b = in(1);
                    if (g.tensors[a].param) std::swap(a, b);
                    l.in = {a, b};
                }
            } else if (op == "Transpose") {
                const int t = in(0);
                auto p = ints(n, "perm");
                l.kind = op_kind::transpose;
                if (p.empty())
                    for (size_t i = shape(t).size(); i-- > 0;) l.perm.push_back(i);
                for (int64_t x : p) l.perm.push_back(static_cast<uint64_t>(x));
                l.in = {t};
            } else if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") {
                const int t = in(0);
                const auto& s = shape(t);
                std::vector<int64_t> want;
                if (op == "Reshape") {
                    if (n.input_size() < 2 || !is_const(name(n.input(1))))
                        fail(n, idx, "the target shape must be a constant");
                    for (double d : consts[name(n.input(1))]) want.push_back(static_cast<int64_t>(d));
                    for (size_t i = 0; i < want.size(); ++i)
                        if (want[i] == 0) want[i] = i < s.size() ? static_cast<int64_t>(s[i]) : 1;
                } else if (op == "Flatten") {
                    int64_t ax = iattr(n, "axis", 1);
                    if (ax < 0) ax += static_cast<int64_t>(s.size());
                    uint64_t a = 1, b = 1;
                    for (size_t i = 0; i < s.size(); ++i) (static_cast<int64_t>(i) < ax ? a : b) *= s[i];
                    want = {static_cast<int64_t>(a), static_cast<int64_t>(b)};
                } else {
                    std::vector<int64_t> axes = ints(n, "axes");
                    if (axes.empty() && n.input_size() > 1 && is_const(name(n.input(1))))
                        for (double d : consts[name(n.input(1))]) axes.push_back(static_cast<int64_t>(d));
                    const int64_t r = static_cast<int64_t>(s.size()) + (op == "Unsqueeze" ? static_cast<int64_t>(axes.size()) : 0);
                    for (auto& a : axes) {
                        if (a < 0) a += r;
                        if (a < 0 || a >= r) fail(n, idx, fmt::format("axis out of range for rank {}", r));
                    }
                    if (std::set<int64_t>(axes.begin(), axes.end()).size() != axes.size()) fail(n, idx, "repeated axes");
                    if (op == "Squeeze") {
                        for (size_t i = 0; i < s.size(); ++i) {
                            const bool drop = axes.empty() ? s[i] == 1
                                                           : std::find(axes.begin(), axes.end(), static_cast<int64_t>(i)) != axes.end();
                            if (!drop) want.push_back(static_cast<int64_t>(s[i]));
                        }
                    } else {
                        size_t j = 0;
                        for (int64_t i = 0; i < r; ++i)
                            want.push_back(std::find(axes.begin(), axes.end(), i) != axes.end() ? 1 : static_cast<int64_t>(s[j++]));
                    }
                }
                uint64_t known = 1, total = g.tensors[t].numel();
                int infer = -1;
                for (size_t i = 0; i < want.size(); ++i) {
                    if (want[i] == -1) infer = static_cast<int>(i);
                    else if (want[i] > 0) known *= static_cast<uint64_t>(want[i]);
                    else fail(n, idx, "bad target shape");
                }
                l.kind = op_kind::reshape;
                for (int64_t w : want) l.perm.push_back(w < 0 ? (known ? total / known : 0) : static_cast<uint64_t>(w));
                (void)infer;
                if (l.perm.empty()) l.perm.push_back(1);
                l.in = {t};
            } else if (op == "Concat") {
                int64_t ax = iattr(n, "axis", 0);
                for (int i = 0; i < n.input_size(); ++i) l.in.push_back(in(i));
                if (ax < 0) ax += static_cast<int64_t>(shape(l.in[0]).size());
                l.kind = op_kind::concat;
                l.axis = static_cast<uint64_t>(ax);
            } else {
                fail(n, idx, fmt::format("operator '{}' is not supported; supported: {}", op, kSupported));
            }
            add(n, idx, l, out);
        }
    }

    // The node consuming value v, if exactly one does.
    int only_consumer(const std::string& v, int after) const {
        const auto& gp = m.graph();
        int found = -1;
        for (int i = after + 1; i < gp.node_size(); ++i)
            for (const auto& in : gp.node(i).input())
                if (in == v) {
                    if (found >= 0 && found != i) return -1;
                    found = i;
                }
        return found;
    }
    bool match_gelu(int erf, int& x, int& last, std::set<int>& fused) {
        const auto& gp = m.graph();
        const auto& e = gp.node(erf);
        // The producer of erf's input: Div(x, sqrt2) or Mul(x, 1/sqrt2), already lowered as a scale layer.
        auto it = ids.find(e.input(0));
        if (it == ids.end()) return false;
        int sc = -1;
        for (size_t i = 0; i < g.layers.size(); ++i)
            if (g.layers[i].out == it->second && g.layers[i].kind == op_kind::scale &&
                std::fabs(g.layers[i].scalar - 0.70710678f) < 1e-4f)
                sc = static_cast<int>(i);
        if (sc < 0) return false;
        x = g.layers[sc].in[0];
        const std::string xname = g.tensors[x].name;
        double c;
        const int add = only_consumer(e.output(0), erf);
        if (add < 0 || gp.node(add).op_type() != "Add") return false;
        const auto& an = gp.node(add);
        if (!(scalar(an.input(0), c) || scalar(an.input(1), c)) || c != 1.0) return false;
        int m1 = only_consumer(an.output(0), add);
        if (m1 < 0 || gp.node(m1).op_type() != "Mul") return false;
        int m2 = only_consumer(gp.node(m1).output(0), m1);
        if (m2 < 0 || gp.node(m2).op_type() != "Mul") return false;
        // One of the two Muls multiplies by x, the other by 0.5.
        auto has = [&](int i, const std::string& v) { return gp.node(i).input(0) == v || gp.node(i).input(1) == v; };
        auto half = [&](int i) {
            double h;
            return (scalar(gp.node(i).input(0), h) || scalar(gp.node(i).input(1), h)) && h == 0.5;
        };
        if (!((has(m1, xname) && half(m2)) || (half(m1) && has(m2, xname)))) return false;
        if (sc + 1 == static_cast<int>(g.layers.size()) && uses[e.input(0)] == 1) g.layers.pop_back();  // x/sqrt(2): inside the GELU
        fused.insert(add);
        fused.insert(m1);
        fused.insert(m2);
        last = m2;
        return true;
    }
};

} // namespace

graph load_onnx(const std::string& path, uint64_t symbolic_dim) {
    onnx_loader o;
    o.path = path;
    o.symbolic = symbolic_dim;
    o.load();
    return std::move(o.g);
}

} // namespace accelvp::model
