// clint: the core-local interruptor of the control core (SiFive CLINT layout, one hart).
//
// Registers (offsets in its window, abi/aax_boot.h; 32-bit accesses only, through register_bank):
//   0x0000 msip          rw  bit 0 (the only writable bit) drives the core's machine
//                            software interrupt (MSIP)
//   0x4000 mtimecmp      rw  64-bit; MTIP is high while mtime >= mtimecmp (reset: all ones,
//                            so MTIP stays low until software programs it)
//   0xBFF8 mtime_lo      rw  ticks at `timer_mhz`; writable (sets an offset)
//   0xBFFC mtime_hi      rw
//
// mtime is not ticked: it is computed from sc_time_stamp() (the core synchronises
// before each MMIO access, so it reads its own local time). MTIP is driven by one timed
// event scheduled for the tick at which mtime reaches mtimecmp, re-planned on every write:
// no SystemC activity per tick.
#pragma once

#include <cstdint>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_boot.h"
#include "tlm/core/params.h"
#include "tlm/core/register_bank.h"
#include "tlm/core/stats.h"
#include "tlm/cpu/cpu_if.h"

namespace accelvp {

class clint : public sc_core::sc_module, public mtime_if {
public:
    tlm_utils::passthrough_target_socket<clint> socket;
    sc_core::sc_port<irq_level_if> irq;  // to the core: lines irq_msip and irq_mtip

    static constexpr uint64_t size = AAX_CORE_CLINT_SIZE;  // its window; registers at AAX_CLINT_*

    struct params {
        double timer_mhz = 10;  // mtime tick rate
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    // Declares `<prefix>.timer_mhz`.
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);

    clint(sc_core::sc_module_name name, const params& p);
    ~clint() override;

    // mtime_if: mtime at an absolute simulated time.
    uint64_t mtime_at(const sc_core::sc_time& abs) const override;

private:
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) { regs_.b_transport(t, delay); }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }
    uint64_t ticks(uint64_t abs_ps) const;
    uint64_t mtimecmp() const;
    void set_mtime(uint64_t value);
    void update_timer();  // drive MTIP now and plan the next edge (also an SC_METHOD)

    uint64_t hz_;
    uint64_t offset_ = 0;  // mtime = ticks(now) + offset_ (modulo 2^64): mtime lives in the simulated time
    register_bank regs_;   // msip and mtimecmp hold their own state
    bool mtip_ = false;
    sc_core::sc_event timer_event_;

    counter timer_irqs_{"timer_interrupts", "rising edges of MTIP"};
    counter soft_irqs_{"software_interrupts", "rising edges of MSIP"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
