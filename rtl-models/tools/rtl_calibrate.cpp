// Calibration of the TLM matrix engine against the RTL tile (tools/calibrate,
// docs/calibration.md): every shape runs through matrix_engine (compute.matrix.model=tlm) and
// rtl_matrix_engine (=rtl) on identical SRAM contents; prints one markdown row per shape with
// the TLM cycles, the RTL cycles, the error, whether C is bit-identical (INT8: computed by the
// RTL), the RTL cycles of an array without the partial-sum exit tap, and then the simulation
// speed of both. With --vector, the same for the vector engine (vector_engine against
// rtl_vector_engine, the RTL lane cluster). Usage: rtl_calibrate [--quick] [--vector]
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
#include "tlm/compute/vector_engine.h"
#include "vpu/rtl_vector_engine.h"

using namespace accelvp;

namespace {

struct shape {
    const char* kind;
    uint32_t R, C, S;
    uint32_t m, n, k;
    bool acc;
    uint8_t dtype;  // AAX_DT_INT8 or AAX_DT_BF16
    uint8_t df = AAX_GEMM_DF_WS;
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
    // Output-stationary: the same kinds, shaped for blocks of C (r of m x c of n, k streamed).
    for (const arr& a : arrays) {
        const uint32_t R = a.R, C = a.C;
        const uint8_t OS = AAX_GEMM_DF_OS;
        v.push_back({"square, one block", R, C, a.S, R, C, R, false, AAX_DT_INT8, OS});
        v.push_back({"square", R, C, a.S, 4 * R, 4 * C, 4 * R, false, AAX_DT_INT8, OS});
        v.push_back({"square, accumulate", R, C, a.S, 4 * R, 4 * C, 4 * R, true, AAX_DT_INT8, OS});
        v.push_back({"tall", R, C, a.S, 16 * R, C, 2 * R, false, AAX_DT_INT8, OS});
        v.push_back({"wide", R, C, a.S, R, 16 * C, R, false, AAX_DT_INT8, OS});
        v.push_back({"deep k", R, C, a.S, 2 * R, 2 * C, 512, true, AAX_DT_INT8, OS});
        v.push_back({"partial edges", R, C, a.S, 3 * R + 1, 2 * C + 3, 2 * R + 5, false, AAX_DT_INT8, OS});
        v.push_back({"partial edges, accumulate", R, C, a.S, 37, 2 * C + 1, R + 1, true, AAX_DT_INT8, OS});
        v.push_back({"tiny", R, C, a.S, 1, 1, 1, false, AAX_DT_INT8, OS});
        v.push_back({"bf16, partial", R, C, a.S, 2 * R + 3, 3 * C - 1, 3 * R - 2, true, AAX_DT_BF16, OS});
    }
    return v;
}

struct vshape {
    uint32_t lanes, depth, S;
    uint8_t op;
    uint32_t flags;
    uint8_t din, dout;
    uint32_t rows, cols;
};

const char* op_name(uint8_t op) {
    switch (op) {
    case AAX_VEC_ADD: return "ADD";
    case AAX_VEC_MUL: return "MUL";
    case AAX_VEC_MAX: return "MAX";
    case AAX_VEC_RELU: return "RELU";
    case AAX_VEC_ROW_SUM: return "ROW_SUM";
    case AAX_VEC_ROW_MAX: return "ROW_MAX";
    default: return "?";
    }
}
const char* b_name(uint32_t f) {
    return (f & AAX_VEC_B_SCALAR) ? ", b scalar" : (f & AAX_VEC_B_ROW) ? ", b row" : (f & AAX_VEC_B_COL) ? ", b col" : "";
}

std::vector<vshape> vshapes() {
    std::vector<vshape> v;
    struct cfg { uint32_t lanes, depth, S; };
    // default, edge, a narrow and a deep pipeline
    const cfg cfgs[] = {{64, 8, 256}, {16, 4, 64}, {8, 5, 16}, {32, 12, 128}};
    for (const cfg& c : cfgs) {
        const uint32_t L = c.lanes;
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_ADD, 0, AAX_DT_INT8, AAX_DT_INT8, 4 * L, 4 * L});
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_MUL, AAX_VEC_B_SCALAR, AAX_DT_INT8, AAX_DT_INT32, 512, L / 2 + 3});
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_MAX, AAX_VEC_B_ROW, AAX_DT_INT8, AAX_DT_INT8, 3, 40 * L + 7});
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_ADD, AAX_VEC_B_COL, AAX_DT_INT8, AAX_DT_FP32, 37, 3 * L - 5});
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_RELU, 0, AAX_DT_INT8, AAX_DT_INT8, 1, 1});
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_ROW_SUM, 0, AAX_DT_INT8, AAX_DT_INT32, 64, 4 * L});
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_ROW_MAX, 0, AAX_DT_INT8, AAX_DT_INT8, 200, L / 2 + 1});
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_ROW_SUM, 0, AAX_DT_INT8, AAX_DT_FP32, 1, 1});
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_ADD, 0, AAX_DT_BF16, AAX_DT_BF16, 2 * L + 1, 2 * L + 1});
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_ROW_MAX, 0, AAX_DT_BF16, AAX_DT_FP32, 33, 5 * L});
        v.push_back({c.lanes, c.depth, c.S, AAX_VEC_MUL, 0, AAX_DT_FP32, AAX_DT_FP32, 16, 16 * L});
    }
    // A port narrower than one group's reads (16 lanes of fp32 = 64 B against 16 B per cycle):
    // the reads pace the issue.
    v.push_back({16, 4, 16, AAX_VEC_ADD, 0, AAX_DT_FP32, AAX_DT_FP32, 1, 16});
    v.push_back({16, 4, 16, AAX_VEC_ADD, 0, AAX_DT_FP32, AAX_DT_FP32, 40, 100});
    v.push_back({16, 4, 16, AAX_VEC_ROW_SUM, 0, AAX_DT_FP32, AAX_DT_FP32, 1, 64});
    v.push_back({16, 4, 16, AAX_VEC_ROW_SUM, 0, AAX_DT_FP32, AAX_DT_FP32, 40, 100});
    v.push_back({16, 4, 16, AAX_VEC_ROW_MAX, 0, AAX_DT_FP32, AAX_DT_FP32, 8, 1000});
    // Small read-bound packets on the default and edge ports (a group of fp32 a and b is twice
    // the port's bytes per cycle): the last group's pipeline drains after its reads, longer
    // than the port takes for the results; broadcast operands read in the first row or group.
    v.push_back({64, 8, 256, AAX_VEC_ADD, 0, AAX_DT_FP32, AAX_DT_FP32, 1, 64});
    v.push_back({16, 4, 64, AAX_VEC_MUL, AAX_VEC_B_ROW, AAX_DT_FP32, AAX_DT_FP32, 2, 40});
    v.push_back({16, 4, 64, AAX_VEC_ADD, AAX_VEC_B_COL, AAX_DT_FP32, AAX_DT_BF16, 5, 16});
    v.push_back({64, 8, 256, AAX_VEC_MAX, AAX_VEC_B_SCALAR, AAX_DT_BF16, AAX_DT_BF16, 7, 100});
    v.push_back({16, 4, 16, AAX_VEC_ROW_MAX, 0, AAX_DT_BF16, AAX_DT_FP32, 12, 24});
    return v;
}

