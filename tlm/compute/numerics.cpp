#include "tlm/compute/numerics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace accelvp::num {

namespace {

inline uint32_t bits_of(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline float float_of(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

struct dtype_info {
    const char* name;
    size_t size;
};
constexpr dtype_info infos[dtype_count] = {
    {"fp32", 4}, {"bf16", 2}, {"fp16", 2}, {"fp8_e4m3", 1}, {"fp8_e5m2", 1}, {"int8", 1}, {"int32", 4},
};

// A small binary float format with ebits exponent and mbits mantissa bits (bias 2^(ebits-1)-1),
// encoded from fp32 with round-to-nearest-even. max_code is the largest finite magnitude code;
// the caller maps codes above it (overflow) and Inf/NaN inputs. Works on |x| bits.
struct small_format {
    int ebits, mbits;
    uint32_t max_code;
};

// Rounds |x| (finite, bits a < 0x7F800000) to the format; returns the magnitude code, which may
// exceed max_code on overflow (the caller decides what overflow means).
inline uint32_t round_magnitude(uint32_t a, const small_format& f) {
    const int bias = (1 << (f.ebits - 1)) - 1;
    const int emin = 1 - bias;             // exponent of the smallest normal
    const int shift = 23 - f.mbits;        // mantissa bits dropped
    const int e = int(a >> 23) - 127;      // unbiased fp32 exponent (fp32 subnormals: -127)
    if (e >= emin) {
        // Normal: rebias the exponent in place; the rounding carry ripples into the exponent,
        // which is exactly RNE across binade (and overflow) boundaries.
        const uint32_t r = a - (uint32_t(127 - bias) << 23);
        const uint32_t rounded = r + ((1u << (shift - 1)) - 1) + ((r >> shift) & 1);
        return rounded >> shift;
    }
    // Subnormal in the target: units of 2^(emin - mbits). fp32 subnormals are far below every
    // target's smallest subnormal and round to zero here.
    if (e < -126) return 0;
    const uint32_t m = (a & 0x7FFFFF) | 0x800000;
    const int sh = shift + (emin - e);  // >= shift + 1
    if (sh > 25) return 0;              // below half of the smallest subnormal
    const uint32_t q = m >> sh;
    const uint32_t rem = m & ((1u << sh) - 1);
    const uint32_t half = 1u << (sh - 1);
    return q + ((rem > half || (rem == half && (q & 1))) ? 1 : 0);  // q+1 == 2^mbits is the min normal
}

constexpr small_format fmt_fp16{5, 10, 0x7BFF};
constexpr small_format fmt_e4m3{4, 3, 0x7E};
constexpr small_format fmt_e5m2{5, 2, 0x7B};

// Decoder for a small format with IEEE-style specials (fp16, E5M2) when ieee_specials, or
// E4M3 (only S.1111.111 is NaN) otherwise.
float decode_small(uint32_t code, int ebits, int mbits, bool ieee_specials) {
    const uint32_t sign = (code >> (ebits + mbits)) & 1;
    const uint32_t exp = (code >> mbits) & ((1u << ebits) - 1);
    const uint32_t man = code & ((1u << mbits) - 1);
    const int bias = (1 << (ebits - 1)) - 1;
    const uint32_t emax_field = (1u << ebits) - 1;
    uint32_t out;
    if (ieee_specials && exp == emax_field) {
        out = 0x7F800000 | (man << (23 - mbits)) | (man ? 0x400000u : 0);
    } else if (!ieee_specials && exp == emax_field && man == (1u << mbits) - 1) {
        out = 0x7FC00000;
    } else if (exp == 0) {
        // Subnormal: man * 2^(1 - bias - mbits), exact in fp32.
        const float v = std::ldexp(float(man), 1 - bias - mbits);
        out = bits_of(v);
    } else {
        out = (uint32_t(int(exp) - bias + 127) << 23) | (man << (23 - mbits));
    }
    return float_of(out | (sign << 31));
}

struct fp8_tables {
    std::array<float, 256> e4m3, e5m2;
    fp8_tables() {
        for (uint32_t c = 0; c < 256; c++) {
            e4m3[c] = decode_small(c, 4, 3, false);
            e5m2[c] = decode_small(c, 5, 2, true);
        }
    }
};
const fp8_tables& tables() {
    static const fp8_tables t;
    return t;
}

inline float rne_int(float x) {
    // For |x| < 2^23 adding and subtracting 1.5*2^23 rounds to an integer with the current
    // (nearest-even) rounding mode; larger magnitudes are already integers.
    if (std::fabs(x) >= 8388608.0f) return x;
    const float magic = 12582912.0f;
    return (x + magic) - magic;
}

template <class In, class Conv>
void convert_loop(const void* src, float* dst, size_t n, Conv conv) {
    const In* s = static_cast<const In*>(src);
    for (size_t i = 0; i < n; i++) dst[i] = conv(s[i]);
}

template <class Out, class Conv>
void store_loop(const float* src, void* dst, size_t n, Conv conv) {
    Out* d = static_cast<Out*>(dst);
    for (size_t i = 0; i < n; i++) d[i] = conv(src[i]);
}

}  // namespace

size_t dtype_size(dtype t) { return infos[size_t(t)].size; }
const char* dtype_name(dtype t) { return infos[size_t(t)].name; }

bool parse_dtype(const std::string& s, dtype& out) {
    for (unsigned i = 0; i < dtype_count; i++)
        if (s == infos[i].name) {
            out = dtype(i);
            return true;
        }
    if (s == "e4m3") return out = dtype::fp8_e4m3, true;
    if (s == "e5m2") return out = dtype::fp8_e5m2, true;
    return false;
}

bool dtype_from_code(uint32_t code, dtype& out) {
    if (code >= dtype_count) return false;
    out = dtype(code);
    return true;
}

bool is_float(dtype t) { return t != dtype::int8 && t != dtype::int32; }
bool gemm_input_ok(dtype t) { return t != dtype::int32; }
dtype gemm_acc_type(dtype in) { return in == dtype::int8 ? dtype::int32 : dtype::fp32; }

uint16_t f32_to_bf16(float f) {
    const uint32_t u = bits_of(f);
    if ((u & 0x7FFFFFFF) > 0x7F800000) return uint16_t((u >> 16) | 0x40);  // quiet NaN, payload top kept
    // RNE on the dropped 16 bits; the carry ripples into the exponent (max finite -> Inf).
    return uint16_t((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

float bf16_to_f32(uint16_t h) { return float_of(uint32_t(h) << 16); }

uint16_t f32_to_fp16(float f) {
    const uint32_t u = bits_of(f);
    const uint32_t sign = (u >> 16) & 0x8000;
    const uint32_t a = u & 0x7FFFFFFF;
    if (a > 0x7F800000) return uint16_t(sign | 0x7E00 | ((a >> 13) & 0x1FF));  // quiet NaN
    if (a == 0x7F800000) return uint16_t(sign | 0x7C00);
    const uint32_t r = round_magnitude(a, fmt_fp16);
    return uint16_t(sign | (r > fmt_fp16.max_code ? 0x7C00 : r));
}

float fp16_to_f32(uint16_t h) {
    // Bit trick: move exponent and mantissa into place, rebias; subnormals via an exact
    // float subtraction; Inf/NaN get the full fp32 exponent.
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    const uint32_t em = uint32_t(h & 0x7FFF) << 13;
    const uint32_t exp = em & 0x0F800000;
    uint32_t o = em + ((127 - 15) << 23);
    if (exp == 0x0F800000) {
        o += (128 - 16) << 23;
    } else if (exp == 0) {
        o = bits_of(float_of(o + (1 << 23)) - float_of(113u << 23));
    }
    return float_of(o | sign);
}

uint8_t f32_to_e4m3(float f, bool saturate) {
    const uint32_t u = bits_of(f);
    const uint8_t sign = uint8_t((u >> 24) & 0x80);
    const uint32_t a = u & 0x7FFFFFFF;
    if (a > 0x7F800000) return uint8_t(sign | 0x7F);
    if (a == 0x7F800000) return uint8_t(sign | (saturate ? 0x7E : 0x7F));
    const uint32_t r = round_magnitude(a, fmt_e4m3);
    if (r > fmt_e4m3.max_code) return uint8_t(sign | (saturate ? 0x7E : 0x7F));
    return uint8_t(sign | r);
}

float e4m3_to_f32(uint8_t c) { return tables().e4m3[c]; }

uint8_t f32_to_e5m2(float f, bool saturate) {
    const uint32_t u = bits_of(f);
    const uint8_t sign = uint8_t((u >> 24) & 0x80);
    const uint32_t a = u & 0x7FFFFFFF;
    if (a > 0x7F800000) return uint8_t(sign | 0x7E);
    if (a == 0x7F800000) return uint8_t(sign | 0x7C);
    const uint32_t r = round_magnitude(a, fmt_e5m2);
    if (r > fmt_e5m2.max_code) return uint8_t(sign | (saturate ? 0x7B : 0x7C));
    return uint8_t(sign | r);
}

float e5m2_to_f32(uint8_t c) { return tables().e5m2[c]; }

int8_t i32_to_i8_sat(int32_t v) { return int8_t(std::clamp<int32_t>(v, -128, 127)); }

int8_t f32_to_i8_sat(float x) {
    if (x != x) return 0;
    return int8_t(rne_int(std::clamp(x, -128.0f, 127.0f)));
}

int32_t f32_to_i32_sat(float x) {
    if (x != x) return 0;
    if (x >= 2147483648.0f) return std::numeric_limits<int32_t>::max();
    if (x <= -2147483648.0f) return std::numeric_limits<int32_t>::min();
    return int32_t(std::nearbyint(x));  // |x| < 2^31 here
}

float quantize(dtype t, float x, bool saturate) {
    switch (t) {
    case dtype::fp32: return x;
    case dtype::bf16: return bf16_to_f32(f32_to_bf16(x));
    case dtype::fp16: return fp16_to_f32(f32_to_fp16(x));
    case dtype::fp8_e4m3: return e4m3_to_f32(f32_to_e4m3(x, saturate));
    case dtype::fp8_e5m2: return e5m2_to_f32(f32_to_e5m2(x, saturate));
    case dtype::int8: return float(f32_to_i8_sat(x));
    case dtype::int32: return float(f32_to_i32_sat(x));
    }
    return x;
}

void to_f32(dtype t, const void* src, float* dst, size_t n) {
    switch (t) {
    case dtype::fp32: std::memcpy(dst, src, n * 4); return;
    case dtype::bf16: return convert_loop<uint16_t>(src, dst, n, bf16_to_f32);
    case dtype::fp16: return convert_loop<uint16_t>(src, dst, n, fp16_to_f32);
    case dtype::fp8_e4m3: {
        const float* tab = tables().e4m3.data();
        return convert_loop<uint8_t>(src, dst, n, [tab](uint8_t c) { return tab[c]; });
    }
    case dtype::fp8_e5m2: {
        const float* tab = tables().e5m2.data();
        return convert_loop<uint8_t>(src, dst, n, [tab](uint8_t c) { return tab[c]; });
    }
    case dtype::int8: return convert_loop<int8_t>(src, dst, n, [](int8_t v) { return float(v); });
    case dtype::int32: return convert_loop<int32_t>(src, dst, n, [](int32_t v) { return float(v); });
    }
}

void from_f32(dtype t, const float* src, void* dst, size_t n, bool saturate) {
    switch (t) {
    case dtype::fp32: std::memcpy(dst, src, n * 4); return;
    case dtype::bf16: return store_loop<uint16_t>(src, dst, n, f32_to_bf16);
    case dtype::fp16: return store_loop<uint16_t>(src, dst, n, f32_to_fp16);
    case dtype::fp8_e4m3:
        return store_loop<uint8_t>(src, dst, n, [saturate](float x) { return f32_to_e4m3(x, saturate); });
    case dtype::fp8_e5m2:
        return store_loop<uint8_t>(src, dst, n, [saturate](float x) { return f32_to_e5m2(x, saturate); });
    case dtype::int8: return store_loop<int8_t>(src, dst, n, f32_to_i8_sat);
    case dtype::int32: return store_loop<int32_t>(src, dst, n, f32_to_i32_sat);
    }
}

namespace {

// Blocking of gemm_ref: a kc x nc panel of B (widened) stays in L2 while rows of A stream past
// it; inside a panel a 4 x 8 tile of C lives in registers for the whole k panel. Every loop
// keeps each C element's adds in increasing k (k panels in order, kk ascending inside), so the
// blocking changes the speed, never the result.
constexpr size_t gemm_kc = 128, gemm_nc = 256, gemm_mr = 4, gemm_nr = 8;

// One multiply-add as the contract defines it: product rounded to fp32 (exact for narrow
// inputs), then added with one rounding; never fused. int32: wrap-around (via uint32).
inline float mac(float acc, float a, float b) {
    const float p = a * b;
    return acc + p;
}
// int8 operands travel as exact floats: the product (|p| <= 2^14) is exact in fp32 and converts
// exactly to int32; the sum wraps (uint32).
inline int32_t mac(int32_t acc, float a, float b) {
    return int32_t(uint32_t(acc) + uint32_t(int32_t(a * b)));
}

// C[r][j] for r < gemm_mr, j < gemm_nr, over kc values of k. ap: gemm_mr rows of kc values;
// bp: kc rows of the panel (row length nc). The 4 x 8 accumulator tile is eight 4-lane vectors
// (GCC vector extensions, so it stays in registers on any x86-64/AArch64 baseline). Operands
// are fp32 lanes for every dtype; int32 accumulators add the converted exact products in
// uint32 lanes (wrap-around), which avoids a 32-bit vector multiply SSE2 does not have.
template <class Acc>
void micro_tile(const float* ap, size_t kc, const float* bp, size_t nc, Acc* c, size_t ldc) {
    typedef float vf __attribute__((vector_size(16)));
    typedef int32_t vi __attribute__((vector_size(16)));
    typedef std::conditional_t<std::is_same_v<Acc, float>, float, uint32_t> L;
    typedef L va __attribute__((vector_size(16)));
    static_assert(gemm_nr == 8 && sizeof(Acc) == 4);
    va acc[gemm_mr][2];
    for (size_t r = 0; r < gemm_mr; r++) {
        std::memcpy(&acc[r][0], c + r * ldc, 16);
        std::memcpy(&acc[r][1], c + r * ldc + 4, 16);
    }
    for (size_t kk = 0; kk < kc; kk++) {
        vf b0, b1;
        std::memcpy(&b0, bp + kk * nc, 16);
        std::memcpy(&b1, bp + kk * nc + 4, 16);
        for (size_t r = 0; r < gemm_mr; r++) {
            const float a = ap[r * kc + kk];
            const vf p0 = a * b0, p1 = a * b1;  // products, then adds: never fused
            if constexpr (std::is_same_v<Acc, float>) {
                acc[r][0] = acc[r][0] + p0;
                acc[r][1] = acc[r][1] + p1;
            } else {
                acc[r][0] = acc[r][0] + (va)__builtin_convertvector(p0, vi);
                acc[r][1] = acc[r][1] + (va)__builtin_convertvector(p1, vi);
            }
        }
    }
    for (size_t r = 0; r < gemm_mr; r++) {
        std::memcpy(c + r * ldc, &acc[r][0], 16);
        std::memcpy(c + r * ldc + 4, &acc[r][1], 16);
    }
}

// Rows [0, rows) x columns [j_begin, nc) of the panel, one row at a time (edges).
template <class Acc>
void edge_rows(const float* ap, size_t kc, size_t rows, const float* bp, size_t nc, size_t j_begin, Acc* c,
               size_t ldc) {
    for (size_t r = 0; r < rows; r++)
        for (size_t kk = 0; kk < kc; kk++) {
            const float a = ap[r * kc + kk];
            const float* b = bp + kk * nc;
            Acc* cr = c + r * ldc;
            for (size_t j = j_begin; j < nc; j++) cr[j] = mac(cr[j], a, b[j]);
        }
}

template <class Acc>
void gemm_blocked(dtype in, const uint8_t* A, const uint8_t* B, Acc* C, size_t m, size_t n, size_t k, size_t lda,
                  size_t ldb, size_t ldc) {
    const size_t es = dtype_size(in);
    std::vector<float> bp(gemm_kc * gemm_nc), ap(gemm_mr * gemm_kc);  // operands widened to fp32 (exact)
    for (size_t j0 = 0; j0 < n; j0 += gemm_nc) {
        const size_t nc = std::min(gemm_nc, n - j0);
        const size_t nfull = nc - nc % gemm_nr;
        for (size_t k0 = 0; k0 < k; k0 += gemm_kc) {
            const size_t kc = std::min(gemm_kc, k - k0);
            for (size_t kk = 0; kk < kc; kk++) to_f32(in, B + ((k0 + kk) * ldb + j0) * es, &bp[kk * nc], nc);
            for (size_t i0 = 0; i0 < m; i0 += gemm_mr) {
                const size_t rows = std::min(gemm_mr, m - i0);
                for (size_t r = 0; r < rows; r++) to_f32(in, A + ((i0 + r) * lda + k0) * es, &ap[r * kc], kc);
                Acc* c = C + i0 * ldc + j0;
                if (rows < gemm_mr) {
                    edge_rows(ap.data(), kc, rows, bp.data(), nc, 0, c, ldc);
                    continue;
                }
                for (size_t j = 0; j < nfull; j += gemm_nr) micro_tile(ap.data(), kc, &bp[j], nc, c + j, ldc);
                edge_rows(ap.data(), kc, rows, bp.data(), nc, nfull, c, ldc);
            }
        }
    }
}

}  // namespace

void gemm_ref(dtype in, const void* A, const void* B, void* C, size_t m, size_t n, size_t k, size_t lda,
              size_t ldb, size_t ldc, bool accumulate) {
    if (!gemm_input_ok(in)) throw std::invalid_argument("gemm_ref: int32 is not a GEMM input type");
    const auto* a = static_cast<const uint8_t*>(A);
    const auto* b = static_cast<const uint8_t*>(B);
    if (in == dtype::int8) {
        auto* c = static_cast<int32_t*>(C);
        if (!accumulate)
            for (size_t i = 0; i < m; i++) std::fill(c + i * ldc, c + i * ldc + n, 0);
        gemm_blocked<int32_t>(in, a, b, c, m, n, k, lda, ldb, ldc);
        return;
    }
    auto* c = static_cast<float*>(C);
    if (!accumulate)
        for (size_t i = 0; i < m; i++) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    gemm_blocked<float>(in, a, b, c, m, n, k, lda, ldb, ldc);
}

void vadd(const float* a, const float* b, float* y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}
void vmul(const float* a, const float* b, float* y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}
void vfma(const float* a, const float* b, const float* c, float* y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = std::fma(a[i], b[i], c[i]);
}
void vmax(const float* a, const float* b, float* y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float av = a[i], bv = b[i];
        const float r = av > bv ? av : bv;
        y[i] = av != av ? av : r;
    }
}
void vrelu(const float* x, float* y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}
float gelu(float x) {
    const float u = 0.7978845608f * (x + 0.044715f * (x * x * x));
    return 0.5f * x * (1.0f + std::tanh(u));
}
void vgelu(const float* x, float* y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = gelu(x[i]);
}
void vexp(const float* x, float* y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = std::exp(x[i]);
}
void vrecip(const float* x, float* y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = 1.0f / x[i];
}

namespace {
inline float seq_sum(const float* x, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s;
}
inline float nan_max(const float* x, size_t n) {
    float m = -std::numeric_limits<float>::infinity();
    bool nan = false;
    for (size_t i = 0; i < n; i++) {
        m = x[i] > m ? x[i] : m;
        nan |= x[i] != x[i];
    }
    return nan ? std::numeric_limits<float>::quiet_NaN() : m;
}
}  // namespace

void row_sum(const float* x, float* y, size_t rows, size_t cols, size_t ldx) {
    if (!ldx) ldx = cols;
    for (size_t r = 0; r < rows; r++) y[r] = seq_sum(x + r * ldx, cols);
}

void row_max(const float* x, float* y, size_t rows, size_t cols, size_t ldx) {
    if (!ldx) ldx = cols;
    for (size_t r = 0; r < rows; r++) y[r] = nan_max(x + r * ldx, cols);
}

void softmax_rows(const float* x, float* y, size_t rows, size_t cols, size_t ldx, size_t ldy) {
    if (!ldx) ldx = cols;
    if (!ldy) ldy = cols;
    for (size_t r = 0; r < rows; r++) {
        const float* xr = x + r * ldx;
        float* yr = y + r * ldy;
        const float mx = nan_max(xr, cols);
        for (size_t c = 0; c < cols; c++) yr[c] = std::exp(xr[c] - mx);
        const float rs = 1.0f / seq_sum(yr, cols);
        for (size_t c = 0; c < cols; c++) yr[c] = yr[c] * rs;
    }
}

void layernorm_rows(const float* x, float* y, size_t rows, size_t cols, float eps, const float* gamma,
                    const float* beta, size_t ldx, size_t ldy) {
    if (!ldx) ldx = cols;
    if (!ldy) ldy = cols;
    const float fc = float(cols);
    for (size_t r = 0; r < rows; r++) {
        const float* xr = x + r * ldx;
        float* yr = y + r * ldy;
        const float mean = seq_sum(xr, cols) / fc;
        float ss = 0.0f;
        for (size_t c = 0; c < cols; c++) {
            const float d = xr[c] - mean;
            const float d2 = d * d;
            ss += d2;
        }
        const float rstd = 1.0f / std::sqrt(ss / fc + eps);
        for (size_t c = 0; c < cols; c++) {
            const float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
            const float t = (xr[c] - mean) * rstd;
            const float tg = t * g;
            yr[c] = tg + b;
        }
    }
}

void transpose(const void* src, void* dst, size_t rows, size_t cols, size_t es, size_t lds, size_t ldd) {
    if (!lds) lds = cols;
    if (!ldd) ldd = rows;
    const auto* s = static_cast<const uint8_t*>(src);
    auto* d = static_cast<uint8_t*>(dst);
    // 32x32 blocks keep both the read and the write side within a few cache lines.
    constexpr size_t blk = 32;
    for (size_t r0 = 0; r0 < rows; r0 += blk)
        for (size_t c0 = 0; c0 < cols; c0 += blk) {
            const size_t r1 = std::min(rows, r0 + blk), c1 = std::min(cols, c0 + blk);
            for (size_t r = r0; r < r1; r++)
                for (size_t c = c0; c < c1; c++) std::memcpy(d + (c * ldd + r) * es, s + (r * lds + c) * es, es);
        }
}

}  // namespace accelvp::num
