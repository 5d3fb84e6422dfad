// The tiling max-pooling backward microkernel, written once against a SIMD vocabulary: a vector of channels
// at a time (masked at the tail), the running first maximum and its cell tracked in registers across the
// window's cells, then each cell's dx written as dy or 0.
#pragma once

#include "kernels/f32-maxpool/f32-maxpool.h"
#include "simd/scalar.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

template <class V>
inline void ck_f32_maxpool_bwd(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row,
                               const float* dy, float* dx) {
  using reg = typename V::reg;
  constexpr size_t W = V::width;
  const auto load = [](const float* p, size_t n) { return n == W ? V::load(p) : V::load_partial(p, n); };
  const auto store = [](float* p, reg v, size_t n) {
    if (n == W)
      V::store(p, v);
    else
      V::store_partial(p, v, n);
  };
  size_t cell[64];  // offsets of the window's cells from its first, row-major
  for (size_t i = 0, k = 0; i < ph; ++i)
    for (size_t j = 0; j < pw; ++j, ++k) cell[k] = i * x_row + j * c;
  const size_t cells = ph * pw;
  for (size_t ow = 0; ow < out_w; ++ow) {
    const float* xw = x + ow * pw * c;
    float* dxw = dx + ow * pw * c;
    for (size_t c0 = 0; c0 < c; c0 += W) {
      const size_t n = c - c0 < W ? c - c0 : W;
      reg best = load(xw + c0, n), arg = V::zero();  // arg: the winning cell's index, as a float
      for (size_t k = 1; k < cells; ++k) {
        const reg v = load(xw + cell[k] + c0, n);
        arg = V::select_gt(v, best, V::set1(float(k)), arg);
        best = V::select_gt(v, best, v, best);
      }
      const reg g = load(dy + ow * c + c0, n), zero = V::zero();
      for (size_t k = 0; k < cells; ++k) {
        const reg kv = V::set1(float(k));
        store(dxw + cell[k] + c0, V::select_lt(arg, kv, zero, V::select_gt(arg, kv, zero, g)), n);
      }
    }
  }
}

}  // namespace

#define CK_DEFINE_MAXPOOL_UKERNEL(fn, V)                                                                            \
  void fn(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row, const float* dy, float* dx) { \
    ck_f32_maxpool_bwd<V>(c, out_w, ph, pw, x, x_row, dy, dx);                                                      \
  }
