#include "tlm/core/log.h"

#include <cstdio>

#include <systemc>

#include "tlm/core/config.h"

namespace accelvp {

namespace {
log_level g_level = log_level::warn;
const char* name_of(log_level l) {
    switch (l) {
    case log_level::error: return "error";
    case log_level::warn: return "warn";
    case log_level::info: return "info";
    case log_level::debug: return "debug";
    case log_level::trace: return "trace";
    }
    return "?";
}
} // namespace

log_level current_log_level() { return g_level; }
void set_log_level(log_level l) { g_level = l; }

log_level parse_log_level(const std::string& s) {
    for (auto l : {log_level::error, log_level::warn, log_level::info, log_level::debug, log_level::trace})
        if (s == name_of(l)) return l;
    throw config_error("config error: log level '" + s + "': expected one of error, warn, info, debug, trace");
}

void log_write(log_level l, const std::string& component, const std::string& msg) {
    const double ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
    std::fprintf(stderr, "[%12.3f ns] %-5s %s: %s\n", ns, name_of(l), component.c_str(), msg.c_str());
}

} // namespace accelvp
