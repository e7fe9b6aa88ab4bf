// Chrome Trace Event JSON writer ({"traceEvents": [...]}), opened by Perfetto UI and
// chrome://tracing. One track (tid) per engine, queue and channel; duration slices
// ("X" events) for jobs, packets and transfers. Off by default: callers test enabled()
// before formatting anything, so a disabled tracer costs one branch.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <systemc>

namespace accelvp {

class tracer {
public:
    static tracer& instance();

    void enable(bool on) { enabled_ = on; }
    bool enabled() const { return enabled_; }

    // Track id for a hierarchical track name ("chip.dma0"), created on first use.
    int track(const std::string& name);
    // A complete slice on `track` from start for dur; args is a JSON object text or empty.
    void slice(int track, const std::string& name, const sc_core::sc_time& start, const sc_core::sc_time& dur,
               const std::string& category = "", const std::string& args_json = "");
    // An instant event (an interrupt, an error).
    void instant(int track, const std::string& name, const sc_core::sc_time& at, const std::string& args_json = "");

    size_t event_count() const { return events_.size(); }
    // Write the whole trace; throws std::runtime_error if the file cannot be written.
    void write(const std::string& path) const;
    std::string to_string() const;
    void clear();

private:
    bool enabled_ = false;
    std::map<std::string, int> tracks_;
    std::vector<std::string> events_;
};

} // namespace accelvp
