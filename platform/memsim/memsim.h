// `accelvp memsim`: the DRAM model alone, driven by a text trace -- the common trace
// format of public DRAM simulators, so results compare on identical traces, and the
// memory model's speed benchmark.
//
//   accelvp memsim -c CONFIG --trace FILE [--stats FILE] [-p key=value]... [--json] [--quiet]
//
// Trace: one request per line, `<hex address> <READ|WRITE> <issue cycle>` (cycle in
// memory-clock cycles of the configured standard); blank lines and lines starting with
// '#' are skipped. Each channel has its own front end: the requests of a channel enter its
// controller in trace order, each no earlier than its cycle and no earlier than the
// channel's previous one, as fast as its queue accepts them; a full channel does not hold
// back the others. --issue-width N instead issues the whole trace in order, at most N
// requests per cycle, a full queue stalling everything behind it (an in-order trace
// front end, as in public DRAM simulators). With per-channel front ends the channels are
// simulated on --threads threads, the main thread and N-1 workers (the results do not
// depend on the number). Each request is one burst of the device (mem.* keys; the DRAM
// model is used whatever mem.model says). A malformed line or an address beyond
// mem.size is a usage error (exit 2) naming the line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace accelvp {

struct memsim_options {
    std::string config = "training";
    std::vector<std::string> overrides;  // "key=value"
    std::string trace_file, stats_file;
    bool quiet = false;
    bool json = false;
    uint32_t issue_width = 0;  // 0: per-channel front ends; N: in order, at most N requests per cycle
    uint64_t request_bytes = 0;  // 0: one device burst per trace line
    unsigned threads = 0;        // per-channel front ends: threads over the channels (0: automatic)
};

// Threads memsim uses for `requested` (0: one per host CPU, at most 8) on `channels` channels.
unsigned memsim_threads(unsigned requested, uint32_t channels);

// Registers the `memsim` subcommand, filling `o` when it is parsed.
CLI::App* add_memsim_command(CLI::App& app, memsim_options& o);

// Runs one trace; prints the report (or the JSON) on `out`. Throws config_error for
// usage, configuration and trace errors (exit 2). Returns the exit code (0).
// `stats`, if given, receives the stats document.
int run_memsim(const memsim_options& o, std::ostream& out, nlohmann::json* stats = nullptr);

// The trace parser alone: calls `each` for every request read from `f` (`name` names it in
// messages) and returns their count. A malformed line, or one longer than the read buffer
// (`buffer_bytes`, 4 MiB by default), throws config_error naming the line.
uint64_t parse_trace(std::FILE* f, const std::string& name,
                     const std::function<void(uint64_t addr, bool write, uint64_t cycle)>& each = {},
                     size_t buffer_bytes = size_t{1} << 22);

} // namespace accelvp
