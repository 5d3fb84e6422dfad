// The direct 3x3 convolution microkernel at stride 1 without dilation (NHWC, groups 1), one output row at a time:
//
//   y[ow*oc + o] = epilogue( sum over kh < 3 with rows[kh] != null, ci < c, kw < 3 with 0 <= iw < in_w
//                            of rows[kh][iw*c + ci] * w[((kh*3 + kw)*c + ci)*oc + o] ),   iw = ow + kw - pad_left
//
// for ow < out_w and o < oc. rows[kh] is the input row the kernel's row kh reads
// (null where that row is padding). At most one padded column on each side: pad_left <= 1 and
// out_w + 1 - pad_left <= in_w. Blocks of output pixels x output channels stay in registers while each input
// value is broadcast once for the three kernel columns that read it, so a 16-channel layer loads a third as
// often as the GEMM microkernel, which reads each (pixel, channel) again for every kernel column. Each sum runs
// over (kh, ci, kw) in order, whatever the blocking. The epilogue is the GEMM's (p->accumulate false; column o of
// scale and bias is channel o; the residual is laid out like y, found at p->residual + (y - p->output)).
#pragma once

#include <cstddef>

#include "convkit/isa.h"
#include "kernels/f32-gemm/f32-gemm.h"

typedef void (*ck_f32_conv3x3_fn)(size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc,
                                  const float* const* rows, const float* w, float* y, const ck_gemm_params* p);

// CK_CONV3X3_UKERNEL(isa, fn)
#define CK_CONV3X3_UKERNEL(isa, fn)                                                                      \
  void fn(size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc, const float* const* rows, \
          const float* w, float* y, const ck_gemm_params* p);
#include "kernels/f32-conv3x3/f32-conv3x3.inc"
#undef CK_CONV3X3_UKERNEL
