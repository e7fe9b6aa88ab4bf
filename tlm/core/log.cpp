#include "tlm/core/log.h"

#include <cstdio>
#include <utility>
#include <vector>

#include <systemc>

#include "tlm/core/config.h"

namespace accelvp {

namespace {
log_level g_level = log_level::warn;
log_level g_max = log_level::warn;
std::vector<std::pair<std::string, log_level>> g_components;
void update_max() {
    g_max = g_level;
    for (const auto& c : g_components)
        if (static_cast<int>(c.second) > static_cast<int>(g_max)) g_max = c.second;
}
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
void set_log_level(log_level l) {
    g_level = l;
    update_max();
}
void set_component_log_level(const std::string& pattern, log_level l) {
    for (auto& c : g_components)
        if (c.first == pattern) {
            c.second = l;
            update_max();
            return;
        }
    g_components.emplace_back(pattern, l);
    update_max();
}
void clear_component_log_levels() {
    g_components.clear();
    update_max();
}
log_level max_log_level() { return g_max; }
bool log_enabled(log_level l, std::string_view component) {
    if (static_cast<int>(l) <= static_cast<int>(g_level)) return true;
    for (const auto& [pattern, level] : g_components) {
        if (static_cast<int>(l) > static_cast<int>(level)) continue;
        for (size_t at = 0; at < component.size();) {  // each dotted segment
            if (component.compare(at, pattern.size(), pattern) == 0) return true;
            const size_t dot = component.find('.', at);
            if (dot == std::string_view::npos) break;
            at = dot + 1;
        }
    }
    return false;
}

log_level parse_log_level(const std::string& s) {
    for (auto l : {log_level::error, log_level::warn, log_level::info, log_level::debug, log_level::trace})
        if (s == name_of(l)) return l;
    throw config_error("config error: log level '" + s + "': expected one of error, warn, info, debug, trace");
}

void log_write(log_level l, std::string_view component, const std::string& msg) {
    const double ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
    std::fprintf(stderr, "[%12.3f ns] %-5s %.*s: %s\n", ns, name_of(l), static_cast<int>(component.size()),
                 component.data(), msg.c_str());
}

} // namespace accelvp
