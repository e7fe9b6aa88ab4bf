// Numerics library (tlm/compute/numerics): conversions checked exhaustively against a
// brute-force nearest-value search (every code, every midpoint between neighbours), the
// saturation and NaN/Inf rules per format, the reference GEMM against a naive loop, and
// the vector operations against hand values and invariants.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "tlm/compute/numerics.h"

using namespace accelvp::num;

namespace {

uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
const float inf = std::numeric_limits<float>::infinity();
const float qnan = std::numeric_limits<float>::quiet_NaN();

// One narrow float format seen through its scalar encoder/decoder.
struct format {
    const char* name;
    unsigned sign_bit;                           // code bit of the sign
    uint32_t max_code;                           // largest finite positive code
    std::function<uint32_t(float)> enc;          // saturate=false for fp8
    std::function<float(uint32_t)> dec;
};

std::vector<format> formats() {
    return {
        {"bf16", 15, 0x7F7F, [](float x) { return uint32_t(f32_to_bf16(x)); },
         [](uint32_t c) { return bf16_to_f32(uint16_t(c)); }},
        {"fp16", 15, 0x7BFF, [](float x) { return uint32_t(f32_to_fp16(x)); },
         [](uint32_t c) { return fp16_to_f32(uint16_t(c)); }},
        {"e4m3", 7, 0x7E, [](float x) { return uint32_t(f32_to_e4m3(x, false)); },
         [](uint32_t c) { return e4m3_to_f32(uint8_t(c)); }},
        {"e5m2", 7, 0x7B, [](float x) { return uint32_t(f32_to_e5m2(x, false)); },
         [](uint32_t c) { return e5m2_to_f32(uint8_t(c)); }},
    };
}

}  // namespace

TEST_CASE("dtype table names sizes and codes", "[numerics]") {
    const size_t sizes[] = {4, 2, 2, 1, 1, 1, 4};
    for (unsigned c = 0; c < dtype_count; c++) {
        dtype t{};
        REQUIRE(dtype_from_code(c, t));
        CHECK(dtype_size(t) == sizes[c]);
        dtype back{};
        REQUIRE(parse_dtype(dtype_name(t), back));
        CHECK(back == t);
    }
    dtype t{};
    CHECK_FALSE(dtype_from_code(7, t));
    CHECK_FALSE(dtype_from_code(0xFFFFFFFF, t));
    CHECK_FALSE(parse_dtype("fp64", t));
    REQUIRE(parse_dtype("e4m3", t));
    CHECK(t == dtype::fp8_e4m3);
    CHECK(gemm_acc_type(dtype::int8) == dtype::int32);
    CHECK(gemm_acc_type(dtype::bf16) == dtype::fp32);
    CHECK_FALSE(gemm_input_ok(dtype::int32));
    CHECK_FALSE(is_float(dtype::int8));
    CHECK(is_float(dtype::fp8_e5m2));
}

TEST_CASE("decoders give the format values at landmark codes", "[numerics]") {
    CHECK(bf16_to_f32(0x3F80) == 1.0f);
    CHECK(bf16_to_f32(0x7F7F) == bf16_max);
    CHECK(bf16_to_f32(0x0001) == std::ldexp(1.0f, -133));
    CHECK(fp16_to_f32(0x3C00) == 1.0f);
    CHECK(fp16_to_f32(0x7BFF) == 65504.0f);
    CHECK(fp16_to_f32(0x0001) == std::ldexp(1.0f, -24));
    CHECK(fp16_to_f32(0x03FF) == std::ldexp(1023.0f, -24));
    CHECK(fp16_to_f32(0x0400) == std::ldexp(1.0f, -14));
    CHECK(fp16_to_f32(0xC000) == -2.0f);
    CHECK(fp16_to_f32(0x7C00) == inf);
    CHECK(fp16_to_f32(0xFC00) == -inf);
    CHECK(std::isnan(fp16_to_f32(0x7C01)));
    CHECK(bits(fp16_to_f32(0x8000)) == 0x80000000u);
    // OCP E4M3: bias 7, max 448, subnormal unit 2^-9, only S.1111.111 is NaN.
    CHECK(e4m3_to_f32(0x38) == 1.0f);
    CHECK(e4m3_to_f32(0x7E) == 448.0f);
    CHECK(e4m3_to_f32(0x78) == 256.0f);
    CHECK(e4m3_to_f32(0x01) == std::ldexp(1.0f, -9));
    CHECK(e4m3_to_f32(0x07) == std::ldexp(7.0f, -9));
    CHECK(e4m3_to_f32(0x08) == std::ldexp(1.0f, -6));
    CHECK(e4m3_to_f32(0xFE) == -448.0f);
    CHECK(std::isnan(e4m3_to_f32(0x7F)));
    CHECK(std::isnan(e4m3_to_f32(0xFF)));
    // OCP E5M2: bias 15, max 57344, subnormal unit 2^-16, IEEE specials.
    CHECK(e5m2_to_f32(0x3C) == 1.0f);
    CHECK(e5m2_to_f32(0x7B) == 57344.0f);
    CHECK(e5m2_to_f32(0x01) == std::ldexp(1.0f, -16));
    CHECK(e5m2_to_f32(0x04) == std::ldexp(1.0f, -14));
    CHECK(e5m2_to_f32(0x7C) == inf);
    CHECK(e5m2_to_f32(0xFC) == -inf);
    for (uint8_t c : {0x7D, 0x7E, 0x7F, 0xFD, 0xFE, 0xFF}) CHECK(std::isnan(e5m2_to_f32(c)));
    // E5M2 is the top byte of fp16.
    for (unsigned c = 0; c < 256; c++) {
        const float a = e5m2_to_f32(uint8_t(c)), b = fp16_to_f32(uint16_t(c << 8));
        CHECK((bits(a) == bits(b) || (std::isnan(a) && std::isnan(b))));
    }
}

