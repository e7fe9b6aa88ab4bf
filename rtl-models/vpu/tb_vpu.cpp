// Verilator C++ testbench of the RTL vector lane cluster (ctest rtl:vpu_cluster), against the
// host reference of the TLM vector engine (num::to_f32, the op, num::from_f32: every element
// widened to fp32, the op in host fp32 arithmetic, one rounding to the result type), bit for bit:
//  1. fp32 operands of every class (zeros of both signs, subnormals, normals near the rounding
//     and overflow boundaries, infinities, quiet and signalling NaNs with payloads) and random
//     ones built to exercise rounding (cancellation, far-apart exponents, products that underflow
//     or overflow): every pair through ADD, MUL and MAX, every value through RELU, through the
//     conversions to INT8, INT32 and BF16, and rows of them through ROW_MAX;
//  2. random VEC packets (ADD, MUL, MAX, RELU, ROW_SUM, ROW_MAX; full, B_SCALAR, B_ROW and B_COL
//     operands; INT8, BF16 and FP32 sources; INT8, INT32, FP32 and BF16 results; lanes, pipeline
//     depths, SRAM port widths, strides, partial groups), with the SRAM outside the result
//     untouched (float ROW_SUM: timing only, as rtl_vector_engine runs it), and the cluster's
//     cycles against its timing written out here group by group (vpu_cluster.sv's header). The
//     TLM formula (vec_cycles) is checked against this group-by-group timing in test_tlm and
//     against the cluster in test_rtl.
// Usage: tb_vpu [random packets] [random fp32 pairs]
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
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


