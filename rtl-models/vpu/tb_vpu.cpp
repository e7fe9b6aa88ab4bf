// Verilator C++ testbench of the RTL vector lane cluster (ctest rtl:vpu_cluster): random VEC
// packets (ADD, MUL, MAX, RELU, ROW_SUM, ROW_MAX; full, B_SCALAR, B_ROW and B_COL operands;
// INT8 sources, INT8/INT32/FP32 results; lanes, pipeline depths, SRAM port widths, strides,
// partial groups) against the host reference of the TLM vector engine (num::to_f32, the op,
// num::from_f32: every element widened to fp32, one rounding to the result type), bit for bit,
// with the SRAM outside the result untouched; and the cluster's cycles against its timing
// written out here group by group (vpu_cluster.sv's header), and printed next to the TLM
// formula (docs/compute.md, "Vector engine timing").
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "tlm/compute/numerics.h"
#include "vpu_rtl.h"

using accelvp::rtl::vpu_config;
using accelvp::rtl::vpu_job;
using accelvp::rtl::vpu_rtl;
namespace num = accelvp::num;

namespace {
struct vec_sram : accelvp::rtl::vpu_sram {
    std::vector<uint8_t> mem;
    explicit vec_sram(size_t n) : mem(n) {}
    uint8_t rd8(uint64_t a) override {
        if (a >= mem.size()) std::fprintf(stderr, "rd8 %llu of %zu\n", (unsigned long long)a, mem.size());
        return mem.at(a);
    }
    void wr(uint64_t a, unsigned n, uint32_t v) override {
        if (a + n > mem.size()) std::fprintf(stderr, "wr %llu n %u of %zu\n", (unsigned long long)a, n, mem.size());
        for (unsigned i = 0; i < n; ++i) mem.at(a + i) = uint8_t(v >> (8 * i));
    }
};

uint64_t cdiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
bool is_red(uint32_t op) { return op == 9 || op == 10; }
bool takes_b(uint32_t op) { return op == 0 || op == 1 || op == 3; }

// The cluster's timing, group by group (vpu_cluster.sv).
uint64_t rtl_timing(const vpu_config& c, const vpu_job& j) {
    uint64_t levels = 0;
    while ((1ull << levels) < c.lanes) ++levels;
    const uint64_t S = c.sram_bytes_per_cycle, ng = cdiv(j.cols, c.lanes);
    uint64_t t = 0, rd = 0, wr = 0, last = 0;
    for (uint64_t r = 0; r < j.rows; ++r)
        for (uint64_t g = 0; g < ng; ++g) {
            const uint64_t n = std::min<uint64_t>(c.lanes, j.cols - g * c.lanes);
            uint64_t b = n * j.in_bytes;
            if (takes_b(j.op)) {
                if (j.bmode == vpu_job::b_full) b += n * j.in_bytes;
                if (j.bmode == vpu_job::b_row && r == 0) b += n * j.in_bytes;
                if (j.bmode == vpu_job::b_col && g == 0) b += j.in_bytes;
            }
            rd += b;
            t = std::max(t, cdiv(rd, S) - 1);  // S * (t + 1) >= rd
            if (is_red(j.op)) {
                if (g + 1 == ng) {
                    last = t + c.depth + levels;
                    wr += j.out_bytes;
                    t = last + 1;
                } else ++t;
            } else {
                last = t + c.depth;
                wr += n * j.out_bytes;
                ++t;
            }
        }
    return c.setup_cycles + std::max(last + 1, cdiv(rd + wr, S));
}

// docs/compute.md, "Vector engine timing" (vec_cycles).
uint64_t tlm_formula(const vpu_config& c, const vpu_job& j) {
    uint64_t levels = 0;
    while ((1ull << levels) < c.lanes) ++levels;
    const uint64_t q = is_red(j.op) ? 1 : 0;
    uint64_t compute = j.rows * (cdiv(j.cols, c.lanes) + q * (c.depth + levels)) + (q ? 0 : c.depth);
    uint64_t bytes = uint64_t(j.rows) * j.cols * j.in_bytes;
    if (takes_b(j.op)) {
        if (j.bmode == vpu_job::b_full) bytes += uint64_t(j.rows) * j.cols * j.in_bytes;
        if (j.bmode == vpu_job::b_row) bytes += uint64_t(j.cols) * j.in_bytes;
        if (j.bmode == vpu_job::b_col) bytes += uint64_t(j.rows) * j.in_bytes;
    }
    bytes += (is_red(j.op) ? j.rows : uint64_t(j.rows) * j.cols) * j.out_bytes;
    return c.setup_cycles + std::max(compute, cdiv(bytes, c.sram_bytes_per_cycle));
}
} // namespace

