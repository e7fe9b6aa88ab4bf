#include "tlm/core/stats.h"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace accelvp {

nlohmann::json counter::value(double) const { return v_; }


nlohmann::json average::value(double) const {
    return {{"mean", mean()}, {"min", min_}, {"max", max_}, {"count", n_}};
}

histogram::histogram(std::string name, std::string desc, double lo, double bucket_width, unsigned buckets)
    : stat_base(std::move(name), std::move(desc)), lo_(lo), w_(bucket_width), b_(buckets, 0) {
    if (buckets == 0 || bucket_width <= 0) throw std::invalid_argument("histogram needs buckets and a width");
}

void histogram::sample(double v) {
    ++n_;
    sum_ += v;
    if (v < lo_) {
        ++under_;
        return;
    }
    // Compare as a double: converting a value beyond 2^64 (or inf, NaN) to an integer
    // is undefined and in practice lands in bucket 0.
    const double pos = (v - lo_) / w_;
    if (!(pos < static_cast<double>(b_.size())))
        ++over_;
    else
        ++b_[static_cast<size_t>(pos)];
}

nlohmann::json histogram::value(double) const {
    return {{"lo", lo_},           {"bucket_width", w_}, {"buckets", b_},
            {"underflow", under_}, {"overflow", over_},  {"count", n_},
            {"mean", n_ ? sum_ / static_cast<double>(n_) : 0.0}};
}


nlohmann::json log2_histogram::value(double) const {
    // Report only up to the last non-empty bucket, with each bucket's upper bound.
    size_t last = b_.size();
    while (last > 0 && b_[last - 1] == 0) --last;
    nlohmann::json upper = nlohmann::json::array(), counts = nlohmann::json::array();
    for (size_t k = 0; k < last; ++k) {
        upper.push_back(std::ldexp(1.0, static_cast<int>(k)));
        counts.push_back(b_[k]);
    }
    return {{"upper_bounds", upper}, {"buckets", counts}, {"underflow", under_}, {"overflow", over_},
            {"count", n_},           {"mean", n_ > under_ ? sum_ / static_cast<double>(n_ - under_) : 0.0},
            {"max", max_}};
}

nlohmann::json rate::value(double simulated_s) const {
    return {{"total", total_}, {unit_, simulated_s > 0 ? total_ * scale_ / simulated_s : 0.0}};
}

void stats_registry::add(const std::string& component, stat_base& s) {
    auto& g = groups_[component];
    for (auto* existing : g)
        if (existing->name() == s.name())
            throw std::logic_error("duplicate stat " + component + "." + s.name());
    g.push_back(&s);
}

void stats_registry::remove(const std::string& component, const stat_base& s) {
    auto it = groups_.find(component);
    if (it == groups_.end()) return;
    auto& g = it->second;
    g.erase(std::remove(g.begin(), g.end(), &s), g.end());
    if (g.empty()) groups_.erase(it);
}

void stats_registry::remove_component(const std::string& component) { groups_.erase(component); }

nlohmann::json stats_registry::to_json(double simulated_s) const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [comp, stats] : groups_) {
        nlohmann::json g = nlohmann::json::object();
        for (const auto* s : stats)
            if (!s->host_dependent()) g[s->name()] = s->value(simulated_s);
        out[comp] = std::move(g);
    }
    return out;
}

void stats_registry::write_json(std::ostream& os, double simulated_s, int indent, int level) const {
    if (groups_.empty()) {
        os << "{}";
        return;
    }
    // nlohmann's layout: "{", one "key": value per line at the inner indent, "," between,
    // "}" at the outer indent; a value's own lines shifted by the inner indent.
    const std::string inner(static_cast<size_t>(indent) * (level + 1), ' ');
    const std::string outer(static_cast<size_t>(indent) * level, ' ');
    os << "{\n";
    bool first = true;
    for (const auto& [comp, stats] : groups_) {
        nlohmann::json g = nlohmann::json::object();
        for (const auto* s : stats)
            if (!s->host_dependent()) g[s->name()] = s->value(simulated_s);
        os << (first ? "" : ",\n") << inner << nlohmann::json(comp).dump() << ": ";
        first = false;
        const std::string text = g.dump(indent);
        size_t from = 0;
        for (size_t nl; (nl = text.find('\n', from)) != std::string::npos; from = nl + 1)
            os.write(text.data() + from, static_cast<std::streamsize>(nl + 1 - from)) << inner;
        os.write(text.data() + from, static_cast<std::streamsize>(text.size() - from));
    }
    os << "\n" << outer << "}";
}

nlohmann::json stats_registry::host_json() const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [comp, stats] : groups_)
        for (const auto* s : stats)
            if (s->host_dependent()) out[comp][s->name()] = s->value(0);
    return out;
}

std::map<std::string, std::string> stats_registry::descriptions() const {
    std::map<std::string, std::string> out;
    for (const auto& [comp, stats] : groups_)
        for (const auto* s : stats) out[comp + "." + s->name()] = s->description();
    return out;
}

const stat_base* stats_registry::find(const std::string& component, const std::string& name) const {
    auto it = groups_.find(component);
    if (it == groups_.end()) return nullptr;
    for (const auto* s : it->second)
        if (s->name() == name) return s;
    return nullptr;
}

stats_registry& global_stats() {
    static stats_registry r;
    return r;
}

} // namespace accelvp
