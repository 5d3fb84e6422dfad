// The Winograd F(2x2, 3x3) transforms (Lavin & Gray, 2015), over vectors of channels. A 3x3 convolution at stride 1
// computes each 2x2 block of output pixels from the 4x4 block of input pixels under it as
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A        (.) elementwise; summed over input channels between the transforms
//
//   B^T = | 1  0 -1  0 |     G = | 1    0    0   |     A^T = | 1  1  1  0 |
//         | 0  1  1  0 |         | 1/2  1/2  1/2 |           | 0  1 -1 -1 |
//         | 0 -1  1  0 |         | 1/2 -1/2  1/2 |
//         | 0  1  0 -1 |         | 0    0    1   |
//
// so the 36 multiplications of a 2x2 block per channel pair become 16 (the runtime does the filter transform
// and the 16 channel sums, as GEMMs). No alignment required; the kernels do not allocate, spawn threads or throw.
#pragma once

#include <cstddef>

#include "convkit/isa.h"
#include "kernels/f32-gemm/f32-gemm.h"

// v[e * v_stride + c] = (B^T d B)[e] for e < 16 (row-major over the 4x4 block), c < channels. d[e] points at
// the input pixel under position e of the block (channels floats; a zero row where the block leaves the input).
typedef void (*ck_f32_winograd_input_fn)(size_t channels, const float* const* d, float* v, size_t v_stride);

// y[q][c] = epilogue( (A^T m A)[q] ) for q < 4 (row-major over the 2x2 block), c < channels, where
// m[e * m_stride + c] holds the channel sums of block position e. y[q] is null for an output pixel past the
// output's edge (not stored). The epilogue is p's scale, bias, residual (p->residual + (y[q] - p->output)) and
// relu, leakyRelu or relu6; p->accumulate must be false.
typedef void (*ck_f32_winograd_output_fn)(size_t channels, const float* m, size_t m_stride, float* const* y,
                                          const ck_gemm_params* p);

// CK_WINOGRAD_UKERNEL(isa, input_fn, output_fn)
#define CK_WINOGRAD_UKERNEL(isa, input_fn, output_fn)                                       \
  void input_fn(size_t channels, const float* const* d, float* v, size_t v_stride);         \
  void output_fn(size_t channels, const float* m, size_t m_stride, float* const* y, const ck_gemm_params* p);
#include "kernels/f32-winograd/f32-winograd.inc"
#undef CK_WINOGRAD_UKERNEL
