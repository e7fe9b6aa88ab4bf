#include "platform/runtime/im2col.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace accelvp {

namespace {

// Emits 2-D copies into jobs (a new one when a command buffer would pass
// AAX_MAX_CMDBUF_SIZE), merging runs of one-row copies of equal width whose source and
// destination advance by constant (positive) strides into one packet.
//
// With several streams (one per DMA engine), each packet goes to the stream with the fewest
// bytes so far in the current job, and barrier() starts a new job: the jobs run one after
// another, so what a later stage reads is complete.
class dma_emitter {
public:
    dma_emitter(std::vector<gemm_plan>& jobs, uint32_t streams) : jobs_(jobs), streams_(std::max(1u, streams)) {}

    void copy(uint64_t src, uint64_t dst, uint64_t width, uint64_t height, uint64_t ss, uint64_t ds) {
        if (height > 1 && ss == width && ds == width) {  // contiguous on both sides: one long row
            width *= height;
            height = 1;
        }
        if (height > 1) {
            flush();
            emit(src, dst, width, height, ss, ds);
            return;
        }
        if (n_ && width == w_ && n_ < UINT32_MAX && src > src0_ && dst > dst0_) {
            if (n_ == 1 && dst - dst0_ >= width) {
                ss_ = src - src0_;
                ds_ = dst - dst0_;
                ++n_;
                return;
            }
            if (n_ > 1 && src == src0_ + n_ * ss_ && dst == dst0_ + n_ * ds_) {
                ++n_;
                return;
            }
        }
        flush();
        src0_ = src;
        dst0_ = dst;
        w_ = width;
        n_ = 1;
    }
    // Zero `bytes` at dst, cut into one piece per stream (64-byte multiples).
    void fill(uint64_t dst, uint64_t bytes) {
        flush();
        const uint64_t piece = (bytes / streams_ + 63) / 64 * 64;
        for (uint64_t off = 0; off < bytes; off += piece) {
            const uint64_t n = std::min(piece, bytes - off);
            stream(n).fill(dst + off, n, 1, 0, 0);
            record(n, n, false);
        }
    }
    void flush() {
        if (n_) emit(src0_, dst0_, w_, n_, ss_, ds_);
        n_ = 0;
    }
    // What comes next may read what was emitted so far: a new job (with several streams).
    void barrier() {
        flush();
        if (streams_ > 1) new_job_ = true;
    }

private:
    void emit(uint64_t src, uint64_t dst, uint64_t width, uint64_t height, uint64_t ss, uint64_t ds) {
        stream(width * height)
            .copy_2d(src, dst, width, static_cast<uint32_t>(height), height > 1 ? ss : 0, height > 1 ? ds : 0);
        record(width * height, width, true);
    }
    cmdbuf_builder& stream(uint64_t bytes) {
        // A bound on the host memory the streams take (56 bytes a packet): the compact
        // element-wise pattern of a huge shape fails instead of exhausting it.
        if (++packets_ > (1u << 20))
            throw std::invalid_argument("the gather needs more than 2^20 DMA packets (wide rows need far fewer)");
        if (!jobs_.empty() && !new_job_) {
            cur_ = static_cast<uint32_t>(std::min_element(load_.begin(), load_.end()) - load_.begin());
        }
        if (jobs_.empty() || new_job_ || jobs_.back().streams[cur_].size() + sizeof(aax_pkt_dma) > AAX_MAX_CMDBUF_SIZE) {
            jobs_.emplace_back();
            jobs_.back().streams.resize(streams_);
            load_.assign(streams_, 0);
            cur_ = 0;
            new_job_ = false;
        }
        load_[cur_] += bytes;
        return jobs_.back().streams[cur_];
    }
    void record(uint64_t bytes, uint64_t row, bool read) {
        gemm_plan& plan = jobs_.back();
        ++plan.dma_packets;
        plan.dmas.push_back({bytes, row, cur_});
        plan.hbm_bytes += read ? 2 * bytes : bytes;
    }

