// A board: one host and one chip joined by the PCIe link, and the host thread that
// probes the driver and runs the host program (a workload, a test body: board_program.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "platform/chip/chip.h"
#include "platform/host/driver.h"
#include "platform/host/host_system.h"
#include "platform/host/uapi.h"
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

    // SR-IOV (host.vms > 0, docs/virtualization.md): VM k's MSI page and its driver instance,
    // bound to VF k. The board enables the VFs after the PF's probe (set_up_vms): config
    // space (NumVFs, VF BARs, VF Enable), the PF's sriov_enable (VF k: ring k + 1, the k-th
    // partition from the top of device memory, VM k's memory, share host.vm_shares[k]), then
    // each VF driver's probe. The host program then reaches VM k's device through vm_device(k).
    unsigned vms() const { return static_cast<unsigned>(vm_drv_.size()); }
    driver& vm_driver(unsigned k) { return *vm_drv_.at(k); }
    uapi::device& vm_device(unsigned k) { return *vm_dev_.at(k); }
    uint64_t vf_bar0_base() const { return host.bar0() + 0x100000; }
    uint64_t vf_bar2_base() const { return host.bar2() + (1ull << 42); }
    // The programs the VMs run (a workload each, with its own config): set before the
    // simulation starts. With VM programs the board's own program is not run: the results
    // are the VMs', flattened into the summary as vm<k>.<key>.
    struct vm_program {
        board_program* program = nullptr;
        const config* cfg = nullptr;
        std::string name;
    };
    void set_vm_programs(std::vector<vm_program> p) { vm_prog_ = std::move(p); }
    // The VM shares (host.vm_shares) as numbers; throws config_error on a bad list.
    static std::vector<uint32_t> parse_shares(const std::string& text, unsigned vms);

    // Outcome, valid once done() is true.
    bool done() const { return done_; }
    // The process ends right after the run (run_options::leave_model_at_exit): the threads
    // still waiting when the program ends are left as they are, not killed and unwound.
    void keep_threads_at_end() { kill_at_end_ = false; }
    int exit_code() const { return exit_code_; }
    const std::string& error() const { return error_; }
    const nlohmann::json& summary() const { return summary_; }
    const std::optional<bool>& verified() const { return verified_; }
    uint64_t workload_start_ps() const { return start_ps_; }

private:
    void main_thread();
    int set_up_vms();
    void run_vm_programs();
    std::vector<vm_program> vm_prog_;
    std::vector<std::unique_ptr<msi_receiver>> vm_msi_;
    std::vector<std::unique_ptr<driver>> vm_drv_;
    std::vector<std::unique_ptr<uapi::device>> vm_dev_;
    const config& cfg_;
    board_program* prog_;
    bool done_ = false;
    bool kill_at_end_ = true;
    int exit_code_ = 1;
    std::string error_;
    nlohmann::json summary_ = nlohmann::json::object();
    std::optional<bool> verified_;
    uint64_t start_ps_ = 0;
};

} // namespace accelvp
