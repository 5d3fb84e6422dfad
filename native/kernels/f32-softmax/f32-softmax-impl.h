// The softmax row microkernels, written once against a SIMD vocabulary; loop tails use the scalar one.
#pragma once

#include "kernels/f32-softmax/f32-softmax.h"
#include "simd/scalar.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

template <class V>
inline void ck_f32_softmax(size_t c, const float* x, float* y) {
  using S = ck_simd_scalar;
  constexpr size_t W = V::width;
  const size_t body = c - c % W;
  float mx = c > 0 ? x[0] : 0.0f;
  if (body > 0) {
    typename V::reg vm = V::load(x);
    for (size_t i = W; i < body; i += W) vm = V::max(V::load(x + i), vm);
    mx = V::reduce_max(vm);
  }
  for (size_t i = body; i < c; ++i) mx = S::max(x[i], mx);

  const typename V::reg vmx = V::set1(mx);
  typename V::reg vs = V::zero();
  for (size_t i = 0; i < body; i += W) {
    const typename V::reg e = V::exp(V::sub(V::load(x + i), vmx));
    V::store(y + i, e);
    vs = V::add(vs, e);
  }
  float sum = V::reduce_add(vs);
  for (size_t i = body; i < c; ++i) {
    y[i] = S::exp(x[i] - mx);
    sum += y[i];
  }
  // Divide rather than multiply by 1/sum: one rounding instead of two.
  const typename V::reg vsum = V::set1(sum);
  for (size_t i = 0; i < body; i += W) V::store(y + i, V::div(V::load(y + i), vsum));
  for (size_t i = body; i < c; ++i) y[i] /= sum;
}

template <class V>
inline void ck_f32_softmax_bwd(size_t c, const float* dy, const float* y, float* dx) {
  constexpr size_t W = V::width;
  const size_t body = c - c % W;
  typename V::reg vs = V::zero();
  for (size_t i = 0; i < body; i += W) vs = V::fmadd(V::load(dy + i), V::load(y + i), vs);
  float s = V::reduce_add(vs);
  for (size_t i = body; i < c; ++i) s += dy[i] * y[i];
  const typename V::reg vsum = V::set1(s);
  for (size_t i = 0; i < body; i += W) V::store(dx + i, V::mul(V::load(y + i), V::sub(V::load(dy + i), vsum)));
  for (size_t i = body; i < c; ++i) dx[i] = y[i] * (dy[i] - s);
}

}  // namespace

#define CK_DEFINE_SOFTMAX_UKERNELS(sfx, V)                                                                      \
  void ck_f32_softmax_ukernel__##sfx(size_t c, const float* x, float* y) { ck_f32_softmax<V>(c, x, y); } \
  void ck_f32_softmax_bwd_ukernel__##sfx(size_t c, const float* dy, const float* y, float* dx) {               \
    ck_f32_softmax_bwd<V>(c, dy, y, dx);                                                                        \
  }
