// The depthwise microkernels written once against a SIMD vocabulary. Forward: up to 4 output pixels, U vectors
// of channels each, in registers while the taps run (each filter vector loaded once for the pixels), then single
// vectors, then a masked last vector; the store goes through the GEMM's epilogue. Filter gradient: one vector of
// channels and up to 9 taps in registers while the pixels run.
#pragma once

#include <cmath>

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-gemm/f32-gemm-ukernel.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// Channels [c0, c0 + U*W) of P pixels, the last vector holding only n (<= W) of them.
template <class V, size_t U, size_t P>
inline void ck_f32_dwconv_block(size_t channels, size_t c0, size_t n, size_t ks, const float* const* x,
                                const float* w, float* y, size_t y_stride, const ck_gemm_params* p) {
  constexpr size_t W = V::width;
  const auto load = [n](const float* q, size_t u) { return ck_load_n<V>(q + u * W, u + 1 < U ? W : n); };
  typename V::reg acc[P][U];
#pragma GCC unroll 4
  for (size_t q = 0; q < P; ++q)
#pragma GCC unroll 4
    for (size_t u = 0; u < U; ++u) acc[q][u] = V::zero();
  for (size_t t = 0; t < ks; ++t) {
    typename V::reg wv[U];
#pragma GCC unroll 4
    for (size_t u = 0; u < U; ++u) wv[u] = load(w + t * channels + c0, u);
#pragma GCC unroll 4
    for (size_t q = 0; q < P; ++q) {
      const float* xq = x[q * ks + t];
      if (xq == nullptr) continue;
#pragma GCC unroll 4
      for (size_t u = 0; u < U; ++u) acc[q][u] = V::fmadd(load(xq + c0, u), wv[u], acc[q][u]);
    }
  }
#pragma GCC unroll 4
  for (size_t q = 0; q < P; ++q)
#pragma GCC unroll 4
    for (size_t u = 0; u < U; ++u) {
      ck_gemm_store<V>(y + q * y_stride + c0 + u * W, acc[q][u], c0 + u * W, p, u + 1 < U ? W : n);
    }
}

template <class V, size_t U, size_t P>
inline void ck_f32_dwconv_pixels(size_t channels, size_t ks, const float* const* x, const float* w, float* y,
                                 size_t y_stride, const ck_gemm_params* p) {
  constexpr size_t W = V::width;
  size_t c = 0;
  for (; c + U * W <= channels; c += U * W) ck_f32_dwconv_block<V, U, P>(channels, c, W, ks, x, w, y, y_stride, p);
  for (; c + W <= channels; c += W) ck_f32_dwconv_block<V, 1, P>(channels, c, W, ks, x, w, y, y_stride, p);
  if (c < channels) ck_f32_dwconv_block<V, 1, P>(channels, c, channels - c, ks, x, w, y, y_stride, p);
}

// U vectors of channels per block: P x U accumulators and U filter vectors must fit the register file.
template <class V, size_t U>
inline void ck_f32_dwconv(size_t pixels, size_t channels, size_t ks, const float* const* x, const float* w, float* y,
                          size_t y_stride, const ck_gemm_params* p) {
  static_assert(CK_DWCONV_PIXELS == 4, "the cases below");
  switch (pixels) {
    case 4: return ck_f32_dwconv_pixels<V, U, 4>(channels, ks, x, w, y, y_stride, p);
    case 3: return ck_f32_dwconv_pixels<V, U, 3>(channels, ks, x, w, y, y_stride, p);
    case 2: return ck_f32_dwconv_pixels<V, U, 2>(channels, ks, x, w, y, y_stride, p);
    default: return ck_f32_dwconv_pixels<V, U, 1>(channels, ks, x, w, y, y_stride, p);
  }
}

// Stores a run's P accumulators for channels [c, c+n) through the epilogue (Full: the vector is whole), its
// choices made once for the P stores and its scale and bias vectors loaded once (ck_gemm_with_fixed_epilogue):
// the general epilogue's tests made 56 branches per 72 FMAs.
template <class V, size_t P, bool Full>
CK_INLINE void ck_f32_dwconv_run_store(const typename V::reg* acc, size_t q0, size_t c, size_t n, size_t channels,
                                       float* y, const ck_gemm_params* p) {
  const size_t w = Full ? V::width : n;
  if (ck_gemm_with_fixed_epilogue<V, false>(p, [&](const auto& ep) CK_INLINE_LAMBDA {
        const typename V::reg scale = ep.scale(c, w), bias = ep.bias(c, w);
#pragma GCC unroll 8
        for (size_t q = 0; q < P; ++q) ep.store(y + (q0 + q) * channels + c, acc[q], scale, bias, w);
      }))
    return;
#pragma GCC unroll 8
  for (size_t q = 0; q < P; ++q) ck_gemm_store<V>(y + (q0 + q) * channels + c, acc[q], c, p, w);
}

