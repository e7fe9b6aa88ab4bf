#include "platform/system/board.h"

#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "abi/aax_regs.h"
#include "abi/aax_sriov.h"
#include "tlm/core/log.h"

#include "platform/host/uapi.h"
#include "tlm/core/keys.h"

namespace accelvp {

board::board(sc_core::sc_module_name name, const config& c, board_program* program)
    : sc_module(name), host("host", c), soc("chip", c), drv(host, c), cfg_(c), prog_(program) {
    soc.pcie.to_host.bind(host.bus.target_socket);
    host.bus.add_target("bar0", host.bar0(), AAX_BAR0_SIZE, soc.pcie.bar0_socket);
    host.bus.add_target("bar2", host.bar2(), c.get(keys::mem::size), soc.pcie.bar2_socket);
    if (const unsigned max_vfs = soc.pcie.get_params().max_vfs) {
        host.bus.add_target("vf_bar0", vf_bar0_base(), uint64_t{max_vfs} * AAX_BAR0_SIZE, soc.pcie.vf_bar0_socket);
        host.bus.add_target("vf_bar2", vf_bar2_base(), max_vfs * soc.pcie.vf_bar2_size(), soc.pcie.vf_bar2_socket);
    }
    const unsigned vms = host.vms();
    if (vms > soc.pcie.get_params().max_vfs)
        throw config_error(fmt::format("config error: host.vms = {} needs as many SR-IOV VFs: pcie.sriov.max_vfs is {}",
                                       vms, soc.pcie.get_params().max_vfs));
    if (vms && (!c.get(keys::cpu::enabled) || !c.get(keys::mmu::enabled)))
        throw config_error("config error: host.vms > 0 needs cpu.enabled=true (the firmware schedules the VFs) and "
                           "mmu.enabled=true (each VF runs in its own MMU context)");
    if (vms + 1 > c.get(keys::qman::rings))
        throw config_error(fmt::format("config error: host.vms = {} needs qman.rings >= {} (one ring for the PF, one "
                                       "per VM), qman.rings is {}", vms, vms + 1, c.get(keys::qman::rings)));
    parse_shares(host.vm_shares(), vms);
    for (unsigned k = 0; k < vms; ++k) {
        vm_msi_.push_back(std::make_unique<msi_receiver>(fmt::format("vm{}_msi", k).c_str()));
        host.bus.add_target(fmt::format("vm{}_msi", k), host.vm_msi_addr(k), 0x1000, vm_msi_.back()->socket);
        driver::function_view fn;
        fn.bar0 = vf_bar0_base() + uint64_t{k} * AAX_BAR0_SIZE;
        fn.bar2 = vf_bar2_base() + k * soc.pcie.vf_bar2_size();
        fn.msi = vm_msi_.back().get();
        fn.msi_addr = host.vm_msi_addr(k);
        fn.host_base = host.vm_mem_base(k);
        fn.host_size = host.vm_mem_size();
        vm_drv_.push_back(std::make_unique<driver>(host, c, fmt::format("host.vm{}.driver", k), fn));
    }
    if (vms) {
        drv.set_max_rings(1);  // the PF keeps ring 0; VM k gets ring k + 1
        // The firmware's SR-IOV build, next to the default image (a custom host.driver.firmware is
        // loaded as it is: it must handle AAX_MBOX_SRIOV itself).
        const std::string fw = drv.firmware_path(), def = "accelvp-fw.elf";
        if (fw.size() >= def.size() && fw.compare(fw.size() - def.size(), def.size(), def) == 0) {
            const std::string sriov = fw.substr(0, fw.size() - def.size()) + "accelvp-fw-sriov.elf";
            // Not a quiet fallback: the default image ignores the VFs' rings.
            std::FILE* f = std::fopen(sriov.c_str(), "rb");
            if (!f)
                throw config_error(fmt::format("config error: host.vms = {} needs the firmware's SR-IOV build {} "
                                               "(built beside {}); or set host.driver.firmware to an image that "
                                               "handles AAX_MBOX_SRIOV", vms, sriov, fw));
            std::fclose(f);
            drv.set_firmware(sriov);
        }
    }
    SC_HAS_PROCESS(board);
    SC_THREAD(main_thread);
}

// Kill every other thread so their stacks unwind (payloads, buffers) before the
// simulation ends: SystemC never unwinds a thread that is still waiting. (Killing newest
// first while holding every handle saved 4-8 % of a 512-chip run's teardown, but made
// LeakSanitizer's exit-time scan crash in about one run in ten of the ASan tests: reverted.)
void kill_threads(sc_core::sc_object* obj, const sc_core::sc_process_handle& self) {
    for (sc_core::sc_object* child : obj->get_child_objects()) kill_threads(child, self);
    sc_core::sc_process_handle h(obj);
    if (h.valid() && h != self && !h.terminated() &&
        (h.proc_kind() == sc_core::SC_THREAD_PROC_ || h.proc_kind() == sc_core::SC_CTHREAD_PROC_))
        h.kill();
}

std::vector<uint32_t> board::parse_shares(const std::string& text, unsigned vms) {
    std::vector<uint32_t> out;
    size_t pos = 0;
    while (!text.empty() && pos <= text.size()) {
        const size_t end = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, end - pos);
        char* stop = nullptr;
        const unsigned long v = std::strtoul(item.c_str(), &stop, 10);
        if (item.empty() || *stop || v < 1 || v > 255)
            throw config_error(fmt::format("config error: host.vm_shares = \"{}\": each share must be an integer 1-255",
                                           text));
        out.push_back(static_cast<uint32_t>(v));
        pos = end + 1;
    }
    if (text.empty()) out.assign(vms, 1);
    if (out.size() != vms)
        throw config_error(fmt::format("config error: host.vm_shares = \"{}\" has {} shares, host.vms is {}", text,
                                       out.size(), vms));
    return out;
}

