// Compute engines (tlm/compute): single-tile cycles against the systolic formulas of
// docs/compute.md, bit-exact data against the num:: references, packet errors, and
// identical cycles in timing mode.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include <systemc>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include "tlm/compute/compute_cluster.h"
#include "tlm/compute/numerics.h"
#include "tlm/core/extensions.h"

using namespace accelvp;

namespace {

compute_params small_params() {
    compute_params p;
    p.clusters = 2;
    p.array_rows = 8;
    p.array_cols = 4;
    p.freq_mhz = 1000;  // 1 cycle = 1 ns
    p.sram_bytes = 1 << 20;
    p.sram_bytes_per_cycle = 16;
    p.vector_lanes = 8;
    p.vector_depth = 5;
    p.gemm_setup_cycles = 7;
    p.vector_setup_cycles = 3;
    return p;
}

uint64_t cdiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// Sends packets through the router from a SystemC thread and records delay and status.
struct driver : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<driver> out{"out"};
    tlm_utils::multi_passthrough_initiator_socket<driver> mem{"mem"};  // stands in for the chip bus
    std::vector<std::vector<uint8_t>> packets;
    std::vector<uint64_t> delays_ps;
    std::vector<uint8_t> status;
    bool timing_only = false;
    SC_HAS_PROCESS(driver);
    driver(sc_core::sc_module_name n, compute_complex& cc) : sc_module(n) {
        SC_THREAD(run);
        out.bind(cc.router.cmd_socket);
        for (auto& c : cc.clusters) mem.bind(c->sram.socket);
    }
    void run() {
        for (auto& p : packets) {
            tlm::tlm_generic_payload t;
            command_ext ext;
            timing_only_ext tex;
            init_payload(t, tlm::TLM_WRITE_COMMAND, 0, p.data(), static_cast<uint32_t>(p.size()));
            extension_guard<command_ext> g(t, &ext);
            extension_guard<timing_only_ext> g2(t, timing_only ? &tex : nullptr);
            sc_core::sc_time d = sc_core::SC_ZERO_TIME;
            out->b_transport(t, d);
            delays_ps.push_back(d.value());
            status.push_back(ext.status);
            sc_core::wait(d);
        }
    }
};

template <typename P>
std::vector<uint8_t> bytes_of(P p, uint8_t op, uint16_t qw, uint32_t param = 0) {
    p.hdr.opcode = op;
    p.hdr.size_qw = qw;
    p.hdr.param = param;
    std::vector<uint8_t> v(sizeof(P));
    std::memcpy(v.data(), &p, sizeof(P));
    return v;
}

aax_pkt_gemm gemm_pkt(uint32_t m, uint32_t n, uint32_t k, uint8_t in, uint8_t out, uint8_t df = AAX_GEMM_DF_DEFAULT) {
    aax_pkt_gemm g{};
    g.m = m;
    g.n = n;
    g.k = k;
    g.dtype_in = in;
    g.dtype_out = out;
    g.dataflow = df;
    g.a_addr = 0;
    g.b_addr = 0x10000;
    g.c_addr = 0x20000;
    return g;
}

std::vector<uint8_t> random_operand(num::dtype t, size_t count, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> out(count * num::dtype_size(t));
    if (t == num::dtype::int8 || t == num::dtype::int32) {
        for (auto& b : out) b = static_cast<uint8_t>(rng());
        return out;
    }
    std::uniform_real_distribution<float> d(-3.0f, 3.0f);
    std::vector<float> f(count);
    for (auto& x : f) x = d(rng);
    num::from_f32(t, f.data(), out.data(), count);
    return out;
}

// Independent block-by-block evaluation of the docs/compute.md formulas (the engine sums
// over block classes in O(1); this walks every block).
// q = MACs per PE per cycle: a weight block holds R*q rows of k and fills in R cycles.
// With p.block_pipelining a block streams without its own fill and drain; the array fills and
// drains once, after the last block.
uint64_t ws_reference(const compute_params& p, uint64_t m, uint64_t n, uint64_t k, uint64_t ie, uint64_t oe, bool acc,
                      uint64_t q = 1) {
    const uint64_t R = p.array_rows * q, C = p.array_cols, S = p.sram_bytes_per_cycle;
    struct blk { uint64_t r, c; bool first, last; };
    std::vector<blk> b;
    for (uint64_t n0 = 0; n0 < n; n0 += C)
        for (uint64_t k0 = 0; k0 < k; k0 += R)
            b.push_back({std::min(R, k - k0), std::min(C, n - n0), k0 == 0, k0 + R >= k});
    auto L = [&](const blk& x) { return std::max(cdiv(x.r, q), cdiv(x.r * x.c * ie, S)); };
    auto P = [&](const blk& x) {
        uint64_t bytes = m * x.r * ie + (x.last ? m * x.c * oe : 0) + (x.first && acc ? m * x.c * oe : 0);
        return std::max(m, cdiv(bytes, S)) + (p.block_pipelining ? 0 : cdiv(x.r, q) + x.c - 1);
    };
    uint64_t t = p.gemm_setup_cycles + L(b[0]);
    for (size_t i = 0; i < b.size(); ++i) t += std::max(P(b[i]), i + 1 < b.size() ? L(b[i + 1]) : 0);
    if (p.block_pipelining) t += cdiv(b.back().r, q) + b.back().c - 1;
    return t;
}

