// A compute cluster: matrix engine + vector engine + SRAM; and the command router that
// hands GEMM/VEC packets from a queue manager to the cluster named in the packet.
//
//   qman --compute_socket--> compute_router --+--> cluster0.mxu.cmd_socket / cluster0.vpu.cmd_socket
//                                             +--> cluster1...
//   chip bus (DMA) --> clusterN.sram.socket
#pragma once

#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "tlm/compute/compute_params.h"
#include "tlm/compute/matrix_engine.h"
#include "tlm/compute/vector_engine.h"
#include "tlm/compute/sram_port.h"

namespace accelvp {

class compute_cluster : public sc_core::sc_module {
public:
    compute_cluster(sc_core::sc_module_name name, const compute_params& p);

    // SRAM timing on the chip bus: sram_bytes_per_cycle at the cluster clock.
    static accelvp::sram_params sram_params(const compute_params& p);

    cluster_sram sram;

private:
    std::unique_ptr<compute_engine> mxu_, vpu_;  // the models compute.matrix/vector.model name

public:
    compute_engine& mxu;
    compute_engine& vpu;
};

class compute_router : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<compute_router> cmd_socket;
    // Bound, in order, to cluster 0's matrix engine, cluster 0's vector engine, cluster 1's ...
    tlm_utils::multi_passthrough_initiator_socket<compute_router> engine_socket;

    explicit compute_router(sc_core::sc_module_name name);
    void bind_cluster(compute_cluster& c);

private:
    void cmd_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned clusters_ = 0;
};

// The clusters of a chip with their router (what chip.cpp instantiates).
class compute_complex : public sc_core::sc_module {
public:
    compute_complex(sc_core::sc_module_name name, const compute_params& p);
    const compute_params& params() const { return p_; }
    // Bus address stride between cluster SRAMs: the SRAM size rounded up to a power of two.
    static uint64_t sram_stride(const compute_params& p);

    compute_router router;
    std::vector<std::unique_ptr<compute_cluster>> clusters;

private:
    compute_params p_;
};

} // namespace accelvp
