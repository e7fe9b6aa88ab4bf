// Banked scratchpad SRAM: a TLM target with `banks` banks, each moving `bank_width`
// bytes per cycle, behind `ports` access ports, at its own clock.
//
// Addresses interleave across banks at bank-width granularity: byte a lives in bank
// (a / bank_width) % banks. A transaction of n bytes at address a is cut into beats of
// bank_width bytes; bank k must serve the beats that map to it, one per cycle.
//
// Timing (cycles of the SRAM clock; resource timelines, no event per cycle):
//   start   = first cycle edge at or after the arrival at which a port is free
//             (the earliest-free of the `ports` port timelines)
//   bank k  serves its beats back to back from max(start, bank k free)
//   end     = when the last touched bank is done; the port is held [start, end)
//   done    = end + latency_cycles (pipeline from the bank to the port)
// So two accesses to the same bank serialize (the second's beats wait: bank-conflict
// cycles), while accesses to different banks overlap up to the port count. Bank-conflict
// cycles of a transaction = max over its banks of (bank start - start).
//
// DMI: granted (read/write, whole store pages) with the unloaded latency of one beat
// (1 + latency_cycles) annotated, as tlm/mem/memory does; DMI users (an ISS, a host
// CPU model) bypass the bank timelines. Bulk movers (DMA, compute engines) use
// b_transport, which moves the data and accounts the bank and port time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/passthrough_target_socket.h>

#include "tlm/core/params.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"
#include "tlm/mem/sparse_store.h"

namespace accelvp {

struct sram_params {
    uint64_t size = 4ull << 20;   // bytes
    uint32_t banks = 32;
    uint32_t bank_width = 16;     // bytes per cycle per bank (interleave granule)
    uint32_t ports = 2;           // transactions served at once
    double freq_mhz = 1000;
    uint32_t latency_cycles = 2;  // bank to port pipeline, added once per access
    bool dmi = true;
static const param_table<sram_params>& table();  // the parameters: key, member, range, unit, description
    double peak_bytes_per_s() const { return static_cast<double>(banks) * bank_width * freq_mhz * 1e6; }
};

class sram : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<sram> socket;

    using params = sram_params;
    // Declare the parameters under `prefix` ("sram", "cluster.sram").
    static void declare(param_schema& s, const std::string& prefix, const params& defaults = params{});
    static params from_config(const config& c, const std::string& prefix);

    sram(sc_core::sc_module_name name, const params& p);
    ~sram() override;

    const params& get_params() const { return p_; }
    sparse_store& store() { return store_; }
    uint64_t period_ps() const { return period_ps_; }

    // The timing of one access of `len` bytes at `addr` arriving at `arrival_ps`, without
    // data: returns the absolute completion time (ps). Used by b_transport; public for tests.
    uint64_t access(uint64_t addr, uint64_t len, uint64_t arrival_ps);
    uint64_t bank_conflict_cycles() const { return conflict_cycles_.get(); }

private:
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& t);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);

    params p_;
    sparse_store store_;
    uint64_t period_ps_;
    std::vector<timeline> bank_;   // in cycles
    std::vector<timeline> port_;   // in cycles
    std::vector<uint32_t> beats_;  // scratch: beats per bank of the current access
    counter reads_{"reads", "read transactions"};
    counter writes_{"writes", "write transactions"};
    counter bytes_read_{"bytes_read", "bytes read"};
    counter bytes_written_{"bytes_written", "bytes written"};
    counter errors_{"errors", "transactions rejected (out of range, byte enables)"};
    counter conflict_cycles_{"bank_conflict_cycles", "cycles accesses waited for a bank busy with another access"};
    counter port_wait_cycles_{"port_wait_cycles", "cycles accesses waited for a free port"};
    average access_ns_{"access_latency_ns", "arrival to data, per transaction (ns)"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
