// Verilator C++ testbench of the RTL matrix tiles (ctest rtl:mxu_tile), every other GEMM on the
// output-stationary tile (mxu_os_tile) against the output-stationary formula: random INT8 GEMMs
// (array sizes, m/n/k including partial edge blocks, addresses, leading dimensions,
// ACCUMULATE, B_TRANS) against a host reference, bit for bit, with the SRAM outside C
// untouched; and the tile's cycles against the weight-stationary formula of docs/compute.md,
// evaluated block by block here (exit tap on), and with R instead of r in the fill when the
// partial sums leave from the array's last row (exit tap off).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "mxu_rtl.h"

using accelvp::rtl::mxu_config;
using accelvp::rtl::mxu_job;
using accelvp::rtl::mxu_rtl;

namespace {
struct vec_sram : accelvp::rtl::sram_backend {
    std::vector<uint8_t> mem;
    explicit vec_sram(size_t n) : mem(n) {}
    uint8_t rd8(uint64_t a) override { return mem.at(a); }
    uint32_t rd32(uint64_t a) override {
        uint32_t v;
        std::memcpy(&v, &mem.at(a + 3) - 3, 4);
        return v;
    }
    void wr32(uint64_t a, uint32_t v) override { std::memcpy(&mem.at(a + 3) - 3, &v, 4); }
};

uint64_t cdiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// docs/compute.md, weight-stationary, no block pipelining, one MAC per PE per cycle.
uint64_t ws_formula(const mxu_config& c, const mxu_job& j) {
    const uint64_t R = c.rows, C = c.cols, S = c.sram_bytes_per_cycle;
    const uint64_t kb = cdiv(j.k, R), nb = cdiv(j.n, C);
    struct blk { uint64_t r, c; bool first, last; };
    std::vector<blk> b;
    for (uint64_t jn = 0; jn < nb; ++jn)
        for (uint64_t ik = 0; ik < kb; ++ik)
            b.push_back({std::min<uint64_t>(R, j.k - ik * R), std::min<uint64_t>(C, j.n - jn * C), ik == 0, ik + 1 == kb});
    auto load = [&](const blk& x) { return std::max(x.r, cdiv(x.r * x.c * j.in_bytes, S)); };
    uint64_t total = c.setup_cycles + load(b[0]);
    for (size_t i = 0; i < b.size(); ++i) {
        uint64_t bytes = j.m * b[i].r * j.in_bytes;
        if (b[i].last) bytes += j.m * b[i].c * j.out_bytes;
        if (b[i].first && j.accumulate) bytes += j.m * b[i].c * j.out_bytes;
        const uint64_t fill_rows = c.exit_tap ? b[i].r : R;
        const uint64_t run = std::max<uint64_t>(j.m, cdiv(bytes, S)) + fill_rows + b[i].c - 1;
        total += std::max(run, i + 1 < b.size() ? load(b[i + 1]) : 0);
    }
    return total;
}
// docs/compute.md, output-stationary, no block pipelining, one MAC per PE per cycle: blocks of
// r x c outputs, m-outer, n-inner; setup + sum_b max(P_b, D_{b-1}) + D_N (C read and added on
// the drain path with ACCUMULATE: no preload).
uint64_t os_formula(const mxu_config& c, const mxu_job& j) {
    const uint64_t R = c.rows, C = c.cols, S = c.sram_bytes_per_cycle;
    std::vector<std::pair<uint64_t, uint64_t>> b;
    for (uint64_t m0 = 0; m0 < j.m; m0 += R)
        for (uint64_t n0 = 0; n0 < j.n; n0 += C) b.push_back({std::min<uint64_t>(R, j.m - m0), std::min<uint64_t>(C, j.n - n0)});
    auto P = [&](uint64_t r, uint64_t cc) { return std::max<uint64_t>(j.k, cdiv((r + cc) * j.k * j.in_bytes, S)) + r + cc - 1; };
    auto D = [&](uint64_t r, uint64_t cc) { return std::max(r, cdiv(r * cc * j.out_bytes * (j.accumulate ? 2 : 1), S)); };
    uint64_t t = c.setup_cycles;
    for (size_t i = 0; i < b.size(); ++i) t += std::max(P(b[i].first, b[i].second), i ? D(b[i - 1].first, b[i - 1].second) : 0);
    return t + D(b.back().first, b.back().second);
}
} // namespace

