// The GEMV microkernel written once against a SIMD vocabulary: 4 vectors of columns at a time in registers
// while k runs, then single vectors, then scalar columns.
#pragma once

#include "kernels/f32-gemv/f32-gemv.h"
#include "simd/scalar.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

template <class V, size_t U>
inline void ck_f32_gemv_columns(size_t k, const float* a, const float* b, size_t ldb, float* y) {
  typename V::reg acc[U];
#pragma GCC unroll 4
  for (size_t u = 0; u < U; ++u) acc[u] = V::zero();
  for (size_t p = 0; p < k; ++p) {
    const typename V::reg av = V::set1(a[p]);
    const float* row = b + p * ldb;
#pragma GCC unroll 4
    for (size_t u = 0; u < U; ++u) acc[u] = V::fmadd(av, V::load(row + u * V::width), acc[u]);
  }
#pragma GCC unroll 4
  for (size_t u = 0; u < U; ++u) V::store(y + u * V::width, acc[u]);
}

template <class V>
inline void ck_f32_gemv(size_t k, size_t n, const float* a, const float* b, size_t ldb, float* y) {
  constexpr size_t W = V::width;
  size_t j = 0;
  for (; j + 4 * W <= n; j += 4 * W) ck_f32_gemv_columns<V, 4>(k, a, b + j, ldb, y + j);
  for (; j + W <= n; j += W) ck_f32_gemv_columns<V, 1>(k, a, b + j, ldb, y + j);
  for (; j < n; ++j) ck_f32_gemv_columns<ck_simd_scalar, 1>(k, a, b + j, ldb, y + j);
}

}  // namespace

#define CK_DEFINE_GEMV_UKERNEL(fn, V) \
  void fn(size_t k, size_t n, const float* a, const float* b, size_t ldb, float* y) { ck_f32_gemv<V>(k, n, a, b, ldb, y); }
