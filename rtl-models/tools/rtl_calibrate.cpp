// Calibration of the TLM matrix engine against the RTL tile (tools/calibrate,
// docs/calibration.md): every shape runs through matrix_engine (compute.matrix.model=tlm) and
// rtl_matrix_engine (=rtl) on identical SRAM contents; prints one markdown row per shape with
// the TLM cycles, the RTL cycles, the error, whether C is bit-identical (INT8: computed by the
// RTL), the RTL cycles of an array without the partial-sum exit tap, and then the simulation
// speed of both. Usage: rtl_calibrate [--quick]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include <systemc>

#include "mxu/rtl_matrix_engine.h"
#include "tlm/compute/matrix_engine.h"

using namespace accelvp;

namespace {

struct shape {
    const char* kind;
    uint32_t R, C, S;
    uint32_t m, n, k;
    bool acc;
    uint8_t dtype;  // AAX_DT_INT8 or AAX_DT_BF16
};

std::vector<shape> shapes() {
    std::vector<shape> v;
    struct arr { uint32_t R, C, S; };
    const arr arrays[] = {{8, 8, 64}, {16, 16, 64}, {32, 32, 256}, {4, 16, 32}, {16, 4, 16}};
    for (const arr& a : arrays) {
        const uint32_t R = a.R, C = a.C;
        v.push_back({"square, one block", R, C, a.S, R, C, R, false, AAX_DT_INT8});
        v.push_back({"square", R, C, a.S, 4 * R, 4 * C, 4 * R, false, AAX_DT_INT8});
        v.push_back({"square, accumulate", R, C, a.S, 4 * R, 4 * C, 4 * R, true, AAX_DT_INT8});
        v.push_back({"tall", R, C, a.S, 512, C, 2 * R, false, AAX_DT_INT8});
        v.push_back({"wide", R, C, a.S, 8, 8 * C, R, false, AAX_DT_INT8});
        v.push_back({"deep k", R, C, a.S, 16, C, 16 * R, true, AAX_DT_INT8});
        v.push_back({"partial edges", R, C, a.S, 3 * R + 1, 2 * C + 3, 2 * R + 5, false, AAX_DT_INT8});
        v.push_back({"partial edges, accumulate", R, C, a.S, 37, 2 * C + 1, R + 1, true, AAX_DT_INT8});
        v.push_back({"tiny", R, C, a.S, 1, 1, 1, false, AAX_DT_INT8});
        v.push_back({"bf16, partial", R, C, a.S, 2 * R + 3, 3 * C - 1, 3 * R - 2, true, AAX_DT_BF16});
    }
    return v;
}

} // namespace

