#include "platform/chip/control_core.h"

#include "abi/aax_boot.h"
#include "abi/aax_regs.h"
#include "tlm/core/keys.h"

namespace accelvp {

const param_table<control_core::params>& control_core::params::table() {
    static const auto t = param_table<params>().boolean(
        keys::cpu::enabled, &params::enabled,
        "the chip has a control core: its firmware boots at probe and schedules the rings (false: the queue manager "
        "schedules in hardware)");
    return t;
}

void control_core::declare(param_schema& s) {
    params::table().declare(s, "");
    rv32_core::declare(s, "cpu");
    clint::declare(s, "cpu");
}

control_core::control_core(sc_core::sc_module_name name, const config& c)
    : sc_module(name), ctrl_in("ctrl_in"), to_regs("to_regs", c.get(keys::addr::regs_base), AAX_BAR0_SIZE),
      to_devmem("to_devmem", c.get(keys::addr::devmem_base), AAX_CORE_DEVMEM_SIZE), to_chip("to_chip", 0, AAX_CORE_BUS_SIZE),
      bus("bus"), core("core", rv32_core::from_config(c, "cpu")), timer("clint", clint::from_config(c, "cpu")) {
    ctrl_in.bind(*this);
    to_regs.set_privileged(true);    // the core reaches all of register space; guest engines do not
    to_devmem.set_privileged(true);  // and its own memory (the firmware region: chip memory_guard)
    core.bus.bind(bus.target_socket);
    bus.add_target("clint", AAX_CORE_CLINT, AAX_CORE_CLINT_SIZE, timer.socket);
    bus.add_target("regs", AAX_CORE_REGS, AAX_BAR0_SIZE, to_regs.target_socket);
    bus.add_target("devmem", AAX_CORE_DEVMEM_WINDOW, AAX_CORE_DEVMEM_SIZE, to_devmem.target_socket);
    bus.add_target("chip", AAX_CORE_BUS_WINDOW, AAX_CORE_BUS_SIZE, to_chip.target_socket);
    timer.irq.bind(core.irq_in);
    core.time_source.bind(timer);
    core.request_halt();  // in reset until CORE_CTRL.RUN
}

void control_core::core_run(bool run, uint32_t entry) {
    if (run == running_) return;
    running_ = run;
    if (run) {
        core.release(entry);
    } else {
        core.request_halt();
    }
}

} // namespace accelvp
