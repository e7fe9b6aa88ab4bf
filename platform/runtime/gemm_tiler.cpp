#include "platform/runtime/gemm_tiler.h"

#include <algorithm>
#include <stdexcept>

#include "tlm/compute/numerics.h"

namespace accelvp {

namespace {
uint64_t sram_need(const gemm_tiling& t, uint64_t e) { return 2 * (t.tm * t.tk + t.tk * t.tn) * e + 2 * t.tm * t.tn * 4; }
uint64_t round_to(uint64_t v, uint64_t q) { return v < q ? v : v / q * q; }
} // namespace

gemm_tiling choose_tiling(const compute_params& p, const gemm_problem& g, uint32_t clusters, gemm_tiling want) {
    num::dtype dt;
    if (!num::dtype_from_code(g.dtype, dt)) throw std::invalid_argument("bad dtype");
    const uint64_t e = num::dtype_size(dt);
    gemm_tiling t;
    t.tm = want.tm ? want.tm : std::min<uint64_t>(g.m, 512);
    t.tn = want.tn ? want.tn : std::min<uint64_t>(g.n, 512);
    t.tk = want.tk ? want.tk : std::min<uint64_t>(g.k, 512);
    // Spread small problems over the clusters: split the larger output side while there
    // are fewer tiles than clusters and the pieces stay at least one array wide.
    auto tiles = [&] { return std::max<uint64_t>(g.batch, 1) * ceil_div(g.m, t.tm) * ceil_div(g.n, t.tn); };
    while (tiles() < clusters) {
        if (!want.tm && t.tm >= t.tn && t.tm / 2 >= p.array_rows) t.tm = round_to(ceil_div(t.tm, 2), p.array_rows);
        else if (!want.tn && t.tn / 2 >= p.array_cols) t.tn = round_to(ceil_div(t.tn, 2), p.array_cols);
        else break;
    }
    while (sram_need(t, e) > p.sram_bytes) {
        uint64_t* big = &t.tk;
        if (!want.tm && t.tm > *big) big = &t.tm;
        if (!want.tn && t.tn > *big) big = &t.tn;
        if (want.tk && big == &t.tk) big = !want.tm ? &t.tm : &t.tn;
        if (*big <= 1) throw std::invalid_argument("no GEMM tile fits compute.sram_bytes");
        *big = ceil_div(*big, 2);
    }
    return t;
}

gemm_plan plan_gemm(const compute_params& p, const gemm_problem& g, const std::vector<uint64_t>& sram_addr,
                    uint32_t rings, uint16_t sem_base, gemm_tiling want) {
    num::dtype dt;
    if (!num::dtype_from_code(g.dtype, dt) || !num::gemm_input_ok(dt)) throw std::invalid_argument("bad dtype");
    const uint64_t e = num::dtype_size(dt);
    const num::dtype acc_t = num::gemm_acc_type(dt);
    if (g.batch < 1) throw std::invalid_argument("batch must be at least 1");
    gemm_plan plan;
    const bool single = rings < 2;
    plan.clusters = single ? 1 : std::min<uint32_t>(static_cast<uint32_t>(sram_addr.size()), rings / 2);
    const gemm_tiling t = choose_tiling(p, g, plan.clusters, want);
    plan.tile = t;
    plan.streams.resize(single ? 1 : 2 * plan.clusters);
    plan.cluster_cycles.assign(plan.clusters, 0);
    plan.cluster_sram_bytes.assign(plan.clusters, 0);

    const uint64_t mt = ceil_div(g.m, t.tm), nt = ceil_div(g.n, t.tn), kt = ceil_div(g.k, t.tk);
    const uint64_t slot_bytes = (t.tm * t.tk + t.tk * t.tn) * e;
    const uint64_t lda = g.lda ? g.lda : g.k, ldb = g.ldb ? g.ldb : (g.b_trans ? g.k : g.n), ldc = g.ldc ? g.ldc : g.n;
    // Per-cluster tile lists (round-robin over output tiles).
    std::vector<std::vector<uint64_t>> owned(plan.clusters);
    for (uint64_t i = 0; i < g.batch * mt * nt; ++i) owned[i % plan.clusters].push_back(i);

    for (uint32_t c = 0; c < plan.clusters; ++c) {
        cmdbuf_builder& dma = plan.streams[plan.dma_ring(c)];
        cmdbuf_builder& cmp = plan.streams[plan.compute_ring(c)];
        const uint16_t s0 = static_cast<uint16_t>(sem_base + 8 * c);
        auto full = [&](uint64_t slot) { return static_cast<uint16_t>(s0 + slot); };
        auto empty = [&](uint64_t slot) { return static_cast<uint16_t>(s0 + 2 + slot); };
        auto cdone = [&](uint64_t cb) { return static_cast<uint16_t>(s0 + 4 + cb); };
        auto cfree = [&](uint64_t cb) { return static_cast<uint16_t>(s0 + 6 + cb); };
        const uint64_t sram = sram_addr[c];
        const uint64_t tiles = owned[c].size(), loads = tiles * kt;
        // Tile j of this cluster: its batch item's A, B and C bases, and its place in C.
        struct tile_at {
            uint64_t a, b, c, m0, n0, tm, tn;
        };
        auto tile_dims = [&](uint64_t j) {
            const uint64_t id = owned[c][j], item = id / (mt * nt), in = id % (mt * nt);
            tile_at x;
            x.a = g.a + item * g.stride_a;
            x.b = g.b + item * g.stride_b;
            x.c = g.c + item * g.stride_c;
            x.m0 = in / nt * t.tm;
            x.n0 = in % nt * t.tn;
            x.tm = std::min(t.tm, g.m - x.m0);
            x.tn = std::min(t.tn, g.n - x.n0);
            return x;
        };
        auto cbuf = [&](uint64_t j) { return 2 * slot_bytes + (j % 2) * t.tm * t.tn * 4; };
        auto store = [&](uint64_t j) {
            const tile_at x = tile_dims(j);
            const uint64_t tm = x.tm, tn = x.tn;
            if (!single) dma.sem_wait(cdone(j % 2), 1, AAX_SEM_GE, true);
            dma.copy_2d(sram + cbuf(j), x.c + (x.m0 * ldc + x.n0) * 4, tn * 4, static_cast<uint32_t>(tm), tn * 4, ldc * 4);
            ++plan.dma_packets;
            plan.dmas.push_back({tm * tn * 4, tn * 4, plan.dma_ring(c)});
            plan.hbm_bytes += tm * tn * 4;
            plan.cluster_sram_bytes[c] += tm * tn * 4;
            if (!single && j + 2 < tiles) dma.sem_signal(cfree(j % 2), 1);
        };
        for (uint64_t j = 0; j < tiles; ++j) {
            const tile_at x = tile_dims(j);
            const uint64_t m0 = x.m0, n0 = x.n0, tm = x.tm, tn = x.tn;
            for (uint64_t kc = 0; kc < kt; ++kc) {
                const uint64_t i = j * kt + kc, slot = i % 2;
                const uint64_t k0 = kc * t.tk, tk = std::min(t.tk, g.k - k0);
                const uint64_t a_off = slot * slot_bytes, b_off = a_off + t.tm * t.tk * e;
                // Loads.
                if (!single && i >= 2) dma.sem_wait(empty(slot), 1, AAX_SEM_GE, true);
                dma.copy_2d(x.a + (m0 * lda + k0) * e, sram + a_off, tk * e, static_cast<uint32_t>(tm), lda * e,
                            tk * e);
                if (g.b_trans)
                    dma.copy_2d(x.b + (n0 * ldb + k0) * e, sram + b_off, tk * e, static_cast<uint32_t>(tn), ldb * e,
                                tk * e);
                else
                    dma.copy_2d(x.b + (k0 * ldb + n0) * e, sram + b_off, tn * e, static_cast<uint32_t>(tk), ldb * e,
                                tn * e);
                plan.dma_packets += 2;
                plan.dmas.push_back({tm * tk * e, tk * e, plan.dma_ring(c)});
                plan.dmas.push_back({tn * tk * e, g.b_trans ? tk * e : tn * e, plan.dma_ring(c)});
                plan.hbm_bytes += (tm + tn) * tk * e;
                if (!single) dma.sem_signal(full(slot), 1);
                if (!single && kc == 0 && j >= 1) store(j - 1);

                // Compute.
                if (!single) cmp.sem_wait(full(slot), 1, AAX_SEM_GE, true);
                if (!single && kc == 0 && j >= 2) cmp.sem_wait(cfree(j % 2), 1, AAX_SEM_GE, true);
                aax_pkt_gemm pk{};
                pk.cluster = static_cast<uint16_t>(c);
                pk.dtype_in = g.dtype;
                pk.dtype_out = static_cast<uint8_t>(acc_t);
                pk.m = static_cast<uint32_t>(tm);
                pk.n = static_cast<uint32_t>(tn);
                pk.k = static_cast<uint32_t>(tk);
                pk.a_addr = static_cast<uint32_t>(a_off);
                pk.b_addr = static_cast<uint32_t>(b_off);
                pk.c_addr = static_cast<uint32_t>(cbuf(j));
                pk.lda = static_cast<uint32_t>(tk);
                pk.ldb = static_cast<uint32_t>(g.b_trans ? tk : tn);
                pk.ldc = static_cast<uint32_t>(tn);
                const uint32_t param = (kc ? AAX_GEMM_ACCUMULATE : 0u) | (g.b_trans ? AAX_GEMM_B_TRANS : 0u);
                cmp.gemm(pk, param);
                ++plan.gemm_packets;
                const gemm_shape s{tm, tn, tk, static_cast<uint32_t>(e), 4, kc > 0};
                plan.cluster_cycles[c] += gemm_cycles(p, p.default_dataflow, s);
                plan.cluster_sram_bytes[c] += 2 * (tm + tn) * tk * e + tm * tn * 4 * (kc ? 2 : 1);
                if (!single && i + 2 < loads) cmp.sem_signal(empty(slot), 1);
                if (!single && kc + 1 == kt) cmp.sem_signal(cdone(j % 2), 1);
            }
            if (single) store(j);
        }
        if (!single && tiles) store(tiles - 1);
    }
    return plan;
}

} // namespace accelvp
