// The direct convolution (f32-dconv.h) and its filter gradient, written once against a SIMD vocabulary. The
// forward cuts a row into tiles of P pixels, each computed for NV vectors of output channels at a time. Input
// column j of a tile (j < P + KW - 1) feeds output pixels j - kw through kernel columns kw; the tile's first L
// and last R columns, padding, are skipped by template rather than tested per value.
#pragma once

#include <algorithm>

#include "kernels/f32-dconv/f32-dconv.h"
#include "kernels/f32-gemm/f32-gemm-ukernel.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// Output pixels [0, P) of y (already at the tile's first pixel) and channels [o0, o0 + (NV-1)*width + n), n <= width;
// rows[kh] + off is the first input value the tile reads in row kh (its column L).
template <class V, size_t KW, size_t P, size_t NV, size_t L, size_t R>
void ck_f32_dconv_tile(size_t kh_n, size_t c, size_t oc, size_t o0, size_t n, const float* const* rows, size_t off,
                       const float* w, float* y, const ck_gemm_params* p) {
  using reg = typename V::reg;
  constexpr size_t W = V::width;
  reg acc[P][NV];
  // The tile's outputs and residual are usually out of cache: fetching them now hides the misses behind the FMAs
  // instead of the stores at the end waiting for them.
  const float* res = p->residual != nullptr ? p->residual + (y - p->output) : nullptr;
#pragma GCC unroll 16
  for (size_t o = 0; o < P; ++o)
#pragma GCC unroll 2
    for (size_t v = 0; v < NV; ++v) {
      acc[o][v] = V::zero();
      __builtin_prefetch(y + o * oc + o0 + v * W, 1);
      if (res != nullptr) __builtin_prefetch(res + o * oc + o0 + v * W);
    }
  for (size_t kh = 0; kh < kh_n; ++kh) {
    if (rows[kh] == nullptr) continue;
    const float* x = rows[kh] + off;
    const float* wk = w + kh * KW * c * oc + o0;
    for (size_t ci = 0; ci < c; ++ci) {
      reg wv[KW][NV];
#pragma GCC unroll 5
      for (size_t kw = 0; kw < KW; ++kw)
#pragma GCC unroll 2
        for (size_t v = 0; v < NV; ++v) {
          const float* src = wk + (kw * c + ci) * oc + v * W;
          wv[kw][v] = ck_load_n<V>(src, v + 1 < NV ? W : n);
        }
#pragma GCC unroll 20
      for (size_t j = L; j + R < P + KW - 1; ++j) {
        const reg b = V::in_register(V::set1(x[(j - L) * c + ci]));
#pragma GCC unroll 5
        for (size_t kw = 0; kw < KW; ++kw) {
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
    for (size_t v = 0; v < NV; ++v)
      ck_gemm_store<V>(y + o * oc + o0 + v * W, acc[o][v], o0 + v * W, p, v + 1 < NV ? W : n);
}

// The tile with l <= KW / 2 padded columns at its start and r <= KW / 2 at its end.
template <class V, size_t KW, size_t P, size_t NV, size_t L = 0, size_t R = 0>
void ck_f32_dconv_tile_edges(size_t l, size_t r, size_t kh_n, size_t c, size_t oc, size_t o0, size_t n,
                             const float* const* rows, size_t off, const float* w, float* y, const ck_gemm_params* p) {
  if constexpr (L < KW / 2)
    if (l > L) return ck_f32_dconv_tile_edges<V, KW, P, NV, L + 1, R>(l, r, kh_n, c, oc, o0, n, rows, off, w, y, p);
  if constexpr (R < KW / 2)
    if (r > R) return ck_f32_dconv_tile_edges<V, KW, P, NV, L, R + 1>(l, r, kh_n, c, oc, o0, n, rows, off, w, y, p);
  ck_f32_dconv_tile<V, KW, P, NV, L, R>(kh_n, c, oc, o0, n, rows, off, w, y, p);
}

// The tile of P pixels at x0 (P <= PMAX chosen at run time).
template <class V, size_t KW, size_t PMAX, size_t NV>
void ck_f32_dconv_tile_at(size_t P, size_t x0, size_t kh_n, size_t in_w, size_t pad_left, size_t c, size_t oc,
                          size_t o0, size_t n, const float* const* rows, const float* w, float* y,
                          const ck_gemm_params* p) {
  if constexpr (PMAX > 1)
    if (P < PMAX)
      return ck_f32_dconv_tile_at<V, KW, PMAX - 1, NV>(P, x0, kh_n, in_w, pad_left, c, oc, o0, n, rows, w, y, p);
  // the tile's column j is input column x0 + j - pad_left
  const size_t l = pad_left > x0 ? pad_left - x0 : 0, end = x0 + PMAX + KW - 1 - pad_left;
  const size_t r = end > in_w ? end - in_w : 0;
  ck_f32_dconv_tile_edges<V, KW, PMAX, NV>(l, r, kh_n, c, oc, o0, n, rows, (x0 + l - pad_left) * c, w, y + x0 * oc, p);
}

// The row in the fewest tiles of at most PMAX pixels, as even as they come (a 14-wide row as 7 + 7, not 8 + 4 + 2:
// a tile of few pixels has few accumulators), channels [o0, o0 + (NV-1)*width + n).
template <class V, size_t KW, size_t PMAX, size_t NV>
void ck_f32_dconv_tiles(size_t kh_n, size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc, size_t o0,
                        size_t n, const float* const* rows, const float* w, float* y, const ck_gemm_params* p) {
  const size_t tiles = (out_w + PMAX - 1) / PMAX, P = (out_w + tiles - 1) / tiles, wide = out_w - tiles * (P - 1);
  for (size_t t = 0, x0 = 0; t < tiles; x0 += t < wide ? P : P - 1, ++t)
    ck_f32_dconv_tile_at<V, KW, PMAX, NV>(t < wide ? P : P - 1, x0, kh_n, in_w, pad_left, c, oc, o0, n, rows, w, y, p);
}

// Tiles of up to P1 pixels for one vector of channels, P2 for two (none if 0).
template <class V, size_t KW, size_t P1, size_t P2>
void ck_f32_dconv_row(size_t kh, size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc,
                      const float* const* rows, const float* w, float* y, const ck_gemm_params* p) {
  constexpr size_t W = V::width;
  size_t o0 = 0;
  if constexpr (P2 > 0)
    for (; o0 + 2 * W <= oc; o0 += 2 * W)
      ck_f32_dconv_tiles<V, KW, P2, 2>(kh, out_w, in_w, pad_left, c, oc, o0, W, rows, w, y, p);
  for (; o0 < oc; o0 += W)
    ck_f32_dconv_tiles<V, KW, P1, 1>(kh, out_w, in_w, pad_left, c, oc, o0, std::min(W, oc - o0), rows, w, y, p);
}

// The gradient's accumulators for kernel columns kw < KW, input channels [c0, c0 + CB) and output channels
// [o0, o0 + (NV-1)*width + m): x at column iw pairs with dy at output column iw + pad_left - kw.
template <class V, size_t KW, size_t NV, size_t CB>
struct ck_dconv_grad_block {
  using reg = typename V::reg;
  static constexpr size_t W = V::width;
  reg acc[KW][CB][NV];
  size_t c, oc, c0, o0, m;

  CK_INLINE reg load_dy(const float* dy, size_t ow, size_t v) const {
    const float* src = dy + ow * oc + o0 + v * W;
    return ck_load_n<V>(src, v + 1 < NV ? W : m);
  }

  // acc[kw] += x(iw) * dy(ow) for the one kernel column kw = iw + pad_left - ow
  CK_INLINE void add(const float* x, size_t iw, size_t kw, const reg* d) {
#pragma GCC unroll 8
    for (size_t cb = 0; cb < CB; ++cb) {
      const reg b = V::set1(x[iw * c + c0 + cb]);
#pragma GCC unroll 2
      for (size_t v = 0; v < NV; ++v) acc[kw][cb][v] = V::fmadd(b, d[v], acc[kw][cb][v]);
    }
  }

  // Column iw with whichever kernel columns read dy inside the row, kw unrolled so that acc[kw] names registers
  // (indexed at run time, acc would live on the stack).
  CK_INLINE void edge(const float* x, const float* dy, size_t iw, size_t out_w, size_t pad_left) {
#pragma GCC unroll 5
    for (size_t kw = 0; kw < KW; ++kw) {
      if (iw + pad_left < kw || iw + pad_left - kw >= out_w) continue;
      reg d[NV];
#pragma GCC unroll 2
      for (size_t v = 0; v < NV; ++v) d[v] = load_dy(dy, iw + pad_left - kw, v);
      add(x, iw, kw, d);
    }
  }

  // One row: columns whose kernel columns are not all inside dy one (kw, iw) at a time, the rest with the last
  // KW dy pixels in registers, each x value broadcast once for all KW.
  CK_INLINE void row(const float* x, const float* dy, size_t out_w, size_t in_w, size_t pad_left) {
    // iw reads dy at iw + pad_left - kw for every kw < KW inside [lo, hi)
    const size_t lo = KW - 1 > pad_left ? KW - 1 - pad_left : 0;
    const size_t hi = std::max(lo, std::min(in_w, out_w > pad_left ? out_w - pad_left : 0));
    for (size_t iw = 0; iw < std::min(lo, in_w); ++iw) edge(x, dy, iw, out_w, pad_left);
    if (lo < hi) {
      reg win[KW][NV];  // in the loop, win[kw] = dy(iw + pad_left - kw); before it, as left by column lo - 1
#pragma GCC unroll 5
      for (size_t kw = 0; kw + 1 < KW; ++kw)
#pragma GCC unroll 2
        for (size_t v = 0; v < NV; ++v) win[kw][v] = load_dy(dy, lo + pad_left - kw - 1, v);
      for (size_t iw = lo; iw < hi; ++iw) {
#pragma GCC unroll 5
        for (size_t kw = KW - 1; kw > 0; --kw)
#pragma GCC unroll 2
          for (size_t v = 0; v < NV; ++v) win[kw][v] = win[kw - 1][v];
#pragma GCC unroll 2
        for (size_t v = 0; v < NV; ++v) win[0][v] = load_dy(dy, iw + pad_left, v);
#pragma GCC unroll 8
        for (size_t cb = 0; cb < CB; ++cb) {
          const reg b = V::in_register(V::set1(x[iw * c + c0 + cb]));
#pragma GCC unroll 5
          for (size_t kw = 0; kw < KW; ++kw)
#pragma GCC unroll 2
            for (size_t v = 0; v < NV; ++v) acc[kw][cb][v] = V::fmadd(b, win[kw][v], acc[kw][cb][v]);
        }
      }
    }
    for (size_t iw = hi; iw < in_w; ++iw) edge(x, dy, iw, out_w, pad_left);
  }

  void run(size_t n, const float* const* x_rows, const float* const* dy_rows, size_t out_w, size_t in_w,
           size_t pad_left, float* sums) {
#pragma GCC unroll 5
    for (size_t kw = 0; kw < KW; ++kw)
#pragma GCC unroll 8
      for (size_t cb = 0; cb < CB; ++cb)
#pragma GCC unroll 2
        for (size_t v = 0; v < NV; ++v) acc[kw][cb][v] = V::zero();
    for (size_t i = 0; i < n; ++i) row(x_rows[i], dy_rows[i], out_w, in_w, pad_left);
#pragma GCC unroll 5
    for (size_t kw = 0; kw < KW; ++kw)
#pragma GCC unroll 8
      for (size_t cb = 0; cb < CB; ++cb)
#pragma GCC unroll 2
        for (size_t v = 0; v < NV; ++v) {
          ck_store_n<V>(sums + (kw * c + c0 + cb) * oc + o0 + v * W, acc[kw][cb][v], v + 1 < NV ? W : m);
        }
  }
};

// Input channels [c0, c) in blocks of CB, then CB / 2, ..., 1.
template <class V, size_t KW, size_t NV, size_t CB>
void ck_f32_dconv_grad_channels(size_t c0, size_t o0, size_t m, size_t n, const float* const* x_rows,
                                const float* const* dy_rows, size_t out_w, size_t in_w, size_t pad_left, size_t c,
                                size_t oc, float* sums) {
  for (; c0 + CB <= c; c0 += CB) {
    ck_dconv_grad_block<V, KW, NV, CB> b;
    b.c = c, b.oc = oc, b.c0 = c0, b.o0 = o0, b.m = m;
    b.run(n, x_rows, dy_rows, out_w, in_w, pad_left, sums);
  }
  if constexpr (CB > 1)
    ck_f32_dconv_grad_channels<V, KW, NV, CB / 2>(c0, o0, m, n, x_rows, dy_rows, out_w, in_w, pad_left, c, oc, sums);
}

// CB1 input channels at a time for one vector of output channels, CB2 for two (none if 0): KW x CB x NV
// accumulators, KW x NV dy vectors and a broadcast.
template <class V, size_t KW, size_t CB1, size_t CB2>
void ck_f32_dconv_grad(size_t n, const float* const* x_rows, const float* const* dy_rows, size_t out_w, size_t in_w,
                       size_t pad_left, size_t c, size_t oc, float* sums) {
  constexpr size_t W = V::width;
  size_t o0 = 0;
  if constexpr (CB2 > 0)
    for (; o0 + 2 * W <= oc; o0 += 2 * W)
      ck_f32_dconv_grad_channels<V, KW, 2, CB2>(0, o0, W, n, x_rows, dy_rows, out_w, in_w, pad_left, c, oc, sums);
  for (; o0 < oc; o0 += W)
    ck_f32_dconv_grad_channels<V, KW, 1, CB1>(0, o0, std::min(W, oc - o0), n, x_rows, dy_rows, out_w, in_w,
                                              pad_left, c, oc, sums);
}

}  // namespace

// fn: tiles of up to P1 pixels for one vector of channels, P2 for two (none if 0).
#define CK_DEFINE_DCONV_UKERNEL(fn, V, P1, P2)                                                                       \
  void fn(size_t kh, size_t kw, size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc,                   \
          const float* const* rows, const float* w, float* y, const ck_gemm_params* p) {                           \
    if (kw == 3) return ck_f32_dconv_row<V, 3, P1, P2>(kh, out_w, in_w, pad_left, c, oc, rows, w, y, p);          \
    ck_f32_dconv_row<V, 5, P1, P2>(kh, out_w, in_w, pad_left, c, oc, rows, w, y, p);                              \
  }
// grad_fn: input channels CB3_1 at a time (KW 3, one vector of output channels), CB3_2 (two vectors; none if 0),
// CB5_1, CB5_2.
#define CK_DEFINE_DCONV_GRAD_UKERNEL(grad_fn, V, CB3_1, CB3_2, CB5_1, CB5_2)                                        \
  void grad_fn(size_t kw, size_t n, const float* const* x_rows, const float* const* dy_rows, size_t out_w,         \
               size_t in_w, size_t pad_left, size_t c, size_t oc, float* sums) {                                   \
    if (kw == 3)                                                                                                   \
      return ck_f32_dconv_grad<V, 3, CB3_1, CB3_2>(n, x_rows, dy_rows, out_w, in_w, pad_left, c, oc, sums);      \
    ck_f32_dconv_grad<V, 5, CB5_1, CB5_2>(n, x_rows, dy_rows, out_w, in_w, pad_left, c, oc, sums);               \
  }
