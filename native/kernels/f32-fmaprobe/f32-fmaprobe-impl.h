// The probe written once against a SIMD vocabulary: CHAINS accumulators, each x = x * m + a per iteration.
#pragma once

#include "kernels/f32-fmaprobe/f32-fmaprobe.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

template <class V, size_t CHAINS>
inline float ck_f32_fmaprobe(size_t iters) {
  typename V::reg acc[CHAINS];
#pragma GCC unroll 32
  for (size_t i = 0; i < CHAINS; ++i) acc[i] = V::set1(float(i) * 1e-3f);
  // m slightly below 1 and a small addend keep the values finite and normal however long it runs.
  const typename V::reg m = V::set1(0.999999f), a = V::set1(1e-6f);
  for (size_t k = 0; k < iters; ++k)
#pragma GCC unroll 32
    for (size_t i = 0; i < CHAINS; ++i) acc[i] = V::fmadd(acc[i], m, a);
  typename V::reg s = acc[0];
#pragma GCC unroll 32
  for (size_t i = 1; i < CHAINS; ++i) s = V::add(s, acc[i]);
  return V::reduce_add(s);
}

}  // namespace
