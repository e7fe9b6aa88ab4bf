// conv2d, attention and transformer-layer workloads: verified bit-exact against their host
// references in functional mode, identical cycles in timing mode, clear config errors.
#include <catch2/catch.hpp>

#include <sstream>

#include "harness.h"
#include "platform/runtime/im2col.h"

using namespace accelvp;

namespace {
run_result run_wl(const std::string& wl, std::vector<std::string> overrides, const std::string& mode = "functional",
                  const std::string& preset = "inference") {
    run_options o;
    o.config = preset;
    o.workload = wl;
    o.mode = mode;
    o.quiet = true;
    o.overrides = std::move(overrides);
    std::ostringstream out;
    return accelvp::run(o, out);
}
nlohmann::json run_ok(const std::string& wl, std::vector<std::string> overrides, const std::string& mode = "functional",
                      const std::string& preset = "inference") {
    const run_result r = run_wl(wl, std::move(overrides), mode, preset);
    INFO(r.error);
    REQUIRE(r.exit_code == 0);
    return r.stats;
}

// Functional run verifies; a timing run (in a child: SystemC elaborates once per process)
// gives the same device cycles and the same busiest-engine cycles.
void timing_matches(const std::string& wl, const std::vector<std::string>& p) {
    const std::vector<uint64_t> v = test::in_child(3, [&]() -> std::vector<uint64_t> {
        const run_result r = run_wl(wl, p, "timing");
        if (r.exit_code != 0) return {};
        return {r.stats["summary"]["cycles"].get<uint64_t>(), r.stats["summary"]["engine_cycles_max"].get<uint64_t>(),
                r.stats["workload"]["verified"].is_null() ? 1u : 0u};
    });
    const auto f = run_ok(wl, p);
    REQUIRE(f["workload"]["verified"] == true);
    REQUIRE(v[2] == 1);  // the timing run checked nothing
    REQUIRE(v[0] > 0);
    REQUIRE(f["summary"]["cycles"].get<uint64_t>() == v[0]);
    REQUIRE(f["summary"]["engine_cycles_max"].get<uint64_t>() == v[1]);
}
} // namespace

TEST_CASE("conv2d: strided padded convolution verifies bit-exact in bf16", "[conv2d]") {
    const auto s = run_ok("conv2d", {"workload.n=2", "workload.c=5", "workload.h=13", "workload.w=11", "workload.k=24",
                                     "workload.r=3", "workload.s=5", "workload.stride=2", "workload.padding=2"});
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(s["summary"]["output"] == "2x24x8x6");  // P = (13+4-3)/2+1, Q = (11+4-5)/2+1
    REQUIRE(s["summary"]["flops"].get<double>() == 2.0 * 2 * 24 * 5 * 3 * 5 * 8 * 6);
}

void small_conv(const char* dt) {
    const auto s = run_ok("conv2d", {std::string("workload.dtype=") + dt, "workload.c=7", "workload.h=9",
                                     "workload.w=9", "workload.k=10"});
    REQUIRE(s["workload"]["verified"] == true);
}
TEST_CASE("conv2d: an int8 convolution verifies bit-exact", "[conv2d]") { small_conv("int8"); }
TEST_CASE("conv2d: an fp8 e4m3 convolution verifies bit-exact", "[conv2d]") { small_conv("fp8_e4m3"); }

TEST_CASE("conv2d: timing mode gives the functional cycles", "[conv2d]") {
    timing_matches("conv2d", {"workload.c=8", "workload.h=12", "workload.w=12", "workload.k=40"});
}

