// Multi-chip systems (platform/system/system_board.h) running the `collective` workload
// end to end: N chips with hosts and drivers, links per topology, COLL jobs through the
// queue managers. Data verified bit-exact on every chip; a link going down fails the
// job with LINK_DOWN instead of hanging; a large ring all_reduce gets close to its bound.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "platform/sim/simulation.h"
#include "platform/system/system_board.h"
#include "platform/workloads/collective.h"
#include "tlm/core/log.h"

using namespace accelvp;

namespace {
struct outcome {
    bool done = false;
    int exit_code = -1;
    std::string error;
    nlohmann::json summary;
    std::optional<bool> verified;
    double end_ns = 0;  // simulated time when the board stopped
};

outcome run_system(std::vector<std::string> overrides, std::function<void(system_board&)> inspect = {},
                   const std::string& preset = "training") {
    param_schema s = build_schema("");
    system_board::declare(s);
    declare_collective(s);
    run_options o;
    o.config = preset;
    o.overrides = std::move(overrides);
    const config c = load_config(s, o);
    set_log_level(log_level::error);
    auto top = std::make_unique<system_board>("system", c, run_collective);
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_SEC));
    outcome r;
    r.done = top->done();
    r.exit_code = top->exit_code();
    r.error = top->error();
    r.summary = top->summary();
    r.verified = top->verified();
    r.end_ns = static_cast<double>(sc_core::sc_time_stamp().value()) / 1e3;
    if (inspect) inspect(*top);
    return r;
}
} // namespace

TEST_CASE("system: ring all_reduce on 4 chips is verified bit-exact on every chip", "[system]") {
    const outcome r = run_system({"system.chips=4", "workload.bytes=1048588", "workload.chunks=2"},
                                 [](system_board& b) {
                                     // Every chip sent 2 (n-1)/n of the buffer on its port 0.
                                     for (uint32_t i = 0; i < 4; ++i)
                                         CHECK(b.tx(i, 0).payload_bytes() >= 2 * 3 * 1048588 / 4);
                                     CHECK(b.tx(0, 1).payload_bytes() == 0);
                                 });
    INFO(r.error);
    REQUIRE(r.done);
    CHECK(r.exit_code == 0);
    REQUIRE(r.verified.has_value());
    CHECK(*r.verified);
    CHECK(r.summary["algorithm"] == "ring");
    CHECK(r.summary["busbw_gbps"].get<double>() > 0);
    CHECK(r.summary["bound_ratio"].get<double>() <= 1.0);
}

TEST_CASE("system: all_gather of an odd size on 3 chips is verified", "[system]") {
    const outcome r = run_system({"system.chips=3", "workload.op=all_gather", "workload.bytes=3004"});
    INFO(r.error);
    REQUIRE(r.done);
    CHECK(r.exit_code == 0);
    CHECK(r.verified == std::optional<bool>(true));
}

TEST_CASE("system: tree all_reduce on 8 fully connected chips is verified", "[system]") {
    const outcome r = run_system({"system.chips=8", "system.topology=fully_connected", "workload.bytes=40000",
                                  "workload.algorithm=auto"});
    INFO(r.error);
    REQUIRE(r.done);
    CHECK(r.exit_code == 0);
    CHECK(r.summary["algorithm"] == "tree");
    CHECK(r.verified == std::optional<bool>(true));
}

TEST_CASE("system: all_to_all through a switch is verified", "[system]") {
    const outcome r = run_system({"system.chips=4", "system.topology=switch", "workload.op=all_to_all",
                                  "workload.bytes=40000"});
    INFO(r.error);
    REQUIRE(r.done);
    CHECK(r.exit_code == 0);
    CHECK(r.verified == std::optional<bool>(true));
}

TEST_CASE("system: a link going down fails the collective with LINK_DOWN and no hang", "[system]") {
    const outcome r = run_system({"system.chips=4", "workload.bytes=4MiB", "link.down_at_ns=60000", "link.down_port=2.0"});
    REQUIRE(r.done);
    CHECK(r.exit_code == 1);
    CHECK(r.error.find("chip 2: LINK_DOWN") != std::string::npos);
}

