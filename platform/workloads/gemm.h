// gemm: C = A x B on the compute clusters. The host fills A and B (seeded values of
// workload.dtype) in device memory, compiler-lite (platform/runtime/gemm_tiler.h) tiles the
// GEMM over the clusters and emits one DMA and one compute command stream per cluster,
// and the host verifies C bit-exact against num::gemm_ref (functional mode).
// Summary: flops, tflops, peak_tflops, utilization, hbm_bandwidth_gbps, cycles, bound.
#pragma once

#include <memory>
#include <vector>

#include "platform/workloads/compute_run.h"
#include "platform/workloads/workload.h"

namespace accelvp {

struct gemm_params {
    uint64_t m = 256, n = 256, k = 256, batch = 1;
    std::string dtype = "bf16", layout = "nn";
    uint64_t tile_m = 0, tile_n = 0, tile_k = 0;
    uint32_t c_buffers = 0, tile_clusters = 0;
    double timeout_ms = 60000;
    static const param_table<gemm_params>& table();
};

struct gemm_state {
    std::unique_ptr<compute_runner> rt;
    num::dtype dt = num::dtype::bf16;
    gemm_problem g;
    device_buffer A, B, C;
    std::vector<uint8_t> a, b;  // the operands as generated (functional mode)
};

class gemm_workload : public staged_workload<gemm_params, gemm_state> {
public:
    std::string name() const override { return "gemm"; }
    std::string description() const override {
        return "GEMM C = A x B tiled over the compute clusters, verified against the reference";
    }

protected:
    // workload.tile_clusters beyond the chip's clusters is refused (it would be clamped silently).
    void validate(const params& p, const config& c) const override;
    int plan(workload_context& ctx, const params& p, state& st) override;
    int submit(workload_context& ctx, const params& p, state& st) override;
    int verify(workload_context& ctx, const params& p, state& st) override;
};

} // namespace accelvp
