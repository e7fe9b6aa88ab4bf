#include "platform/sim/simulation.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <new>
#include <filesystem>
#include <sys/resource.h>
#include <unistd.h>
#include <fstream>
#include <functional>
#include <iostream>
#include <ostream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "platform/host/capture.h"
#include "platform/host/driver.h"
#include "platform/workloads/cmdstream.h"
#include "platform/sim/config_consistency.h"
#include "platform/sim/fw_trace.h"
#include "platform/sim/state_dump.h"
#include "platform/system/board.h"
#include "platform/system/system_board.h"
#include "platform/workloads/collective.h"
#include "tlm/cpu/gdb_server.h"
#include "tlm/core/log.h"
#include "tlm/core/stats.h"
#include "tlm/core/trace.h"
#include "tlm/mem/dram_controller.h"
#include "tlm/mem/dram_timing.h"
#include "tlm/core/keys.h"

namespace accelvp {

const param_table<sim_params>& sim_params::table() {
    using P = sim_params;
    static const auto t =
        param_table<P>()
            .string(keys::preset::name, &P::preset_name, "name of this configuration")
            .string(keys::preset::description, &P::preset_description,
                    "one-line description, shown by 'accelvp list'")
            .string(keys::sim::mode, &P::mode, "functional: move and check data; timing: time only, same cycles",
                    {"functional", "timing"})
            .integer(keys::sim::seed, &P::seed, 0, INT64_MAX, "seed for workload data")
            .string(keys::sim::log_level, &P::log_level, "log verbosity on stderr",
                    {"error", "warn", "info", "debug", "trace"})
            .real(keys::sim::max_time_ms, &P::max_time_ms, 0.001, 1e9, "simulated-time limit of a run", "ms")
            .boolean("sim.host_memory_check", &P::host_memory_check,
                     "refuse a functional run whose data would not fit in the host's available memory (estimated)");
    return t;
}

// Per-component log levels: -p log.<component>=LEVEL (docs/debugging.md#logs-and-traces).
const std::vector<std::pair<std::string, std::string>>& log_components() {
    static const std::vector<std::pair<std::string, std::string>> c{
        {"driver", "the host driver (host.driver): probe, submissions, interrupts, errors, resets"},
        {"qman", "the queue manager: every packet a ring runs (debug), job errors"},
        {"dma", "the DMA engines"},
        {"ctrl", "the device controller: interrupt routing (debug)"},
        {"cpu", "the control core"},
        {"mmu", "the MMU"},
        {"pcie", "the PCIe endpoint"},
        {"sync", "the semaphores"},
        {"compute", "the compute clusters"},
        {"mem", "device memory and the DRAM controller"},
        {"regs", "register-access trace: every bus read and write of a device register (debug)"},
    };
    return c;
}

param_schema build_schema(const std::string& workload_name) {
    param_schema s;
    sim_params::table().declare(s, "");
    for (const auto& [comp, what] : log_components())
        s.string("log." + comp, "default", "log level of " + what + " (default: sim.log_level)",
                 {"default", "error", "warn", "info", "debug", "trace"});
    chip::declare(s);
    host_system::declare(s);
    driver::declare(s);
    if (!workload_name.empty()) make_workload(workload_name)->declare(s);
    return s;
}

config load_config(const param_schema& schema, const run_options& o, std::vector<std::string>* warnings) {
    config c(schema);
    const std::string path = resolve_config_path(o.config);
    // An SoC preset (system.kind: soc, docs/edge.md) is not a configuration of this platform.
    try {
        const YAML::Node y = YAML::LoadFile(path);
        if (y["system"] && y["system"]["kind"] && y["system"]["kind"].as<std::string>() == "soc")
            throw config_error(fmt::format("config error: -c {} is an SoC composition (system.kind = soc): run it with "
                                           "'accelvp run -c {}' (workload soc-app, docs/edge.md)", o.config, o.config));
    } catch (const YAML::Exception&) {
        // load_yaml_file reports a bad file below
    }
    c.load_yaml_file(path);
    for (const auto& ov : o.overrides) c.apply_override(ov);
    if (o.mode) c.set("sim.mode", *o.mode, "--mode");
    if (o.seed) c.set("sim.seed", std::to_string(*o.seed), "--seed");
    c.validate();
    // Cross-parameter checks.
    dram_params::from_config(c, "mem");  // impossible DRAM timings (memsim uses the DRAM model whatever mem.model says)
    const uint64_t devmem = c.get(keys::mem::size);
    if (c.get(keys::addr::devmem_base) + devmem > c.get(keys::addr::regs_base) &&
        c.get(keys::addr::devmem_base) < c.get(keys::addr::regs_base) + 0x10000)
        throw config_error(fmt::format("config error: mem.size = {} makes device memory overlap addr.regs_base = 0x{:x}",
                                       devmem, c.get(keys::addr::regs_base)));
    std::vector<std::string> w;
    derive_and_check(c, w);
    // A multi-chip system (docs/links.md, scale): every chip's control core would translate its
    // own copy of the same firmware (~420 blocks, two mprotect calls each), which cost more than
    // the few thousand instructions a chip runs -- a quarter of a 256-chip collective's CPU.
    if (!o.workload.empty() && schema.find("system.chips") && schema.find("cpu.engine") && !c.is_set("cpu.engine") &&
        make_workload(o.workload)->system() == system_kind::multi_chip && c.get(keys::system::chips) > 1)
        c.set_derived("cpu.engine", "interp", "a multi-chip system: the chips run little firmware each");
    if (warnings) *warnings = w;
    else
        for (const auto& m : w) std::cerr << "accelvp: warning: " << m << "\n";
    return c;
}

namespace {

// ---- nothing lost: output files, signals, host memory -----------------------------

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

// SIGINT and SIGTERM end the run after the current slice; a second one kills as usual
// (SA_RESETHAND), so a process stuck inside one slice can still be stopped.
class signal_guard {
public:
    signal_guard() {
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sigaction(SIGINT, &sa, &old_int_);
        sigaction(SIGTERM, &sa, &old_term_);
    }
    ~signal_guard() {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
    }
    signal_guard(const signal_guard&) = delete;
    signal_guard& operator=(const signal_guard&) = delete;

private:
    struct sigaction old_int_ {}, old_term_ {};
};

std::string out_of_memory_text() {
    return "out of host memory (a C++ allocation failed); use --mode timing or a smaller workload";
}

// The stats document as text (nlohmann's dump(2)); with `streamed`, its `components` value
// is a placeholder, replaced by the registry's own text written one component at a time.
void write_stats_text(std::ostream& os, const nlohmann::json& st, double simulated_s, bool streamed) {
    const std::string text = st.dump(2);
    // A top-level key is the only line starting with two spaces and a quote (a string value's
    // newlines are escaped), so this finds the placeholder and nothing else.
    const std::string key = "\n  \"components\": ";
    const size_t at = streamed ? text.find(key) : std::string::npos;
    if (at == std::string::npos) {
        os << text << "\n";
        return;
    }
    const size_t value = at + key.size(), end = text.find('\n', value);
    const size_t tail = end == std::string::npos ? text.size() : end;
    const size_t comma = text[tail - 1] == ',' ? tail - 1 : tail;  // a key after it keeps its comma
    os.write(text.data(), static_cast<std::streamsize>(value));
    global_stats().write_json(os, simulated_s, 2, 1);
    os.write(text.data() + comma, static_cast<std::streamsize>(text.size() - comma));
    os << "\n";
}

// Writes what `write` puts into the stream to `path`; returns "" or the reason it failed
// (every error, including the ones a buffered stream reports only when it is closed, e.g. on a
// full disk).
std::string write_file(const std::string& path, const std::function<void(std::ostream&)>& write) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) return std::strerror(errno);
    write(f);
    f.close();
    if (!f) return errno ? std::strerror(errno) : "write failed";
    return "";
}

