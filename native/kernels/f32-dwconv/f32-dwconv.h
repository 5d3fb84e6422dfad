// The depthwise convolution microkernel (one filter per channel), one output pixel at a time:
//
//   y[c] = epilogue( sum over taps t < ks with x[t] != null of x[t][c] * w[t*channels + c] ),  c < channels
//
// x holds the input pixel of each tap (null for a tap in the padding), w the taps' filter rows. Sums run over
// the taps in order. The epilogue is bias, then relu or leakyRelu (p->act; p->accumulate must be false).
// Overwrites y; no alignment required.
#pragma once

#include <cstddef>

#include "convkit/isa.h"
#include "kernels/f32-gemm/f32-gemm.h"

typedef void (*ck_f32_dwconv_fn)(size_t channels, size_t ks, const float* const* x, const float* w, float* y,
                                 const ck_gemm_params* p);

// CK_DWCONV_UKERNEL(isa, fn)
#define CK_DWCONV_UKERNEL(isa, fn) \
  void fn(size_t channels, size_t ks, const float* const* x, const float* w, float* y, const ck_gemm_params* p);
#include "kernels/f32-dwconv/f32-dwconv.inc"
#undef CK_DWCONV_UKERNEL
