// The SIMD vocabulary for AVX-512 (F/BW/DQ/VL): 16 floats per register. Include only from files built with
// -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma.
#pragma once

#include <immintrin.h>

#include "simd/scalar.h"
#include "simd/vmath.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

struct ck_simd_avx512 {
  using reg = __m512;
  static constexpr size_t width = 16;

  static reg zero() { return _mm512_setzero_ps(); }
  static reg set1(float v) { return _mm512_set1_ps(v); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  // v, which the compiler must now keep in a register: a loaded value used several times is otherwise folded back
  // into each use as a memory operand, one load per use.
  static reg in_register(reg v) {
    asm("" : "+v"(v));
    return v;
  }
  // The first n (< 16) lanes; the rest read as 0 and are never written.
  static reg load_partial(const float* p, size_t n) { return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p); }
  static void store_partial(float* p, reg v, size_t n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static reg div(reg a, reg b) { return _mm512_div_ps(a, b); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  // Same operand rule as MAXPS/MINPS: the second operand wins ties and NaNs.
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  static reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
  static reg select_pos(reg x, reg a, reg b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ), b, a);
  }
  // x > y ? a : b
  static reg select_gt(reg x, reg y, reg a, reg b) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, y, _CMP_GT_OQ), b, a); }
  // x < y ? a : b
  static reg select_lt(reg x, reg y, reg a, reg b) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, y, _CMP_LT_OQ), b, a); }
  // x is NaN ? a : b
  static reg select_nan(reg x, reg a, reg b) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), b, a); }
  static reg abs(reg x) { return _mm512_abs_ps(x); }
  static reg copysign(reg mag, reg sign) {
    const __m512i m = _mm512_set1_epi32(0x80000000);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(m, _mm512_castps_si512(mag)),
                                               _mm512_and_si512(m, _mm512_castps_si512(sign))));
  }
  static reg round_nearest(reg x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for integral n in [-126, 127]
  static reg pow2(reg n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static float reduce_add(reg v) { return _mm512_reduce_add_ps(v); }
  static float reduce_max(reg v) { return _mm512_reduce_max_ps(v); }
  static reg exp(reg x) { return ck_vexp<ck_simd_avx512>(x); }
  static reg expm1(reg x) { return ck_vexpm1<ck_simd_avx512>(x); }
  static reg tanh(reg x) { return ck_vtanh<ck_simd_avx512>(x); }
  static reg softplus(reg x) { return ck_vsoftplus<ck_simd_avx512>(x); }
  static reg normal_cdf(reg x) { return ck_vnormal_cdf_lanes<ck_simd_avx512>(x); }
};

}  // namespace
