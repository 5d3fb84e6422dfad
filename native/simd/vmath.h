// Vectorized exp, expm1, tanh and log1p over a SIMD vocabulary V that provides round_nearest(), pow2(n) and abs() besides
// the basic arithmetic. Polynomials from Cephes (expf: ~1 ulp on the clamped range; tanhf small-|x| branch).
#pragma once

#include <cmath>

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// e^r - 1 for |r| <= ln2/2 (no rounding against 1): r + r^2 p(r), the Cephes expf polynomial.
template <class V>
inline typename V::reg ck_vexpm1_reduced(typename V::reg r) {
  using reg = typename V::reg;
  reg p = V::set1(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
  return V::fmadd(V::mul(p, r), r, r);
}

template <class V>
inline typename V::reg ck_vexp(typename V::reg x) {
  using reg = typename V::reg;
  // The polynomial runs on x clamped to [-87.3, ln FLT_MAX] (2^-126 the smallest normal): below, a finite x
  // saturates at 2^-126; above ln FLT_MAX the result is inf, as libm's, and exp(-inf) is 0, so an infinite
  // gradient times exp(-inf) is NaN on every backend. The clamp's operand order keeps a NaN (the vector max and
  // min return their second operand if either is NaN).
  const reg ln_max = V::set1(88.7228391f);
  const reg c = V::min(ln_max, V::max(V::set1(-87.3f), x));
  const reg n = V::round_nearest(V::mul(c, V::set1(1.44269504088896341f)));
  // r = c - n ln2, with ln2 split in two so n * ln2_hi is exact.
  reg r = V::fmadd(n, V::set1(-0.693359375f), c);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  const reg p = V::add(ck_vexpm1_reduced<V>(r), V::set1(1.0f));
  // 2^128 is not a float: for n = 128 (p < 1 there), (2p) * 2^127
  const reg top = V::select_gt(n, V::set1(127.0f), V::set1(1.0f), V::zero());
  const reg scaled = V::mul(V::mul(p, V::add(V::set1(1.0f), top)), V::pow2(V::sub(n, top)));
  const reg y = V::select_lt(x, V::set1(-3.40282347e38f), V::zero(), scaled);
  return V::select_gt(x, ln_max, V::set1(__builtin_inff()), y);
}

// e^x - 1, accurate near 0 where exp(x) - 1 would cancel; elsewhere exp(x) - 1 loses nothing.
template <class V>
inline typename V::reg ck_vexpm1(typename V::reg x) {
  const typename V::reg small = ck_vexpm1_reduced<V>(x);
  const typename V::reg big = V::sub(ck_vexp<V>(x), V::set1(1.0f));
  return V::select_lt(V::abs(x), V::set1(0.34657359f), small, big);
}

// log(1 + t) for t in [0, 1]: u = 1 + t is in [1, 2], brought to [sqrt(1/2), sqrt(2)] by at most one halving,
// then the Cephes logf polynomial; u - 1 is exact, so log(u) * t / (u - 1) undoes the rounding of 1 + t
// (for t below half an ulp of 1, where u is 1, log1p(t) is t).
template <class V>
inline typename V::reg ck_vlog1p_unit(typename V::reg t) {
  using reg = typename V::reg;
  const reg u = V::add(V::set1(1.0f), t);
  const reg big = V::select_gt(u, V::set1(1.41421356f), V::set1(1.0f), V::zero());  // the halving's exponent
  const reg f = V::sub(V::select_gt(u, V::set1(1.41421356f), V::mul(u, V::set1(0.5f)), u), V::set1(1.0f));
  const reg z = V::mul(f, f);
  reg p = V::set1(7.0376836292e-2f);
  p = V::fmadd(p, f, V::set1(-1.1514610310e-1f));
  p = V::fmadd(p, f, V::set1(1.1676998740e-1f));
  p = V::fmadd(p, f, V::set1(-1.2420140846e-1f));
  p = V::fmadd(p, f, V::set1(1.4249322787e-1f));
  p = V::fmadd(p, f, V::set1(-1.6668057665e-1f));
  p = V::fmadd(p, f, V::set1(2.0000714765e-1f));
  p = V::fmadd(p, f, V::set1(-2.4999993993e-1f));
  p = V::fmadd(p, f, V::set1(3.3333331174e-1f));
  reg y = V::mul(V::mul(p, f), z);
  y = V::fmadd(big, V::set1(-2.12194440e-4f), y);
  y = V::fmadd(z, V::set1(-0.5f), y);
  reg lg = V::add(f, y);
  lg = V::fmadd(big, V::set1(0.693359375f), lg);
  const reg um1 = V::sub(u, V::set1(1.0f));
  const reg corrected = V::mul(lg, V::div(t, V::select_gt(um1, V::zero(), um1, V::set1(1.0f))));
  return V::select_gt(um1, V::zero(), corrected, t);
}

// softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|), which neither overflows nor cancels.
template <class V>
inline typename V::reg ck_vsoftplus(typename V::reg x) {
  return V::add(V::max(V::zero(), x), ck_vlog1p_unit<V>(ck_vexp<V>(V::sub(V::zero(), V::abs(x)))));
}

// The normal distribution function Phi(x) = erfc(-x / sqrt 2) / 2, lane by lane through libm in double: erfc
// keeps its relative accuracy in the left tail, where gelu(x) = x Phi(x) is small and 1 + erf(x / sqrt 2) would
// cancel; no vector form here is accurate there.
template <class V>
inline typename V::reg ck_vnormal_cdf_lanes(typename V::reg x) {
  float lanes[V::width];
  V::store(lanes, x);
  for (float& v : lanes) v = float(0.5 * std::erfc(-double(v) * 0.70710678118654752));
  return V::load(lanes);
}

// 1 / (1 + e^-x) with the vocabulary's exp (libm's in the scalar one), as the sigmoid kernel computes it.
template <class V>
inline typename V::reg ck_vsigmoid(typename V::reg x) {
  return V::div(V::set1(1.0f), V::add(V::set1(1.0f), V::exp(V::sub(V::zero(), x))));
}

template <class V>
inline typename V::reg ck_vtanh(typename V::reg x) {
  using reg = typename V::reg;
  const reg ax = V::abs(x);
  // |x| >= 0.625: 1 - 2 / (exp(2|x|) + 1), sign restored; exact to rounding there.
  const reg e = ck_vexp<V>(V::add(ax, ax));
  reg big = V::sub(V::set1(1.0f), V::div(V::set1(2.0f), V::add(e, V::set1(1.0f))));
  big = V::copysign(big, x);
  // |x| < 0.625: odd polynomial, no cancellation near 0.
  const reg z = V::mul(x, x);
  reg p = V::set1(-5.70498872745e-3f);
  p = V::fmadd(p, z, V::set1(2.06390887954e-2f));
  p = V::fmadd(p, z, V::set1(-5.37397155531e-2f));
  p = V::fmadd(p, z, V::set1(1.33314422036e-1f));
  p = V::fmadd(p, z, V::set1(-3.33332819422e-1f));
  const reg small = V::fmadd(V::mul(p, z), x, x);
  return V::select_lt(ax, V::set1(0.625f), small, big);
}

}  // namespace