int main(int argc, char** argv) {
    const int count = argc > 1 ? std::atoi(argv[1]) : 60;
    std::mt19937_64 rng(21);
    auto uni = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
    mxu_rtl tile;
    int failures = 0;
    for (int it = 0; it < count; ++it) {
        mxu_config cfg;
        const uint32_t sizes[] = {2, 3, 4, 8, 16, 32};
        cfg.rows = std::min(sizes[uni(0, 5)], mxu_rtl::max_rows);
        cfg.cols = std::min(sizes[uni(0, 5)], mxu_rtl::max_cols);
        cfg.sram_bytes_per_cycle = static_cast<uint32_t>(uni(0, 1) ? 256 : uni(8, 64));
        cfg.setup_cycles = static_cast<uint32_t>(uni(0, 20));
        cfg.exit_tap = it % 5 != 4;
        mxu_job j;
        j.os = it % 2 == 1;  // every other GEMM on the output-stationary tile
        j.m = static_cast<uint32_t>(uni(1, 70));
        j.n = static_cast<uint32_t>(uni(1, 3 * cfg.cols + 1));
        j.k = static_cast<uint32_t>(uni(1, 3 * cfg.rows + 1));
        j.accumulate = uni(0, 1);
        j.b_trans = uni(0, 1);
        j.lda = j.k + static_cast<uint32_t>(uni(0, 3));
        j.ldb = (j.b_trans ? j.k : j.n) + static_cast<uint32_t>(uni(0, 3));
        j.ldc = j.n + static_cast<uint32_t>(uni(0, 3));
        j.a_addr = static_cast<uint32_t>(uni(0, 100));
        j.b_addr = j.a_addr + j.m * j.lda + static_cast<uint32_t>(uni(0, 50));
        const uint32_t b_rows = j.b_trans ? j.n : j.k;
        j.c_addr = (j.b_addr + b_rows * j.ldb + 3) / 4 * 4 + 4 * static_cast<uint32_t>(uni(0, 10));
        vec_sram s(j.c_addr + 4ull * j.m * j.ldc + 64);
        for (auto& x : s.mem) x = static_cast<uint8_t>(uni(0, 255));
        const std::vector<uint8_t> before = s.mem;
        if (std::getenv("TB_ONLY") && std::atoi(std::getenv("TB_ONLY")) != it) continue;
        // Host reference: C (+)= A * B in int32 with wrap-around.
        auto A = [&](uint64_t i, uint64_t kk) { return int32_t(int8_t(s.mem[j.a_addr + i * j.lda + kk])); };
        auto B = [&](uint64_t kk, uint64_t n) {
            return int32_t(int8_t(s.mem[j.b_addr + (j.b_trans ? n * j.ldb + kk : kk * j.ldb + n)]));
        };
        std::vector<uint32_t> ref(uint64_t(j.m) * j.n);
        for (uint64_t i = 0; i < j.m; ++i)
            for (uint64_t n = 0; n < j.n; ++n) {
                uint32_t acc = j.accumulate ? s.rd32(j.c_addr + 4 * (i * j.ldc + n)) : 0;
                for (uint64_t kk = 0; kk < j.k; ++kk) acc += uint32_t(A(i, kk) * B(kk, n));
                ref[i * j.n + n] = acc;
            }
        if (std::getenv("TB_VERBOSE")) std::printf("run R%u C%u m%u n%u k%u a%u b%u c%u lda%u ldb%u ldc%u bt%d acc%d size %zu\n", cfg.rows, cfg.cols, j.m, j.n, j.k, j.a_addr, j.b_addr, j.c_addr, j.lda, j.ldb, j.ldc, j.b_trans, j.accumulate, s.mem.size());
        const uint64_t cycles = tile.run(cfg, j, &s);
        std::vector<uint8_t> expect = before;
        for (uint64_t i = 0; i < j.m; ++i)
            for (uint64_t n = 0; n < j.n; ++n) std::memcpy(&expect[j.c_addr + 4 * (i * j.ldc + n)], &ref[i * j.n + n], 4);
        const bool data_ok = expect == s.mem;
        if (!data_ok && std::getenv("TB_VERBOSE"))
            for (uint64_t i = 0; i < j.m; ++i)
                for (uint64_t n = 0; n < j.n; ++n) {
                    const uint32_t got = s.rd32(j.c_addr + 4 * (i * j.ldc + n));
                    if (got != ref[i * j.n + n]) std::printf("  C[%llu][%llu] = %d, want %d\n", (unsigned long long)i, (unsigned long long)n, int(got), int(ref[i * j.n + n]));
                }
        const uint64_t want = j.os ? os_formula(cfg, j) : ws_formula(cfg, j);
        std::printf("%3d %s R%-2u C%-2u S%-3u m%-3u n%-3u k%-3u acc%d bt%d tap%d: cycles %llu formula %llu %s%s\n", it,
                    j.os ? "OS" : "WS", cfg.rows, cfg.cols, cfg.sram_bytes_per_cycle, j.m, j.n, j.k, j.accumulate, j.b_trans, cfg.exit_tap,
                    (unsigned long long)cycles, (unsigned long long)want, data_ok ? "data ok" : "DATA MISMATCH",
                    cycles == want ? "" : " CYCLE MISMATCH");
        if (!data_ok || cycles != want) ++failures;
    }
    // Timing only: same cycles, SRAM untouched.
    {
        mxu_config cfg;
        cfg.rows = cfg.cols = std::min(8u, mxu_rtl::max_rows);
        mxu_job j;
        j.m = 20; j.n = 19; j.k = 17; j.lda = 17; j.ldb = 19; j.ldc = 19; j.b_addr = 400; j.c_addr = 800;
        vec_sram s(4096);
        for (auto& x : s.mem) x = 0x5a;
        const uint64_t f = tile.run(cfg, j, &s);
        const std::vector<uint8_t> after = s.mem;
        for (auto& x : s.mem) x = 0x5a;
        j.data = false;
        const uint64_t t = tile.run(cfg, j, &s);
        const bool untouched = std::all_of(s.mem.begin(), s.mem.end(), [](uint8_t x) { return x == 0x5a; });
        std::printf("timing-only: %llu vs %llu cycles, SRAM %s\n", (unsigned long long)t, (unsigned long long)f,
                    untouched ? "untouched" : "WRITTEN");
        if (t != f || !untouched || after == s.mem) ++failures;
    }
    std::printf("%d of %d failed; %llu clocks simulated\n", failures, count + 1, (unsigned long long)tile.clocks());
    return failures ? 1 : 0;
}