uint64_t os_reference(const compute_params& p, uint64_t m, uint64_t n, uint64_t k, uint64_t ie, uint64_t oe, bool acc,
                      uint64_t q = 1) {
    const uint64_t R = p.array_rows, C = p.array_cols, S = p.sram_bytes_per_cycle;
    std::vector<std::pair<uint64_t, uint64_t>> b;
    for (uint64_t m0 = 0; m0 < m; m0 += R)
        for (uint64_t n0 = 0; n0 < n; n0 += C) b.push_back({std::min(R, m - m0), std::min(C, n - n0)});
    auto P = [&](uint64_t r, uint64_t c) {
        return std::max(cdiv(k, q), cdiv((r + c) * k * ie, S)) + (p.block_pipelining ? 0 : r + c - 1);
    };
    auto D = [&](uint64_t r, uint64_t c) { return std::max(r, cdiv(r * c * oe * (acc ? 2 : 1), S)); };
    uint64_t t = p.gemm_setup_cycles;
    for (size_t i = 0; i < b.size(); ++i)
        t += std::max(P(b[i].first, b[i].second), i ? D(b[i - 1].first, b[i - 1].second) : 0);
    if (p.block_pipelining) t += b.back().first + b.back().second - 1;
    return t + D(b.back().first, b.back().second);
}

} // namespace

TEST_CASE("compute: a single weight-stationary tile takes the systolic formula's cycles exactly", "[compute][timing]") {
    const compute_params p = small_params();
    compute_complex cc("cc", p);
    driver d("d", cc);
    // m=50 rows of A stream through one 6 x 3 weight block (bf16 in, fp32 out).
    d.packets.push_back(bytes_of(gemm_pkt(50, 3, 6, AAX_DT_BF16, AAX_DT_FP32, AAX_GEMM_DF_WS), AAX_OP_GEMM, 7));
    sc_core::sc_start();
    // setup + load + stream + fill/drain:
    // load = max(r, ceil(r*c*2/S)) = max(6, 3) = 6; stream = max(m, ceil((m*r*2 + m*c*4)/S)) = max(50, 75) = 75
    const uint64_t load = std::max<uint64_t>(6, cdiv(6 * 3 * 2, 16));
    const uint64_t stream = std::max<uint64_t>(50, cdiv(50 * 6 * 2 + 50 * 3 * 4, 16));
    const uint64_t cycles = 7 + load + stream + 6 + 3 - 1;
    REQUIRE(cycles == 7 + 6 + 75 + 8);
    REQUIRE(d.status[0] == AAX_OK);
    REQUIRE(d.delays_ps[0] == cycles * 1000);
    REQUIRE(cc.clusters[0]->mxu.busy_cycles() == cycles);
}

TEST_CASE("compute: a single output-stationary tile takes the systolic formula's cycles exactly", "[compute][timing]") {
    const compute_params p = small_params();
    compute_complex cc("cc", p);
    driver d("d", cc);
    // One 5 x 4 output block, k = 40 (fp8 in, fp32 out), on cluster 1.
    aax_pkt_gemm g = gemm_pkt(5, 4, 40, AAX_DT_FP8_E4M3, AAX_DT_FP32, AAX_GEMM_DF_OS);
    g.cluster = 1;
    d.packets.push_back(bytes_of(g, AAX_OP_GEMM, 7));
    sc_core::sc_start();
    // run = max(k, ceil((r+c)*k/S)) + r + c - 1 = max(40, 23) + 8 = 48; drain = max(r, ceil(r*c*4/S)) = max(5, 5) = 5
    const uint64_t cycles = 7 + (40 + 5 + 4 - 1) + std::max<uint64_t>(5, cdiv(5 * 4 * 4, 16));
    REQUIRE(d.status[0] == AAX_OK);
    REQUIRE(d.delays_ps[0] == cycles * 1000);
    REQUIRE(cc.clusters[1]->mxu.busy_cycles() == cycles);
    REQUIRE(cc.clusters[0]->mxu.busy_cycles() == 0);
}

