// Whole-model workloads (docs/models.md): the graph IR's shapes and errors, the DMA strided copy
// the executor materializes views with, and a small layer-list model run end to end (verified
// per layer; timing mode gives the functional cycles). The CLI tests (tests/cli/test_model.py)
// cover ONNX import, the fixtures and the decoder.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "harness.h"
#include "platform/runtime/im2col.h"
#include "platform/workloads/model.h"

using namespace accelvp;

namespace {
std::string write_tmp(const std::string& name, const std::string& text) {
    const std::string path = "/tmp/accelvp-test-model-" + std::to_string(::getpid()) + "-" + name;
    std::ofstream(path) << text;
    return path;
}
const char* kNet = R"(name: t
inputs:
  - {name: x, shape: [1, 4, 10, 10]}
layers:
  - {name: c1, op: conv, filters: 8, kernel: 3, stride: 2, pad: 1}
  - {name: r1, op: relu}
  - {name: p1, op: maxpool, kernel: 2, stride: 1}
  - {name: f, op: reshape, shape: [1, -1]}
  - {name: fc, op: matmul, n: 5, bias: true}
)";
} // namespace

TEST_CASE("model: layer-list shapes follow each op", "[model]") {
    const model::graph g = model::load_layer_list(write_tmp("net.yaml", kNet));
    REQUIRE(g.layers.size() == 6);  // fc's bias is a layer of its own
    CHECK(g.tensors[g.layers[0].out].shape == std::vector<uint64_t>{1, 8, 5, 5});
    CHECK(g.tensors[g.layers[2].out].shape == std::vector<uint64_t>{1, 8, 4, 4});
    CHECK(g.tensors[g.layers[3].out].shape == std::vector<uint64_t>{1, 128});
    CHECK(g.tensors[g.layers[5].out].shape == std::vector<uint64_t>{1, 5});
    CHECK(g.layers[5].name == "fc.bias");
    CHECK(g.weights() == 8 * 4 * 3 * 3 + 128 * 5 + 5);
}

TEST_CASE("model: a layer whose inputs do not fit is a config error naming the layer", "[model]") {
    model::graph g;
    const int a = g.add_tensor("a", {2, 3}, false), b = g.add_tensor("b", {4, 5}, true);
    model::layer l;
    l.name = "mm";
    l.kind = model::op_kind::matmul;
    l.in = {a, b};
    l.origin = "here";
    try {
        g.add_layer(l);
        FAIL("no error");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()) ==
              "config error: here: layer 'mm' (matmul): inner dimensions differ: A [2, 3] and B [4, 5]");
    }
}

TEST_CASE("model: a transposing copy is one 2-D packet per source row", "[model]") {
    // 2 x 3 fp32 at 0x1000 -> 3 x 2 at 0x2000: element (i, j) to (j, i).
    const std::vector<gemm_plan> jobs = plan_copy(0x1000, 0x2000, 4, {{2, 12, 4}, {3, 4, 8}});
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].dma_packets == 2);
    CHECK(jobs[0].hbm_bytes == 2 * 24);  // read + write
    // Contiguous on both sides: one row.
    const std::vector<gemm_plan> flat = plan_copy(0x1000, 0x2000, 16, {{4, 16, 16}});
    REQUIRE(flat.size() == 1);
    CHECK(flat[0].dma_packets == 1);
    CHECK(flat[0].dmas.at(0).bytes == 64);
}

TEST_CASE("model: a layer-list model verifies per layer and times the same in timing mode", "[model]") {
    const std::string path = write_tmp("run.yaml", kNet);
    auto run_mode = [&](const std::string& mode) {
        run_options o;
        o.config = "inference";
        o.workload = "model";
        o.mode = mode;
        o.quiet = true;
        o.overrides = {"workload.layers=" + path};
        std::ostringstream out;
        return accelvp::run(o, out);
    };
    const std::vector<uint64_t> t = test::in_child(2, [&]() -> std::vector<uint64_t> {
        const run_result r = run_mode("timing");
        if (r.exit_code != 0) return {};
        return {r.stats["summary"]["cycles"].get<uint64_t>(), r.stats["summary"]["layers"].size()};
    });
    const run_result r = run_mode("functional");
    INFO(r.error);
    REQUIRE(r.exit_code == 0);
    CHECK(r.stats["workload"]["verified"] == true);
    CHECK(r.stats["summary"]["layers_verified"] == 5);  // the reshape is a view
    REQUIRE(t.size() == 2);
    CHECK(t[0] == r.stats["summary"]["cycles"].get<uint64_t>());
    CHECK(t[1] == 6);
}
