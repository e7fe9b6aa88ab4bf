// DRAM device memory: the channel/bank DRAM model (dram_controller.h) behind the same
// TLM target socket as accelvp::memory, so the chip can use either (`mem.model`).
//
//   dram_system   plain C++: address mapping + one dram_channel per channel; used alone
//                 by `accelvp memsim` and the unit tests
//   dram_memory   sc_module: target socket (b_transport, transport_dbg, DMI) over a
//                 dram_system and a sparse backing store
//
// Timing of a transaction: it is cut into device bursts (32 B for the presets), each
// decoded to its channel and queued there at the transaction's arrival time; the
// touched channels then schedule until every burst is done, and the transaction ends
// with its last data beat. Large transfers (a DMA burst of up to 1 MiB) are split the
// same way. Channels that are full make room first. No SystemC event per burst or per
// cycle: all of this runs inside b_transport with temporal decoupling.
//
// Split reads (the front end for initiators with many reads in flight, a DMA engine: see
// split_read_ext in tlm/core/extensions.h): the read is only queued in its channels and
// b_transport returns a lower bound of its completion; the initiator completes it later,
// when its own time reaches that bound, and by then the reads it and others issued in the
// meantime wait in the same queues, so the schedulers see them together.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/passthrough_target_socket.h>

#include "tlm/core/extensions.h"
#include "tlm/core/stats.h"
#include "tlm/mem/address_mapping.h"
#include "tlm/mem/dram_controller.h"
#include "tlm/mem/dram_timing.h"
#include "tlm/mem/ecc.h"
#include "tlm/mem/memory_target.h"
#include "tlm/mem/sparse_store.h"

namespace accelvp {

class dram_system {
public:
    // Stats of channel i go to "<name>.ch<i>" (channels numbered stack-major).
    dram_system(const std::string& name, const dram_params& p);
    ~dram_system();

    const dram_params& params() const { return p_; }
    const address_mapping& mapping() const { return map_; }
    uint32_t channels() const { return static_cast<uint32_t>(ch_.size()); }
    dram_channel& channel(uint32_t i) { return *ch_[i]; }
    const dram_channel& channel(uint32_t i) const { return *ch_[i]; }
    uint32_t burst_bytes() const { return p_.burst_bytes(); }
    uint64_t tck_ps() const { return p_.t.tCK_ps; }
    double peak_bytes_per_s() const { return p_.peak_bytes_per_s(); }
    // Unloaded latency of a read to a closed bank (ACT, RD, data), in ps.
    uint64_t idle_read_ps() const;

    // The request for the burst holding `addr`; `ctrl` receives its channel index.
    dram_request make_request(uint64_t addr, bool write, uint64_t arrival, uint32_t& ctrl) const {
        const dram_coord c = map_.decode(addr);
        ctrl = map_.controller_of(c);
        dram_request r;
        fill_request(c, write, arrival, r);
        return r;
    }
    // The request of decoded burst `c` (tag 0), written into r where it will stay (memsim
    // builds it in its block: a request built on the stack and copied whole waits for
    // store forwarding).
    static void fill_request(const dram_coord& c, bool write, uint64_t arrival, dram_request& r) {
        r.tag = 0;
        r.arrival = arrival;
        r.row = c.row;
        r.col = c.col;
        r.pc = static_cast<uint16_t>(c.pc);
        r.bg = static_cast<uint16_t>(c.bg);
        r.bank = static_cast<uint16_t>(c.bank);
        r.write = write;
    }

