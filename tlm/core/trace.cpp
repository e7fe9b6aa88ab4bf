#include "tlm/core/trace.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace accelvp {

namespace {
// Chrome trace timestamps are microseconds; print ps-exact decimals so traces are
// byte-identical across runs.
std::string us(const sc_core::sc_time& t) {
    const uint64_t ps = t.value();  // default time resolution is 1 ps
    return fmt::format("{}.{:06d}", ps / 1000000, ps % 1000000);
}
std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }
} // namespace

tracer& tracer::instance() {
    static tracer t;
    return t;
}

int tracer::track(const std::string& name) {
    auto it = tracks_.find(name);
    if (it != tracks_.end()) return it->second;
    const int id = static_cast<int>(tracks_.size()) + 1;
    tracks_[name] = id;  // its metadata is written with the trace, so enabling later is fine
    return id;
}

void tracer::slice(int track, const std::string& name, const sc_core::sc_time& start, const sc_core::sc_time& dur,
                   const std::string& category, const std::string& args_json) {
    if (!enabled_) return;
    events_.push_back(fmt::format(R"({{"ph":"X","pid":1,"tid":{},"ts":{},"dur":{},"name":{},"cat":{}{}}})", track,
                                  us(start), us(dur), quoted(name), quoted(category.empty() ? "default" : category),
                                  args_json.empty() ? "" : ",\"args\":" + args_json));
}

void tracer::instant(int track, const std::string& name, const sc_core::sc_time& at, const std::string& args_json) {
    if (!enabled_) return;
    events_.push_back(fmt::format(R"({{"ph":"i","s":"t","pid":1,"tid":{},"ts":{},"name":{}{}}})", track, us(at),
                                  quoted(name), args_json.empty() ? "" : ",\"args\":" + args_json));
}

uint64_t tracer::flow_id(const std::string& key, bool create, bool* created) {
    if (created) *created = false;
    auto it = flows_.find(key);
    if (it != flows_.end()) return it->second;
    if (!create) return 0;
    if (created) *created = true;
    const uint64_t id = next_flow_++;
    flows_[key] = id;
    return id;
}

void tracer::flow_event(char phase, int track, uint64_t id, const sc_core::sc_time& at) {
    if (!enabled_ || !id) return;
    // Same name and category on every step: viewers pair flow events by (id, cat, name).
    events_.push_back(fmt::format(R"({{"ph":"{}","id":{},"pid":1,"tid":{},"ts":{},"name":"job","cat":"flow","bp":"e"}})",
                                  phase, id, track, us(at)));
}

void tracer::counter(const std::string& name, const std::string& arg, double value, const sc_core::sc_time& at) {
    if (!enabled_) return;
    events_.push_back(fmt::format(R"({{"ph":"C","pid":1,"ts":{},"name":{},"args":{{{}:{:.6g}}}}})", us(at), quoted(name),
                                  quoted(arg), value));
}

void tracer::finish() {
    for (trace_rate* r : rates_) r->flush();
}

trace_rate::trace_rate(std::string name, uint64_t interval_ps)
    : name_(std::move(name)), interval_(std::max<uint64_t>(interval_ps, 1)) {
    tracer::instance().rates_.push_back(this);
}

trace_rate::~trace_rate() {
    auto& v = tracer::instance().rates_;
    v.erase(std::remove(v.begin(), v.end(), this), v.end());
}

void trace_rate::emit(uint64_t bin, double gbps) {
    tracer::instance().counter(name_, "GB/s", gbps, sc_core::sc_time::from_value(bin * interval_));
}

void trace_rate::add(uint64_t t_ps, uint64_t bytes) {
    const uint64_t b = t_ps / interval_;
    if (!open_) {
        open_ = true;
        bin_ = b;
        bytes_ = 0;
    } else if (b > bin_) {  // (a sample a little late for its interval counts in the open one)
        emit(bin_, static_cast<double>(bytes_) * 1000.0 / static_cast<double>(interval_));  // bytes/ps x 1000 = GB/s
        if (b > bin_ + 1) emit(bin_ + 1, 0);  // an idle gap
        bin_ = b;
        bytes_ = 0;
    }
    bytes_ += bytes;
}

void trace_rate::flush() {
    if (!open_) return;
    emit(bin_, static_cast<double>(bytes_) * 1000.0 / static_cast<double>(interval_));
    emit(bin_ + 1, 0);
    open_ = false;
    bytes_ = 0;
}

std::string tracer::to_string() const {
    std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
    out += R"({"ph":"M","pid":1,"name":"process_name","args":{"name":"accelvp"}})";
    std::vector<std::pair<int, std::string>> by_id;
    for (const auto& [name, id] : tracks_) by_id.emplace_back(id, name);
    std::sort(by_id.begin(), by_id.end());
    for (const auto& [id, name] : by_id) {
        out += fmt::format(",\n{{\"ph\":\"M\",\"pid\":1,\"tid\":{},\"name\":\"thread_name\",\"args\":{{\"name\":{}}}}}", id,
                           quoted(name));
        out += fmt::format(",\n{{\"ph\":\"M\",\"pid\":1,\"tid\":{},\"name\":\"thread_sort_index\",\"args\":{{\"sort_index\":{}}}}}",
                           id, id);
    }
    for (const auto& e : events_) {
        out += ",\n";
        out += e;
    }
    out += "\n]}\n";
    return out;
}

void tracer::write(const std::string& path) const {
    std::ofstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot write trace file '" + path + "'");
    f << to_string();
    if (!f) throw std::runtime_error("error writing trace file '" + path + "'");
}

void tracer::clear() {
    tracks_.clear();
    events_.clear();
    flows_.clear();
    next_flow_ = 1;
}

} // namespace accelvp
