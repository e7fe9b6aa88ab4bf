// attention: softmax(Q K^T / sqrt(d)) V per (batch, head) on the compute clusters
// (docs/compute.md, "attention"). Per head: S = Q K^T (GEMM, B transposed, fp32), a vector
// phase (S * scale, softmax over rows, rounded to dtype = P), then P V (GEMM) into the head's
// columns of the fp32 context. Q, K and V are (batch*seq) x (heads*head_dim) matrices with a
// leading dimension, so transformer-layer runs the same code on column slices of its QKV.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "platform/workloads/compute_run.h"
#include "platform/workloads/workload.h"
#include "tlm/compute/numerics.h"

namespace accelvp {

struct attention_shape {
    uint64_t batch = 1, heads = 1, seq = 1, head_dim = 1;
    num::dtype dtype = num::dtype::bf16;
    uint64_t ld = 0;      // elements between rows of Q, K, V (heads*head_dim if 0)
    uint64_t ld_ctx = 0;  // elements between rows of the context (heads*head_dim if 0)
    uint64_t row_len() const { return heads * head_dim; }
    uint64_t scratch_elems() const { return heads * seq * seq; }  // S and P: one seq x seq slab per head
};

// Device: q/k/v/ctx are device addresses; s (scratch_elems() fp32) and p (scratch_elems() in
// dtype) are scratch.
int run_attention(compute_runner& rt, const attention_shape& a, uint64_t q, uint64_t k, uint64_t v, uint64_t ctx,
                  uint64_t s, uint64_t p);
// Host reference with the same num:: operations in the same order; ctx is fp32.
void attention_ref(const attention_shape& a, const uint8_t* q, const uint8_t* k, const uint8_t* v, float* ctx);
double attention_flops(const attention_shape& a);

struct attention_params {
    uint64_t batch = 1, heads = 2, seq = 64, head_dim = 64;
    std::string dtype = "bf16";
    double timeout_ms = 60000;
    static const param_table<attention_params>& table();
};

struct attention_state {
    std::unique_ptr<compute_runner> rt;
    attention_shape a;
    device_buffer Q, K, V, C, S, P;
    std::vector<uint8_t> q, k, v;  // the inputs as generated (functional mode)
};

class attention_workload : public staged_workload<attention_params, attention_state> {
public:
    std::string name() const override { return "attention"; }
    std::string description() const override {
        return "scaled dot-product attention per head (GEMM, softmax, GEMM), verified against the reference";
    }

protected:
    int plan(workload_context& ctx, const params& p, state& st) override;
    int submit(workload_context& ctx, const params& p, state& st) override;
    int verify(workload_context& ctx, const params& p, state& st) override;
};

} // namespace accelvp