int main(int argc, char** argv) {
    const int count = argc > 1 ? std::atoi(argv[1]) : 100;
    std::mt19937_64 rng(2026);
    auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
    vpu_rtl rtl;
    const uint32_t ops[] = {0, 1, 3, 4, 9, 10};
    const uint32_t lane_choices[] = {1, 2, 3, 4, 5, 8, 16, 17, 32, 64};
    const uint32_t ports[] = {4, 8, 16, 32, 64, 256};
    int fails = 0, off_model = 0;
    for (int it = 0; it < count; ++it) {
        vpu_config c;
        c.lanes = std::min(lane_choices[pick(0, 9)], vpu_rtl::max_lanes);
        c.depth = uint32_t(pick(1, vpu_rtl::max_depth));
        c.sram_bytes_per_cycle = ports[pick(0, 5)];
        c.setup_cycles = uint32_t(pick(0, 10));
        vpu_job j;
        j.op = ops[pick(0, 5)];
        j.bmode = takes_b(j.op) ? uint32_t(pick(0, 3)) : uint32_t(vpu_job::b_full);
        j.rows = uint32_t(pick(1, 24));
        j.cols = uint32_t(pick(1, 200));
        j.out = uint32_t(pick(0, 2));
        j.out_bytes = j.out == vpu_job::out_int8 ? 1 : 4;
        j.in_bytes = 1;
        j.lda = j.cols + uint32_t(pick(0, 3) ? 0 : pick(1, 9));
        j.ldb = j.bmode == vpu_job::b_col ? uint32_t(pick(1, 3)) : j.cols + uint32_t(pick(0, 3) ? 0 : pick(1, 9));
        const uint32_t ycols = is_red(j.op) ? 1 : j.cols;
        j.ldy = ycols + uint32_t(pick(0, 3) ? 0 : pick(1, 5));
        j.scalar = int32_t(pick(0, 255)) - 128;
        // Layout: a, b, y in that order with random gaps.
        j.a_addr = uint32_t(pick(0, 64));
        j.b_addr = j.a_addr + j.rows * j.lda + uint32_t(pick(0, 64));
        const uint32_t brows = j.bmode == vpu_job::b_row ? 1 : j.rows;
        j.y_addr = j.b_addr + brows * j.ldb + uint32_t(pick(0, 64));
        const size_t ybytes = size_t(j.rows) * j.ldy * j.out_bytes;
        vec_sram sram(j.y_addr + ybytes + 64);
        for (auto& b : sram.mem) b = uint8_t(pick(0, 255));
        const std::vector<uint8_t> before = sram.mem;

        // Reference: the TLM vector engine's arithmetic.
        const size_t n = size_t(j.rows) * j.cols;
        std::vector<float> A(n), B(n), Y(is_red(j.op) ? j.rows : n);
        for (uint32_t r = 0; r < j.rows; ++r)
            for (uint32_t k = 0; k < j.cols; ++k) {
                num::to_f32(num::dtype::int8, &before[j.a_addr + r * j.lda + k], &A[r * j.cols + k], 1);
                uint64_t ba = j.b_addr + uint64_t(r) * j.ldb + k;
                if (j.bmode == vpu_job::b_row) ba = j.b_addr + k;
                if (j.bmode == vpu_job::b_col) ba = j.b_addr + uint64_t(r) * j.ldb;
                if (j.bmode == vpu_job::b_scalar) B[r * j.cols + k] = float(j.scalar);
                else if (takes_b(j.op)) num::to_f32(num::dtype::int8, &before[ba], &B[r * j.cols + k], 1);
            }
        switch (j.op) {
        case 0: num::vadd(A.data(), B.data(), Y.data(), n); break;
        case 1: num::vmul(A.data(), B.data(), Y.data(), n); break;
        case 3: num::vmax(A.data(), B.data(), Y.data(), n); break;
        case 4: num::vrelu(A.data(), Y.data(), n); break;
        case 9: num::row_sum(A.data(), Y.data(), j.rows, j.cols); break;
        default: num::row_max(A.data(), Y.data(), j.rows, j.cols); break;
        }
        const num::dtype od = j.out == vpu_job::out_int8 ? num::dtype::int8
                              : j.out == vpu_job::out_int32 ? num::dtype::int32 : num::dtype::fp32;
        std::vector<uint8_t> expect = before;
        for (uint32_t r = 0; r < j.rows; ++r)
            for (uint32_t k = 0; k < ycols; ++k)
                num::from_f32(od, &Y[r * ycols + k], &expect[j.y_addr + (size_t(r) * j.ldy + k) * j.out_bytes], 1);

        if (std::getenv("TB_VPU_TRACE"))
            std::fprintf(stderr, "#%d op %u bmode %u %ux%u lanes %u depth %u S %u out %u lda %u ldb %u ldy %u a %u b %u y %u\n", it,
                         j.op, j.bmode, j.rows, j.cols, c.lanes, c.depth, c.sram_bytes_per_cycle, j.out, j.lda, j.ldb, j.ldy,
                         j.a_addr, j.b_addr, j.y_addr);
        const uint64_t cyc = rtl.run(c, j, &sram);
        const uint64_t want = rtl_timing(c, j), tlm = tlm_formula(c, j);
        const bool data_ok = sram.mem == expect;
        if (!data_ok || cyc != want) {
            ++fails;
            size_t bad = 0;
            while (bad < expect.size() && sram.mem[bad] == expect[bad]) ++bad;
            std::printf("FAIL #%d op %u bmode %u %ux%u lanes %u depth %u S %u out %u: cycles %llu (want %llu, TLM %llu), "
                        "data %s (first bad byte %zu, y at %u)\n",
                        it, j.op, j.bmode, j.rows, j.cols, c.lanes, c.depth, c.sram_bytes_per_cycle, j.out,
                        (unsigned long long)cyc, (unsigned long long)want, (unsigned long long)tlm,
                        data_ok ? "ok" : "WRONG", bad, j.y_addr);
            if (!data_ok && std::getenv("TB_VPU_TRACE")) {
                const size_t w = (bad - j.y_addr) / j.out_bytes * j.out_bytes + j.y_addr;
                uint32_t g = 0, e = 0;
                std::memcpy(&g, &sram.mem[w], j.out_bytes);
                std::memcpy(&e, &expect[w], j.out_bytes);
                std::printf("  at %zu: got 0x%08x want 0x%08x\n", w, g, e);
            }
        }
        if (cyc != tlm) {
            ++off_model;
            if (std::getenv("TB_VPU_TRACE"))
                std::printf("  off-model #%d op %u bmode %u %ux%u lanes %u depth %u S %u ob %u: RTL %llu TLM %llu\n", it, j.op,
                            j.bmode, j.rows, j.cols, c.lanes, c.depth, c.sram_bytes_per_cycle, j.out_bytes,
                            (unsigned long long)cyc, (unsigned long long)tlm);
        }
        // Timing only: the same cycles, nothing touched.
        if (it % 7 == 0) {
            vpu_job tj = j;
            tj.data = false;
            const std::vector<uint8_t> snap = sram.mem;
            const uint64_t tc = rtl.run(c, tj, &sram);
            if (tc != cyc || sram.mem != snap) {
                ++fails;
                std::printf("FAIL #%d timing-only: %llu cycles vs %llu, SRAM %s\n", it, (unsigned long long)tc,
                            (unsigned long long)cyc, sram.mem == snap ? "untouched" : "WRITTEN");
            }
        }
    }
    std::printf("%d random VEC packets: %d failed; %d differ from the TLM formula (tools/calibrate tabulates it)\n",
                count, fails, off_model);
    return fails ? 1 : 0;
}
