// The RTL-backed matrix engine (rtl-models/mxu, compute.matrix.model=rtl) against the TLM
// engine on the same packets and SRAM contents: C bit for bit, cycles equal (the RTL tile is
// calibrated to the weight-stationary formula, docs/calibration.md), timing-only packets
// untouched SRAM, and the packets the tile does not cover timed by the formula. The same for
// the RTL-backed vector engine (rtl-models/vpu, compute.vector.model=rtl).
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "mxu/rtl_matrix_engine.h"
#include "tlm/core/config.h"
#include "vpu/rtl_vector_engine.h"
#include "tlm/compute/compute_cluster.h"
#include "tlm/compute/numerics.h"

using namespace accelvp;

namespace {

compute_params params(uint32_t rows, uint32_t cols, uint32_t bpc) {
    compute_params p;
    p.clusters = 1;
    p.array_rows = rows;
    p.array_cols = cols;
    p.sram_bytes = 1 << 20;
    p.sram_bytes_per_cycle = bpc;
    p.gemm_setup_cycles = 7;
    return p;
}

std::vector<uint8_t> packet(uint32_t m, uint32_t n, uint32_t k, uint8_t din, uint8_t dout, uint32_t param,
                            uint32_t lda, uint32_t ldb, uint32_t ldc, uint8_t df = AAX_GEMM_DF_DEFAULT) {
    aax_pkt_gemm g{};
    g.hdr.opcode = AAX_OP_GEMM;
    g.hdr.size_qw = sizeof(g) / 8;
    g.hdr.param = param;
    g.dtype_in = din;
    g.dtype_out = dout;
    g.dataflow = df;
    g.m = m;
    g.n = n;
    g.k = k;
    g.a_addr = 0x100;
    g.b_addr = 0x40000;
    g.c_addr = 0x80000;
    g.lda = lda;
    g.ldb = ldb;
    g.ldc = ldc;
    std::vector<uint8_t> v(sizeof g);
    std::memcpy(v.data(), &g, sizeof g);
    return v;
}

// Both engines on their own SRAM, filled alike.
struct pair_of_engines {
    compute_params p;
    sparse_store tlm_store, rtl_store;
    matrix_engine tlm;
    rtl_matrix_engine rtl;
    explicit pair_of_engines(const compute_params& pp)
        : p(pp), tlm_store(pp.sram_bytes), rtl_store(pp.sram_bytes), tlm("tlm", pp, tlm_store), rtl("rtl", pp, rtl_store) {}
    void fill(uint64_t seed) {
        std::mt19937_64 rng(seed);
        std::vector<uint8_t> b(0xA0000);
        for (auto& x : b) x = static_cast<uint8_t>(rng());
        tlm_store.write(0, b.data(), b.size());
        rtl_store.write(0, b.data(), b.size());
    }
    bool same_sram() {
        std::vector<uint8_t> a(0xA0000), b(0xA0000);
        tlm_store.read(0, a.data(), a.size());
        rtl_store.read(0, b.data(), b.size());
        return a == b;
    }
};

} // namespace

TEST_CASE("rtl: INT8 GEMM packets through the RTL tile equal the TLM engine in data and cycles", "[rtl]") {
    std::mt19937_64 rng(7);
    auto uni = [&](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };
    const uint32_t shapes[][3] = {{8, 4, 16}, {16, 16, 256}, {4, 32, 37}, {32, 32, 256}};
    for (const auto& sh : shapes) {
        pair_of_engines e(params(sh[0], sh[1], sh[2]));
        for (int it = 0; it < 6; ++it) {
            const bool bt = uni(0, 1), acc = uni(0, 1);
            const uint32_t m = uni(1, 70), n = uni(1, 3 * sh[1] + 3), k = uni(1, 3 * sh[0] + 3);
            const auto pk = packet(m, n, k, AAX_DT_INT8, AAX_DT_INT32,
                                   (bt ? AAX_GEMM_B_TRANS : 0) | (acc ? AAX_GEMM_ACCUMULATE : 0), k + uni(0, 2),
                                   (bt ? k : n) + uni(0, 2), n + uni(0, 2), it % 2 ? AAX_GEMM_DF_WS : AAX_GEMM_DF_DEFAULT);
            e.fill(rng());
            INFO("R" << sh[0] << " C" << sh[1] << " S" << sh[2] << " m" << m << " n" << n << " k" << k << " bt" << bt
                     << " acc" << acc);
            const auto t = e.tlm.execute(pk.data(), false);
            const auto r = e.rtl.execute(pk.data(), false);
            REQUIRE(t.status == AAX_OK);
            REQUIRE(r.status == AAX_OK);
            REQUIRE(r.cycles == t.cycles);
            REQUIRE(e.same_sram());
        }
    }
}

