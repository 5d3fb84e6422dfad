#include <immintrin.h>

#include "kernels/f32-packa/f32-packa.h"

namespace {

// v[i] = row i's 8 values in; v[k] = value k of the 8 rows out.
inline void transpose8x8(__m256 v[8]) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);
  }
  // u[g + j] (g 0 or 4) holds, per 128-bit lane L, value 4L + j of rows g .. g+3
  __m256 u[8];
  for (int g = 0; g < 8; g += 4) {
    u[g] = _mm256_shuffle_ps(t[g], t[g + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int j = 0; j < 4; ++j) {
    v[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    v[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
}

// Lanes [0, n) of a 256-bit vector of 8 floats.
inline __m256i first_lanes(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

}  // namespace

// 8 rows by 8 values at a time through a register transpose; rows past mr read as zeros.
void ck_f32_packa_ukernel__avx2(size_t mr, size_t MR, size_t kc, const float* const* rows, float* dst) {
  for (size_t r0 = 0; r0 < MR; r0 += 8) {
    const __m256i lanes = first_lanes(MR - r0 < 8 ? MR - r0 : 8);
    for (size_t k0 = 0; k0 < kc; k0 += 8) {
      const size_t kn = kc - k0 < 8 ? kc - k0 : 8;
      const __m256i values = first_lanes(kn);
      __m256 v[8];
      for (size_t i = 0; i < 8; ++i)
        v[i] = r0 + i < mr ? _mm256_maskload_ps(rows[r0 + i] + k0, values) : _mm256_setzero_ps();
      transpose8x8(v);
      for (size_t k = 0; k < kn; ++k) _mm256_maskstore_ps(dst + (k0 + k) * MR + r0, lanes, v[k]);
    }
  }
}