// Device im2col (the default): the DMA gather's packets, bytes and time (docs/compute.md, "conv2d").
TEST_CASE("conv2d: device im2col with stride 1 and padding 1 verifies with wide DMA rows", "[conv2d]") {
    const auto s = run_ok("conv2d", {"workload.c=3", "workload.h=9", "workload.w=7", "workload.k=20"});
    REQUIRE(s["workload"]["verified"] == true);
    const auto& sm = s["summary"];
    REQUIRE(sm["im2col"] == "device");
    REQUIRE(sm["im2col_rows"] == "wide");
    REQUIRE(sm["gemm"] == "20x81x27");  // K x (P * Wp) x C*R*S, P = 9, Wp = 9
    // 1 FILL of Xp, 3 interior copies (9 rows of W each), per tap (r, s) one packet of C = 3
    // rows of P * Wp elements.
    REQUIRE(sm["im2col_packets"] == 1 + 3 + 9);
    REQUIRE(sm["im2col_bytes"] == 3 * 11 * 9 * 2 + 3 * 9 * 7 * 2 + 9 * 3 * 9 * 9 * 2);
    REQUIRE(sm["im2col_ns"].get<double>() > 0);
    REQUIRE(sm["im2col_ns"].get<double>() + sm["phase_ns"]["conv2d"].get<double>() ==
            Approx(sm["device_ns"].get<double>()));
    REQUIRE(sm["im2col_share"].get<double>() == Approx(sm["im2col_ns"].get<double>() / sm["device_ns"].get<double>()));
}

TEST_CASE("conv2d: device im2col with stride 2 and padding 1 verifies with row phases", "[conv2d]") {
    const auto s = run_ok("conv2d", {"workload.c=3", "workload.h=10", "workload.w=9", "workload.k=12",
                                     "workload.stride=2"});
    REQUIRE(s["workload"]["verified"] == true);
    const auto& sm = s["summary"];
    REQUIRE(sm["output"] == "1x12x5x5");
    REQUIRE(sm["gemm"] == "12x55x27");  // P * Wp = 5 * 11 columns, q at column 2q
    // Xp = 3 planes x 2 row phases x 6 rows x 11: 1 FILL; per phase 3 copies of 5 input rows;
    // per tap one packet of C = 3 runs of P * Wp elements.
    REQUIRE(sm["im2col_packets"] == 1 + 2 * 3 + 9);
    REQUIRE(sm["im2col_bytes"] == 3 * 2 * 6 * 11 * 2 + 3 * 10 * 9 * 2 + 9 * 3 * 5 * 11 * 2);
}

TEST_CASE("conv2d: compact device im2col with stride 2 gathers element by element", "[conv2d]") {
    const auto s = run_ok("conv2d", {"workload.c=3", "workload.h=10", "workload.w=9", "workload.k=12",
                                     "workload.stride=2", "workload.im2col_rows=compact"});
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(s["summary"]["gemm"] == "12x25x27");
    // Per tap the largest of (n, c, p, q) = 5 is the height of one-element rows; 3 * 5 loop.
    REQUIRE(s["summary"]["im2col_packets"] == 1 + 3 + 9 * 3 * 5);
}

TEST_CASE("conv2d: device im2col with stride 2 without padding verifies over a batch", "[conv2d]") {
    const auto s = run_ok("conv2d", {"workload.n=2", "workload.c=4", "workload.h=11", "workload.w=8",
                                     "workload.k=9", "workload.r=3", "workload.s=2", "workload.stride=2",
                                     "workload.padding=0", "workload.dtype=fp16"});
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(s["summary"]["output"] == "2x9x5x4");
}

TEST_CASE("conv2d: device im2col with compact rows and a 3x5 filter verifies", "[conv2d]") {
    const auto s = run_ok("conv2d", {"workload.n=2", "workload.c=5", "workload.h=13", "workload.w=11",
                                     "workload.k=24", "workload.r=3", "workload.s=5", "workload.padding=2",
                                     "workload.im2col_rows=compact"});
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(s["summary"]["im2col_rows"] == "compact");
    REQUIRE(s["summary"]["gemm"] == "24x330x75");  // N*P*Q = 2*15*11
}

TEST_CASE("conv2d: device im2col of a 1x1 filter is one packet per image", "[conv2d]") {
    const auto s = run_ok("conv2d", {"workload.n=3", "workload.c=16", "workload.h=6", "workload.w=10",
                                     "workload.k=8", "workload.r=1", "workload.s=1", "workload.padding=0"});
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(s["summary"]["im2col_packets"] == 3);  // C rows of H*W elements each
    REQUIRE(s["summary"]["im2col_bytes"] == 3 * 16 * 6 * 10 * 2);
}

