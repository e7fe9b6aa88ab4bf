#include "platform/sim/simulation.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <fstream>
#include <iostream>
#include <ostream>

#include <fmt/format.h>

#include "platform/host/driver.h"
#include "platform/sim/config_consistency.h"
#include "platform/sim/board.h"
#include "platform/system/system_board.h"
#include "platform/workloads/collective.h"
#include "tlm/cpu/gdb_server.h"
#include "tlm/core/log.h"
#include "tlm/core/stats.h"
#include "tlm/core/trace.h"

namespace accelvp {

param_schema build_schema(const std::string& workload_name) {
    param_schema s;
    s.string("preset.name", "custom", "name of this configuration");
    s.string("preset.description", "", "one-line description, shown by 'accelvp list'");
    s.string("sim.mode", "functional", "functional: move and check data; timing: time only, same cycles",
             {"functional", "timing"});
    s.integer("sim.seed", 1, 0, INT64_MAX, "seed for workload data");
    s.string("sim.log_level", "warn", "log verbosity on stderr", {"error", "warn", "info", "debug", "trace"});
    s.real("sim.max_time_ms", 60000, 0.001, 1e9, "simulated-time limit of a run", "ms");
    chip::declare(s);
    host_system::declare(s);
    driver::declare(s);
    if (!workload_name.empty()) make_workload(workload_name)->declare(s);
    return s;
}

config load_config(const param_schema& schema, const run_options& o, std::vector<std::string>* warnings) {
    config c(schema);
    c.load_yaml_file(resolve_config_path(o.config));
    for (const auto& ov : o.overrides) c.apply_override(ov);
    if (o.mode) c.set("sim.mode", *o.mode, "--mode");
    if (o.seed) c.set("sim.seed", std::to_string(*o.seed), "--seed");
    c.validate();
    // Cross-parameter checks.
    const uint64_t devmem = c.get_uint("mem.size");
    if (c.get_uint("addr.devmem_base") + devmem > c.get_uint("addr.regs_base") &&
        c.get_uint("addr.devmem_base") < c.get_uint("addr.regs_base") + 0x10000)
        throw config_error(fmt::format("config error: mem.size = {} makes device memory overlap addr.regs_base = 0x{:x}",
                                       devmem, c.get_uint("addr.regs_base")));
    std::vector<std::string> w;
    derive_and_check(c, w);
    if (warnings) *warnings = w;
    else
        for (const auto& m : w) std::cerr << "accelvp: warning: " << m << "\n";
    return c;
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
    const auto& ver = w["verified"];
    const std::string verified = st.contains("error")        ? "no: the run failed"
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
    auto wl = make_workload(o.workload);
    const param_schema schema = build_schema(o.workload);
    std::vector<std::string> warnings;
    const config cfg = load_config(schema, o, &warnings);
    for (const auto& m : warnings) std::cerr << "accelvp: warning: " << m << "\n";
    set_log_level(parse_log_level(cfg.get_string("sim.log_level")));
    // Fail before a long simulation, not after it, if an output cannot be written.
    for (const auto& path : {o.stats_file, o.trace_file}) {
        if (path.empty()) continue;
        namespace fs = std::filesystem;
        const fs::path p(path);
        const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
        const bool ok = fs::exists(p) ? ::access(path.c_str(), W_OK) == 0 && !fs::is_directory(p)
                                      : fs::is_directory(dir) && ::access(dir.c_str(), W_OK) == 0;
        if (!ok) throw config_error("usage error: cannot write output file '" + path + "'");
    }
    tracer::instance().enable(!o.trace_file.empty());

    run_result res;
    // A system workload (several chips over links) elaborates a system_board, the others one board.
    const bool multi_chip = dynamic_cast<const collective_workload*>(wl.get()) != nullptr;
    std::unique_ptr<board> top;
    std::unique_ptr<system_board> sys;
    if (multi_chip) {
        check_collective(cfg);
        if (o.gdb_port >= 0) throw config_error("usage error: --gdb is not available for a multi-chip workload");
        sys = std::make_unique<system_board>("system", cfg, run_collective);
    } else {
        top = std::make_unique<board>("board", cfg, wl.get());
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
                                 gdb->port(), gdb->port(), cfg.get_string("host.driver.firmware"))
                  << std::flush;
    }
    const sc_core::sc_time limit(cfg.get_real("sim.max_time_ms"), sc_core::SC_MS);
    // Simulate in slices so a long run can show progress on a terminal; slicing does
    // not change the order or time of any event, so results are identical.
    const bool progress = !o.quiet && !o.json && isatty(STDERR_FILENO);
    const sc_core::sc_time slice(100, sc_core::SC_US);
    auto last_print = wall0;
    bool printed = false;
    sc_core::sc_start(std::min(slice, limit));
    while (!done() && sc_core::sc_pending_activity() && sc_core::sc_time_stamp() < limit) {
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
    if (printed) std::fprintf(stderr, "\n");
    if (!done()) {
        res.exit_code = exit_device_error;
        res.error = sc_core::sc_time_stamp() >= limit
                        ? fmt::format("simulated-time limit sim.max_time_ms = {} reached before the workload finished",
                                      cfg.get_real("sim.max_time_ms"))
                        : "the workload is waiting but nothing is left to happen (device or driver hang)";
    } else {
        res.exit_code = top ? top->exit_code() : sys->exit_code();
        res.error = top ? top->error() : sys->error();
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
    st["components"] = global_stats().to_json(sim_ns * 1e-9);
    st["host"] = global_stats().host_json();
    if (top && top->soc.cpu) {
        const uint32_t v = top->drv.firmware_version();
        st["firmware"] = {{"version", fmt::format("{}.{}.{}", v >> 24, (v >> 16) & 0xFF, v & 0xFFFF)},
                          {"log", top->drv.firmware_log()}};
        if (o.fw_log) std::cerr << "--- firmware log ---\n" << st["firmware"]["log"].get<std::string>() << "---\n";
    }
    if (!res.error.empty()) st["error"] = res.error;
    res.stats = st;

    if (gdb) gdb->program_exited(res.exit_code);
    if (!o.stats_file.empty()) {
        std::ofstream f(o.stats_file);
        f << st.dump(2) << "\n";
        if (!f) throw config_error("usage error: cannot write stats file '" + o.stats_file + "'");
    }
    if (!o.trace_file.empty()) {
        try {
            tracer::instance().write(o.trace_file);
        } catch (const std::runtime_error& e) {
            throw config_error(std::string("usage error: ") + e.what());
        }
    }
    if (o.json)
        out << st.dump(2) << "\n";
    else if (!o.quiet)
        print_report(st, out);
    gdb.reset();  // it refers to the core: gone before the board is
    top.reset();
    sys.reset();
    return res;
}

} // namespace accelvp
