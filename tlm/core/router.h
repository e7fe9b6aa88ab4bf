// Address router built from an address map: each range (name, base, size) decodes to one
// target port, with the address translated to an offset in that range. Decode misses
// answer TLM_ADDRESS_ERROR_RESPONSE; DMI requests and invalidations pass through with
// their ranges translated both ways; debug transport passes through.
//
// Timing: a fixed hop latency per transaction. A subclass may replace it (the chip NoC,
// tlm/noc/interconnect.h, models links and contention) through the protected hooks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "tlm/core/stats.h"

namespace accelvp {

class router : public sc_core::sc_module {
public:
    tlm_utils::multi_passthrough_target_socket<router> target_socket;       // initiators bind here
    tlm_utils::multi_passthrough_initiator_socket<router> initiator_socket; // targets bind here

    router(sc_core::sc_module_name name, sc_core::sc_time hop_latency = sc_core::SC_ZERO_TIME);
    ~router() override;

    // Bind `target` as the next port and map [base, base+size) to it. Throws
    // config_error when the range overlaps another.
    template <typename Socket>
    void add_target(const std::string& name, uint64_t base, uint64_t size, Socket& target) {
        map(name, base, size, static_cast<unsigned>(n_bound_++));
        initiator_socket.bind(target);
    }
    // Map a range to an already bound port.
    void map(const std::string& name, uint64_t base, uint64_t size, unsigned port);

    struct range {
        std::string name;
        uint64_t base, size;
        unsigned port;
    };
    // The range containing addr, or nullptr.
    const range* decode(uint64_t addr) const;
    const std::vector<range>& ranges() const { return ranges_; }

protected:
    // Around the target's b_transport: `initiator` is the target-socket index of the
    // caller, `port` the decoded target port. Default: delay += hop latency before.
    virtual void before_target(int initiator, unsigned port, tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    virtual void after_target(int, unsigned, tlm::tlm_generic_payload&, sc_core::sc_time&) {}
    // Whether DMI requests of initiator `initiator` pass through (and responses keep their
    // DMI hint).
    virtual bool dmi_enabled(int /*initiator*/) const { return true; }
    sc_core::sc_time hop_;

private:
    void b_transport(int id, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    unsigned transport_dbg(int id, tlm::tlm_generic_payload& trans);
    bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
    void invalidate_direct_mem_ptr(int port, sc_dt::uint64 start, sc_dt::uint64 end);

    std::vector<range> ranges_;  // sorted by base
    size_t n_bound_ = 0;
    counter transactions_{"transactions", "transactions routed"};
    counter decode_errors_{"decode_errors", "accesses that hit no range (TLM_ADDRESS_ERROR_RESPONSE)"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
