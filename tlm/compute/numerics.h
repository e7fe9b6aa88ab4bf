// Numerics of the compute engines: the element types, their conversions, the reference
// GEMM and the vector-engine operations. The engines compute their functional results
// with these functions, and tests compare engine output against them bit for bit, so
// every rounding step and accumulation order here is part of the hardware contract
// (docs/compute.md, "Numerics").
//
// Formats: fp32 (IEEE binary32), bf16 (top half of fp32), fp16 (IEEE binary16),
// fp8_e4m3 / fp8_e5m2 (OCP OFP8 v1.0), int8, int32. All float conversions round to
// nearest, ties to even. NaN stays NaN (sign kept, quiet, payload not kept for fp8).
//
// Saturation (fp8 only; bf16/fp16 conversions are plain IEEE, overflow gives Inf):
//   E4M3 (no Inf; NaN = S.1111.111; max 448):
//     saturate=true : |x| rounding above 448, and ±Inf, give ±448
//     saturate=false: they give NaN
//   E5M2 (IEEE-like; max 57344; Inf = S.11111.00, NaN = S.11111.{01,10,11}):
//     saturate=true : finite |x| rounding above 57344 gives ±57344; ±Inf stays ±Inf
//     saturate=false: overflow gives ±Inf
// Integer conversions always saturate (round to nearest even, NaN -> 0).
//
// The hot loops are plain loops over contiguous arrays (auto-vectorised at -O3); the
// functional data path of the simulator runs at host speed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace accelvp::num {

// Codes are part of the ABI (the dtype fields of GEMM/VEC packets).
enum class dtype : uint8_t { fp32 = 0, bf16 = 1, fp16 = 2, fp8_e4m3 = 3, fp8_e5m2 = 4, int8 = 5, int32 = 6 };
constexpr unsigned dtype_count = 7;

size_t dtype_size(dtype);                            // bytes per element
const char* dtype_name(dtype);                       // "fp32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "int8", "int32"
bool parse_dtype(const std::string&, dtype&);        // accepts the names above (also "e4m3", "e5m2")
bool dtype_from_code(uint32_t code, dtype&);         // false for codes outside the enum (untrusted packets)
bool is_float(dtype);                                // fp32, bf16, fp16, fp8_*
bool gemm_input_ok(dtype);                           // every dtype except int32
dtype gemm_acc_type(dtype in);                       // int32 for int8, fp32 otherwise

// Format limits (largest finite magnitude).
constexpr float bf16_max = 3.38953139e38f;           // 0x7F7F
constexpr float fp16_max = 65504.0f;                 // 0x7BFF
constexpr float e4m3_max = 448.0f;                   // 0x7E
constexpr float e5m2_max = 57344.0f;                 // 0x7B

// Scalar conversions.
uint16_t f32_to_bf16(float);
float bf16_to_f32(uint16_t);
uint16_t f32_to_fp16(float);
float fp16_to_f32(uint16_t);
uint8_t f32_to_e4m3(float, bool saturate);
float e4m3_to_f32(uint8_t);
uint8_t f32_to_e5m2(float, bool saturate);
float e5m2_to_f32(uint8_t);
int8_t i32_to_i8_sat(int32_t);
int8_t f32_to_i8_sat(float);                         // RNE, clamp to [-128, 127], NaN -> 0
int32_t f32_to_i32_sat(float);                       // RNE, clamp to int32 range, NaN -> 0

// x rounded to type t and back to fp32 (what storing x as t and reloading it gives).
float quantize(dtype t, float x, bool saturate = true);

// Array conversions. int8 -> exact float; int32 -> float rounds to nearest even above 2^24.
void to_f32(dtype t, const void* src, float* dst, size_t n);
void from_f32(dtype t, const float* src, void* dst, size_t n, bool saturate = true);

// Reference GEMM: C[m][n] (+)= sum_k A[m][k] * B[k][n]. A and B in dtype `in` (row-major,
// leading dimensions lda/ldb in elements); C is fp32 for float inputs, int32 for int8
// (ldc in elements). Every element is widened to fp32 (int32), the product is formed in
// fp32 (exact for all 8/16-bit types; rounded once for fp32 inputs) and added to the fp32
// accumulator in increasing k order, one rounding per add, never fused. accumulate=false
// starts the accumulator at +0, accumulate=true at the current C. int8 products are
// accumulated in int32 with two's-complement wrap-around. `in` == int32 throws
// std::invalid_argument (not a GEMM input type; engines check gemm_input_ok first).
void gemm_ref(dtype in, const void* A, const void* B, void* C, size_t m, size_t n, size_t k,
              size_t lda, size_t ldb, size_t ldc, bool accumulate);

// Vector-engine reference operations on fp32 arrays. Outputs may alias inputs exactly
// (y == a) but must not partially overlap them. Each is what the vector engine computes.
void vadd(const float* a, const float* b, float* y, size_t n);                  // a + b
void vmul(const float* a, const float* b, float* y, size_t n);                  // a * b
void vfma(const float* a, const float* b, const float* c, float* y, size_t n);  // a*b + c, one rounding (IEEE fma)
void vmax(const float* a, const float* b, float* y, size_t n);  // NaN if either is NaN; a == b (also ±0) gives b
void vrelu(const float* x, float* y, size_t n);                 // x < 0 ? +0 : x (NaN and -0 pass through)
// GELU, tanh approximation, in fp32 with this exact evaluation order:
//   u = 0.7978845608f * (x + 0.044715f * (x * x * x));  y = 0.5f * x * (1.0f + tanhf(u))
void vgelu(const float* x, float* y, size_t n);
void vexp(const float* x, float* y, size_t n);                  // expf of the host libm (glibc: within 1 ulp, deterministic)
void vrecip(const float* x, float* y, size_t n);                // 1.0f / x (IEEE division)
float gelu(float x);                                            // scalar form of vgelu

// Row operations on a rows x cols matrix with leading dimensions ldx/ldy in elements
// (0 means cols). Sums are in fp32, sequential in increasing column order.
void row_sum(const float* x, float* y, size_t rows, size_t cols, size_t ldx = 0);  // y[r] = sum_c x[r][c]
void row_max(const float* x, float* y, size_t rows, size_t cols, size_t ldx = 0);  // NaN if any NaN; -Inf if cols == 0
// softmax per row: mx = row_max; e_c = expf(x_c - mx); s = sum of e_c (increasing c);
// r = 1.0f / s; y_c = e_c * r.
void softmax_rows(const float* x, float* y, size_t rows, size_t cols, size_t ldx = 0, size_t ldy = 0);
// layernorm per row (population variance, two passes):
//   mean = (sum of x_c) / cols; var = (sum of (x_c - mean)^2) / cols; rstd = 1.0f / sqrtf(var + eps);
//   y_c = ((x_c - mean) * rstd) * gamma[c] + beta[c]   (gamma/beta nullptr: 1 / 0)
void layernorm_rows(const float* x, float* y, size_t rows, size_t cols, float eps, const float* gamma,
                    const float* beta, size_t ldx = 0, size_t ldy = 0);
// dst[c][r] = src[r][c] for elements of elem_size bytes (1, 2, 4 or 8); lds/ldd in elements
// (0 means cols resp. rows). src and dst must not overlap.
void transpose(const void* src, void* dst, size_t rows, size_t cols, size_t elem_size, size_t lds = 0,
               size_t ldd = 0);

}  // namespace accelvp::num
