// MMU: translates the bus accesses of the DMA engines from the job's device virtual
// addresses to chip bus addresses, per address space (ASID), through page tables in
// memory (format and registers: abi/aax_mmu.h).
//
// Programmer's view: BAR0 0xC000-0xCFFF -- ID/CAPS, the context table
// (MMU_CTX(a).PT_BASE, CTRL.EN), TLB invalidation (all / ASID / ASID+VA) and the fault
// record (first fault kept until cleared, FAULT_COUNT, the port that faulted), interrupt
// line AAX_IRQ_LINE_MMU. One register block for the whole chip.
//
// Ports: one mmu_port per engine bus (dma0..dmaN-1), each an interconnect component
// between the engine's bus socket (target_socket) and the chip NoC (initiator_socket),
// with its own TLB and its own page-table walker (walker.socket into the NoC). All ports
// share the context table and the fault record; an invalidation reaches every port's
// TLB and walk cache. A walker per port keeps the ports independent: each engine thread
// walks in its own local time (temporal decoupling) without a shared walker to
// serialise or arbitrate, and the walks still contend where real walks do, in the NoC
// and the memory timelines.
//
// A transaction without asid_ext or with ASID 0 passes through untouched and untimed
// (DMI too). Otherwise each 4 KiB / 2 MiB page piece of it is translated (TLB lookup
// `tlb_hit_ns`, on a miss a timed walk) and forwarded with the physical address; pieces
// are translated one after the other and their accesses overlap. A fault fails the
// transaction with TLM_ADDRESS_ERROR_RESPONSE and asid_ext::fault, records the fault
// and raises the MMU interrupt. No DMI for translated accesses.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_mmu.h"
#include "tlm/core/params.h"
#include "tlm/core/extensions.h"
#include "tlm/core/register_bank.h"
#include "tlm/core/stats.h"
#include "tlm/mmu/page_table_walker.h"
#include "tlm/mmu/tlb.h"

namespace accelvp {

class mmu;

// One engine's translation path: TLB + walker, sharing its mmu's contexts and fault record.
class mmu_port : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<mmu_port> target_socket;        // from the engine
    tlm_utils::simple_initiator_socket<mmu_port> initiator_socket;  // to the interconnect
    page_table_walker walker;                                       // walker.socket: to the interconnect

    mmu_port(sc_core::sc_module_name name, mmu& owner, unsigned index);
    ~mmu_port() override;

    unsigned index() const { return index_; }
    tlb& get_tlb() { return tlb_; }

    // Outcome of translating one address (exposed for tests).
    struct lookup {
        uint8_t fault = 0;  // enum aax_mmu_fault_type
        uint8_t level = 0;
        translation t;
    };
    lookup translate(uint16_t asid, uint64_t va, unsigned access, sc_core::sc_time& delay);

private:
    friend class mmu;
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& t);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);

    mmu& owner_;
    unsigned index_;
    tlb tlb_;
    sc_core::sc_time hit_time_;

    counter translated_{"translated", "transactions translated (ASID != 0)"};
    counter passthrough_{"passthrough", "transactions passed through untranslated (ASID 0)"};
    counter pieces_{"page_pieces", "page pieces forwarded (a transaction crossing pages is several)"};
    counter faults_{"faults", "translation faults on this port"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

class mmu : public sc_core::sc_module, public mmu_context_if, public reset_if {
public:
    tlm_utils::passthrough_target_socket<mmu> reg_socket;
    sc_core::sc_port<irq_if> irq_out;
    sc_core::sc_export<mmu_context_if> ctx_export;
    sc_core::sc_export<reset_if> reset_in;

    struct params {
        uint32_t contexts = 16;  // ASIDs 0..contexts-1 (0 = physical)
        tlb::params tlb_geom;    // of each port's TLB
        uint32_t walk_cache = 16;
        double tlb_hit_ns = 1;  // lookup time of every translated page piece
        // One port per name (its submodule name, e.g. the engine's: dma0, dma1, ...);
        // at most 1 << AAX_MMU_FAULT_PORT_BITS.
        std::vector<std::string> ports{"port0"};
        bool enabled = false;  // mmu.enabled: the chip instantiates an MMU (read by the composition)
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);

    mmu(sc_core::sc_module_name name, const params& p);
    ~mmu() override;

    bool context_enabled(uint16_t asid) const override;
    const params& get_params() const { return p_; }
    unsigned ports() const { return static_cast<unsigned>(ports_.size()); }
    mmu_port& port(unsigned i) { return *ports_.at(i); }

private:
    friend class mmu_port;
    void reg_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { regs_.b_transport(t, d); }
    unsigned reg_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }
    void soft_reset() override;
    void record_fault(unsigned port, uint16_t asid, uint64_t va, unsigned access, const mmu_port::lookup& l);
    void invalidate(uint32_t cmd);
    uint64_t root(uint16_t asid) const;

    params p_;
    register_bank regs_;  // window AAX_MMU_BAR_BASE; the registers hold the contexts and the fault record
    std::vector<std::unique_ptr<mmu_port>> ports_;

    counter faults_{"faults", "translation faults (all ports)"};
    counter invalidations_{"invalidations", "TLB invalidation commands (each reaches every port)"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
