// The compute clusters on the chip: GEMM/VEC packets through the queues, cluster SRAM on
// the chip bus, and the gemm workload (compiler-lite tiling, semaphores, double
// buffering) verified end to end against num::gemm_ref.
#include <catch2/catch.hpp>

#include <sstream>

#include "harness.h"
#include "tlm/compute/numerics.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {
nlohmann::json run_gemm(std::vector<std::string> overrides, const std::string& mode = "functional",
                        const std::string& preset = "inference") {
    run_options o;
    o.config = preset;
    o.workload = "gemm";
    o.mode = mode;
    o.quiet = true;
    o.overrides = std::move(overrides);
    std::ostringstream out;
    const run_result r = accelvp::run(o, out);
    INFO(r.error);
    REQUIRE(r.exit_code == 0);
    return r.stats;
}
} // namespace

// Small tiles force edge tiles, several k chunks (accumulation across packets) and
// several tiles per cluster (double-buffered slots and C buffers reused).
void odd_gemm(const char* dt) {
    const auto s = run_gemm({std::string("workload.dtype=") + dt, "workload.m=77", "workload.n=45", "workload.k=131",
                             "workload.tile_m=32", "workload.tile_n=16", "workload.tile_k=48",
                             "compute.array_rows=16", "compute.array_cols=8"});
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(s["summary"]["gemm_packets"] == 3 * 3 * 3);
}
TEST_CASE("gemm: odd shapes verify bit-exact in bf16", "[gemm]") { odd_gemm("bf16"); }
TEST_CASE("gemm: odd shapes verify bit-exact in fp16", "[gemm]") { odd_gemm("fp16"); }
TEST_CASE("gemm: odd shapes verify bit-exact in fp8 e4m3", "[gemm]") { odd_gemm("fp8_e4m3"); }
TEST_CASE("gemm: odd shapes verify bit-exact in fp8 e5m2", "[gemm]") { odd_gemm("fp8_e5m2"); }
TEST_CASE("gemm: odd shapes verify bit-exact in int8", "[gemm]") { odd_gemm("int8"); }

TEST_CASE("gemm: B stored transposed verifies and timing mode gives identical cycles", "[gemm]") {
    const std::vector<std::string> p = {"workload.layout=nt", "workload.m=96", "workload.n=80", "workload.k=200",
                                        "workload.tile_k=64", "workload.tile_m=32"};
    // SystemC elaborates once per process: the timing run happens in a child process.
    const std::vector<uint64_t> v = in_child(3, [&]() -> std::vector<uint64_t> {
        const auto t = run_gemm(p, "timing");
        return {t["summary"]["cycles"].get<uint64_t>(),
                t["components"]["board.chip.compute.cluster1.mxu"]["busy_cycles"].get<uint64_t>(),
                t["workload"]["verified"].is_null() ? 1u : 0u};
    });
    const auto f = run_gemm(p);
    REQUIRE(f["workload"]["verified"] == true);
    REQUIRE(v[2] == 1);  // the timing run checked nothing
    REQUIRE(f["summary"]["cycles"].get<uint64_t>() == v[0]);
    REQUIRE(f["components"]["board.chip.compute.cluster1.mxu"]["busy_cycles"].get<uint64_t>() == v[1]);
    REQUIRE(v[1] > 0);
}

TEST_CASE("gemm: a batched GEMM deals every item's tiles over the clusters and verifies", "[gemm]") {
    // 5 items of 100x70x90 (nt layout) as one plan on the 2-cluster inference preset: one job
    // per ring for the whole batch, every item bit-exact against its own reference.
    const auto st = run_gemm({"workload.batch=5", "workload.m=100", "workload.n=70", "workload.k=90",
                              "workload.layout=nt"});
    REQUIRE(st["workload"]["verified"] == true);
    const auto& s = st["summary"];
    CHECK(s["batch"].get<uint64_t>() == 5);
    CHECK(s["gemm_packets"].get<uint64_t>() == 5);  // one 100x70x90 tile per item
    CHECK(s["clusters_used"].get<uint64_t>() == 2);
    CHECK(s["flops"].get<double>() == Approx(5.0 * 2 * 100 * 70 * 90));
    CHECK(st["components"]["host.driver"]["submits"].get<uint64_t>() == 4);  // 2 clusters x (DMA + compute ring)
}

