// The per-channel microkernels, written once in plain C++ and compiled per ISA: the inner loops run along the
// contiguous channels, which the compiler vectorizes to the ISA's width (in double for the sums).
#pragma once

#include "kernels/f32-channel/f32-channel.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

inline void ck_channel_sums(size_t rows, size_t c, const float* a, const float* b, double* acc0, double* acc1) {
  for (size_t r = 0; r < rows; ++r) {
    const float* ar = a + r * c;
    for (size_t k = 0; k < c; ++k) acc0[k] += double(ar[k]);
    if (b == nullptr) continue;
    const float* br = b + r * c;
    for (size_t k = 0; k < c; ++k) acc1[k] += double(ar[k]) * double(br[k]);
  }
}

inline void ck_channel_sqdev(size_t rows, size_t c, const float* x, const double* mean, double* acc) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * c;
    for (size_t k = 0; k < c; ++k) {
      const double d = double(xr[k]) - mean[k];
      acc[k] += d * d;
    }
  }
}

inline void ck_channel_affine(size_t rows, size_t c, const float* x, const float* s, const float* t, float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    for (size_t k = 0; k < c; ++k) yr[k] = xr[k] * s[k] + t[k];
  }
}

inline void ck_channel_affine2(size_t rows, size_t c, const float* a, const float* b, const float* sa, const float* sb,
                               const float* t, float* y) {
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