const char* dt(uint8_t d) {
    switch (d) {
    case AAX_DT_INT8: return "int8";
    case AAX_DT_INT32: return "int32";
    case AAX_DT_FP32: return "fp32";
    case AAX_DT_BF16: return "bf16";
    default: return "?";
    }
}

// Runs each packet through the TLM and the RTL engine on identical SRAM contents, and keeps
// the totals the speed line reports.
struct side_by_side {
    double tlm_s = 0, rtl_s = 0, tlm_cpu = 0, rtl_cpu = 0;
    uint64_t tlm_cyc = 0, rtl_cyc = 0;

    struct outcome {
        compute_engine::result a, b;  // TLM, RTL
        std::vector<uint8_t> yt, yr;  // SRAM [0, init.size()) afterwards: TLM, RTL
    };

    outcome run(compute_engine& tlm, compute_engine& rtl, sparse_store& st_t, sparse_store& st_r, const uint8_t* pk,
                const std::vector<uint8_t>& init) {
        st_t.write(0, init.data(), init.size());
        st_r.write(0, init.data(), init.size());
        outcome o;
        const std::clock_t c0 = std::clock();
        auto t0 = std::chrono::steady_clock::now();
        o.a = tlm.execute(pk, false);
        auto t1 = std::chrono::steady_clock::now();
        const std::clock_t c1 = std::clock();
        o.b = rtl.execute(pk, false);
        auto t2 = std::chrono::steady_clock::now();
        const std::clock_t c2 = std::clock();
        tlm_cpu += double(c1 - c0) / CLOCKS_PER_SEC;
        rtl_cpu += double(c2 - c1) / CLOCKS_PER_SEC;
        tlm_s += std::chrono::duration<double>(t1 - t0).count();
        rtl_s += std::chrono::duration<double>(t2 - t1).count();
        tlm_cyc += o.a.cycles;
        rtl_cyc += o.b.cycles;
        o.yt.resize(init.size());
        o.yr.resize(init.size());
        st_t.read(0, o.yt.data(), init.size());
        st_r.read(0, o.yr.data(), init.size());
        return o;
    }

