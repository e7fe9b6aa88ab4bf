#include "platform/sim/replay.h"

#include <algorithm>
#include <cstdio>
#include <ostream>

#include <fmt/format.h>

#include "platform/workloads/cmdstream.h"
#include "tlm/core/config.h"

namespace accelvp {

run_result run_replay(const replay_options& o, std::ostream& out) {
    const cmdstream::program prog = cmdstream::load(o.file, "replay FILE");
    if (prog.capture_version == 0)
        throw config_error(fmt::format("usage error: '{}' is not a capture (it has no .capture line); run a "
                                       "command-stream file with: accelvp run -w cmdstream -p workload.file={}",
                                       o.file, o.file));
    run_options ro;
    ro.workload = "cmdstream";
    ro.config = o.config ? *o.config : prog.capture_config;
    // Another configuration keeps only the captured run's sim.* (mode, seed): the chip is the new one.
    for (const auto& ov : prog.capture_overrides)
        if (!o.config || ov.rfind("sim.", 0) == 0) ro.overrides.push_back(ov);
    ro.overrides.push_back("workload.file=" + o.file);
    for (const auto& ov : o.overrides) ro.overrides.push_back(ov);
    ro.mode = o.mode;
    ro.trace_file = o.trace_file;
    ro.quiet = true;
    if (!o.stats_file.empty()) {  // fail before the run, not after it
        run_options probe;
        probe.stats_file = o.stats_file;
        probe_outputs(probe);
    }
    run_result res = run(ro, out);

    // Per job: captured and replayed device time; and the span of all jobs.
    nlohmann::json rows = nlohmann::json::array();
    const nlohmann::json& jl = res.stats["summary"].contains("job_list") ? res.stats["summary"]["job_list"]
                                                                          : nlohmann::json::array();
    uint64_t c0 = UINT64_MAX, c1 = 0, r0 = UINT64_MAX, r1 = 0;
    for (size_t j = 0; j < std::max(prog.captured.size(), jl.size()); ++j) {
        nlohmann::json row = {{"job", j}};
        if (j < prog.captured.size()) {
            const auto& c = prog.captured[j];
            row["queue"] = c.queue;
            row["captured_ns"] = c.end_ns - c.start_ns;
            c0 = std::min(c0, c.start_ns);
            c1 = std::max(c1, c.end_ns);
        }
        if (j < jl.size()) {
            row["queue"] = jl[j]["queue"];
            row["replay_ns"] = jl[j]["device_ns"];
            r0 = std::min(r0, jl[j]["start_ns"].get<uint64_t>());
            r1 = std::max(r1, jl[j]["end_ns"].get<uint64_t>());
        }
        if (row.contains("captured_ns") && row.contains("replay_ns") && row["captured_ns"].get<uint64_t>() > 0)
            row["change"] = row["replay_ns"].get<double>() / row["captured_ns"].get<double>() - 1.0;
        rows.push_back(row);
    }
    const double cap_span = c1 > c0 ? static_cast<double>(c1 - c0) : 0.0;
    const double rep_span = r1 > r0 ? static_cast<double>(r1 - r0) : 0.0;
    nlohmann::json rep = {{"file", o.file},
                          {"captured_workload", prog.capture_workload},
                          {"captured_config", prog.capture_config},
                          {"config", ro.config},
                          {"jobs", rows},
                          {"captured_device_ns", cap_span},
                          {"replay_device_ns", rep_span}};
    if (cap_span > 0 && rep_span > 0) rep["change"] = rep_span / cap_span - 1.0;
    res.stats["replay"] = rep;

    if (!o.stats_file.empty()) {
        std::FILE* f = std::fopen(o.stats_file.c_str(), "wb");
        const std::string text = res.stats.dump(2) + "\n";
        const bool ok = f && std::fwrite(text.data(), 1, text.size(), f) == text.size();
        if (f && std::fclose(f) != 0 && ok && res.exit_code == exit_ok) {
            res.exit_code = exit_usage;
            res.error = "cannot write stats file '" + o.stats_file + "'";
        } else if (!ok && res.exit_code == exit_ok) {
            res.exit_code = exit_usage;
            res.error = "cannot write stats file '" + o.stats_file + "'";
        }
    }
    if (o.json) {
        out << res.stats.dump(2) << "\n";
    } else if (!o.quiet) {
        print_report(res.stats, out);
        out << fmt::format("replay of {} (captured: workload {} on {}; now: {})\n", o.file, prog.capture_workload,
                           prog.capture_config, ro.config);
        out << fmt::format("  {:>4}  {:>5}  {:>14}  {:>14}  {:>9}\n", "job", "queue", "captured ns", "replay ns",
                           "change");
        auto ns = [](const nlohmann::json& r, const char* k) {
            return r.contains(k) ? fmt::format("{}", r[k].get<uint64_t>()) : std::string("-");
        };
        auto pct = [](const nlohmann::json& v) { return fmt::format("{:+.2f}%", v.get<double>() * 100); };
        for (const auto& r : rows)
            out << fmt::format("  {:>4}  {:>5}  {:>14}  {:>14}  {:>9}\n", r["job"].get<size_t>(),
                               r.contains("queue") ? r["queue"].dump() : "-", ns(r, "captured_ns"),
                               ns(r, "replay_ns"), r.contains("change") ? pct(r["change"]) : "-");
        out << fmt::format("  all jobs (first start .. last end): captured {:.0f} ns, replay {:.0f} ns{}\n", cap_span,
                           rep_span, rep.contains("change") ? ", " + pct(rep["change"]) : "");
    }
    out.flush();
    return res;
}

} // namespace accelvp