TEST_CASE("conv2d: a 1x1 filter on one image needs no gather", "[conv2d]") {
    const auto s = run_ok("conv2d", {"workload.c=16", "workload.h=6", "workload.w=10", "workload.k=8",
                                     "workload.r=1", "workload.s=1", "workload.padding=0"});
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(s["summary"]["im2col_packets"] == 0);  // the NCHW input is the im2col matrix
    REQUIRE(s["summary"]["im2col_ns"].get<double>() == 0);
}

TEST_CASE("conv2d: host im2col still verifies the strided convolution", "[conv2d]") {
    const auto s = run_ok("conv2d", {"workload.n=2", "workload.c=5", "workload.h=13", "workload.w=11", "workload.k=24",
                                     "workload.r=3", "workload.s=5", "workload.stride=2", "workload.padding=2",
                                     "workload.im2col=host"});
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(s["summary"]["gemm"] == "96x24x75");  // (N*P*Q) x K x C*R*S
    REQUIRE(s["summary"]["dma_packets"] == 3);    // the GEMM's loads and store only
}

TEST_CASE("conv2d: the device gather costs device time over host im2col", "[conv2d]") {
    const std::vector<std::string> p{"workload.c=8", "workload.h=12", "workload.w=12", "workload.k=16"};
    const std::vector<uint64_t> host = test::in_child(1, [&]() -> std::vector<uint64_t> {
        std::vector<std::string> ph = p;
        ph.push_back("workload.im2col=host");
        const run_result r = run_wl("conv2d", ph);
        if (r.exit_code != 0 || r.stats["workload"]["verified"] != true) return {};
        return {r.stats["summary"]["cycles"].get<uint64_t>()};
    });
    const auto s = run_ok("conv2d", p);
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(host[0] > 0);
    REQUIRE(s["summary"]["cycles"].get<uint64_t>() > host[0]);
    REQUIRE(s["summary"]["im2col_ns"].get<double>() > 0);
}

TEST_CASE("conv2d: timing mode gives the functional cycles of a strided device gather", "[conv2d]") {
    timing_matches("conv2d", {"workload.c=3", "workload.h=9", "workload.w=9", "workload.k=8", "workload.stride=2"});
}

// Planning only (no simulation): a stream past AAX_MAX_CMDBUF_SIZE continues in a second job.
TEST_CASE("conv2d: a large gather is spread over the DMA engines in three rounds and verifies", "[conv2d]") {
    // Training preset, 8 DMA engines: a 9.3 MiB im2col matrix takes two streams (4 MiB each
    // at least); the zero fill, the row copies and the gather are three rounds of jobs.
    const auto s = run_ok("conv2d", {"workload.n=5", "workload.c=32", "workload.h=56", "workload.w=56", "workload.k=16"},
                          "functional", "training");
    REQUIRE(s["workload"]["verified"] == true);
    CHECK(s["summary"]["im2col_streams"].get<uint64_t>() == 2);
    CHECK(s["summary"]["im2col_jobs"].get<uint64_t>() == 3);
    CHECK(s["components"]["board.chip.dma1"]["bytes"].get<uint64_t>() > 0);  // the second engine worked
}

TEST_CASE("conv2d: an im2col gather larger than a command buffer is split into jobs", "[conv2d]") {
    conv_shape cs;
    cs.c = 64, cs.h = 147, cs.w = 147, cs.r = 9, cs.s = 9, cs.stride = 2;  // P = Q = 70, compact
    const std::vector<gemm_plan> jobs = plan_im2col(cs, 0x1000, 0, 0x10000000);
    REQUIRE(jobs.size() == 2);
    REQUIRE(jobs[0].dma_packets == AAX_MAX_CMDBUF_SIZE / sizeof(aax_pkt_dma));
    REQUIRE(jobs[0].streams.at(0).size() == jobs[0].dma_packets * sizeof(aax_pkt_dma));
    REQUIRE(jobs[0].dma_packets + jobs[1].dma_packets == 81 * 64 * 70);  // per tap: height Q, c x p loop
    REQUIRE(jobs[1].streams.at(0).size() == jobs[1].dma_packets * sizeof(aax_pkt_dma));
    uint64_t bytes = 0;
    for (const auto& j : jobs)
        for (const auto& d : j.dmas) bytes += d.bytes;
    REQUIRE(bytes == cs.matrix_bytes());
}