TEST_CASE("compute: with block pipelining a multi-block GEMM fills and drains the array once", "[compute][timing]") {
    compute_params p = small_params();  // R = 8, C = 4, S = 16, setup 7
    p.block_pipelining = true;
    compute_complex cc("cc", p);
    driver d("d", cc);
    // WS, bf16 -> fp32: m = 50, n = 8 (two column blocks of 4), k = 16 (two k blocks of 8).
    d.packets.push_back(bytes_of(gemm_pkt(50, 8, 16, AAX_DT_BF16, AAX_DT_FP32, AAX_GEMM_DF_WS), AAX_OP_GEMM, 7));
    // OS, fp8 -> fp32: m = 10 (row blocks of 8 and 2), n = 4, k = 40.
    d.packets.push_back(bytes_of(gemm_pkt(10, 4, 40, AAX_DT_FP8_E4M3, AAX_DT_FP32, AAX_GEMM_DF_OS), AAX_OP_GEMM, 7));
    sc_core::sc_start();
    // WS blocks (n-outer, k-inner): every load L = max(8, ceil(8*4*2/16)) = 8; streams
    // T = max(50, ceil(bytes/16)): first k block A only 50*8*2 = 800 B -> 50, last k block
    // + C 50*4*4 = 800 B -> 100. Total = setup + L_1 + sum max(T_b, L_b+1) + one fill/drain
    // (r + c - 1 = 11 of the last block) = 7 + 8 + (50 + 100 + 50 + 100) + 11 = 326,
    // against 7 + 8 + 300 + 4 * 11 = 359 when every block fills and drains.
    const uint64_t ws = 7 + 8 + (50 + 100 + 50 + 100) + (8 + 4 - 1);
    REQUIRE(ws == 326);
    // OS blocks: stream max(40, ceil((r+c)*40/16)) = 40 each; drains D = max(r, ceil(r*4*4/16)):
    // 8 then 2. Total = setup + 40 + max(40, D_1) + one fill/drain of the last block (2 + 4 - 1)
    // + D_N = 7 + 40 + 40 + 5 + 2 = 94.
    const uint64_t os = 7 + 40 + std::max<uint64_t>(40, 8) + (2 + 4 - 1) + 2;
    REQUIRE(os == 94);
    REQUIRE(d.status[0] == AAX_OK);
    REQUIRE(d.status[1] == AAX_OK);
    REQUIRE(d.delays_ps[0] == ws * 1000);
    REQUIRE(d.delays_ps[1] == os * 1000);
    REQUIRE(ws_reference(p, 50, 8, 16, 2, 4, false) == ws);
    REQUIRE(os_reference(p, 10, 4, 40, 1, 4, false) == os);
    compute_params drained = p;
    drained.block_pipelining = false;
    REQUIRE(gemm_cycles(drained, dataflow::weight_stationary, gemm_shape{50, 8, 16, 2, 4, false, 1}) == 359);
    REQUIRE(cc.clusters[0]->mxu.busy_cycles() == ws + os);
}

TEST_CASE("compute: multi-block GEMM cycles equal the block-by-block formula for both dataflows", "[compute][timing]") {
    compute_params p = small_params();
    std::mt19937 rng(7);
    for (int i = 0; i < 300; ++i) {
        p.sram_bytes_per_cycle = 1u << (rng() % 7);
        p.block_pipelining = i % 2;
        const uint64_t m = 1 + rng() % 70, n = 1 + rng() % 40, k = 1 + rng() % 90;
        const uint64_t ie = 1u << (rng() % 3), oe = rng() % 2 ? 4 : 2;
        const bool acc = rng() % 2;
        const gemm_shape s{m, n, k, static_cast<uint32_t>(ie), static_cast<uint32_t>(oe), acc};
        INFO(m << "x" << n << "x" << k << " ie " << ie << " oe " << oe << " acc " << acc << " pipelined "
                << p.block_pipelining);
        REQUIRE(gemm_cycles(p, dataflow::weight_stationary, s) == ws_reference(p, m, n, k, ie, oe, acc));
        REQUIRE(gemm_cycles(p, dataflow::output_stationary, s) == os_reference(p, m, n, k, ie, oe, acc));
    }
}

TEST_CASE("compute: with 2 MACs per PE per cycle a GEMM takes the rate-q formula's cycles", "[compute][timing]") {
    compute_params p = small_params();
    std::mt19937 rng(11);
    for (int i = 0; i < 300; ++i) {
        p.sram_bytes_per_cycle = 1u << (rng() % 7);
        p.block_pipelining = i % 3 == 0;
        const uint64_t m = 1 + rng() % 70, n = 1 + rng() % 40, k = 1 + rng() % 90, q = 1 + rng() % 4;
        const bool acc = rng() % 2;
        const gemm_shape s{m, n, k, 1, 4, acc, static_cast<uint32_t>(q)};
        INFO(m << "x" << n << "x" << k << " q " << q << " acc " << acc << " pipelined " << p.block_pipelining);
        REQUIRE(gemm_cycles(p, dataflow::weight_stationary, s) == ws_reference(p, m, n, k, 1, 4, acc, q));
        REQUIRE(gemm_cycles(p, dataflow::output_stationary, s) == os_reference(p, m, n, k, 1, 4, acc, q));
    }
    // Large streaming GEMMs approach q times the rate-1 throughput (fill and drain aside).
    p.sram_bytes_per_cycle = 1 << 16;
    p.block_pipelining = false;
    const gemm_shape one{4096, 64, 4096, 1, 4, false, 1}, two{4096, 64, 4096, 1, 4, false, 2};
    const double ratio = static_cast<double>(gemm_cycles(p, dataflow::weight_stationary, one)) /
                         static_cast<double>(gemm_cycles(p, dataflow::weight_stationary, two));
    CHECK(ratio > 1.99);
    CHECK(ratio <= 2.0);
}

