// Logging with levels and component names. Messages go to stderr, prefixed with the
// simulated time and the component's hierarchical name, so they never mix with the
// report on stdout. Formatting happens only when the level is enabled.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace accelvp {

enum class log_level { error = 0, warn = 1, info = 2, debug = 3, trace = 4 };

log_level current_log_level();
void set_log_level(log_level l);
// Per-component levels (`-p log.<component>=LEVEL`, docs/debugging.md): a message of a
// component one of whose dotted name segments starts with `pattern` ("dma" matches
// board.chip.dma0, "driver" host.driver) is shown up to `l`, whatever the global level.
void set_component_log_level(const std::string& pattern, log_level l);
void clear_component_log_levels();
// The most verbose level any component shows (the fast check), and the full check.
log_level max_log_level();
bool log_enabled(log_level l, std::string_view component);
// "error", "warn", "info", "debug", "trace"; throws config_error on anything else.
log_level parse_log_level(const std::string& s);
void log_write(log_level l, std::string_view component, const std::string& msg);

// The component is a view: most call sites pass a module's name(), and a std::string made of
// it for every call, logged or not, was a heap allocation on the models' hot paths.
template <typename... Args>
void log(log_level l, std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (static_cast<int>(l) > static_cast<int>(max_log_level())) return;
    if (static_cast<int>(l) > static_cast<int>(current_log_level()) && !log_enabled(l, component)) return;
    log_write(l, component, fmt::format(f, std::forward<Args>(args)...));
}

} // namespace accelvp

#define AVP_LOG(level, comp, ...) ::accelvp::log(::accelvp::log_level::level, comp, __VA_ARGS__)