    // Timed access to [addr, addr + len) arriving at cycle `arrival`. A read returns the
    // cycle of its last data beat (its channels run until its bursts are done); a write is
    // posted: it returns when its last burst entered a write queue, and the queued writes
    // are issued later, in drains set by the write watermarks, among the reads.
    uint64_t access(uint64_t addr, uint64_t len, bool write, uint64_t arrival);
    // A read in two halves (the front end of split reads): submit_read() queues the bursts
    // of [addr, addr + len) in their channels (making room first where a queue is full) and
    // returns a ticket; complete_read() runs the channels holding them until all are done
    // and returns the cycle of the last data beat. Reads submitted in between share the
    // queues, so each channel's scheduler sees them together (up to its queue depth).
    uint32_t submit_read(uint64_t addr, uint64_t len, uint64_t arrival);
    uint64_t complete_read(uint32_t ticket);
    // A lower bound of a submitted read's last data beat: a row hit issued at its arrival,
    // or at its busiest channel's last decision. The later the initiator completes a read,
    // the more reads behind it the schedulers see, so the bound is as tight as is cheap.
    uint64_t read_bound(uint32_t ticket) const { return reads_[ticket].bound; }
    uint32_t reads_in_flight() const { return static_cast<uint32_t>(reads_.size() - free_reads_.size()); }
    // Issue everything still queued (posted writes), e.g. at the end of a simulation.
    void flush();

private:
    // A submitted read: its bursts still queued, per channel, and its latest data beat.
    struct read_state {
        uint64_t done = 0, bound = 0;
        std::vector<uint32_t> pending;  // per channel (sized on first use, then reused)
        std::vector<uint32_t> touched;  // channels with pending bursts, in first-touch order
    };
    // One scheduling decision of channel ci; a read burst's completion goes to its ticket
    // (tags are ticket + 1; posted writes carry tag 0).
    void step(uint32_t ci);

    dram_params p_;
    address_mapping map_;
    std::vector<std::unique_ptr<dram_channel>> ch_;
    std::vector<read_state> reads_;
    std::vector<uint32_t> free_reads_;
    std::vector<std::unique_ptr<class trace_rate>> trace_;  // per channel, when tracing
};

class dram_memory : public sc_core::sc_module, public split_read_if, public memory_target {
public:
    tlm_utils::passthrough_target_socket<dram_memory> socket;

    dram_memory(sc_core::sc_module_name name, const dram_params& p);
    ~dram_memory() override;

    sparse_store& store() override { return store_; }
    dram_system& system() { return sys_; }
    const dram_system& system() const { return sys_; }
    double peak_bytes_per_s() const override { return sys_.peak_bytes_per_s(); }
    // Several concurrent initiators (DMA engines): each timed access from a thread first
    // waits until its own time (a context switch per transaction), so the controllers see
    // global time order. Off by default: one initiator's order is already its time order.
    void set_time_ordered(bool on) { time_ordered_ = on; }
    // Split reads (tlm/core/extensions.h): the ticket's last data beat, in absolute ps.
    uint64_t complete_split_read(uint64_t ticket) override;
    // ECC fault injection (tlm/mem/ecc.h), counted per channel too; null: none.
    void set_ecc(std::unique_ptr<ecc_injector> e) override { ecc_ = std::move(e); }
    ecc_injector* ecc() override { return ecc_.get(); }
    tlm::tlm_target_socket<>& target_socket() override { return socket; }
    const char* target_name() const override { return name(); }
    dram_memory* dram() override { return this; }

private:
    void end_of_simulation() override { sys_.flush(); }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& t);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);
    bool check(tlm::tlm_generic_payload& t);

    dram_params p_;
    sparse_store store_;
    dram_system sys_;
    bool time_ordered_ = false;
    sc_core::sc_time dmi_latency_;
    counter reads_{"reads", "read transactions"};
    counter writes_{"writes", "write transactions"};
    counter errors_{"errors", "transactions rejected (out of range, byte enables)"};
    average access_ns_{"access_latency_ns", "arrival to last data beat, per transaction (ns)"};
    counter split_reads_{"split_reads", "reads served in two halves (split_read_ext: queued, completed later)"};
    std::vector<uint64_t> split_arrival_ps_;  // per ticket: arrival, for access_latency_ns
    std::unique_ptr<ecc_injector> ecc_;
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
