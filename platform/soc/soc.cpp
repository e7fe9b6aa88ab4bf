#include "platform/soc/soc.h"

#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <ostream>
#include <stdexcept>

#include <fmt/format.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/passthrough_target_socket.h>
#include <yaml-cpp/yaml.h>

#include "platform/iss/bare_metal.h"
#include "platform/iss/halt_supervisor.h"
#include "abi/aax_soc.h"
#include "platform/iss/elf_loader.h"
#include "platform/soc/npu_ip.h"
#include "tlm/core/data_dir.h"
#include "tlm/core/keys.h"
#include "tlm/core/log.h"
#include "tlm/core/router.h"
#include "tlm/core/stats.h"
#include "tlm/cpu/clint.h"
#include "tlm/cpu/cpu_if.h"
#include "tlm/cpu/gdb_server.h"
#include "tlm/cpu/rv32_core.h"
#include "tlm/mem/memory.h"

namespace accelvp {

namespace {

// The SoC's own keys.
struct soc_params {
    std::string kind = "soc";
    std::string app;                  // "" = the staged firmware/edge-soc-app.elf
    double bus_hop_ns = 2;
    uint64_t max_instr = 2000000000;  // instructions + traps before the run is ended (exit 1)
    static const param_table<soc_params>& table() {
        static const auto t =
            param_table<soc_params>()
                .string("system.kind", &soc_params::kind,
                        "composition: soc = the NPU as an IP on an SoC bus with an application CPU (docs/edge.md)",
                        {"soc"})
                .string("soc.app", &soc_params::app,
                        "bare-metal RV32 ELF the application CPU runs (\"\" = the sample application "
                        "firmware/edge-soc-app.elf)")
                .real("soc.bus_hop_ns", &soc_params::bus_hop_ns, 0, 1000, "system bus latency per transaction", "ns")
                .integer("soc.max_instr", &soc_params::max_instr, 1, 1ll << 50,
                         "application CPU steps (instructions + traps) before the run is ended as a hang");
        return t;
    }
};

memory::params dram_defaults() {
    memory::params p;
    p.size = 256ull << 20;
    p.bandwidth_gbps = 25.6;
    p.latency_ns = 100;
    return p;
}

std::string default_app_path() {
    if (const char* e = std::getenv("ACCELVP_SOC_APP")) return e;
    const std::string d = data_dir();
    return d.empty() ? std::string() : d + "/firmware/edge-soc-app.elf";
}

// System control: console, exit, report words (abi/aax_soc.h).
class sysctl : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<sysctl> socket;
    sysctl(sc_core::sc_module_name n, std::function<void(uint32_t)> on_exit)
        : sc_module(n), socket("socket"), on_exit_(std::move(on_exit)) {
        socket.register_b_transport(this, &sysctl::b_transport);
        socket.register_transport_dbg(this, &sysctl::transport_dbg);
    }
    uint32_t report[AAX_SOC_REPORT_WORDS] = {};
    std::string console;

private:
    bool access(tlm::tlm_generic_payload& t, bool debug) {
        const uint64_t a = t.get_address();
        if (t.get_data_length() != 4 || a % 4) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return false;
        }
        uint32_t v = 0;
        if (t.is_write()) std::memcpy(&v, t.get_data_ptr(), 4);
        const bool rep = a >= AAX_SOC_SYSCTL_REPORT(0) && a < AAX_SOC_SYSCTL_REPORT(AAX_SOC_REPORT_WORDS);
        if (rep) {
            uint32_t& r = report[(a - AAX_SOC_SYSCTL_REPORT(0)) / 4];
            if (t.is_write()) r = v;
            else std::memcpy(t.get_data_ptr(), &r, 4);
        } else if (a == AAX_SOC_SYSCTL_EXIT && t.is_write()) {
            if (!debug) on_exit_(v);
        } else if (a == AAX_SOC_SYSCTL_PUTC && t.is_write()) {
            if (!debug) console.push_back(static_cast<char>(v & 0xFF));
        } else if ((a == AAX_SOC_SYSCTL_EXIT || a == AAX_SOC_SYSCTL_PUTC) && t.is_read()) {
            std::memset(t.get_data_ptr(), 0, 4);
        } else {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return false;
        }
        t.set_response_status(tlm::TLM_OK_RESPONSE);
        return true;
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time&) { access(t, false); }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) { return access(t, true) ? 4 : 0; }
    std::function<void(uint32_t)> on_exit_;
};


