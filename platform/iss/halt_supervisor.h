#pragma once
// Ends a simulation whose program is a bare-metal core: when the core halts (tohost or the
// report register written, a step limit), every other thread is killed so that its stack
// unwinds before sc_stop() (see platform/system/board.cpp), and the run ends. Used by
// `accelvp iss` (platform/iss) and the SoC composition (platform/soc).

#include <systemc>

#include "tlm/cpu/rv32_core.h"

namespace accelvp {

class halt_supervisor : public sc_core::sc_module {
public:
    halt_supervisor(sc_core::sc_module_name n, rv32_core& cpu) : sc_module(n), cpu_(cpu) {
        SC_HAS_PROCESS(halt_supervisor);
        SC_THREAD(main);
    }
    bool done = false;  // the core halted (not the simulation ending some other way)

private:
    static void kill_threads(sc_core::sc_object* obj, const sc_core::sc_process_handle& self) {
        for (sc_core::sc_object* child : obj->get_child_objects()) kill_threads(child, self);
        sc_core::sc_process_handle h(obj);
        if (h.valid() && h != self && !h.terminated() &&
            (h.proc_kind() == sc_core::SC_THREAD_PROC_ || h.proc_kind() == sc_core::SC_CTHREAD_PROC_))
            h.kill();
    }
    void main() {
        wait(cpu_.halted_event());
        done = true;
        const auto self = sc_core::sc_get_current_process_handle();
        for (sc_core::sc_object* top : sc_core::sc_get_top_level_objects()) kill_threads(top, self);
        sc_core::sc_stop();
    }
    rv32_core& cpu_;
};

} // namespace accelvp
