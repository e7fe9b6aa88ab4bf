// DMA engine: executes AAX DMA packets (linear and 2-D strided copies, fills) between
// any two bus addresses -- device memory, the host window over PCIe -- with several
// bursts in flight.
//
// Programmer's view: a command socket taking aax_pkt_dma (see abi/aax_queue.h) from a
// queue manager, a bus initiator socket towards the chip interconnect.
//
// Timing: a transfer is cut into bursts of at most `burst_bytes` that never cross a row.
// Up to `max_outstanding` bursts are in flight; each is a read (source) then a write
// (destination) through the engine's datapath (a timeline at `bandwidth_gbps`). The
// bursts' steps are presented to the targets in order of their arrival time (a small
// local event queue, not SystemC events), so targets' timelines see FCFS traffic and
// bandwidth limits and latency hiding emerge. The whole command runs inside one
// b_transport with temporal decoupling: no SystemC event per burst (it syncs with
// SystemC time once every `sync_steps` steps so a huge transfer cannot starve the rest
// of the simulation, and stops at the job's deadline with AAX_ERR_TIMEOUT). Reads are
// offered as split reads: a memory that queues them (the DRAM model) answers with a lower
// bound at once and the engine completes them when its time reaches it, so all the reads
// in flight wait in the memory's queues together, as in hardware.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_queue.h"
#include "tlm/core/config.h"
#include "tlm/core/extensions.h"
#include "tlm/core/fault.h"
#include "tlm/core/keys.h"
#include "tlm/core/params.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"

namespace accelvp {

class dma_engine : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<dma_engine> cmd_socket;
    tlm_utils::simple_initiator_socket<dma_engine> bus_socket;

    struct params {
        uint32_t burst_bytes = 4096;
        uint32_t max_outstanding = 16;
        double bandwidth_gbps = 64;  // datapath throughput
        double setup_ns = 20;        // per command: descriptor decode, address generation
        double sync_ns = 0;          // sync with SystemC time when this far ahead (0 = every sync_steps)
        bool split_reads = true;     // keep reads in flight at targets that split them (DRAM front end)
        bool timing_only = false;    // timing fidelity mode: move no data (from sim.mode)
        static const param_table<params>& table();
    };
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);

    dma_engine(sc_core::sc_module_name name, const params& p);
    ~dma_engine() override;

    const params& get_params() const { return p_; }
    double peak_bytes_per_s() const { return p_.bandwidth_gbps * 1e9; }

    // Outcome of one transfer (also reported through command_ext).
    struct result {
        uint8_t status = AAX_OK;
        uint64_t error_addr = 0;
    };
    // When the engine worked (absolute ps): the start of its first and the end of its last
    // DMA packet (begin > end: none yet). Benchmarks time the engines with it.
    uint64_t span_begin_ps() const { return span_begin_ps_; }
    uint64_t span_end_ps() const { return span_end_ps_; }
    // Validate a packet's fields (not addresses): AAX_OK or AAX_ERR_BAD_PARAM.
    static uint8_t validate(const aax_pkt_dma& p);
    // Fault injection (fault.engine_hang*): this is DMA engine `index`.
    void set_faults(const fault_params& f, unsigned index);
    uint64_t hangs() const { return hangs_.get(); }
    // Hardware performance counters (platform/chip/perf_counters.h) read these.
    uint64_t commands() const { return commands_.get(); }
    uint64_t errors() const { return errors_.get(); }
    uint64_t bursts() const { return bursts_.get(); }
    uint64_t bytes() const { return bytes_.get(); }
    uint64_t busy_ps() const { return static_cast<uint64_t>(busy_.total()); }
    uint64_t read_wait_ps() const { return read_wait_ps_.get(); }

private:
    void cmd_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    result execute(const aax_pkt_dma& p, sc_core::sc_time& delay, uint64_t deadline_ps);
    static constexpr uint64_t sync_steps = 1u << 14;  // burst steps between syncs with SystemC time
    // `split`: offer the read as a split read (tlm/core/extensions.h); its parts come back in it.
    uint8_t bus_access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint32_t len, sc_core::sc_time& delay,
                       uint64_t& error_addr, split_read_ext* split = nullptr);

    params p_;
    sc_core::sc_mutex busy_lock_;
    timeline datapath_;
    timeline requests_;  // read requests, paced at the datapath rate
    // max_outstanding x burst_bytes staging buffers, allocated by the first transfer (an
    // engine a run never uses costs nothing: a 1024-chip collective has 8192 of them). calloc,
    // not a vector: zeroed pages the engine never touches cost nothing (a vector's memset made
    // a 64-chip system spend most of its construction in page faults); but calloc clears a
    // block it takes from freed memory, which at construction was 4 % of a 1024-chip run.
    struct free_deleter {
        void operator()(uint8_t* p) const { std::free(p); }
    };
    std::unique_ptr<uint8_t, free_deleter> buffers_;
    uint8_t* staging(uint32_t slot);
    int track_ = 0;
    uint16_t asid_ = 0;  // address space of the command in progress
    uint64_t flow_ = 0;  // trace flow of the command in progress (0: none)
    uint64_t span_begin_ps_ = ~uint64_t{0}, span_end_ps_ = 0;
    uint64_t busy_until_ps_ = 0;  // end of the time already counted in busy_ (commands overlap)
    std::vector<split_read_ext> splits_;  // per slot: its split read in flight
    // Fault injection: packets that hang the engine until the scheduler gives up on the job.
    bool hang_next(const command_ext& ext);
    result hang(const command_ext& ext, sc_core::sc_time& delay);
    bool faults_ = false;
    fault_params fault_;
    unsigned index_ = 0;
    uint64_t packets_seen_ = 0;
    fault_stream hang_rng_;
    counter hangs_{"fault_hangs", "DMA packets that hung the engine (fault injection)"};

    counter commands_{"commands", "DMA packets executed"};
    counter errors_{"errors", "DMA packets that failed"};
    counter bursts_{"bursts", "bursts moved"};
    counter bytes_{"bytes", "payload bytes moved (written to the destination)"};
    rate busy_{"busy", "time the engine had a command in progress", 1e-12, "utilization"};
    rate throughput_{"throughput", "payload bytes per simulated second over the whole run", 1e-9, "gbps"};
    counter read_wait_ps_{"read_wait_ps", "summed over bursts: time from a read request to its data (memory and "
                                          "interconnect latency, queueing), ps"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
