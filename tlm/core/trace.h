// Chrome Trace Event JSON writer ({"traceEvents": [...]}), opened by Perfetto UI and
// chrome://tracing. One track (tid) per engine, queue and channel; duration slices
// ("X" events) for jobs, packets and transfers; counters ("C": bandwidth of memory
// channels and the NoC, sampled per interval); flow arrows ("s"/"t"/"f", bound to the
// enclosing slice) that follow a job from the host's submit through the firmware and the
// engines to its completion (docs/profiling.md). Off by default: callers test enabled()
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

    // Flow arrows of one job. A flow is named by a key both ends can build (the driver and the
    // device: "<scope>/<ring base>/<job id>"); flow_id() returns its id, creating it (and
    // reporting created = true) when `create`, else 0 if no such flow is open. flow_event()
    // writes one step of it on `track` at `at`, which must lie inside a slice of that track
    // (phase 's' first, 't' steps, 'f' last); end_flow() forgets the key.
    uint64_t flow_id(const std::string& key, bool create, bool* created = nullptr);
    void end_flow(const std::string& key) { flows_.erase(key); }
    void flow_event(char phase, int track, uint64_t id, const sc_core::sc_time& at);
    // A counter sample: counter `name` (one Perfetto counter track per name and arg) is
    // `value` from `at` on.
    void counter(const std::string& name, const std::string& arg, double value, const sc_core::sc_time& at);
    // Finish what samplers still hold (call before to_string()/write()).
    void finish();

    size_t event_count() const { return events_.size(); }
    // Write the whole trace; throws std::runtime_error if the file cannot be written.
    void write(const std::string& path) const;
    std::string to_string() const;
    void clear();

private:
    friend class trace_rate;
    bool enabled_ = false;
    std::map<std::string, int> tracks_;
    std::vector<std::string> events_;
    std::map<std::string, uint64_t> flows_;
    uint64_t next_flow_ = 1;
    std::vector<class trace_rate*> rates_;
};

// A bandwidth counter track sampled per interval (no event per access): add() the bytes of
// each transfer at its time; at the end of each interval that saw traffic the counter gets
// the interval's average (GB/s), and 0 after an idle gap. Costs nothing while the tracer is
// off (callers check enabled() first). Intervals of `interval_ps` (default 1 us).
class trace_rate {
public:
    explicit trace_rate(std::string name, uint64_t interval_ps = 1000000);
    ~trace_rate();
    trace_rate(const trace_rate&) = delete;
    trace_rate& operator=(const trace_rate&) = delete;
    void add(uint64_t t_ps, uint64_t bytes);
    void flush();  // the open interval, then 0

private:
    void emit(uint64_t bin, double gbps);
    std::string name_;
    uint64_t interval_;
    uint64_t bin_ = 0, bytes_ = 0;
    bool open_ = false;
};

} // namespace accelvp