// Pixels [q0, q0+P) of a run, a vector of channels at a time (Full: the vector is whole, else n of its lanes).
template <class V, size_t KS, size_t P, bool Full>
CK_INLINE void ck_f32_dwconv_run_vector(size_t q0, size_t c, size_t n, size_t channels, const float* const* x,
                                        size_t step, const float* w, float* y, const ck_gemm_params* p) {
  const auto load = [n](const float* q) { return Full ? V::load(q) : V::load_partial(q, n); };
  typename V::reg acc[P];
#pragma GCC unroll 8
  for (size_t q = 0; q < P; ++q) acc[q] = V::zero();
#pragma GCC unroll 9
  for (size_t t = 0; t < KS; ++t) {
    if (x[t] == nullptr) continue;
    const typename V::reg wv = load(w + t * channels + c);
    const float* xt = x[t] + q0 * step + c;
#pragma GCC unroll 8
    for (size_t q = 0; q < P; ++q) acc[q] = V::fmadd(load(xt + q * step), wv, acc[q]);
  }
  ck_f32_dwconv_run_store<V, P, Full>(acc, q0, c, n, channels, y, p);
}

// The same sums where tap (kh, kw) of a 3x3 filter reads the input pixel S*kw pixels on from tap (kh, 0)'s
// (S = 1 at stride 1; S = -1 for backward-input at stride 1): each of a kernel row's P+2 input pixels is loaded
// once for the up to 3 output pixels that read it, 30 loads instead of 72 for 8 pixels. The columns run in the
// direction that still gives each accumulator its taps in order. Each row's pixels 2P on are prefetched at the
// same channels: the hardware prefetchers left the loads of wide rows waiting on L2 and L3 (past a run's end,
// they land in the following input row; a prefetch never faults).
template <class V, size_t P, int S, bool Full>
CK_INLINE void ck_f32_dwconv_run_vector_shared(size_t q0, size_t c, size_t n, size_t channels,
                                               const float* const* x, size_t step, const float* w, float* y,
                                               const ck_gemm_params* p) {
  const auto load = [n](const float* q) { return Full ? V::load(q) : V::load_partial(q, n); };
  typename V::reg acc[P];
#pragma GCC unroll 8
  for (size_t q = 0; q < P; ++q) acc[q] = V::zero();
#pragma GCC unroll 3
  for (size_t kh = 0; kh < 3; ++kh) {
    if (x[kh * 3] == nullptr) continue;
    typename V::reg wv[3];
#pragma GCC unroll 3
    for (size_t kw = 0; kw < 3; ++kw) wv[kw] = load(w + (kh * 3 + kw) * channels + c);
    // the pixels from tap (kh, 0)'s: 0 .. P+1 forwards, P-1 .. -2 backwards, one pointer step apart
    const ptrdiff_t stride = S * ptrdiff_t(step);
    const float* px = x[kh * 3] + q0 * step + c + (S > 0 ? 0 : ptrdiff_t(P) - 1) * ptrdiff_t(step);
#pragma GCC unroll 10
    for (size_t i = 0; i < P + 2; ++i, px += stride) {
      const ptrdiff_t j = S > 0 ? ptrdiff_t(i) : ptrdiff_t(P) - 1 - ptrdiff_t(i);
      if (i < P) __builtin_prefetch(px + ptrdiff_t(2 * P) * ptrdiff_t(step));
      const typename V::reg xv = V::in_register(load(px));
#pragma GCC unroll 3
      for (size_t kw = 0; kw < 3; ++kw) {
        const ptrdiff_t q = j - S * ptrdiff_t(kw);
        if (q >= 0 && q < ptrdiff_t(P)) acc[q] = V::fmadd(xv, wv[kw], acc[q]);
      }
    }
  }
  ck_f32_dwconv_run_store<V, P, Full>(acc, q0, c, n, channels, y, p);
}