TEST_CASE("compute: the engine charges an INT8 packet at compute.macs_per_pe.int8", "[compute][timing]") {
    compute_params p = small_params();
    p.rate_int8 = 2;
    compute_complex cc("cc", p);
    driver d("d", cc);
    d.packets.push_back(bytes_of(gemm_pkt(50, 3, 16, AAX_DT_INT8, AAX_DT_INT32, AAX_GEMM_DF_WS), AAX_OP_GEMM, 7));
    d.packets.push_back(bytes_of(gemm_pkt(50, 3, 16, AAX_DT_BF16, AAX_DT_FP32, AAX_GEMM_DF_WS), AAX_OP_GEMM, 7));
    sc_core::sc_start();
    REQUIRE(d.status[0] == AAX_OK);
    REQUIRE(d.status[1] == AAX_OK);
    // int8 at q=2: one block of 16 rows of k (R=8, 2 per PE); bf16 at q=1: two blocks of 8.
    const uint64_t i8 = ws_reference(p, 50, 3, 16, 1, 4, false, 2), b16 = ws_reference(p, 50, 3, 16, 2, 4, false, 1);
    REQUIRE(p.array_rows == 8);
    REQUIRE(d.delays_ps[0] == i8 * 1000);
    REQUIRE(d.delays_ps[1] == b16 * 1000);
    REQUIRE(i8 < b16);
}

TEST_CASE("compute: GEMM results are bit-exact against num::gemm_ref for every input type", "[compute][numerics]") {
    compute_params p = small_params();
    p.block_pipelining = true;  // a timing parameter: the data must not depend on it
    compute_complex cc("cc", p);
    auto& sram = cc.clusters[0]->sram.store();
    auto& mxu = cc.clusters[0]->mxu;
    const num::dtype types[] = {num::dtype::bf16, num::dtype::fp16, num::dtype::fp8_e4m3, num::dtype::fp8_e5m2,
                                num::dtype::int8, num::dtype::fp32};
    uint64_t seed = 1;
    for (num::dtype t : types) {
        for (int variant = 0; variant < 4; ++variant) {
            const bool bt = variant & 1, acc = variant & 2;
            const uint32_t m = 13, n = 11, k = 37, lda = 41, ldb = bt ? 39 : 12, ldc = 14;
            const size_t e = num::dtype_size(t);
            const num::dtype acc_t = num::gemm_acc_type(t);
            // Output in bf16 for float inputs with accumulate: the accumulator starts from C widened.
            const num::dtype out = (acc && acc_t == num::dtype::fp32) ? num::dtype::bf16 : acc_t;
            const size_t oe = num::dtype_size(out);
            auto A = random_operand(t, size_t(m) * lda, seed++);
            auto Bm = random_operand(t, size_t(bt ? n : k) * ldb, seed++);
            auto C0 = random_operand(out, size_t(m) * ldc, seed++);
            sram.write(0, A.data(), A.size());
            sram.write(0x10000, Bm.data(), Bm.size());
            sram.write(0x20000, C0.data(), C0.size());
            aax_pkt_gemm g = gemm_pkt(m, n, k, static_cast<uint8_t>(t), static_cast<uint8_t>(out));
            g.lda = lda;
            g.ldb = ldb;
            g.ldc = ldc;
            g.hdr.param = (bt ? AAX_GEMM_B_TRANS : 0) | (acc ? AAX_GEMM_ACCUMULATE : 0);
            std::vector<uint8_t> pk(sizeof g);
            std::memcpy(pk.data(), &g, sizeof g);
            INFO(num::dtype_name(t) << " variant " << variant);
            REQUIRE(mxu.execute(pk.data(), false).status == AAX_OK);

            // Reference: dense B (k x n), accumulator from C widened, gemm_ref, then rounded to out.
            std::vector<uint8_t> B(size_t(k) * n * e);
            for (uint32_t kk = 0; kk < k; ++kk)
                for (uint32_t nn = 0; nn < n; ++nn)
                    std::memcpy(&B[(size_t(kk) * n + nn) * e], &Bm[(bt ? size_t(nn) * ldb + kk : size_t(kk) * ldb + nn) * e], e);
            std::vector<float> Cacc(size_t(m) * ldc);
            if (out == acc_t) std::memcpy(Cacc.data(), C0.data(), C0.size());
            else num::to_f32(out, C0.data(), Cacc.data(), Cacc.size());
            num::gemm_ref(t, A.data(), B.data(), Cacc.data(), m, n, k, lda, n, ldc, acc);
            std::vector<uint8_t> want(C0.size());
            if (out == acc_t) std::memcpy(want.data(), Cacc.data(), want.size());
            else num::from_f32(out, Cacc.data(), want.data(), Cacc.size());
            std::vector<uint8_t> got(C0.size());
            sram.read(0x20000, got.data(), got.size());
            for (uint32_t r = 0; r < m; ++r)  // columns past n keep their old contents
                REQUIRE(std::memcmp(&got[size_t(r) * ldc * oe], &want[size_t(r) * ldc * oe], n * oe) == 0);
            for (uint32_t r = 0; r < m; ++r)
                REQUIRE(std::memcmp(&got[(size_t(r) * ldc + n) * oe], &C0[(size_t(r) * ldc + n) * oe], (ldc - n) * oe) == 0);
        }
    }
}

