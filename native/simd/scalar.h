// The SIMD vocabulary, scalar edition: one float per "register". Kernels written against this vocabulary
// (see avx2.h, avx512.h) compile unchanged for every ISA; loop tails use this one.
#pragma once

#include <cmath>
#include <cstddef>

#define CK_RESTRICT __restrict__
// For the small helpers of a microkernel that must melt into its loop (accumulators stay in registers).
#define CK_INLINE inline __attribute__((always_inline))
// The same for a lambda, written after its parameter list.
#define CK_INLINE_LAMBDA __attribute__((always_inline))

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

struct ck_simd_scalar {
  using reg = float;
  static constexpr size_t width = 1;

  static reg zero() { return 0.0f; }
  static reg set1(float v) { return v; }
  static reg load(const float* p) { return *p; }
  static void store(float* p, reg v) { *p = v; }
  // v as it is: the scalar path leaves register allocation to the compiler (see ck_simd_avx512::in_register).
  static reg in_register(reg v) { return v; }
  // One lane: n is 0 or 1.
  static reg load_partial(const float* p, size_t n) { return n != 0 ? *p : 0.0f; }
  static void store_partial(float* p, reg v, size_t n) {
    if (n != 0) *p = v;
  }
  static reg add(reg a, reg b) { return a + b; }
  static reg sub(reg a, reg b) { return a - b; }
  static reg mul(reg a, reg b) { return a * b; }
  static reg div(reg a, reg b) { return a / b; }
  // a * b + c. Unfused here: the build uses -ffp-contract=off so scalar results do not depend on the compiler.
  static reg fmadd(reg a, reg b, reg c) { return a * b + c; }
  // a > b ? a : b, so the first of equal values (a NaN in b) is kept as the instruction does.
  static reg max(reg a, reg b) { return a > b ? a : b; }
  static reg min(reg a, reg b) { return a < b ? a : b; }
  // x > 0 ? a : b
  static reg select_pos(reg x, reg a, reg b) { return x > 0.0f ? a : b; }
  // x > y ? a : b and x < y ? a : b (false for NaN, as the vector compares)
  static reg select_gt(reg x, reg y, reg a, reg b) { return x > y ? a : b; }
  static reg select_lt(reg x, reg y, reg a, reg b) { return x < y ? a : b; }
  // x is NaN ? a : b
  static reg select_nan(reg x, reg a, reg b) { return x != x ? a : b; }
  static float reduce_add(reg v) { return v; }
  static float reduce_max(reg v) { return v; }
  static reg abs(reg x) { return std::fabs(x); }
  static reg exp(reg x) { return std::exp(x); }
  static reg expm1(reg x) { return std::expm1(x); }
  static reg tanh(reg x) { return std::tanh(x); }
  // log(1 + e^x) as max(x, 0) + log1p(e^-|x|); a NaN stays NaN
  static reg softplus(reg x) { return max(0.0f, x) + std::log1p(std::exp(-std::fabs(x))); }
  // Phi(x) = erfc(-x / sqrt 2) / 2, accurate in the left tail
  static reg normal_cdf(reg x) { return float(0.5 * std::erfc(-double(x) * 0.70710678118654752)); }
};

// The first n (<= V::width) floats at p, in any vocabulary V: a whole vector when n is the width, else masked.
template <class V>
CK_INLINE typename V::reg ck_load_n(const float* p, size_t n) {
  return n == V::width ? V::load(p) : V::load_partial(p, n);
}

template <class V>
CK_INLINE void ck_store_n(float* p, typename V::reg v, size_t n) {
  if (n == V::width)
    V::store(p, v);
  else
    V::store_partial(p, v, n);
}

}  // namespace
