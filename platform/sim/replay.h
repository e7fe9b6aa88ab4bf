// `accelvp replay FILE`: run a capture (`accelvp run --capture FILE`, a command-stream file with
// a .capture header) again, on the captured configuration or another one, and compare each job's
// device time with the captured run's (docs/debugging.md#capture-and-replay).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "platform/sim/simulation.h"

namespace accelvp {

struct replay_options {
    std::string file;
    std::optional<std::string> config;   // -c: another configuration (the captured -p are dropped, but sim.*)
    std::vector<std::string> overrides;  // -p: on top of the configuration
    std::optional<std::string> mode;
    std::string stats_file, trace_file;
    bool quiet = false, json = false;
};

// Throws config_error (exit 2) for a file that is not a capture or a bad configuration.
run_result run_replay(const replay_options& o, std::ostream& out);

} // namespace accelvp
