// The direct 3x3 convolution (f32-conv3x3.h) written once against a SIMD vocabulary: a row is cut into tiles of
// P pixels (the largest of PMAX, PMAX/2, ..., 1 that fits), each computed for NV vectors of output channels at a
// time. Input column j of a tile (j < P + 2) feeds output pixels j, j - 1 and j - 2 through kernel columns 0, 1
// and 2; the first and last columns are skipped where they are padding (L, R).
#pragma once

#include <algorithm>

#include "kernels/f32-conv3x3/f32-conv3x3.h"
#include "kernels/f32-gemm/f32-gemm-ukernel.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// Output pixels [0, P) of y (already at the tile's first pixel) and channels [o0, o0 + (NV-1)*width + n), n <= width;
// x[kh] is the first input column the tile reads in row kh (its column 0, or column 1 when L).
template <class V, size_t P, size_t NV, bool L, bool R>
void ck_f32_conv3x3_tile(size_t c, size_t oc, size_t o0, size_t n, const float* const* x, const float* w, float* y,
                         const ck_gemm_params* p) {
  using reg = typename V::reg;
  constexpr size_t W = V::width;
  reg acc[P][NV];
#pragma GCC unroll 16
  for (size_t o = 0; o < P; ++o)
#pragma GCC unroll 2
    for (size_t v = 0; v < NV; ++v) acc[o][v] = V::zero();
  for (size_t kh = 0; kh < 3; ++kh) {
    if (x[kh] == nullptr) continue;
    const float* wk = w + kh * 3 * c * oc + o0;
    for (size_t ci = 0; ci < c; ++ci) {
      reg wv[3][NV];
#pragma GCC unroll 3
      for (size_t kw = 0; kw < 3; ++kw)
#pragma GCC unroll 2
        for (size_t v = 0; v < NV; ++v) {
          const float* src = wk + (kw * c + ci) * oc + v * W;
          wv[kw][v] = v + 1 < NV || n == W ? V::load(src) : V::load_partial(src, n);
        }
#pragma GCC unroll 18
      for (size_t j = 0; j < P + 2; ++j) {
        if ((L && j == 0) || (R && j == P + 1)) continue;
        const reg b = V::in_register(V::set1(x[kh][(j - L) * c + ci]));
#pragma GCC unroll 3
        for (size_t kw = 0; kw < 3; ++kw) {
          if (j < kw || j - kw >= P) continue;
#pragma GCC unroll 2
          for (size_t v = 0; v < NV; ++v) acc[j - kw][v] = V::fmadd(b, wv[kw][v], acc[j - kw][v]);
        }
      }
    }
  }
#pragma GCC unroll 16
  for (size_t o = 0; o < P; ++o)
#pragma GCC unroll 2
    for (size_t v = 0; v < NV; ++v) {
      float* out = y + o * oc + o0 + v * W;
      const size_t m = v + 1 < NV ? W : n;
      const reg r = ck_gemm_store_value<V>(acc[o][v], out, o0 + v * W, p, m);
      if (m == W)
        V::store(out, r);
      else
        V::store_partial(out, r, m);
    }
}

template <class V, size_t P, size_t NV>
void ck_f32_conv3x3_tile_edges(bool left, bool right, size_t c, size_t oc, size_t o0, size_t n, const float* const* x,
                               const float* w, float* y, const ck_gemm_params* p) {
  if (left && right) return ck_f32_conv3x3_tile<V, P, NV, true, true>(c, oc, o0, n, x, w, y, p);
  if (left) return ck_f32_conv3x3_tile<V, P, NV, true, false>(c, oc, o0, n, x, w, y, p);
  if (right) return ck_f32_conv3x3_tile<V, P, NV, false, true>(c, oc, o0, n, x, w, y, p);
  ck_f32_conv3x3_tile<V, P, NV, false, false>(c, oc, o0, n, x, w, y, p);
}

// Pixels [x0, out_w) of the row in tiles of at most P, channels [o0, o0 + (NV-1)*width + n).
template <class V, size_t P, size_t NV>
void ck_f32_conv3x3_tiles(size_t x0, size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc, size_t o0,
                          size_t n, const float* const* rows, const float* w, float* y, const ck_gemm_params* p) {
  for (; x0 + P <= out_w; x0 += P) {
    // the tile's column j is input column x0 + j - pad_left
    const bool left = x0 == 0 && pad_left == 1, right = x0 + P + 1 >= in_w + pad_left;
    const float* x[3];
    for (size_t kh = 0; kh < 3; ++kh) x[kh] = rows[kh] ? rows[kh] + (x0 + left - pad_left) * c : nullptr;
    ck_f32_conv3x3_tile_edges<V, P, NV>(left, right, c, oc, o0, n, x, w, y + x0 * oc, p);
  }
  if constexpr (P > 1) ck_f32_conv3x3_tiles<V, P / 2, NV>(x0, out_w, in_w, pad_left, c, oc, o0, n, rows, w, y, p);
}

template <class V, size_t PMAX>
void ck_f32_conv3x3_row(size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc, const float* const* rows,
                        const float* w, float* y, const ck_gemm_params* p) {
  constexpr size_t W = V::width;
  size_t o0 = 0;
  for (; o0 + 2 * W <= oc; o0 += 2 * W)
    ck_f32_conv3x3_tiles<V, PMAX / 2, 2>(0, out_w, in_w, pad_left, c, oc, o0, W, rows, w, y, p);
  for (; o0 < oc; o0 += W)
    ck_f32_conv3x3_tiles<V, PMAX, 1>(0, out_w, in_w, pad_left, c, oc, o0, std::min(W, oc - o0), rows, w, y, p);
}

}  // namespace

// fn: tiles of PMAX pixels for one vector of channels, PMAX / 2 for two.
#define CK_DEFINE_CONV3X3_UKERNEL(fn, V, PMAX)                                                                   \
  void fn(size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc, const float* const* rows,           \
          const float* w, float* y, const ck_gemm_params* p) {                                                   \
    ck_f32_conv3x3_row<V, PMAX>(out_w, in_w, pad_left, c, oc, rows, w, y, p);                                    \
  }
