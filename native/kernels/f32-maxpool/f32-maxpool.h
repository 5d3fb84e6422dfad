// Max-pooling backward microkernel for windows that tile the input (stride = pool size): every input cell is in
// at most one window, so dx is written directly, with no zeroing first and no scatter.
//
//   for ow < out_w, each window (ph x pw cells, cell (i, j) at x + i * x_row + (ow * pw + j) * c), channel o < c:
//     dx[same offset as the cell] = dy[ow * c + o] at the window's first maximum (row-major cells, a later cell
//     wins only when strictly greater, so NaN never does), 0 at its other cells
//
// x and dx share the layout (one output row's input rows of NHWC), dy is the output row (out_w * c values).
// 1 <= ph * pw <= 64; no alignment required.
#pragma once

#include <cstddef>

#include "convkit/isa.h"

typedef void (*ck_f32_maxpool_bwd_fn)(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row,
                                      const float* dy, float* dx);

// CK_MAXPOOL_UKERNEL(isa, fn)
#define CK_MAXPOOL_UKERNEL(isa, fn) \
  void fn(size_t c, size_t out_w, size_t ph, size_t pw, const float* x, size_t x_row, const float* dy, float* dx);
#include "kernels/f32-maxpool/f32-maxpool.inc"
#undef CK_MAXPOOL_UKERNEL