TEST_CASE("compute: vector ops are bit-exact against the num:: references", "[compute][numerics]") {
    const compute_params p = small_params();
    compute_complex cc("cc", p);
    auto& sram = cc.clusters[0]->sram.store();
    auto& vpu = cc.clusters[0]->vpu;
    const uint32_t rows = 7, cols = 19, ld = 23;
    const num::dtype t = num::dtype::bf16, out = num::dtype::fp16;
    auto A = random_operand(t, rows * ld, 11), Bm = random_operand(t, rows * ld, 12), Cm = random_operand(t, rows * ld, 13);
    sram.write(0x0, A.data(), A.size());
    sram.write(0x1000, Bm.data(), Bm.size());
    sram.write(0x2000, Cm.data(), Cm.size());
    // Dense fp32 views of the operands.
    auto dense = [&](const std::vector<uint8_t>& raw, uint32_t r, uint32_t c, uint32_t stride) {
        std::vector<float> all(raw.size() / 2), x(size_t(r) * c);
        num::to_f32(t, raw.data(), all.data(), all.size());
        for (uint32_t i = 0; i < r; ++i)
            for (uint32_t j = 0; j < c; ++j) x[size_t(i) * c + j] = all[size_t(i) * stride + j];
        return x;
    };
    const auto a = dense(A, rows, cols, ld), b = dense(Bm, rows, cols, ld), c = dense(Cm, rows, cols, ld);
    const auto brow = dense(Bm, 1, cols, ld), crow = dense(Cm, 1, cols, ld);
    const float scalar = 0.7f, eps = 1e-3f;
    uint32_t sbits, ebits;
    std::memcpy(&sbits, &scalar, 4);
    std::memcpy(&ebits, &eps, 4);
    const size_t n = size_t(rows) * cols;

    struct tc {
        unsigned op;
        uint32_t flags;
        std::vector<float> want;  // fp32 result, dense
        uint32_t out_rows, out_cols;
    };
    std::vector<tc> cases;
    auto add = [&](unsigned op, uint32_t flags, std::vector<float> w, uint32_t r = 0, uint32_t cl = 0) {
        cases.push_back({op, flags, std::move(w), r ? r : rows, cl ? cl : cols});
    };
    std::vector<float> y(n), full_b(n), full_c(n);
    num::vadd(a.data(), b.data(), y.data(), n); add(AAX_VEC_ADD, 0, y);
    num::vmul(a.data(), b.data(), y.data(), n); add(AAX_VEC_MUL, 0, y);
    num::vmax(a.data(), b.data(), y.data(), n); add(AAX_VEC_MAX, 0, y);
    num::vfma(a.data(), b.data(), c.data(), y.data(), n); add(AAX_VEC_FMA, 0, y);
    for (size_t i = 0; i < n; ++i) full_b[i] = scalar;
    num::vmul(a.data(), full_b.data(), y.data(), n); add(AAX_VEC_MUL, AAX_VEC_B_SCALAR, y);
    for (size_t i = 0; i < n; ++i) full_b[i] = brow[i % cols], full_c[i] = crow[i % cols];
    num::vadd(a.data(), full_b.data(), y.data(), n); add(AAX_VEC_ADD, AAX_VEC_B_ROW, y);
    num::vfma(a.data(), full_b.data(), full_c.data(), y.data(), n); add(AAX_VEC_FMA, AAX_VEC_B_ROW | AAX_VEC_C_ROW, y);
    for (size_t i = 0; i < n; ++i) full_b[i] = b[(i / cols) * cols];  // B_COL: b[r] = row r's first element (stride ld)
    num::vmul(a.data(), full_b.data(), y.data(), n); add(AAX_VEC_MUL, AAX_VEC_B_COL, y);
    num::vrelu(a.data(), y.data(), n); add(AAX_VEC_RELU, 0, y);
    num::vgelu(a.data(), y.data(), n); add(AAX_VEC_GELU, 0, y);
    num::vexp(a.data(), y.data(), n); add(AAX_VEC_EXP, 0, y);
    num::vrecip(a.data(), y.data(), n); add(AAX_VEC_RECIP, 0, y);
    add(AAX_VEC_CONVERT, 0, a);
    num::softmax_rows(a.data(), y.data(), rows, cols); add(AAX_VEC_SOFTMAX, 0, y);
    num::layernorm_rows(a.data(), y.data(), rows, cols, eps, nullptr, nullptr); add(AAX_VEC_LAYERNORM, 0, y);
    num::layernorm_rows(a.data(), y.data(), rows, cols, eps, brow.data(), crow.data());
    add(AAX_VEC_LAYERNORM, AAX_VEC_AFFINE, y);
    std::vector<float> red(rows);
    num::row_sum(a.data(), red.data(), rows, cols); add(AAX_VEC_ROW_SUM, 0, red, rows, 1);
    num::row_max(a.data(), red.data(), rows, cols); add(AAX_VEC_ROW_MAX, 0, red, rows, 1);

    for (const tc& k : cases) {
        INFO("op " << aax_vec_op_name(k.op) << " flags " << k.flags);
        aax_pkt_vec v{};
        v.hdr.opcode = AAX_OP_VEC;
        v.hdr.size_qw = AAX_PKT_VEC_QW;
        v.hdr.param = k.flags;
        v.op = static_cast<uint8_t>(k.op);
        v.dtype = static_cast<uint8_t>(t);
        v.dtype_out = static_cast<uint8_t>(out);
        v.rows = rows;
        v.cols = cols;
        v.src0 = 0;
        v.src1 = 0x1000;
        v.src2 = 0x2000;
        v.dst = 0x8000;
        v.src0_stride = v.src1_stride = v.src2_stride = ld;
        v.dst_stride = k.out_cols == 1 ? 2 : 0;  // reductions: every other element
        v.scalar = sbits;
        v.eps = ebits;
        std::vector<uint8_t> pk(sizeof v);
        std::memcpy(pk.data(), &v, sizeof v);
        REQUIRE(vpu.execute(pk.data(), false).status == AAX_OK);
        std::vector<uint8_t> want(k.want.size() * 2);
        num::from_f32(out, k.want.data(), want.data(), k.want.size());
        const uint32_t ds = k.out_cols == 1 ? 2 : k.out_cols;
        std::vector<uint8_t> got(size_t(k.out_rows) * ds * 2);
        sram.read(0x8000, got.data(), got.size());
        for (uint32_t r = 0; r < k.out_rows; ++r)
            REQUIRE(std::memcmp(&got[size_t(r) * ds * 2], &want[size_t(r) * k.out_cols * 2], k.out_cols * 2) == 0);
    }

    // Transpose moves bits: a 7 x 19 bf16 tile becomes 19 x 7.
    aax_pkt_vec v{};
    v.op = AAX_VEC_TRANSPOSE;
    v.dtype = v.dtype_out = static_cast<uint8_t>(t);
    v.rows = rows;
    v.cols = cols;
    v.src0_stride = ld;
    v.dst = 0x8000;
    std::vector<uint8_t> pk = bytes_of(v, AAX_OP_VEC, AAX_PKT_VEC_QW);
    REQUIRE(vpu.execute(pk.data(), false).status == AAX_OK);
    std::vector<uint8_t> got(size_t(rows) * cols * 2);
    sram.read(0x8000, got.data(), got.size());
    for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t cl = 0; cl < cols; ++cl)
            REQUIRE(std::memcmp(&got[(size_t(cl) * rows + r) * 2], &A[(size_t(r) * ld + cl) * 2], 2) == 0);
}

