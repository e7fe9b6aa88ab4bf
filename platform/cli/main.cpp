// accelvp: the command-line front end.
//   accelvp run     -c CONFIG -w WORKLOAD [-p key=value]... [--mode M] [--stats F] [--trace F] [--seed N] [--quiet]
//                   (-w collective: a multi-chip system; -p workload.sweep=MIN:MAX for a size table)
//   accelvp replay  FILE [-c CONFIG] [-p key=value]...   a --capture file again, timing compared
//   accelvp list    configs and workloads
//   accelvp config  -c CONFIG [-p ...] --dump     the effective configuration as YAML
//   accelvp memsim  -c CONFIG --trace FILE [--stats F] [-p ...]   DRAM model alone on a request trace
//   accelvp iss     --elf FILE [--max-instr N] [-p key=value]... [--stats F] [--quiet] [--gdb PORT]
//                   bare-metal RV32 program on the ISS; pass/fail through HTIF tohost
//   accelvp asm     IN.s -o OUT.bin              command-stream text -> packets (docs/cmdasm.md)
//   accelvp disasm  IN.bin [-o OUT.s] [--offsets]  packets -> text
//   accelvp qemu    -c CONFIG --kernel K --initrd I [--stats F] [-- QEMU args]   Linux guest + the real driver
// Exit codes: 0 success, 1 device or workload error, 2 usage or config error.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>
#include <iostream>
#include <new>

#include <CLI/CLI.hpp>
#include <systemc>
#include <fmt/format.h>

#include "platform/iss/iss.h"
#include "platform/soc/soc.h"
#include "platform/memsim/memsim.h"
#include "platform/qemu/qemu_bridge.h"
#include "platform/sim/replay.h"
#include "platform/sim/simulation.h"
#include "platform/tools/cmdasm.h"
#include "platform/workloads/workload.h"
#include "platform/sim/config_consistency.h"
#include "tlm/core/data_dir.h"

using namespace accelvp;

namespace {

// Sanitizer builds destroy the model as usual: LeakSanitizer's exit-time check needs it, and
// the test suite runs them.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool leave_model_at_exit = false;
#else
constexpr bool leave_model_at_exit = true;
#endif

// Ends the process once a run's outputs are written, without destructors: the model was
// left to the OS (run_options::leave_model_at_exit).
[[noreturn]] void exit_now(int code) {
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(code);
}

void add_config_options(CLI::App* app, run_options& o) {
    app->add_option("-c,--config", o.config, "preset name (edge, inference, training) or YAML file")
        ->capture_default_str();
    app->add_option("-p,--param", o.overrides, "override a parameter: -p key=value (repeatable)")
        ->type_name("KEY=VALUE");
}

int list_cmd() {
    std::cout << "configs:\n";
    for (const auto& [name, desc] : list_presets()) std::cout << fmt::format("  {:<12} {}\n", name, desc);
    std::cout << "workloads:\n";
    for (const auto& [name, e] : workload_registry()) std::cout << fmt::format("  {:<12} {}\n", name, e.description);
    std::cout << fmt::format("  {:<12} {}\n", "soc-app",
                             "SoC presets only (-c edge-soc): the application CPU runs a small CNN on the NPU IP "
                             "and checks it (docs/edge.md)");
    return exit_ok;
}

int config_cmd(const run_options& o, bool describe) {
    const bool soc = is_soc_config(o.config);  // the SoC composition has its own keys (docs/edge.md)
    const param_schema schema = soc ? soc_schema() : build_schema(o.workload);
    const config cfg = soc ? [&] {
        config c(schema);
        c.load_yaml_file(resolve_config_path(o.config));
        for (const auto& ov : o.overrides) c.apply_override(ov);
        c.validate();
        return c;
    }() : load_config(schema, o);
    if (describe) {
        for (const auto& [key, s] : schema.all()) {
            std::string range;
            auto num = [](double v) {
                return v == std::floor(v) && std::abs(v) < 9.2e18 ? fmt::format("{}", static_cast<int64_t>(v))
                                                                  : fmt::format("{}", v);
            };
            if (s.min || s.max) range = fmt::format(" [{} .. {}]", num(s.min ? *s.min : 0), num(s.max ? *s.max : 0));
            if (!s.choices.empty()) {
                range = " {";
                for (size_t i = 0; i < s.choices.size(); ++i) range += (i ? "|" : "") + s.choices[i];
                range += "}";
            }
            std::cout << fmt::format("{:<32} {}{}{}\n    default {}\n", key, s.description,
                                     s.unit.empty() ? "" : " (" + s.unit + ")", range, s.default_value);
        }
        return exit_ok;
    }
    std::cout << "# accelvp effective configuration: -c " << o.config;
    for (const auto& p : o.overrides) std::cout << " -p " << p;
    std::cout << "\n" << cfg.to_yaml();
    // Figures that follow from the values above (not parameters: nothing to set).
    if (soc) return exit_ok;  // the derived figures are the PCIe chip's
    std::cout << "# derived figures (from the values above):\n";
    for (const auto& [k, v] : derived_figures(cfg)) std::cout << fmt::format("#   {}: {:.4g}\n", k, v);
    return exit_ok;
}

} // namespace

