// Unit tests of the statistics registry (tlm/core/stats.h) and the Chrome-trace writer
// (tlm/core/trace.h).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <systemc>

#include "tlm/core/stats.h"
#include "tlm/core/trace.h"

using nlohmann::json;
using sc_core::SC_NS;
using sc_core::SC_US;
using sc_core::sc_time;
using Catch::Matchers::Contains;

// ---- stats -------------------------------------------------------------------------

TEST_CASE("stats: a counter reports its count as a JSON integer", "[stats]") {
    accelvp::counter c("jobs", "jobs completed");
    CHECK(c.name() == "jobs");
    CHECK(c.description() == "jobs completed");
    CHECK(c.value(1.0) == json(0));
    ++c;
    ++c;
    c += 40;
    CHECK(c.get() == 42);
    CHECK(c.value(1.0) == json(42));
    CHECK(c.value(1.0).is_number_unsigned());
    c += 1ull << 40;
    CHECK(c.value(0).get<uint64_t>() == (1ull << 40) + 42);
}

TEST_CASE("stats: an average reports mean, min, max and count", "[stats]") {
    accelvp::average a("latency_ns", "per job");
    CHECK(a.value(1.0) == json{{"mean", 0.0}, {"min", 0.0}, {"max", 0.0}, {"count", 0}});
    a.sample(2);
    a.sample(9);
    a.sample(4);
    CHECK(a.count() == 3);
    CHECK(a.mean() == 5.0);
    CHECK(a.min() == 2.0);
    CHECK(a.max() == 9.0);
    const json v = a.value(1.0);
    CHECK(v["mean"].get<double>() == 5.0);
    CHECK(v["min"].get<double>() == 2.0);
    CHECK(v["max"].get<double>() == 9.0);
    CHECK(v["count"].get<uint64_t>() == 3);

    // Negative samples: min and max start from the first sample, not from 0.
    accelvp::average n("delta", "signed");
    n.sample(-3);
    n.sample(-1);
    CHECK(n.value(0) == json{{"mean", -2.0}, {"min", -3.0}, {"max", -1.0}, {"count", 2}});
}

TEST_CASE("stats: a histogram counts samples per bucket with underflow and overflow", "[stats]") {
    accelvp::histogram h("size", "bytes per job", 10, 5, 4);  // [10,15) [15,20) [20,25) [25,30)
    for (double v : {9.999, 10.0, 14.9, 15.0, 29.99, 30.0, -5.0, 1000.0}) h.sample(v);
    CHECK(h.count() == 8);
    CHECK(h.buckets() == std::vector<uint64_t>{2, 1, 0, 1});
    const json v = h.value(1.0);
    CHECK(v["lo"].get<double>() == 10.0);
    CHECK(v["bucket_width"].get<double>() == 5.0);
    CHECK(v["buckets"] == json::array({2, 1, 0, 1}));
    CHECK(v["underflow"].get<uint64_t>() == 2);
    CHECK(v["overflow"].get<uint64_t>() == 2);
    CHECK(v["count"].get<uint64_t>() == 8);
    CHECK(v["mean"].get<double>() == Approx((9.999 + 10 + 14.9 + 15 + 29.99 + 30 - 5 + 1000) / 8));

    accelvp::histogram empty("e", "empty", 0, 1, 2);
    CHECK(empty.value(1.0)["mean"].get<double>() == 0.0);
    CHECK(empty.value(1.0)["buckets"] == json::array({0, 0}));

    CHECK_THROWS_AS(accelvp::histogram("bad", "no buckets", 0, 1, 0), std::invalid_argument);
    CHECK_THROWS_AS(accelvp::histogram("bad", "zero width", 0, 0, 4), std::invalid_argument);
    CHECK_THROWS_AS(accelvp::histogram("bad", "negative width", 0, -1, 4), std::invalid_argument);
}

TEST_CASE("stats: histogram samples far above the range (and infinity) count as overflow", "[stats]") {
    accelvp::histogram h("lat", "latency", 0, 1, 4);
    h.sample(1e30);  // (v - lo) / w does not fit in an integer
    h.sample(std::numeric_limits<double>::infinity());
    h.sample(1.8e19);
    CHECK(h.buckets() == std::vector<uint64_t>{0, 0, 0, 0});
    CHECK(h.value(1.0)["overflow"].get<uint64_t>() == 3);
    CHECK(h.value(1.0)["underflow"].get<uint64_t>() == 0);
    h.sample(-std::numeric_limits<double>::infinity());
    CHECK(h.value(1.0)["underflow"].get<uint64_t>() == 1);
    CHECK(h.count() == 4);
}

