// The vector engine with the RTL lane cluster in the loop (compute.vector.model=rtl): the same
// packet interface, validation and stats as vector_engine (tlm/compute), with the cycles of
// each ADD, MUL, MAX, RELU, ROW_SUM and ROW_MAX packet counted on the RTL clock
// (rtl-models/vpu/vpu_cluster.sv, Verilated) and, for INT8 sources with INT8, INT32 or FP32
// results, the result computed by the RTL lanes on the cluster SRAM. Other types run the
// cluster for the cycles (their element sizes charged on its SRAM port) and take the result
// from the num:: reference, as the TLM engine does; so do INT8 packets whose result overlaps a
// source other than in place, B_SCALAR values that are not integers of at most 2^15, and row
// sums of more than 2^17 columns. Ops the cluster does not implement (FMA, GELU, EXP, RECIP,
// CONVERT, SOFTMAX, LAYERNORM, TRANSPOSE) take the TLM formula and count in
// `tlm_fallback_packets`.
#pragma once

#include "tlm/compute/vector_engine.h"
#include "vpu/vpu_rtl.h"

namespace accelvp {

class rtl_vector_engine : public vector_engine {
public:
    rtl_vector_engine(sc_core::sc_module_name name, const compute_params& p, sparse_store& sram);
    ~rtl_vector_engine() override;

    result execute(const uint8_t* pkt, bool timing_only) override;

    // config_error naming the key when p is outside what the RTL lane cluster covers.
    static void check(const compute_params& p);

    uint64_t rtl_clocks() const { return cluster_.clocks(); }
    uint64_t rtl_packets() const { return rtl_packets_.get(); }
    uint64_t rtl_data_packets() const { return rtl_data_packets_.get(); }
    uint64_t fallback_packets() const { return fallback_.get(); }

private:
    class store_backend;
    rtl::vpu_rtl cluster_;
    rtl::vpu_config cfg_;
    std::unique_ptr<store_backend> backend_;
    counter rtl_packets_{"rtl_packets", "VEC packets timed on the RTL clock"};
    counter rtl_data_packets_{"rtl_data_packets", "VEC packets whose result the RTL lanes computed (INT8 sources)"};
    counter fallback_{"tlm_fallback_packets", "VEC packets the RTL lane cluster does not implement, timed by the TLM formula"};
};

} // namespace accelvp
