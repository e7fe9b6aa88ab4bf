// Memory with a simple bandwidth/latency model over a sparse backing store.
//
// Timing: one shared data bus (a timeline at `bandwidth`) that reads and writes occupy
// for bytes/bandwidth, plus a fixed access latency. This is the placeholder device
// memory (and the host DRAM); the HBM model replaces it behind the same TLM target
// socket, so nothing that talks to memory changes.
//
// DMI: granted per 1 MiB page, read/write, with the latency annotated; DMI users
// bypass the bandwidth model (the ISS's instruction fetches and the host CPU's cached
// accesses), bulk engines use b_transport.
#pragma once

#include <cstdint>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/passthrough_target_socket.h>

#include "tlm/core/params.h"
#include "tlm/core/extensions.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"
#include "tlm/mem/ecc.h"
#include "tlm/mem/memory_target.h"
#include "tlm/mem/sparse_store.h"

namespace accelvp {

class memory : public sc_core::sc_module, public memory_target {
public:
    tlm_utils::passthrough_target_socket<memory> socket;

    struct params {
        uint64_t size = 1ull << 30;
        double bandwidth_gbps = 100;  // GB/s (1e9 bytes/s)
        double latency_ns = 100;
        bool dmi = true;
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    // Declare the parameters of a memory instance under `prefix` ("mem", "host.mem").
    static void declare(param_schema& s, const std::string& prefix, const params& defaults);
    static params from_config(const config& c, const std::string& prefix);

    memory(sc_core::sc_module_name name, const params& p);
    ~memory() override;

    const params& get_params() const { return p_; }
    sparse_store& store() override { return store_; }
    double peak_bytes_per_s() const override { return p_.bandwidth_gbps * 1e9; }
    // ECC fault injection on this memory (tlm/mem/ecc.h); null: none.
    void set_ecc(std::unique_ptr<ecc_injector> e) override { ecc_ = std::move(e); }
    ecc_injector* ecc() override { return ecc_.get(); }
    tlm::tlm_target_socket<>& target_socket() override { return socket; }
    const char* target_name() const override { return name(); }

private:
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& t);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);
    bool check(tlm::tlm_generic_payload& t);

    params p_;
    sparse_store store_;
    timeline bus_;
    sc_core::sc_time latency_;
    counter reads_{"reads", "read transactions"};
    counter writes_{"writes", "write transactions"};
    counter bytes_read_{"bytes_read", "bytes read"};
    counter bytes_written_{"bytes_written", "bytes written"};
    counter errors_{"errors", "transactions rejected (out of range, byte enables)"};
    average access_ns_{"access_latency_ns", "arrival to data, per transaction (ns)"};
    rate busy_{"busy", "time the data bus was occupied", 1e-12, "utilization"};
    std::unique_ptr<ecc_injector> ecc_;
    std::unique_ptr<class trace_rate> trace_bw_;  // tracing: the data bus bandwidth as a counter track
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
