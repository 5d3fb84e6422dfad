// The direct convolution microkernel at stride 1 without dilation (NHWC, groups 1) for kernels 3 or 5 wide, one
// output row at a time:
//
//   y[ow*oc + o] = epilogue( sum over kh < KH with rows[kh] != null, ci < c, kw < KW with 0 <= iw < in_w
//                            of rows[kh][iw*c + ci] * w[((kh*KW + kw)*c + ci)*oc + o] ),   iw = ow + kw - pad_left
//
// for ow < out_w and o < oc. rows[kh] is the input row the kernel's row kh reads (null where that row is
// padding). At most KW / 2 padded columns on each side: pad_left and pad_right = out_w + KW - 1 - pad_left - in_w
// are at most KW / 2. Blocks of output pixels x output channels stay in registers while each input value is
// broadcast once for the KW kernel columns that read it, where the GEMM microkernel reads each (pixel, channel)
// again for every kernel column. Each sum runs over (kh, ci, kw) in order, whatever the blocking. The epilogue
// is the GEMM's (p->accumulate false; column o of scale and bias is channel o; the residual is laid out like y,
// found at p->residual + (y - p->output)).
#pragma once

#include <cstddef>

#include "convkit/isa.h"
#include "kernels/f32-gemm/f32-gemm.h"

typedef void (*ck_f32_dconv_fn)(size_t kh, size_t kw, size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc,
                                const float* const* rows, const float* w, float* y, const ck_gemm_params* p);

// Its filter gradient for one kernel row over n output rows: x_rows[i] is the input row that kernel row reads for
// output row dy_rows[i] (none is padding), and
//
//   sums[(kw*c + ci)*oc + o] = sum over i < n, ow < out_w, kw < KW with 0 <= iw < in_w
//                              of x_rows[i][iw*c + ci] * dy_rows[i][ow*oc + o],   iw = ow + kw - pad_left
//
// (zeros for n = 0), with the same limits on the padding. Accumulators for a block of (kw, ci, o) stay in
// registers over all n rows; each input value is broadcast once for the KW output columns that read it. Each sum
// runs over (i, ow) in order.
typedef void (*ck_f32_dconv_grad_fn)(size_t kw, size_t n, const float* const* x_rows, const float* const* dy_rows,
                                     size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc, float* sums);

// CK_DCONV_UKERNEL(isa, fn); CK_DCONV_GRAD_UKERNEL(isa, grad_fn)
#define CK_DCONV_UKERNEL(isa, fn)                                                                                 \
  void fn(size_t kh, size_t kw, size_t out_w, size_t in_w, size_t pad_left, size_t c, size_t oc,              \
          const float* const* rows, const float* w, float* y, const ck_gemm_params* p);
#define CK_DCONV_GRAD_UKERNEL(isa, grad_fn)                                                                       \
  void grad_fn(size_t kw, size_t n, const float* const* x_rows, const float* const* dy_rows, size_t out_w,      \
               size_t in_w, size_t pad_left, size_t c, size_t oc, float* sums);
#include "kernels/f32-dconv/f32-dconv.inc"
#undef CK_DCONV_GRAD_UKERNEL
#undef CK_DCONV_UKERNEL
