#include "vpu/rtl_vector_engine.h"

#include <cstring>
#include <string>

#include "tlm/compute/engine_models.h"
#include "tlm/compute/numerics.h"
#include "tlm/core/config.h"

namespace accelvp {

// The cluster's SRAM model on the cluster SRAM's store.
class rtl_vector_engine::store_backend : public rtl::vpu_sram {
public:
    explicit store_backend(sparse_store& s) : s_(s) {}
    uint8_t rd8(uint64_t a) override {
        uint8_t b = 0;
        s_.read(a, &b, 1);
        return b;
    }
    void wr(uint64_t a, unsigned n, uint32_t v) override {
        const uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
        s_.write(a, b, n);
    }

private:
    sparse_store& s_;
};

rtl_vector_engine::rtl_vector_engine(sc_core::sc_module_name name, const compute_params& p, sparse_store& sram)
    : vector_engine(name, p, sram), backend_(std::make_unique<store_backend>(sram)) {
    cfg_.lanes = p.vector_lanes;
    cfg_.depth = p.vector_depth;
    cfg_.sram_bytes_per_cycle = p.sram_bytes_per_cycle;
    cfg_.setup_cycles = p.vector_setup_cycles;
    stats_.add({&rtl_packets_, &rtl_data_packets_, &fallback_});
}

rtl_vector_engine::~rtl_vector_engine() = default;

void rtl_vector_engine::check(const compute_params& p) {
    const std::string pre = "compute.vector.model=rtl: ";
    if (p.vector_lanes < 1 || p.vector_lanes > rtl::vpu_rtl::max_lanes)
        throw config_error(pre + "compute.vector_lanes must be 1.." + std::to_string(rtl::vpu_rtl::max_lanes) +
                           " (the RTL lane cluster has " + std::to_string(rtl::vpu_rtl::max_lanes) + " lanes), got " +
                           std::to_string(p.vector_lanes));
    if (p.vector_depth < 1 || p.vector_depth > rtl::vpu_rtl::max_depth)
        throw config_error(pre + "compute.vector_depth must be 1.." + std::to_string(rtl::vpu_rtl::max_depth) +
                           " (the RTL lane pipeline has " + std::to_string(rtl::vpu_rtl::max_depth) + " stages), got " +
                           std::to_string(p.vector_depth));
}

namespace {
// Byte range [lo, hi) of a rows x cols operand with a row stride, in bytes.
struct range {
    uint64_t lo = 0, hi = 0;
    bool overlaps(const range& o) const { return lo < o.hi && o.lo < hi; }
};
range span(uint64_t addr, uint64_t rows, uint64_t cols, uint64_t stride, uint64_t e) {
    return {addr, addr + ((rows - 1) * stride + cols) * e};
}
} // namespace

compute_engine::result rtl_vector_engine::execute(const uint8_t* bytes, bool timing_only) {
    aax_pkt_vec v;
    std::memcpy(&v, bytes, sizeof(v));
    num::dtype in = num::dtype::fp32, out = num::dtype::fp32;
    const bool types_ok = num::dtype_from_code(v.dtype, in) && num::dtype_from_code(v.dtype_out, out);
    const uint32_t f = v.hdr.param;
    const bool red = v.op == AAX_VEC_ROW_SUM || v.op == AAX_VEC_ROW_MAX;
    const bool takes_b = v.op == AAX_VEC_ADD || v.op == AAX_VEC_MUL || v.op == AAX_VEC_MAX;

    rtl::vpu_job j;
    j.op = v.op;
    j.bmode = (f & AAX_VEC_B_SCALAR) ? rtl::vpu_job::b_scalar
              : (f & AAX_VEC_B_ROW)  ? rtl::vpu_job::b_row
              : (f & AAX_VEC_B_COL)  ? rtl::vpu_job::b_col
                                     : rtl::vpu_job::b_full;
    j.rows = v.rows;
    j.cols = v.cols;
    j.a_addr = v.src0;
    j.b_addr = v.src1;
    j.y_addr = v.dst;
    j.lda = v.src0_stride ? v.src0_stride : v.cols;
    j.ldb = v.src1_stride ? v.src1_stride : (j.bmode == rtl::vpu_job::b_col ? 1 : v.cols);
    j.ldy = v.dst_stride ? v.dst_stride : (red ? 1 : v.cols);
    const uint64_t ie = types_ok ? num::dtype_size(in) : 1, oe = types_ok ? num::dtype_size(out) : 1;
    j.in_bytes = static_cast<uint32_t>(ie);
    j.out_bytes = static_cast<uint32_t>(oe);

    // The RTL data path: INT8, BF16 or FP32 sources, INT8, INT32, FP32 or BF16 results (the lanes'
    // fp32 arithmetic is the TLM engine's, bit for bit), and a result that overlaps no source
    // except in place (same address and stride, a full operand). ROW_SUM adds in a tree: exact
    // (and so the TLM engine's sequential sum) for INT8 sources up to 2^17 columns only; float
    // sums come from the reference (docs/calibration.md).
    const bool src_ok = in == num::dtype::int8 || in == num::dtype::bf16 || in == num::dtype::fp32;
    const bool dst_ok = out == num::dtype::int8 || out == num::dtype::int32 || out == num::dtype::fp32 ||
                        out == num::dtype::bf16;
    bool data = types_ok && !timing_only && src_ok && dst_ok && rtl::vpu_rtl::implements(v.op);
    if (data && v.op == AAX_VEC_ROW_SUM && (in != num::dtype::int8 || v.cols > (1u << 17))) data = false;
    j.scalar = v.scalar;
    if (data && v.rows && v.cols) {
        const range y = span(v.dst, v.rows, red ? 1 : v.cols, j.ldy, oe);
        const range a = span(v.src0, v.rows, v.cols, j.lda, ie);
        const bool a_in_place = !red && v.src0 == v.dst && j.lda == j.ldy && ie == oe;
        if (y.overlaps(a) && !a_in_place) data = false;
        if (takes_b && j.bmode != rtl::vpu_job::b_scalar) {
            const uint64_t br = j.bmode == rtl::vpu_job::b_row ? 1 : v.rows;
            const uint64_t bc = j.bmode == rtl::vpu_job::b_col ? 1 : v.cols;
            const range b = span(v.src1, br, bc, j.ldb, ie);
            const bool b_in_place = j.bmode == rtl::vpu_job::b_full && v.src1 == v.dst && j.ldb == j.ldy && ie == oe;
            if (y.overlaps(b) && !b_in_place) data = false;
        }
    }
    j.in = in == num::dtype::bf16 ? rtl::vpu_job::in_bf16 : in == num::dtype::fp32 ? rtl::vpu_job::in_fp32 : rtl::vpu_job::in_int8;
    j.out = out == num::dtype::int8    ? rtl::vpu_job::out_int8
            : out == num::dtype::int32 ? rtl::vpu_job::out_int32
            : out == num::dtype::bf16  ? rtl::vpu_job::out_bf16
                                       : rtl::vpu_job::out_fp32;
    j.data = data;

    // Validation, stats and (unless the RTL computes it) the result: the TLM engine.
    result r = vector_engine::execute(bytes, timing_only || data);
    if (r.status != AAX_OK) return r;
    if (rtl::vpu_rtl::unsupported(cfg_, j)) {
        ++fallback_;
        return r;
    }
    r.cycles = cluster_.run(cfg_, j, backend_.get());
    ++rtl_packets_;
    if (data) ++rtl_data_packets_;
    return r;
}

namespace {
const bool registered = [] {
    register_engine_model("vector", "rtl", engine_model_of<rtl_vector_engine>());
    return true;
}();
} // namespace

} // namespace accelvp
