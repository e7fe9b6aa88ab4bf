#include "tlm/compute/matrix_engine.h"

#include <cstring>
#include <vector>

#include "tlm/compute/numerics.h"

namespace accelvp {

namespace {
bool gemm_out_ok(num::dtype in, num::dtype out) {
    if (in == num::dtype::int8) return out == num::dtype::int32;
    return num::is_float(out);
}
} // namespace

matrix_engine::matrix_engine(sc_core::sc_module_name name, const compute_params& p, sparse_store& sram)
    : compute_engine(name, p, sram, sizeof(aax_pkt_gemm)) {
    stats_.add(macs_);
    stats_.add(util_);
}

matrix_engine::~matrix_engine() = default;

compute_engine::result matrix_engine::validate(const aax_pkt_gemm& g, const compute_params& p) {
    result r;
    r.status = AAX_ERR_BAD_PARAM;
    num::dtype in, out;
    if (g.hdr.param & ~AAX_GEMM_PARAM_VALID) return r;
    if (g.cluster >= p.clusters) return r;
    if (!num::dtype_from_code(g.dtype_in, in) || !num::dtype_from_code(g.dtype_out, out)) return r;
    if (!num::gemm_input_ok(in) || !gemm_out_ok(in, out)) return r;
    if (g.dataflow > AAX_GEMM_DF_OS) return r;
    if (g.m == 0 || g.n == 0 || g.k == 0) return r;
    const bool bt = g.hdr.param & AAX_GEMM_B_TRANS;
    const uint64_t lda = g.lda ? g.lda : g.k, ldb = g.ldb ? g.ldb : (bt ? g.k : g.n), ldc = g.ldc ? g.ldc : g.n;
    if (lda < g.k || ldb < (bt ? g.k : g.n) || ldc < g.n) return r;
    r.status = AAX_ERR_BAD_ADDRESS;
    const uint64_t ie = num::dtype_size(in), oe = num::dtype_size(out);
    auto fits = [&](uint64_t addr, uint64_t rows, uint64_t cols, uint64_t ld, uint64_t e) {
        const unsigned __int128 end = static_cast<unsigned __int128>(rows - 1) * ld * e + cols * e + addr;
        return end <= p.sram_bytes;
    };
    if (!fits(g.a_addr, g.m, g.k, lda, ie)) { r.error_addr = g.a_addr; return r; }
    if (!(bt ? fits(g.b_addr, g.n, g.k, ldb, ie) : fits(g.b_addr, g.k, g.n, ldb, ie))) { r.error_addr = g.b_addr; return r; }
    if (!fits(g.c_addr, g.m, g.n, ldc, oe)) { r.error_addr = g.c_addr; return r; }
    r.status = AAX_OK;
    return r;
}

compute_engine::result matrix_engine::execute(const uint8_t* bytes, bool timing_only) {
    aax_pkt_gemm g;
    std::memcpy(&g, bytes, sizeof(g));
    result r = validate(g, p_);
    if (r.status != AAX_OK) return r;
    num::dtype in, out;
    num::dtype_from_code(g.dtype_in, in);
    num::dtype_from_code(g.dtype_out, out);
    const bool acc = g.hdr.param & AAX_GEMM_ACCUMULATE;
    const uint64_t m = g.m, n = g.n, k = g.k;
    const uint64_t ie = num::dtype_size(in), oe = num::dtype_size(out);

    gemm_shape s{m, n, k, static_cast<uint32_t>(ie), static_cast<uint32_t>(oe), acc, p_.macs_per_pe(g.dtype_in)};
    const dataflow df = g.dataflow == AAX_GEMM_DF_DEFAULT ? p_.default_dataflow : static_cast<dataflow>(g.dataflow);
    r.cycles = gemm_cycles(p_, df, s);
    const uint64_t peak = ceil_div(m * n * k, static_cast<uint64_t>(p_.array_rows) * p_.array_cols * s.rate);
    r.stall = r.cycles > peak ? r.cycles - peak : 0;  // cycles below the array's peak MAC rate
    macs_ += m * n * k;
    util_.sample(static_cast<double>(m * n * k) /
                 (static_cast<double>(r.cycles) * p_.array_rows * p_.array_cols * s.rate));
    if (!timing_only) compute(g);
    return r;
}

void matrix_engine::compute(const aax_pkt_gemm& g) {
    num::dtype in, out;
    num::dtype_from_code(g.dtype_in, in);
    num::dtype_from_code(g.dtype_out, out);
    const bool bt = g.hdr.param & AAX_GEMM_B_TRANS, acc = g.hdr.param & AAX_GEMM_ACCUMULATE;
    const uint64_t m = g.m, n = g.n, k = g.k;
    const uint64_t lda = g.lda ? g.lda : k, ldb = g.ldb ? g.ldb : (bt ? k : n), ldc = g.ldc ? g.ldc : n;
    const uint64_t ie = num::dtype_size(in), oe = num::dtype_size(out);
    // Functional: gather the operands densely, run the reference, scatter C.
    std::vector<uint8_t> A(m * k * ie), B(k * n * ie);
    sram_.read_rows(g.a_addr, m, k * ie, lda * ie, A.data());
    if (bt) {
        std::vector<uint8_t> Bt(n * k * ie);
        sram_.read_rows(g.b_addr, n, k * ie, ldb * ie, Bt.data());
        num::transpose(Bt.data(), B.data(), n, k, ie);
    } else {
        sram_.read_rows(g.b_addr, k, n * ie, ldb * ie, B.data());
    }
    // The accumulator is fp32 (int32 for int8 inputs), 4 bytes either way.
    const num::dtype acc_t = num::gemm_acc_type(in);
    std::vector<float> C(m * n);
    std::vector<uint8_t> Cout(m * n * oe);
    if (acc) {
        sram_.read_rows(g.c_addr, m, n * oe, ldc * oe, Cout.data());
        if (out == acc_t) std::memcpy(C.data(), Cout.data(), Cout.size());
        else num::to_f32(out, Cout.data(), C.data(), m * n);
    }
    num::gemm_ref(in, A.data(), B.data(), C.data(), m, n, k, k, n, n, acc);
    if (out == acc_t) std::memcpy(Cout.data(), C.data(), Cout.size());
    else num::from_f32(out, C.data(), Cout.data(), m * n);
    sram_.write_rows(g.c_addr, m, n * oe, ldc * oe, Cout.data());
}

} // namespace accelvp