// Our own main: the SystemC banner must be disabled before the kernel starts.
int main(int argc, char* argv[]) {
    setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1);
    return sc_core::sc_elab_and_sim(argc, argv);
}

int sc_main(int argc, char* argv[]) {
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    CLI::App app{"accelvp: a cycle-approximate SystemC/TLM-2.0 virtual platform of a compute accelerator.\n"
                 "Exit codes: 0 success, 1 device or workload error, 2 usage or config error."};
    app.set_version_flag("--version", std::string("accelvp ") + ACCELVP_VERSION);
    app.require_subcommand(0, 1);
    // Presets, firmware and tools: found next to this binary (tlm/core/data_dir.h) unless given.
    std::string data_dir_opt;
    app.add_option("--data-dir", data_dir_opt,
                   "where the presets (configs/), firmware and tools are (default $ACCELVP_DATA_DIR, else "
                   "share/accelvp next to this program)")
        ->type_name("DIR");

    run_options ro;
    auto* run_cmd = app.add_subcommand("run", "run a workload on a configuration and report timing and bandwidth "
                                              "(the default command)");
    add_config_options(run_cmd, ro);
    auto* workload_opt =
        run_cmd->add_option("-w,--workload", ro.workload, "workload to run (see 'accelvp list')")->capture_default_str();
    std::string mode;
    run_cmd->add_option("--mode", mode, "functional: move and check data; timing: time only, identical cycles")
        ->check(CLI::IsMember({"functional", "timing"}));
    run_cmd->add_option("--stats", ro.stats_file, "write the stats JSON here (schema: docs/stats.md)");
    run_cmd->add_option("--trace", ro.trace_file, "write a Chrome/Perfetto trace here");
    int profile_top = 0;
    run_cmd->add_option("--profile", profile_top,
                        "after the run, print the profile summary ('accelvp profile' of the run's trace and stats: "
                        "engine utilization, hardware counters, top N jobs and packets, each job's bound)")
        ->expected(0, 1)
        ->default_str("10")
        ->check(CLI::Range(1, 100000))
        ->type_name("[N]");
    int64_t seed = 0;
    auto* seed_opt = run_cmd->add_option("--seed", seed, "seed for workload data (0 .. 2^63-1)")
                         ->check(CLI::NonNegativeNumber);
    run_cmd->add_flag("-q,--quiet", ro.quiet, "print nothing on success");
    run_cmd->add_flag("--json", ro.json, "print the stats JSON on stdout instead of the table");
    run_cmd->add_flag("--fw-log", ro.fw_log,
                      "print the control-core firmware's log lines on stderr as the firmware writes them, with the "
                      "simulated time (with cpu.enabled)");
    run_cmd->add_option("--trace-insn", ro.trace_insn_file,
                        "write the control core's instruction trace here ('-': stderr): time, pc, symbol+offset, "
                        "encoding, instruction (docs/debugging.md#instruction-trace)")
        ->type_name("FILE");
    run_cmd->add_option("--trace-insn-limit", ro.trace_insn_limit,
                        "end the instruction trace after this many lines (default 100000)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
        ->type_name("N");
    run_cmd->add_option("--trace-insn-func", ro.trace_insn_funcs,
                        "trace only the instructions of this firmware function (an ELF symbol; repeatable)")
        ->type_name("SYMBOL");
    run_cmd->add_option("--gdb", ro.gdb_port, "serve GDB for the control core on 127.0.0.1:PORT; the core waits for it "
                                              "when released from reset (needs -p cpu.enabled=true; 0 = any port)")
        ->check(CLI::Range(0, 65535))
        ->type_name("PORT");
    run_cmd->add_option("--break-packet", ro.break_packets,
                        "command-stream breakpoint '[ring=R] [packet=N] [opcode=NAME]': print the device state "
                        "before that packet (with --gdb: the ring stops; 'monitor help'); repeatable")
        ->type_name("SPEC");
    run_cmd->add_option("--capture", ro.capture_file,
                        "write every job the workload submits (command buffers, the buffers they use, the config) "
                        "to this command-stream file, for 'accelvp replay' (docs/debugging.md)");
    run_cmd->footer("Multi-chip collectives (docs/links.md): -w collective -c training -p system.chips=8 "
                    "[-p system.topology=ring] [-p workload.op=all_reduce] [-p workload.bytes=64MiB] "
                    "[-p workload.algorithm=ring|tree|auto]; -p workload.sweep=8B:1GiB[:FACTOR] prints an "
                    "nccl-tests-style size table (summary.sweep in --json/--stats).");

    app.add_subcommand("list", "list configurations and workloads");

    replay_options rpo;
    std::string rp_mode, rp_config;
    auto* replay_cmd = app.add_subcommand("replay", "run a capture ('accelvp run --capture FILE') again, on its "
                                                    "configuration or another, and compare each job's device time");
    replay_cmd->add_option("file", rpo.file, "the capture file")->required();
    auto* rp_config_opt = replay_cmd->add_option(
        "-c,--config", rp_config, "another configuration (preset or YAML; default: the captured one)");
    replay_cmd->add_option("-p,--param", rpo.overrides, "override a parameter: -p key=value (repeatable)")
        ->type_name("KEY=VALUE");
    replay_cmd->add_option("--mode", rp_mode, "functional or timing (default: the captured mode)")
        ->check(CLI::IsMember({"functional", "timing"}));
    replay_cmd->add_option("--stats", rpo.stats_file, "write the stats JSON here (with a 'replay' section)");
    replay_cmd->add_option("--trace", rpo.trace_file, "write a Chrome/Perfetto trace here");
    replay_cmd->add_flag("-q,--quiet", rpo.quiet, "print nothing on success");
    replay_cmd->add_flag("--json", rpo.json, "print the stats JSON on stdout instead of the table");

    run_options co;
    bool dump = false, describe = false;
    auto* cfg_cmd = app.add_subcommand("config", "show the effective configuration");
    add_config_options(cfg_cmd, co);
    cfg_cmd->add_option("-w,--workload", co.workload, "include this workload's parameters")->capture_default_str();
    cfg_cmd->add_flag("--dump", dump, "print the effective configuration as YAML");
    cfg_cmd->add_flag("--help-params", describe, "describe every parameter: type, range, default");

    iss_options io;
    auto* iss_cmd = app.add_subcommand("iss", "run a bare-metal RV32 ELF on the control-core ISS; exit 0 when it writes "
                                              "1 to its 'tohost' symbol, 1 on (code << 1) | 1, the instruction limit or "
                                              "a hang, 2 on a bad ELF");
    iss_cmd->add_option("--elf", io.elf, "the RV32 ELF to run (segments load where they are linked)")->required();
    iss_cmd->add_option("--max-instr", io.max_instr, "stop after this many instructions + traps (exit 1)")
        ->capture_default_str();
    iss_cmd->add_option("-p,--param", io.overrides, "override a parameter (cpu.*, iss.*): -p key=value (repeatable)")
        ->type_name("KEY=VALUE");
    iss_cmd->add_option("--stats", io.stats_file, "write the stats JSON here");
    iss_cmd->add_flag("-q,--quiet", io.quiet, "print nothing on success");
    iss_cmd->add_option("--gdb", io.gdb_port, "serve GDB (remote protocol) on 127.0.0.1:PORT and wait for it before "
                                              "the first instruction (0 = any free port, printed on stderr)")
        ->check(CLI::Range(0, 65535))
        ->type_name("PORT");

    memsim_options mo;
    add_memsim_command(app, mo);

    qemu_options qo;
    add_qemu_command(app, qo);

    cmdasm::cli_options ao;
    cmdasm::add_commands(app, ao);

    // Benchmark suites and the regression gate live in tools/bench.py (docs/benchmarks.md).
    auto* bench_cmd = app.add_subcommand("bench", "benchmark suites and the regression gate: run SUITE | compare | "
                                                  "update-baseline | list (runs tools/bench.py; see its --help)");
    bench_cmd->prefix_command();
    // Sweeps, plots and reports: tools/sweep.py, plot.py, report.py (docs/benchmarks.md), forwarded like bench.
    const std::vector<std::pair<std::string, CLI::App*>> scripts{
        {"bench", bench_cmd},
        {"sweep", app.add_subcommand("sweep", "parameter sweep: SPEC.yaml [-j N] [--out DIR] [--backend local|slurm] "
                                              "(runs tools/sweep.py; see its --help)")},
        {"plot", app.add_subcommand("plot", "PNG plot of a results CSV: CSV --x COL --y COL [--series COL] "
                                            "[--kind line|bar|heatmap] -o out.png; a model run's roofline: STATS.json --kind "
                                            "roofline -o out.png (runs tools/plot.py)")},
        {"report", app.add_subcommand("report", "Markdown/HTML report of a bench or sweep results directory: DIR "
                                                "[-o report.md] [--html report.html] (runs tools/report.py)")},
        {"profile", app.add_subcommand("profile", "profile summary of a trace ('accelvp run --trace T.json'): "
                                                  "per-track utilization, top jobs and packets by device time: T.json "
                                                  "[--top N] [--json] (runs tools/profile.py)")}};
    for (const auto& s : scripts) s.second->prefix_command();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? exit_ok : exit_usage;
    }

    if (!data_dir_opt.empty()) set_data_dir(data_dir_opt);
    try {
        if (app.got_subcommand("list")) return list_cmd();
        for (const auto& s : scripts) {
            if (!s.second->parsed()) continue;
            const std::string dir = data_dir();
            if (dir.empty()) {
                std::cerr << "accelvp: cannot find the tools: no share/accelvp next to " << self_binary()
                          << "; give --data-dir DIR or set ACCELVP_DATA_DIR\n";
                return exit_usage;
            }
            const std::string script = dir + "/tools/" + s.first + ".py";
            // The tools run this very program (ACCELVP), with the same data directory.
            setenv("ACCELVP", self_binary().c_str(), 1);
            setenv("ACCELVP_DATA_DIR", dir.c_str(), 1);
            std::vector<std::string> args{"python3", script};
            for (const auto& a : s.second->remaining()) args.push_back(a);
            std::vector<char*> argv_c;
            for (auto& a : args) argv_c.push_back(a.data());
            argv_c.push_back(nullptr);
            execvp("python3", argv_c.data());
            std::cerr << "accelvp: cannot run " << script << " with python3\n";
            return exit_usage;
        }
        if (app.got_subcommand("memsim")) return run_memsim(mo, std::cout);
        if (app.got_subcommand("replay")) {
            if (*rp_config_opt) rpo.config = rp_config;
            if (!rp_mode.empty()) rpo.mode = rp_mode;
            const run_result r = run_replay(rpo, std::cout);
            if (r.exit_code != exit_ok) std::cerr << "accelvp: error: " << r.error << "\n";
            return r.exit_code;
        }
        if (app.got_subcommand("qemu")) return run_qemu(qo, std::cout);
        if (int rc = 0; cmdasm::run_command(app, ao, rc)) return rc;
        if (app.got_subcommand("iss")) {
            const iss_result r = run_iss(io, std::cout);
            if (r.exit_code != exit_ok) std::cerr << "accelvp: error: " << r.error << "\n";
            return r.exit_code;
        }
        if (app.got_subcommand("config")) {
            if (!dump && !describe) {
                std::cerr << "accelvp config: nothing to do; use --dump or --help-params\n";
                return exit_usage;
            }
            return config_cmd(co, describe);
        }
        if (!mode.empty()) ro.mode = mode;
        if (*seed_opt) ro.seed = static_cast<uint64_t>(seed);
        // The SoC composition (system.kind: soc, docs/edge.md) runs its application CPU instead of a host program.
        if (const bool soc = is_soc_config(ro.config); soc || ro.workload == "soc-app") {
            if (soc && !*workload_opt) ro.workload = "soc-app";
            if (!soc)
                throw config_error("config error: workload soc-app runs on an SoC composition (a preset with "
                                   "system.kind: soc, e.g. -c edge-soc), not on -c " + ro.config);
            const run_result r = run_soc(ro, std::cout);
            if (r.exit_code != exit_ok) std::cerr << "accelvp: error: " << r.error << "\n";
            return r.exit_code;
        }
        // --profile: the run writes a trace and stats (into temporary files unless asked for),
        // then tools/profile.py summarizes them (docs/profiling.md).
        const bool profiling = run_cmd->count("--profile") > 0;
        std::vector<std::string> temps;
        if (profiling) {
            if (profile_top == 0) profile_top = 10;
            char tmpl[] = "/tmp/accelvp-profile-XXXXXX";
            const char* tdir = mkdtemp(tmpl);
            if (!tdir) {
                std::cerr << "accelvp: --profile: cannot create a temporary directory\n";
                return exit_usage;
            }
            temps.push_back(tdir);
            if (ro.trace_file.empty()) ro.trace_file = std::string(tdir) + "/trace.json";
            if (ro.stats_file.empty()) ro.stats_file = std::string(tdir) + "/stats.json";
        }
        auto cleanup = [&] {
            for (const auto& d : temps) {
                for (const char* f : {"/trace.json", "/stats.json"}) unlink((d + f).c_str());
                rmdir(d.c_str());
            }
        };
        ro.leave_model_at_exit = leave_model_at_exit;
        ro.stats_in_result = false;  // nothing here reads run_result::stats
        const run_result r = run(ro, std::cout);
        const auto finish = [&](int code) {
            if (leave_model_at_exit) exit_now(code);
            return code;
        };
        if (r.exit_code != exit_ok) std::cerr << "accelvp: error: " << r.error << "\n";
        if (profiling && r.exit_code == exit_ok) {
            const std::string dir = data_dir();
            if (dir.empty()) {
                std::cerr << "accelvp: --profile: cannot find the tools: no share/accelvp next to " << self_binary()
                          << "\n";
                cleanup();
                return finish(exit_usage);
            }
            std::cout.flush();
            std::vector<std::string> args{"python3", dir + "/tools/profile.py", ro.trace_file, "--stats", ro.stats_file,
                                          "--top", std::to_string(profile_top)};
            std::vector<char*> argv_c;
            for (auto& a : args) argv_c.push_back(a.data());
            argv_c.push_back(nullptr);
            const pid_t pid = fork();
            if (pid == 0) {
                if (ro.json) dup2(2, 1);  // stdout holds the stats JSON: the summary goes to stderr
                execvp("python3", argv_c.data());
                _exit(127);
            }
            int st = 0;
            if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                std::cerr << "accelvp: --profile: tools/profile.py failed\n";
                cleanup();
                return finish(exit_device_error);
            }
        }
        cleanup();
        return finish(r.exit_code);
    } catch (const config_error& e) {
        std::cerr << "accelvp: " << e.what() << "\n";
        return exit_usage;
    } catch (const std::bad_alloc&) {
        std::cerr << "accelvp: error: out of host memory (a C++ allocation failed); use --mode timing or a smaller "
                     "workload\n";
        return exit_device_error;
    } catch (const std::exception& e) {
        std::cerr << "accelvp: internal error: " << e.what() << "\n";
        return exit_device_error;
    }
}