TEST_CASE("every code round-trips and values increase with the code", "[numerics]") {
    for (const format& f : formats()) {
        INFO(f.name);
        const uint32_t ncodes = 1u << (f.sign_bit + 1), sign = 1u << f.sign_bit;
        unsigned bad = 0, nan_bad = 0;
        for (uint32_t c = 0; c < ncodes; c++) {
            const float v = f.dec(c);
            if (std::isnan(v)) {
                // NaN stays NaN, sign kept.
                const uint32_t back = f.enc(v);
                nan_bad += !std::isnan(f.dec(back)) || (back & sign) != (c & sign);
                continue;
            }
            bad += f.enc(v) != c;
        }
        CHECK(bad == 0);
        CHECK(nan_bad == 0);
        for (uint32_t c = 1; c <= f.max_code; c++) REQUIRE(f.dec(c) > f.dec(c - 1));
        CHECK(f.enc(-0.0f) == sign);
    }
}

TEST_CASE("midpoints between neighbouring codes round to the even code and neighbours round to nearest",
          "[numerics]") {
    // For each pair of adjacent finite codes (including max -> overflow), the exact midpoint
    // (representable in fp32 for all these formats) must give the even code, and the fp32
    // values just below/above it the lower/upper code. This covers every tie in every binade,
    // subnormals and the subnormal/normal boundary, in both directions and both signs.
    for (const format& f : formats()) {
        INFO(f.name);
        const uint32_t sign = 1u << f.sign_bit;
        unsigned bad = 0;
        for (uint32_t c = 0; c < f.max_code; c++) {
            const float lo = f.dec(c), hi = f.dec(c + 1);
            const float mid = lo + (hi - lo) / 2;
            REQUIRE(double(mid) == (double(lo) + double(hi)) / 2);  // exact midpoint
            const uint32_t even = (c & 1) ? c + 1 : c;
            for (uint32_t s : {0u, sign}) {
                const float m = s ? -mid : mid;
                bad += f.enc(m) != (even | s);
                bad += f.enc(std::nextafter(m, 0.0f)) != (c | s);
                bad += f.enc(std::nextafter(m, s ? -inf : inf)) != ((c + 1) | s);
            }
        }
        CHECK(bad == 0);
    }
}

TEST_CASE("random fp32 values match a brute-force nearest-even search", "[numerics]") {
    std::mt19937 rng(7);
    for (const format& f : formats()) {
        INFO(f.name);
        std::vector<double> vals;
        for (uint32_t c = 0; c <= f.max_code; c++) vals.push_back(f.dec(c));
        const double ulp_top = vals.back() - vals[vals.size() - 2];
        vals.push_back(vals.back() + ulp_top);  // the first value past max: overflow
        // Exponent range of the format +- a few binades, random mantissa.
        const int emax = int(std::ilogb(vals.back())) + 2, emin = int(std::ilogb(vals[1])) - 3;
        unsigned bad = 0;
        for (int i = 0; i < 20000; i++) {
            const int e = emin + int(rng() % unsigned(emax - emin + 1));
            const float x = std::ldexp(1.0f + float(rng() & 0x7FFFFF) / 8388608.0f, e);
            auto it = std::lower_bound(vals.begin(), vals.end(), double(x));
            uint32_t want;
            if (it == vals.end()) {
                want = uint32_t(vals.size() - 1);
            } else {
                const uint32_t up = uint32_t(it - vals.begin());
                if (up == 0 || *it == x) {
                    want = up;
                } else {
                    const double dlo = x - vals[up - 1], dhi = *it - x;
                    want = dlo < dhi ? up - 1 : dhi < dlo ? up : ((up & 1) ? up - 1 : up);
                }
            }
            const uint32_t got = f.enc(x);
            if (want > f.max_code) {
                bad += !(std::isinf(f.dec(got)) || std::isnan(f.dec(got)));  // overflow
            } else {
                bad += got != want;
            }
        }
        CHECK(bad == 0);
    }
}

