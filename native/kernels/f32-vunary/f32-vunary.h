// Elementwise activation microkernels over n floats; no alignment required, outputs may alias inputs.
//   forward:  y = f(x)
//   backward: dx = dy * f'(.), from saved = y for sigmoid, tanh, relu6, hardSigmoid and exponential, from
//             saved = x for the others
// alpha is leakyRelu's slope, elu's alpha and hardSigmoid's slope; the others ignore it.
#pragma once

#include <cstddef>

#include "convkit/isa.h"

typedef void (*ck_f32_vunary_fn)(size_t n, const float* x, float* y, float alpha);
typedef void (*ck_f32_vunary_bwd_fn)(size_t n, const float* dy, const float* saved, float* dx, float alpha);

// X(kernel name, ck_act, sfx, V) for every activation with a kernel: the one list that declares, defines
// (f32-vunary-impl.h) and registers (runtime/dispatch.cc) them.
#define CK_VUNARY_ACTS(X, sfx, V)                                                              \
  X(relu, CK_ACT_RELU, sfx, V) X(lrelu, CK_ACT_LEAKY_RELU, sfx, V) X(elu, CK_ACT_ELU, sfx, V)      \
  X(sigmoid, CK_ACT_SIGMOID, sfx, V) X(tanh, CK_ACT_TANH, sfx, V) X(relu6, CK_ACT_RELU6, sfx, V)   \
  X(hsigmoid, CK_ACT_HARD_SIGMOID, sfx, V) X(hswish, CK_ACT_HARD_SWISH, sfx, V)                    \
  X(swish, CK_ACT_SWISH, sfx, V) X(gelu, CK_ACT_GELU, sfx, V) X(gelu_tanh, CK_ACT_GELU_TANH, sfx, V) \
  X(softplus, CK_ACT_SOFTPLUS, sfx, V) X(softsign, CK_ACT_SOFTSIGN, sfx, V) X(selu, CK_ACT_SELU, sfx, V) \
  X(mish, CK_ACT_MISH, sfx, V) X(exponential, CK_ACT_EXPONENTIAL, sfx, V)

// CK_VUNARY_UKERNELS(isa, suffix): ck_f32_v<act>_ukernel__<suffix> and ck_f32_v<act>_bwd_ukernel__<suffix>.
#define CK_VUNARY_DECLARE_ONE(act, id, sfx, V)                                               \
  void ck_f32_v##act##_ukernel__##sfx(size_t n, const float* x, float* y, float alpha); \
  void ck_f32_v##act##_bwd_ukernel__##sfx(size_t n, const float* dy, const float* saved, float* dx, float alpha);
#define CK_VUNARY_UKERNELS(isa, sfx) CK_VUNARY_ACTS(CK_VUNARY_DECLARE_ONE, sfx, )
#include "kernels/f32-vunary/f32-vunary.inc"
#undef CK_VUNARY_UKERNELS
