// How the control core meets its timer and interrupt controller (besides the bus).
#pragma once

#include <cstdint>

#include <systemc>

#include "tlm/core/extensions.h"

namespace accelvp {

// Machine-level interrupt lines of an RV32 core, numbered as their bits in mip/mie.
// Sources drive them through the core's irq_level_if export.
enum cpu_irq_line : unsigned {
    irq_msip = 3,   // machine software interrupt (CLINT msip)
    irq_mtip = 7,   // machine timer interrupt (CLINT mtime >= mtimecmp)
    irq_meip = 11,  // machine external interrupt (interrupt controller)
};

// The platform timer as the core's `time`/`timeh` CSRs see it: the value of mtime at an
// absolute simulated time (the core runs ahead of SystemC time by up to a quantum, so it
// asks for its own local time rather than sc_time_stamp()).
class mtime_if : public virtual sc_core::sc_interface {
public:
    virtual uint64_t mtime_at(const sc_core::sc_time& abs) const = 0;
};

} // namespace accelvp
