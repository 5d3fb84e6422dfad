// The depthwise convolution microkernel (one filter per channel), up to CK_DWCONV_PIXELS output pixels at a time:
//
//   y[q*y_stride + c] = epilogue( sum over taps t < ks with x[q*ks + t] != null of x[q*ks + t][c] * w[t*channels + c] )
//   for q < pixels, c < channels
//
// x holds each pixel's ks tap pointers in turn (the input pixel each tap reads; null for a tap in the padding),
// w the taps' filter rows, which the pixels share: each filter vector is loaded once for all of them. Sums run
// over the taps in order. The epilogue is bias, then relu or leakyRelu (p->act; p->accumulate must be false).
// Overwrites y; no alignment required.
#pragma once

#include <cstddef>

#include "convkit/isa.h"
#include "kernels/f32-gemm/f32-gemm.h"

#define CK_DWCONV_PIXELS 4

typedef void (*ck_f32_dwconv_fn)(size_t pixels, size_t channels, size_t ks, const float* const* x, const float* w,
                                 float* y, size_t y_stride, const ck_gemm_params* p);

// A run of output pixels of one row whose 9 taps (a 3x3 filter) are inside the input, but for whole kernel rows in
// the padding, one vector of channels of up to 8 pixels at a time. Where each kernel row's 3 taps read consecutive
// input pixels (stride 1; backwards for backward-input), each input pixel is loaded once for the 3 output pixels
// that read it; otherwise each tap of each pixel is one load and one FMA.
//
//   y[q*channels + c] = epilogue( sum over taps t < 9 with x[t] != null of x[t][q*step + c] * w[t*channels + c] ),
//   q < pixels
//
// x[t] is tap t's input pixel for the run's first output pixel (null for the 3 taps of a kernel row in the padding),
// step the floats between consecutive output pixels' input pixels. The same sums in the same order as the pixel
// kernel's, so the same bits.
typedef void (*ck_f32_dwconv_run_fn)(size_t pixels, size_t channels, const float* const* x, size_t step,
                                     const float* w, float* y, const ck_gemm_params* p);

// Its filter gradient, over a run of output pixels with the same taps inside the input:
//
//   dw[t][c] += sum over p < pixels of x[t][p * step + c] * dy[p * channels + c],  t < ks, c < channels
//
// x[t] is tap t's input pixel for the run's first output pixel (the caller leaves out taps in the padding),
// step the floats between consecutive output pixels' input pixels, dw[t] that tap's filter-gradient row. Each
// sum runs over p in order and is then added to dw[t][c]. No alignment required.
typedef void (*ck_f32_dwconv_grad_fn)(size_t channels, size_t pixels, size_t ks, const float* const* x, size_t step,
                                      const float* dy, float* const* dw);

// CK_DWCONV_UKERNEL(isa, fn, run9_fn, grad_fn)
#define CK_DWCONV_UKERNEL(isa, fn, run9_fn, grad_fn)                                                               \
  void fn(size_t pixels, size_t channels, size_t ks, const float* const* x, const float* w, float* y,             \
          size_t y_stride, const ck_gemm_params* p);                                                             \
  void run9_fn(size_t pixels, size_t channels, const float* const* x, size_t step, const float* w, float* y,     \
               const ck_gemm_params* p);                                                                         \
  void grad_fn(size_t channels, size_t pixels, size_t ks, const float* const* x, size_t step, const float* dy,    \
               float* const* dw);
#include "kernels/f32-dwconv/f32-dwconv.inc"
#undef CK_DWCONV_UKERNEL
