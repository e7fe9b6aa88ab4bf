// Vector engine: `lanes` elements per cycle through a `depth`-stage pipeline, executing
// AAX VEC packets (elementwise ops, conversions, row reductions, softmax, layernorm,
// transpose) on operands in its cluster's SRAM.
//
// Function: the num:: reference ops exactly (every element widened to FP32, one rounding
// to dtype_out). Timing: vec_cycles() (compute_params.h, docs/compute.md).
#pragma once

#include "tlm/compute/engine_base.h"

namespace accelvp {

class vector_engine : public compute_engine {
public:
    vector_engine(sc_core::sc_module_name name, const compute_params& p, sparse_store& sram);
    ~vector_engine() override;

    result execute(const uint8_t* pkt, bool timing_only) override;
    uint64_t work() const override { return elements_.get(); }

private:
    counter elements_{"elements", "result elements produced"};
};

} // namespace accelvp
