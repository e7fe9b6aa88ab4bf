// One simulation run, as the CLI and the tests start it: build the schema (platform +
// workload), load and check the configuration, elaborate, simulate, report.
// SystemC elaborates once per process, so run() can be called once per process.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlm/core/params.h"

namespace accelvp {

constexpr int exit_ok = 0;
constexpr int exit_device_error = 1;
constexpr int exit_usage = 2;

struct run_options {
    std::string config = "inference";
    std::vector<std::string> overrides;  // "key=value"
    std::string workload = "dma-copy";
    std::optional<std::string> mode;     // functional | timing
    std::optional<uint64_t> seed;
    std::string stats_file, trace_file;
    bool quiet = false;
    bool json = false;                   // print the stats JSON on stdout instead of the table
    bool fw_log = false;                 // print the control-core firmware's log on stderr
    int gdb_port = -1;                   // >= 0: GDB stub for the control core on 127.0.0.1 (0 = any port)
    std::string capture_file;            // --capture: the jobs the host program submitted, as a command-stream file
    std::vector<std::string> break_packets;  // --break-packet: command-stream breakpoints (docs/debugging.md)
    // --trace-insn: the control core's instruction trace (docs/debugging.md#instruction-trace).
    std::string trace_insn_file;
    uint64_t trace_insn_limit = 100000;
    std::vector<std::string> trace_insn_funcs;
    // The process exits right after run() (the CLI): the model is left to the OS instead of
    // being destroyed -- tearing down a 1024-chip system took 16 % of its run. The caller must
    // then end the process with std::_Exit (no destructor may see the half-kept model).
    bool leave_model_at_exit = false;
    // The result carries the whole stats document (run_result::stats). false (the CLI): its
    // `components` section is written straight to --stats / --json, one component at a
    // time, and left out of the result -- 1024 chips' components are ~170 MB as JSON values,
    // held at the run's end beside the model.
    bool stats_in_result = true;
};

// The simulation's own keys (absolute: preset.*, sim.*).
struct sim_params {
    std::string preset_name = "custom";
    std::string preset_description;
    std::string mode = "functional";
    uint64_t seed = 1;
    std::string log_level = "warn";
    double max_time_ms = 60000;
    bool host_memory_check = true;
    static const param_table<sim_params>& table();  // the parameters: key, member, range, unit, description
};

// Schema of everything a run can be configured with; workload "" = platform only.
param_schema build_schema(const std::string& workload);
// Load preset + overrides + options into a checked config with its derived values
// (config_consistency.h). Throws config_error. Warnings go to `warnings`, or to stderr
// when it is null.
config load_config(const param_schema& schema, const run_options& o, std::vector<std::string>* warnings = nullptr);

struct run_result {
    int exit_code = exit_ok;
    std::string error;
    nlohmann::json stats;  // the stats document (without `components` if !run_options::stats_in_result)
};
// Runs one simulation. Config errors are thrown as config_error (exit 2 for callers).
// SIGINT/SIGTERM during the simulation end it after the current slice: the report, stats
// ("partial": true) and trace (otherData.partial) are written, exit code 128 + signal.
// Every output file is attempted and the report printed even if one cannot be written
// (exit code 2 then, if the run itself succeeded).
run_result run(const run_options& o, std::ostream& out);

// Opens --stats and --trace as the run will write them (a directory, the same file for
// both, or a path that cannot be opened for writing is a config_error). Called by run()
// before elaboration.
void probe_outputs(const run_options& o);

// Host memory a functional run of this config will hold for its data (0: small or not
// estimated), and the check run() makes before elaboration: more than the host's available
// memory (MemAvailable, or RLIMIT_AS if lower) is a config_error naming the keys, unless
// sim.host_memory_check = false.
uint64_t host_bytes_estimate(const config& c, const std::string& workload);
void check_host_memory(const config& c, const std::string& workload);

// The human report: summary table and headline figures.
void print_report(const nlohmann::json& stats, std::ostream& out);

} // namespace accelvp
