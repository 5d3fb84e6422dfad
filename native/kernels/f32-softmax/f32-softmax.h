// Softmax microkernels over one row of c floats; no alignment required.
//   fwd: y = exp(x - max(x)) / sum(exp(x - max(x)))     (y may alias x)
//   bwd: dx = y * (dy - sum(dy * y))                    (dx may alias dy)
#pragma once

#include <cstddef>

#include "convkit/isa.h"

typedef void (*ck_f32_softmax_fn)(size_t c, const float* x, float* y);
typedef void (*ck_f32_softmax_bwd_fn)(size_t c, const float* dy, const float* y, float* dx);

// CK_SOFTMAX_UKERNELS(isa, suffix): ck_f32_softmax_ukernel__<suffix>, ck_f32_softmax_bwd_ukernel__<suffix>.
#define CK_SOFTMAX_UKERNELS(isa, sfx)                                          \
  void ck_f32_softmax_ukernel__##sfx(size_t c, const float* x, float* y); \
  void ck_f32_softmax_bwd_ukernel__##sfx(size_t c, const float* dy, const float* y, float* dx);
#include "kernels/f32-softmax/f32-softmax.inc"
#undef CK_SOFTMAX_UKERNELS
