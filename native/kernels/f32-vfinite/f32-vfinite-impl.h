// The finiteness microkernel, written once against a SIMD vocabulary: x - x is 0 for a finite x and NaN for
// NaN or ±inf, so one sum of those over the block is 0 exactly when every element is finite. Four
// accumulators keep the loads in flight; the tail goes through a masked load (zero lanes are finite).
#pragma once

#include "kernels/f32-vfinite/f32-vfinite.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

template <class V>
inline bool ck_f32_vfinite(size_t n, const float* x) {
  constexpr size_t W = V::width;
  typename V::reg a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    const typename V::reg v0 = V::load(x + i), v1 = V::load(x + i + W), v2 = V::load(x + i + 2 * W),
                          v3 = V::load(x + i + 3 * W);
    a0 = V::add(a0, V::sub(v0, v0));
    a1 = V::add(a1, V::sub(v1, v1));
    a2 = V::add(a2, V::sub(v2, v2));
    a3 = V::add(a3, V::sub(v3, v3));
  }
  for (; i + W <= n; i += W) {
    const typename V::reg v = V::load(x + i);
    a0 = V::add(a0, V::sub(v, v));
  }
  if (i < n) {
    const typename V::reg v = V::load_partial(x + i, n - i);
    a0 = V::add(a0, V::sub(v, v));
  }
  return V::reduce_add(V::add(V::add(a0, a1), V::add(a2, a3))) == 0.0f;
}

}  // namespace

#define CK_DEFINE_VFINITE_UKERNEL(sfx, V) \
  bool ck_f32_vfinite_ukernel__##sfx(size_t n, const float* x) { return ck_f32_vfinite<V>(n, x); }