uint32_t ie_of(uint32_t in) { return in == vpu_job::in_int8 ? 1 : in == vpu_job::in_bf16 ? 2 : 4; }
uint32_t oe_of(uint32_t out) { return out == vpu_job::out_int8 ? 1 : out == vpu_job::out_bf16 ? 2 : 4; }
num::dtype in_dtype(uint32_t in) {
    return in == vpu_job::in_int8 ? num::dtype::int8 : in == vpu_job::in_bf16 ? num::dtype::bf16 : num::dtype::fp32;
}
num::dtype out_dtype(uint32_t out) {
    return out == vpu_job::out_int8    ? num::dtype::int8
           : out == vpu_job::out_int32 ? num::dtype::int32
           : out == vpu_job::out_bf16  ? num::dtype::bf16
                                       : num::dtype::fp32;
}
uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
float f32(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// The SRAM after the TLM vector engine ran the job (its arithmetic: num::).
std::vector<uint8_t> reference(const vpu_job& j, const std::vector<uint8_t>& before) {
    std::vector<uint8_t> expect = before;
    if (!j.data) return expect;
    const uint32_t ie = ie_of(j.in), oe = oe_of(j.out);
    const num::dtype id = in_dtype(j.in);
    const size_t n = size_t(j.rows) * j.cols;
    std::vector<float> A(n), B(n), Y(is_red(j.op) ? j.rows : n);
    for (uint32_t r = 0; r < j.rows; ++r)
        for (uint32_t k = 0; k < j.cols; ++k) {
            num::to_f32(id, &before[j.a_addr + (uint64_t(r) * j.lda + k) * ie], &A[r * j.cols + k], 1);
            uint64_t be = uint64_t(r) * j.ldb + k;
            if (j.bmode == vpu_job::b_row) be = k;
            if (j.bmode == vpu_job::b_col) be = uint64_t(r) * j.ldb;
            if (j.bmode == vpu_job::b_scalar) B[r * j.cols + k] = f32(j.scalar);
            else if (takes_b(j.op)) num::to_f32(id, &before[j.b_addr + be * ie], &B[r * j.cols + k], 1);
        }
    switch (j.op) {
    case 0: num::vadd(A.data(), B.data(), Y.data(), n); break;
    case 1: num::vmul(A.data(), B.data(), Y.data(), n); break;
    case 3: num::vmax(A.data(), B.data(), Y.data(), n); break;
    case 4: num::vrelu(A.data(), Y.data(), n); break;
    case 9: num::row_sum(A.data(), Y.data(), j.rows, j.cols); break;
    default: num::row_max(A.data(), Y.data(), j.rows, j.cols); break;
    }
    const uint32_t ycols = is_red(j.op) ? 1 : j.cols;
    for (uint32_t r = 0; r < j.rows; ++r)
        for (uint32_t k = 0; k < ycols; ++k)
            num::from_f32(out_dtype(j.out), &Y[r * ycols + k], &expect[j.y_addr + (size_t(r) * j.ldy + k) * oe], 1);
    return expect;
}

// fp32 bit patterns: every class, and random values built to exercise rounding.
struct fp_gen {
    std::mt19937_64& rng;
    uint32_t base = 0x3F800000;  // a recent value: operands near it make cancellations and ties
    uint64_t pick(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); }
    static const std::vector<uint32_t>& specials() {
        static const std::vector<uint32_t> v = {
            0x00000000, 0x80000000,                          // +-0
            0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF,  // subnormals: min, max
            0x00400000, 0x00000003, 0x00800000, 0x80800000,  // subnormal, min normal
            0x00800001, 0x3F800000, 0xBF800000, 0x3F800001,  // 1, -1, 1 + ulp
            0x3F7FFFFF, 0x40000000, 0xC0400000, 0x3F000000,  // 1 - ulp/2, 2, -3, 0.5
            0x3FC00000, 0x40200000, 0xBF000000, 0x3EFFFFFF,  // 1.5, 2.5, -0.5, just below 0.5
            0x4B000000, 0x4B000001, 0x4AFFFFFF, 0x4B800000,  // 2^23 (+1 ulp), 2^24
            0x7F7FFFFF, 0xFF7FFFFF, 0x7F000000, 0x5F800000,  // max finite, 2^127, 2^64
            0x1F800000, 0x20000000, 0x0C000000, 0x34000000,  // 2^-64, small normals, 2^-23
            0x42FE0000, 0x42FF0000, 0x42FD0000, 0xC3000000,  // 127, 127.5, 126.5, -128
            0xC3008000, 0xC300C000, 0x4EFFFFFF, 0x4F000000,  // -128.5, -128.75, 2^31 - 128, 2^31
            0xCF000000, 0xCF000001, 0x7F800000, 0xFF800000,  // -2^31, below, +-inf
            0x7FC00000, 0xFFC00000, 0x7FC00123, 0xFFE54321,  // quiet NaNs
            0x7F800001, 0xFFA00002, 0x7F812345,              // signalling NaNs
        };
        return v;
    }
    uint32_t value() {
        switch (pick(0, 9)) {
        case 0: return specials()[pick(0, specials().size() - 1)];
        case 1: return uint32_t(rng());  // any bits
        case 2: return uint32_t(pick(0, 0x00FFFFFF)) | (uint32_t(pick(0, 1)) << 31);  // subnormal, small normal
        case 3: return base ^ uint32_t(pick(0, 3)) ^ (uint32_t(pick(0, 1)) << 31);   // cancellation partners
        case 4: {  // the same binade as base, or a few binades away
            const int e = int((base >> 23) & 0xFF) + int(pick(0, 60)) - 30;
            return (uint32_t(pick(0, 1)) << 31) | (uint32_t(std::clamp(e, 0, 254)) << 23) | uint32_t(pick(0, 0x7FFFFF));
        }
        case 5: {  // near the underflow / overflow boundaries of products
            const uint32_t e = pick(0, 1) ? uint32_t(pick(40, 90)) : uint32_t(pick(160, 215));
            return (uint32_t(pick(0, 1)) << 31) | (e << 23) | uint32_t(pick(0, 0x7FFFFF));
        }
        case 6: return (uint32_t(pick(0, 1)) << 31) | (uint32_t(pick(120, 134)) << 23) | (uint32_t(pick(0, 0xFF)) << 15);
        default: return base = (uint32_t(pick(0, 1)) << 31) | (uint32_t(pick(1, 254)) << 23) | uint32_t(pick(0, 0x7FFFFF));
        }
    }
};

