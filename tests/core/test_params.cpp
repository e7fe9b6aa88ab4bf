// Unit tests of the parameter tables (tlm/core/params.h), the typed shared keys
// (tlm/core/keys.h) and the RAII stats groups (tlm/core/stats.h).
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "platform/sim/simulation.h"
#include "tlm/core/keys.h"
#include "tlm/core/params.h"
#include "tlm/core/stats.h"

using namespace accelvp;
using Catch::Matchers::Contains;

namespace {
struct geometry {
    uint32_t sets = 64;
};
enum class mode { fast, exact };
struct demo_params {
    uint32_t lanes = 16;
    double latency_ns = 2.5;
    bool dmi = true;
    std::string policy = "open";
    geometry geo;
    double timer_mhz = 10;  // an integer key into a double member
    int64_t addr = -1;      // a range that admits negatives
    mode m = mode::exact;
    static const param_table<demo_params>& table() {
        using P = demo_params;
        static const auto t =
            param_table<P>()
                .integer("lanes", &P::lanes, 1, 64, "link width", "lanes")
                .real("latency_ns", &P::latency_ns, 0, 1000, "one-way latency", "ns")
                .boolean("dmi", &P::dmi, "grant DMI")
                .string("policy", &P::policy, "page policy", {"open", "closed"})
                .integer("geo.sets", [](auto& p) -> auto& { return p.geo.sets; }, 1, 4096, "TLB sets")
                .integer("timer_mhz", &P::timer_mhz, 1, 1000, "tick rate", "MHz")
                .integer("addr", &P::addr, -1, INT64_MAX, "stuck word (-1: none)")
                .choice("mode", &P::m, {{"fast", mode::fast}, {"exact", mode::exact}}, "model fidelity");
        return t;
    }
};
} // namespace

TEST_CASE("params: a table declares every row with the struct's default, range, unit and description", "[params]") {
    param_schema s;
    demo_params::table().declare(s, "blk");
    REQUIRE(s.all().size() == 8);
    const param_spec* lanes = s.find("blk.lanes");
    REQUIRE(lanes);
    CHECK(lanes->type == param_type::integer);
    CHECK(lanes->default_value == "16");
    CHECK(*lanes->min == 1);
    CHECK(*lanes->max == 64);
    CHECK(lanes->unit == "lanes");
    CHECK(lanes->description == "link width");
    CHECK(s.find("blk.latency_ns")->default_value == "2.5");
    CHECK(s.find("blk.dmi")->default_value == "true");
    CHECK(s.find("blk.policy")->choices == std::vector<std::string>{"open", "closed"});
    CHECK(s.find("blk.geo.sets")->default_value == "64");
    CHECK(s.find("blk.timer_mhz")->type == param_type::integer);
    CHECK(s.find("blk.addr")->default_value == "-1");
    CHECK(s.find("blk.mode")->default_value == "exact");
    CHECK(s.find("blk.mode")->choices == std::vector<std::string>{"fast", "exact"});
    CHECK(demo_params::table().keys().front() == "lanes");

    // Other defaults for a second instance (two memories of one model).
    demo_params other;
    other.lanes = 4;
    param_schema s2;
    demo_params::table().declare(s2, "other", other);
    CHECK(s2.find("other.lanes")->default_value == "4");
}

TEST_CASE("params: the loader fills every member from the config, defaults where nothing is set", "[params]") {
    param_schema s;
    demo_params::table().declare(s, "blk");
    config c(s);
    c.set("blk.lanes", "8", "-p");
    c.set("blk.geo.sets", "0x100", "-p");
    c.set("blk.timer_mhz", "25", "-p");
    c.set("blk.mode", "fast", "-p");
    c.set("blk.policy", "closed", "-p");
    const demo_params p = demo_params::table().load(c, "blk");
    CHECK(p.lanes == 8);
    CHECK(p.latency_ns == 2.5);
    CHECK(p.dmi);
    CHECK(p.policy == "closed");
    CHECK(p.geo.sets == 256);
    CHECK(p.timer_mhz == 25.0);
    CHECK(p.addr == -1);
    CHECK(p.m == mode::fast);
}

TEST_CASE("params: a value out of the row's range is a config error naming the key and the range", "[params]") {
    param_schema s;
    demo_params::table().declare(s, "blk");
    config c(s);
    try {
        c.set("blk.lanes", "65", "-p");
        FAIL("no error");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()) ==
              "config error: blk.lanes = '65' (out of range): expected an integer (e.g. 4096, 0x1000, 4KiB) in [1, 64] "
              "lanes");
    }
    try {
        c.set("blk.mode", "slow", "-p");
        FAIL("no error");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()) == "config error: blk.mode = 'slow': expected one of fast, exact");
    }
}

TEST_CASE("params: every shared key is declared by the platform schema with its type", "[params]") {
    const param_schema s = build_schema("collective");  // the platform, system.* and workload.bytes
    std::set<std::string> seen;
    for (const auto& k : keys::all_shared) {
        INFO(k.name);
        const param_spec* spec = s.find(k.name);
        REQUIRE(spec);
        CHECK(spec->type == k.type);
        CHECK(std::string(k.name).rfind(std::string(k.ns) + ".", 0) == 0);  // keys::dma::x names "dma.*"
        CHECK(seen.insert(k.name).second);                                  // one constant per key
    }
    CHECK(std::string(keys::host::mem_bandwidth_gbps.name) == "host.mem.bandwidth_gbps");
    CHECK(keys::all_shared[0].type == param_type::string);  // sim.mode
}

TEST_CASE("params: typed keys read the value with the key's type", "[params]") {
    const param_schema s = build_schema("");
    config c(s);
    c.set(keys::dma::engines, "4", "-p");
    c.set("sim.mode", "timing", "-p");
    const uint64_t engines = c.get(keys::dma::engines);
    CHECK(engines == 4);
    CHECK(c.get(keys::sim::mode) == "timing");
    CHECK(c.get(keys::cpu::enabled));
    CHECK(c.get(keys::chip::noc_hop_ns) == 2.0);
    CHECK(c.is_set(keys::dma::engines));
    CHECK_THAT(c.describe(keys::dma::engines), Contains("dma.engines=4"));
}

TEST_CASE("stats: a stats group registers under its component and unregisters itself when destroyed", "[stats]") {
    counter a("a_count", "first"), b("b_count", "second"), ch("ch_count", "per channel");
    {
        stats_group g("test_group.blk", {&a});
        g.add(b);
        g.add("ch0", ch);
        ++a;
        CHECK(global_stats().find("test_group.blk", "a_count") == &a);
        CHECK(global_stats().find("test_group.blk", "b_count") == &b);
        CHECK(global_stats().find("test_group.blk.ch0", "ch_count") == &ch);
        CHECK(global_stats().to_json(1.0)["test_group.blk"]["a_count"] == 1);
    }
    CHECK(global_stats().find("test_group.blk", "a_count") == nullptr);
    CHECK(global_stats().find("test_group.blk.ch0", "ch_count") == nullptr);
    CHECK_FALSE(global_stats().to_json(1.0).contains("test_group.blk"));
}

TEST_CASE("stats: two groups under one component each remove only their own stats", "[stats]") {
    counter a("a_count", "first"), b("b_count", "second");
    stats_group outer("test_group.shared", {&a});
    {
        stats_group inner("test_group.shared", {&b});
        CHECK(global_stats().find("test_group.shared", "b_count") == &b);
    }
    CHECK(global_stats().find("test_group.shared", "b_count") == nullptr);
    CHECK(global_stats().find("test_group.shared", "a_count") == &a);
}
