// Matrix engine: a systolic array of R x C processing elements executing AAX GEMM
// packets on operands in its cluster's SRAM, weight-stationary or output-stationary.
//
// Function: num::gemm_ref exactly (FP32/INT32 accumulation in increasing k order).
// Timing: gemm_cycles() (compute_params.h, docs/compute.md), charged analytically.
#pragma once

#include "tlm/compute/engine_base.h"

namespace accelvp {

class matrix_engine : public compute_engine {
public:
    matrix_engine(sc_core::sc_module_name name, const compute_params& p, sparse_store& sram);
    ~matrix_engine() override;

    result execute(const uint8_t* pkt, bool timing_only) override;
    uint64_t work() const override { return macs_.get(); }

    // Field checks of a GEMM packet against this configuration (no SRAM access):
    // AAX_OK, AAX_ERR_BAD_PARAM or AAX_ERR_BAD_ADDRESS (error_addr = operand offset).
    static result validate(const aax_pkt_gemm& g, const compute_params& p);

protected:
    // The functional result of a validated packet: C on the SRAM from num::gemm_ref.
    void compute(const aax_pkt_gemm& g);

    counter macs_{"macs", "multiply-accumulates performed"};
    average util_{"array_utilization", "per GEMM: MACs / (cycles x R x C)"};
};

} // namespace accelvp
