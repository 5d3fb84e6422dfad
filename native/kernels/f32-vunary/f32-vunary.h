// Elementwise activation microkernels over n floats; no alignment required, outputs may alias inputs.
//   forward:  y = f(x)
//   backward: dx = dy * f'(.), from saved = x (relu, leakyRelu, elu) or saved = y (sigmoid, tanh)
// alpha is leakyRelu's slope and elu's alpha; the others ignore it.
#pragma once

#include <cstddef>

#include "convkit/isa.h"

typedef void (*ck_f32_vunary_fn)(size_t n, const float* x, float* y, float alpha);
typedef void (*ck_f32_vunary_bwd_fn)(size_t n, const float* dy, const float* saved, float* dx, float alpha);

// CK_VUNARY_UKERNELS(isa, suffix): ck_f32_v<act>_ukernel__<suffix> and ck_f32_v<act>_bwd_ukernel__<suffix>
// for act in relu, lrelu, elu, sigmoid, tanh.
#define CK_VUNARY_DECLARE_ONE(act, sfx)                                              \
  void ck_f32_v##act##_ukernel__##sfx(size_t n, const float* x, float* y, float alpha); \
  void ck_f32_v##act##_bwd_ukernel__##sfx(size_t n, const float* dy, const float* saved, float* dx, float alpha);
#define CK_VUNARY_UKERNELS(isa, sfx)  \
  CK_VUNARY_DECLARE_ONE(relu, sfx)    \
  CK_VUNARY_DECLARE_ONE(lrelu, sfx)   \
  CK_VUNARY_DECLARE_ONE(elu, sfx)     \
  CK_VUNARY_DECLARE_ONE(sigmoid, sfx) \
  CK_VUNARY_DECLARE_ONE(tanh, sfx)
#include "kernels/f32-vunary/f32-vunary.inc"
#undef CK_VUNARY_UKERNELS