TEST_CASE("stats: a rate reports its total and total * scale per simulated second", "[stats]") {
    accelvp::rate bw("bytes", "bytes moved", 1.0, "bytes_per_s");
    bw += 1000;
    bw += 500.5;
    CHECK(bw.total() == 1500.5);
    CHECK(bw.value(2e-6) == json{{"total", 1500.5}, {"bytes_per_s", 1500.5 / 2e-6}});
    CHECK(bw.value(0.0) == json{{"total", 1500.5}, {"bytes_per_s", 0.0}});  // no time: no rate

    // A busy-time rate: ps busy * 1e-12 per second simulated = utilization.
    accelvp::rate busy("busy", "bus occupied", 1e-12, "utilization");
    busy += 250000;  // 250 ns busy
    CHECK(busy.value(1e-6)["utilization"].get<double>() == Approx(0.25).epsilon(1e-12));

    accelvp::rate plain("ops", "ops");
    plain += 10;
    CHECK(plain.value(0.5) == json{{"total", 10.0}, {"per_s", 20.0}});
}

TEST_CASE("stats: a duplicate stat name in one component throws but other components may reuse it", "[stats]") {
    accelvp::stats_registry reg;
    accelvp::counter a("bytes", "first"), b("bytes", "second"), c("bytes", "elsewhere");
    reg.add("chip.dma0", a);
    try {
        reg.add("chip.dma0", b);
        FAIL("no exception");
    } catch (const std::logic_error& e) {
        CHECK_THAT(std::string(e.what()), Contains("duplicate stat chip.dma0.bytes"));
    }
    REQUIRE_NOTHROW(reg.add("chip.dma1", c));
    CHECK(reg.find("chip.dma0", "bytes") == &a);
    CHECK(reg.find("chip.dma1", "bytes") == &c);
}

TEST_CASE("stats: the registry JSON is grouped by component, with descriptions and lookup", "[stats]") {
    accelvp::stats_registry reg;
    accelvp::counter jobs("jobs", "jobs completed"), bytes("bytes", "bytes moved"), reads("reads", "reads");
    accelvp::average lat("latency_ns", "job latency");
    accelvp::rate bw("bandwidth", "throughput", 1.0, "bytes_per_s");
    reg.add("chip.dma0", jobs);
    reg.add("chip.dma0", bytes);
    reg.add("chip.dma0", lat);
    reg.add("chip.mem", reads);
    reg.add("chip.mem", bw);
    jobs += 2;
    bytes += 4096;
    lat.sample(10);
    lat.sample(30);
    reads += 7;
    bw += 1e6;

    const json j = reg.to_json(1e-3);
    const json expected = {
        {"chip.dma0",
         {{"jobs", 2}, {"bytes", 4096}, {"latency_ns", {{"mean", 20.0}, {"min", 10.0}, {"max", 30.0}, {"count", 2}}}}},
        {"chip.mem", {{"reads", 7}, {"bandwidth", {{"total", 1e6}, {"bytes_per_s", 1e9}}}}}};
    CHECK(j == expected);

    const auto d = reg.descriptions();
    CHECK(d.size() == 5);
    CHECK(d.at("chip.dma0.jobs") == "jobs completed");
    CHECK(d.at("chip.mem.bandwidth") == "throughput");

    CHECK(reg.find("chip.dma0", "latency_ns") == &lat);
    CHECK(reg.find("chip.dma0", "reads") == nullptr);
    CHECK(reg.find("chip.nothing", "jobs") == nullptr);

    reg.remove_component("chip.dma0");
    CHECK(reg.to_json(1.0) == json{{"chip.mem", {{"reads", 7}, {"bandwidth", {{"total", 1e6}, {"bytes_per_s", 1e6}}}}}});
    CHECK(reg.find("chip.dma0", "jobs") == nullptr);
    // After removal the names are free again.
    REQUIRE_NOTHROW(reg.add("chip.dma0", jobs));

    accelvp::stats_registry none;
    CHECK(none.to_json(1.0) == json::object());
    CHECK(&accelvp::global_stats() == &accelvp::global_stats());
}

TEST_CASE("stats: write_json writes the text nlohmann writes for the nested document", "[stats]") {
    accelvp::stats_registry reg;
    accelvp::counter jobs("jobs", "jobs completed"), reads("reads", "reads");
    accelvp::average lat("latency_ns", "job latency");
    accelvp::log2_histogram h("sizes", "sizes", 4);
    reg.add("chip.b\"quoted\"", jobs);  // a name that needs escaping
    reg.add("chip.a", lat);
    reg.add("chip.a", h);
    reg.add("chip.c", reads);
    jobs += 3;
    lat.sample(1.5);
    h.sample(7);
    // As the value of a top-level key (level 1), the way the run writes `components`, and
    // alone (level 0); an empty registry is "{}" like an empty object.
    const json doc = {{"a", 1}, {"components", reg.to_json(2.0)}, {"z", "end"}};
    const std::string text = doc.dump(2);
    const std::string key = "\n  \"components\": ";
    const size_t at = text.find(key) + key.size();
    std::ostringstream nested;
    reg.write_json(nested, 2.0, 2, 1);
    CHECK(text.substr(at, nested.str().size()) == nested.str());
    CHECK(text.substr(at + nested.str().size(), 2) == ",\n");
    std::ostringstream alone;
    reg.write_json(alone, 2.0, 4, 0);
    CHECK(alone.str() == reg.to_json(2.0).dump(4));
    accelvp::stats_registry none;
    std::ostringstream empty;
    none.write_json(empty, 1.0, 2, 1);
    CHECK(empty.str() == "{}");
}