TEST_CASE("compute: vector op cycles follow the per-op cost table", "[compute][timing]") {
    const compute_params p = small_params();  // lanes 8, depth 5, setup 3, 16 B/cycle
    // softmax 7 x 19 bf16 -> bf16: compute = 7 * (ceil(19/8)*5 + 2*(5 + 3)) + 5 = 7*31 + 5 = 222;
    // SRAM = ceil((133*2 + 133*2)/16) = 17. Total = 3 + 222.
    vec_shape s{AAX_VEC_SOFTMAX, 7, 19, 133 * 2, 133 * 2};
    REQUIRE(vec_cycles(p, s) == 3 + 222);
    // add 4 x 1000 fp32: compute = 4 * 125 + 5 = 505; SRAM = ceil(3*16000/16) = 3000 -> SRAM bound.
    vec_shape a{AAX_VEC_ADD, 4, 1000, 2 * 16000, 16000};
    REQUIRE(vec_cycles(p, a) == 3 + 3000);
    // row sum 7 x 19 bf16 -> fp32: each row pays its groups, the pipeline and the tree, the last
    // row's reduction is the drain: compute = 7 * (3 + 5 + 3) = 77; SRAM = ceil((266 + 28)/16) = 19.
    vec_shape r{AAX_VEC_ROW_SUM, 7, 19, 133 * 2, 7 * 4};
    REQUIRE(vec_cycles(p, r) == 3 + 77);
    r.op = AAX_VEC_ROW_MAX;
    REQUIRE(vec_cycles(p, r) == 3 + 77);
}

// The single-pass ops' issue model written out group by group (rtl-models/vpu/vpu_cluster.sv):
// a group issues when the port has delivered every read up to its own (S * (t + 1) bytes by
// cycle t), one group per cycle at most; a row reduction's next row issues after the row's
// result leaves the tree (depth + log2 lanes after its last group); the packet ends after the
// last pipeline (and tree) drain and when every byte has crossed the port.
uint64_t vec_cycles_by_group(const compute_params& p, const vec_shape& s) {
    const bool red = s.op == AAX_VEC_ROW_SUM || s.op == AAX_VEC_ROW_MAX;
    uint64_t lg = 0;
    while ((1ull << lg) < p.vector_lanes) ++lg;
    const uint64_t S = p.sram_bytes_per_cycle, ng = cdiv(s.cols, p.vector_lanes);
    uint64_t t = 0, rd = 0, last = 0;
    for (uint64_t r = 0; r < s.rows; ++r)
        for (uint64_t g = 0; g < ng; ++g) {
            const uint64_t n = std::min<uint64_t>(p.vector_lanes, s.cols - g * p.vector_lanes);
            rd += n * (s.elem_read + (r == 0 ? s.row0_elem_read : 0)) + (g == 0 ? s.row_read : 0);
            t = std::max(t, cdiv(rd, S) - 1);
            if (red && g + 1 == ng) {
                last = t + p.vector_depth + lg;
                t = last + 1;
            } else {
                last = t + p.vector_depth;
                ++t;
            }
        }
    return p.vector_setup_cycles + std::max(last + 1, cdiv(s.bytes_read + s.bytes_written, S));
}

