// Whole models (docs/models.md): a graph IR of layers with shapes, loaded from a layer-list
// YAML file (workload `model`) or lowered from an ONNX file (workload `onnx`), and an executor
// that runs it layer by layer through compiler-lite (compute_runner: GEMMs, vector phases,
// DMA im2col and strided copies), with a per-layer record (device time, bound, utilization,
// HBM bytes) and, in functional mode, every layer verified against a host reference computed
// from the layer's device inputs.
//
// Numerics: activations live in device memory in fp32; a GEMM (MatMul, Conv) reads its
// operands in workload.dtype (a CONVERT, fused into the producing vector phase when there is
// one), accumulates in fp32 and writes fp32. Weights are seeded-random (timing does not depend
// on them). Reshape/Flatten/Squeeze and Transpose are views (strides), free until an operation
// needs contiguous data (then a DMA copy, "materialize").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/workloads/compute_run.h"
#include "platform/workloads/workload.h"

namespace accelvp::model {

enum class op_kind {
    matmul, conv, maxpool, avgpool, global_avgpool, add, mul, scale, shift, relu, gelu, softmax, layernorm,
    transpose, reshape, concat,
    slice,       // a view: `len` elements from `start` along `axis`
    cache_write  // in[0] [B, H, T, d] into the KV cache in[1] [B, H, max, d] at position `start` (workload decoder)
};
const char* op_name(op_kind k);
// The layer-list names of the ops, for error messages ("matmul, conv, ...").
std::string op_names();

struct tensor {
    std::string name;
    std::vector<uint64_t> shape;
    bool param = false;  // a weight (seeded random), or a constant the lowering made (const_fill)
    bool state = false;  // device state kept in workload.dtype only, zero at the start (a KV cache)
    // Constants of the lowering (not random): none, selection matrix, all 1/n.
    enum class fill { random, select, mean } const_fill = fill::random;
    uint64_t sel_stride = 1;  // fill::select: (q*stride, q) = 1
    uint64_t numel() const;
};

struct layer {
    std::string name;
    op_kind kind = op_kind::relu;
    std::vector<int> in;  // tensor ids
    int out = -1;
    std::string origin;   // where it came from, for errors: "net.yaml:12" or "ONNX node 'x' (MatMul)"
    // Attributes.
    bool trans_b = false;                    // matmul: B stored [.., N, K]
    uint64_t kr = 1, ks = 1, stride = 1, pad = 0;  // conv (kr, ks from the weight), pooling
    float scalar = 1.0f;                     // scale (x * scalar), shift (x + scalar), softmax pre-scale
    float eps = 1e-5f;                       // layernorm
    std::vector<uint64_t> perm;              // transpose
    uint64_t axis = 0;                       // concat, slice
    uint64_t start = 0, len = 0;             // slice, cache_write (start)
    int step = -1;                           // workload decoder: 0 = prefill, s = decode step s
};

struct graph {
    std::string name, source;
    std::vector<tensor> tensors;
    std::vector<layer> layers;
    std::vector<int> inputs;  // activation inputs (seeded random)
    int add_tensor(const std::string& name, std::vector<uint64_t> shape, bool param);
    // Sets l.out (a new tensor named after the layer) from the inputs' shapes; throws
    // config_error naming l.origin, the layer and what is wrong.
    void add_layer(layer l);
    uint64_t weights() const;  // parameter elements (random ones)
};

struct model_params {
    std::string layers, model;  // workload.layers (model) / workload.model (onnx)
    std::string dtype = "bf16";
    uint64_t batch = 1;
    // workload decoder: a GPT-2-small-shaped decoder, prefill of `prompt` tokens then `tokens` decode steps.
    uint64_t n_layers = 12, hidden = 768, heads = 12, ffn = 3072, vocab = 50257, prompt = 128, tokens = 128;
    bool verify_layers = true;
    double timeout_ms = 600000;
};

struct model_state {
    std::unique_ptr<compute_runner> rt;
    graph g;
    num::dtype dt = num::dtype::bf16;
    struct buffer {
        device_buffer f32, low;  // fp32 data; workload.dtype copy for GEMMs
        bool low_valid = false, low_only = false;  // low_only: state (KV cache), no fp32 copy
        uint64_t elems = 0, cols = 1;
    };
    struct view {
        int buf = -1;
        uint64_t off = 0;  // elements
        std::vector<uint64_t> shape, strides;
    };
    std::vector<buffer> bufs;
    std::vector<view> views;                  // per tensor
    std::vector<std::vector<uint8_t>> host;   // functional: generated inputs/params (workload.dtype, fp32 for consts)
    double flops = 0;
};

// Loaders (throw config_error: file, line or node, key, valid values).
graph load_layer_list(const std::string& path);
graph load_onnx(const std::string& path, uint64_t symbolic_dim);
// The decoder's graph: step 0 the prefill, steps 1..tokens one token each, KV caches as state.
graph build_decoder(const model_params& p);

class model_workload : public staged_workload<model_params, model_state> {
public:
    enum class source { layers, onnx, decoder };
    explicit model_workload(source s) : src_(s) {}
    std::string name() const override {
        return src_ == source::onnx ? "onnx" : src_ == source::decoder ? "decoder" : "model";
    }
    std::string description() const override {
        switch (src_) {
        case source::onnx: return "a whole model from an ONNX file, lowered to compiler-lite layer by layer, per-layer report";
        case source::decoder:
            return "decoder LLM (GPT-2-small shape): prefill, then token-by-token decode with a KV cache in device "
                   "memory; time to first token, tokens/s";
        default: return "a whole model from a layer-list YAML file (workload.layers), per-layer report";
        }
    }
    const param_table<model_params>& table() const override;

protected:
    void validate(const params& p, const config& c) const override;
    int plan(workload_context& ctx, const params& p, state& st) override;
    int submit(workload_context& ctx, const params& p, state& st) override;
    int verify(workload_context& ctx, const params& p, state& st) override;

private:
    source src_;
    graph load(const params& p) const;
};

} // namespace accelvp::model
