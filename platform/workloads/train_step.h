// Data-parallel training step on a multi-chip system (docs/models.md, "Training step"):
// every chip runs the forward GEMMs of a model, then the backward GEMMs (activation and weight
// gradients, twice the forward FLOPs) in reverse layer order; as the weight gradients of a
// bucket of layers are ready (DDP-style buckets, workload.bucket_mb) the host submits their
// all-reduce on every chip's collective ring, where it runs over the links while the backward
// GEMMs of the earlier layers go on on the compute rings. Reports step time, compute time,
// communication time, exposed (non-overlapped) communication and the analytic bounds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/system/system_board.h"
#include "platform/workloads/workload.h"

namespace accelvp {

struct train_step_params {
    std::string layers;     // layer-list YAML (its matmul and conv layers); empty: the GEMM stack below
    uint64_t depth = 8, hidden = 1024, rows = 2048;  // built-in stack: depth x [rows, hidden] x [hidden, hidden]
    uint64_t batch = 1;     // layer list: copies of its input batch on each chip
    std::string dtype = "bf16";
    double bucket_mb = 25;  // gradient bucket (PyTorch DDP's default 25 MB); 0: one all-reduce per layer
    std::string algorithm = "auto";
    std::string compute_chips = "auto";  // all, first, auto (all in functional mode, first in timing mode)
    double timeout_ms = 600000;
    static const param_table<train_step_params>& table();
};

// One GEMM layer of the step: forward C[m, n] = A[m, k] x B[k, n] (`batch` of them); `weight`
// says which operand is the trained weight (0: A, as a convolution's filters; 1: B, as a
// matmul's weight; -1: none, an activation x activation product such as attention's).
struct train_gemm {
    std::string name;
    uint64_t batch = 1, m = 0, k = 0, n = 0;
    int weight = 1;
    uint64_t weight_elems() const { return weight < 0 ? 0 : weight == 0 ? m * k : k * n; }
    double fwd_flops() const { return 2.0 * static_cast<double>(batch * m * k * n); }
};

// The step's GEMM layers from the parameters (throws config_error).
std::vector<train_gemm> train_layers(const train_step_params& p);

class train_step_workload : public workload {
public:
    std::string name() const override { return "train-step"; }
    system_kind system() const override { return system_kind::multi_chip; }
    std::string description() const override;
    void declare(param_schema& s) const override;
    void check(const config& c) const override;
    int run(workload_context& ctx) override;
    int run_system(system_context& ctx) override;
};

} // namespace accelvp