template <class V, size_t KS, size_t P, int S>
CK_INLINE void ck_f32_dwconv_run_pixels(size_t q0, size_t channels, const float* const* x, size_t step,
                                        const float* w, float* y, const ck_gemm_params* p) {
  constexpr size_t W = V::width;
  size_t c = 0;
  for (; c + W <= channels; c += W) {
    if (S == 0)
      ck_f32_dwconv_run_vector<V, KS, P, true>(q0, c, W, channels, x, step, w, y, p);
    else
      ck_f32_dwconv_run_vector_shared<V, P, S, true>(q0, c, W, channels, x, step, w, y, p);
  }
  if (c == channels) return;
  if (S == 0)
    ck_f32_dwconv_run_vector<V, KS, P, false>(q0, c, channels - c, channels, x, step, w, y, p);
  else
    ck_f32_dwconv_run_vector_shared<V, P, S, false>(q0, c, channels - c, channels, x, step, w, y, p);
}

// The epilogue's parameters by value: a copy the stores to y cannot change, so its fields stay in registers
// across them (through a pointer, every field is reloaded and every branch retaken after each store).
template <class V, size_t KS, int S>
inline void ck_f32_dwconv_run_all(size_t pixels, size_t channels, const float* const* x, size_t step,
                                  const float* w, float* y, const ck_gemm_params params) {
  const ck_gemm_params* p = &params;
  size_t q = 0;
  for (; q + 8 <= pixels; q += 8) ck_f32_dwconv_run_pixels<V, KS, 8, S>(q, channels, x, step, w, y, p);
  if (q + 4 <= pixels) ck_f32_dwconv_run_pixels<V, KS, 4, S>(q, channels, x, step, w, y, p), q += 4;
  for (; q < pixels; ++q) ck_f32_dwconv_run_pixels<V, KS, 1, S>(q, channels, x, step, w, y, p);
}

// 1 or -1 when each kernel row's taps read consecutive pixels at the run's step, forwards or backwards; else 0.
// Rows in the padding (null) read nothing.
inline int ck_f32_dwconv_run_direction(const float* const* x, size_t step) {
  const ptrdiff_t s = ptrdiff_t(step);
  bool fwd = true, bwd = true;
  for (size_t kh = 0; kh < 3; ++kh)
    for (size_t kw = 0; kw + 1 < 3 && x[kh * 3] != nullptr; ++kw) {
      const ptrdiff_t d = x[kh * 3 + kw + 1] - x[kh * 3 + kw];
      fwd = fwd && d == s;
      bwd = bwd && d == -s;
    }
  return fwd ? 1 : bwd ? -1 : 0;
}

template <class V, size_t KS>
inline void ck_f32_dwconv_run(size_t pixels, size_t channels, const float* const* x, size_t step, const float* w,
                              float* y, const ck_gemm_params* params) {
  static_assert(KS == 9, "the shared-pixel kernels are 3x3");
  switch (ck_f32_dwconv_run_direction(x, step)) {
    case 1: return ck_f32_dwconv_run_all<V, KS, 1>(pixels, channels, x, step, w, y, *params);
    case -1: return ck_f32_dwconv_run_all<V, KS, -1>(pixels, channels, x, step, w, y, *params);
    default: return ck_f32_dwconv_run_all<V, KS, 0>(pixels, channels, x, step, w, y, *params);
  }
}

// Taps [t0, t0+G) of channels [c, c+n) (n <= W): G accumulators over the run's pixels, then added to dw.
template <class V, size_t G>
inline void ck_f32_dwconv_grad_taps(size_t channels, size_t c, size_t n, size_t pixels, const float* const* x,
                                    size_t step, const float* dy, float* const* dw) {
  typename V::reg acc[G];
#pragma GCC unroll 9
  for (size_t j = 0; j < G; ++j) acc[j] = V::zero();
  for (size_t p = 0; p < pixels; ++p) {
    const typename V::reg g = ck_load_n<V>(dy + p * channels + c, n);
#pragma GCC unroll 9
    for (size_t j = 0; j < G; ++j) acc[j] = V::fmadd(ck_load_n<V>(x[j] + p * step + c, n), g, acc[j]);
  }
#pragma GCC unroll 9
  for (size_t j = 0; j < G; ++j) ck_store_n<V>(dw[j] + c, V::add(ck_load_n<V>(dw[j] + c, n), acc[j]), n);
}

