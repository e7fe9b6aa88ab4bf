// MMU: translates the bus accesses of an engine (the DMA engine) from the job's device
// virtual addresses to chip bus addresses, per address space (ASID), through page
// tables in memory (format and registers: abi/aax_mmu.h).
//
// Programmer's view: BAR0 0xC000-0xCFFF -- ID/CAPS, the context table
// (MMU_CTX(a).PT_BASE, CTRL.EN), TLB invalidation (all / ASID / ASID+VA) and the fault
// record (first fault kept until cleared, FAULT_COUNT), interrupt line AAX_IRQ_LINE_MMU.
//
// Placement: an interconnect component between the engine's bus socket (target_socket)
// and the chip NoC (initiator_socket); the walker has its own socket into the NoC.
// A transaction without asid_ext or with ASID 0 passes through untouched and untimed
// (DMI too). Otherwise each 4 KiB / 2 MiB page piece of it is translated (TLB lookup
// `tlb_hit_ns`, on a miss a timed walk) and forwarded with the physical address; pieces
// are translated one after the other and their accesses overlap. A fault fails the
// transaction with TLM_ADDRESS_ERROR_RESPONSE and asid_ext::fault, records the fault
// and raises the MMU interrupt. No DMI for translated accesses.
#pragma once

#include <cstdint>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "tlm/core/config.h"
#include "tlm/core/extensions.h"
#include "tlm/core/register_bank.h"
#include "tlm/core/stats.h"
#include "tlm/mmu/page_table_walker.h"
#include "tlm/mmu/tlb.h"

namespace accelvp {

class mmu : public sc_core::sc_module, public mmu_context_if, public reset_if {
public:
    static constexpr uint32_t bar_base = 0xC000;  // this block's window in BAR0

    tlm_utils::simple_target_socket<mmu> target_socket;        // from the engine
    tlm_utils::simple_initiator_socket<mmu> initiator_socket;  // to the interconnect
    tlm_utils::simple_target_socket<mmu> reg_socket;
    page_table_walker walker;  // walker.socket: to the interconnect
    sc_core::sc_port<irq_if> irq_out;
    sc_core::sc_export<mmu_context_if> ctx_export;
    sc_core::sc_export<reset_if> reset_in;

    struct params {
        uint32_t contexts = 16;  // ASIDs 0..contexts-1 (0 = physical)
        tlb::params tlb_geom;
        uint32_t walk_cache = 16;
        double tlb_hit_ns = 1;  // lookup time of every translated piece
    };
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);

    mmu(sc_core::sc_module_name name, const params& p);
    ~mmu() override;

    bool context_enabled(uint16_t asid) const override;
    const params& get_params() const { return p_; }
    tlb& get_tlb() { return tlb_; }

    // Outcome of translating one address (exposed for tests).
    struct lookup {
        uint8_t fault = 0;  // enum aax_mmu_fault_type
        uint8_t level = 0;
        translation t;
    };
    lookup translate(uint16_t asid, uint64_t va, unsigned access, sc_core::sc_time& delay);

private:
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& t);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);
    void reg_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { regs_.b_transport(t, d); }
    unsigned reg_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }
    void soft_reset() override;
    void record_fault(uint16_t asid, uint64_t va, unsigned access, const lookup& l);
    void invalidate(uint32_t cmd);
    uint64_t root(uint16_t asid) const;

    params p_;
    register_bank regs_;
    tlb tlb_;
    bool fault_valid_ = false;
    uint32_t fault_count_ = 0;
    sc_core::sc_time hit_time_;

    counter translated_{"translated", "transactions translated (ASID != 0)"};
    counter passthrough_{"passthrough", "transactions passed through untranslated (ASID 0)"};
    counter pieces_{"page_pieces", "page pieces forwarded (a transaction crossing pages is several)"};
    counter faults_{"faults", "translation faults"};
    counter invalidations_{"invalidations", "TLB invalidation commands"};
};

} // namespace accelvp