    void print_speed() const {
        std::printf("speed (functional execute() of the same packets, %llu engine cycles for each model): wall: TLM %.3g "
                    "cycles/s (%.3f s), RTL %.3g cycles/s (%.3f s), RTL/TLM %.0fx; CPU time: TLM %.3g cycles/s (%.3f s), "
                    "RTL %.3g cycles/s (%.3f s), RTL/TLM %.0fx\n",
                    (unsigned long long)rtl_cyc, tlm_cyc / tlm_s, tlm_s, rtl_cyc / rtl_s, rtl_s, rtl_s / tlm_s,
                    tlm_cyc / std::max(tlm_cpu, 1e-6), tlm_cpu, rtl_cyc / std::max(rtl_cpu, 1e-6), rtl_cpu,
                    rtl_cpu / std::max(tlm_cpu, 1e-6));
    }
};

int vector_table(bool quick) {
    std::vector<vshape> list = vshapes();
    if (quick) list.resize(11);
    std::printf("| # | lanes | depth | S B/cyc | op | rows×cols | types | TLM cycles | RTL cycles | error | result |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    double worst = 0;
    side_by_side runs;
    int idx = 0, bad = 0;
    std::mt19937_64 rng(22);
    for (const vshape& s : list) {
        compute_params p;
        p.clusters = 1;
        p.sram_bytes = 4 << 20;
        p.sram_bytes_per_cycle = s.S;
        p.vector_lanes = s.lanes;
        p.vector_depth = s.depth;
        const std::string n = std::to_string(idx);
        sparse_store st_t(p.sram_bytes), st_r(p.sram_bytes);
        vector_engine tlm(("vtlm" + n).c_str(), p, st_t);
        rtl_vector_engine rtl(("vrtl" + n).c_str(), p, st_r);
        aax_pkt_vec v{};
        v.hdr.opcode = AAX_OP_VEC;
        v.hdr.size_qw = sizeof(v) / 8;
        v.hdr.param = s.flags;
        v.op = s.op;
        v.dtype = s.din;
        v.dtype_out = s.dout;
        v.rows = s.rows;
        v.cols = s.cols;
        const uint32_t ie = s.din == AAX_DT_INT8 ? 1 : s.din == AAX_DT_BF16 ? 2 : 4;
        const uint64_t abytes = uint64_t(s.rows) * s.cols * ie;
        v.src0 = 0;
        v.src1 = static_cast<uint32_t>((abytes + 63) / 64 * 64);
        v.dst = v.src1 + static_cast<uint32_t>((abytes + 63) / 64 * 64);
        const float three = 3.0f;
        std::memcpy(&v.scalar, &three, 4);
        const uint64_t end = v.dst + uint64_t(s.rows) * s.cols * 4;
        std::vector<uint8_t> init(end);
        for (auto& x : init) x = static_cast<uint8_t>(rng() & (s.din == AAX_DT_INT8 ? 0xff : 0xbf));  // finite floats
        uint8_t pk[sizeof v];
        std::memcpy(pk, &v, sizeof v);
        const auto [a, b, yt, yr] = runs.run(tlm, rtl, st_t, st_r, pk, init);
        const double err = 100.0 * (double(a.cycles) - double(b.cycles)) / double(b.cycles);
        worst = std::max(worst, std::fabs(err));
        const bool same = yt == yr && a.status == AAX_OK && b.status == AAX_OK && rtl.rtl_packets() == 1;
        if (!same || std::fabs(err) > 2.0) ++bad;
        std::printf("| %d | %u | %u | %u | %s%s | %u×%u | %s → %s | %llu | %llu | %+.2f %% | %s |\n", idx, s.lanes, s.depth,
                    s.S, op_name(s.op), b_name(s.flags), s.rows, s.cols, dt(s.din), dt(s.dout),
                    (unsigned long long)a.cycles, (unsigned long long)b.cycles, err,
                    !same ? "DIFFERS" : rtl.rtl_data_packets() ? "bit-exact (RTL)" : "bit-exact (ref)");
        ++idx;
    }
    std::printf("\nshapes: %d, worst |error|: %.2f %%, failing (error > 2 %% or result differs): %d\n", idx, worst, bad);
    runs.print_speed();
    return bad ? 1 : 0;
}

} // namespace

