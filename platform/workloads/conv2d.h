// conv2d: a 2-D convolution lowered to one GEMM by im2col (docs/compute.md, "conv2d").
// Input N x C x H x W, weights K x C x R x S (stored as the (C*R*S) x K matrix B), output
// (N*P*Q) x K fp32 (NHWC). The im2col matrix A ((N*P*Q) x (C*R*S), zero padding included)
// is built by the host and written to device memory, then the GEMM tiler runs A x B.
// Verified bit-exact against a direct convolution (functional mode).
#pragma once

#include "platform/workloads/workload.h"

namespace accelvp {

class conv2d_workload : public workload {
public:
    std::string name() const override { return "conv2d"; }
    std::string description() const override {
        return "2-D convolution lowered by im2col to a GEMM on the compute clusters, verified";
    }
    void declare(param_schema& s) const override;
    int run(workload_context& ctx) override;
};

} // namespace accelvp
