// Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015) for a
// convolution at stride 1 with an r x r kernel (r = 3 or 5), over vectors of channels. Each m x m block of output
// pixels comes from the a x a block of input pixels under it (a = m + r - 1) as
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A        (.) elementwise; summed over input channels between the transforms
//
// so the m^2 r^2 multiplications of a block per channel pair become a^2: 16 instead of 36 for F(2x2, 3x3), 36
// instead of 144 for F(4x4, 3x3), 36 instead of 100 for F(2x2, 5x5). The matrices are Cook-Toom's over the points
// 0, 1, -1 (and 2, -2 where a = 6) and infinity; B^T depends only on the points, so F(4x4, 3x3) and F(2x2, 5x5)
// share their input transform:
//
//   a = 4   B^T = | 1  0 -1  0 |       F(2x2, 3x3)   A^T = | 1  1  1  0 |
//                 | 0  1  1  0 |                           | 0  1 -1 -1 |
//                 | 0 -1  1  0 |
//                 | 0  1  0 -1 |
//
//   a = 6   B^T = | 4  0 -5  0  1  0 |   F(2x2, 5x5)   A^T = | 1  1  1  1  1  0 |
//                 | 0 -4 -4  1  1  0 |                       | 0  1 -1  2 -2  1 |
//                 | 0  4 -4 -1  1  0 |
//                 | 0 -2 -1  2  1  0 |   F(4x4, 3x3)   A^T = | 1  1  1  1  1  0 |
//                 | 0  2 -1 -2  1  0 |                       | 0  1 -1  2 -2  0 |
//                 | 0  4  0 -5  0  1 |                       | 0  1  1  4  4  0 |
//                                                            | 0  1 -1  8 -8  1 |
//
// (G, applied once per filter, is in runtime/conv-winograd.cc.) The runtime does the filter transform and the
// a^2 channel sums, as GEMMs. The filter gradient is the transpose of that bilinear form, with the same matrices:
// per m x m block of the output gradient dy,
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

// y[q][c] = epilogue( (A^T m A)[q] ) for q < m^2 (row-major over the m x m block), c < channels, where
// m[e * m_stride + c] holds the channel sums of block position e < a^2. y[q] is null for an output pixel past
// the output's edge (not stored). The epilogue is p's scale, bias, residual (p->residual + (y[q] - p->output))
// and relu, leakyRelu or relu6; p->accumulate must be false.
typedef void (*ck_f32_winograd_output_fn)(size_t channels, const float* m, size_t m_stride, float* const* y,
                                          const ck_gemm_params* p);

// z[e * z_stride + c] = (A dy A^T)[e] for e < a^2, c < channels: the filter gradient's transform of an m x m
// block of the output gradient. dy[q] points at its pixel q < m^2 (row-major; channels floats, a zero row past the
// edge).
typedef void (*ck_f32_winograd_gradient_fn)(size_t channels, const float* const* dy, float* z, size_t z_stride);

// The widest layers (channels each way) the product microkernel takes.
constexpr size_t kWinogradProductChannels = 16;

// m[b * out_channels + o] = sum over c of v[b * channels + c] * u[c * kWinogradProductChannels + o], for
// b < blocks and o < out_channels: one block position's channel sums for layers of at most
// kWinogradProductChannels channels each way, with u's rows held in registers across all the blocks (the GEMM
// tiles reload them for every 8 blocks and, at 16 channels, spend as long starting and storing a tile as
// multiplying). Each sum runs over c in order from zero, one FMA per term, as in the GEMM microkernels: the
// same bits.
typedef void (*ck_f32_winograd_product_fn)(size_t blocks, size_t channels, size_t out_channels, const float* v,
                                           const float* u, float* m);

// CK_WINOGRAD_INPUT_UKERNEL(isa, a, input_fn): the input transform of a x a blocks.
// CK_WINOGRAD_UKERNEL(isa, m, r, output_fn): the output transform of F(m x m, r x r).
// CK_WINOGRAD_GRADIENT_UKERNEL(isa, m, r, gradient_fn): dy's transform for the filter gradient of F(m x m, r x r).
// CK_WINOGRAD_PRODUCT_UKERNEL(isa, product_fn): the product microkernel (ISAs whose vector holds
// kWinogradProductChannels floats).
#define CK_WINOGRAD_INPUT_UKERNEL(isa, a, input_fn) \
  void input_fn(size_t channels, const float* const* d, float* v, size_t v_stride);
#define CK_WINOGRAD_UKERNEL(isa, m, r, output_fn) \
  void output_fn(size_t channels, const float* m_, size_t m_stride, float* const* y, const ck_gemm_params* p);
#define CK_WINOGRAD_GRADIENT_UKERNEL(isa, m, r, gradient_fn) \
  void gradient_fn(size_t channels, const float* const* dy, float* z, size_t z_stride);
#define CK_WINOGRAD_PRODUCT_UKERNEL(isa, product_fn)                                                \
  void product_fn(size_t blocks, size_t channels, size_t out_channels, const float* v, const float* u, \
                  float* m);
#include "kernels/f32-winograd/f32-winograd.inc"
#undef CK_WINOGRAD_INPUT_UKERNEL
#undef CK_WINOGRAD_UKERNEL
#undef CK_WINOGRAD_GRADIENT_UKERNEL
#undef CK_WINOGRAD_PRODUCT_UKERNEL