int sc_main(int argc, char** argv) {
    bool quick = false, vector = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") quick = true;
        else if (a == "--vector") vector = true;
        else {
            std::fprintf(stderr, "rtl_calibrate: unknown argument '%s' (valid: --quick, --vector)\n", argv[i]);
            return 2;
        }
    }
    if (vector) return vector_table(quick);
    std::vector<shape> list = shapes();
    if (quick) list.resize(10);
    std::printf("| # | dataflow | array R×C | S B/cyc | kind | m×n×k | acc | type | TLM cycles | RTL cycles | error | C | RTL, no exit tap |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    double worst = 0;
    side_by_side runs;
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
        g.dataflow = s.df;
        g.m = s.m;
        g.n = s.n;
        g.k = s.k;
        g.a_addr = 0;
        g.b_addr = (s.m * s.k * ie + 63) / 64 * 64;
        g.c_addr = g.b_addr + (s.k * s.n * ie + 63) / 64 * 64;
        const uint64_t end = g.c_addr + uint64_t(s.m) * s.n * 4;
        std::vector<uint8_t> init(end);
        for (auto& x : init) x = static_cast<uint8_t>(rng() & (s.dtype == AAX_DT_INT8 ? 0xff : 0x3f));  // finite bf16
        uint8_t pk[sizeof g];
        std::memcpy(pk, &g, sizeof g);
        const auto [a, b, ct, cr] = runs.run(tlm, rtl, st_t, st_r, pk, init);
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
        const bool ws = s.df == AAX_GEMM_DF_WS;
        const uint64_t notap = ws ? bare.run(cfg, j, nullptr) : 0;
        const double err = 100.0 * (double(a.cycles) - double(b.cycles)) / double(b.cycles);
        const double err_notap = 100.0 * (double(a.cycles) - double(notap)) / double(notap);
        worst = std::max(worst, std::fabs(err));
        const bool same = ct == cr && a.status == AAX_OK && b.status == AAX_OK;
        if (!same || std::fabs(err) > 2.0) ++bad;
        char notap_s[64] = "—";
        if (ws) std::snprintf(notap_s, sizeof notap_s, "%llu (%+.1f %%)", (unsigned long long)notap, err_notap);
        std::printf("| %d | %s | %u×%u | %u | %s | %u×%u×%u | %s | %s | %llu | %llu | %+.2f %% | %s | %s |\n", idx,
                    ws ? "WS" : "OS", s.R, s.C, s.S, s.kind, s.m, s.n, s.k, s.acc ? "yes" : "no", s.dtype == AAX_DT_INT8 ? "int8" : "bf16",
                    (unsigned long long)a.cycles, (unsigned long long)b.cycles, err,
                    same ? (s.dtype == AAX_DT_INT8 ? "bit-exact (RTL)" : "bit-exact (ref)") : "DIFFERS", notap_s);
        ++idx;
    }
    std::printf("\nshapes: %d, worst |error|: %.2f %%, failing (error > 2 %% or C differs): %d\n", idx, worst, bad);
    runs.print_speed();
    return bad ? 1 : 0;
}