TEST_CASE("hand-picked ties round to even in both directions", "[numerics]") {
    // bf16: 8 mantissa bits kept.
    CHECK(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);      // tie, down to even
    CHECK(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3F82);  // tie, up to even
    CHECK(f32_to_bf16(-(1.0f + std::ldexp(1.0f, -8))) == 0xBF80);
    // fp16: 10 mantissa bits.
    CHECK(f32_to_fp16(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);
    CHECK(f32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);
    CHECK(f32_to_fp16(2049.0f) == f32_to_fp16(2048.0f));           // 2049 is a tie at ulp 2
    CHECK(f32_to_fp16(2051.0f) == f32_to_fp16(2052.0f));
    // E4M3: 3 mantissa bits; 1.0625 is between 1.0 and 1.125.
    CHECK(f32_to_e4m3(1.0625f, true) == 0x38);
    CHECK(f32_to_e4m3(1.1875f, true) == 0x3A);
    CHECK(f32_to_e4m3(-1.1875f, true) == 0xBA);
    // E5M2: 2 mantissa bits; 1.125 is between 1.0 and 1.25.
    CHECK(f32_to_e5m2(1.125f, true) == 0x3C);
    CHECK(f32_to_e5m2(1.375f, true) == 0x3E);
    // A tie whose round-up carries into the exponent: 1.9375 (E4M3 1.875 | 2.0) -> 2.0 (0x40).
    CHECK(f32_to_e4m3(1.9375f, true) == 0x40);
}

TEST_CASE("subnormals encode decode and underflow to signed zero", "[numerics]") {
    CHECK(f32_to_fp16(std::ldexp(1.0f, -24)) == 0x0001);
    CHECK(f32_to_fp16(std::ldexp(1.0f, -25)) == 0x0000);          // tie with 0: even
    CHECK(f32_to_fp16(std::ldexp(1.0f, -25) * 1.001f) == 0x0001);
    CHECK(f32_to_fp16(3 * std::ldexp(1.0f, -25)) == 0x0002);      // tie 1|2: even
    CHECK(f32_to_fp16(-std::ldexp(1.0f, -30)) == 0x8000);
    CHECK(f32_to_fp16(std::ldexp(1023.5f, -24)) == 0x0400);       // rounds up into the min normal
    CHECK(f32_to_e4m3(std::ldexp(1.0f, -9), false) == 0x01);
    CHECK(f32_to_e4m3(std::ldexp(1.0f, -10), false) == 0x00);
    CHECK(f32_to_e4m3(-std::ldexp(3.0f, -10), false) == 0x82);
    CHECK(f32_to_e5m2(std::ldexp(1.0f, -16), false) == 0x01);
    CHECK(f32_to_e5m2(std::ldexp(3.0f, -17), false) == 0x02);
    CHECK(f32_to_e5m2(std::ldexp(1.0f, -17), false) == 0x00);
    // fp32 subnormal inputs are below every target's range...
    CHECK(f32_to_fp16(from_bits(0x00000001)) == 0x0000);
    CHECK(f32_to_e4m3(from_bits(0x80400000), true) == 0x80);
    // ...except bf16, which shares fp32's exponent range and keeps them.
    CHECK(f32_to_bf16(from_bits(0x00010000)) == 0x0001);
    CHECK(f32_to_bf16(from_bits(0x00018000)) == 0x0002);  // tie 1|2: even
    CHECK(bf16_to_f32(0x0001) == from_bits(0x00010000));
}

TEST_CASE("overflow saturates or gives Inf or NaN per format", "[numerics]") {
    // E4M3: no Inf. 464 is the tie between 448 (even code 0x7E) and 480 (unused 0x7F): stays 448.
    CHECK(f32_to_e4m3(449.0f, false) == 0x7E);
    CHECK(f32_to_e4m3(464.0f, false) == 0x7E);
    CHECK(f32_to_e4m3(std::nextafter(464.0f, inf), false) == 0x7F);
    CHECK(f32_to_e4m3(std::nextafter(464.0f, inf), true) == 0x7E);
    CHECK(f32_to_e4m3(1e9f, true) == 0x7E);
    CHECK(f32_to_e4m3(-1e9f, true) == 0xFE);
    CHECK(f32_to_e4m3(-1e9f, false) == 0xFF);
    CHECK(f32_to_e4m3(inf, true) == 0x7E);
    CHECK(f32_to_e4m3(-inf, true) == 0xFE);
    CHECK(f32_to_e4m3(inf, false) == 0x7F);
    CHECK(f32_to_e4m3(-inf, false) == 0xFF);
    // E5M2: 61440 is the tie between 57344 (0x7B, odd) and 65536 (0x7C): overflows.
    CHECK(f32_to_e5m2(std::nextafter(61440.0f, 0.0f), false) == 0x7B);
    CHECK(f32_to_e5m2(61440.0f, false) == 0x7C);
    CHECK(f32_to_e5m2(61440.0f, true) == 0x7B);
    CHECK(f32_to_e5m2(-1e9f, true) == 0xFB);
    CHECK(f32_to_e5m2(-1e9f, false) == 0xFC);
    CHECK(f32_to_e5m2(inf, true) == 0x7C);  // Inf is not an overflow: it stays Inf
    CHECK(f32_to_e5m2(-inf, false) == 0xFC);
    // fp16 / bf16: IEEE, overflow gives Inf.
    CHECK(f32_to_fp16(65519.0f) == 0x7BFF);
    CHECK(f32_to_fp16(65520.0f) == 0x7C00);
    CHECK(f32_to_fp16(-1e6f) == 0xFC00);
    CHECK(f32_to_fp16(inf) == 0x7C00);
    CHECK(f32_to_bf16(std::numeric_limits<float>::max()) == 0x7F80);
    CHECK(f32_to_bf16(bf16_max) == 0x7F7F);
    CHECK(f32_to_bf16(-inf) == 0xFF80);
}

TEST_CASE("NaN stays NaN in every format including signalling NaN inputs", "[numerics]") {
    const float snan = from_bits(0x7F800001), nneg = from_bits(0xFFC00000);
    CHECK(f32_to_bf16(snan) == 0x7FC0);  // the naive rounding add would make this Inf
    CHECK(f32_to_bf16(nneg) == 0xFFC0);
    CHECK(std::isnan(fp16_to_f32(f32_to_fp16(snan))));
    CHECK((f32_to_fp16(snan) & 0x7E00) == 0x7E00);
    CHECK(f32_to_fp16(nneg) == 0xFE00);
    for (bool sat : {false, true}) {
        CHECK(f32_to_e4m3(qnan, sat) == 0x7F);
        CHECK(f32_to_e4m3(nneg, sat) == 0xFF);
        CHECK(f32_to_e4m3(snan, sat) == 0x7F);
        CHECK(f32_to_e5m2(qnan, sat) == 0x7E);
        CHECK(f32_to_e5m2(nneg, sat) == 0xFE);
        CHECK(f32_to_e5m2(snan, sat) == 0x7E);
    }
}

TEST_CASE("integer conversions saturate and round to nearest even", "[numerics]") {
    CHECK(i32_to_i8_sat(127) == 127);
    CHECK(i32_to_i8_sat(128) == 127);
    CHECK(i32_to_i8_sat(-128) == -128);
    CHECK(i32_to_i8_sat(-129) == -128);
    CHECK(i32_to_i8_sat(std::numeric_limits<int32_t>::min()) == -128);
    CHECK(i32_to_i8_sat(std::numeric_limits<int32_t>::max()) == 127);
    CHECK(f32_to_i8_sat(2.5f) == 2);
    CHECK(f32_to_i8_sat(3.5f) == 4);
    CHECK(f32_to_i8_sat(-2.5f) == -2);
    CHECK(f32_to_i8_sat(-0.5f) == 0);
    CHECK(f32_to_i8_sat(126.5f) == 126);
    CHECK(f32_to_i8_sat(127.6f) == 127);
    CHECK(f32_to_i8_sat(-1e30f) == -128);
    CHECK(f32_to_i8_sat(inf) == 127);
    CHECK(f32_to_i8_sat(qnan) == 0);
    CHECK(f32_to_i32_sat(2.5f) == 2);
    CHECK(f32_to_i32_sat(-3.5f) == -4);
    CHECK(f32_to_i32_sat(16777217.0f) == 16777216);  // not representable in fp32: input already rounded
    CHECK(f32_to_i32_sat(3e9f) == std::numeric_limits<int32_t>::max());
    CHECK(f32_to_i32_sat(-3e9f) == std::numeric_limits<int32_t>::min());
    CHECK(f32_to_i32_sat(2147483648.0f) == std::numeric_limits<int32_t>::max());
    CHECK(f32_to_i32_sat(-2147483648.0f) == std::numeric_limits<int32_t>::min());
    CHECK(f32_to_i32_sat(qnan) == 0);
}

TEST_CASE("array conversions equal the scalar ones for every dtype", "[numerics]") {
    std::mt19937 rng(3);
    std::vector<float> src(1000);
    for (size_t i = 0; i < src.size(); i++)
        src[i] = std::ldexp(float(int32_t(rng())) / 2147483648.0f, int(rng() % 40) - 20);
    src[0] = inf;
    src[1] = -inf;
    src[2] = qnan;
    src[3] = -0.0f;
    src[4] = 1e20f;
    for (unsigned c = 0; c < dtype_count; c++) {
        const dtype t = dtype(c);
        INFO(dtype_name(t));
        for (bool sat : {false, true}) {
            std::vector<uint8_t> packed(src.size() * dtype_size(t));
            std::vector<float> back(src.size());
            from_f32(t, src.data(), packed.data(), src.size(), sat);
            to_f32(t, packed.data(), back.data(), src.size());
            unsigned bad = 0;
            for (size_t i = 0; i < src.size(); i++) {
                const float q = quantize(t, src[i], sat);
                bad += !(bits(q) == bits(back[i]) || (std::isnan(q) && std::isnan(back[i])));
            }
            CHECK(bad == 0);
        }
    }
    // int8 and int32 widen exactly (int32 rounds to nearest even above 2^24).
    const int8_t i8[3] = {-128, 0, 127};
    float f[3];
    to_f32(dtype::int8, i8, f, 3);
    CHECK((f[0] == -128.0f && f[1] == 0.0f && f[2] == 127.0f));
    const int32_t i32[2] = {16777217, -16777219};
    to_f32(dtype::int32, i32, f, 2);
    CHECK(f[0] == 16777216.0f);
    CHECK(f[1] == -16777220.0f);
}

namespace {

// Random finite values of a dtype (as stored bytes), small enough that no sum overflows.
std::vector<uint8_t> random_operand(dtype t, size_t count, std::mt19937& rng) {
    std::vector<float> v(count);
    std::uniform_real_distribution<float> d(-4.0f, 4.0f);
    for (float& x : v) x = t == dtype::int8 ? float(int(rng() % 256) - 128) : d(rng);
    std::vector<uint8_t> out(count * dtype_size(t));
    from_f32(t, v.data(), out.data(), count);
    return out;
}

// The documented semantics written as the plainest loop: widen, multiply, add in increasing k.
void naive_gemm(dtype t, const uint8_t* A, const uint8_t* B, std::vector<float>& C, size_t m, size_t n, size_t k,
                size_t lda, size_t ldb, size_t ldc) {
    const size_t es = dtype_size(t);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float acc = C[i * ldc + j];
            for (size_t kk = 0; kk < k; kk++) {
                float a, b;
                to_f32(t, A + (i * lda + kk) * es, &a, 1);
                to_f32(t, B + (kk * ldb + j) * es, &b, 1);
                const float p = a * b;
                acc = acc + p;
            }
            C[i * ldc + j] = acc;
        }
}

}  // namespace

