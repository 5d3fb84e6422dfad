// The direct convolution microkernel for a one-channel input at stride 1 (a grayscale first layer), one output
// row at a time:
//
//   y[ow*oc + o] = epilogue( sum over kh < KH, kw < KW of x[kh*x_stride + ow + kw] * w[(kh*KW + kw)*oc + o] )
//
// for ow < out_w, o < oc. x is a zero-padded copy of the input, so there are no edge tests: the kernel may read
// x[kh*x_stride + c] for every c < out_w + KW - 1 + width, and the caller makes those readable. It is
// vectorized over width output columns when oc < width, else over output channels with a block of pixels in
// registers; either way the sums run over (kh, kw) in order. The epilogue is bias, then relu
// or leakyRelu (p->act; p->accumulate must be false). Overwrites y; no alignment required.
#pragma once

#include <cstddef>

#include "convkit/isa.h"
#include "kernels/f32-gemm/f32-gemm.h"

typedef void (*ck_f32_conv1c_fn)(size_t out_w, size_t oc, size_t kh, size_t kw, const float* x, size_t x_stride,
                                 const float* w, float* y, const ck_gemm_params* p);

// CK_CONV1C_UKERNEL(isa, fn, width)
#define CK_CONV1C_UKERNEL(isa, fn, width)                                                                   \
  void fn(size_t out_w, size_t oc, size_t kh, size_t kw, const float* x, size_t x_stride, const float* w, \
          float* y, const ck_gemm_params* p);
#include "kernels/f32-conv1c/f32-conv1c.inc"
#undef CK_CONV1C_UKERNEL
