// Device control block: identification and capability registers, the device
// timestamp, soft reset, and the interrupt summary (IRQ_STATUS/MASK/RAW) that turns
// interrupt lines from the queue manager into MSI-X vectors on the PCIe endpoint.
//
// Programmer's view: BAR0 0x0000-0x0FFF (abi/aax_regs.h).
// Lines: bit n of IRQ_RAW; line AAX_IRQ_CQ_SHIFT+c maps to MSI-X vector 2+c, the
// error and MMU lines to vector 1, event and boot to vector 0. Every raise of an
// unmasked line sends its vector (MSI semantics: one message per event).
#pragma once

#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_regs.h"
#include "tlm/core/extensions.h"
#include "tlm/core/register_bank.h"
#include "tlm/core/stats.h"

namespace accelvp {

class device_ctrl : public sc_core::sc_module, public irq_if {
public:
    tlm_utils::passthrough_target_socket<device_ctrl> reg_socket;
    sc_core::sc_export<irq_if> irq_in;                                         // sources raise lines here
    sc_core::sc_port<irq_if> msi_out;                                          // to the PCIe endpoint
    sc_core::sc_port<reset_if, 0, sc_core::SC_ZERO_OR_MORE_BOUND> reset_out;   // soft reset fan-out
    sc_core::sc_port<core_ctrl_if, 1, sc_core::SC_ZERO_OR_MORE_BOUND> core_out; // control core, if any

    struct caps {
        uint32_t rings = 1, cqs = 1, dma_engines = 1, msix_vectors = 2, semaphores = 1024;
        uint64_t devmem_base = 0, devmem_size = 0;
        uint64_t host_window = 0;
        bool control_core = false;  // CAPS1 bit 16
        bool mmu = false;           // CAPS1 bit 17
    };
    device_ctrl(sc_core::sc_module_name name, const caps& c);
    ~device_ctrl() override;

    static unsigned vector_for_line(unsigned line);
    uint32_t irq_raw() const { return regs_.peek(AAX_REG_IRQ_RAW); }

private:
    void raise(unsigned line) override;
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { regs_.b_transport(t, d); }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }
    uint64_t now_ns() const;

    caps caps_;
    register_bank regs_;  // holds every register's state (IRQ_RAW: the pending lines)
    counter irqs_{"irqs", "interrupt line events"};
    counter msis_{"msis", "MSI-X messages requested"};
    counter resets_{"soft_resets", "soft resets"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