TEST_CASE("gemm_ref equals the naive increasing-k loop bit for bit for every float dtype", "[numerics]") {
    // Shapes cross the library's k (128) and n (256) panel boundaries and use padded leading
    // dimensions; accumulate=true starts from the previous C.
    struct shape { size_t m, n, k; };
    std::mt19937 rng(11);
    for (dtype t : {dtype::fp32, dtype::bf16, dtype::fp16, dtype::fp8_e4m3, dtype::fp8_e5m2}) {
        for (shape s : {shape{1, 1, 1}, shape{3, 5, 7}, shape{5, 260, 131}, shape{17, 33, 300}}) {
            INFO(dtype_name(t) << " " << s.m << "x" << s.n << "x" << s.k);
            const size_t lda = s.k + 3, ldb = s.n + 1, ldc = s.n + 2;
            auto A = random_operand(t, s.m * lda, rng);
            auto B = random_operand(t, s.k * ldb, rng);
            std::vector<float> C(s.m * ldc, 0.5f), want(C);
            for (size_t i = 0; i < s.m; i++)
                for (size_t j = 0; j < s.n; j++) want[i * ldc + j] = 0.0f;
            naive_gemm(t, A.data(), B.data(), want, s.m, s.n, s.k, lda, ldb, ldc);
            gemm_ref(t, A.data(), B.data(), C.data(), s.m, s.n, s.k, lda, ldb, ldc, false);
            unsigned bad = 0;
            double worst = 0;
            for (size_t i = 0; i < s.m; i++)
                for (size_t j = 0; j < ldc; j++) {
                    bad += bits(C[i * ldc + j]) != bits(want[i * ldc + j]);  // padding untouched too
                    if (j >= s.n) continue;
                    // And the fp32 sum is close to the exact (double) dot product.
                    double exact = 0;
                    for (size_t kk = 0; kk < s.k; kk++) {
                        float a, b;
                        to_f32(t, A.data() + (i * lda + kk) * dtype_size(t), &a, 1);
                        to_f32(t, B.data() + (kk * ldb + j) * dtype_size(t), &b, 1);
                        exact += double(a) * double(b);
                    }
                    worst = std::max(worst, std::fabs(exact - C[i * ldc + j]));
                }
            CHECK(bad == 0);
            CHECK(worst < 1e-5 * double(s.k) * 16);
            // Accumulate: C += A*B again, from the current C.
            naive_gemm(t, A.data(), B.data(), want, s.m, s.n, s.k, lda, ldb, ldc);
            gemm_ref(t, A.data(), B.data(), C.data(), s.m, s.n, s.k, lda, ldb, ldc, true);
            bad = 0;
            for (size_t i = 0; i < s.m * ldc; i++) bad += bits(C[i]) != bits(want[i]);
            CHECK(bad == 0);
        }
    }
}

