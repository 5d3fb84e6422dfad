// Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015) for a
// convolution at stride 1 with an r x r kernel (r = 3 or 5), over vectors of channels. Each 2x2 block of output
// pixels comes from the a x a block of input pixels under it (a = r + 1) as
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A        (.) elementwise; summed over input channels between the transforms
//
// so the 4 r^2 multiplications of a block per channel pair become a^2: 16 instead of 36 for F(2x2, 3x3), 36
// instead of 100 for F(2x2, 5x5). The matrices are Cook-Toom's over the points 0, 1, -1 (and 2, -2 for r = 5)
// and infinity:
//
//   F(2x2, 3x3)   B^T = | 1  0 -1  0 |   A^T = | 1  1  1  0 |
//                       | 0  1  1  0 |         | 0  1 -1 -1 |
//                       | 0 -1  1  0 |
//                       | 0  1  0 -1 |
//
//   F(2x2, 5x5)   B^T = | 4  0 -5  0  1  0 |   A^T = | 1  1  1  1  1  0 |
//                       | 0 -4 -4  1  1  0 |         | 0  1 -1  2 -2  1 |
//                       | 0  4 -4 -1  1  0 |
//                       | 0 -2 -1  2  1  0 |
//                       | 0  2 -1 -2  1  0 |
//                       | 0  4  0 -5  0  1 |
//
// (G, applied once per filter, is in runtime/conv-winograd.cc.) The runtime does the filter transform and the
// a^2 channel sums, as GEMMs. The filter gradient of the same convolution is the transpose of that bilinear form,
// with the same matrices: per 2x2 block of the output gradient dy,
//
//   dg = G^T [ (A dy A^T) (.) (B^T d B) ] G      summed over blocks between the transforms
//
// No alignment required; the kernels do not allocate, spawn threads or throw.
#pragma once

#include <cstddef>

#include "convkit/isa.h"
#include "kernels/f32-gemm/f32-gemm.h"

// v[e * v_stride + c] = (B^T d B)[e] for e < a^2 (row-major over the a x a block), c < channels. d[e] points at
// the input pixel under position e of the block (channels floats; a zero row where the block leaves the input).
typedef void (*ck_f32_winograd_input_fn)(size_t channels, const float* const* d, float* v, size_t v_stride);

// y[q][c] = epilogue( (A^T m A)[q] ) for q < 4 (row-major over the 2x2 block), c < channels, where
// m[e * m_stride + c] holds the channel sums of block position e < a^2. y[q] is null for an output pixel past
// the output's edge (not stored). The epilogue is p's scale, bias, residual (p->residual + (y[q] - p->output))
// and relu, leakyRelu or relu6; p->accumulate must be false.
typedef void (*ck_f32_winograd_output_fn)(size_t channels, const float* m, size_t m_stride, float* const* y,
                                          const ck_gemm_params* p);

// z[e * z_stride + c] = (A dy A^T)[e] for e < a^2, c < channels: the filter gradient's transform of a 2x2 block
// of the output gradient. dy[q] points at its pixel q (row-major; channels floats, a zero row past the edge).
typedef void (*ck_f32_winograd_gradient_fn)(size_t channels, const float* const* dy, float* z, size_t z_stride);

// CK_WINOGRAD_UKERNEL(isa, r, input_fn, output_fn, gradient_fn): the transforms of F(2x2, r x r).
#define CK_WINOGRAD_UKERNEL(isa, r, input_fn, output_fn, gradient_fn)                                         \
  void input_fn(size_t channels, const float* const* d, float* v, size_t v_stride);                           \
  void output_fn(size_t channels, const float* m, size_t m_stride, float* const* y, const ck_gemm_params* p); \
  void gradient_fn(size_t channels, const float* const* dy, float* z, size_t z_stride);
#include "kernels/f32-winograd/f32-winograd.inc"
#undef CK_WINOGRAD_UKERNEL
