#include "platform/system/board.h"

#include <cstring>

#include <fmt/format.h>

#include "abi/aax_regs.h"

#include "platform/host/uapi.h"
#include "tlm/core/keys.h"

namespace accelvp {

board::board(sc_core::sc_module_name name, const config& c, board_program* program)
    : sc_module(name), host("host", c), soc("chip", c), drv(host, c), cfg_(c), prog_(program) {
    soc.pcie.to_host.bind(host.bus.target_socket);
    host.bus.add_target("bar0", host.bar0(), AAX_BAR0_SIZE, soc.pcie.bar0_socket);
    host.bus.add_target("bar2", host.bar2(), c.get(keys::mem::size), soc.pcie.bar2_socket);
    SC_HAS_PROCESS(board);
    SC_THREAD(main_thread);
}

// Kill every other thread so their stacks unwind (payloads, buffers) before the
// simulation ends: SystemC never unwinds a thread that is still waiting.
void kill_threads(sc_core::sc_object* obj, const sc_core::sc_process_handle& self) {
    for (sc_core::sc_object* child : obj->get_child_objects()) kill_threads(child, self);
    sc_core::sc_process_handle h(obj);
    if (h.valid() && h != self && !h.terminated() &&
        (h.proc_kind() == sc_core::SC_THREAD_PROC_ || h.proc_kind() == sc_core::SC_CTHREAD_PROC_))
        h.kill();
}

void board::main_thread() {
    if (int rc = drv.probe()) {
        error_ = fmt::format("driver probe failed: {}", std::strerror(-rc));
    } else if (!prog_) {
        exit_code_ = 0;
    } else {
        int err = 0;
        // The workload is the host's own program, run with the kernel's trust (privileged
        // file: physical jobs allowed); tenant programs open ordinary files (docs/security.md).
        auto dev = uapi::device::open(drv, &err, true);
        if (!dev) {
            error_ = fmt::format("open: {}", std::strerror(-err));
        } else {
            workload_context ctx(*dev, cfg_, soc);
            ctx.functional = cfg_.get(keys::sim::mode) == "functional";
            ctx.seed = cfg_.get(keys::sim::seed);
            start_ps_ = sc_core::sc_time_stamp().value();
            exit_code_ = prog_->run(ctx);
            summary_ = ctx.summary;
            verified_ = ctx.verified;
            error_ = ctx.error;
            if (exit_code_ != 0 && error_.empty()) error_ = "workload failed";
        }
    }
    done_ = true;
    kill_threads(this, sc_core::sc_get_current_process_handle());
    sc_core::sc_stop();
}

} // namespace accelvp