TEST_CASE("gemm_ref int8 accumulates exactly in int32 and wraps", "[numerics]") {
    std::mt19937 rng(5);
    const size_t m = 9, n = 270, k = 140, lda = k, ldb = n + 4, ldc = n;
    auto A = random_operand(dtype::int8, m * lda, rng);
    auto B = random_operand(dtype::int8, k * ldb, rng);
    std::vector<int32_t> C(m * ldc, 12345);
    gemm_ref(dtype::int8, A.data(), B.data(), C.data(), m, n, k, lda, ldb, ldc, true);
    unsigned bad = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            int64_t s = 12345;
            for (size_t kk = 0; kk < k; kk++) s += int64_t(int8_t(A[i * lda + kk])) * int8_t(B[kk * ldb + j]);
            bad += C[i * ldc + j] != int32_t(s);
        }
    CHECK(bad == 0);
    // Wrap-around: INT32_MAX + (-128 * -128) wraps to a negative value, no UB (asan build).
    int8_t a = -128, b = -128;
    int32_t c = std::numeric_limits<int32_t>::max();
    gemm_ref(dtype::int8, &a, &b, &c, 1, 1, 1, 1, 1, 1, true);
    CHECK(c == int32_t(uint32_t(std::numeric_limits<int32_t>::max()) + 16384u));
    // The same in a full 4 x 8 register tile, over two k steps.
    std::vector<int8_t> a2(4 * 2, -128), b2(2 * 8, -128);
    std::vector<int32_t> c2(4 * 8, std::numeric_limits<int32_t>::max());
    gemm_ref(dtype::int8, a2.data(), b2.data(), c2.data(), 4, 8, 2, 2, 8, 8, true);
    for (int32_t v : c2) CHECK(v == int32_t(uint32_t(std::numeric_limits<int32_t>::max()) + 32768u));
    CHECK_THROWS_AS(gemm_ref(dtype::int32, &a, &b, &c, 1, 1, 1, 1, 1, 1, false), std::invalid_argument);
}

