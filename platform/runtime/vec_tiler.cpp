#include "platform/runtime/vec_tiler.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "tlm/compute/numerics.h"

namespace accelvp {

namespace {
uint64_t elem(uint8_t code) {
    num::dtype t;
    if (!num::dtype_from_code(code, t)) throw std::invalid_argument("bad dtype in a vector program");
    return num::dtype_size(t);
}
uint32_t f32_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
} // namespace

gemm_plan plan_vec(const compute_params& p, const vec_program& v, const std::vector<uint64_t>& sram_addr,
                   uint32_t rings) {
    gemm_plan plan;
    const bool single = rings < 2;
    plan.clusters = single ? 1 : std::min<uint32_t>(static_cast<uint32_t>(sram_addr.size()), rings / 2);
    plan.streams.resize(single ? 1 : 2 * plan.clusters);
    plan.cluster_cycles.assign(plan.clusters, 0);
    plan.cluster_vec_cycles.assign(plan.clusters, 0);
    plan.cluster_sram_bytes.assign(plan.clusters, 0);
    if (v.rows == 0 || v.cols == 0) return plan;

    // Row block: every cluster gets work, and all buffers of a block fit the SRAM.
    uint64_t row_bytes = 0;
    std::vector<uint64_t> off;
    for (uint8_t b : v.bufs) {
        off.push_back(row_bytes);  // scaled by the block's rows below
        row_bytes += v.cols * elem(b);
    }
    if (row_bytes > p.sram_bytes) throw std::invalid_argument("one row of a vector phase does not fit compute.sram_bytes");
    const uint64_t rb = std::min({ceil_div(v.rows, plan.clusters), p.sram_bytes / row_bytes, uint64_t{65535}});
    const uint64_t blocks = ceil_div(v.rows, rb);

    for (uint64_t blk = 0; blk < blocks; ++blk) {
        const uint32_t c = static_cast<uint32_t>(blk % plan.clusters);
        cmdbuf_builder& s = plan.streams[plan.compute_ring(c)];
        const uint64_t r0 = blk * rb, rows = std::min(rb, v.rows - r0);
        auto buf = [&](unsigned i) { return off.at(i) * rb; };  // SRAM offset of buffer i
        auto move = [&](const vec_program::xfer& x, bool in) {
            const uint64_t e = elem(v.bufs.at(x.buf)), ld = x.m.ld ? x.m.ld : v.cols;
            const uint64_t hbm = x.m.addr + (x.one_row ? 0 : r0 * ld * e), sram = sram_addr[c] + buf(x.buf);
            const uint64_t n = x.one_row ? 1 : rows;
            if (in) s.copy_2d(hbm, sram, v.cols * e, static_cast<uint32_t>(n), ld * e, v.cols * e);
            else s.copy_2d(sram, hbm, v.cols * e, static_cast<uint32_t>(n), v.cols * e, ld * e);
            ++plan.dma_packets;
            plan.dmas.push_back({n * v.cols * e, v.cols * e, plan.compute_ring(c)});
            plan.hbm_bytes += n * v.cols * e;
            plan.cluster_sram_bytes[c] += n * v.cols * e;
        };
        for (const auto& x : v.loads) move(x, true);
        for (const auto& o : v.ops) {
            aax_pkt_vec pk{};
            pk.cluster = static_cast<uint16_t>(c);
            pk.op = o.op;
            pk.dtype = v.bufs.at(o.a);
            pk.dtype_out = v.bufs.at(o.dst);
            pk.rows = static_cast<uint32_t>(rows);
            pk.cols = static_cast<uint32_t>(v.cols);
            pk.src0 = static_cast<uint32_t>(buf(o.a));
            pk.src1 = static_cast<uint32_t>(buf(o.b));
            pk.src2 = static_cast<uint32_t>(buf(o.c));
            pk.dst = static_cast<uint32_t>(buf(o.dst));
            pk.scalar = f32_bits(o.scalar);
            pk.eps = f32_bits(o.eps);
            s.vec(pk, o.param);
            ++plan.vec_packets;
            // Same SRAM traffic accounting as the vector engine (B_SCALAR reads nothing).
            const bool reads_b = (o.op == AAX_VEC_ADD || o.op == AAX_VEC_MUL || o.op == AAX_VEC_MAX) &&
                                 !(o.param & AAX_VEC_B_SCALAR);
            vec_shape vs;
            vs.op = o.op;
            vs.rows = rows;
            vs.cols = v.cols;
            vs.bytes_read = rows * v.cols * elem(pk.dtype) * (reads_b ? 2 : 1);
            vs.bytes_written = rows * v.cols * elem(pk.dtype_out);
            plan.cluster_vec_cycles[c] += vec_cycles(p, vs);
            plan.cluster_sram_bytes[c] += vs.bytes_read + vs.bytes_written;
        }
        for (const auto& x : v.stores) move(x, false);
    }
    return plan;
}

} // namespace accelvp
