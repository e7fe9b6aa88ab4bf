#include "platform/runtime/gemm_tiler.h"

#include <algorithm>
#include <stdexcept>

#include "tlm/compute/numerics.h"

namespace accelvp {

namespace {
uint64_t sram_need(const gemm_tiling& t, uint64_t e) {
    return 2 * (t.tm * t.tk + t.tk * t.tn) * e + std::max<uint32_t>(t.c_buffers, 1) * t.tm * t.tn * 4;
}
uint64_t round_up(uint64_t v, uint64_t q) { return ceil_div(v, q) * q; }

// Candidate sizes for one side: [lo .. total] split into 1..parts equal pieces, rounded up to
// multiples of `q` (the array's side) where the side is at least that wide.
std::vector<uint64_t> side_candidates(uint64_t total, uint64_t q, uint64_t parts) {
    std::vector<uint64_t> v;
    for (uint64_t n = 1; n <= parts; ++n) {
        uint64_t x = ceil_div(total, n);
        if (total >= q) x = std::min(total, round_up(x, q));
        if (x >= 1 && (total < q || x >= q || x == total)) v.push_back(x);
    }
    for (uint64_t x = q; x < total; x *= 2) v.push_back(x);  // powers of two times the array side
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}
} // namespace

double gemm_machine::dma_packet_ns(uint64_t bytes, uint64_t row_bytes) const {
    double bw = std::min(dma_gbps, mem_gbps);  // bytes per ns
    if (sram_port_gbps > 0) bw = std::min(bw, sram_port_gbps);
    if (max_outstanding && burst_bytes && round_trip_ns > 0)
        bw = std::min(bw, max_outstanding * static_cast<double>(std::min<uint64_t>(burst_bytes, row_bytes)) /
                              round_trip_ns);
    return dma_setup_ns + round_trip_ns + static_cast<double>(bytes) / bw;
}

double predict_gemm_ns(const compute_params& p, const gemm_problem& g, uint32_t clusters, const gemm_tiling& t,
                       const gemm_machine& mach, bool single_ring) {
    num::dtype dt;
    if (!num::dtype_from_code(g.dtype, dt)) throw std::invalid_argument("bad dtype");
    const uint64_t e = num::dtype_size(dt);
    const uint32_t q = p.macs_per_pe(g.dtype);
    const uint64_t batch = std::max<uint64_t>(g.batch, 1);
    const uint64_t mt = ceil_div(g.m, t.tm), nt = ceil_div(g.n, t.tn), kt = ceil_div(g.k, t.tk);
    const uint64_t tiles = batch * mt * nt;
    const uint64_t deal = t.clusters ? std::min(t.clusters, clusters) : clusters;
    const uint64_t used = std::max<uint64_t>(1, std::min<uint64_t>(deal, tiles));
    const uint64_t per_cluster = ceil_div(tiles, used);
    // One full tile's engine cycles (first chunk without ACCUMULATE, the last chunk's k the rest),
    // scaled by how much of the padded grid the real matrix fills. gemm_cycles is the engine's
    // own formula (block pipelining included).
    auto cyc = [&](uint64_t k, bool acc) {
        return gemm_cycles(p, p.default_dataflow, gemm_shape{t.tm, t.tn, k, static_cast<uint32_t>(e), 4, acc, q});
    };
    const uint64_t k_last = g.k - (kt - 1) * t.tk;
    uint64_t tile_cycles = cyc(kt == 1 ? k_last : t.tk, false);
    if (kt > 2) tile_cycles += (kt - 2) * cyc(t.tk, true);
    if (kt > 1) tile_cycles += cyc(k_last, true);
    const double fill = static_cast<double>(g.m * g.n) / static_cast<double>(mt * t.tm * nt * t.tn);
    // Packet and semaphore costs on the rings (plan_gemm's streams). Compute ring, per k chunk:
    // the GEMM, a wait for the slot and a signal that frees it; per tile a wait for the C buffer
    // and a signal that C is done. DMA ring (its DMA packets' decode is in a_ns, b_ns, c_ns):
    // per chunk a wait for the slot and a signal that it is full, per tile a wait for C done
    // and a signal that the buffer is free. A single ring has no semaphores.
    const double d = mach.packet_ns, so = mach.sem_ns, kd = static_cast<double>(kt);
    const double cmp_ctl = single_ring ? kd * d : kd * (3 * d + 2 * so) + 2 * (d + so);
    const double dma_ctl = single_ring ? 0.0 : (kd + 1) * 2 * (d + so);
    const double t_compute =
        static_cast<double>(per_cluster) * (static_cast<double>(tile_cycles) * fill / p.freq_hz() * 1e9 + cmp_ctl);
    // The jobs of the phase start job_ns apart, in ring order: the DMA rings of the clusters
    // used (0..used-1), then their compute rings. The last compute ring starts (2 used - 1)
    // job_ns after the first job, its DMA ring used job_ns earlier; every job also takes
    // job_latency_ns beyond its packets. One ring: one job.
    const double u = static_cast<double>(used), J = mach.job_ns, L = mach.job_latency_ns;
    const double cmp_start = single_ring ? 0.0 : (2 * u - 1) * J;

    // Device-memory traffic: A is read once per column of tiles, B once per row, C written once.
    const double hbm = static_cast<double>(batch) *
                       static_cast<double>(nt * g.m * g.k * e + mt * g.n * g.k * e + g.m * g.n * 4);
    if (mach.mem_gbps <= 0 || mach.dma_gbps <= 0) return L + cmp_start + t_compute;  // memory side unknown
    // One DMA engine's time per tile: per k chunk the A chunk (tm rows of tk) and the B chunk
    // (tk rows of tn, or tn rows of tk when B is stored transposed), then the C store.
    const uint64_t tk0 = std::min(t.tk, g.k);
    const double a_ns = mach.dma_packet_ns(t.tm * tk0 * e, tk0 * e) + d;
    const double b_ns = mach.dma_packet_ns(tk0 * t.tn * e, g.b_trans ? tk0 * e : t.tn * e) + d;
    const double c_ns = mach.dma_packet_ns(t.tm * t.tn * 4, t.tn * 4) + d;
    const double tile_dma = static_cast<double>(kt) * (a_ns + b_ns) + c_ns;
    if (single_ring)  // all in order
        return L + t_compute + static_cast<double>(per_cluster) * tile_dma * fill;
    // Clusters share DMA engines when there are fewer engines than clusters.
    const double sharing = static_cast<double>(used) / static_cast<double>(std::min<uint64_t>(used, std::max<uint32_t>(mach.dma_engines, 1)));
    const double t_dma = static_cast<double>(per_cluster) * (tile_dma * fill * sharing + dma_ctl);
    // The DRAM model sustains about 0.9 of its peak on these streams (docs/memory.md).
    const double t_mem = hbm / (0.9 * mach.mem_gbps);
    // One C buffer: each tile after the first waits for the previous tile's store and the
    // next chunk's load behind it on the DMA ring.
    const double stalls = t.c_buffers == 1 ? static_cast<double>(per_cluster - 1) * (c_ns + a_ns + b_ns) : 0.0;
    // From the last compute ring's start. Its DMA ring, started u job_ns earlier, has loaded
    // the first chunk unless that takes longer (head). Compute-bound: the rest of the first
    // load, the engine, the last store. DMA-bound: the DMA ring's time plus the last chunk's
    // GEMM, which the store waits for. Memory-bound: all clusters' traffic.
    const double head = std::max(0.0, a_ns + b_ns - u * J);
    const double chunk_ns = t_compute / static_cast<double>(per_cluster * kt);
    return L + cmp_start + std::max({head + t_compute + stalls + c_ns, t_dma + chunk_ns, t_mem});
}

gemm_tiling capped_tiling(const compute_params& p, const gemm_problem& g, uint32_t clusters) {
    num::dtype dt;
    if (!num::dtype_from_code(g.dtype, dt)) throw std::invalid_argument("bad dtype");
    const uint64_t e = num::dtype_size(dt);
    auto round_to = [](uint64_t v, uint64_t q) { return v < q ? v : v / q * q; };
    gemm_tiling t;
    t.tm = std::min<uint64_t>(g.m, 512);
    t.tn = std::min<uint64_t>(g.n, 512);
    t.tk = std::min<uint64_t>(g.k, 512);
    t.c_buffers = 2;
    auto tiles = [&] { return std::max<uint64_t>(g.batch, 1) * ceil_div(g.m, t.tm) * ceil_div(g.n, t.tn); };
    while (tiles() < clusters) {
        if (t.tm >= t.tn && t.tm / 2 >= p.array_rows) t.tm = round_to(ceil_div(t.tm, 2), p.array_rows);
        else if (t.tn / 2 >= p.array_cols) t.tn = round_to(ceil_div(t.tn, 2), p.array_cols);
        else break;
    }
    while (sram_need(t, e) > p.sram_bytes) {
        uint64_t* big = &t.tk;
        if (t.tm > *big) big = &t.tm;
        if (t.tn > *big) big = &t.tn;
        if (*big <= 1) throw std::invalid_argument("no GEMM tile fits compute.sram_bytes");
        *big = ceil_div(*big, 2);
    }
    return t;
}

gemm_tiling choose_tiling(const compute_params& p, const gemm_problem& g, uint32_t clusters, gemm_tiling want,
                          const gemm_machine& mach, bool single_ring) {
    num::dtype dt;
    if (!num::dtype_from_code(g.dtype, dt)) throw std::invalid_argument("bad dtype");
    const uint64_t e = num::dtype_size(dt);
    const uint64_t rk = static_cast<uint64_t>(p.array_rows) * p.macs_per_pe(g.dtype);  // k rows of a weight block
    const auto ms = want.tm ? std::vector<uint64_t>{want.tm} : side_candidates(g.m, 1, 32);
    const auto ns = want.tn ? std::vector<uint64_t>{want.tn} : side_candidates(g.n, p.array_cols, 32);
    const auto ks = want.tk ? std::vector<uint64_t>{want.tk} : side_candidates(g.k, rk, 16);
    const std::vector<uint32_t> cbs = want.c_buffers ? std::vector<uint32_t>{want.c_buffers} : std::vector<uint32_t>{2, 1};
    // Clusters to deal the tiles over: all, or (when the job costs are known, so that fewer
    // jobs can win) 1, 2, 4, ... of them.
    std::vector<uint32_t> cls{want.clusters ? std::min(want.clusters, clusters) : 0u};
    if (!want.clusters && mach.job_ns > 0 && !single_ring)
        for (uint32_t c = 1; c < clusters; c *= 2) cls.push_back(c);
    const uint64_t batch = std::max<uint64_t>(g.batch, 1);
    gemm_tiling best;
    bool found = false;
    for (uint32_t cb : cbs)
        for (uint64_t tk : ks)
            for (uint64_t tn : ns)
                for (uint64_t tm : ms)
                    for (uint32_t cl : cls) {
                        gemm_tiling t{tm, tn, tk, cb, cl, 0};
                        if (sram_need(t, e) > p.sram_bytes) continue;
                        // Fewer clusters than tiles only (more would be the same plan).
                        if (cl && !want.clusters && cl >= batch * ceil_div(g.m, tm) * ceil_div(g.n, tn)) continue;
                        t.predicted_ns = predict_gemm_ns(p, g, clusters, t, mach, single_ring);
                        if (!found || t.predicted_ns < best.predicted_ns) {
                            best = t;
                            found = true;
                        }
                    }
    if (!found) throw std::invalid_argument("no GEMM tile fits compute.sram_bytes");
    return best;
}

gemm_plan plan_gemm(const compute_params& p, const gemm_problem& g, const std::vector<uint64_t>& sram_addr,
                    uint32_t rings, uint16_t sem_base, gemm_tiling want, const gemm_machine& mach) {
    num::dtype dt;
    if (!num::dtype_from_code(g.dtype, dt) || !num::gemm_input_ok(dt)) throw std::invalid_argument("bad dtype");
    const uint64_t e = num::dtype_size(dt);
    const num::dtype acc_t = num::gemm_acc_type(dt);
    if (g.batch < 1) throw std::invalid_argument("batch must be at least 1");
    gemm_plan plan;
    const bool single = rings < 2;
    plan.clusters = single ? 1 : std::min<uint32_t>(static_cast<uint32_t>(sram_addr.size()), rings / 2);
    const gemm_tiling t = choose_tiling(p, g, plan.clusters, want, mach, single);
    const uint64_t cbufs = t.c_buffers;
    plan.tile = t;
    plan.streams.resize(single ? 1 : 2 * plan.clusters);
    plan.cluster_cycles.assign(plan.clusters, 0);
    plan.cluster_sram_bytes.assign(plan.clusters, 0);

    const uint64_t mt = ceil_div(g.m, t.tm), nt = ceil_div(g.n, t.tn), kt = ceil_div(g.k, t.tk);
    const uint64_t slot_bytes = (t.tm * t.tk + t.tk * t.tn) * e;
    const uint64_t lda = g.lda ? g.lda : g.k, ldb = g.ldb ? g.ldb : (g.b_trans ? g.k : g.n), ldc = g.ldc ? g.ldc : g.n;
    // Per-cluster tile lists (round-robin over output tiles).
    // Dealt over t.clusters of them when the tiler chose fewer (the others' streams stay empty).
    const uint32_t deal = t.clusters ? std::min(t.clusters, plan.clusters) : plan.clusters;
    std::vector<std::vector<uint64_t>> owned(plan.clusters);
    for (uint64_t i = 0; i < g.batch * mt * nt; ++i) owned[i % deal].push_back(i);

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
        auto cbuf = [&](uint64_t j) { return 2 * slot_bytes + (j % cbufs) * t.tm * t.tn * 4; };
        auto store = [&](uint64_t j) {
            const tile_at x = tile_dims(j);
            const uint64_t tm = x.tm, tn = x.tn;
            if (!single) dma.sem_wait(cdone(j % cbufs), 1, AAX_SEM_GE, true);
            dma.copy_2d(sram + cbuf(j), x.c + (x.m0 * ldc + x.n0) * 4, tn * 4, static_cast<uint32_t>(tm), tn * 4, ldc * 4);
            ++plan.dma_packets;
            plan.dmas.push_back({tm * tn * 4, tn * 4, plan.dma_ring(c)});
            plan.hbm_bytes += tm * tn * 4;
            plan.cluster_sram_bytes[c] += tm * tn * 4;
            if (!single && j + cbufs < tiles) dma.sem_signal(cfree(j % cbufs), 1);
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
                if (!single && kc == 0 && j >= cbufs) cmp.sem_wait(cfree(j % cbufs), 1, AAX_SEM_GE, true);
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
                const gemm_shape s{tm, tn, tk, static_cast<uint32_t>(e), 4, kc > 0, p.macs_per_pe(g.dtype)};
                plan.cluster_cycles[c] += gemm_cycles(p, p.default_dataflow, s);
                plan.cluster_sram_bytes[c] += 2 * (tm + tn) * tk * e + tm * tn * 4 * (kc ? 2 : 1);
                if (!single && i + 2 < loads) cmp.sem_signal(empty(slot), 1);
                if (!single && kc + 1 == kt) cmp.sem_signal(cdone(j % cbufs), 1);
            }
            if (single) store(j);
        }
        if (!single && tiles) store(tiles - 1);
    }
    return plan;
}

} // namespace accelvp