// The 9 taps of a 3x3 filter whose kernel rows read consecutive pixels at the run's step (stride 1): each row's
// last two pixels stay in registers for the next output pixel, which loads one new pixel per row: 4 loads per 9
// FMAs instead of 10. The same sums in the same order as ck_f32_dwconv_grad_taps.
template <class V>
inline void ck_f32_dwconv_grad_3x3(size_t channels, size_t c, size_t n, size_t pixels, const float* const* x,
                                   size_t step, const float* dy, float* const* dw) {
  using reg = typename V::reg;
  reg acc[9], a[3], b[3];
#pragma GCC unroll 9
  for (size_t j = 0; j < 9; ++j) acc[j] = V::zero();
#pragma GCC unroll 3
  for (size_t kh = 0; kh < 3; ++kh) {
    a[kh] = ck_load_n<V>(x[kh * 3] + c, n);
    b[kh] = ck_load_n<V>(x[kh * 3] + step + c, n);
  }
  for (size_t p = 0; p < pixels; ++p) {
    const reg g = ck_load_n<V>(dy + p * channels + c, n);
#pragma GCC unroll 3
    for (size_t kh = 0; kh < 3; ++kh) {
      const reg next = ck_load_n<V>(x[kh * 3] + (p + 2) * step + c, n);
      acc[kh * 3] = V::fmadd(a[kh], g, acc[kh * 3]);
      acc[kh * 3 + 1] = V::fmadd(b[kh], g, acc[kh * 3 + 1]);
      acc[kh * 3 + 2] = V::fmadd(next, g, acc[kh * 3 + 2]);
      a[kh] = b[kh];
      b[kh] = next;
    }
  }
#pragma GCC unroll 9
  for (size_t j = 0; j < 9; ++j) ck_store_n<V>(dw[j] + c, V::add(ck_load_n<V>(dw[j] + c, n), acc[j]), n);
}

template <class V>
inline void ck_f32_dwconv_grad(size_t channels, size_t pixels, size_t ks, const float* const* x, size_t step,
                               const float* dy, float* const* dw) {
  constexpr size_t W = V::width;
  // all 9 taps of a 3x3 filter (the caller leaves out taps in the padding), each kernel row's `step` apart
  const bool sliding = ks == 9 && ck_f32_dwconv_run_direction(x, step) == 1;
  for (size_t c = 0; c < channels; c += W) {
    const size_t n = channels - c < W ? channels - c : W;
    if (sliding) {
      ck_f32_dwconv_grad_3x3<V>(channels, c, n, pixels, x, step, dy, dw);
      continue;
    }
    size_t t = 0;
    for (; t + 9 <= ks; t += 9) ck_f32_dwconv_grad_taps<V, 9>(channels, c, n, pixels, x + t, step, dy, dw + t);
    switch (ks - t) {  // the remaining taps, as one group
      case 8: ck_f32_dwconv_grad_taps<V, 8>(channels, c, n, pixels, x + t, step, dy, dw + t); break;
      case 7: ck_f32_dwconv_grad_taps<V, 7>(channels, c, n, pixels, x + t, step, dy, dw + t); break;
      case 6: ck_f32_dwconv_grad_taps<V, 6>(channels, c, n, pixels, x + t, step, dy, dw + t); break;
      case 5: ck_f32_dwconv_grad_taps<V, 5>(channels, c, n, pixels, x + t, step, dy, dw + t); break;
      case 4: ck_f32_dwconv_grad_taps<V, 4>(channels, c, n, pixels, x + t, step, dy, dw + t); break;
      case 3: ck_f32_dwconv_grad_taps<V, 3>(channels, c, n, pixels, x + t, step, dy, dw + t); break;
      case 2: ck_f32_dwconv_grad_taps<V, 2>(channels, c, n, pixels, x + t, step, dy, dw + t); break;
      case 1: ck_f32_dwconv_grad_taps<V, 1>(channels, c, n, pixels, x + t, step, dy, dw + t); break;
      default: break;
    }
  }
}

}  // namespace

#define CK_DEFINE_DWCONV_UKERNELS(fn, run9_fn, grad_fn, V, U)                                                \
  void fn(size_t pixels, size_t channels, size_t ks, const float* const* x, const float* w, float* y,           \
          size_t y_stride, const ck_gemm_params* p) {                                                          \
    ck_f32_dwconv<V, U>(pixels, channels, ks, x, w, y, y_stride, p);                                            \
  }                                                                                                            \
  void run9_fn(size_t pixels, size_t channels, const float* const* x, size_t step, const float* w, float* y,    \
               const ck_gemm_params* p) {                                                                      \
    ck_f32_dwconv_run<V, 9>(pixels, channels, x, step, w, y, p);                                                \
  }                                                                                                            \
  void grad_fn(size_t channels, size_t pixels, size_t ks, const float* const* x, size_t step, const float* dy,    \
               float* const* dw) {                                                                             \
    ck_f32_dwconv_grad<V>(channels, pixels, ks, x, step, dy, dw);                                               \
  }
