// Memory microbenchmarks on the full chip (platform/workloads/mem_bench.h), the SRAM on the
// chip bus, several DMA engines and the mesh NoC, each through one real run.
#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "platform/sim/simulation.h"

using namespace accelvp;

namespace {

nlohmann::json run_bench(const std::string& preset, const std::string& w, std::vector<std::string> overrides) {
    run_options o;
    o.config = preset;
    o.workload = w;
    o.overrides = std::move(overrides);
    o.quiet = true;
    std::ostringstream out;
    const run_result r = run(o, out);
    REQUIRE(r.exit_code == exit_ok);
    return r.stats;
}

uint64_t stat(const nlohmann::json& st, const std::string& comp, const std::string& name) {
    return st["components"][comp][name].get<uint64_t>();
}

uint64_t dram_bytes(const nlohmann::json& st, const char* what) {
    uint64_t n = 0;
    for (const auto& [k, v] : st["components"].items())
        if (k.find(".devmem.ch") != std::string::npos) n += v[what].get<uint64_t>();
    return n;
}

} // namespace

TEST_CASE("mem-stream read runs near the DRAM peak into the on-chip SRAM", "[mem_bench]") {
    // 16 MiB: long enough that the firmware's per-job scheduling time is small beside the stream.
    const auto st = run_bench("inference", "mem-stream", {"mem.model=dram", "workload.bytes=16MiB"});
    const auto& s = st["summary"];
    CHECK(s["op"] == "read");
    CHECK(s["peak_gbps"].get<double>() == Approx(140.8));
    // One engine at 128 GB/s on LPDDR5 140.8 GB/s: DMA-bound, above 80 % of the memory peak.
    CHECK(s["efficiency"].get<double>() > 0.8);
    CHECK(s["bandwidth_gbps"].get<double>() <= s["path_peak_gbps"].get<double>() * 1.001);
    CHECK(s["avg_read_latency_ns"].get<double>() > 10);
    CHECK(stat(st, "board.chip.sram", "bytes_written") == (16u << 20));
    // Plus the reads of the job descriptor and command buffer.
    CHECK(dram_bytes(st, "bytes_read") >= (16u << 20));
    CHECK(dram_bytes(st, "bytes_read") < (16u << 20) + 4096);
}

TEST_CASE("mem-random reads reach a small fraction of the stream bandwidth", "[mem_bench]") {
    const auto st = run_bench("inference", "mem-random", {"mem.model=dram", "workload.bytes=256KiB"});
    const auto& s = st["summary"];
    CHECK(s["efficiency"].get<double>() < 0.5);
    CHECK(s["efficiency"].get<double>() > 0.0);
    CHECK(stat(st, "board.chip.sram", "bytes_written") == 256u * 1024);
    // Every 64-byte row opens a DRAM row: far fewer hits than a stream.
    uint64_t hits = 0, acts = 0;
    for (const auto& [k, v] : st["components"].items())
        if (k.find(".devmem.ch") != std::string::npos) {
            hits += v["row_hits"].get<uint64_t>();
            acts += v["row_misses"].get<uint64_t>() + v["row_conflicts"].get<uint64_t>();
        }
    CHECK(acts * 2 > hits);
}

TEST_CASE("mem-strided writes move access bytes every stride", "[mem_bench]") {
    const auto st = run_bench("edge", "mem-strided",
                              {"mem.model=dram", "workload.bytes=64KiB", "workload.op=write", "workload.stride=8192"});
    CHECK(st["summary"]["bytes"].get<uint64_t>() == 64u * 1024);
    CHECK(stat(st, "board.chip.sram", "bytes_read") == 64u * 1024);
    CHECK(stat(st, "board.chip.dma0", "bursts") == 1024);  // one 64-byte row per burst
}

TEST_CASE("Several DMA engines split a stream by ring", "[mem_bench]") {
    const auto st = run_bench("training", "mem-stream", {"dma.engines=4", "workload.bytes=1MiB"});
    CHECK(st["summary"]["engines"].get<uint64_t>() == 4);
    for (const char* e : {"board.chip.dma0", "board.chip.dma1", "board.chip.dma2", "board.chip.dma3"}) {
        CHECK(stat(st, e, "commands") == 1);
        CHECK(stat(st, e, "bytes") == 256u * 1024);
    }
}

TEST_CASE("Several DMA engines on the DRAM model beat the datapath of one", "[mem_bench]") {
    // Four 512 GB/s engines on 6 x HBM2E (time-ordered DRAM presentation): above one engine.
    const auto st = run_bench("training", "mem-stream", {"mem.model=dram", "dma.engines=4", "workload.bytes=32MiB"});
    CHECK(st["summary"]["bandwidth_gbps"].get<double>() > 600);
    CHECK(st["summary"]["path_peak_gbps"].get<double>() == Approx(2048));
}

TEST_CASE("mem-stream on the training HBM2E reaches 85 percent of peak with one engine per cluster", "[mem_bench]") {
    // 8 DMA engines (the preset) reading 6 HBM2E stacks: split reads keep every read in
    // flight in the controllers' queues, so the schedulers hide row switches behind other
    // banks' data. Timed over the engines' work; the job span adds submissions and
    // completions one after the other.
    const auto st = run_bench("training", "mem-stream",
                              {"mem.model=dram", "workload.bytes=64MiB", "sim.mode=timing"});
    const auto& s = st["summary"];
    CHECK(s["engines"].get<uint64_t>() == 8);
    CHECK(s["efficiency"].get<double>() >= 0.85);
    CHECK(s["efficiency"].get<double>() <= 1.0);
    CHECK(s["job_efficiency"].get<double>() < s["efficiency"].get<double>());
    CHECK(s["dma_ns"].get<double>() < s["device_ns"].get<double>());
    CHECK(stat(st, "board.chip.devmem", "split_reads") == 8192);  // every 8 KiB burst
}

TEST_CASE("Without split reads the DRAM schedulers see one read at a time and lose bandwidth", "[mem_bench]") {
    const auto st = run_bench("training", "mem-stream",
                              {"mem.model=dram", "workload.bytes=64MiB", "sim.mode=timing", "dma.split_reads=false"});
    CHECK(st["summary"]["efficiency"].get<double>() < 0.75);
    CHECK(stat(st, "board.chip.devmem", "split_reads") == 0);
}

TEST_CASE("Copies through split reads on the DRAM model are bit-exact", "[mem_bench]") {
    // A device-to-device copy whose source reads are split reads at the DRAM model.
    run_options o;
    o.config = "training";
    o.workload = "dma-copy";
    o.overrides = {"mem.model=dram", "workload.direction=d2d", "workload.bytes=3MiB"};
    o.quiet = true;
    std::ostringstream out;
    const run_result r = run(o, out);
    REQUIRE(r.exit_code == exit_ok);
    CHECK(r.stats["workload"]["verified"] == true);
    CHECK(stat(r.stats, "board.chip.devmem", "split_reads") == 3u * 1024 * 1024 / 8192);
}

TEST_CASE("A mesh NoC with narrow links bounds the stream bandwidth", "[mem_bench][noc]") {
    // The read data of dma0 enters it through one 40 GB/s endpoint link.
    const auto st = run_bench("inference", "mem-stream",
                              {"noc.topology=mesh2d", "noc.link_gbps=40", "noc.dmi=false", "workload.bytes=1MiB"});
    const double bw = st["summary"]["bandwidth_gbps"].get<double>();
    CHECK(bw <= 40.0);
    CHECK(bw > 30.0);
    CHECK(st["components"]["board.chip.noc"]["hops"]["max"].get<double>() >= 3);
}
