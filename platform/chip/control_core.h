// The chip's control core: the RV32 ISS, its CLINT, and its 32-bit view of the chip
// (abi/aax_boot.h, "the control core's 32-bit address map"):
//
//   core --> core bus (router) --+--> CLINT
//                                +--> regs window   --bridge--> chip bus: BAR0 register space
//                                +--> devmem window --bridge--> chip bus: device memory 0 .. 1 GiB
//                                +--> bus window    --bridge--> chip bus: CORE_WIN .. +1 GiB
//
// The core is held in reset until the driver writes CORE_CTRL.RUN (core_ctrl_if).
#pragma once

#include <systemc>

#include "tlm/core/bus_bridge.h"
#include "tlm/core/params.h"
#include "tlm/core/extensions.h"
#include "tlm/core/router.h"
#include "tlm/cpu/clint.h"
#include "tlm/cpu/rv32_core.h"

namespace accelvp {

class control_core : public sc_core::sc_module, public core_ctrl_if {
public:
    sc_core::sc_export<core_ctrl_if> ctrl_in;

    // The control core's own key (cpu.enabled); the core's and the CLINT's keys share `cpu.`.
    struct params {
        bool enabled = true;
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    static void declare(param_schema& s);
    control_core(sc_core::sc_module_name name, const config& c);

    // The bridges' initiator sockets, to bind to the chip bus.
    bus_bridge to_regs, to_devmem, to_chip;
    router bus;
    rv32_core core;
    clint timer;

private:
    void core_run(bool run, uint32_t entry) override;
    void core_window(uint64_t chip_address) override { to_chip.set_base(chip_address); }
    bool running_ = false;
};

} // namespace accelvp