TEST_CASE("rtl: other input types take their cycles from the RTL and C from the reference", "[rtl]") {
    pair_of_engines e(params(16, 8, 64));
    const uint8_t types[][2] = {{AAX_DT_BF16, AAX_DT_FP32}, {AAX_DT_FP8_E4M3, AAX_DT_BF16}, {AAX_DT_FP32, AAX_DT_FP32}};
    uint64_t seed = 1;
    for (const auto& t : types) {
        e.fill(seed++);
        const auto pk = packet(45, 29, 53, t[0], t[1], AAX_GEMM_ACCUMULATE, 0, 0, 0);
        const auto a = e.tlm.execute(pk.data(), false);
        const auto b = e.rtl.execute(pk.data(), false);
        REQUIRE(a.status == AAX_OK);
        REQUIRE(b.cycles == a.cycles);
        REQUIRE(e.same_sram());
    }
    // The RTL ran all three (timing), computed none (not INT8).
    REQUIRE(e.rtl.rtl_packets() == 3);
    REQUIRE(e.rtl.rtl_data_packets() == 0);
    REQUIRE(e.rtl.fallback_packets() == 0);
}

TEST_CASE("rtl: timing-only packets leave the SRAM untouched, output-stationary packets run on the OS tile", "[rtl]") {
    pair_of_engines e(params(8, 8, 32));
    e.fill(3);
    const auto pk = packet(20, 19, 30, AAX_DT_INT8, AAX_DT_INT32, 0, 0, 0, 0);
    const auto t = e.rtl.execute(pk.data(), true);
    REQUIRE(e.same_sram());
    const auto f = e.rtl.execute(pk.data(), false);
    REQUIRE(!e.same_sram());
    REQUIRE(t.cycles == f.cycles);
    REQUIRE(e.rtl.rtl_data_packets() == 1);
    REQUIRE(e.tlm.execute(pk.data(), false).cycles == f.cycles);
    REQUIRE(e.same_sram());

    const auto os = packet(20, 19, 30, AAX_DT_INT8, AAX_DT_INT32, AAX_GEMM_ACCUMULATE, 0, 0, 0, AAX_GEMM_DF_OS);
    const auto a = e.tlm.execute(os.data(), false);
    const auto b = e.rtl.execute(os.data(), false);
    REQUIRE(b.cycles == a.cycles);
    REQUIRE(e.rtl.fallback_packets() == 0);
    REQUIRE(e.rtl.rtl_data_packets() == 2);
    REQUIRE(e.same_sram());
    // Bad packets are rejected by the same checks, before the RTL runs.
    const auto bad = packet(20, 19, 30, AAX_DT_INT32, AAX_DT_INT32, 0, 0, 0, 0);
    REQUIRE(e.rtl.execute(bad.data(), false).status == AAX_ERR_BAD_PARAM);
    REQUIRE(e.rtl.rtl_packets() == 3);
}

TEST_CASE("rtl: INT8 output-stationary GEMM packets through the RTL OS tile equal the TLM engine", "[rtl]") {
    std::mt19937_64 rng(9);
    auto uni = [&](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };
    const uint32_t shapes[][3] = {{8, 4, 16}, {16, 16, 64}, {4, 32, 37}, {32, 32, 256}};
    for (const auto& sh : shapes) {
        pair_of_engines e(params(sh[0], sh[1], sh[2]));
        for (int it = 0; it < 6; ++it) {
            const bool bt = uni(0, 1), acc = uni(0, 1);
            const uint32_t m = uni(1, 3 * sh[0] + 3), n = uni(1, 3 * sh[1] + 3), k = uni(1, 90);
            const auto pk = packet(m, n, k, AAX_DT_INT8, AAX_DT_INT32,
                                   (bt ? AAX_GEMM_B_TRANS : 0) | (acc ? AAX_GEMM_ACCUMULATE : 0), k + uni(0, 2),
                                   (bt ? k : n) + uni(0, 2), n + uni(0, 2), AAX_GEMM_DF_OS);
            e.fill(rng());
            INFO("R" << sh[0] << " C" << sh[1] << " S" << sh[2] << " m" << m << " n" << n << " k" << k << " bt" << bt
                     << " acc" << acc);
            const auto t = e.tlm.execute(pk.data(), false);
            const auto r = e.rtl.execute(pk.data(), false);
            REQUIRE(t.status == AAX_OK);
            REQUIRE(r.cycles == t.cycles);
            REQUIRE(e.same_sram());
        }
        REQUIRE(e.rtl.rtl_data_packets() == 6);
    }
}