TEST_CASE("system: a large ring all_reduce reaches 90 percent of the alpha-beta bound", "[system]") {
    const outcome r = run_system({"system.chips=8", "workload.bytes=64MiB", "sim.mode=timing"});
    INFO(r.error);
    REQUIRE(r.done);
    REQUIRE(r.exit_code == 0);
    INFO(r.summary.dump());
    CHECK(r.summary["bound_ratio"].get<double>() >= 0.9);
    CHECK(r.summary["bound_ratio"].get<double>() <= 1.0);
}

// Scale (issue 24): the hosts write their chips' inputs at once, so the set-up's simulated
// time no longer grows by one input write per chip. 2406.579 us is the collective's time
// with the sequential set-up (measured before the change with `accelvp run`). The
// collective now starts at another absolute time, so each chip's control-core firmware is
// at another phase of its 1 ms heartbeat: a doorbell that arrives while the firmware serves
// a heartbeat (about 500 instructions) is seen that much later. That is the one difference
// (+23 ns here: 2406.602 us), bounded by one heartbeat's service.
TEST_CASE("system: the collective takes the time it took with the sequential set-up (heartbeat phase)", "[system]") {
    const outcome r = run_system({"system.chips=8", "workload.bytes=64MiB", "sim.mode=timing"});
    REQUIRE(r.done);
    REQUIRE(r.exit_code == 0);
    INFO(r.summary.dump());
    CHECK(std::abs(r.summary["time_us"].get<double>() - 2406.579) <= 1.0);
    CHECK(r.summary["bound_ratio"].get<double>() == Approx(0.997280).margin(0.0005));
}

TEST_CASE("system: the set-up's simulated time grows by far less than one input write per chip", "[system]") {
    // 4 MiB over the training preset's PCIe Gen4 x16 takes about 170 us and each chip's probe
    // (firmware load and boot, still one chip after the other) about 26 us: one after the
    // other, the set-up of 16 chips took 16 x 196 us; at once, 16 x 26 us + 170 us.
    const outcome r = run_system({"system.chips=16", "workload.bytes=4MiB", "sim.mode=timing"});
    REQUIRE(r.exit_code == 0);
    const double setup_ns = r.end_ns - r.summary["time_us"].get<double>() * 1e3;
    INFO(r.end_ns << " ns in all, " << setup_ns << " ns before and after the collective");
    CHECK(setup_ns > 170e3);
    CHECK(setup_ns < 16 * 60e3 + 2 * 170e3);
}

// Hidden (run by hand: test_platform "[.measure]" -s): the scale goal.
TEST_CASE("system: measure 64 chips 64 MiB ring all_reduce in timing mode", "[.measure]") {
    const auto t0 = std::chrono::steady_clock::now();
    const outcome r = run_system({"system.chips=64", "workload.bytes=64MiB", "sim.mode=timing"});
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(r.done);
    REQUIRE(r.exit_code == 0);
    std::printf("64 chips: %s wall %.2f s\n", r.summary.dump().c_str(), wall);
    CHECK(wall < 60);
}

// Hidden: one run with the overrides in $ACCELVP_SYSTEM_P (blank-separated), for sweeps by
// hand (docs/links.md): ACCELVP_SYSTEM_P="system.chips=8 workload.bytes=1MiB" test_platform "[.run]" -s
TEST_CASE("system: one run from the environment", "[.run]") {
    std::vector<std::string> ov;
    if (const char* e = std::getenv("ACCELVP_SYSTEM_P")) {
        std::istringstream in(e);
        for (std::string w; in >> w;) ov.push_back(w);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const outcome r = run_system(ov);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(r.done);
    INFO(r.error);
    CHECK(r.exit_code == 0);
    std::printf("RESULT %s wall_s=%.3f\n", r.summary.dump().c_str(), wall);
}
