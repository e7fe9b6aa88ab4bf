// Statistics registry: counters, averages, histograms and rates, each declared by its
// component with a name and a one-line description, grouped by the component's
// hierarchical SystemC name and dumped as JSON in one place (gem5-style).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace accelvp {

class stat_base {
public:
    stat_base(std::string name, std::string desc) : name_(std::move(name)), desc_(std::move(desc)) {}
    virtual ~stat_base() = default;
    stat_base(const stat_base&) = delete;
    stat_base& operator=(const stat_base&) = delete;
    const std::string& name() const { return name_; }
    const std::string& description() const { return desc_; }
    virtual nlohmann::json value(double simulated_s) const = 0;
    // A measure of the host (simulator speed), not of the simulated machine: kept out of
    // `components` (deterministic) and reported under the stats JSON's `host` key.
    virtual bool host_dependent() const { return false; }

private:
    std::string name_, desc_;
};

// Monotonic event or byte count.
class counter : public stat_base {
public:
    using stat_base::stat_base;
    counter& operator+=(uint64_t n) { v_ += n; return *this; }
    counter& operator++() { ++v_; return *this; }
    uint64_t get() const { return v_; }
    nlohmann::json value(double) const override;

private:
    uint64_t v_ = 0;
};

// Mean (with min, max, count) of sampled values.
class average : public stat_base {
public:
    using stat_base::stat_base;
    void sample(double v) {  // inline: sampled on hot paths (per DRAM request)
        if (n_ == 0) {
            min_ = max_ = v;
        } else {
            min_ = std::min(min_, v);
            max_ = std::max(max_, v);
        }
        ++n_;
        sum_ += v;
    }
    uint64_t count() const { return n_; }
    double mean() const { return n_ ? sum_ / static_cast<double>(n_) : 0.0; }
    double min() const { return min_; }
    double max() const { return max_; }
    nlohmann::json value(double) const override;

private:
    uint64_t n_ = 0;
    double sum_ = 0, min_ = 0, max_ = 0;
};

// Fixed-width linear buckets [lo, lo+w), ..., plus underflow/overflow.
class histogram : public stat_base {
public:
    histogram(std::string name, std::string desc, double lo, double bucket_width, unsigned buckets);
    void sample(double v);
    uint64_t count() const { return n_; }
    const std::vector<uint64_t>& buckets() const { return b_; }
    nlohmann::json value(double) const override;

private:
    double lo_, w_;
    std::vector<uint64_t> b_;
    uint64_t under_ = 0, over_ = 0, n_ = 0;
    double sum_ = 0;
};

// Power-of-two buckets for quantities spanning decades (latencies): bucket 0 holds
// [0, 1), bucket k holds [2^(k-1), 2^k); negative samples are underflow.
class log2_histogram : public stat_base {
public:
    log2_histogram(std::string name, std::string desc, unsigned buckets = 48)
        : stat_base(std::move(name), std::move(desc)), b_(buckets, 0) {}
    void sample(double v) {  // inline: sampled on hot paths (per DRAM request)
        ++n_;
        if (!(v >= 0)) {  // negative or NaN
            ++under_;
            return;
        }
        sum_ += v;
        max_ = std::max(max_, v);
        // ilogb(v) + 1 for v >= 1, from the exponent bits (v is non-negative here).
        unsigned k = 0;
        if (v >= 1) {
            uint64_t bits;
            std::memcpy(&bits, &v, sizeof bits);
            k = static_cast<unsigned>(bits >> 52 & 0x7ff) - 1023 + 1;
        }
        if (k >= b_.size())
            ++over_;
        else
            ++b_[k];
    }
    uint64_t count() const { return n_; }
    const std::vector<uint64_t>& buckets() const { return b_; }
    nlohmann::json value(double) const override;

private:
    std::vector<uint64_t> b_;
    uint64_t under_ = 0, over_ = 0, n_ = 0;
    double sum_ = 0, max_ = 0;
};

// A quantity per simulated second (bytes -> bytes/s), reported with its total.
class rate : public stat_base {
public:
    rate(std::string name, std::string desc, double scale = 1.0, std::string unit = "per_s")
        : stat_base(std::move(name), std::move(desc)), scale_(scale), unit_(std::move(unit)) {}
    rate& operator+=(double n) { total_ += n; return *this; }
    double total() const { return total_; }
    nlohmann::json value(double simulated_s) const override;

private:
    double total_ = 0, scale_;
    std::string unit_;
};

// Per-component groups, keyed by hierarchical name. Components own their stats and
// register pointers; the registry must be dumped before components are destroyed.
class stats_registry {
public:
    void add(const std::string& component, stat_base& s);
    // Unregister one stat (a component left with none disappears from the dumps).
    void remove(const std::string& component, const stat_base& s);
    void remove_component(const std::string& component);
    nlohmann::json to_json(double simulated_s) const;  // deterministic stats only
    nlohmann::json host_json() const;                   // host-dependent stats only
    // The text of to_json(simulated_s).dump(indent) as the value of a key `level` objects
    // deep, written one component at a time: a 1024-chip system's stats are ~170 MB as one
    // JSON value, a few KiB per component.
    void write_json(std::ostream& os, double simulated_s, int indent, int level) const;
    // name -> description, for docs/stats.md
    std::map<std::string, std::string> descriptions() const;
    const stat_base* find(const std::string& component, const std::string& name) const;

private:
    std::map<std::string, std::vector<stat_base*>> groups_;
};

// The process-wide registry (one simulation per process, like SystemC itself).
stats_registry& global_stats();

// The stats of one module, registered in global_stats() under the module's hierarchical
// name (or a sub-name of it) and unregistered when the group is destroyed (RAII), so a
// module never removes its stats by hand. Declare the group after the stats it holds, so
// it unregisters them before they are destroyed:
//
//     counter commands_{"commands", "DMA packets executed"};
//     stats_group stats_{this->name(), {&commands_}};
class stats_group {
public:
    explicit stats_group(std::string component) : component_(std::move(component)) {}
    stats_group(std::string component, std::initializer_list<stat_base*> stats) : component_(std::move(component)) {
        add(stats);
    }
    ~stats_group() {
        for (auto it = added_.rbegin(); it != added_.rend(); ++it) global_stats().remove(it->first, *it->second);
    }
    stats_group(const stats_group&) = delete;
    stats_group& operator=(const stats_group&) = delete;

    void add(stat_base& s) { add_under(component_, s); }
    void add(std::initializer_list<stat_base*> stats) {
        for (stat_base* s : stats) add(*s);
    }
    // Under "<component>.<sub>" (per-channel or per-port groups of one module).
    void add(const std::string& sub, stat_base& s) { add_under(component_ + "." + sub, s); }
    const std::string& component() const { return component_; }

private:
    void add_under(const std::string& component, stat_base& s) {
        global_stats().add(component, s);
        added_.emplace_back(component, &s);
    }
    std::string component_;
    std::vector<std::pair<std::string, const stat_base*>> added_;
};

} // namespace accelvp
