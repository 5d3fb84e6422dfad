// Vectorized exp, expm1 and tanh over a SIMD vocabulary V that provides round_nearest(), pow2(n) and abs() besides
// the basic arithmetic. Polynomials from Cephes (expf: ~1 ulp on the clamped range; tanhf small-|x| branch).
#pragma once

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
  // The polynomial runs on x clamped to [-87.3, 88] (exp(88) < FLT_MAX, 2^-126 the smallest normal): a finite x
  // saturates there, but exp(-inf) is 0 and exp(inf) inf, as libm's, so an infinite gradient times exp(-inf)
  // is NaN on every backend. The clamp's operand order keeps a NaN (the vector max and min return their
  // second operand if either is NaN).
  const reg c = V::min(V::set1(88.0f), V::max(V::set1(-87.3f), x));
  const reg n = V::round_nearest(V::mul(c, V::set1(1.44269504088896341f)));
  // r = c - n ln2, with ln2 split in two so n * ln2_hi is exact.
  reg r = V::fmadd(n, V::set1(-0.693359375f), c);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  const reg p = V::add(ck_vexpm1_reduced<V>(r), V::set1(1.0f));
  const reg flt_max = V::set1(3.40282347e38f);
  const reg y = V::select_lt(x, V::sub(V::zero(), flt_max), V::zero(), V::mul(p, V::pow2(n)));
  return V::select_gt(x, flt_max, V::set1(__builtin_inff()), y);
}

// e^x - 1, accurate near 0 where exp(x) - 1 would cancel; elsewhere exp(x) - 1 loses nothing.
template <class V>
inline typename V::reg ck_vexpm1(typename V::reg x) {
  const typename V::reg small = ck_vexpm1_reduced<V>(x);
  const typename V::reg big = V::sub(ck_vexp<V>(x), V::set1(1.0f));
  return V::select_lt(V::abs(x), V::set1(0.34657359f), small, big);
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