std::string write_file(const std::string& path, const std::string& text) {
    return write_file(path, [&](std::ostream& f) { f.write(text.data(), static_cast<std::streamsize>(text.size())); });
}

// Available host memory: MemAvailable, or the address-space limit if lower. 0 = unknown.
uint64_t host_memory_available() {
    uint64_t avail = 0;
    if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
        char line[256];
        unsigned long long kb = 0;
        while (std::fgets(line, sizeof line, f))
            if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1) avail = kb * 1024;
        std::fclose(f);
    }
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        avail = avail ? std::min<uint64_t>(avail, rl.rlim_cur) : rl.rlim_cur;
    return avail;
}

} // namespace

uint64_t host_bytes_estimate(const config& c, const std::string& workload) {
    uint64_t chips = 1;
    // Every multi-chip workload (collective, train-step) elaborates system.chips chips.
    if (c.schema().find("system.chips") && make_workload(workload)->system() == system_kind::multi_chip)
        chips = std::max<uint64_t>(1, c.get(keys::system::chips));
    // The models themselves: measured 1.4 MiB of RSS per chip of a 256-chip training system
    // in timing mode, 1.8 MiB at 1024 chips with the end-of-run stats (docs/links.md, scale);
    // 2 MiB per chip is counted. Plus the command streams: a ring collective gives each chip
    // 2 (chips - 1) steps of ~56 bytes, held twice while the hosts write them (host copy and
    // device memory): 224 bytes x chips^2 (1024 chips: 0.2 GiB; 4096: 3.5 GiB).
    const uint64_t models = chips > 1 ? chips * (2ull << 20) + 224 * chips * chips : 0;
    // A functional run holds its data in sparse host-side stores (host memory, device
    // memory) plus the workload's reference data. Measured: dma-copy of 1 GiB peaks at
    // 2.04 GiB RSS in every direction (docs/security.md#nothing-lost), so 2 x
    // workload.bytes (per chip for a collective). A size the device memory cannot hold is
    // not counted: the allocation fails at once with a device error.
    if (c.get(keys::sim::mode) != "functional" || !c.schema().find(keys::workload::bytes)) return models;
    const uint64_t bytes = c.get(keys::workload::bytes);
    if (bytes > c.get(keys::mem::size)) return models;
    return bytes > (UINT64_MAX / 4) / chips ? UINT64_MAX : models + 2 * bytes * chips;
}

