// The activation microkernels, written once against a SIMD vocabulary. A loop tail goes through the vector
// path too, through masked loads (zero lanes) and stores: every element then gets the same formula (the vector exp,
// expm1 and tanh differ from libm's in the last bits), so a row's activations do not depend on where it sits in the
// batch or on the batch size. Each op has fwd(x) and bwd(dy, saved) over a vocabulary T.
#pragma once

#include "kernels/f32-vunary/f32-vunary.h"

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
  static typename T::reg fwd(typename T::reg x, typename T::reg) {
    return T::div(T::set1(1.0f), T::add(T::set1(1.0f), T::exp(T::sub(T::zero(), x))));
  }
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

}  // namespace

#define CK_DEFINE_VUNARY_ONE(act, sfx, V)                                                                 \
  void ck_f32_v##act##_ukernel__##sfx(size_t n, const float* x, float* y, float alpha) {                  \
    ck_f32_vunary<V, ck_op_##act>(n, x, y, alpha);                                                        \
  }                                                                                                       \
  void ck_f32_v##act##_bwd_ukernel__##sfx(size_t n, const float* dy, const float* saved, float* dx, float alpha) { \
    ck_f32_vunary_bwd<V, ck_op_##act>(n, dy, saved, dx, alpha);                                           \
  }
#define CK_DEFINE_VUNARY_UKERNELS(sfx, V) \
  CK_DEFINE_VUNARY_ONE(relu, sfx, V)      \
  CK_DEFINE_VUNARY_ONE(lrelu, sfx, V)     \
  CK_DEFINE_VUNARY_ONE(elu, sfx, V)       \
  CK_DEFINE_VUNARY_ONE(sigmoid, sfx, V)   \
  CK_DEFINE_VUNARY_ONE(tanh, sfx, V)