TEST_CASE("conv2d: an element-wise gather beyond the packet bound is an error", "[conv2d]") {
    const run_result r = run_wl("conv2d", {"workload.c=128", "workload.h=300", "workload.w=300", "workload.r=9",
                                           "workload.s=9", "workload.stride=2", "workload.padding=0",
                                           "workload.im2col_rows=compact"},
                                "timing");
    REQUIRE(r.exit_code != 0);
    REQUIRE_THAT(r.error, Catch::Contains("2^20 DMA packets"));
}

// Validated at config time (the workload's validate step): a config_error before elaboration.
TEST_CASE("conv2d: padding as large as the filter is a config error naming the key", "[conv2d]") {
    REQUIRE_THROWS_WITH(run_wl("conv2d", {"workload.padding=3"}),
                        "config error: workload.padding (3) must be smaller than the filter (workload.r 3, workload.s 3)");
}

TEST_CASE("conv2d: a filter larger than the padded input is a config error", "[conv2d]") {
    REQUIRE_THROWS_WITH(run_wl("conv2d", {"workload.h=2", "workload.w=2", "workload.r=5", "workload.s=5",
                                          "workload.padding=1"}),
                        "config error: the filter (5x5) is larger than the padded input (4x4): check "
                        "workload.h/w/r/s/padding");
}

// Its own test case: the schema throws before any simulation (an exception after a SystemC
// run in the same process confuses ASan's stack tracking).
TEST_CASE("conv2d: a zero dimension is a config error naming the key", "[conv2d]") {
    REQUIRE_THROWS_WITH(run_wl("conv2d", {"workload.c=0"}), Catch::Contains("workload.c"));
}

TEST_CASE("attention: several heads and batches verify bit-exact and time identically", "[attention]") {
    timing_matches("attention", {"workload.batch=2", "workload.heads=3", "workload.seq=40", "workload.head_dim=24"});
}

TEST_CASE("attention: fp16 on the single-ring edge preset verifies", "[attention]") {
    const auto s = run_ok("attention", {"workload.dtype=fp16", "workload.seq=33", "workload.head_dim=16"},
                          "functional", "edge");
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(s["summary"]["gemm_packets"].get<uint64_t>() >= 4);
    // Both heads' score rows are one row block of one vector phase: scale + softmax.
    REQUIRE(s["summary"]["vec_packets"].get<uint64_t>() == 2);
}

TEST_CASE("transformer-layer: a small layer verifies bit-exact and times identically", "[transformer]") {
    timing_matches("transformer-layer",
                   {"workload.hidden=128", "workload.heads=2", "workload.seq=64", "workload.mlp=256"});
}

TEST_CASE("transformer-layer: the summary breaks the device time down by phase", "[transformer]") {
    const auto s = run_ok("transformer-layer",
                          {"workload.hidden=64", "workload.heads=4", "workload.seq=16", "workload.mlp=96",
                           "workload.batch=2"});
    REQUIRE(s["workload"]["verified"] == true);
    const auto& sum = s["summary"];
    double total = 0;
    for (const auto& [k, v] : sum["phase_ns"].items()) total += v.get<double>();
    REQUIRE(sum["phase_ns"].size() == 12);
    REQUIRE(total == Approx(sum["device_ns"].get<double>()));
    REQUIRE(sum["span_ns"].get<double>() >= sum["device_ns"].get<double>());
    // 2*T*H*3H + 4*B*heads*seq^2*d + 2*T*H*H + 4*T*H*M with T = 32
    REQUIRE(sum["flops"].get<double>() == 2.0 * 32 * 64 * 192 + 4.0 * 2 * 4 * 16 * 16 * 16 + 2.0 * 32 * 64 * 64 +
                                              4.0 * 32 * 64 * 96);
}

TEST_CASE("transformer-layer: heads not dividing hidden is a config error", "[transformer]") {
    REQUIRE_THROWS_WITH(run_wl("transformer-layer", {"workload.hidden=100", "workload.heads=3", "workload.seq=8"}),
                        "config error: workload.heads (3) must divide workload.hidden (100)");
}
