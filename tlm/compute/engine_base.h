// What the matrix and vector engines share: the command protocol of tlm/dma (a TLM WRITE
// of the packet bytes with a command_ext), a busy timeline in the cluster clock, and the
// per-engine stats (busy cycles, MACs/elements, utilization).
#pragma once

#include <cstdint>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/passthrough_target_socket.h>

#include "tlm/compute/compute_params.h"
#include "tlm/compute/sram_port.h"
#include "tlm/core/extensions.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"

namespace accelvp {

class compute_engine : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<compute_engine> cmd_socket;

    compute_engine(sc_core::sc_module_name name, const compute_params& p, sparse_store& sram, uint32_t packet_bytes);
    ~compute_engine() override;

    // Outcome of one packet (also reported through command_ext).
    struct result {
        uint8_t status = AAX_OK;
        uint64_t error_addr = 0;
        uint64_t cycles = 0;  // engine cycles charged (0 for rejected packets)
        uint64_t stall = 0;   // of those, cycles below the engine's peak rate (performance counters)
    };
    // Execute one packet functionally (unless timing_only) and return its cycles; no time
    // passes here. Exposed for tests and tools.
    virtual result execute(const uint8_t* pkt, bool timing_only) = 0;

    uint64_t busy_cycles() const { return busy_cycles_.get(); }
    // Hardware performance counters (platform/chip/perf_counters.h) read these.
    uint64_t packets() const { return packets_.get(); }
    uint64_t errors() const { return errors_.get(); }
    uint64_t stall_cycles() const { return stall_cycles_.get(); }
    uint64_t queue_wait_ps() const { return queue_wait_ps_.get(); }
    virtual uint64_t work() const = 0;  // MACs (matrix) or result elements (vector)
    const compute_params& params() const { return p_; }

protected:
    compute_params p_;
    sram_port sram_;
    counter packets_{"packets", "packets executed"};
    counter errors_{"errors", "packets rejected (bad parameters or SRAM range)"};
    int track_ = -1;  // trace track, created on the first traced packet
    counter busy_cycles_{"busy_cycles", "cycles the engine was busy"};
    rate busy_{"busy", "time the engine was busy", 1e-12, "utilization"};
    counter stall_cycles_{"stall_cycles", "busy cycles below the engine's peak rate (matrix: fewer than R x C x rate "
                                          "MACs per cycle; vector: waiting for SRAM bandwidth)"};
    counter queue_wait_ps_{"queue_wait_ps", "time packets waited for the engine busy with another queue's packet (ps)"};

private:
    void cmd_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    uint32_t packet_bytes_;
    timeline pipe_;  // the engine executes one packet at a time, in arrival order

protected:
    // Declared last: registers the stats above (and the derived engine's) under this module's name and
    // unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