TEST_CASE("compute: single-pass vector op cycles equal the group-by-group issue model", "[compute][timing]") {
    // The O(1) formula against the loop on random shapes, read patterns and ports, many of them
    // read-bound (a group's reads wider than the port), with row reductions and broadcasts.
    std::mt19937_64 rng(21);
    auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
    const unsigned ops[] = {AAX_VEC_ADD, AAX_VEC_MUL, AAX_VEC_MAX, AAX_VEC_RELU, AAX_VEC_ROW_SUM, AAX_VEC_ROW_MAX,
                            AAX_VEC_FMA, AAX_VEC_CONVERT};
    const uint32_t lanes[] = {1, 3, 8, 16, 64, 128};
    const uint32_t ports[] = {1, 4, 16, 24, 64, 256};
    int read_bound = 0;
    for (int it = 0; it < 4000; ++it) {
        compute_params p = small_params();
        p.vector_lanes = lanes[pick(0, 5)];
        p.vector_depth = uint32_t(pick(1, 16));
        p.sram_bytes_per_cycle = ports[pick(0, 5)];
        p.vector_setup_cycles = uint32_t(pick(0, 9));
        vec_shape s;
        s.op = ops[pick(0, 7)];
        s.rows = pick(1, it % 10 == 0 ? 300 : 12);
        s.cols = pick(1, 700);
        const uint32_t ie = uint32_t(1) << pick(0, 2), oe = uint32_t(1) << pick(0, 2);
        s.elem_read = ie;
        const uint64_t mode = pick(0, 3);  // second source: full, row, column, none
        if (mode == 0) s.elem_read += ie;
        if (mode == 1) s.row0_elem_read = ie;
        if (mode == 2) s.row_read = ie;
        s.bytes_read = s.rows * s.cols * s.elem_read + s.cols * s.row0_elem_read + s.rows * s.row_read;
        const bool red = s.op == AAX_VEC_ROW_SUM || s.op == AAX_VEC_ROW_MAX;
        s.bytes_written = (red ? s.rows : s.rows * s.cols) * oe;
        const uint64_t want = vec_cycles_by_group(p, s);
        INFO("it " << it << " op " << s.op << " " << s.rows << "x" << s.cols << " lanes " << p.vector_lanes << " depth "
                   << p.vector_depth << " S " << p.sram_bytes_per_cycle << " reads " << s.elem_read << "/"
                   << s.row0_elem_read << "/" << s.row_read << " out " << oe);
        uint64_t stall = 0;
        REQUIRE(vec_cycles(p, s, &stall) == want);
        read_bound += stall > 0;
        // Totals only (elem_read etc. 0): evenly spread reads give the same cycles.
        if (mode != 1 && mode != 2) {
            vec_shape t = s;
            t.elem_read = 0;
            REQUIRE(vec_cycles(p, t) == want);
        }
    }
    CHECK(read_bound > 1000);
}

TEST_CASE("compute: a read-bound row reduction drains after its last read", "[compute][timing]") {
    // docs/calibration.md: ROW_SUM 1 x 64 fp32, 16 lanes, depth 4, 16 B per cycle, setup 8. The
    // last group's reads (256 B) have arrived by cycle 15; it leaves the pipeline at 19 and the
    // 4-level tree at 23; the packet ends at 24: 8 + 24 = 32 (the RTL cluster's count).
    compute_params p = small_params();
    p.vector_lanes = 16;
    p.vector_depth = 4;
    p.sram_bytes_per_cycle = 16;
    p.vector_setup_cycles = 8;
    vec_shape s{AAX_VEC_ROW_SUM, 1, 64, 256, 4};
    uint64_t stall = 0;
    REQUIRE(vec_cycles(p, s, &stall) == 32);
    REQUIRE(stall == 32 - 8 - (4 + 4 + 4));  // compute: 4 groups + depth + tree
    // 40 rows of 100: each row's 400 B take 25 port cycles, more than its 7 groups + 8 drain,
    // so the drains hide under the next row's reads; the last row drains after its reads:
    // the last group issues in cycle 999 (16000 B read), its sum leaves the tree in 1007, so the
    // lanes are done at 1008, but the port still moves the 160 B of results: 16160 / 16 = 1010.
    vec_shape r{AAX_VEC_ROW_SUM, 40, 100, 16000, 160};
    REQUIRE(vec_cycles(p, r) == 8 + 1010);
    // 8 rows of 1000 (the ROW_MAX row of the calibration table): the last group issues in 1999,
    // the lanes finish at 2008, the port at ceil(32032 / 16) = 2002: 8 + 2008.
    vec_shape m{AAX_VEC_ROW_MAX, 8, 1000, 32000, 32};
    REQUIRE(vec_cycles(p, m) == 8 + 2008);
}

