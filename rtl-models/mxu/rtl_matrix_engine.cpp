#include "mxu/rtl_matrix_engine.h"

#include <cstring>
#include <string>

#include "tlm/compute/engine_models.h"
#include "tlm/compute/numerics.h"
#include "tlm/core/config.h"

namespace accelvp {

// The tile's SRAM model on the cluster SRAM's store.
class rtl_matrix_engine::store_backend : public rtl::sram_backend {
public:
    explicit store_backend(sparse_store& s) : s_(s) {}
    uint8_t rd8(uint64_t a) override {
        uint8_t b = 0;
        s_.read(a, &b, 1);
        return b;
    }
    uint32_t rd32(uint64_t a) override {
        uint8_t b[4] = {};
        s_.read(a, b, 4);
        return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
    }
    void wr32(uint64_t a, uint32_t v) override {
        const uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
        s_.write(a, b, 4);
    }

private:
    sparse_store& s_;
};

rtl_matrix_engine::rtl_matrix_engine(sc_core::sc_module_name name, const compute_params& p, sparse_store& sram)
    : matrix_engine(name, p, sram), backend_(std::make_unique<store_backend>(sram)) {
    cfg_.rows = p.array_rows;
    cfg_.cols = p.array_cols;
    cfg_.sram_bytes_per_cycle = p.sram_bytes_per_cycle;
    cfg_.setup_cycles = p.gemm_setup_cycles;
    cfg_.exit_tap = true;
    stats_.add({&rtl_packets_, &rtl_data_packets_, &fallback_});
}

rtl_matrix_engine::~rtl_matrix_engine() = default;

void rtl_matrix_engine::check(const compute_params& p) {
    const std::string pre = "compute.matrix.model=rtl: ";
    if (p.array_rows > rtl::mxu_rtl::max_rows || p.array_cols > rtl::mxu_rtl::max_cols)
        throw config_error(pre + "compute.array_rows and compute.array_cols must be 1.." +
                           std::to_string(rtl::mxu_rtl::max_rows) + " (the RTL array is " +
                           std::to_string(rtl::mxu_rtl::max_rows) + " x " + std::to_string(rtl::mxu_rtl::max_cols) +
                           "), got " + std::to_string(p.array_rows) + " x " + std::to_string(p.array_cols));
    if (p.block_pipelining)
        throw config_error(pre + "compute.block_pipelining must be false (the RTL tile drains the array between "
                                 "weight blocks); valid: false");
    const std::pair<const char*, uint32_t> rates[] = {{"fp32", p.rate_fp32}, {"bf16", p.rate_bf16}, {"fp16", p.rate_fp16},
                                                     {"fp8", p.rate_fp8}, {"int8", p.rate_int8}};
    for (const auto& [t, q] : rates)
        if (q != 1)
            throw config_error(pre + "compute.macs_per_pe." + t + " must be 1 (one MAC per PE per cycle in the RTL), got " +
                               std::to_string(q) + "; valid: 1");
}

compute_engine::result rtl_matrix_engine::execute(const uint8_t* bytes, bool timing_only) {
    aax_pkt_gemm g;
    std::memcpy(&g, bytes, sizeof(g));
    result r = validate(g, p_);
    if (r.status != AAX_OK) return r;
    num::dtype in, out;
    num::dtype_from_code(g.dtype_in, in);
    num::dtype_from_code(g.dtype_out, out);
    const bool bt = g.hdr.param & AAX_GEMM_B_TRANS, acc = g.hdr.param & AAX_GEMM_ACCUMULATE;
    const uint32_t ie = static_cast<uint32_t>(num::dtype_size(in)), oe = static_cast<uint32_t>(num::dtype_size(out));
    rtl::mxu_job j;
    j.m = g.m;
    j.n = g.n;
    j.k = g.k;
    j.a_addr = g.a_addr;
    j.b_addr = g.b_addr;
    j.c_addr = g.c_addr;
    j.lda = g.lda ? g.lda : g.k;
    j.ldb = g.ldb ? g.ldb : (bt ? g.k : g.n);
    j.ldc = g.ldc ? g.ldc : g.n;
    j.accumulate = acc;
    j.b_trans = bt;
    j.in_bytes = ie;
    j.out_bytes = oe;
    const bool int8 = in == num::dtype::int8;
    j.data = int8 && !timing_only;
    const dataflow df = g.dataflow == AAX_GEMM_DF_DEFAULT ? p_.default_dataflow : static_cast<dataflow>(g.dataflow);
    j.os = df == dataflow::output_stationary;
    const bool on_rtl = !rtl::mxu_rtl::unsupported(cfg_, j);
    gemm_shape s{g.m, g.n, g.k, ie, oe, acc, p_.macs_per_pe(g.dtype_in)};
    if (on_rtl) {
        r.cycles = tile_.run(cfg_, j, backend_.get());
        ++rtl_packets_;
        if (j.data) ++rtl_data_packets_;
    } else {
        r.cycles = gemm_cycles(p_, df, s);
        ++fallback_;
    }
    macs_ += uint64_t(g.m) * g.n * g.k;
    util_.sample(static_cast<double>(uint64_t(g.m) * g.n * g.k) /
                 (static_cast<double>(r.cycles) * p_.array_rows * p_.array_cols * s.rate));
    if (!timing_only && !(on_rtl && j.data)) compute(g);
    return r;
}

namespace {
const bool registered = [] {
    register_engine_model("matrix", "rtl", engine_model_of<rtl_matrix_engine>());
    return true;
}();
} // namespace

} // namespace accelvp