void check_host_memory(const config& c, const std::string& workload) {
    if (!c.get_bool("sim.host_memory_check")) return;
    const uint64_t need = host_bytes_estimate(c, workload);
    const uint64_t avail = host_memory_available();
    if (need == 0 || avail == 0 || need <= avail) return;
    const bool functional = c.get(keys::sim::mode) == "functional" && c.schema().find(keys::workload::bytes);
    const std::string chips = make_workload(workload)->system() == system_kind::multi_chip ? fmt::format("system.chips = {}", c.get(keys::system::chips)) : "";
    std::string what;
    if (functional)
        what = fmt::format("a functional run with workload.bytes = {}{}", c.get(keys::workload::bytes),
                           chips.empty() ? "" : " on " + chips);
    else
        what = "a system of " + chips;
    throw config_error(fmt::format(
        "config error: {} needs about {:.1f} GiB of host memory, more than the {:.1f} GiB available; {}or "
        "-p sim.host_memory_check=false to try anyway",
        what, static_cast<double>(need) / (1ull << 30), static_cast<double>(avail) / (1ull << 30),
        functional ? "use --mode timing (sim.mode = timing: the same cycles without data), a smaller workload.bytes, "
                   : "use fewer system.chips, "));
}

void probe_outputs(const run_options& o) {
    namespace fs = std::filesystem;
    const std::vector<std::pair<const char*, std::string>> outs{
        {"--stats", o.stats_file}, {"--trace", o.trace_file}, {"--capture", o.capture_file}};
    if (!o.stats_file.empty() && !o.trace_file.empty()) {
        std::error_code e1, e2, e3;
        const bool same = fs::weakly_canonical(o.stats_file, e1) == fs::weakly_canonical(o.trace_file, e2) ||
                          fs::equivalent(o.stats_file, o.trace_file, e3);
        if (same)
            throw config_error(fmt::format("usage error: --stats and --trace name the same file '{}'; one would "
                                           "overwrite the other",
                                           o.trace_file));
    }
    for (const auto& [opt, path] : outs) {
        if (path.empty()) continue;
        std::error_code ec;
        if (fs::is_directory(path, ec))
            throw config_error(fmt::format("usage error: {} '{}' is a directory, not a file", opt, path));
        // Open it as the write will (append: nothing is truncated yet); access() would not
        // do: it says yes to root for files that cannot be opened for writing (/proc).
        const bool existed = fs::exists(path, ec);
        std::FILE* f = std::fopen(path.c_str(), "a");
        if (!f)
            throw config_error(fmt::format("usage error: {}: cannot write output file '{}': {}", opt, path,
                                           std::strerror(errno)));
        std::fclose(f);
        if (!existed) fs::remove(path, ec);
    }
}

