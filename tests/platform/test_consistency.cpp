// Derived parameters and the consistency pass (platform/sim/config_consistency.h): values
// that follow from others are derived and marked, contradictions are config errors naming
// both keys, and the figures a run reports (peaks, bounds, utilization) come from the models
// and resources the run actually has.
#include <catch2/catch.hpp>

#include <sstream>

#include "platform/sim/config_consistency.h"
#include "platform/sim/simulation.h"

using namespace accelvp;

namespace {
config load(const std::string& preset, std::vector<std::string> overrides, std::vector<std::string>* warnings = nullptr,
            const std::string& workload = "") {
    static param_schema schema;  // load_config keeps a pointer to it
    schema = build_schema(workload);
    run_options o;
    o.config = preset;
    o.overrides = std::move(overrides);
    std::vector<std::string> w;
    config c = load_config(schema, o, &w);
    if (warnings) *warnings = w;
    return c;
}

std::string error_of(const std::string& preset, std::vector<std::string> overrides) {
    try {
        load(preset, std::move(overrides));
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

nlohmann::json run_stats(const std::string& preset, const std::string& workload, std::vector<std::string> overrides,
                         const std::string& mode = "timing") {
    run_options o;
    o.config = preset;
    o.workload = workload;
    o.mode = mode;
    o.quiet = true;
    o.overrides = std::move(overrides);
    std::ostringstream out;
    const run_result r = run(o, out);
    INFO(r.error);
    REQUIRE(r.exit_code == 0);
    return r.stats;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
} // namespace

TEST_CASE("consistency: rings, CQs, MSI-X vectors and driver rings follow from the clusters", "[consistency]") {
    const config t = load("training", {});
    CHECK(t.get_uint("qman.rings") == 16);
    CHECK(t.get_uint("qman.cqs") == 16);
    CHECK(t.get_uint("pcie.msix_vectors") == 18);
    CHECK(t.get_uint("host.driver.rings") == 16);
    CHECK(t.is_derived("qman.rings"));
    CHECK(t.is_derived("pcie.msix_vectors"));
    CHECK(contains(t.to_yaml(), "[derived: 2 x compute.clusters (8)]"));

    // Edge keeps its one ring (set in the preset); four clusters then need rings set too, and
    // everything else follows.
    const config e4 = load("edge", {"compute.clusters=4", "qman.rings=8"});
    CHECK(e4.get_uint("qman.cqs") == 8);
    CHECK(e4.get_uint("pcie.msix_vectors") == 10);
    CHECK(e4.get_uint("host.driver.rings") == 8);
    const config inf = load("inference", {"compute.clusters=4"});
    CHECK(inf.get_uint("qman.rings") == 8);
    CHECK(inf.get_uint("host.driver.rings") == 8);
}

TEST_CASE("consistency: contradictions are config errors naming both keys", "[consistency]") {
    // More clusters than the ABI's rings can feed.
    std::string m = error_of("training", {"compute.clusters=16"});
    CHECK(contains(m, "compute.clusters=16 needs 32 rings"));
    CHECK(contains(m, "AAX_MAX_RINGS"));
    // The edge preset's single ring cannot feed four clusters: the message names the preset file.
    m = error_of("edge", {"compute.clusters=4"});
    CHECK(contains(m, "compute.clusters=4 needs 8 rings"));
    CHECK(contains(m, "qman.rings=1 (from "));
    CHECK(contains(m, "edge.yaml"));
    // Four of the five settings right, the driver's rings not: named, with the value it needs.
    m = error_of("edge", {"compute.clusters=4", "qman.rings=8", "host.driver.rings=2"});
    CHECK(contains(m, "host.driver.rings=2 (from -p)"));
    CHECK(contains(m, "host.driver.rings=8"));
    m = error_of("inference", {"pcie.msix_vectors=5"});
    CHECK(contains(m, "pcie.msix_vectors=5 (from -p) is too few for qman.cqs=4"));
    m = error_of("inference", {"host.driver.rings=6"});
    CHECK(contains(m, "host.driver.rings=6 (from -p) asks for more rings than the device has: qman.rings=4"));
    CHECK(error_of("inference", {"compute.clusters=3", "qman.rings=8"}).empty());
}

TEST_CASE("consistency: legitimate but unusual choices are warnings", "[consistency]") {
    std::vector<std::string> w;
    load("training", {"mem.model=dram", "mem.standard=HBM3"}, &w);
    REQUIRE(w.size() == 1);
    CHECK(contains(w[0], "mem.bandwidth_gbps=2450"));
    CHECK(contains(w[0], "mem.standard=HBM3"));
    load("training", {"mem.model=dram"}, &w);  // 6 HBM2E stacks: 2457.6 GB/s, within 5 % of 2450
    CHECK(w.empty());
    load("inference", {"dma.engines=6"}, &w);
    REQUIRE(w.size() == 1);
    CHECK(contains(w[0], "2 engines are never used"));
}

TEST_CASE("consistency: derived figures use the memory model and MAC rates of the run", "[consistency]") {
    const config t = load("training", {});
    const config h3 = load("training", {"mem.model=dram", "mem.standard=HBM3"});
    const config h2e = load("training", {"mem.model=dram"});
    CHECK(device_memory_peak_gbps(t) == 2450.0);
    CHECK(device_memory_peak_gbps(h2e) == Approx(2457.6));
    CHECK(device_memory_peak_gbps(h3) > 1.5 * device_memory_peak_gbps(h2e));
    double bf16 = 0, int8 = 0, fp8 = 0;
    for (const auto& [k, v] : derived_figures(t)) {
        if (k == "peak_tflops.bf16") bf16 = v;
        if (k == "peak_tflops.int8") int8 = v;
        if (k == "peak_tflops.fp8") fp8 = v;
    }
    CHECK(bf16 == Approx(471.86).epsilon(1e-3));
    CHECK(int8 == Approx(2 * bf16));
    CHECK(fp8 == Approx(2 * bf16));
}

// One simulation per test case (SystemC elaborates once per process).
TEST_CASE("consistency: a GEMM's HBM time and bound come from the DRAM model in the run", "[consistency][gemm]") {
    // HBM3 on the training card: the analytic HBM time uses the DRAM model's peak, not the
    // preset's mem.bandwidth_gbps (2450), which HBM2E and HBM3 runs used to share.
    const std::vector<std::string> o{"workload.m=2048", "workload.n=2048", "workload.k=2048", "mem.model=dram",
                                     "mem.standard=HBM3"};
    const double peak = device_memory_peak_gbps(load("training", o, nullptr, "gemm"));
    REQUIRE(peak > 1.5 * 2450);
    const auto s = run_stats("training", "gemm", o)["summary"];
    CHECK(s["t_HBM_ns"].get<double>() == Approx(s["hbm_bytes"].get<double>() / peak));
    CHECK(s["bound"] != "HBM");
}

TEST_CASE("consistency: peak and utilization count the clusters used at the type's MAC rate", "[consistency][gemm]") {
    const auto i8 = run_stats("training", "gemm",
                              {"workload.m=1024", "workload.n=1024", "workload.k=1024", "workload.dtype=int8"})["summary"];
    CHECK(i8["clusters_used"] == 8);
    CHECK(i8["peak_dtype"] == "int8");
    CHECK(i8["peak_tflops"].get<double>() == Approx(2 * 471.86).epsilon(1e-3));
    CHECK(i8["utilization"].get<double>() ==
          Approx(i8["tflops"].get<double>() / i8["peak_tflops"].get<double>()).epsilon(1e-9));
}

TEST_CASE("consistency: a run's stats list the derived keys and the warnings", "[consistency]") {
    const auto st = run_stats("inference", "dma-copy", {"workload.bytes=64KiB", "dma.engines=6"});
    CHECK(st["config_derived"]["qman.rings"] == "2 x compute.clusters (2)");
    CHECK(st["config_derived"].contains("pcie.msix_vectors"));
    CHECK_FALSE(st["config_derived"].contains("compute.clusters"));
    REQUIRE(st["config_warnings"].size() == 1);
    CHECK(contains(st["config_warnings"][0].get<std::string>(), "dma.engines=6"));
}
