// Per-channel microkernels over x (rows, channels), channels contiguous (nhwc and row-major matrices alike), the
// loops of batch normalization. No alignment required; every row of the block [0, rows) is processed.
//   sums:    acc0[c] += sum_r a[r, c];  acc1[c] += sum_r a[r, c] * b[r, c] in double (b null: acc1 untouched)
//   sqdev:   acc[c] += sum_r (x[r, c] - mean[c])^2 in double
//   affine:  y[r, c] = x[r, c] * s[c] + t[c]
//   affine2: y[r, c] = a[r, c] * sa[c] + b[r, c] * sb[c] + t[c]
// y overlaps none of the inputs.
// The float ops are unfused and in that order (-ffp-contract=off), so every ISA gives the same bits.
#pragma once

#include <cstddef>

#include "convkit/isa.h"

typedef void (*ck_f32_channel_sums_fn)(size_t rows, size_t c, const float* a, const float* b, double* acc0, double* acc1);
typedef void (*ck_f32_channel_sqdev_fn)(size_t rows, size_t c, const float* x, const double* mean, double* acc);
typedef void (*ck_f32_channel_affine_fn)(size_t rows, size_t c, const float* x, const float* s, const float* t, float* y);
typedef void (*ck_f32_channel_affine2_fn)(size_t rows, size_t c, const float* a, const float* b, const float* sa,
                                          const float* sb, const float* t, float* y);

// CK_CHANNEL_UKERNELS(isa, suffix): ck_f32_channel_{sums,sqdev,affine,affine2}_ukernel__<suffix>.
#define CK_CHANNEL_UKERNELS(isa, sfx)                                                                            \
  void ck_f32_channel_sums_ukernel__##sfx(size_t rows, size_t c, const float* a, const float* b, double* acc0,    \
                                          double* acc1);                                                         \
  void ck_f32_channel_sqdev_ukernel__##sfx(size_t rows, size_t c, const float* x, const double* mean, double* acc); \
  void ck_f32_channel_affine_ukernel__##sfx(size_t rows, size_t c, const float* x, const float* s, const float* t,  \
                                            float* y);                                                           \
  void ck_f32_channel_affine2_ukernel__##sfx(size_t rows, size_t c, const float* a, const float* b, const float* sa, \
                                             const float* sb, const float* t, float* y);
#include "kernels/f32-channel/f32-channel.inc"
#undef CK_CHANNEL_UKERNELS
