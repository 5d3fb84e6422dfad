// The direct convolution microkernel for a one-channel input at stride 1 (a grayscale first layer), one output
// row at a time:
//
//   y[ow*oc + o] = epilogue( sum over kh < KH, kw < KW of x[kh*x_stride + ow + kw] * w[(kh*KW + kw)*oc + o] )
//
// for ow < out_w, o < oc. x is a zero-padded copy of the input, so there are no edge tests: the kernel may read
// x[kh*x_stride + c] for every c < out_w + KW - 1 + 2 * width, and the caller makes those readable. It is
// vectorized over width output columns when oc < width, else over output channels with a block of pixels in
// registers; either way the sums run over (kh, kw) in order. The epilogue is bias, then relu
// or leakyRelu (p->act; p->accumulate must be false). Overwrites y; no alignment required.
#pragma once

#include <cstddef>

#include "convkit/isa.h"
#include "kernels/f32-gemm/f32-gemm.h"

typedef void (*ck_f32_conv1c_fn)(size_t out_w, size_t oc, size_t kh, size_t kw, const float* x, size_t x_stride,
                                 const float* w, float* y, const ck_gemm_params* p);

// The filter gradient of one output row with few filters (2 oc <= width): per = width / oc pixels share a
// vector, lane q*oc + o holding pixel q's channel o, so dy (the row's out_w * oc gradients, NHWC) is read as
// stored. xr is the zero-padded image with every value repeated oc times (row stride xr_stride floats, rows of
// at least (out_w + KW - 1) * oc). sums[tap*width + lane] += the row's sum of xr times dy in that layout (tap =
// kh*KW + kw); the caller adds lanes q*oc + o over q for dfilter[tap][o]. Reads of xr may run up to 2 * width
// floats past the last row, which the caller keeps readable.
typedef void (*ck_f32_conv1c_grad_fn)(size_t out_w, size_t oc, size_t kh, size_t kw, const float* xr, size_t xr_stride,
                                      const float* dy, float* sums);

// CK_CONV1C_UKERNEL(isa, fn, width); CK_CONV1C_GRAD_UKERNEL(isa, grad_fn)
#define CK_CONV1C_UKERNEL(isa, fn, width)                                                                   \
  void fn(size_t out_w, size_t oc, size_t kh, size_t kw, const float* x, size_t x_stride, const float* w, \
          float* y, const ck_gemm_params* p);
#define CK_CONV1C_GRAD_UKERNEL(isa, grad_fn)                                                                      \
  void grad_fn(size_t out_w, size_t oc, size_t kh, size_t kw, const float* xr, size_t xr_stride, const float* dy, \
               float* sums);
#include "kernels/f32-conv1c/f32-conv1c.inc"
#undef CK_CONV1C_GRAD_UKERNEL
#undef CK_CONV1C_UKERNEL
