// The model graph IR: shapes of each layer, and the layer-list YAML loader (docs/models.md).
#include <algorithm>
#include <fstream>
#include <numeric>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "platform/workloads/model.h"

namespace accelvp::model {

namespace {
const std::vector<std::pair<op_kind, const char*>> kOps = {
    {op_kind::matmul, "matmul"},       {op_kind::conv, "conv"},         {op_kind::maxpool, "maxpool"},
    {op_kind::avgpool, "avgpool"},     {op_kind::global_avgpool, "global_avgpool"},
    {op_kind::add, "add"},             {op_kind::mul, "mul"},           {op_kind::scale, "scale"},
    {op_kind::shift, "shift"},         {op_kind::relu, "relu"},         {op_kind::gelu, "gelu"},
    {op_kind::softmax, "softmax"},     {op_kind::layernorm, "layernorm"}, {op_kind::transpose, "transpose"},
    {op_kind::reshape, "reshape"},     {op_kind::concat, "concat"},     {op_kind::slice, "slice"},
    {op_kind::cache_write, "cache_write"}};

std::string shape_str(const std::vector<uint64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }
} // namespace

const char* op_name(op_kind k) {
    for (const auto& [o, n] : kOps)
        if (o == k) return n;
    return "?";
}

std::string op_names() {
    std::string s;
    for (const auto& [o, n] : kOps)
        if (o != op_kind::cache_write) s += (s.empty() ? "" : ", ") + std::string(n);
    return s;
}

uint64_t tensor::numel() const {
    return std::accumulate(shape.begin(), shape.end(), uint64_t{1}, std::multiplies<uint64_t>());
}

int graph::add_tensor(const std::string& n, std::vector<uint64_t> shape, bool param) {
    tensor t;
    t.name = n;
    t.shape = std::move(shape);
    t.param = param;
    tensors.push_back(std::move(t));
    return static_cast<int>(tensors.size()) - 1;
}

uint64_t graph::weights() const {
    uint64_t n = 0;
    for (const auto& t : tensors)
        if (t.param && t.const_fill == tensor::fill::random) n += t.numel();
    return n;
}

void graph::add_layer(layer l) {
    auto fail = [&](const std::string& what) {
        throw config_error(fmt::format("config error: {}: layer '{}' ({}): {}", l.origin, l.name, op_name(l.kind), what));
    };
    auto need = [&](size_t n) {
        if (l.in.size() != n) fail(fmt::format("takes {} input(s), got {}", n, l.in.size()));
    };
    auto shp = [&](size_t i) -> const std::vector<uint64_t>& { return tensors.at(l.in.at(i)).shape; };
    std::vector<uint64_t> out;
    switch (l.kind) {
    case op_kind::matmul: {
        need(2);
        const auto &a = shp(0), &b = shp(1);
        if (a.size() < 2 || b.size() < 2) fail("both operands need rank >= 2");
        const uint64_t M = a[a.size() - 2], K = a.back();
        const uint64_t bk = l.trans_b ? b.back() : b[b.size() - 2], N = l.trans_b ? b[b.size() - 2] : b.back();
        if (bk != K)
            fail(fmt::format("inner dimensions differ: A {} and B {}{}", shape_str(a), shape_str(b),
                             l.trans_b ? " (trans_b)" : ""));
        if (b.size() > 2 && !std::equal(a.begin(), a.end() - 2, b.begin(), b.end() - 2))
            fail(fmt::format("batch dimensions differ: A {} and B {} (B is either 2-D or has A's batch dimensions)",
                             shape_str(a), shape_str(b)));
        out.assign(a.begin(), a.end() - 2);
        out.push_back(M);
        out.push_back(N);
        break;
    }
    case op_kind::conv: {
        need(2);
        const auto &x = shp(0), &w = shp(1);
        if (x.size() != 4 || w.size() != 4) fail("input [N, C, H, W] and weight [K, C, R, S] needed");
        if (w[1] != x[1]) fail(fmt::format("weight {} has {} input channels, input {} has {}", shape_str(w), w[1],
                                           shape_str(x), x[1]));
        l.kr = w[2];
        l.ks = w[3];
        [[fallthrough]];
    }
    case op_kind::maxpool:
    case op_kind::avgpool: {
        if (l.kind != op_kind::conv) need(1);
        const auto& x = shp(0);
        if (x.size() != 4) fail("input [N, C, H, W] needed, got " + shape_str(x));
        if (l.stride == 0) fail("stride must be >= 1");
        if (l.pad >= l.kr || l.pad >= l.ks)
            fail(fmt::format("padding {} must be smaller than the kernel {}x{}", l.pad, l.kr, l.ks));
        if (x[2] + 2 * l.pad < l.kr || x[3] + 2 * l.pad < l.ks)
            fail(fmt::format("kernel {}x{} larger than the padded input {}", l.kr, l.ks, shape_str(x)));
        const uint64_t K = l.kind == op_kind::conv ? shp(1)[0] : x[1];
        out = {x[0], K, (x[2] + 2 * l.pad - l.kr) / l.stride + 1, (x[3] + 2 * l.pad - l.ks) / l.stride + 1};
        break;
    }
    case op_kind::global_avgpool: {
        need(1);
        const auto& x = shp(0);
        if (x.size() != 4) fail("input [N, C, H, W] needed, got " + shape_str(x));
        out = {x[0], x[1], 1, 1};
        break;
    }
    case op_kind::add:
    case op_kind::mul: {
        need(2);
        out = shp(0);
        const auto& b = shp(1);
        const bool row = tensors.at(l.in[1]).param && b.size() >= 1 &&
                         std::accumulate(b.begin(), b.end(), uint64_t{1}, std::multiplies<uint64_t>()) == out.back();
        if (b != out && !row)
            fail(fmt::format("shapes {} and {} differ (only equal shapes, or a parameter of one row, broadcast)",
                             shape_str(out), shape_str(b)));
        break;
    }
    case op_kind::scale:
    case op_kind::shift:
    case op_kind::relu:
    case op_kind::gelu:
    case op_kind::softmax:
        need(1);
        out = shp(0);
        break;
    case op_kind::layernorm: {
        if (l.in.size() != 1 && l.in.size() != 3) fail(fmt::format("takes 1 or 3 inputs, got {}", l.in.size()));
        out = shp(0);
        for (size_t i = 1; i < l.in.size(); ++i)
            if (tensors.at(l.in[i]).numel() != out.back())
                fail(fmt::format("scale/bias {} must have the last dimension's {} elements", shape_str(shp(i)),
                                 out.back()));
        break;
    }
    case op_kind::transpose: {
        need(1);
        const auto& x = shp(0);
        std::vector<uint64_t> sorted = l.perm;
        std::sort(sorted.begin(), sorted.end());
        std::vector<uint64_t> want(x.size());
        std::iota(want.begin(), want.end(), 0);
        if (sorted != want) fail(fmt::format("perm {} is not a permutation of the {} axes", shape_str(l.perm), x.size()));
        for (uint64_t p : l.perm) out.push_back(x[p]);
        break;
    }
    case op_kind::reshape: {
        need(1);
        out = l.perm;  // the target shape (resolved by the loaders)
        const uint64_t a = tensors.at(l.in[0]).numel();
        const uint64_t b = std::accumulate(out.begin(), out.end(), uint64_t{1}, std::multiplies<uint64_t>());
        if (a != b) fail(fmt::format("cannot reshape {} ({} elements) to {}", shape_str(shp(0)), a, shape_str(out)));
        break;
    }
    case op_kind::slice: {
        need(1);
        out = shp(0);
        if (l.axis >= out.size() || l.len == 0 || l.start + l.len > out[l.axis])
            fail(fmt::format("slice [{}, {}) of axis {} out of range for {}", l.start, l.start + l.len, l.axis,
                             shape_str(out)));
        out[l.axis] = l.len;
        break;
    }
    case op_kind::cache_write: {
        need(2);
        const auto &x = shp(0), &c = shp(1);
        if (x.size() != 4 || c.size() != 4 || x[0] != c[0] || x[1] != c[1] || x[3] != c[3] || l.start + x[2] > c[2])
            fail(fmt::format("{} does not fit the cache {} at position {}", shape_str(x), shape_str(c), l.start));
        out = c;
        break;
    }
    case op_kind::concat: {
        if (l.in.empty()) fail("needs inputs");
        out = shp(0);
        if (l.axis >= out.size()) fail(fmt::format("axis {} out of range for {}", l.axis, shape_str(out)));
        for (size_t i = 1; i < l.in.size(); ++i) {
            const auto& s = shp(i);
            if (s.size() != out.size()) fail("inputs of different rank");
            for (size_t d = 0; d < s.size(); ++d)
                if (d != l.axis && s[d] != out[d])
                    fail(fmt::format("input {} differs from {} outside axis {}", shape_str(s), shape_str(out), l.axis));
            out[l.axis] += s[l.axis];
        }
        break;
    }
    }
    for (uint64_t d : out)
        if (d == 0) fail("a zero-sized dimension in the output " + shape_str(out));
    l.out = add_tensor(l.name, out, false);
    layers.push_back(std::move(l));
}

// ---- layer-list YAML ---------------------------------------------------------------------

namespace {

struct yaml_loader {
    std::string path;
    graph g;
    std::map<std::string, int> names;  // tensor names -> id

