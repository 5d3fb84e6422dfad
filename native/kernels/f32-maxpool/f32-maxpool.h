// Max-pooling microkernels for windows that tile the input (stride = pool size), one output row at a time. Window
// ow's cell (i, j) is at x + i * x_row + (ow * pw + j) * c; x is one output row's input rows of NHWC, and
// 1 <= ph * pw <= 64; no alignment required.
//
// Forward: y[ow * c + o] = the window's first maximum of channel o (row-major cells, a later cell wins only when
// strictly greater, so a NaN never does unless it is the first cell's), for ow < out_w, o < c.
//
// Backward: every input cell is in at most one window, so dx is written directly, with no zeroing first and no
// scatter: dx[same offset as the cell] = dy[ow * c + o] at the window's first maximum, 0 at its other cells
// (x and dx share the layout, dy is the output row).
#pragma once

#include <cstddef>

#include "convkit/isa.h"

typedef void (*ck_f32_maxpool_fwd_fn)(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row,
                                      float* y);
typedef void (*ck_f32_maxpool_bwd_fn)(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row,
                                      const float* dy, float* dx);

// CK_MAXPOOL_UKERNEL(isa, fwd_fn, bwd_fn)
#define CK_MAXPOOL_UKERNEL(isa, fwd_fn, bwd_fn)                                                                   \
  void fwd_fn(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row, float* y);              \
  void bwd_fn(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row, const float* dy, float* dx);
#include "kernels/f32-maxpool/f32-maxpool.inc"
#undef CK_MAXPOOL_UKERNEL
