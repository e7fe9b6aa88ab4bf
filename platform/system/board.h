// A board: one host and one chip joined by the PCIe link, and the host thread that
// probes the driver and runs the host program (a workload, a test body: board_program.h).
#pragma once

#include <memory>
#include <string>

#include <systemc>

#include "platform/chip/chip.h"
#include "platform/host/driver.h"
#include "platform/host/host_system.h"
#include "platform/system/board_program.h"

namespace accelvp {

// Kill every thread under `obj` except `self` (before sc_stop(), so their stacks unwind).
void kill_threads(sc_core::sc_object* obj, const sc_core::sc_process_handle& self);

class board : public sc_core::sc_module {
public:
    board(sc_core::sc_module_name name, const config& c, board_program* program);

    host_system host;
    chip soc;
    driver drv;

    // Outcome, valid once done() is true.
    bool done() const { return done_; }
    int exit_code() const { return exit_code_; }
    const std::string& error() const { return error_; }
    const nlohmann::json& summary() const { return summary_; }
    const std::optional<bool>& verified() const { return verified_; }
    uint64_t workload_start_ps() const { return start_ps_; }

private:
    void main_thread();
    const config& cfg_;
    board_program* prog_;
    bool done_ = false;
    int exit_code_ = 1;
    std::string error_;
    nlohmann::json summary_ = nlohmann::json::object();
    std::optional<bool> verified_;
    uint64_t start_ps_ = 0;
};

} // namespace accelvp
