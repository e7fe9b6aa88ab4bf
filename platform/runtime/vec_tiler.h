// compiler-lite, vector phases: one chain of VEC operations applied to every row block of a
// rows x cols problem (softmax of attention scores, residual add + layernorm, GELU, type
// conversions between GEMMs). Row blocks are dealt round-robin over the clusters; on each
// cluster's compute ring (ring 2c+1; ring 0 with a single ring) the stream DMAs a block's
// inputs HBM -> SRAM, runs the ops on SRAM buffers and DMAs the outputs back, in ring order
// (no double buffering: the vector phases are small next to the GEMMs around them).
#pragma once

#include <cstdint>
#include <vector>

#include "platform/runtime/gemm_tiler.h"

namespace accelvp {

struct vec_program {
    uint64_t rows = 0, cols = 0;
    std::vector<uint8_t> bufs;  // AAX_DT_* of each SRAM buffer (one rows-block x cols tile each)
    struct matrix {
        uint64_t addr = 0;  // device bus address of element (0, 0)
        uint64_t ld = 0;    // elements between row starts (0 = cols)
    };
    struct xfer {
        unsigned buf;
        matrix m;
        bool one_row = false;  // load only the first row (a B_ROW/C_ROW operand: bias, gamma, beta)
    };
    struct op {
        uint8_t op;            // AAX_VEC_*; sources in bufs[a]'s dtype, result in bufs[dst]'s
        uint32_t param = 0;    // AAX_VEC_* flags
        unsigned a = 0, b = 0, dst = 0;
        float scalar = 0, eps = 0;
        unsigned c = 0;        // operand c (FMA, LAYERNORM beta)
    };
    std::vector<xfer> loads, stores;  // HBM -> buffer before the ops, buffer -> HBM after
    std::vector<op> ops;
};

// Streams for `rings` rings over the clusters at sram_addr. Throws std::invalid_argument if
// one row of all buffers does not fit compute.sram_bytes.
gemm_plan plan_vec(const compute_params& p, const vec_program& v, const std::vector<uint64_t>& sram_addr,
                   uint32_t rings);

} // namespace accelvp
