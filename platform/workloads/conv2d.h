// conv2d: a 2-D convolution lowered to one GEMM by im2col (docs/compute.md, "conv2d").
// Input N x C x H x W, weights K x C x R x S. workload.im2col=device (default): the host uploads
// the input as it is and the DMA engine gathers the im2col matrix B ((C*R*S) x (N*P*Qw),
// platform/runtime/im2col.h) in device memory (phase `im2col`), then the GEMM tiler runs
// W x B (output K x N*P*Qw fp32). workload.im2col=host: the host builds A ((N*P*Q) x (C*R*S))
// and the device runs only A x W (output (N*P*Q) x K, NHWC).
// Verified bit-exact against a direct convolution (functional mode).
#pragma once

#include "platform/workloads/workload.h"

namespace accelvp {

class conv2d_workload : public workload {
public:
    std::string name() const override { return "conv2d"; }
    std::string description() const override {
        return "2-D convolution: im2col by DMA gather (or on the host), then a GEMM on the compute clusters, verified";
    }
    void declare(param_schema& s) const override;
    int run(workload_context& ctx) override;
};

} // namespace accelvp
