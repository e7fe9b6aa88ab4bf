// compiler-lite: im2col on the device by DMA gather patterns (docs/compute.md, "conv2d").
//
// The convolution runs as Y = W x B with W the K x (C*R*S) weights (KCRS, row-major) and the
// im2col matrix B = (C*R*S) x (N*P*Qw), row (c, r, s), column (n, p, q). This orientation
// makes the gather DMA-friendly: for one (n, c, r, s) the elements of output row p are
// consecutive in B and, with stride 1, consecutive in input row p*stride + r.
//
// Wide rows (the default): B's columns are (n, p, q') with q' over the padded width Wp
// (Qw = Wp, the useful outputs are q' = q*stride), and the (padded) input is stored split
// into `stride` row phases (phase a = padded rows a, a + stride, ...). Then the block of one
// (n, c, r, s) is ONE contiguous run of P*Wp elements of phase r % stride from row r / stride,
// column s; the GEMM computes Wp - Q unused columns per output row (S - 1 with stride 1,
// about half the columns with stride 2). The stream (one per DMA engine, below):
//   1. with padding or stride > 1: FILL the padded copy Xp (only with padding) and copy the
//      input rows (W elements each) into it, phase by phase;
//   2. per filter tap (r, s): one packet of max(N, C) rows of P*Wp elements, looped over the
//      other of N and C.
// Compact rows: Qw = Q and no phases. Stride 1: per tap, rows of Q elements over (n, c, p);
// stride > 1: a DMA row is contiguous bytes, so the gather is element-wise (rows of one
// element over (n, c, p, q)) -- tens of times slower, kept for comparison.
// In every block the largest dimension is the packet height and consecutive one-row copies
// that are uniformly spaced merge into one packet (a 1x1 filter is one packet per image).
#pragma once

#include <cstdint>

#include "platform/runtime/gemm_tiler.h"

namespace accelvp {

struct conv_shape {
    uint64_t n = 1, c = 1, h = 1, w = 1, r = 1, s = 1, stride = 1, pad = 0;
    uint64_t elem = 2;  // bytes per element
    bool wide = false;  // wide rows (see above)
    uint64_t p() const { return (h + 2 * pad - r) / stride + 1; }
    uint64_t q() const { return (w + 2 * pad - s) / stride + 1; }
    uint64_t wp() const { return w + 2 * pad; }
    uint64_t qw() const { return wide ? wp() : q(); }        // row pitch of B and of the output
    uint64_t col(uint64_t qi) const { return wide ? qi * stride : qi; }  // column of output q
    uint64_t phases() const { return wide ? stride : 1; }
    uint64_t phase_rows() const { return (h + 2 * pad + phases() - 1) / phases(); }
    // The gather reads the padded copy Xp (with padding or row phases), else the input itself.
    bool padded_copy() const { return pad > 0 || phases() > 1; }
    uint64_t padded_bytes() const { return padded_copy() ? n * c * phases() * phase_rows() * wp() * elem : 0; }
    // Wide rows read up to S-1 elements past the last input row: Xp (or X) needs that slack.
    uint64_t slack_bytes() const { return wide ? (s - 1) * elem : 0; }
    uint64_t matrix_bytes() const { return c * r * s * n * p() * qw() * elem; }
};

// The jobs, run one after another, that build B at `out` from the NCHW input at `x`
// (+ slack_bytes()), using `xpad` (padded_bytes() + slack_bytes() of scratch) when
// padded_copy(). Each job has `streams` streams (rings 0..streams-1: with one DMA engine per
// ring they run at once; packets are dealt to the least loaded stream) of at most
// AAX_MAX_CMDBUF_SIZE bytes; with several streams the zero fill, the row copies and the
// gather are separate jobs, so each stage reads a complete one. Each fills streams,
// dma_packets, dmas and hbm_bytes (reads + writes); clusters = 0 (no compute). Empty for a
// zero-packet gather. Throws std::invalid_argument on a bad shape or more than 2^20 packets.
std::vector<gemm_plan> plan_im2col(const conv_shape& cs, uint64_t x, uint64_t xpad, uint64_t out,
                                   uint32_t streams = 1);

// A strided copy by DMA (the model executor's "materialize", concat): `width` bytes at
// src + sum(i_d * ss_d) to dst + sum(i_d * ds_d) for every index of `dims` (strides in bytes);
// dimensions contiguous on both sides fold into the row, the largest other one is the packet
// height. Jobs as plan_im2col's. Throws std::invalid_argument past 2^20 packets.
struct copy_dim {
    uint64_t count, ss, ds;
};
std::vector<gemm_plan> plan_copy(uint64_t src, uint64_t dst, uint64_t width, const std::vector<copy_dim>& dims,
                                 uint32_t streams = 1);

} // namespace accelvp
