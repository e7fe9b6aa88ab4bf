// transformer-layer: one BERT-style encoder layer on the compute clusters (docs/compute.md,
// "transformer-layer"): QKV projection, attention per head, output projection, residual add +
// layernorm, MLP with GELU, residual add + layernorm. GEMMs in workload.dtype with fp32
// outputs, vector phases in fp32 converting back to dtype where a GEMM consumes the result.
// No biases; layernorm without gamma/beta. Verified bit-exact against a host reference of the
// same num:: operations (functional mode).
#pragma once

#include "platform/workloads/workload.h"

namespace accelvp {

class transformer_workload : public workload {
public:
    std::string name() const override { return "transformer-layer"; }
    std::string description() const override {
        return "BERT-style encoder layer (QKV, attention, projection, layernorm, GELU MLP), verified";
    }
    void declare(param_schema& s) const override;
    int run(workload_context& ctx) override;
};

} // namespace accelvp