namespace {

compute_params vparams(uint32_t lanes, uint32_t depth, uint32_t bpc) {
    compute_params p;
    p.clusters = 1;
    p.sram_bytes = 1 << 20;
    p.sram_bytes_per_cycle = bpc;
    p.vector_lanes = lanes;
    p.vector_depth = depth;
    p.vector_setup_cycles = 5;
    return p;
}

struct vec_pair {
    compute_params p;
    sparse_store tlm_store, rtl_store;
    vector_engine tlm;
    rtl_vector_engine rtl;
    explicit vec_pair(const compute_params& pp)
        : p(pp), tlm_store(pp.sram_bytes), rtl_store(pp.sram_bytes), tlm("tlm", pp, tlm_store), rtl("rtl", pp, rtl_store) {}
    void fill(uint64_t seed) {
        std::mt19937_64 rng(seed);
        std::vector<uint8_t> b(0x30000);
        for (auto& x : b) x = static_cast<uint8_t>(rng());
        tlm_store.write(0, b.data(), b.size());
        rtl_store.write(0, b.data(), b.size());
    }
    bool same_sram() {
        std::vector<uint8_t> a(0x30000), b(0x30000);
        tlm_store.read(0, a.data(), a.size());
        rtl_store.read(0, b.data(), b.size());
        return a == b;
    }
};

std::vector<uint8_t> vpacket(uint8_t op, uint32_t flags, uint8_t din, uint8_t dout, uint32_t rows, uint32_t cols) {
    aax_pkt_vec v{};
    v.hdr.opcode = AAX_OP_VEC;
    v.hdr.size_qw = sizeof(v) / 8;
    v.hdr.param = flags;
    v.op = op;
    v.dtype = din;
    v.dtype_out = dout;
    v.rows = rows;
    v.cols = cols;
    v.src0 = 0x100;
    v.src1 = 0x10000;
    v.dst = 0x20000;
    std::vector<uint8_t> b(sizeof v);
    std::memcpy(b.data(), &v, sizeof v);
    return b;
}
aax_pkt_vec& as_vec(std::vector<uint8_t>& b) { return *reinterpret_cast<aax_pkt_vec*>(b.data()); }

} // namespace

TEST_CASE("rtl: VEC packets through the RTL lane cluster equal the TLM engine in data and cycles", "[rtl]") {
    // INT8, BF16 and FP32 sources (random bytes: floats of every class, NaNs and subnormals
    // included), INT8, INT32, FP32 and BF16 results, every op, b mode, strides, in place; the
    // default (64 lanes, depth 8, 256 B/cycle) and edge (16, 4, 64) engines and two ports
    // narrower than a group's reads (the reads pace the issue, docs/calibration.md).
    std::mt19937_64 rng(11);
    auto uni = [&](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };
    const uint8_t ops[] = {AAX_VEC_ADD, AAX_VEC_MUL, AAX_VEC_MAX, AAX_VEC_RELU, AAX_VEC_ROW_SUM, AAX_VEC_ROW_MAX};
    const uint8_t ins[] = {AAX_DT_INT8, AAX_DT_BF16, AAX_DT_FP32};
    const uint8_t outs[] = {AAX_DT_INT8, AAX_DT_INT32, AAX_DT_FP32, AAX_DT_BF16};
    const uint32_t bflags[] = {0, AAX_VEC_B_SCALAR, AAX_VEC_B_ROW, AAX_VEC_B_COL};
    const uint32_t cfgs[][3] = {{64, 8, 256}, {16, 4, 64}, {16, 4, 16}, {8, 5, 8}};
    uint64_t data_packets = 0, float_sums = 0;
    for (const auto& c : cfgs) {
        vec_pair e(vparams(c[0], c[1], c[2]));
        for (int it = 0; it < 40; ++it) {
            const uint8_t op = ops[uni(0, 5)];
            const bool takes_b = op == AAX_VEC_ADD || op == AAX_VEC_MUL || op == AAX_VEC_MAX;
            const uint32_t fl = takes_b ? bflags[uni(0, 3)] : 0;
            const uint8_t in = ins[uni(0, 2)], out = outs[uni(0, 3)];
            auto pk = vpacket(op, fl, in, out, uni(1, 20), uni(1, in == AAX_DT_FP32 ? 150 : 300));
            aax_pkt_vec& v = as_vec(pk);
            v.src0_stride = uni(0, 1) ? 0 : v.cols + uni(1, 7);
            // A scalar of any class, or a small integer.
            uint32_t sc = static_cast<uint32_t>(rng());
            if (uni(0, 1)) {
                const float f = static_cast<float>(static_cast<int>(uni(0, 200)) - 100);
                std::memcpy(&sc, &f, 4);
            }
            v.scalar = sc;
            const bool same_size = in == out || (in == AAX_DT_FP32 && out == AAX_DT_INT32);
            if (it % 5 == 4 && same_size && op != AAX_VEC_ROW_SUM && op != AAX_VEC_ROW_MAX) {
                v.dst = v.src0;  // in place
                v.dst_stride = v.src0_stride;
            }
            float_sums += op == AAX_VEC_ROW_SUM && in != AAX_DT_INT8;
            const uint32_t rows = v.rows, cols = v.cols;
            e.fill(rng());
            INFO("lanes " << c[0] << " S " << c[2] << " op " << int(op) << " flags " << fl << " in " << int(in)
                          << " out " << int(out) << " " << rows << "x" << cols << " scalar " << sc);
            const auto t = e.tlm.execute(pk.data(), false);
            const auto r = e.rtl.execute(pk.data(), false);
            REQUIRE(t.status == AAX_OK);
            REQUIRE(r.status == AAX_OK);
            REQUIRE(r.cycles == t.cycles);
            REQUIRE(e.same_sram());
        }
        REQUIRE(e.rtl.rtl_packets() == 40);
        REQUIRE(e.rtl.fallback_packets() == 0);
        data_packets += e.rtl.rtl_data_packets();
    }
    // Every one computed by the RTL lanes but the float row sums (the reference's sequential sum).
    REQUIRE(float_sums > 0);
    REQUIRE(data_packets == 160 - float_sums);
}