namespace {
std::string fmt_value(const nlohmann::json& v) {
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (!std::isfinite(d) || std::abs(d) >= 1e18) return fmt::format("{}", d);
        if (d == std::floor(d)) return fmt::format("{:.0f}", d);
        return std::abs(d) >= 1e4 ? fmt::format("{:.1f}", d) : fmt::format("{:.4f}", d);
    }
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}
} // namespace

void print_report(const nlohmann::json& st, std::ostream& out) {
    const auto& w = st["workload"];
    out << fmt::format("accelvp {} | workload {} | config {} | mode {} | seed {}\n", ACCELVP_VERSION,
                       w["name"].get<std::string>(), st["config"]["preset.name"].get<std::string>(),
                       st["config"]["sim.mode"].get<std::string>(), st["config"]["sim.seed"].get<int64_t>());
    size_t width = 10;
    for (const auto& [k, v] : st["summary"].items()) width = std::max(width, k.size());
    out << fmt::format("  {:<{}}  {}\n", "metric", width, "value");
    out << fmt::format("  {:-<{}}  {:-<16}\n", "", width, "");
    for (const auto& [k, v] : st["summary"].items())
        if (!v.is_array()) out << fmt::format("  {:<{}}  {}\n", k, width, fmt_value(v));
    // A size sweep (collective): its table, the rows above being its last size.
    if (st["summary"].contains("sweep")) {
        out << "  size sweep (figures above: the last size)\n";
        print_collective_sweep(st["summary"]["sweep"], out);
    }
    // A training step (train-step): its gradient buckets' all-reduces.
    if (st["summary"].contains("bucket_table") && !st["summary"]["bucket_table"].empty()) {
        out << fmt::format("  {:<44} {:>12} {:>11} {:>11} {:>11}\n", "gradient bucket (layers)", "bytes", "ready_us",
                           "start_us", "end_us");
        for (const auto& b : st["summary"]["bucket_table"])
            out << fmt::format("  {:<44} {:>12} {:>11.3f} {:>11.3f} {:>11.3f}\n", b["layers"].get<std::string>(),
                               b["bytes"].get<uint64_t>(), b["ready_us"].get<double>(), b["start_us"].get<double>(),
                               b["end_us"].get<double>());
    }
    // A whole model (workloads model, onnx): the per-layer table.
    if (st["summary"].contains("layers") && st["summary"]["layers"].is_array()) {
        out << fmt::format("  {:<28} {:<14} {:<18} {:>12} {:>7} {:<8} {:>12}\n", "layer", "op", "output", "device_us",
                           "util", "bound", "hbm_MB");
        for (const auto& l : st["summary"]["layers"])
            out << fmt::format("  {:<28} {:<14} {:<18} {:>12.3f} {:>6.1f}% {:<8} {:>12.3f}\n",
                               l["name"].get<std::string>(), l["op"].get<std::string>(), l["shape"].get<std::string>(),
                               l["device_ns"].get<double>() / 1e3, 100.0 * l["utilization"].get<double>(),
                               l["bound"].get<std::string>(), l["hbm_bytes"].get<double>() / 1e6);
    }
    const auto& ver = w["verified"];
    const std::string verified = st.contains("partial")      ? "no: partial run"
                                 : st.contains("error")        ? "no: the run failed"
                                 : ver.is_boolean()           ? (ver.get<bool>() ? "yes, bit-exact" : "NO")
                                 : st["config"]["sim.mode"] == "timing" ? "not checked (timing mode)"
                                                                        : "not applicable";
    out << fmt::format("  verified: {}   simulated: {:.3f} us   wall: {:.3f} s\n", verified,
                       st["simulated_ns"].get<double>() / 1000.0, st["wall_s"].get<double>());
}