// Runs a job and compares the SRAM and the cycles; returns 1 on a failure.
int check(vpu_rtl& rtl, const vpu_config& c, const vpu_job& j, vec_sram& sram, const char* what,
          uint64_t* cycles = nullptr) {
    const std::vector<uint8_t> before = sram.mem;
    const std::vector<uint8_t> expect = reference(j, before);
    const uint64_t cyc = rtl.run(c, j, &sram);
    if (cycles) *cycles = cyc;
    const uint64_t want = rtl_timing(c, j);
    if (sram.mem == expect && cyc == want) return 0;
    size_t bad = 0;
    while (bad < expect.size() && sram.mem[bad] == expect[bad]) ++bad;
    std::printf("FAIL %s: op %u bmode %u in %u out %u %ux%u lanes %u depth %u S %u: cycles %llu (want %llu), data %s",
                what, j.op, j.bmode, j.in, j.out, j.rows, j.cols, c.lanes, c.depth, c.sram_bytes_per_cycle,
                (unsigned long long)cyc, (unsigned long long)want, sram.mem == expect ? "ok\n" : "WRONG");
    if (sram.mem != expect) {
        const uint32_t oe = oe_of(j.out);
        const size_t w = bad >= j.y_addr ? (bad - j.y_addr) / oe * oe + j.y_addr : bad;
        uint32_t g = 0, e = 0;
        std::memcpy(&g, &sram.mem[w], std::min<size_t>(oe, sram.mem.size() - w));
        std::memcpy(&e, &expect[w], std::min<size_t>(oe, expect.size() - w));
        std::printf(" (first bad byte %zu, y at %u: got 0x%08x want 0x%08x", bad, j.y_addr, g, e);
        if (w >= j.y_addr && !is_red(j.op)) {
            const size_t el = (w - j.y_addr) / oe, r = el / j.ldy, k = el % j.ldy;
            uint32_t a = 0, b = 0;
            const uint32_t ie = ie_of(j.in);
            std::memcpy(&a, &before[j.a_addr + (r * j.lda + k) * ie], ie);
            if (j.bmode == vpu_job::b_full && takes_b(j.op)) std::memcpy(&b, &before[j.b_addr + (r * j.ldb + k) * ie], ie);
            if (j.bmode == vpu_job::b_scalar) b = j.scalar;
            std::printf(", a 0x%08x b 0x%08x", a, b);
        }
        std::printf(")\n");
    }
    return 1;
}