TEST_CASE("rtl: VEC packets of other types and ops take RTL cycles with reference data, or the formula", "[rtl]") {
    vec_pair e(vparams(16, 4, 64));
    e.fill(5);
    // Float row sums and FP16 / FP8 types: the cluster's cycles, the reference's values.
    const uint8_t types[][3] = {{AAX_VEC_ROW_SUM, AAX_DT_BF16, AAX_DT_FP32},
                                {AAX_VEC_ROW_SUM, AAX_DT_FP32, AAX_DT_FP32},
                                {AAX_VEC_RELU, AAX_DT_FP16, AAX_DT_FP16},
                                {AAX_VEC_ADD, AAX_DT_FP32, AAX_DT_FP8_E4M3}};
    for (const auto& t : types) {
        const auto pk = vpacket(t[0], 0, t[1], t[2], 13, 77);
        const auto a = e.tlm.execute(pk.data(), false);
        const auto b = e.rtl.execute(pk.data(), false);
        REQUIRE(a.status == AAX_OK);
        REQUIRE(b.cycles == a.cycles);
        REQUIRE(e.same_sram());
    }
    REQUIRE(e.rtl.rtl_packets() == 4);
    REQUIRE(e.rtl.rtl_data_packets() == 0);
    // INT8 with a fractional scalar: fp32 results, computed by the lanes.
    auto pk = vpacket(AAX_VEC_MUL, AAX_VEC_B_SCALAR, AAX_DT_INT8, AAX_DT_FP32, 9, 40);
    const float third = 1.0f / 3.0f;
    std::memcpy(&as_vec(pk).scalar, &third, 4);
    REQUIRE(e.rtl.execute(pk.data(), false).cycles == e.tlm.execute(pk.data(), false).cycles);
    REQUIRE(e.same_sram());
    REQUIRE(e.rtl.rtl_data_packets() == 1);
    // Ops the cluster does not implement: the formula.
    const auto sm = vpacket(AAX_VEC_SOFTMAX, 0, AAX_DT_FP32, AAX_DT_FP32, 8, 50);
    REQUIRE(e.rtl.execute(sm.data(), false).cycles == e.tlm.execute(sm.data(), false).cycles);
    REQUIRE(e.same_sram());
    REQUIRE(e.rtl.fallback_packets() == 1);
    // Timing only: RTL cycles, SRAM untouched.
    const auto add = vpacket(AAX_VEC_ADD, 0, AAX_DT_INT8, AAX_DT_INT32, 10, 100);
    const auto tt = e.rtl.execute(add.data(), true);
    REQUIRE(e.same_sram());
    REQUIRE(tt.cycles == e.tlm.execute(add.data(), true).cycles);
    // Bad packets: the same checks, before the RTL runs.
    auto bad = vpacket(AAX_VEC_RELU, AAX_VEC_B_SCALAR, AAX_DT_INT8, AAX_DT_INT8, 4, 4);
    REQUIRE(e.rtl.execute(bad.data(), false).status == AAX_ERR_BAD_PARAM);
    REQUIRE(e.rtl.rtl_packets() == 6);
}

TEST_CASE("rtl: a vector engine outside the RTL lane cluster is a config error naming the key", "[rtl]") {
    REQUIRE_THROWS_WITH(rtl_vector_engine::check(vparams(128, 8, 256)),
                        "compute.vector.model=rtl: compute.vector_lanes must be 1..64 (the RTL lane cluster has 64 "
                        "lanes), got 128");
    REQUIRE_THROWS_WITH(rtl_vector_engine::check(vparams(64, 17, 256)),
                        "compute.vector.model=rtl: compute.vector_depth must be 1..16 (the RTL lane pipeline has 16 "
                        "stages), got 17");
    REQUIRE_NOTHROW(rtl_vector_engine::check(vparams(16, 4, 64)));
}