// ---- tracer ------------------------------------------------------------------------

namespace {
// The X event of the trace, or null.
json find_event(const json& doc, const std::string& ph, const std::string& name) {
    for (const auto& e : doc["traceEvents"])
        if (e.value("ph", "") == ph && e.value("name", "") == name) return e;
    return nullptr;
}
} // namespace

TEST_CASE("tracer: a disabled tracer records no events", "[trace]") {
    auto& t = accelvp::tracer::instance();
    t.clear();
    t.enable(false);
    CHECK_FALSE(t.enabled());
    const int track = t.track("chip.dma0");
    CHECK(track == 1);
    t.slice(track, "job", sc_time(1, SC_US), sc_time(2, SC_US), "dma");
    t.instant(track, "irq", sc_time(3, SC_US));
    CHECK(t.event_count() == 0);

    const json doc = json::parse(t.to_string());
    REQUIRE(doc["traceEvents"].is_array());
    CHECK(doc["traceEvents"].size() == 3);  // the process name and the track's metadata only
    CHECK(doc["traceEvents"][0]["name"] == "process_name");
    CHECK(doc["traceEvents"][0]["args"]["name"] == "accelvp");
    t.clear();
}

TEST_CASE("tracer: an enabled tracer writes Chrome-trace JSON with track names and exact us timestamps",
          "[trace]") {
    auto& t = accelvp::tracer::instance();
    t.clear();
    t.enable(true);
    REQUIRE(t.enabled());
    const int dma = t.track("chip.dma0");
    const int q = t.track("chip.qman.ring\"1\"");  // quotes are escaped
    CHECK(dma == 1);
    CHECK(q == 2);
    CHECK(t.track("chip.dma0") == dma);  // same name, same track, no new metadata
    CHECK(t.event_count() == 0);         // track metadata is written with the trace

    t.slice(dma, "copy 4 KiB", sc_time(1.5, SC_US), sc_time(250, SC_NS), "dma", R"({"bytes":4096})");
    t.slice(q, "job 7", sc_time::from_value(1234567), sc_time::from_value(1));
    t.instant(q, "irq", sc_time(2, SC_US), R"({"vector":3})");
    CHECK(t.event_count() == 3);

    const std::string text = t.to_string();
    INFO(text);
    // Microseconds with exactly six decimals (picosecond-exact).
    CHECK_THAT(text, Contains(R"("ts":1.500000,"dur":0.250000)"));
    CHECK_THAT(text, Contains(R"("ts":1.234567,"dur":0.000001)"));
    CHECK_THAT(text, Contains(R"("ts":2.000000)"));

    const json doc = json::parse(text);
    CHECK(doc["displayTimeUnit"] == "ns");
    REQUIRE(doc["traceEvents"].is_array());
    CHECK(doc["traceEvents"].size() == 8);

    bool dma_named = false, q_named = false;
    for (const auto& e : doc["traceEvents"]) {
        if (e["ph"] == "M" && e["name"] == "thread_name") {
            if (e["tid"] == dma && e["args"]["name"] == "chip.dma0") dma_named = true;
            if (e["tid"] == q && e["args"]["name"] == "chip.qman.ring\"1\"") q_named = true;
        }
    }
    CHECK(dma_named);
    CHECK(q_named);

    const json x = find_event(doc, "X", "copy 4 KiB");
    REQUIRE(x.is_object());
    CHECK(x["pid"] == 1);
    CHECK(x["tid"] == dma);
    CHECK(x["ts"].get<double>() == 1.5);
    CHECK(x["dur"].get<double>() == 0.25);
    CHECK(x["cat"] == "dma");
    CHECK(x["args"]["bytes"] == 4096);

    const json y = find_event(doc, "X", "job 7");
    REQUIRE(y.is_object());
    CHECK(y["cat"] == "default");
    CHECK_FALSE(y.contains("args"));

    const json i = find_event(doc, "i", "irq");
    REQUIRE(i.is_object());
    CHECK(i["tid"] == q);
    CHECK(i["ts"].get<double>() == 2.0);
    CHECK(i["s"] == "t");
    CHECK(i["args"]["vector"] == 3);

    // write() puts the same text in a file; an unwritable path throws.
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("accelvp_trace_test_" + std::to_string(::getpid()) + ".json"))
                                 .string();
    t.write(path);
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    CHECK(ss.str() == text);
    std::remove(path.c_str());
    CHECK_THROWS_AS(t.write("/nonexistent-dir/x/trace.json"), std::runtime_error);

    // clear() forgets events and tracks.
    t.clear();
    CHECK(t.event_count() == 0);
    CHECK(t.track("other") == 1);
    t.enable(false);
    t.clear();
}
