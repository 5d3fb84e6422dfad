// The per-channel microkernels, written once in plain C++ and compiled per ISA: the inner loops run along the
// contiguous channels, which the compiler vectorizes to the ISA's width (in double for the sums).
#pragma once

#include <type_traits>

#include "kernels/f32-channel/f32-channel.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// Channels [k0, k0 + CB) of the sums below, their CB sums held in registers down the rows (through acc, the
// compiler reloads and stores them every row, since acc may alias mean). Each sum still adds the rows in order.
template <size_t CB, bool B>
inline void ck_channel_sums_chunk(size_t rows, size_t c, size_t k0, const float* a, const float* b, double* acc0,
                                  double* acc1) {
  double s0[CB], s1[CB];
  for (size_t j = 0; j < CB; ++j) s0[j] = acc0[k0 + j], s1[j] = B ? acc1[k0 + j] : 0.0;
  for (size_t r = 0; r < rows; ++r) {
    const float* ar = a + r * c + k0;
    for (size_t j = 0; j < CB; ++j) s0[j] += double(ar[j]);
    if constexpr (B) {
      const float* br = b + r * c + k0;
      for (size_t j = 0; j < CB; ++j) s1[j] += double(ar[j]) * double(br[j]);
    }
  }
  for (size_t j = 0; j < CB; ++j) acc0[k0 + j] = s0[j];
  if constexpr (B)
    for (size_t j = 0; j < CB; ++j) acc1[k0 + j] = s1[j];
}

template <size_t CB>
inline void ck_channel_sqdev_chunk(size_t rows, size_t c, size_t k0, const float* x, const double* mean, double* acc) {
  double s[CB], m[CB];
  for (size_t j = 0; j < CB; ++j) s[j] = acc[k0 + j], m[j] = mean[k0 + j];
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * c + k0;
    for (size_t j = 0; j < CB; ++j) {
      const double d = double(xr[j]) - m[j];
      s[j] += d * d;
    }
  }
  for (size_t j = 0; j < CB; ++j) acc[k0 + j] = s[j];
}

// The channels in chunks of 64, then 16, 4 and 1.
template <class Chunk>
inline void ck_channel_chunks(size_t c, Chunk&& chunk) {
  size_t k0 = 0;
  for (; k0 + 64 <= c; k0 += 64) chunk(std::integral_constant<size_t, 64>(), k0);
  for (; k0 + 16 <= c; k0 += 16) chunk(std::integral_constant<size_t, 16>(), k0);
  for (; k0 + 4 <= c; k0 += 4) chunk(std::integral_constant<size_t, 4>(), k0);
  for (; k0 < c; ++k0) chunk(std::integral_constant<size_t, 1>(), k0);
}

inline void ck_channel_sums(size_t rows, size_t c, const float* a, const float* b, double* acc0, double* acc1) {
  if (b == nullptr)
    ck_channel_chunks(c, [&](auto cb, size_t k0) { ck_channel_sums_chunk<cb, false>(rows, c, k0, a, b, acc0, acc1); });
  else
    ck_channel_chunks(c, [&](auto cb, size_t k0) { ck_channel_sums_chunk<cb, true>(rows, c, k0, a, b, acc0, acc1); });
}

inline void ck_channel_sqdev(size_t rows, size_t c, const float* x, const double* mean, double* acc) {
  ck_channel_chunks(c, [&](auto cb, size_t k0) { ck_channel_sqdev_chunk<cb>(rows, c, k0, x, mean, acc); });
}

template <size_t CB>
inline void ck_channel_affine_chunk(size_t rows, size_t c, size_t k0, const float* x, const float* s, const float* t,
                                    float* __restrict y) {
  float sc[CB], tc[CB];
  for (size_t j = 0; j < CB; ++j) sc[j] = s[k0 + j], tc[j] = t[k0 + j];
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * c + k0;
    float* yr = y + r * c + k0;
    for (size_t j = 0; j < CB; ++j) yr[j] = xr[j] * sc[j] + tc[j];
  }
}

template <size_t CB>
inline void ck_channel_affine2_chunk(size_t rows, size_t c, size_t k0, const float* a, const float* b, const float* sa,
                                     const float* sb, const float* t, float* __restrict y) {
  float sac[CB], sbc[CB], tc[CB];
  for (size_t j = 0; j < CB; ++j) sac[j] = sa[k0 + j], sbc[j] = sb[k0 + j], tc[j] = t[k0 + j];
  for (size_t r = 0; r < rows; ++r) {
    const float *ar = a + r * c + k0, *br = b + r * c + k0;
    float* yr = y + r * c + k0;
    for (size_t j = 0; j < CB; ++j) yr[j] = (ar[j] * sac[j] + br[j] * sbc[j]) + tc[j];
  }
}

// The maps go down the rows a chunk of channels at a time only for rows of fewer than 32 channels, too short for
// the vectorized loop over a row (wider rows ran 0.83-0.91x in chunks). The chunks' y is __restrict: else a
// store to y might change the next row's x, and GCC left the AVX2 chunk unvectorized (0.52-0.60x at 16 channels).
constexpr size_t kAffineChunkedBelow = 32;

inline void ck_channel_affine(size_t rows, size_t c, const float* x, const float* s, const float* t, float* y) {
  if (c < kAffineChunkedBelow)
    return ck_channel_chunks(c, [&](auto cb, size_t k0) { ck_channel_affine_chunk<cb>(rows, c, k0, x, s, t, y); });
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    for (size_t k = 0; k < c; ++k) yr[k] = xr[k] * s[k] + t[k];
  }
}

inline void ck_channel_affine2(size_t rows, size_t c, const float* a, const float* b, const float* sa, const float* sb,
                               const float* t, float* y) {
  if (c < kAffineChunkedBelow)
    return ck_channel_chunks(c, [&](auto cb, size_t k0) { ck_channel_affine2_chunk<cb>(rows, c, k0, a, b, sa, sb, t, y); });
  for (size_t r = 0; r < rows; ++r) {
    const float *ar = a + r * c, *br = b + r * c;
    float* yr = y + r * c;
    for (size_t k = 0; k < c; ++k) yr[k] = (ar[k] * sa[k] + br[k] * sb[k]) + t[k];
  }
}

}  // namespace

#define CK_DEFINE_CHANNEL_UKERNELS(sfx)                                                                          \
  void ck_f32_channel_sums_ukernel__##sfx(size_t rows, size_t c, const float* a, const float* b, double* acc0,    \
                                          double* acc1) {                                                        \
    ck_channel_sums(rows, c, a, b, acc0, acc1);                                                                  \
  }                                                                                                              \
  void ck_f32_channel_sqdev_ukernel__##sfx(size_t rows, size_t c, const float* x, const double* mean, double* acc) { \
    ck_channel_sqdev(rows, c, x, mean, acc);                                                                     \
  }                                                                                                              \
  void ck_f32_channel_affine_ukernel__##sfx(size_t rows, size_t c, const float* x, const float* s, const float* t,  \
                                            float* y) {                                                          \
    ck_channel_affine(rows, c, x, s, t, y);                                                                      \
  }                                                                                                              \
  void ck_f32_channel_affine2_ukernel__##sfx(size_t rows, size_t c, const float* a, const float* b, const float* sa, \
                                             const float* sb, const float* t, float* y) {                        \
    ck_channel_affine2(rows, c, a, b, sa, sb, t, y);                                                             \
  }
