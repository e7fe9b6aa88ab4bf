// conv2d: a 2-D convolution lowered to one GEMM by im2col (docs/compute.md, "conv2d").
// Input N x C x H x W, weights K x C x R x S. workload.im2col=device (default): the host uploads
// the input as it is and the DMA engine gathers the im2col matrix B ((C*R*S) x (N*P*Qw),
// platform/runtime/im2col.h) in device memory (phase `im2col`), then the GEMM tiler runs
// W x B (output K x N*P*Qw fp32). workload.im2col=host: the host builds A ((N*P*Q) x (C*R*S))
// and the device runs only A x W (output (N*P*Q) x K, NHWC).
// Verified bit-exact against a direct convolution (functional mode).
#pragma once

#include <memory>
#include <vector>

#include "platform/runtime/im2col.h"
#include "platform/workloads/compute_run.h"
#include "platform/workloads/workload.h"

namespace accelvp {

struct conv2d_params {
    uint64_t n = 1, c = 16, h = 16, w = 16, k = 32, r = 3, s = 3, stride = 1, padding = 1;
    std::string dtype = "bf16", im2col = "device", im2col_rows = "wide";
    double timeout_ms = 60000;
    static const param_table<conv2d_params>& table();
};

struct conv2d_state {
    std::unique_ptr<compute_runner> rt;
    num::dtype dt = num::dtype::bf16;
    conv_shape cs;
    bool dev_im2col = true, identity = false;
    gemm_problem g;
    device_buffer X, XP, COL, Wt, Y;
    std::vector<uint8_t> x, w;           // input (NCHW) and weights ((c, r, s) x k) as generated
    std::vector<gemm_plan> gather;       // device im2col: the gather jobs (none for the identity case)
    uint32_t gather_streams = 0;
};

class conv2d_workload : public staged_workload<conv2d_params, conv2d_state> {
public:
    std::string name() const override { return "conv2d"; }
    std::string description() const override {
        return "2-D convolution: im2col by DMA gather (or on the host), then a GEMM on the compute clusters, verified";
    }

protected:
    // The filter fits the padded input, the padding is smaller than the filter.
    void validate(const params& p, const config& c) const override;
    int plan(workload_context& ctx, const params& p, state& st) override;
    int submit(workload_context& ctx, const params& p, state& st) override;
    int verify(workload_context& ctx, const params& p, state& st) override;
};

} // namespace accelvp