int sc_main(int argc, char** argv) {
    const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
    std::vector<shape> list = shapes();
    if (quick) list.resize(10);
    std::printf("| # | array R×C | S B/cyc | kind | m×n×k | acc | type | TLM cycles | RTL cycles | error | C | RTL, no exit tap |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    double worst = 0, tlm_s = 0, rtl_s = 0, tlm_cpu = 0, rtl_cpu = 0;
    uint64_t tlm_cyc = 0, rtl_cyc = 0;
    int idx = 0, bad = 0;
    std::mt19937_64 rng(21);
    for (const shape& s : list) {
        compute_params p;
        p.clusters = 1;
        p.array_rows = s.R;
        p.array_cols = s.C;
        p.sram_bytes = 4 << 20;
        p.sram_bytes_per_cycle = s.S;
        const std::string n = std::to_string(idx);
        sparse_store st_t(p.sram_bytes), st_r(p.sram_bytes);
        matrix_engine tlm(("tlm" + n).c_str(), p, st_t);
        rtl_matrix_engine rtl(("rtl" + n).c_str(), p, st_r);
        const uint32_t ie = s.dtype == AAX_DT_INT8 ? 1 : 2;
        aax_pkt_gemm g{};
        g.hdr.opcode = AAX_OP_GEMM;
        g.hdr.size_qw = sizeof(g) / 8;
        g.hdr.param = s.acc ? AAX_GEMM_ACCUMULATE : 0;
        g.dtype_in = s.dtype;
        g.dtype_out = s.dtype == AAX_DT_INT8 ? AAX_DT_INT32 : AAX_DT_FP32;
        g.dataflow = AAX_GEMM_DF_WS;
        g.m = s.m;
        g.n = s.n;
        g.k = s.k;
        g.a_addr = 0;
        g.b_addr = (s.m * s.k * ie + 63) / 64 * 64;
        g.c_addr = g.b_addr + (s.k * s.n * ie + 63) / 64 * 64;
        const uint64_t end = g.c_addr + uint64_t(s.m) * s.n * 4;
        std::vector<uint8_t> init(end);
        for (auto& x : init) x = static_cast<uint8_t>(rng() & (s.dtype == AAX_DT_INT8 ? 0xff : 0x3f));  // finite bf16
        st_t.write(0, init.data(), init.size());
        st_r.write(0, init.data(), init.size());
        uint8_t pk[sizeof g];
        std::memcpy(pk, &g, sizeof g);
        const std::clock_t c0 = std::clock();
        auto t0 = std::chrono::steady_clock::now();
        const auto a = tlm.execute(pk, false);
        auto t1 = std::chrono::steady_clock::now();
        const std::clock_t c1 = std::clock();
        const auto b = rtl.execute(pk, false);
        auto t2 = std::chrono::steady_clock::now();
        const std::clock_t c2 = std::clock();
        tlm_cpu += double(c1 - c0) / CLOCKS_PER_SEC;
        rtl_cpu += double(c2 - c1) / CLOCKS_PER_SEC;
        tlm_s += std::chrono::duration<double>(t1 - t0).count();
        rtl_s += std::chrono::duration<double>(t2 - t1).count();
        tlm_cyc += a.cycles;
        rtl_cyc += b.cycles;
        std::vector<uint8_t> ct(end), cr(end);
        st_t.read(0, ct.data(), end);
        st_r.read(0, cr.data(), end);
        // The same tile with the partial sums leaving from the array's last row.
        rtl::mxu_rtl bare;
        rtl::mxu_config cfg;
        cfg.rows = s.R;
        cfg.cols = s.C;
        cfg.sram_bytes_per_cycle = s.S;
        cfg.setup_cycles = p.gemm_setup_cycles;
        cfg.exit_tap = false;
        rtl::mxu_job j;
        j.m = s.m; j.n = s.n; j.k = s.k; j.lda = s.k; j.ldb = s.n; j.ldc = s.n;
        j.accumulate = s.acc;
        j.data = false;
        j.in_bytes = ie;
        const uint64_t notap = bare.run(cfg, j, nullptr);
        const double err = 100.0 * (double(a.cycles) - double(b.cycles)) / double(b.cycles);
        const double err_notap = 100.0 * (double(a.cycles) - double(notap)) / double(notap);
        worst = std::max(worst, std::fabs(err));
        const bool same = ct == cr && a.status == AAX_OK && b.status == AAX_OK;
        if (!same || std::fabs(err) > 2.0) ++bad;
        std::printf("| %d | %u×%u | %u | %s | %u×%u×%u | %s | %s | %llu | %llu | %+.2f %% | %s | %llu (%+.1f %%) |\n", idx,
                    s.R, s.C, s.S, s.kind, s.m, s.n, s.k, s.acc ? "yes" : "no", s.dtype == AAX_DT_INT8 ? "int8" : "bf16",
                    (unsigned long long)a.cycles, (unsigned long long)b.cycles, err,
                    same ? (s.dtype == AAX_DT_INT8 ? "bit-exact (RTL)" : "bit-exact (ref)") : "DIFFERS",
                    (unsigned long long)notap, err_notap);
        ++idx;
    }
    std::printf("\nshapes: %d, worst |error|: %.2f %%, failing (error > 2 %% or C differs): %d\n", idx, worst, bad);
    std::printf("speed (functional execute() of the same packets, %llu engine cycles for each model): wall: TLM %.3g cycles/s (%.3f s), "
                "RTL %.3g cycles/s (%.3f s), RTL/TLM %.0fx; CPU time: TLM %.3g cycles/s (%.3f s), RTL %.3g cycles/s "
                "(%.3f s), RTL/TLM %.0fx\n",
                (unsigned long long)rtl_cyc, tlm_cyc / tlm_s, tlm_s, rtl_cyc / rtl_s, rtl_s, rtl_s / tlm_s,
                tlm_cyc / std::max(tlm_cpu, 1e-6), tlm_cpu, rtl_cyc / std::max(rtl_cpu, 1e-6), rtl_cpu,
                rtl_cpu / std::max(tlm_cpu, 1e-6));
    return bad ? 1 : 0;
}
