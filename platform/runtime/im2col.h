// compiler-lite: im2col on the device by DMA gather patterns (docs/compute.md, "conv2d").
//
// The convolution runs as Y = W x Bᵀcol with W the K x (C*R*S) weights (KCRS, row-major) and
// the im2col matrix B = (C*R*S) x (N*P*Q), row (c, r, s), column (n, p, q). This orientation
// makes the gather DMA-friendly: for one (n, c, r, s) the elements of output row p are Q
// consecutive elements of B and, with stride 1, Q consecutive elements of the input row
// p + r (padded coordinates), so each DMA row moves Q elements instead of one.
//
// The ring's stream (one job, one DMA engine):
//   padding > 0:  FILL the padded input Xp (N x C x Hp x Wp) with zeros, copy X into its
//                 interior (2-D rows of W elements), then gather from Xp (no padding left);
//   stride 1:     per (n, c, r, s) a 2-D copy of P rows of Q elements (src stride Wp);
//   stride > 1:   a 2-D row is contiguous bytes, so the gather is element-wise: per
//                 (n, c, r, s) and p (or q, whichever is fewer) rows of one element.
// With wide rows (stride 1), one packet per (n, r, s) or (c, r, s) moves rows of P*Wp elements.
// Consecutive one-row copies that are uniformly spaced in source and destination merge into
// one 2-D packet (a 1x1 filter with stride 1 and no padding is C or N packets in all).
#pragma once

#include <cstdint>

#include "platform/runtime/gemm_tiler.h"

namespace accelvp {

struct conv_shape {
    uint64_t n = 1, c = 1, h = 1, w = 1, r = 1, s = 1, stride = 1, pad = 0;
    uint64_t elem = 2;  // bytes per element
    // Wide rows (stride 1 only): B's columns are (n, p, q') with q' over the padded width Wp
    // instead of Q, so that each (n, c, r, s) block is one contiguous run of P*Wp input
    // elements; the GEMM computes Wp - Q = S - 1 extra (unused) output columns per row.
    bool wide = false;
    uint64_t p() const { return (h + 2 * pad - r) / stride + 1; }
    uint64_t q() const { return (w + 2 * pad - s) / stride + 1; }
    uint64_t qw() const { return wide ? w + 2 * pad : q(); }  // row pitch of B and of the output
    // Wide rows read up to S-1 elements past the last input plane: the gathered buffer (Xp, or
    // X without padding) needs that slack.
    uint64_t slack_bytes() const { return wide ? (s - 1) * elem : 0; }
    // Bytes of the zero-padded input copy (0 without padding: the gather reads X itself).
    uint64_t padded_bytes() const { return pad ? n * c * (h + 2 * pad) * (w + 2 * pad) * elem : 0; }
    uint64_t matrix_bytes() const { return c * r * s * n * p() * qw() * elem; }
};

// One stream (ring 0) that builds B at `out` from the NCHW input at `x` (+ slack_bytes()),
// using `xpad` (padded_bytes() + slack_bytes() of scratch) when pad > 0. Fills streams, dma_packets, dmas and hbm_bytes
// (reads + writes); clusters = 0 (no compute).
gemm_plan plan_im2col(const conv_shape& cs, uint64_t x, uint64_t xpad, uint64_t out);

} // namespace accelvp