TEST_CASE("gemm: the single-ring edge preset runs DMA and compute in order and verifies", "[gemm]") {
    const auto s = run_gemm({"workload.m=40", "workload.n=72", "workload.k=50", "workload.tile_k=16"}, "functional",
                            "edge");
    REQUIRE(s["workload"]["verified"] == true);
    REQUIRE(s["summary"]["clusters_used"] == 1);
}

TEST_CASE("gemm: a large GEMM is compute-bound or memory-bound as the analytic times say", "[gemm]") {
    // Engine cycles of the busiest cluster bound the device time from below.
    const auto s = run_gemm({"workload.m=1024", "workload.n=1024", "workload.k=1024"}, "timing");
    const auto& sum = s["summary"];
    REQUIRE(sum["cycles"].get<double>() >= sum["engine_cycles_max"].get<double>());
    REQUIRE(sum["utilization"].get<double>() <= 1.0);
    REQUIRE(sum["bound"] == "DMA");  // inference: one 128 GB/s DMA engine feeds two 128x128 clusters
}

TEST_CASE("A GEMM packet runs through a queue on data DMA'd into cluster SRAM", "[gemm][qman]") {
    harness h;
    std::vector<uint8_t> got, want;
    uint64_t sram0 = 0;
    h.run([&](uapi::device& dev, workload_context& ctx) {
        sram0 = ctx.soc.sram_addr(1);
        const uint32_t m = 5, n = 6, k = 7;
        std::vector<uint8_t> a(m * k * 2), b(k * n * 2);
        for (size_t i = 0; i < a.size() / 2; ++i) {
            const uint16_t v = num::f32_to_bf16(0.25f * static_cast<float>(i % 9) - 1.0f);
            std::memcpy(&a[2 * i], &v, 2);
        }
        for (size_t i = 0; i < b.size() / 2; ++i) {
            const uint16_t v = num::f32_to_bf16(0.5f * static_cast<float>(i % 5) - 0.75f);
            std::memcpy(&b[2 * i], &v, 2);
        }
        buffer in = make_bo(dev, 4096, uapi::BO_DEVICE), out = make_bo(dev, 4096, uapi::BO_DEVICE);
        CHECK(in.map->write(0, a.data(), a.size()) == 0);
        CHECK(in.map->write(1024, b.data(), b.size()) == 0);
        cmdbuf_builder cb;
        cb.copy(in.va(), sram0, a.size()).copy(in.va() + 1024, sram0 + 256, b.size());
        aax_pkt_gemm g{};
        g.cluster = 1;
        g.dtype_in = AAX_DT_BF16;
        g.dtype_out = AAX_DT_FP32;
        g.m = m;
        g.n = n;
        g.k = k;
        g.a_addr = 0;
        g.b_addr = 256;
        g.c_addr = 512;
        cb.gemm(g).copy(sram0 + 512, out.va(), m * n * 4);
        uapi::wait_args w;
        CHECK(wait_job(dev, submit(dev, cb.bytes()), w) == 0);
        got.resize(m * n * 4);
        CHECK(out.map->peek(0, got.data(), got.size()) == 0);
        want.resize(got.size());
        num::gemm_ref(num::dtype::bf16, a.data(), b.data(), want.data(), m, n, k, k, n, n, false);
    });
    REQUIRE(h.finished());
    REQUIRE(got == want);
}

TEST_CASE("A GEMM naming a missing cluster stops the queue with BAD_PARAM and opcode GEMM", "[gemm][errors]") {
    harness h;
    uint8_t status = 0;
    error_record rec;
    h.run([&](uapi::device& dev, workload_context&) {
        cmdbuf_builder cb;
        aax_pkt_gemm g{};
        g.cluster = 9;
        g.m = g.n = g.k = 4;
        g.dtype_in = AAX_DT_BF16;
        cb.nop().gemm(g);
        uapi::wait_args w;
        wait_job(dev, submit(dev, cb.bytes()), w);
        status = w.status;
        CHECK(dev.last_error(rec) == 0);
    });
    REQUIRE(h.finished());
    REQUIRE(status == AAX_ERR_BAD_PARAM);
    REQUIRE(rec.opcode == AAX_OP_GEMM);
    REQUIRE(rec.offset == 8);
}

