// Sync block: 32-bit semaphores that queues signal and wait on (habanalabs' sync
// objects, simplified). Programmer's view: SEM(s) read/write and SEM_ADD(s) atomic add
// in BAR0 (abi/aax_regs.h), and a command socket for SEM_SIGNAL / SEM_WAIT packets.
//
// A SEM_WAIT blocks its queue (the b_transport waits) until the condition holds, the
// device wait limit `sync.wait_timeout_us` passes (AAX_ERR_SEM_TIMEOUT) or the job's
// deadline passes (AAX_ERR_TIMEOUT). Waiting costs one SystemC event per semaphore
// change, not per cycle.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_queue.h"
#include "abi/aax_regs.h"
#include "tlm/core/params.h"
#include "tlm/core/extensions.h"
#include "tlm/core/stats.h"

namespace accelvp {

class semaphores : public sc_core::sc_module, public reset_if {
public:
    tlm_utils::passthrough_target_socket<semaphores> reg_socket;
    tlm_utils::passthrough_target_socket<semaphores> cmd_socket;
    sc_core::sc_export<reset_if> reset_in;

    struct params {
        uint32_t count = 1024;
        double wait_timeout_us = 1000000;  // 1 s
        double op_ns = 5;                  // cost of a signal or a satisfied wait
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);

    semaphores(sc_core::sc_module_name name, const params& p);
    ~semaphores() override;

    uint32_t value(uint32_t s) const { return sem_.at(s); }
    uint32_t count() const { return p_.count; }

private:
    void soft_reset() override;
    void cmd_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    void reg_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned reg_transport_dbg(tlm::tlm_generic_payload& t) { return reg_access(t, true) == tlm::TLM_OK_RESPONSE ? 4u : 0u; }
    // The SEM / SEM_ADD window with register_bank's rules (4-byte aligned words, no byte
    // enables; SEM read/write, SEM_ADD write-only; no register: address error).
    tlm::tlm_response_status reg_access(tlm::tlm_generic_payload& t, bool debug);
    uint8_t signal(const aax_pkt_sem_signal& p);
    // abort, abort_ev: the scheduler's abort flag for the job and the event it notifies when it
    // sets one (command_ext); the wait ends with ABORTED when the flag is set.
    uint8_t wait_for(const aax_pkt_sem_wait& p, uint64_t deadline_ps, const bool* abort,
                     const sc_core::sc_event* abort_ev);
    bool holds(const aax_pkt_sem_wait& p) const;
    void changed() { changed_ev_.notify(sc_core::SC_ZERO_TIME); }

    uint32_t get(uint32_t s) const { return sem_[s]; }
    void set(uint32_t s, uint32_t v) { sem_[s] = v; }

    params p_;
    // The values, SEM(s) at AAX_SEM(s), in one array: a bank of 2 x sync.count named
    // register objects cost ~0.5 MiB a chip and most of a multi-chip system's elaboration.
    std::vector<uint32_t> sem_;
    sc_core::sc_event changed_ev_;

    counter signals_{"signals", "SEM_SIGNAL packets and SEM_ADD register writes"};
    counter waits_{"waits", "SEM_WAIT packets"};
    counter timeouts_{"timeouts", "SEM_WAITs that timed out"};
    counter aborted_{"aborted", "SEM_WAITs ended by the scheduler's abort (watchdog, ring or device reset)"};
    counter errors_{"errors", "packets rejected (bad semaphore index or mode)"};
    average wait_ns_{"wait_ns", "time a SEM_WAIT blocked its queue (ns)"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