run_result run(const run_options& o, std::ostream& out) {
    const auto wall0 = std::chrono::steady_clock::now();
    // Timelines, traces and completion-record timestamps read sc_time::value() as picoseconds
    // (docs/architecture.md, "Time resolution").
    if (sc_core::sc_get_time_resolution() != sc_core::sc_time(1, sc_core::SC_PS))
        throw std::logic_error("accelvp needs the SystemC time resolution to be 1 ps, it is " +
                               sc_core::sc_get_time_resolution().to_string());
    // SIGINT/SIGTERM from here on: the simulation stops after its current slice and reports
    // what was done (a signal during elaboration stops it after the first slice).
    g_stop_signal = 0;
    const signal_guard signals;
    auto wl = make_workload(o.workload);
    const param_schema schema = build_schema(o.workload);
    std::vector<std::string> warnings;
    const config cfg = load_config(schema, o, &warnings);
    for (const auto& m : warnings) std::cerr << "accelvp: warning: " << m << "\n";
    // The memory estimate first: it needs only the config, while a workload's check may build
    // what the run would (a 4096-chip ring schedule alone is gigabytes).
    check_host_memory(cfg, o.workload);
    wl->check(cfg);
    set_log_level(parse_log_level(cfg.get(keys::sim::log_level)));
    clear_component_log_levels();
    for (const auto& [comp, what] : log_components())
        if (const std::string l = cfg.get_string("log." + comp); l != "default")
            set_component_log_level(comp, parse_log_level(l));
    // Fail before a long simulation, not after it, if an output cannot be written.
    probe_outputs(o);
    tracer::instance().enable(!o.trace_file.empty());

    run_result res;
    // A system workload (several chips over links) elaborates a system_board, the others one board.
    const bool multi_chip = wl->system() == system_kind::multi_chip;
    std::unique_ptr<board> top;
    std::unique_ptr<system_board> sys;
    if (multi_chip) {
        if (o.gdb_port >= 0) throw config_error("usage error: --gdb is not available for a multi-chip workload");
        sys = std::make_unique<system_board>("system", cfg, [w = wl.get()](system_context& c) { return w->run_system(c); });
    } else {
        top = std::make_unique<board>("board", cfg, wl.get());
    }
    if (o.leave_model_at_exit) top ? top->keep_threads_at_end() : sys->keep_threads_at_end();
    // --capture: record what the host program submits (docs/debugging.md#capture-and-replay).
    std::unique_ptr<capture_recorder> capture;
    struct capture_off {
        ~capture_off() { capture_recorder::set_active(nullptr); }
    } capture_guard;
    if (!o.capture_file.empty()) {
        if (multi_chip) throw config_error("usage error: --capture is not available for a multi-chip workload");
        capture = std::make_unique<capture_recorder>(cfg.get(keys::sim::mode) == "functional");
        capture_recorder::set_active(capture.get());
    }
    // SR-IOV VMs (host.vms): each runs a workload of its own (host.vm_workloads), with its own
    // config: the run's workload.* parameters where that workload declares them.
    std::vector<std::unique_ptr<workload>> vm_wl;
    std::vector<std::unique_ptr<param_schema>> vm_schema;
    std::vector<std::unique_ptr<config>> vm_cfg;
    if (top && top->vms()) {
        std::vector<std::string> names;
        const std::string list = top->host.vm_workloads();
        for (size_t pos = 0; !list.empty() && pos <= list.size();) {
            const size_t end = std::min(list.find(',', pos), list.size());
            names.push_back(list.substr(pos, end - pos));
            pos = end + 1;
        }
        if (names.empty()) names.assign(top->vms(), o.workload);
        if (names.size() != top->vms())
            throw config_error(fmt::format("config error: host.vm_workloads = \"{}\" names {} workloads, host.vms is {}",
                                           list, names.size(), top->vms()));
        std::vector<board::vm_program> progs;
        for (const auto& name : names) {
            try {
                vm_wl.push_back(make_workload(name));
            } catch (const config_error& e) {
                throw config_error(std::string("config error: host.vm_workloads: ") + e.what());
            }
            if (vm_wl.back()->system() != system_kind::board)
                throw config_error("config error: host.vm_workloads: " + name + " is a multi-chip workload");
            vm_schema.push_back(std::make_unique<param_schema>(build_schema(name)));
            run_options vo = o;
            vo.overrides.clear();
            for (const auto& ov : o.overrides) {  // the workload.* keys another workload does not have are not its
                const std::string key = ov.substr(0, ov.find('='));
                if (key.rfind("workload.", 0) != 0 || vm_schema.back()->find(key)) vo.overrides.push_back(ov);
            }
            vm_cfg.push_back(std::make_unique<config>(load_config(*vm_schema.back(), vo)));
            vm_wl.back()->check(*vm_cfg.back());
            progs.push_back({vm_wl.back().get(), vm_cfg.back().get(), name});
        }
        top->set_vm_programs(std::move(progs));
    }
    auto done = [&] { return top ? top->done() : sys->done(); };
    // Firmware bring-up: GDB attaches to the control core, which stops at its first
    // instruction after the driver releases it from reset; while GDB holds it stopped no
    // simulated time passes.
    std::unique_ptr<gdb_server> gdb;
    if (o.gdb_port >= 0) {
        if (!top || !top->soc.cpu) throw config_error("usage error: --gdb needs a control core: add -p cpu.enabled=true");
        try {
            gdb = std::make_unique<gdb_server>(top->soc.cpu->core, static_cast<uint16_t>(o.gdb_port));
        } catch (const std::runtime_error& e) {
            throw config_error(std::string("usage error: --gdb: ") + e.what());
        }
        std::cerr << fmt::format("accelvp: waiting for GDB on 127.0.0.1:{} (gdb-multiarch -ex 'target remote "
                                 "127.0.0.1:{}' {})\n",
                                 gdb->port(), gdb->port(), cfg.get(keys::host::driver_firmware))
                  << std::flush;
    }
    // Command-stream breakpoints; with GDB also its monitor commands for the chip's state.
    if (!o.break_packets.empty() || gdb) {
        if (!top) throw config_error("usage error: --break-packet is not available for a multi-chip workload");
        install_packet_breaks(*top, o.break_packets, gdb.get(),
                              top->soc.cpu ? cfg.get_string(keys::host::driver_firmware) : "");
    }
    // The control core's live views (docs/debugging.md): instruction trace, firmware log lines.
    std::shared_ptr<void> insn_trace, fw_log_tap;
    if (!o.trace_insn_file.empty()) {
        if (!top || !top->soc.cpu) throw config_error("usage error: --trace-insn needs a control core: add -p cpu.enabled=true");
        insn_trace = install_insn_trace(top->soc.cpu->core, cfg.get_string(keys::host::driver_firmware),
                                        {o.trace_insn_file, o.trace_insn_limit, o.trace_insn_funcs});
    }
    if (o.fw_log && top && top->soc.cpu) fw_log_tap = tap_firmware_log(top->soc.cpu->core, std::cerr);
    const sc_core::sc_time limit(cfg.get(keys::sim::max_time_ms), sc_core::SC_MS);
    // Simulate in slices so a long run can show progress on a terminal; slicing does
    // not change the order or time of any event, so results are identical.
    const bool progress = !o.quiet && !o.json && isatty(STDERR_FILENO);
    const sc_core::sc_time slice(100, sc_core::SC_US);
    auto last_print = wall0;
    bool printed = false;
    dram_channel::set_time_limit_ns(cfg.get(keys::sim::max_time_ms) * 1e6);
    std::string failure;  // an exception that ended the simulation
    {
        try {
            sc_core::sc_start(std::min(slice, limit));
            while (!done() && sc_core::sc_pending_activity() && sc_core::sc_time_stamp() < limit &&
                   !g_stop_signal) {
                sc_core::sc_start(std::min(slice, limit - sc_core::sc_time_stamp()));
                const auto now = std::chrono::steady_clock::now();
                if (progress && now - last_print > std::chrono::seconds(1)) {
                    last_print = now;
                    printed = true;
                    std::fprintf(stderr, "\r  simulating: %.3f ms simulated, %.1f s wall ",
                                 sc_core::sc_time_stamp().to_seconds() * 1e3,
                                 std::chrono::duration<double>(now - wall0).count());
                }
            }
        } catch (const std::bad_alloc&) {
            failure = out_of_memory_text();
        } catch (const std::exception& e) {
            // SystemC hands an exception thrown inside a process to sc_start as an sc_report.
            const std::string what = e.what();
            failure = what.find("bad_alloc") != std::string::npos ? out_of_memory_text() : what;
        }
    }
    dram_channel::set_time_limit_ns(1e300);
    fw_log_tap.reset();  // (prints a last line the firmware did not end)
    if (insn_trace) top->soc.cpu->core.set_insn_hook(nullptr);  // it holds the tracer, which closes the file
    insn_trace.reset();
    if (printed) std::fprintf(stderr, "\n");
    const int stop_signal = g_stop_signal;
    g_stop_signal = 0;
    const bool partial = stop_signal != 0 || !failure.empty();
    if (stop_signal) {
        res.exit_code = 128 + stop_signal;
        res.error = fmt::format("interrupted by {} at {:.3f} ms simulated; the report, stats and trace are partial",
                                stop_signal == SIGINT ? "SIGINT" : "SIGTERM",
                                sc_core::sc_time_stamp().to_seconds() * 1e3);
    } else if (!failure.empty()) {
        res.exit_code = exit_device_error;
        res.error = failure + "; the report, stats and trace are partial";
    } else if (!done()) {
        res.exit_code = exit_device_error;
        res.error = sc_core::sc_time_stamp() >= limit
                        ? fmt::format("simulated-time limit sim.max_time_ms = {} reached before the workload finished",
                                      cfg.get(keys::sim::max_time_ms))
                        : "the workload is waiting but nothing is left to happen (device or driver hang)";
    } else {
        res.exit_code = top ? top->exit_code() : sys->exit_code();
        res.error = top ? top->error() : sys->error();
    }
    // A hang or a timeout: where everything stands (docs/debugging.md#state-dump).
    nlohmann::json dump;
    const bool hang_or_timeout = !stop_signal && failure.empty() &&
                                 (!done() || res.error.find("timed out") != std::string::npos ||
                                  res.error.find("TIMEOUT") != std::string::npos);
    if (top && hang_or_timeout) {
        dump = state_dump(*top, top->soc.cpu ? cfg.get_string(keys::host::driver_firmware) : "");
        std::cerr << format_state_dump(dump);
    }
    const double sim_ns = static_cast<double>(sc_core::sc_time_stamp().value()) / 1000.0;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

    nlohmann::json params = cfg.to_json("workload.");
    nlohmann::json st;
    st["schema_version"] = 1;
    st["config"] = cfg.to_json();
    // Which values were derived (and why), and what the consistency pass warned about.
    st["config_derived"] = nlohmann::json::object();
    for (const auto& [key, spec] : schema.all())
        if (cfg.is_derived(key)) st["config_derived"][key] = cfg.origin_of(key).substr(9);
    st["config_warnings"] = warnings;
    st["workload"] = {{"name", o.workload}, {"params", params}, {"verified", nullptr}};
    const std::optional<bool>& verified = top ? top->verified() : sys->verified();
    if (verified) st["workload"]["verified"] = *verified;
    st["simulated_ns"] = sim_ns;
    st["wall_s"] = wall;
    st["summary"] = top ? top->summary() : sys->summary();
    st["summary"]["simulated_ns"] = sim_ns;
    // Without stats_in_result: a placeholder, the text written per component (write_stats_text).
    const bool stream_components = !o.stats_in_result;
    st["components"] = stream_components ? nlohmann::json("(written per component)")
                                         : global_stats().to_json(sim_ns * 1e-9);
    st["host"] = global_stats().host_json();
    if (top && top->soc.cpu) {
        const uint32_t v = top->drv.firmware_version();
        st["firmware"] = {{"version", fmt::format("{}.{}.{}", v >> 24, (v >> 16) & 0xFF, v & 0xFFFF)},
                          {"log", top->drv.firmware_log()}};
    }
    if (!res.error.empty()) st["error"] = res.error;
    if (!dump.is_null()) st["state_dump"] = dump;
    if (partial) st["partial"] = true;

    if (gdb) gdb->program_exited(res.exit_code);
    if (capture) {
        capture_recorder::set_active(nullptr);
        if (!partial) capture->finish(top->drv);
        st["capture"] = {{"file", o.capture_file},
                         {"jobs", std::count_if(capture->steps().begin(), capture->steps().end(),
                                                [](const auto& s) { return s.kind == capture_recorder::step::job; })}};
    }
    // Every output is attempted and the report printed whatever fails; a failed write
    // makes the exit code 2 (usage) if the run itself succeeded.
    std::vector<std::string> write_errors;
    if (!o.stats_file.empty())
        if (const std::string e = write_file(
                o.stats_file, [&](std::ostream& f) { write_stats_text(f, st, sim_ns * 1e-9, stream_components); });
            !e.empty())
            write_errors.push_back("cannot write stats file '" + o.stats_file + "': " + e);
    if (!o.trace_file.empty()) {
        tracer::instance().finish();  // counters still sampling (docs/profiling.md)
        std::string text = tracer::instance().to_string();
        // Chrome/Perfetto traces keep unknown top-level keys: mark a partial one.
        if (partial && !text.empty() && text[0] == '{') text.insert(1, "\"otherData\":{\"partial\":true},");
        if (const std::string e = write_file(o.trace_file, text); !e.empty())
            write_errors.push_back("cannot write trace file '" + o.trace_file + "': " + e);
    }
    if (capture) {
        cmdstream::capture_header h;
        h.workload = o.workload;
        h.config = o.config;
        for (const auto& ov : o.overrides)
            if (ov.rfind("workload.", 0) != 0) h.overrides.push_back(ov);
        if (o.mode) h.overrides.push_back("sim.mode=" + *o.mode);
        if (o.seed) h.overrides.push_back("sim.seed=" + std::to_string(*o.seed));
        if (const std::string e = write_file(o.capture_file, cmdstream::capture_text(*capture, h)); !e.empty())
            write_errors.push_back("cannot write capture file '" + o.capture_file + "': " + e);
    }
    if (o.json)
        write_stats_text(out, st, sim_ns * 1e-9, stream_components);
    else if (!o.quiet)
        print_report(st, out);
    out.flush();
    if (stream_components) st.erase("components");
    res.stats = std::move(st);  // not a copy
    if (!write_errors.empty()) {
        std::string all;
        for (const auto& e : write_errors) all += (all.empty() ? "" : "; ") + e;
        if (res.exit_code == exit_ok) {
            res.exit_code = exit_usage;
            res.error = all;
        } else {
            res.error += "; " + all;
        }
    }
    gdb.reset();  // it refers to the core: gone before the board is
    if (o.leave_model_at_exit) {
        (void)top.release();
        (void)sys.release();
    }
    top.reset();
    sys.reset();
    return res;
}

} // namespace accelvp