TEST_CASE("A cluster's matrix and vector engines run at once when fed from two queues", "[gemm][qman]") {
    // Engines take packets from whichever queue holds them (the cluster field names the
    // engine): a GEMM on queue 0 and a VEC on queue 1, both for cluster 0, overlap in time;
    // the same two packets on one queue run one after the other. Timing mode: no data.
    harness h({"sim.mode=timing"});
    uint64_t both = 0, gemm_ns = 0, vec_ns = 0, serial = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        aax_pkt_gemm g{};
        g.cluster = 0;
        g.dtype_in = AAX_DT_BF16;
        g.dtype_out = AAX_DT_FP32;
        g.m = g.n = g.k = 512;
        g.a_addr = 0;
        g.b_addr = 512 * 1024;
        g.c_addr = 1024 * 1024;
        aax_pkt_vec v{};
        v.cluster = 0;
        v.op = AAX_VEC_EXP;
        v.dtype = v.dtype_out = AAX_DT_FP32;
        v.rows = 1024;
        v.cols = 1024;
        v.src0 = 4u << 20;
        v.dst = 4u << 20;  // in place
        cmdbuf_builder cg, cv, cs;
        cg.gemm(g);
        cv.vec(v);
        cs.gemm(g).vec(v);
        uapi::wait_args wg, wv, ws;
        const uint32_t sg = submit(dev, cg.bytes(), 0), sv = submit(dev, cv.bytes(), 1);
        CHECK(wait_job(dev, sg, wg) == 0);
        CHECK(wait_job(dev, sv, wv) == 0);
        CHECK(wg.status == AAX_OK);
        CHECK(wv.status == AAX_OK);
        both = std::max(wg.ts_end_ns, wv.ts_end_ns) - std::min(wg.ts_start_ns, wv.ts_start_ns);
        gemm_ns = wg.ts_end_ns - wg.ts_start_ns;
        vec_ns = wv.ts_end_ns - wv.ts_start_ns;
        CHECK(wait_job(dev, submit(dev, cs.bytes(), 0), ws) == 0);
        serial = ws.ts_end_ns - ws.ts_start_ns;
    });
    REQUIRE(h.finished());
    INFO("gemm " << gemm_ns << " ns, vec " << vec_ns << " ns, both " << both << " ns, one queue " << serial << " ns");
    REQUIRE(gemm_ns > 0);
    REQUIRE(vec_ns > 0);
    // Overlapped: the pair ends well before the sum of the two; on one queue it takes the sum.
    CHECK(both < gemm_ns + vec_ns - std::min(gemm_ns, vec_ns) / 2);
    CHECK(serial >= gemm_ns + vec_ns - std::min(gemm_ns, vec_ns) / 2);
}

TEST_CASE("gemm: one C buffer per cluster (stores not overlapped) still verifies bit-exact", "[gemm]") {
    // Several tiles per cluster with a single C buffer: tile j's first GEMM waits for tile
    // j-1's store (the semaphores of the one-buffer plan).
    const auto s = run_gemm({"workload.m=96", "workload.n=64", "workload.k=80", "workload.tile_m=32",
                             "workload.tile_n=16", "workload.tile_k=32", "workload.c_buffers=1",
                             "compute.array_rows=16", "compute.array_cols=8"});
    REQUIRE(s["workload"]["verified"] == true);
    CHECK(s["summary"]["c_buffers"] == 1);
    CHECK(s["summary"]["gemm_packets"] == 3 * 4 * 3);
}

TEST_CASE("gemm: the tiler streams tall tiles: a 4096^3 BF16 GEMM on training above 0.75 of peak", "[gemm][tiler]") {
    // The tile is chosen from the analytic model (docs/compute.md, "Choosing tiles"); with the
    // old fixed 512^3 tiles this GEMM reached 0.618 of peak (848,470 cycles).
    const auto s = run_gemm({"workload.m=4096", "workload.n=4096", "workload.k=4096"}, "timing", "training");
    const auto& m = s["summary"];
    INFO("tile " << m["tile"] << " c_buffers " << m["c_buffers"] << " device_ns " << m["device_ns"]);
    CHECK(m["utilization"].get<double>() >= 0.75);
    CHECK(m["bound"] == "compute");
    // The prediction the tiler used is within 10 % of the simulated device time.
    CHECK(m["predicted_ns"].get<double>() == Approx(m["device_ns"].get<double>()).epsilon(0.10));
}
