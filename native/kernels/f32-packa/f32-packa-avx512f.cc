#include <immintrin.h>

#include "kernels/f32-packa/f32-packa.h"

namespace {

// v[i] = row i's 16 values in; v[k] = value k of the 16 rows out.
inline void transpose16x16(__m512 v[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
  }
  // u[g + j] (g a multiple of 4) holds, per 128-bit lane L, value 4L + j of rows g .. g+3
  __m512 u[16];
  for (int g = 0; g < 16; g += 4) {
    const __m512d a = _mm512_castps_pd(t[g]), b = _mm512_castps_pd(t[g + 1]);
    const __m512d c = _mm512_castps_pd(t[g + 2]), d = _mm512_castps_pd(t[g + 3]);
    u[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // w[j] holds values j and 8 + j of rows 0-7 (lanes: rows 0-3, 0-3, 4-7, 4-7), w[4 + j] values 4 + j and
  // 12 + j; w[8 + ...] the same of rows 8-15
  __m512 w[16];
  for (int h = 0; h < 16; h += 8)
    for (int j = 0; j < 4; ++j) {
      w[h + j] = _mm512_shuffle_f32x4(u[h + j], u[h + 4 + j], 0x88);
      w[h + 4 + j] = _mm512_shuffle_f32x4(u[h + j], u[h + 4 + j], 0xdd);
    }
  for (int j = 0; j < 8; ++j) {
    v[j] = _mm512_shuffle_f32x4(w[j], w[8 + j], 0x88);
    v[8 + j] = _mm512_shuffle_f32x4(w[j], w[8 + j], 0xdd);
  }
}

}  // namespace

// 16 rows by 16 values at a time through a register transpose; rows past mr read as zeros.
void ck_f32_packa_ukernel__avx512f(size_t mr, size_t MR, size_t kc, const float* const* rows, float* dst) {
  for (size_t r0 = 0; r0 < MR; r0 += 16) {
    const size_t rn = MR - r0 < 16 ? MR - r0 : 16;
    const __mmask16 lanes = __mmask16((1u << rn) - 1);
    for (size_t k0 = 0; k0 < kc; k0 += 16) {
      const size_t kn = kc - k0 < 16 ? kc - k0 : 16;
      const __mmask16 values = __mmask16((1u << kn) - 1);
      __m512 v[16];
      for (size_t i = 0; i < 16; ++i)
        v[i] = r0 + i < mr ? _mm512_maskz_loadu_ps(values, rows[r0 + i] + k0) : _mm512_setzero_ps();
      transpose16x16(v);
      for (size_t k = 0; k < kn; ++k) _mm512_mask_storeu_ps(dst + (k0 + k) * MR + r0, lanes, v[k]);
    }
  }
}
