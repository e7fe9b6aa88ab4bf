#include "tlm/compute/vector_engine.h"

#include <cstring>
#include <vector>

#include "tlm/compute/numerics.h"

namespace accelvp {

namespace {
bool takes_b(unsigned op) { return op <= AAX_VEC_MAX; }  // ADD, MUL, FMA, MAX
bool is_row_reduction(unsigned op) { return op == AAX_VEC_ROW_SUM || op == AAX_VEC_ROW_MAX; }

// Where an operand lives and how big it is (elements of its type).
struct operand {
    bool used = false;
    uint64_t addr = 0, rows = 0, cols = 0, stride = 0;  // stride in elements
};

float bits_to_f32(uint32_t b) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}
} // namespace

vector_engine::vector_engine(sc_core::sc_module_name name, const compute_params& p, sparse_store& sram)
    : compute_engine(name, p, sram, sizeof(aax_pkt_vec)) {
    stats_.add(elements_);
}

vector_engine::~vector_engine() = default;

compute_engine::result vector_engine::execute(const uint8_t* bytes, bool timing_only) {
    aax_pkt_vec v;
    std::memcpy(&v, bytes, sizeof(v));
    result r;
    r.status = AAX_ERR_BAD_PARAM;
    const uint32_t f = v.hdr.param;
    num::dtype in, out;
    if (f & ~AAX_VEC_PARAM_VALID) return r;
    if (v.cluster >= p_.clusters || v.op >= AAX_VEC_OP_COUNT) return r;
    if (!num::dtype_from_code(v.dtype, in) || !num::dtype_from_code(v.dtype_out, out)) return r;
    const unsigned op = v.op;
    if (op == AAX_VEC_TRANSPOSE && out != in) return r;
    const unsigned bmodes = !!(f & AAX_VEC_B_SCALAR) + !!(f & AAX_VEC_B_ROW) + !!(f & AAX_VEC_B_COL);
    if (bmodes > 1 || (bmodes && !takes_b(op))) return r;
    if ((f & AAX_VEC_C_ROW) && op != AAX_VEC_FMA) return r;
    if ((f & AAX_VEC_AFFINE) && op != AAX_VEC_LAYERNORM) return r;
    if (v.rows == 0 || v.cols == 0) return r;
    const uint64_t rows = v.rows, cols = v.cols;

    // Operand shapes.
    operand a{true, v.src0, rows, cols, v.src0_stride ? v.src0_stride : cols};
    operand b, c, y;
    if (takes_b(op) && !(f & AAX_VEC_B_SCALAR)) {
        if (f & AAX_VEC_B_ROW) b = {true, v.src1, 1, cols, cols};
        else if (f & AAX_VEC_B_COL) b = {true, v.src1, rows, 1, v.src1_stride ? v.src1_stride : 1};
        else b = {true, v.src1, rows, cols, v.src1_stride ? v.src1_stride : cols};
    }
    if (op == AAX_VEC_LAYERNORM && (f & AAX_VEC_AFFINE)) {
        b = {true, v.src1, 1, cols, cols};
        c = {true, v.src2, 1, cols, cols};
    }
    if (op == AAX_VEC_FMA) {
        if (f & AAX_VEC_C_ROW) c = {true, v.src2, 1, cols, cols};
        else c = {true, v.src2, rows, cols, v.src2_stride ? v.src2_stride : cols};
    }
    if (is_row_reduction(op)) y = {true, v.dst, rows, 1, v.dst_stride ? v.dst_stride : 1};
    else if (op == AAX_VEC_TRANSPOSE) y = {true, v.dst, cols, rows, v.dst_stride ? v.dst_stride : rows};
    else y = {true, v.dst, rows, cols, v.dst_stride ? v.dst_stride : cols};
    for (const operand* o : {&a, &b, &c, &y})
        if (o->used && o->stride < o->cols) return r;

    r.status = AAX_ERR_BAD_ADDRESS;
    const uint64_t ie = num::dtype_size(in), oe = num::dtype_size(out);
    for (const operand* o : {&a, &b, &c, &y}) {
        const uint64_t e = o == &y ? oe : ie;
        if (o->used && !sram_.fits(o->addr, o->rows, o->cols * e, o->stride * e)) {
            r.error_addr = o->addr;
            return r;
        }
    }
    r.status = AAX_OK;

    vec_shape s;
    s.op = op;
    s.rows = rows;
    s.cols = cols;
    for (const operand* o : {&a, &b, &c}) {
        if (!o->used) continue;
        s.bytes_read += o->rows * o->cols * ie;
        if (o->rows == rows && o->cols == cols) s.elem_read += static_cast<uint32_t>(ie);  // every element
        else if (o->cols == 1 && o->rows == rows) s.row_read += static_cast<uint32_t>(ie);  // B_COL: one per row
        else s.row0_elem_read += static_cast<uint32_t>(ie);  // B_ROW, C_ROW, gamma, beta: the first row
    }
    s.bytes_written = y.rows * y.cols * oe;
    r.cycles = vec_cycles(p_, s, &r.stall);
    elements_ += y.rows * y.cols;
    if (timing_only) return r;

    auto load_raw = [&](const operand& o, uint64_t e) {
        std::vector<uint8_t> raw(o.rows * o.cols * e);
        sram_.read_rows(o.addr, o.rows, o.cols * e, o.stride * e, raw.data());
        return raw;
    };
    auto store_raw = [&](const std::vector<uint8_t>& raw) {
        sram_.write_rows(y.addr, y.rows, y.cols * oe, y.stride * oe, raw.data());
    };
    if (op == AAX_VEC_TRANSPOSE) {  // bits are moved, not converted
        const std::vector<uint8_t> src = load_raw(a, ie);
        std::vector<uint8_t> dst(src.size());
        num::transpose(src.data(), dst.data(), rows, cols, ie);
        store_raw(dst);
        return r;
    }
    auto load = [&](const operand& o) {
        const std::vector<uint8_t> raw = load_raw(o, ie);
        std::vector<float> x(o.rows * o.cols);
        num::to_f32(in, raw.data(), x.data(), x.size());
        return x;
    };
    const uint64_t n = rows * cols;
    // Operand b or c widened to a full rows x cols matrix (broadcasts expanded).
    auto full = [&](const operand& o, bool scalar) {
        std::vector<float> x(n);
        if (scalar) {
            std::fill(x.begin(), x.end(), bits_to_f32(v.scalar));
            return x;
        }
        const std::vector<float> src = load(o);
        for (uint64_t i = 0; i < rows; ++i)
            for (uint64_t j = 0; j < cols; ++j)
                x[i * cols + j] = src[(o.rows == 1 ? 0 : i) * o.cols + (o.cols == 1 ? 0 : j)];
        return x;
    };
    const std::vector<float> X = load(a);
    std::vector<float> Y(y.rows * y.cols);
    switch (op) {
    case AAX_VEC_ADD: num::vadd(X.data(), full(b, f & AAX_VEC_B_SCALAR).data(), Y.data(), n); break;
    case AAX_VEC_MUL: num::vmul(X.data(), full(b, f & AAX_VEC_B_SCALAR).data(), Y.data(), n); break;
    case AAX_VEC_MAX: num::vmax(X.data(), full(b, f & AAX_VEC_B_SCALAR).data(), Y.data(), n); break;
    case AAX_VEC_FMA:
        num::vfma(X.data(), full(b, f & AAX_VEC_B_SCALAR).data(), full(c, false).data(), Y.data(), n);
        break;
    case AAX_VEC_RELU: num::vrelu(X.data(), Y.data(), n); break;
    case AAX_VEC_GELU: num::vgelu(X.data(), Y.data(), n); break;
    case AAX_VEC_EXP: num::vexp(X.data(), Y.data(), n); break;
    case AAX_VEC_RECIP: num::vrecip(X.data(), Y.data(), n); break;
    case AAX_VEC_CONVERT: Y = X; break;
    case AAX_VEC_ROW_SUM: num::row_sum(X.data(), Y.data(), rows, cols); break;
    case AAX_VEC_ROW_MAX: num::row_max(X.data(), Y.data(), rows, cols); break;
    case AAX_VEC_SOFTMAX: num::softmax_rows(X.data(), Y.data(), rows, cols); break;
    case AAX_VEC_LAYERNORM: {
        const bool affine = f & AAX_VEC_AFFINE;
        const std::vector<float> G = affine ? load(b) : std::vector<float>{};
        const std::vector<float> Bt = affine ? load(c) : std::vector<float>{};
        num::layernorm_rows(X.data(), Y.data(), rows, cols, bits_to_f32(v.eps), affine ? G.data() : nullptr,
                            affine ? Bt.data() : nullptr);
        break;
    }
    default: break;
    }
    std::vector<uint8_t> raw(Y.size() * oe);
    num::from_f32(out, Y.data(), raw.data(), Y.size());
    store_raw(raw);
    return r;
}

} // namespace accelvp