constexpr uint64_t trap_storm_limit = 10000;

} // namespace

bool is_soc_config(const std::string& name_or_path) {
    try {
        const YAML::Node n = YAML::LoadFile(resolve_config_path(name_or_path));
        return n["system"] && n["system"]["kind"] && n["system"]["kind"].as<std::string>() == "soc";
    } catch (const std::exception&) {
        return false;  // the ordinary path reports a missing or bad file
    }
}

param_schema soc_schema() {
    param_schema s;
    sim_params::table().declare(s, "");
    soc_params::table().declare(s, "");
    memory::declare(s, "soc.dram", dram_defaults());
    rv32_core::declare(s, "cpu");
    clint::declare(s, "cpu");
    npu_ctrl::declare(s, "npu");
    compute_params::declare(s);
    dma_engine::declare(s, "dma");
    struct engines_param {
        uint32_t engines = 1;
    };
    param_table<engines_param>()
        .integer(keys::dma::engines, &engines_param::engines, 0, 1,
                 "DMA engines of the NPU IP: 1 = it fetches operands from system DRAM itself, 0 = the CPU copies "
                 "them into the NPU SRAM through its window")
        .declare(s, "");
    return s;
}

run_result run_soc(const run_options& o, std::ostream& out) {
    const auto wall0 = std::chrono::steady_clock::now();
    if (o.workload != "soc-app")
        throw config_error(fmt::format("config error: workload '{}' does not run on an SoC composition (system.kind = "
                                       "soc, -c {}); the SoC runs -w soc-app", o.workload, o.config));
    if (!o.capture_file.empty() || !o.break_packets.empty() || !o.trace_file.empty() || o.fw_log)
        throw config_error("usage error: --capture, --break-packet, --trace and --fw-log need the PCIe composition; "
                           "the SoC (system.kind = soc) has no rings or control core");
    const param_schema schema = soc_schema();
    config cfg(schema);
    cfg.load_yaml_file(resolve_config_path(o.config));
    for (const auto& ov : o.overrides) cfg.apply_override(ov);
    if (o.mode) cfg.set("sim.mode", *o.mode, "--mode");
    if (o.seed) cfg.set("sim.seed", std::to_string(*o.seed), "--seed");
    cfg.validate();
    const sim_params sp = sim_params::table().load(cfg, "");
    const soc_params so = soc_params::table().load(cfg, "");
    set_log_level(parse_log_level(sp.log_level));
    if (sp.mode != "functional")
        throw config_error(fmt::format("config error: sim.mode = {}: the SoC application computes and checks real "
                                       "data; only functional", sp.mode));
    if (cfg.get(keys::compute::clusters) != 1)
        throw config_error(fmt::format("config error: compute.clusters = {}: the NPU IP of the SoC is one cluster "
                                       "(valid: 1)", cfg.get(keys::compute::clusters)));
    const compute_params cp = compute_params::from_config(cfg);
    if (cp.sram_bytes > (256ull << 20))
        throw config_error(fmt::format("config error: compute.sram_bytes = {}: the SoC's SRAM window holds at most "
                                       "256 MiB", cp.sram_bytes));
    const memory::params dram_p = memory::from_config(cfg, "soc.dram");
    if (dram_p.size > (uint64_t{1} << 31))
        throw config_error(fmt::format("config error: soc.dram.size = {}: system DRAM at 0x{:08x} ends beyond the "
                                       "32-bit address space (at most 2 GiB)", dram_p.size, AAX_SOC_DRAM_BASE));
    if (!o.stats_file.empty()) {
        std::ofstream probe(o.stats_file, std::ios::app);
        if (!probe) throw config_error("usage error: cannot write output file '" + o.stats_file + "'");
    }
    const std::string app = so.app.empty() ? default_app_path() : so.app;
    if (app.empty())
        throw config_error("config error: soc.app is not set and no sample application was built "
                           "(riscv64-unknown-elf-gcc missing; tools/setup.sh installs it)");
    const elf_image elf = load_elf(app);
    const uint64_t dram_end = uint64_t{AAX_SOC_DRAM_BASE} + dram_p.size;
    for (const auto& seg : elf.segments)
        if (seg.addr < AAX_SOC_DRAM_BASE || uint64_t{seg.addr} + seg.mem_size > dram_end)
            throw elf_error(fmt::format("elf error: {}: segment [0x{:08x}, 0x{:08x}) lies outside system DRAM "
                                        "[0x{:08x}, 0x{:08x}) (soc.dram.size)",
                                        app, seg.addr, uint64_t{seg.addr} + seg.mem_size, AAX_SOC_DRAM_BASE, dram_end));

    // Elaborate.
    auto cpu = std::make_unique<rv32_core>("cpu", rv32_core::from_config(cfg, "cpu"));
    auto timer = std::make_unique<clint>("clint", clint::from_config(cfg, "cpu"));
    auto bus = std::make_unique<router>("bus", sc_core::sc_time(so.bus_hop_ns, sc_core::SC_NS));
    auto dram = std::make_unique<memory>("dram", dram_p);
    bool exited = false;
    uint32_t exit_value = 0;
    auto sys = std::make_unique<sysctl>("sysctl", [&](uint32_t v) {
        exited = true;
        exit_value = v;
        cpu->request_halt();
    });
    npu_ip::layout l;
    l.dram_size = dram_p.size;
    l.irq_line = irq_meip;
    auto npu = std::make_unique<npu_ip>("npu", cfg, l);
    auto sup = std::make_unique<halt_supervisor>("soc", *cpu);
    cpu->bus.bind(bus->target_socket);
    npu->master().bind(bus->target_socket);
    bus->add_target("clint", AAX_SOC_CLINT_BASE, clint::size, timer->socket);
    bus->add_target("sysctl", AAX_SOC_SYSCTL_BASE, AAX_SOC_SYSCTL_SIZE, sys->socket);
    bus->add_target("npu_regs", AAX_SOC_NPU_REGS_BASE, AAX_SOC_NPU_REGS_SIZE, npu->reg_target());
    bus->add_target("npu_sram", AAX_SOC_NPU_SRAM_BASE, npu->sram_bytes(), npu->window_target());
    bus->add_target("dram", AAX_SOC_DRAM_BASE, dram_p.size, dram->socket);
    timer->irq.bind(cpu->irq_in);
    npu->irq().bind(cpu->irq_in);
    cpu->time_source.bind(*timer);

    load_elf_segments(dram->store(), AAX_SOC_DRAM_BASE, elf);
    cpu->set_pc(elf.entry);
    cpu->set_step_limit(so.max_instr);
    cpu->set_trap_storm_limit(trap_storm_limit);
    auto gdb = start_gdb_server(*cpu, o.gdb_port, app);

    const auto sim0 = std::chrono::steady_clock::now();
    sc_core::sc_start(sc_core::sc_time(sp.max_time_ms, sc_core::SC_MS));
    const auto sim1 = std::chrono::steady_clock::now();

    run_result res;
    std::string status;
    const uint32_t* rep = sys->report;
    const bool report_ok = rep[AAX_SOC_REP_MAGIC] == AAX_SOC_REPORT_MAGIC;
    if (exited && exit_value == 1 && report_ok && rep[AAX_SOC_REP_MISMATCHES] == 0) {
        status = "pass";
    } else if (exited) {
        status = "fail";
        res.exit_code = exit_device_error;
        res.error = fmt::format("the application failed: exit 0x{:x}, {} mismatching result words{}", exit_value,
                                rep[AAX_SOC_REP_MISMATCHES], report_ok ? "" : ", report incomplete");
    } else if (sup->done && cpu->halted() == rv32_core::halt_reason::debugger) {
        status = "killed";
        res.exit_code = exit_device_error;
        res.error = fmt::format("killed from GDB at pc = 0x{:08x}", cpu->pc());
    } else if (sup->done) {
        status = "hang";
        res.exit_code = exit_device_error;
        res.error = fmt::format("the application CPU stopped without exiting ({} at pc = 0x{:08x}; soc.max_instr = {})",
                                cpu->halted() == rv32_core::halt_reason::trap_storm ? "trap storm" : "step limit",
                                cpu->pc(), so.max_instr);
    } else {
        status = "hang";
        res.exit_code = exit_device_error;
        res.error = fmt::format("the application did not exit within sim.max_time_ms = {} (pc = 0x{:08x})",
                                sp.max_time_ms, cpu->pc());
    }
    if (gdb) gdb->program_exited(res.exit_code);

    const double sim_ns = static_cast<double>(sc_core::sc_time_stamp().value()) / 1000.0;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    const double cpu_mhz = rv32_core::from_config(cfg, "cpu").freq_mhz;
    const bool dma_mode = npu->has_dma();
    nlohmann::json st;
    st["schema_version"] = 1;
    st["mode"] = "soc";
    st["config"] = cfg.to_json();
    st["workload"] = {{"name", "soc-app"}, {"verified", status == "pass"}, {"app", app}};
    st["simulated_ns"] = sim_ns;
    st["wall_s"] = wall;
    nlohmann::json sm;
    sm["status"] = status;
    sm["dma"] = dma_mode;
    sm["simulated_ns"] = sim_ns;
    sm["cpu_instructions"] = cpu->instructions();
    sm["cpu_cycles"] = cpu->cycles();
    sm["cycles"] = cpu->cycles();  // the benchmark suites' gated figure: the application CPU's clock
    sm["copy_instructions"] = rep[AAX_SOC_REP_COPY_INSTRET];
    sm["npu_phase_ns"] = rep[AAX_SOC_REP_NPU_CYCLES] * 1000.0 / cpu_mhz;
    sm["list_phase_ns"] = rep[AAX_SOC_REP_LIST_CYCLES] * 1000.0 / cpu_mhz;
    sm["list_copy_instructions"] = rep[AAX_SOC_REP_LIST_COPY_INSTRET];
    sm["npu_busy_ns"] = static_cast<double>(npu->ctrl.busy_ps()) / 1000.0;
    sm["npu_jobs"] = npu->ctrl.jobs();
    sm["npu_errors"] = npu->ctrl.errors();
    sm["bus_bytes"] = npu->ctrl.window_bytes() + npu->ctrl.dma_bytes() + npu->ctrl.fetch_bytes();
    sm["window_bytes"] = npu->ctrl.window_bytes();
    sm["dma_bytes"] = npu->ctrl.dma_bytes();
    sm["fetch_bytes"] = npu->ctrl.fetch_bytes();
    sm["app_jobs"] = rep[AAX_SOC_REP_JOBS];
    sm["irqs"] = rep[AAX_SOC_REP_IRQS];
    sm["error_tests"] = rep[AAX_SOC_REP_ERR_TESTS];
    sm["mismatches"] = rep[AAX_SOC_REP_MISMATCHES];
    sm["checksum"] = rep[AAX_SOC_REP_CHECKSUM];
    st["summary"] = sm;
    st["console"] = sys->console;
    st["components"] = global_stats().to_json(sim_ns * 1e-9);
    st["host"] = global_stats().host_json();
    if (!res.error.empty()) st["error"] = res.error;
    res.stats = st;

    if (!o.stats_file.empty()) {
        std::ofstream f(o.stats_file);
        f << st.dump(2) << "\n";
        if (!f) {
            res.exit_code = res.exit_code ? res.exit_code : exit_usage;
            res.error = "cannot write stats file '" + o.stats_file + "'";
        }
    }
    if (o.json) {
        out << st.dump(2) << "\n";
    } else if (!o.quiet) {
        out << sys->console;
        if (!sys->console.empty() && sys->console.back() != '\n') out << "\n";
        out << fmt::format("accelvp | workload soc-app | config {} | SoC, {} | app {}\n", o.config,
                           dma_mode ? "NPU DMA" : "no DMA (CPU copies)", status == "pass" ? "PASS" : status);
        out << "  metric                  value\n  ----------------------  ----------------\n";
        for (const char* k : {"simulated_ns", "npu_phase_ns", "list_phase_ns", "npu_busy_ns", "npu_jobs", "bus_bytes",
                              "window_bytes", "dma_bytes", "fetch_bytes", "cpu_instructions", "copy_instructions",
                              "list_copy_instructions", "irqs", "error_tests"})
            out << fmt::format("  {:<22}  {}\n", k, sm[k].dump());
        out << fmt::format("  verified: {}   simulated: {:.3f} us   wall: {:.3f} s\n",
                           status == "pass" ? "yes, bit-exact (checked by the application CPU)" : "NO", sim_ns / 1000.0,
                           std::chrono::duration<double>(sim1 - sim0).count());
    }
    return res;
}

} // namespace accelvp
