// The activation microkernels, written once against a SIMD vocabulary. A loop tail goes through the vector
// path too, through masked loads (zero lanes) and stores: every element then gets the same formula (the vector exp,
// expm1 and tanh differ from libm's in the last bits), so a row's activations do not depend on where it sits in the
// batch or on the batch size. Each op has fwd(x) and bwd(dy, saved) over a vocabulary T.
#pragma once

#include "kernels/f32-vunary/f32-vunary.h"
#include "simd/vmath.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

template <class V, class Op>
inline void ck_f32_vunary(size_t n, const float* x, float* y, float alpha) {
  size_t i = 0;
  const typename V::reg va = V::set1(alpha);
  for (; i + V::width <= n; i += V::width) V::store(y + i, Op::template fwd<V>(V::load(x + i), va));
  if (i < n) V::store_partial(y + i, Op::template fwd<V>(V::load_partial(x + i, n - i), va), n - i);
}

template <class V, class Op>
inline void ck_f32_vunary_bwd(size_t n, const float* dy, const float* saved, float* dx, float alpha) {
  size_t i = 0;
  const typename V::reg va = V::set1(alpha);
  for (; i + V::width <= n; i += V::width)
    V::store(dx + i, Op::template bwd<V>(V::load(dy + i), V::load(saved + i), va));
  if (i < n)
    V::store_partial(dx + i, Op::template bwd<V>(V::load_partial(dy + i, n - i), V::load_partial(saved + i, n - i), va),
                     n - i);
}

struct ck_op_relu {
  template <class T>
  // max(0, x), not max(x, 0): the vector max returns its second operand when one is NaN, so relu(NaN) is NaN.
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return T::max(T::zero(), x); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg) {
    return T::select_pos(x, dy, T::zero());
  }
};

struct ck_op_lrelu {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg a) { return T::select_pos(x, x, T::mul(a, x)); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg a) {
    return T::select_pos(x, dy, T::mul(a, dy));
  }
};

struct ck_op_elu {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg a) {
    return T::select_pos(x, x, T::mul(a, T::expm1(x)));
  }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg a) {
    return T::select_pos(x, dy, T::mul(dy, T::mul(a, T::exp(x))));
  }
};

struct ck_op_sigmoid {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return ck_vsigmoid<T>(x); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg y, typename T::reg) {
    return T::mul(dy, T::mul(y, T::sub(T::set1(1.0f), y)));
  }
};

struct ck_op_tanh {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return T::tanh(x); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg y, typename T::reg) {
    return T::mul(dy, T::sub(T::set1(1.0f), T::mul(y, y)));
  }
};

// The backward passes below take saved = x, except relu6, hardSigmoid and exponential, whose derivative
// comes from the output y (so a fused op keeps only y).
struct ck_op_relu6 {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return T::min(T::set1(6.0f), T::max(T::zero(), x)); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg y, typename T::reg) {
    return T::select_pos(y, T::select_lt(y, T::set1(6.0f), dy, T::zero()), T::zero());
  }
};

// clamp(alpha * x + 1/2, 0, 1); alpha 1/6 in Keras 3 (relu6(x + 3) / 6), 0.2 in Keras 2 and TF.js
struct ck_op_hsigmoid {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg a) {
    return T::min(T::set1(1.0f), T::max(T::zero(), T::fmadd(a, x, T::set1(0.5f))));
  }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg y, typename T::reg a) {
    return T::select_pos(y, T::select_lt(y, T::set1(1.0f), T::mul(a, dy), T::zero()), T::zero());
  }
};

struct ck_op_hswish {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) {
    const typename T::reg r6 = T::min(T::set1(6.0f), T::max(T::zero(), T::add(x, T::set1(3.0f))));
    return T::mul(x, T::mul(r6, T::set1(1.0f / 6.0f)));
  }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg) {
    const typename T::reg mid = T::mul(dy, T::fmadd(x, T::set1(1.0f / 3.0f), T::set1(0.5f)));
    return T::select_lt(x, T::set1(-3.0f), T::zero(), T::select_gt(x, T::set1(3.0f), dy, mid));
  }
};

struct ck_op_swish {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return T::mul(x, ck_vsigmoid<T>(x)); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg) {
    const typename T::reg s = ck_vsigmoid<T>(x);
    return T::mul(dy, T::fmadd(T::mul(x, s), T::sub(T::set1(1.0f), s), s));
  }
};