// Phase 1: fp32 operands of every class through each op and conversion, in wide packets.
int fp_edges(vpu_rtl& rtl, std::mt19937_64& rng, size_t random_pairs) {
    fp_gen g{rng};
    const std::vector<uint32_t>& sp = fp_gen::specials();
    std::vector<uint32_t> va, vb;
    for (uint32_t x : sp)
        for (uint32_t y : sp) {
            va.push_back(x);
            vb.push_back(y);
        }
    for (size_t i = 0; i < random_pairs; ++i) {
        va.push_back(g.value());
        vb.push_back(g.value());
    }
    const uint32_t cols = 512, rows = uint32_t(cdiv(va.size(), cols));
    va.resize(size_t(rows) * cols, 0);
    vb.resize(size_t(rows) * cols, 0);
    vpu_config c;
    c.lanes = 64;
    c.depth = 3;
    c.sram_bytes_per_cycle = 4096;
    c.setup_cycles = 0;
    auto job = [&](uint32_t op, uint32_t bmode, uint32_t out) {
        vpu_job j;
        j.op = op;
        j.bmode = bmode;
        j.rows = rows;
        j.cols = cols;
        j.lda = j.ldb = cols;
        j.ldy = is_red(op) ? 1 : cols;
        j.in = vpu_job::in_fp32;
        j.out = out;
        j.in_bytes = 4;
        j.out_bytes = oe_of(out);
        j.a_addr = 0;
        j.b_addr = rows * cols * 4;
        j.y_addr = 2 * rows * cols * 4;
        return j;
    };
    vec_sram sram(size_t(3) * rows * cols * 4);
    std::memcpy(&sram.mem[0], va.data(), va.size() * 4);
    std::memcpy(&sram.mem[size_t(rows) * cols * 4], vb.data(), vb.size() * 4);
    int fails = 0;
    fails += check(rtl, c, job(0, vpu_job::b_full, vpu_job::out_fp32), sram, "fp32 pairs ADD");
    fails += check(rtl, c, job(1, vpu_job::b_full, vpu_job::out_fp32), sram, "fp32 pairs MUL");
    fails += check(rtl, c, job(3, vpu_job::b_full, vpu_job::out_fp32), sram, "fp32 pairs MAX");
    fails += check(rtl, c, job(4, vpu_job::b_full, vpu_job::out_fp32), sram, "fp32 RELU");
    fails += check(rtl, c, job(0, vpu_job::b_full, vpu_job::out_bf16), sram, "fp32 pairs ADD -> bf16");
    fails += check(rtl, c, job(1, vpu_job::b_full, vpu_job::out_int32), sram, "fp32 pairs MUL -> int32");
    // Conversions of every value: MAX with -inf is the identity (a NaN a stays a).
    for (uint32_t out : {vpu_job::out_int8, vpu_job::out_int32, vpu_job::out_bf16}) {
        vpu_job j = job(3, vpu_job::b_scalar, out);
        j.scalar = 0xFF800000;
        fails += check(rtl, c, j, sram, "fp32 conversions");
    }
    fails += check(rtl, c, job(10, vpu_job::b_full, vpu_job::out_fp32), sram, "fp32 ROW_MAX");
    // Row maxima among zeros of both signs, negatives, -inf and rare NaNs, 16 lanes: the
    // earliest of the equal maxima wins wherever its lane is (+0 against -0).
    {
        const uint32_t zr = 64, zc = 100;
        vec_sram z(size_t(zr) * zc * 4 + zr * 4 + 64);
        const uint32_t pool[] = {0x00000000, 0x80000000, 0xBF800000, 0xC0A00000, 0xFF800000, 0x80000001};
        for (uint32_t r = 0; r < zr; ++r)
            for (uint32_t k = 0; k < zc; ++k) {
                uint32_t x = pool[g.pick(0, r % 3 == 0 ? 5 : 3)];
                if (g.pick(0, 999) == 0) x = 0x7FC00000 | uint32_t(g.pick(0, 0xFF));
                std::memcpy(&z.mem[(size_t(r) * zc + k) * 4], &x, 4);
            }
        vpu_config zc16 = c;
        zc16.lanes = 16;
        vpu_job j = job(10, vpu_job::b_full, vpu_job::out_fp32);
        j.rows = zr;
        j.cols = zc;
        j.lda = zc;
        j.b_addr = 0;
        j.y_addr = zr * zc * 4;
        fails += check(rtl, zc16, j, z, "ROW_MAX of signed zeros");
        j.out = vpu_job::out_bf16;
        j.out_bytes = 2;
        fails += check(rtl, zc16, j, z, "ROW_MAX of signed zeros -> bf16");
    }
    std::printf("fp32 operands: %zu pairs (%zu of special values) through ADD, MUL, MAX, RELU, conversions, ROW_MAX: "
                "%d failed\n",
                va.size(), sp.size() * sp.size(), fails);
    return fails;
}
} // namespace