    std::string at(const YAML::Node& n) const { return fmt::format("{}:{}", path, n.Mark().line + 1); }
    [[noreturn]] void fail(const YAML::Node& n, const std::string& what) const {
        throw config_error(fmt::format("config error: {}: {}", at(n), what));
    }
    uint64_t u64(const YAML::Node& n, const std::string& key, uint64_t min = 0) const {
        try {
            const int64_t v = n.as<int64_t>();
            if (v < static_cast<int64_t>(min)) fail(n, fmt::format("'{}' must be >= {}, got {}", key, min, v));
            return static_cast<uint64_t>(v);
        } catch (const YAML::Exception&) {
            fail(n, fmt::format("'{}' must be an integer", key));
        }
    }
    bool boolean(const YAML::Node& n, const std::string& key) const {
        try {
            return n.as<bool>();
        } catch (const YAML::Exception&) {
            fail(n, fmt::format("'{}' must be true or false", key));
        }
    }
    float real(const YAML::Node& n, const std::string& key) const {
        try {
            return n.as<float>();
        } catch (const YAML::Exception&) {
            fail(n, fmt::format("'{}' must be a number", key));
        }
    }
    std::vector<uint64_t> shape(const YAML::Node& n, const std::string& key) const {
        if (!n.IsSequence() || n.size() == 0) fail(n, fmt::format("'{}' must be a list of dimensions, e.g. [1, 768]", key));
        std::vector<uint64_t> s;
        for (const auto& d : n) s.push_back(u64(d, key, 1));
        return s;
    }
    int tensor_ref(const YAML::Node& n) const {
        const std::string s = n.as<std::string>();
        auto it = names.find(s);
        if (it == names.end()) {
            std::string known;
            for (const auto& [k, v] : names) known += (known.empty() ? "" : ", ") + k;
            fail(n, fmt::format("unknown input '{}'; defined so far: {}", s, known));
        }
        return it->second;
    }

