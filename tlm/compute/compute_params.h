// Configuration of the compute clusters (keys under `compute.`) and the analytic cycle
// models of the matrix and vector engines. The formulas are the ones written in
// docs/compute.md ("Timing"); the engines charge exactly these cycles, in functional and
// timing mode alike, and the tests recompute them independently.
#pragma once

#include <cstdint>
#include <string>

#include "abi/aax_queue.h"
#include "tlm/core/params.h"

namespace accelvp {

enum class dataflow : uint8_t { weight_stationary = AAX_GEMM_DF_WS, output_stationary = AAX_GEMM_DF_OS };

struct compute_params {
    uint32_t clusters = 2;
    uint32_t array_rows = 32;           // R: systolic array rows (WS: k per weight block; OS: m per output block)
    uint32_t array_cols = 32;           // C: systolic array columns (n per block)
    dataflow default_dataflow = dataflow::weight_stationary;
    double freq_mhz = 1000;
    uint64_t sram_bytes = 4ull << 20;   // per cluster
    uint32_t sram_bytes_per_cycle = 256;
    uint32_t vector_lanes = 64;
    uint32_t vector_depth = 8;          // pipeline stages
    // MACs per PE per cycle by input type (`compute.macs_per_pe.<type>`): 8-bit types run
    // at 2x on the chips the presets are sized after; 1 = the array's base rate.
    uint32_t rate_fp32 = 1, rate_bf16 = 1, rate_fp16 = 1, rate_fp8 = 1, rate_int8 = 1;
    // Consecutive blocks of one GEMM packet stream through the array back to back: the next
    // block's weights wait in shadow registers and switch with the data wavefront (TPU v1,
    // ISCA 2017), so the pipeline fills and drains once per packet instead of once per block
    // (`compute.block_pipelining`, docs/compute.md "Block pipelining").
    bool block_pipelining = false;
    uint32_t gemm_setup_cycles = 16;    // per GEMM packet: decode, address generators
    uint32_t vector_setup_cycles = 8;   // per VEC packet
    // Engine models (`compute.matrix.model`, `compute.vector.model`): "tlm" (the analytic
    // engines) or "rtl" (the RTL of rtl-models/ in the loop, when the build has it).
    std::string matrix_model = "tlm";
    std::string vector_model = "tlm";
    bool timing_only = false;

    static const param_table<compute_params>& table();  // the parameters: key, member, range, unit, description
    static void declare(param_schema& s);
    static compute_params from_config(const config& c);

    double freq_hz() const { return freq_mhz * 1e6; }
    // MACs per PE per cycle for GEMM inputs of AAX_DT_* code `dtype` (1 for unknown codes).
    uint32_t macs_per_pe(uint8_t dtype) const;
    // Dense MACs per second of one cluster's matrix engine for inputs of type `dtype`.
    double peak_macs_per_s(uint8_t dtype = AAX_DT_BF16) const {
        return static_cast<double>(array_rows) * array_cols * macs_per_pe(dtype) * freq_hz();
    }
    uint64_t cycles_to_ps(uint64_t cycles) const;
};

// One GEMM's shape as the timing model sees it.
struct gemm_shape {
    uint64_t m = 0, n = 0, k = 0;
    uint32_t in_bytes = 2;   // element size of A and B
    uint32_t out_bytes = 4;  // element size of C
    bool accumulate = false;
    uint32_t rate = 1;       // MACs per PE per cycle for this input type (compute_params::macs_per_pe)
};

// Matrix-engine cycles of one GEMM packet (docs/compute.md, "Matrix engine timing").
uint64_t gemm_cycles(const compute_params& p, dataflow df, const gemm_shape& s);

// Per-op cost of the vector engine: cycles per group of `lanes` elements and the
// number of row reductions (each pays the pipeline depth plus a log2(lanes) tree).
struct vec_op_cost {
    uint32_t cycles_per_group;
    uint32_t reductions_per_row;
    uint32_t sources;  // operands read per element (a, b, c)
};
vec_op_cost vec_cost(unsigned op);

struct vec_shape {
    unsigned op = AAX_VEC_ADD;
    uint64_t rows = 0, cols = 0;
    uint64_t bytes_read = 0, bytes_written = 0;  // SRAM traffic of the operation
    // Where the reads fall, for the issue model of single-pass ops (vec_cycles): bytes read per
    // element of every row (a, a full b or c), per element of the first row only (a B_ROW or
    // C_ROW operand, read once into a row buffer), and with each row's first group (a B_COL
    // element). All 0: the reads are spread evenly, bytes_read / (rows * cols) per element.
    uint32_t elem_read = 0, row0_elem_read = 0, row_read = 0;
};
// Vector-engine cycles of one VEC packet (docs/compute.md, "Vector engine timing").
// `sram_stall` (optional): the cycles of those by which SRAM traffic exceeds the compute.
uint64_t vec_cycles(const compute_params& p, const vec_shape& s, uint64_t* sram_stall = nullptr);

inline uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

} // namespace accelvp