int main(int argc, char** argv) {
    const int count = argc > 1 ? std::atoi(argv[1]) : 100;
    const size_t pairs = argc > 2 ? size_t(std::atol(argv[2])) : 20000;
    std::mt19937_64 rng(2026);
    auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
    vpu_rtl rtl;
    int fails = fp_edges(rtl, rng, pairs);

    // Phase 2: random packets.
    fp_gen g{rng};
    const uint32_t ops[] = {0, 1, 3, 4, 9, 10};
    const uint32_t lane_choices[] = {1, 2, 3, 4, 5, 8, 16, 17, 32, 64};
    const uint32_t ports[] = {4, 8, 16, 32, 64, 256};
    int packet_fails = 0;
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
        j.in = uint32_t(pick(0, 2));
        j.out = uint32_t(pick(0, 3));
        j.in_bytes = ie_of(j.in);
        j.out_bytes = oe_of(j.out);
        j.data = !(j.op == 9 && j.in != vpu_job::in_int8);  // float ROW_SUM: the reference's values
        j.lda = j.cols + uint32_t(pick(0, 3) ? 0 : pick(1, 9));
        j.ldb = j.bmode == vpu_job::b_col ? uint32_t(pick(1, 3)) : j.cols + uint32_t(pick(0, 3) ? 0 : pick(1, 9));
        const uint32_t ycols = is_red(j.op) ? 1 : j.cols;
        j.ldy = ycols + uint32_t(pick(0, 3) ? 0 : pick(1, 5));
        j.scalar = pick(0, 1) ? g.value() : bits(float(int(pick(0, 255)) - 128));
        // Layout: a, b, y in that order with random gaps (bytes).
        const uint32_t ie = j.in_bytes;
        j.a_addr = uint32_t(pick(0, 64));
        j.b_addr = j.a_addr + j.rows * j.lda * ie + uint32_t(pick(0, 64));
        const uint32_t brows = j.bmode == vpu_job::b_row ? 1 : j.rows;
        j.y_addr = j.b_addr + brows * j.ldb * ie + uint32_t(pick(0, 64));
        const size_t ybytes = size_t(j.rows) * j.ldy * j.out_bytes;
        vec_sram sram(j.y_addr + ybytes + 64);
        for (auto& b : sram.mem) b = uint8_t(pick(0, 255));
        // Float sources: values of every class (BF16: the top halves; INT8: the random bytes).
        if (j.in != vpu_job::in_int8)
            for (uint32_t addr = j.a_addr & ~3u; addr + 4 <= j.y_addr; addr += 4)
                if (pick(0, 1)) {
                    uint32_t x = g.value();
                    if (j.in == vpu_job::in_bf16) x = (x >> 16) | (g.value() & 0xFFFF0000);
                    std::memcpy(&sram.mem[addr], &x, 4);
                }

        if (std::getenv("TB_VPU_TRACE"))
            std::fprintf(stderr, "#%d op %u bmode %u in %u out %u %ux%u lanes %u depth %u S %u lda %u ldb %u ldy %u a %u b %u y %u\n",
                         it, j.op, j.bmode, j.in, j.out, j.rows, j.cols, c.lanes, c.depth, c.sram_bytes_per_cycle, j.lda,
                         j.ldb, j.ldy, j.a_addr, j.b_addr, j.y_addr);
        uint64_t cyc = 0;
        packet_fails += check(rtl, c, j, sram, ("packet #" + std::to_string(it)).c_str(), &cyc);
        // Timing only: the same cycles, nothing touched.
        if (it % 7 == 0) {
            vpu_job tj = j;
            tj.data = false;
            const std::vector<uint8_t> snap = sram.mem;
            const uint64_t tc = rtl.run(c, tj, &sram);
            if (tc != cyc || sram.mem != snap) {
                ++packet_fails;
                std::printf("FAIL #%d timing-only: %llu cycles vs %llu, SRAM %s\n", it, (unsigned long long)tc,
                            (unsigned long long)cyc, sram.mem == snap ? "untouched" : "WRITTEN");
            }
        }
    }
    std::printf("%d random VEC packets: %d failed\n", count, packet_fails);
    return fails || packet_fails ? 1 : 0;
}