TEST_CASE("gemm_ref accumulation order is increasing k", "[numerics]") {
    // 2^24 + 1 + 1 - 2^24: in increasing k the two 1s are absorbed (2^24 + 1 rounds to 2^24),
    // any other order would give 2 or 1.
    const float A[4] = {16777216.0f, 1.0f, 1.0f, -16777216.0f};
    const float B[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    float C = 99.0f;
    gemm_ref(dtype::fp32, A, B, &C, 1, 1, 4, 4, 1, 1, false);
    CHECK(C == 0.0f);
    // k = 0 overwrites with +0.
    C = 99.0f;
    gemm_ref(dtype::fp32, A, B, &C, 1, 1, 0, 4, 1, 1, false);
    CHECK(bits(C) == 0u);
}

TEST_CASE("elementwise vector ops match hand values and NaN rules", "[numerics]") {
    const float a[5] = {1.0f, -2.0f, 0.0f, qnan, 3.0f};
    const float b[5] = {2.0f, -3.0f, -0.0f, 1.0f, qnan};
    const float c[5] = {0.5f, 1.0f, 0.0f, 0.0f, 0.0f};
    float y[5];
    vadd(a, b, y, 5);
    CHECK((y[0] == 3.0f && y[1] == -5.0f && std::isnan(y[3])));
    vmul(a, b, y, 5);
    CHECK((y[0] == 2.0f && y[1] == 6.0f));
    vfma(a, b, c, y, 5);
    CHECK((y[0] == 2.5f && y[1] == 7.0f));
    // fma rounds once: (1 + 2^-12)^2 - 1 keeps the 2^-24 term that a*b + c would lose.
    const float e = 1.0f + std::ldexp(1.0f, -12), m1 = -1.0f;
    vfma(&e, &e, &m1, y, 1);
    CHECK(y[0] == std::ldexp(1.0f, -11) + std::ldexp(1.0f, -24));
    vmax(a, b, y, 5);
    CHECK(y[0] == 2.0f);
    CHECK(y[1] == -2.0f);
    CHECK(bits(y[2]) == bits(-0.0f));  // equal operands: b
    CHECK(std::isnan(y[3]));
    CHECK(std::isnan(y[4]));
    const float r[4] = {-1.0f, 2.0f, -0.0f, qnan};
    vrelu(r, y, 4);
    CHECK((y[0] == 0.0f && y[1] == 2.0f && bits(y[2]) == bits(-0.0f) && std::isnan(y[3])));
    const float g[5] = {0.0f, 1.0f, -1.0f, 10.0f, -10.0f};
    vgelu(g, y, 5);
    CHECK(y[0] == 0.0f);
    CHECK(y[1] == Approx(0.8411920).epsilon(1e-6));
    CHECK(y[2] == Approx(-0.1588080).epsilon(1e-5));
    CHECK(y[3] == 10.0f);
    CHECK(std::fabs(y[4]) < 1e-6f);
    const float x[3] = {0.0f, 1.0f, -inf};
    vexp(x, y, 3);
    CHECK((y[0] == 1.0f && y[1] == Approx(2.7182818f) && y[2] == 0.0f));
    const float q[3] = {4.0f, 0.0f, -0.0f};
    vrecip(q, y, 3);
    CHECK((y[0] == 0.25f && y[1] == inf && y[2] == -inf));
}

TEST_CASE("row reductions softmax and layernorm match hand values and invariants", "[numerics]") {
    // 2 rows of 3 in a leading dimension of 4.
    const float x[8] = {1.0f, 2.0f, 3.0f, 99.0f, -1.0f, -5.0f, 0.5f, 99.0f};
    float s[2], mx[2];
    row_sum(x, s, 2, 3, 4);
    row_max(x, mx, 2, 3, 4);
    CHECK((s[0] == 6.0f && s[1] == -5.5f && mx[0] == 3.0f && mx[1] == 0.5f));
    const float withnan[2] = {1.0f, qnan};
    row_max(withnan, mx, 1, 2);
    CHECK(std::isnan(mx[0]));
    row_max(x, mx, 1, 0);
    CHECK(mx[0] == -inf);

    float y[8] = {};
    softmax_rows(x, y, 2, 3, 4, 4);
    CHECK(y[0] == Approx(0.09003057f).epsilon(1e-6));
    CHECK(y[1] == Approx(0.24472847f).epsilon(1e-6));
    CHECK(y[2] == Approx(0.66524096f).epsilon(1e-6));
    CHECK(y[3] == 0.0f);  // outside the row: untouched
    // Max subtraction: huge inputs do not overflow.
    std::vector<float> big(64), out(64);
    for (size_t i = 0; i < big.size(); i++) big[i] = 1000.0f + float(i % 7);
    softmax_rows(big.data(), out.data(), 4, 16);
    for (int r = 0; r < 4; r++) {
        double sum = 0;
        for (int c = 0; c < 16; c++) {
            REQUIRE(std::isfinite(out[r * 16 + c]));
            sum += out[r * 16 + c];
        }
        CHECK(sum == Approx(1.0).epsilon(1e-6));
    }

    const float ln[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    float z[4];
    layernorm_rows(ln, z, 1, 4, 0.0f, nullptr, nullptr);
    CHECK(z[0] == Approx(-1.3416408f).epsilon(1e-6));
    CHECK(z[1] == Approx(-0.4472136f).epsilon(1e-6));
    CHECK(z[3] == Approx(1.3416408f).epsilon(1e-6));
    const float gamma[4] = {2.0f, 2.0f, 2.0f, 2.0f}, beta[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    float zg[4];
    layernorm_rows(ln, zg, 1, 4, 0.0f, gamma, beta);
    for (int i = 0; i < 4; i++) CHECK(zg[i] == Approx(2 * z[i] + 1).epsilon(1e-6));
    // Rows of random data: mean 0, variance 1 (eps small), eps keeps a constant row finite.
    std::mt19937 rng(9);
    std::normal_distribution<float> d(3.0f, 5.0f);
    std::vector<float> rows(8 * 100), o(8 * 100);
    for (float& v : rows) v = d(rng);
    for (int c = 0; c < 100; c++) rows[7 * 100 + c] = 2.0f;
    layernorm_rows(rows.data(), o.data(), 8, 100, 1e-5f, nullptr, nullptr);
    for (int r = 0; r < 7; r++) {
        double mean = 0, var = 0;
        for (int c = 0; c < 100; c++) mean += o[r * 100 + c];
        mean /= 100;
        for (int c = 0; c < 100; c++) var += (o[r * 100 + c] - mean) * (o[r * 100 + c] - mean);
        CHECK(std::fabs(mean) < 1e-5);
        CHECK(var / 100 == Approx(1.0).epsilon(1e-4));
    }
    for (int c = 0; c < 100; c++) REQUIRE(o[7 * 100 + c] == 0.0f);
}

TEST_CASE("transpose moves every element for 1 2 4 and 8 byte types with leading dimensions",
          "[numerics]") {
    for (size_t es : {1, 2, 4, 8}) {
        const size_t rows = 37, cols = 70, lds = 75, ldd = 40;
        std::vector<uint8_t> src(rows * lds * es), dst(cols * ldd * es, 0xEE);
        for (size_t i = 0; i < src.size(); i++) src[i] = uint8_t(i * 31 + i / 7);
        transpose(src.data(), dst.data(), rows, cols, es, lds, ldd);
        unsigned bad = 0;
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < cols; c++)
                bad += std::memcmp(&dst[(c * ldd + r) * es], &src[(r * lds + c) * es], es) != 0;
        for (size_t c = 0; c < cols; c++)
            for (size_t r = rows; r < ldd; r++) bad += dst[(c * ldd + r) * es] != 0xEE;
        CHECK(bad == 0);
    }
}

// Throughput of the functional data path (not run by ctest): test_tlm "[.numerics-bench]".
TEST_CASE("numerics throughput", "[.numerics-bench]") {
    const size_t n = 512;
    std::mt19937 rng(1);
    for (dtype t : {dtype::bf16, dtype::fp8_e4m3, dtype::int8, dtype::fp32}) {
        auto A = random_operand(t, n * n, rng), B = random_operand(t, n * n, rng);
        std::vector<float> C(n * n);
        const auto t0 = std::chrono::steady_clock::now();
        gemm_ref(t, A.data(), B.data(), C.data(), n, n, n, n, n, n, false);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        WARN("gemm_ref " << dtype_name(t) << " " << n << "^3: " << s * 1e3 << " ms, "
                         << 2.0 * n * n * n / s / 1e9 << " GFLOP/s");
    }
    std::vector<float> x(1 << 22), y(x.size());
    for (size_t i = 0; i < x.size(); i++) x[i] = float(i % 1000) / 100.0f - 5.0f;
    std::vector<uint16_t> h(x.size());
    auto time = [&](const char* what, auto fn) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        WARN(what << ": " << x.size() / s / 1e6 << " M elements/s");
    };
    time("from_f32 bf16", [&] { from_f32(dtype::bf16, x.data(), h.data(), x.size()); });
    time("to_f32 bf16", [&] { to_f32(dtype::bf16, h.data(), y.data(), x.size()); });
    time("from_f32 fp16", [&] { from_f32(dtype::fp16, x.data(), h.data(), x.size()); });
    time("to_f32 fp16", [&] { to_f32(dtype::fp16, h.data(), y.data(), x.size()); });
    time("from_f32 e4m3", [&] { from_f32(dtype::fp8_e4m3, x.data(), h.data(), x.size()); });
    time("vadd", [&] { vadd(x.data(), x.data(), y.data(), x.size()); });
    time("vgelu", [&] { vgelu(x.data(), y.data(), x.size()); });
    time("softmax rows of 512", [&] { softmax_rows(x.data(), y.data(), x.size() / 512, 512); });
    time("layernorm rows of 768", [&] { layernorm_rows(x.data(), y.data(), x.size() / 768, 768, 1e-5f, nullptr, nullptr); });
}