    std::vector<gemm_plan>& jobs_;
    const uint32_t streams_;
    std::vector<uint64_t> load_;  // bytes per stream in the current job
    uint32_t cur_ = 0;            // the stream of the packet being emitted
    bool new_job_ = false;
    uint64_t packets_ = 0;
    uint64_t src0_ = 0, dst0_ = 0, w_ = 0, n_ = 0, ss_ = 0, ds_ = 0;
};

// A block of rows of `width` bytes at src + sum(i_d * ss_d), dst + sum(i_d * ds_d) over the
// dimensions d. A DMA packet is 2-D, so: dimensions contiguous on both sides fold into the row,
// the largest remaining one becomes the packet height and the others loop (outer first, so the
// emitter can still merge along the innermost).
struct dim {
    uint64_t count, ss, ds;
};
void copy_block(dma_emitter& dma, uint64_t src, uint64_t dst, uint64_t width, std::vector<dim> dims) {
    for (bool folded = true; folded;) {
        folded = false;
        for (auto it = dims.begin(); it != dims.end(); ++it)
            if (it->count == 1 || (it->ss == width && it->ds == width)) {
                width *= it->count;
                dims.erase(it);
                folded = true;
                break;
            }
    }
    if (dims.empty()) return dma.copy(src, dst, width, 1, 0, 0);
    auto top = std::max_element(dims.begin(), dims.end(), [](const dim& x, const dim& y) { return x.count < y.count; });
    const dim h = *top;
    dims.erase(top);
    std::vector<uint64_t> i(dims.size(), 0);  // odometer over the looping dimensions
    for (;;) {
        uint64_t so = 0, d = 0;
        for (size_t k = 0; k < dims.size(); ++k) {
            so += i[k] * dims[k].ss;
            d += i[k] * dims[k].ds;
        }
        dma.copy(src + so, dst + d, width, h.count, h.ss, h.ds);
        size_t k = dims.size();
        while (k > 0 && ++i[k - 1] == dims[k - 1].count) i[--k] = 0;
        if (k == 0) return;
    }
}

} // namespace

std::vector<gemm_plan> plan_im2col(const conv_shape& cs, uint64_t x, uint64_t xpad, uint64_t out, uint32_t streams) {
    if (cs.stride == 0 || cs.pad >= cs.r || cs.pad >= cs.s || cs.h + 2 * cs.pad < cs.r || cs.w + 2 * cs.pad < cs.s)
        throw std::invalid_argument("bad convolution shape");
    std::vector<gemm_plan> jobs;
    dma_emitter dma(jobs, streams);
    const uint64_t e = cs.elem, N = cs.n, C = cs.c, H = cs.h, W = cs.w, st = cs.stride, pad = cs.pad;
    const uint64_t ph = cs.phases(), Hph = cs.phase_rows(), Wp = cs.wp(), P = cs.p(), Q = cs.qw();
    const uint64_t npq = N * P * Q, plane = ph * Hph * Wp * e, rs = cs.r * cs.s;

    // Stage 1, the padded copy Xp (N x C x phases x Hph x Wp): zero-filled in one packet when
    // there is padding (Xp is ~1/(R*S) of the im2col matrix), then the input rows of each
    // phase copied into place. Without it the gather reads X (N x C x H x W) itself.
    uint64_t xs = x, wx = W;
    if (cs.padded_copy()) {
        if (pad) {
            dma.fill(xpad, cs.padded_bytes());
            dma.barrier();  // the rows land in the zeroed copy
        }
        for (uint64_t a = 0; a < std::min(ph, cs.r); ++a) {  // taps r read phases r % ph only
            const uint64_t h0 = (a + ph - pad % ph) % ph;  // first input row with (h + pad) % ph == a
            if (h0 >= H) continue;
            const uint64_t dst = xpad + (a * Hph + (h0 + pad) / ph) * Wp * e + pad * e;
            const uint64_t rows = (H - 1 - h0) / ph + 1;
            copy_block(dma, x + h0 * W * e, dst, W * e, {{N * C, H * W * e, plane}, {rows, ph * W * e, Wp * e}});
        }
        dma.barrier();  // the gather reads the padded copy
        xs = xpad;
        wx = Wp;
    }
    const uint64_t xplane = cs.padded_copy() ? plane : H * W * e;

    // Stage 2, the gather: per filter tap (r, s) the block over (n, c) of runs of P*Wp
    // elements (wide), over (n, c, p) of rows of Q elements (compact, stride 1), or over
    // (n, c, p, q) of single elements (compact, stride > 1).
    for (uint64_t r = 0; r < cs.r; ++r)
        for (uint64_t s = 0; s < cs.s; ++s) {
            const uint64_t dst = out + (r * cs.s + s) * npq * e;
            std::vector<dim> dims{{N, C * xplane, P * Q * e}, {C, xplane, rs * npq * e}};
            if (cs.wide) {
                const uint64_t src = xs + ((r % ph) * Hph + r / ph) * wx * e + s * e;
                copy_block(dma, src, dst, P * Q * e, dims);
                continue;
            }
            const uint64_t src = xs + (r * wx + s) * e;
            dims.push_back({P, st * wx * e, Q * e});
            if (st == 1) {
                copy_block(dma, src, dst, Q * e, dims);
            } else {
                dims.push_back({Q, st * e, e});
                copy_block(dma, src, dst, e, dims);
            }
        }
    dma.flush();
    return jobs;
}

std::vector<gemm_plan> plan_copy(uint64_t src, uint64_t dst, uint64_t width, const std::vector<copy_dim>& dims,
                                 uint32_t streams) {
    std::vector<gemm_plan> jobs;
    dma_emitter dma(jobs, streams);
    std::vector<dim> d;
    for (const auto& c : dims) d.push_back({c.count, c.ss, c.ds});
    copy_block(dma, src, dst, width, d);
    dma.flush();
    return jobs;
}

} // namespace accelvp