// The Linux PCI core's sriov_enable and the PF driver's sriov_configure, then each VM's probe.
int board::set_up_vms() {
    const unsigned n = vms();
    const uint64_t vf_bar2 = soc.pcie.vf_bar2_size();
    soc.pcie.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_NUM_VFS, 2, n);
    soc.pcie.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_VF_BAR(0), 4, static_cast<uint32_t>(vf_bar0_base()));
    soc.pcie.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_VF_BAR(2), 4, static_cast<uint32_t>(vf_bar2_base()));
    soc.pcie.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_VF_BAR(3), 4, static_cast<uint32_t>(vf_bar2_base() >> 32));
    soc.pcie.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_CTRL, 2, AAX_SRIOV_CTRL_VFE | AAX_SRIOV_CTRL_MSE);
    const auto shares = parse_shares(host.vm_shares(), n);
    const device_info& pf = drv.info();
    std::vector<driver::vf_setup> setup(n);
    for (unsigned k = 0; k < n; ++k) {
        driver::vf_setup& S = setup[k];
        S.first_ring = k + 1;
        S.rings = 1;
        S.mem_size = vf_bar2;
        S.mem_base = pf.devmem_base + pf.devmem_size - (k + 1) * vf_bar2;
        S.host_base = host.vm_mem_base(k);
        S.host_size = host.vm_mem_size();
        S.share = shares[k];
        for (unsigned i = 0; i < soc.compute.clusters.size(); ++i)
            S.extra.emplace_back(soc.sram_addr(i), soc.compute.params().sram_bytes);
    }
    if (int rc = drv.sriov_enable(setup)) return rc;
    for (unsigned k = 0; k < n; ++k) {
        if (int rc = vm_drv_[k]->probe()) return rc;
        int err = 0;
        auto dev = uapi::device::open(*vm_drv_[k], &err, true);  // the VM's own kernel-trusted program
        if (!dev) return err;
        vm_dev_.push_back(std::move(dev));
    }
    return 0;
}

// Each VM's program in its own host thread, at once; the board's outcome is the worst of theirs.
void board::run_vm_programs() {
    const unsigned n = static_cast<unsigned>(std::min<size_t>(vm_prog_.size(), vms()));
    std::vector<std::unique_ptr<workload_context>> ctx;
    std::vector<int> rc(n, 1);
    std::vector<uint64_t> t_end(n, 0);
    unsigned left = n;
    sc_core::sc_event all_done;
    start_ps_ = sc_core::sc_time_stamp().value();
    for (unsigned k = 0; k < n; ++k) {
        ctx.push_back(std::make_unique<workload_context>(vm_device(k), *vm_prog_[k].cfg, soc));
        ctx[k]->functional = vm_prog_[k].cfg->get(keys::sim::mode) == "functional";
        ctx[k]->seed = vm_prog_[k].cfg->get(keys::sim::seed) + k;
        sc_core::sc_spawn(
            [&, k] {
                rc[k] = vm_prog_[k].program->run(*ctx[k]);
                t_end[k] = sc_core::sc_time_stamp().value();
                if (--left == 0) all_done.notify(sc_core::SC_ZERO_TIME);
            },
            fmt::format("vm{}_program", k).c_str());
    }
    if (n) sc_core::wait(all_done);
    exit_code_ = 0;
    bool any_verified = false, all_verified = true;
    for (unsigned k = 0; k < n; ++k) {
        const std::string p = fmt::format("vm{}.", k);
        summary_[p + "workload"] = vm_prog_[k].name;
        for (const auto& [key, v] : ctx[k]->summary.items())
            if (!v.is_array() && !v.is_object()) summary_[p + key] = v;
        const driver& d = *vm_drv_[k];
        const double us = static_cast<double>(t_end[k] - start_ps_) / 1e6;
        summary_[p + "elapsed_us"] = us;
        summary_[p + "jobs"] = d.jobs_completed();
        summary_[p + "jobs_per_ms"] = us > 0 ? static_cast<double>(d.jobs_completed()) * 1e3 / us : 0.0;
        summary_[p + "mean_job_latency_us"] = d.mean_job_latency_us();
        summary_[p + "verified"] = ctx[k]->verified ? (*ctx[k]->verified ? "yes" : "NO") : "not checked";
        if (ctx[k]->verified) {
            any_verified = true;
            all_verified &= *ctx[k]->verified;
        }
        if (rc[k] != 0) {
            exit_code_ = rc[k];
            if (error_.empty()) error_ = fmt::format("VM {} ({}): {}", k, vm_prog_[k].name, ctx[k]->error);
        }
    }
    if (any_verified) verified_ = all_verified;
}

void board::main_thread() {
    int vm_rc = 0;
    if (int rc = drv.probe()) {
        error_ = fmt::format("driver probe failed: {}", std::strerror(-rc));
    } else if (vms() && (vm_rc = set_up_vms()) != 0) {
        error_ = fmt::format("SR-IOV set-up of {} VMs failed: {}", vms(), std::strerror(-vm_rc));
    } else if (!vm_prog_.empty()) {
        run_vm_programs();
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
    if (kill_at_end_) kill_threads(this, sc_core::sc_get_current_process_handle());
    sc_core::sc_stop();
}

} // namespace accelvp