    void load() {
        YAML::Node root;
        try {
            root = YAML::LoadFile(path);
        } catch (const YAML::BadFile&) {
            throw config_error(fmt::format("config error: workload.layers: cannot read '{}'", path));
        } catch (const YAML::Exception& ex) {
            throw config_error(fmt::format("config error: {}:{}: {}", path, ex.mark.line + 1, ex.msg));
        }
        if (!root.IsMap()) throw config_error(fmt::format("config error: {}: expected a map with 'inputs' and 'layers'", path));
        const std::set<std::string> top = {"name", "inputs", "layers"};
        for (const auto& kv : root)
            if (!top.count(kv.first.as<std::string>()))
                fail(kv.first, fmt::format("unknown key '{}'; valid keys: inputs, layers, name", kv.first.as<std::string>()));
        g.name = root["name"] ? root["name"].as<std::string>() : path;
        g.source = path;
        if (!root["inputs"] || !root["inputs"].IsSequence() || root["inputs"].size() == 0)
            throw config_error(fmt::format("config error: {}: 'inputs' (a list of {{name, shape}}) is missing", path));
        if (!root["layers"] || !root["layers"].IsSequence() || root["layers"].size() == 0)
            throw config_error(fmt::format("config error: {}: 'layers' (a list of layers) is missing", path));
        int prev = -1;
        for (const auto& in : root["inputs"]) {
            if (!in.IsMap() || !in["name"] || !in["shape"]) fail(in, "an input needs 'name' and 'shape'");
            for (const auto& kv : in)
                if (kv.first.as<std::string>() != "name" && kv.first.as<std::string>() != "shape")
                    fail(kv.first, fmt::format("unknown key '{}'; valid keys: name, shape", kv.first.as<std::string>()));
            const std::string n = in["name"].as<std::string>();
            if (names.count(n)) fail(in, fmt::format("name '{}' defined twice", n));
            prev = names[n] = g.add_tensor(n, shape(in["shape"], "shape"), false);
            g.inputs.push_back(prev);
        }
        const std::map<std::string, std::set<std::string>> keys = {
            {"matmul", {"n", "trans_b", "bias"}},
            {"conv", {"filters", "kernel", "stride", "pad"}},
            {"maxpool", {"kernel", "stride", "pad"}},
            {"avgpool", {"kernel", "stride", "pad"}},
            {"global_avgpool", {}},
            {"add", {}},
            {"mul", {}},
            {"scale", {"scalar"}},
            {"shift", {"scalar"}},
            {"relu", {}},
            {"gelu", {}},
            {"softmax", {"scale"}},
            {"layernorm", {"eps", "affine"}},
            {"transpose", {"perm"}},
            {"reshape", {"shape"}},
            {"concat", {"axis"}},
            {"slice", {"axis", "start", "len"}}};
        for (const auto& n : root["layers"]) {
            if (!n.IsMap() || !n["op"]) fail(n, "a layer needs 'op' (one of " + op_names() + ")");
            const std::string ops = n["op"].as<std::string>();
            auto kit = keys.find(ops);
            if (kit == keys.end()) fail(n["op"], fmt::format("unknown op '{}'; valid ops: {}", ops, op_names()));
            layer l;
            for (const auto& [k, name] : kOps)
                if (ops == name) l.kind = k;
            l.origin = at(n);
            l.name = n["name"] ? n["name"].as<std::string>() : fmt::format("{}{}", ops, g.layers.size());
            if (names.count(l.name)) fail(n, fmt::format("name '{}' defined twice", l.name));
            std::string valid = "name, op, input, inputs";
            for (const auto& k : kit->second) valid += ", " + k;
            for (const auto& kv : n) {
                const std::string k = kv.first.as<std::string>();
                if (k != "name" && k != "op" && k != "input" && k != "inputs" && !kit->second.count(k))
                    fail(kv.first, fmt::format("layer '{}' ({}): unknown key '{}'; valid keys: {}", l.name, ops, k, valid));
            }
            if (n["input"] && n["inputs"]) fail(n, "give 'input' or 'inputs', not both");
            if (n["inputs"]) {
                if (!n["inputs"].IsSequence()) fail(n["inputs"], "'inputs' must be a list of names");
                for (const auto& r : n["inputs"]) l.in.push_back(tensor_ref(r));
            } else if (n["input"]) {
                l.in.push_back(tensor_ref(n["input"]));
            } else {
                l.in.push_back(prev);  // the previous layer's output (or the last input)
            }
            auto kernel = [&](const YAML::Node& k) {
                if (k.IsSequence()) {
                    const auto s = shape(k, "kernel");
                    if (s.size() != 2) fail(k, "'kernel' is one size or [r, s]");
                    l.kr = s[0];
                    l.ks = s[1];
                } else {
                    l.kr = l.ks = u64(k, "kernel", 1);
                }
            };
            auto req = [&](const char* key) {
                if (!n[key]) fail(n, fmt::format("layer '{}' ({}) needs '{}'", l.name, ops, key));
                return n[key];
            };
            auto param = [&](const std::string& suffix, std::vector<uint64_t> s) {
                l.in.push_back(g.add_tensor(l.name + "." + suffix, std::move(s), true));
            };
            auto in_shape = [&]() { return g.tensors.at(l.in.at(0)).shape; };
            if (n["stride"]) l.stride = u64(n["stride"], "stride", 1);
            if (n["pad"]) l.pad = u64(n["pad"], "pad");
            switch (l.kind) {
            case op_kind::matmul:
                if (n["trans_b"]) l.trans_b = boolean(n["trans_b"], "trans_b");
                if (n["n"]) {
                    if (l.in.size() != 1) fail(n, "'n' (a weight [K, n]) goes with one input");
                    const auto s = in_shape();
                    l.in.push_back(g.add_tensor(l.name + ".weight", {s.back(), u64(n["n"], "n", 1)}, true));
                    if (l.trans_b) std::swap(g.tensors.back().shape[0], g.tensors.back().shape[1]);
                } else if (l.in.size() != 2) {
                    fail(n, fmt::format("layer '{}' (matmul) needs 'n' (output features, a weight) or 'inputs' (two "
                                        "activations)", l.name));
                }
                break;
            case op_kind::conv: {
                kernel(req("kernel"));
                const auto s = in_shape();
                if (s.size() != 4) fail(n, "conv input must be [N, C, H, W]");
                param("weight", {u64(req("filters"), "filters", 1), s[1], l.kr, l.ks});
                break;
            }
            case op_kind::maxpool:
            case op_kind::avgpool:
                kernel(req("kernel"));
                break;
            case op_kind::scale:
            case op_kind::shift:
                l.scalar = real(req("scalar"), "scalar");
                break;
            case op_kind::softmax:
                if (n["scale"]) l.scalar = real(n["scale"], "scale");
                break;
            case op_kind::layernorm:
                if (n["eps"]) l.eps = real(n["eps"], "eps");
                if (n["affine"] && boolean(n["affine"], "affine")) {
                    const uint64_t c = in_shape().back();
                    param("gamma", {c});
                    param("beta", {c});
                }
                break;
            case op_kind::transpose:
                if (!req("perm").IsSequence()) fail(n["perm"], "'perm' must be a list of axes, e.g. [0, 2, 1, 3]");
                for (const auto& a : n["perm"]) l.perm.push_back(u64(a, "perm"));
                break;
            case op_kind::reshape: {
                const auto& sn = req("shape");
                if (!sn.IsSequence()) fail(sn, "'shape' must be a list (one -1 allowed)");
                const uint64_t total = g.tensors.at(l.in.at(0)).numel();
                uint64_t known = 1;
                int infer = -1;
                for (size_t i = 0; i < sn.size(); ++i) {
                    int64_t v = 0;
                    try {
                        v = sn[i].as<int64_t>();
                    } catch (const YAML::Exception&) {
                        fail(sn[i], "'shape' entries are integers");
                    }
                    if (v == -1 && infer < 0) infer = static_cast<int>(i), l.perm.push_back(1);
                    else if (v >= 1) l.perm.push_back(static_cast<uint64_t>(v)), known *= static_cast<uint64_t>(v);
                    else fail(sn[i], "'shape' entries are >= 1, or one -1");
                }
                if (infer >= 0) l.perm[infer] = known ? total / known : 0;
                break;
            }
            case op_kind::concat:
                if (n["axis"]) l.axis = u64(n["axis"], "axis");
                break;
            case op_kind::slice:
                l.axis = u64(req("axis"), "axis");
                l.start = n["start"] ? u64(n["start"], "start") : 0;
                l.len = u64(req("len"), "len", 1);
                break;
            default:
                break;
            }
            const std::string lname = l.name;
            const bool bias = l.kind == op_kind::matmul && n["bias"] && boolean(n["bias"], "bias");
            const std::string origin = l.origin;
            g.add_layer(std::move(l));
            if (bias) {  // + a bias row: a layer of its own (fused with the vector layers after it)
                layer b;
                b.name = lname + ".bias";
                b.kind = op_kind::add;
                b.origin = origin;
                b.in = {g.layers.back().out, g.add_tensor(lname + ".b", {g.tensors[g.layers.back().out].shape.back()}, true)};
                g.add_layer(std::move(b));
            }
            prev = names[lname] = g.layers.back().out;
        }
    }
};

} // namespace

graph load_layer_list(const std::string& path) {
    yaml_loader y;
    y.path = path;
    try {
        y.load();
    } catch (const YAML::Exception& ex) {  // a value of the wrong type (e.g. trans_b: maybe)
        throw config_error(fmt::format("config error: {}:{}: {}", path, ex.mark.line + 1, ex.msg));
    }
    return std::move(y.g);
}

} // namespace accelvp::model
