// The SIMD vocabulary for AVX2 + FMA: 8 floats per register. Include only from files built with -mavx2 -mfma.
#pragma once

#include <immintrin.h>

#include "simd/scalar.h"
#include "simd/vmath.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

struct ck_simd_avx2 {
  using reg = __m256;
  static constexpr size_t width = 8;

  static reg zero() { return _mm256_setzero_ps(); }
  static reg set1(float v) { return _mm256_set1_ps(v); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  // v, kept in a register (see ck_simd_avx512::in_register).
  static reg in_register(reg v) {
    asm("" : "+x"(v));
    return v;
  }
  // The first n (< 8) lanes; the rest read as 0 and are never written.
  static __m256i first_lanes(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static reg load_partial(const float* p, size_t n) { return _mm256_maskload_ps(p, first_lanes(n)); }
  static void store_partial(float* p, reg v, size_t n) { _mm256_maskstore_ps(p, first_lanes(n), v); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static reg div(reg a, reg b) { return _mm256_div_ps(a, b); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  static reg min(reg a, reg b) { return _mm256_min_ps(a, b); }
  static reg select_pos(reg x, reg a, reg b) {
    return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
  }
  // x > y ? a : b
  static reg select_gt(reg x, reg y, reg a, reg b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, y, _CMP_GT_OQ)); }
  // x < y ? a : b
  static reg select_lt(reg x, reg y, reg a, reg b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, y, _CMP_LT_OQ)); }
  // x is NaN ? a : b
  static reg select_nan(reg x, reg a, reg b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)); }
  static reg abs(reg x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
  static reg copysign(reg mag, reg sign) {
    const reg m = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(m, mag), _mm256_and_ps(m, sign));
  }
  static reg round_nearest(reg x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for integral n in [-126, 127]
  static reg pow2(reg n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  static float reduce_add(reg v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float reduce_max(reg v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static reg exp(reg x) { return ck_vexp<ck_simd_avx2>(x); }
  static reg expm1(reg x) { return ck_vexpm1<ck_simd_avx2>(x); }
  static reg tanh(reg x) { return ck_vtanh<ck_simd_avx2>(x); }
  static reg softplus(reg x) { return ck_vsoftplus<ck_simd_avx2>(x); }
  static reg normal_cdf(reg x) { return ck_vnormal_cdf_lanes<ck_simd_avx2>(x); }
};

}  // namespace
