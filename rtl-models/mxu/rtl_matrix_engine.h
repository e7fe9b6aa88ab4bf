// The matrix engine with the RTL tile in the loop (compute.matrix.model=rtl): the same packet
// interface, validation and stats as matrix_engine (tlm/compute), with the cycles of each GEMM
// packet counted on the RTL clock (rtl-models/mxu/mxu_tile.sv for weight-stationary packets,
// mxu_os_tile.sv for output-stationary ones, Verilated) and, for INT8, C computed by the RTL
// datapath on the cluster SRAM. Other input types run the RTL for the cycles (their element
// sizes charged on its SRAM ports) and take C from num::gemm_ref, as the TLM engine does;
// packets the tile does not cover (weight-stationary with m above its accumulator buffer and
// more than one k-block) take the TLM formula and count in `tlm_fallback_packets`.
#pragma once

#include "mxu/mxu_rtl.h"
#include "tlm/compute/matrix_engine.h"

namespace accelvp {

class rtl_matrix_engine : public matrix_engine {
public:
    rtl_matrix_engine(sc_core::sc_module_name name, const compute_params& p, sparse_store& sram);
    ~rtl_matrix_engine() override;

    result execute(const uint8_t* pkt, bool timing_only) override;

    // config_error naming the key when p is outside what the RTL tile covers.
    static void check(const compute_params& p);

    uint64_t rtl_clocks() const { return tile_.clocks(); }
    uint64_t rtl_packets() const { return rtl_packets_.get(); }
    uint64_t rtl_data_packets() const { return rtl_data_packets_.get(); }
    uint64_t fallback_packets() const { return fallback_.get(); }

private:
    class store_backend;
    rtl::mxu_rtl tile_;
    rtl::mxu_config cfg_;
    std::unique_ptr<store_backend> backend_;
    counter rtl_packets_{"rtl_packets", "GEMM packets timed on the RTL clock"};
    counter rtl_data_packets_{"rtl_data_packets", "GEMM packets whose C the RTL datapath computed (INT8)"};
    counter fallback_{"tlm_fallback_packets", "GEMM packets the RTL tile does not cover, timed by the TLM formula"};
};

} // namespace accelvp
