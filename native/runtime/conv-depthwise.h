// Depthwise convolution (groups == inC > 1, outC = inC * multiplier), computed directly: as a GEMM per
// group it would have one column per group. Channel c feeds outputs c*m .. c*m+m-1 (m = multiplier).
#pragma once

#include "convkit/ops.h"
#include "runtime/dispatch.h"

bool ck_conv2d_is_depthwise(const ck_conv2d_info& s);

// The output columns [lo, hi) whose kernel row lies wholly inside the input (lo <= hi); the others cross its
// left or right edge. Shared with conv.cc.
struct ck_column_span {
  size_t lo, hi;
};
ck_column_span ck_conv2d_inside_columns(const ck_conv2d_info& s);

// x (N,H,W,C), filter (KH,KW,1,C*m) -> y (N,OH,OW,C*m), then the epilogue. Tasks own output rows.
void ck_depthwise_fwd(const ck_dispatch& d, float* y, const float* x, const float* filter, const ck_conv2d_info& s,
                      const ck_epilogue* ep);
// dy (N,OH,OW,C*m), filter -> dx (N,H,W,C), gathered per input pixel. Tasks own input rows.
void ck_depthwise_bwd_input(const ck_dispatch& d, float* dx, const float* dy, const float* filter,
                            const ck_conv2d_info& s);
// x, dy -> dfilter (KH,KW,1,C*m). Tasks own (tap, channel block) and sum over pixels in order.
void ck_depthwise_bwd_filter(const ck_dispatch& d, float* dfilter, const float* x, const float* dy,
                             const ck_conv2d_info& s);