// x Phi(x), Phi the normal distribution function; d/dx = Phi(x) + x phi(x)
struct ck_op_gelu {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return T::mul(x, T::normal_cdf(x)); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg) {
    const typename T::reg density = T::mul(T::set1(0.39894228040143268f), T::exp(T::mul(T::set1(-0.5f), T::mul(x, x))));
    return T::mul(dy, T::fmadd(x, density, T::normal_cdf(x)));
  }
};

// (x / 2)(1 + tanh u), u = sqrt(2 / pi)(x + 0.044715 x^3), computed as x sigmoid(2u): the same function, without
// the cancellation of 1 + tanh u in the left tail; d/dx = s + x s (1 - s) 2u' with s = sigmoid(2u) = 1 / (1 + e),
// e = exp(-2u), and 1 - s = 1 / (1 + 1 / e) (no cancellation in the right tail either; e = inf gives s = 0,
// 1 - s = 1)
struct ck_op_gelu_tanh {
  template <class T>
  static typename T::reg twice_inner(typename T::reg x) {
    return T::mul(T::set1(2.0f * 0.79788456080286536f), T::fmadd(T::mul(T::set1(0.044715f), T::mul(x, x)), x, x));
  }
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return T::mul(x, ck_vsigmoid<T>(twice_inner<T>(x))); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg) {
    const typename T::reg e = T::exp(T::sub(T::zero(), twice_inner<T>(x)));
    const typename T::reg s = T::div(T::set1(1.0f), T::add(T::set1(1.0f), e));
    const typename T::reg du2 = T::mul(T::set1(2.0f * 0.79788456080286536f), T::fmadd(T::set1(3.0f * 0.044715f), T::mul(x, x), T::set1(1.0f)));
    const typename T::reg s_neg = T::div(T::set1(1.0f), T::add(T::set1(1.0f), T::div(T::set1(1.0f), e)));
    return T::mul(dy, T::fmadd(T::mul(T::mul(x, s), s_neg), du2, s));
  }
};

struct ck_op_softplus {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return T::softplus(x); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg) { return T::mul(dy, ck_vsigmoid<T>(x)); }
};

struct ck_op_softsign {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return T::div(x, T::add(T::set1(1.0f), T::abs(x))); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg) {
    const typename T::reg d = T::add(T::set1(1.0f), T::abs(x));
    return T::div(dy, T::mul(d, d));
  }
};

// scale * (x > 0 ? x : alpha * (e^x - 1)) with the self-normalizing constants of Klambauer et al. (2017)
struct ck_op_selu {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) {
    const typename T::reg neg = T::mul(T::set1(1.67326324235437728f), T::expm1(x));
    return T::mul(T::set1(1.05070098735548049f), T::select_pos(x, x, neg));
  }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg) {
    const typename T::reg neg = T::mul(dy, T::mul(T::set1(1.67326324235437728f), T::exp(x)));
    return T::mul(T::set1(1.05070098735548049f), T::select_pos(x, dy, neg));
  }
};

struct ck_op_mish {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return T::mul(x, T::tanh(T::softplus(x))); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg x, typename T::reg) {
    const typename T::reg t = T::tanh(T::softplus(x));
    return T::mul(dy, T::fmadd(T::mul(x, T::sub(T::set1(1.0f), T::mul(t, t))), ck_vsigmoid<T>(x), t));
  }
};

struct ck_op_exponential {
  template <class T>
  static typename T::reg fwd(typename T::reg x, typename T::reg) { return T::exp(x); }
  template <class T>
  static typename T::reg bwd(typename T::reg dy, typename T::reg y, typename T::reg) { return T::mul(dy, y); }
};

}  // namespace

#define CK_DEFINE_VUNARY_ONE(act, id, sfx, V)                                                                 \
  void ck_f32_v##act##_ukernel__##sfx(size_t n, const float* x, float* y, float alpha) {                  \
    ck_f32_vunary<V, ck_op_##act>(n, x, y, alpha);                                                        \
  }                                                                                                       \
  void ck_f32_v##act##_bwd_ukernel__##sfx(size_t n, const float* dy, const float* saved, float* dx, float alpha) { \
    ck_f32_vunary_bwd<V, ck_op_##act>(n, dy, saved, dx, alpha);                                           \
  }
#define CK_DEFINE_VUNARY_UKERNELS(sfx, V) CK_VUNARY_ACTS(CK_DEFINE_VUNARY_ONE, sfx, V)
