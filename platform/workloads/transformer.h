// transformer-layer: one BERT-style encoder layer on the compute clusters (docs/compute.md,
// "transformer-layer"): QKV projection, attention per head, output projection, residual add +
// layernorm, MLP with GELU, residual add + layernorm. GEMMs in workload.dtype with fp32
// outputs, vector phases in fp32 converting back to dtype where a GEMM consumes the result.
// No biases; layernorm without gamma/beta. Verified bit-exact against a host reference of the
// same num:: operations (functional mode).
#pragma once

#include <memory>
#include <vector>

#include "platform/workloads/attention.h"
#include "platform/workloads/compute_run.h"
#include "platform/workloads/workload.h"

namespace accelvp {

struct transformer_params {
    uint64_t hidden = 768, heads = 12, mlp = 3072, seq = 512, batch = 1;
    std::string dtype = "bf16";
    double timeout_ms = 60000;
    static const param_table<transformer_params>& table();
};

struct transformer_state {
    std::unique_ptr<compute_runner> rt;
    num::dtype dt = num::dtype::bf16;
    attention_shape at;
    device_buffer X, X32, Wqkv, Wo, W1, W2, QKV, QKVb, S, P, Ctx, Ctxb, A, Y1, Y1b, H1, H1b, H2, Out;
    std::vector<uint8_t> x, x32, wqkv, wo, w1, w2;  // the inputs as generated (functional mode)
};

class transformer_workload : public staged_workload<transformer_params, transformer_state> {
public:
    std::string name() const override { return "transformer-layer"; }
    std::string description() const override {
        return "BERT-style encoder layer (QKV, attention, projection, layernorm, GELU MLP), verified";
    }

protected:
    // workload.heads divides workload.hidden.
    void validate(const params& p, const config& c) const override;
    int plan(workload_context& ctx, const params& p, state& st) override;
    int submit(workload_context& ctx, const params& p, state& st) override;
    int verify(workload_context& ctx, const params& p, state& st) override;
};

} // namespace accelvp