TEST_CASE("compute: bad GEMM and VEC packets give BAD_PARAM BAD_ADDRESS or BAD_LENGTH", "[compute][errors]") {
    const compute_params p = small_params();
    compute_complex cc("cc", p);
    driver d("d", cc);
    const auto good = gemm_pkt(4, 4, 4, AAX_DT_BF16, AAX_DT_FP32);
    auto g = good;
    std::vector<uint8_t> want;
    auto push = [&](const aax_pkt_gemm& x, uint8_t st, uint32_t param = 0) {
        d.packets.push_back(bytes_of(x, AAX_OP_GEMM, 7, param));
        want.push_back(st);
    };
    push(good, AAX_OK);
    g = good; g.cluster = 2; push(g, AAX_ERR_BAD_PARAM);             // no such cluster (router)
    g = good; g.dtype_in = AAX_DT_INT32; push(g, AAX_ERR_BAD_PARAM);  // not a GEMM input
    g = good; g.dtype_in = 9; push(g, AAX_ERR_BAD_PARAM);
    g = good; g.dtype_in = AAX_DT_INT8; push(g, AAX_ERR_BAD_PARAM);   // int8 needs int32 out
    g = good; g.dtype_out = AAX_DT_INT32; push(g, AAX_ERR_BAD_PARAM); // float in, int out
    g = good; g.dataflow = 3; push(g, AAX_ERR_BAD_PARAM);
    g = good; g.k = 0; push(g, AAX_ERR_BAD_PARAM);
    g = good; g.lda = 3; push(g, AAX_ERR_BAD_PARAM);                  // lda < k
    push(good, AAX_ERR_BAD_PARAM, 0x4);                               // unknown param bit
    g = good; g.m = 0xFFFFFFFF; g.lda = 0xFFFFFFFF; push(g, AAX_ERR_BAD_ADDRESS);  // A past the SRAM
    g = good; g.c_addr = (1 << 20) - 63; push(g, AAX_ERR_BAD_ADDRESS);
    d.packets.push_back(std::vector<uint8_t>(d.packets[0].begin(), d.packets[0].begin() + 48));  // short packet
    want.push_back(AAX_ERR_BAD_LENGTH);
    aax_pkt_vec v{};
    v.rows = v.cols = 4;
    v.op = AAX_VEC_OP_COUNT;
    d.packets.push_back(bytes_of(v, AAX_OP_VEC, 8)); want.push_back(AAX_ERR_BAD_PARAM);
    v.op = AAX_VEC_RELU;
    d.packets.push_back(bytes_of(v, AAX_OP_VEC, 8, AAX_VEC_B_ROW)); want.push_back(AAX_ERR_BAD_PARAM);  // relu takes no b
    d.packets.push_back(bytes_of(v, AAX_OP_VEC, 8, AAX_VEC_B_SCALAR | AAX_VEC_B_ROW)); want.push_back(AAX_ERR_BAD_PARAM);
    v.op = AAX_VEC_TRANSPOSE; v.dtype_out = AAX_DT_BF16;
    d.packets.push_back(bytes_of(v, AAX_OP_VEC, 8)); want.push_back(AAX_ERR_BAD_PARAM);  // transpose converts nothing
    v.op = AAX_VEC_ADD; v.dtype_out = 0; v.src1 = (1 << 20) - 8;
    d.packets.push_back(bytes_of(v, AAX_OP_VEC, 8)); want.push_back(AAX_ERR_BAD_ADDRESS);
    v.src1 = 0; v.dst_stride = 2;
    d.packets.push_back(bytes_of(v, AAX_OP_VEC, 8)); want.push_back(AAX_ERR_BAD_PARAM);  // dst stride < cols
    v.dst_stride = 0;
    d.packets.push_back(bytes_of(v, AAX_OP_VEC, 8)); want.push_back(AAX_OK);
    sc_core::sc_start();
    REQUIRE(d.status == want);
    REQUIRE(d.delays_ps[1] == 0);  // rejected packets take no engine time
}

TEST_CASE("compute: timing-only packets take the same cycles and leave the SRAM untouched", "[compute][timing]") {
    const compute_params p = small_params();
    compute_complex cc("cc", p);
    auto& sram = cc.clusters[0]->sram.store();
    auto A = random_operand(num::dtype::fp16, 64 * 64, 3);
    sram.write(0, A.data(), A.size());
    sram.write(0x10000, A.data(), A.size());
    const auto pk = bytes_of(gemm_pkt(37, 29, 53, AAX_DT_FP16, AAX_DT_FP32), AAX_OP_GEMM, 7);
    const auto t = cc.clusters[0]->mxu.execute(pk.data(), true);
    std::vector<uint8_t> c(37 * 29 * 4), zero(c.size(), 0);
    sram.read(0x20000, c.data(), c.size());
    REQUIRE(c == zero);
    const auto f = cc.clusters[0]->mxu.execute(pk.data(), false);
    sram.read(0x20000, c.data(), c.size());
    REQUIRE(c != zero);
    REQUIRE(t.status == AAX_OK);
    REQUIRE(t.cycles == f.cycles);
    REQUIRE(t.cycles == ws_reference(p, 37, 29, 53, 2, 4, false));
}
