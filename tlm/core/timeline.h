// Resource timelines: how contention and bandwidth limits emerge without a SystemC
// event per cycle. A shared resource (a memory bus, a link direction, an engine's
// datapath) remembers when it is next free; a request that arrives at time t and
// needs the resource for d starts at max(t, free) and holds it until start + d.
// Requests are served in the order they are presented (FCFS), so callers present
// them in arrival order when that matters (see dma_engine).
#pragma once

#include <algorithm>
#include <cstdint>

#include <systemc>

namespace accelvp {

// Duration in ps of moving `bytes` at `bytes_per_s`, rounded up (integer math so
// results are exact and repeatable).
inline uint64_t transfer_ps(uint64_t bytes, double bytes_per_s) {
    if (bytes == 0 || bytes_per_s <= 0) return 0;
    const auto bw = static_cast<unsigned __int128>(bytes_per_s);
    const unsigned __int128 num = static_cast<unsigned __int128>(bytes) * 1000000000000ull;
    return static_cast<uint64_t>((num + bw - 1) / bw);
}

inline sc_core::sc_time ps(uint64_t v) { return sc_core::sc_time::from_value(v); }

class timeline {
public:
    timeline() = default;
    explicit timeline(double bytes_per_s) : bw_(bytes_per_s) {}
    void set_bandwidth(double bytes_per_s) { bw_ = bytes_per_s; }
    double bandwidth() const { return bw_; }

    // Occupy the resource for `bytes` arriving at absolute time `arrival_ps`;
    // returns the absolute time (ps) at which the transfer leaves the resource.
    uint64_t reserve(uint64_t arrival_ps, uint64_t bytes) {
        return reserve_for(arrival_ps, transfer_ps(bytes, bw_));
    }
    uint64_t reserve_for(uint64_t arrival_ps, uint64_t duration_ps) {
        const uint64_t start = std::max(arrival_ps, free_ps_);
        free_ps_ = start + duration_ps;
        busy_ps_ += duration_ps;
        return free_ps_;
    }
    uint64_t free_at() const { return free_ps_; }
    uint64_t busy_ps() const { return busy_ps_; }
    void reset() { free_ps_ = busy_ps_ = 0; }

private:
    double bw_ = 0;
    uint64_t free_ps_ = 0;
    uint64_t busy_ps_ = 0;
};

// Absolute time in ps of "now + local offset" (temporal decoupling).
inline uint64_t abs_ps(const sc_core::sc_time& local_offset) {
    return (sc_core::sc_time_stamp() + local_offset).value();
}
// Convert an absolute ps time back into an offset from now (never negative).
inline sc_core::sc_time offset_to(uint64_t abs) {
    const uint64_t now = sc_core::sc_time_stamp().value();
    return ps(abs > now ? abs - now : 0);
}

} // namespace accelvp
