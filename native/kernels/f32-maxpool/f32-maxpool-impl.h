// The tiling max-pooling microkernels, written once against a SIMD vocabulary: a vector of channels at a time
// (masked at the tail), the running first maximum (and for the backward its cell) tracked in registers across
// the window's cells; the forward stores the maximum, the backward writes each cell's dx as dy or 0.
#pragma once

#include "kernels/f32-maxpool/f32-maxpool.h"
#include "simd/scalar.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// Offsets of a window's cells from its first, row-major, into cell[0, ph * pw).
inline void ck_maxpool_cells(size_t* cell, size_t c, size_t ph, size_t pw, size_t x_row) {
  for (size_t i = 0, k = 0; i < ph; ++i)
    for (size_t j = 0; j < pw; ++j, ++k) cell[k] = i * x_row + j * c;
}

template <class V>
inline void ck_f32_maxpool_fwd(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row, float* y) {
  using reg = typename V::reg;
  constexpr size_t W = V::width;
  size_t cell[64];
  ck_maxpool_cells(cell, c, ph, pw, x_row);
  const size_t cells = ph * pw;
  for (size_t ow = 0; ow < out_w; ++ow) {
    const float* xw = x + ow * pw * c;
    for (size_t c0 = 0; c0 < c; c0 += W) {
      const size_t n = c - c0 < W ? c - c0 : W;
      reg best = ck_load_n<V>(xw + c0, n);
      // max(v, best) is v > best ? v : best in every vocabulary (x86 max returns its second operand unless the
      // first is greater): the backward's select_gt in one instruction
      for (size_t k = 1; k < cells; ++k) best = V::max(ck_load_n<V>(xw + cell[k] + c0, n), best);
      ck_store_n<V>(y + ow * c + c0, best, n);
    }
  }
}

template <class V>
inline void ck_f32_maxpool_bwd(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row,
                               const float* dy, float* dx) {
  using reg = typename V::reg;
  constexpr size_t W = V::width;
  size_t cell[64];
  ck_maxpool_cells(cell, c, ph, pw, x_row);
  const size_t cells = ph * pw;
  for (size_t ow = 0; ow < out_w; ++ow) {
    const float* xw = x + ow * pw * c;
    float* dxw = dx + ow * pw * c;
    for (size_t c0 = 0; c0 < c; c0 += W) {
      const size_t n = c - c0 < W ? c - c0 : W;
      reg best = ck_load_n<V>(xw + c0, n), arg = V::zero();  // arg: the winning cell's index, as a float
      for (size_t k = 1; k < cells; ++k) {
        const reg v = ck_load_n<V>(xw + cell[k] + c0, n);
        arg = V::select_gt(v, best, V::set1(float(k)), arg);
        best = V::select_gt(v, best, v, best);
      }
      const reg g = ck_load_n<V>(dy + ow * c + c0, n), zero = V::zero();
      for (size_t k = 0; k < cells; ++k) {
        const reg kv = V::set1(float(k));
        ck_store_n<V>(dxw + cell[k] + c0, V::select_lt(arg, kv, zero, V::select_gt(arg, kv, zero, g)), n);
      }
    }
  }
}

}  // namespace

#define CK_DEFINE_MAXPOOL_UKERNELS(fwd_fn, bwd_fn, V)                                                           \
  void fwd_fn(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row, float* y) {             \
    ck_f32_maxpool_fwd<V>(c, out_w, ph, pw, x, x_row, y);                                                         \
  }                                                                                                               \
  void bwd_fn(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row, const float* dy,        \
              float* dx) {                                                                                        \
    ck_f32_maxpool_bwd<V>(c, out_w, ph, pw, x, x_row, dy, dx);                                                    \
  }
