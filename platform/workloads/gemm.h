// gemm: C = A x B on the compute clusters. The host fills A and B (seeded values of
// workload.dtype) in device memory, compiler-lite (platform/runtime/gemm_tiler.h) tiles the
// GEMM over the clusters and emits one DMA and one compute command stream per cluster,
// and the host verifies C bit-exact against num::gemm_ref (functional mode).
// Summary: flops, tflops, peak_tflops, utilization, hbm_bandwidth_gbps, cycles, bound.
#pragma once

#include "platform/workloads/workload.h"

namespace accelvp {

class gemm_workload : public workload {
public:
    std::string name() const override { return "gemm"; }
    std::string description() const override {
        return "GEMM C = A x B tiled over the compute clusters, verified against the reference";
    }
    void declare(param_schema& s) const override;
    // workload.tile_clusters beyond the chip's clusters is refused (it would be clamped silently).
    void check(const config& c) const override;
    int run(workload_context& ctx) override;
};

} // namespace accelvp
