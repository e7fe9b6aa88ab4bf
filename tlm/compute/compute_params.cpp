#include "tlm/compute/compute_params.h"

#include <algorithm>

#include "tlm/compute/engine_models.h"
#include "tlm/core/keys.h"
#include "tlm/core/timeline.h"

namespace accelvp {

const param_table<compute_params>& compute_params::table() {
    // A PE with rate q takes q consecutive k values of A and of its weights per cycle (two 8-bit
    // MACs in one 16-bit multiplier's place): a weight block covers up to R*q rows of k.
    const auto rate = [](const char* t) {
        return std::string("matrix-engine MACs per PE per cycle for ") + t + " inputs (fp8: both e4m3 and e5m2)";
    };
    using P = compute_params;
    static const auto t =
        param_table<P>()
            .integer("clusters", &P::clusters, 1, 64, "compute clusters (matrix engine + vector engine + SRAM each)")
            .integer("array_rows", &P::array_rows, 1, 1024, "systolic array rows (R)")
            .integer("array_cols", &P::array_cols, 1, 1024, "systolic array columns (C)")
            .choice("dataflow", &P::default_dataflow,
                    {{"ws", dataflow::weight_stationary}, {"os", dataflow::output_stationary}},
                    "default GEMM dataflow: ws (weight-stationary) or os (output-stationary)")
            .real("freq_mhz", &P::freq_mhz, 1, 10000, "compute cluster clock", "MHz")
            .integer("sram_bytes", &P::sram_bytes, 4096, 1ll << 32, "SRAM per cluster (operands of GEMM and VEC packets)",
                     "bytes")
            .integer("sram_bytes_per_cycle", &P::sram_bytes_per_cycle, 1, 1 << 16,
                     "SRAM bandwidth per port seen by an engine", "bytes/cycle")
            .integer("vector_lanes", &P::vector_lanes, 1, 4096, "vector engine lanes (elements per cycle)")
            .integer("vector_depth", &P::vector_depth, 1, 256, "vector engine pipeline depth", "cycles")
            .integer("macs_per_pe.fp32", &P::rate_fp32, 1, 16, rate("fp32"))
            .integer("macs_per_pe.bf16", &P::rate_bf16, 1, 16, rate("bf16"))
            .integer("macs_per_pe.fp16", &P::rate_fp16, 1, 16, rate("fp16"))
            .integer("macs_per_pe.fp8", &P::rate_fp8, 1, 16, rate("fp8"))
            .integer("macs_per_pe.int8", &P::rate_int8, 1, 16, rate("int8"))
            .boolean("block_pipelining", &P::block_pipelining,
                     "consecutive weight (WS) or output (OS) blocks of one GEMM packet stream back to back: the "
                     "systolic pipeline fills and drains once per packet, not once per block (next block's weights "
                     "double-buffered in the array, as TPU v1)")
            .integer("gemm_setup_cycles", &P::gemm_setup_cycles, 0, 100000, "fixed cost per GEMM packet", "cycles")
            .integer("vector_setup_cycles", &P::vector_setup_cycles, 0, 100000, "fixed cost per VEC packet", "cycles")
            .string("matrix.model", &P::matrix_model,
                    "matrix-engine model: tlm (analytic) or rtl (the RTL tile of rtl-models/ in the loop; builds with "
                    "Verilator only)",
                    {"tlm", "rtl"})
            .string("vector.model", &P::vector_model,
                    "vector-engine model: tlm (analytic) or rtl (the RTL lane cluster of rtl-models/ in the loop; "
                    "builds with Verilator only)",
                    {"tlm", "rtl"});
    return t;
}

void compute_params::declare(param_schema& s) { table().declare(s, "compute"); }

compute_params compute_params::from_config(const config& c) {
    auto p = table().load(c, "compute");
    p.timing_only = c.get(keys::sim::mode) == "timing";
    for (const auto& [engine, model] : {std::pair<std::string, std::string>{"matrix", p.matrix_model},
                                        std::pair<std::string, std::string>{"vector", p.vector_model}}) {
        if (model == "tlm") continue;
        const engine_model* m = find_engine_model(engine, model);
        if (!m)
            throw config_error("compute." + engine + ".model=" + model + ": this build has no " + model +
                               " model of the " + engine +
                               " engine; valid here: tlm (RTL models are built when Verilator is installed: "
                               "tools/setup.sh; docs/calibration.md)");
        if (m->check) m->check(p);
    }
    return p;
}

uint32_t compute_params::macs_per_pe(uint8_t dtype) const {
    switch (dtype) {
    case AAX_DT_FP32: return rate_fp32;
    case AAX_DT_BF16: return rate_bf16;
    case AAX_DT_FP16: return rate_fp16;
    case AAX_DT_FP8_E4M3:
    case AAX_DT_FP8_E5M2: return rate_fp8;
    case AAX_DT_INT8: return rate_int8;
    default: return 1;
    }
}

uint64_t compute_params::cycles_to_ps(uint64_t cycles) const { return transfer_ps(cycles, freq_hz()); }

namespace {
// Cycles to move `bytes` through one SRAM port.
uint64_t sram_cycles(const compute_params& p, uint64_t bytes) { return ceil_div(bytes, p.sram_bytes_per_cycle); }

// sum_{i=0}^{count-1} f(i) for an f that is the same for every i in [1, count-3] (blocks
// other than the first and the last two are full blocks with full neighbours), so the
// cost is O(1) however many blocks a GEMM has.
template <typename F>
uint64_t sum_uniform(uint64_t count, F f) {
    if (count <= 4) {
        uint64_t s = 0;
        for (uint64_t i = 0; i < count; ++i) s += f(i);
        return s;
    }
    return f(0) + (count - 3) * f(1) + f(count - 2) + f(count - 1);
}
} // namespace

uint64_t gemm_cycles(const compute_params& p, dataflow df, const gemm_shape& s) {
    const uint64_t R = p.array_rows, C = p.array_cols;
    const uint64_t ib = s.in_bytes, ob = s.out_bytes;
    const uint64_t q = std::max<uint32_t>(s.rate, 1);  // MACs per PE per cycle: q values of k per PE
    if (df == dataflow::weight_stationary) {
        // Blocks of r x c weights (r <= R*q rows of k, c <= C columns of n), n-outer, k-inner.
        // total = L_1 + sum_b max(P_b, L_{b+1}), L_{N+1} = 0: the next block's weights load
        // (double-buffered) while the current block streams all m rows of A. P_b includes the
        // block's fill and drain ceil(r/q) + c - 1, unless blocks are pipelined: then the
        // array fills and drains once, after the last block (F_N).
        const uint64_t RK = R * q;
        const uint64_t kb = ceil_div(s.k, RK), nb = ceil_div(s.n, C);
        auto rk = [&](uint64_t i) { return i + 1 == kb ? s.k - (kb - 1) * RK : RK; };
        auto cn = [&](uint64_t j) { return j + 1 == nb ? s.n - (nb - 1) * C : C; };
        auto load = [&](uint64_t r, uint64_t c) { return std::max(ceil_div(r, q), sram_cycles(p, r * c * ib)); };
        auto run = [&](uint64_t i, uint64_t c) {
            const uint64_t r = rk(i);
            uint64_t bytes = s.m * r * ib;                                 // A streamed
            if (i + 1 == kb) bytes += s.m * c * ob;                        // C written
            if (i == 0 && s.accumulate) bytes += s.m * c * ob;             // C read
            const uint64_t stream = std::max(s.m, sram_cycles(p, bytes));
            return p.block_pipelining ? stream : stream + ceil_div(r, q) + c - 1;  // (+ fill + drain)
        };
        auto nblock = [&](uint64_t j) {
            const uint64_t c = cn(j);
            return sum_uniform(kb, [&](uint64_t i) {
                uint64_t next = 0;
                if (i + 1 < kb) next = load(rk(i + 1), c);
                else if (j + 1 < nb) next = load(rk(0), cn(j + 1));
                return std::max(run(i, c), next);
            });
        };
        const uint64_t once = p.block_pipelining ? ceil_div(rk(kb - 1), q) + cn(nb - 1) - 1 : 0;  // F_N
        return p.gemm_setup_cycles + load(rk(0), cn(0)) + sum_uniform(nb, nblock) + once;
    }
    // Output-stationary: an r x c block of C (r <= R rows of m, c <= C columns of n) stays
    // in the accumulators while k steps of A rows and B columns stream in; m-outer,
    // n-inner. The finished block drains (double-buffered accumulators) while the next
    // computes: total = sum_b max(P_b, D_{b-1}) + D_N, D_0 = 0. With ACCUMULATE the drain
    // reads C and writes C + result (twice the bytes), so there is no C preload (calibrated
    // against the RTL tile, docs/calibration.md). With pipelined blocks P_b has no fill and
    // drain r + c - 1; the last block pays it once, before its drain.
    const uint64_t mb = ceil_div(s.m, R), nb = ceil_div(s.n, C);
    auto rm = [&](uint64_t i) { return i + 1 == mb ? s.m - (mb - 1) * R : R; };
    auto cn = [&](uint64_t j) { return j + 1 == nb ? s.n - (nb - 1) * C : C; };
    auto run = [&](uint64_t r, uint64_t c) {
        const uint64_t stream = std::max(ceil_div(s.k, q), sram_cycles(p, (r + c) * s.k * ib));  // q k-steps per cycle
        return p.block_pipelining ? stream : stream + r + c - 1;
    };
    auto drain = [&](uint64_t r, uint64_t c) {
        return std::max(r, sram_cycles(p, r * c * ob * (s.accumulate ? 2 : 1)));  // C out (and its C in)
    };
    auto row = [&](uint64_t i) {
        return sum_uniform(nb, [&](uint64_t j) {
            uint64_t prev = 0;
            if (j > 0) prev = drain(rm(i), cn(j - 1));
            else if (i > 0) prev = drain(rm(i - 1), cn(nb - 1));
            return std::max(run(rm(i), cn(j)), prev);
        });
    };
    const uint64_t once = p.block_pipelining ? rm(mb - 1) + cn(nb - 1) - 1 : 0;
    return p.gemm_setup_cycles + sum_uniform(mb, row) + once + drain(rm(mb - 1), cn(nb - 1));
}

vec_op_cost vec_cost(unsigned op) {
    switch (op) {
    case AAX_VEC_ADD: return {1, 0, 2};
    case AAX_VEC_MUL: return {1, 0, 2};
    case AAX_VEC_FMA: return {1, 0, 3};
    case AAX_VEC_MAX: return {1, 0, 2};
    case AAX_VEC_RELU: return {1, 0, 1};
    case AAX_VEC_GELU: return {4, 0, 1};
    case AAX_VEC_EXP: return {2, 0, 1};
    case AAX_VEC_RECIP: return {2, 0, 1};
    case AAX_VEC_CONVERT: return {1, 0, 1};
    case AAX_VEC_ROW_SUM: return {1, 1, 1};
    case AAX_VEC_ROW_MAX: return {1, 1, 1};
    case AAX_VEC_SOFTMAX: return {5, 2, 1};    // max pass, exp + sum pass, scale pass
    case AAX_VEC_LAYERNORM: return {5, 2, 1};  // mean pass, variance pass, normalise (+ affine)
    case AAX_VEC_TRANSPOSE: return {1, 0, 1};
    default: return {1, 0, 1};
    }
}

uint64_t vec_cycles(const compute_params& p, const vec_shape& s, uint64_t* sram_stall) {
    const vec_op_cost c = vec_cost(s.op);
    uint64_t log2_lanes = 0;
    while ((1ull << log2_lanes) < p.vector_lanes) ++log2_lanes;
    const uint64_t S = p.sram_bytes_per_cycle, sram = sram_cycles(p, s.bytes_read + s.bytes_written);
    // The pipeline drains once after the last group; an op that ends with a row reduction
    // (ROW_SUM, ROW_MAX) has already paid that drain in its last row's reduction (calibrated
    // against the RTL lane cluster, docs/calibration.md).
    const bool ends_in_reduction = s.op == AAX_VEC_ROW_SUM || s.op == AAX_VEC_ROW_MAX;
    const uint64_t compute = s.rows * (ceil_div(s.cols, p.vector_lanes) * c.cycles_per_group +
                                       c.reductions_per_row * (p.vector_depth + log2_lanes)) +
                             (ends_in_reduction ? 0 : p.vector_depth);

    // Single-pass ops (one cycle per group, at most one reduction per row: the ops of the RTL
    // lane cluster, and FMA, CONVERT, TRANSPOSE) follow the issue model exactly: a group issues
    // once the port (S bytes per cycle, reads prefetched at that rate) has delivered every read
    // up to its own, the group after it issues one cycle later at the earliest, a row
    // reduction's next row issues after the row's result leaves the tree, and the packet ends
    // after its last group's pipeline (and tree) and when every byte has crossed the port.
    uint64_t total = std::max(compute, sram);
    uint64_t e = s.elem_read, e0 = s.row0_elem_read, rb = s.row_read;
    const bool even = e == 0 && e0 == 0 && rb == 0;
    if (even && s.rows && s.cols && s.bytes_read % (s.rows * s.cols) == 0) e = s.bytes_read / (s.rows * s.cols);
    if (c.cycles_per_group == 1 && c.reductions_per_row <= 1 && s.rows && s.cols &&
        (!even || s.bytes_read == e * s.rows * s.cols)) {
        const uint64_t L = p.vector_lanes, N = s.rows, G = ceil_div(s.cols, L);
        const uint64_t W = c.reductions_per_row * (p.vector_depth + log2_lanes);  // row's drain before the next
        const uint64_t P = G + W;                                                 // a row's issue period
        const uint64_t B0 = s.cols * (e + e0) + rb, B = s.cols * e + rb;          // bytes of row 0, of any other
        // Issue cycle of the last group if group i of row j waits for its reads, the rest
        // of the packet at full rate: ceil(R/S) - 1 plus the groups and row drains after it.
        // Over the full groups of a row and over rows 1.. the reads per step are constant, so
        // this is monotone there (floor(x/S) >= step or ceil(x/S) <= step) and the maximum is
        // at a boundary: rows 0, 1, N-1 and groups 0, 1, G-2, G-1.
        auto h = [&](uint64_t j, uint64_t i) {
            const uint64_t base = j == 0 ? 0 : B0 + (j - 1) * B;
            const uint64_t within = std::min((i + 1) * L, s.cols) * (e + (j == 0 ? e0 : 0)) + rb;
            return ceil_div(base + within, S) - 1 + (G - 1 - i) + (N - 1 - j) * P;
        };
        uint64_t last = (G - 1) + (N - 1) * P;  // the port never waits
        for (uint64_t j : {uint64_t(0), uint64_t(1), N - 1})
            for (uint64_t i : {uint64_t(0), uint64_t(1), G - 2, G - 1})
                if (j < N && i < G) last = std::max(last, h(j, i));
        const uint64_t drain = ends_in_reduction ? W : p.vector_depth;
        total = std::max(last + drain + 1, sram);
    }
    if (sram_stall) *sram_stall = total - compute;
    return p.vector_setup_cycles + total;
}

} // namespace accelvp
