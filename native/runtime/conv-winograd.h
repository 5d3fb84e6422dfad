// 3x3 and 5x5 convolution at stride 1 by Winograd F(m x m, r x r) (kernels/f32-winograd/f32-winograd.h): a^2
// multiplications per m x m block of output pixels and channel pair (a = m + r - 1) instead of m^2 r^2. The
// forward (and so the backward-input) runs F(2x2, 3x3), F(4x4, 3x3) or F(2x2, 5x5). Each task takes a run of
// output blocks: transforms their a x a input patches, multiplies them by the transformed filter (a^2 GEMMs, one
// per block position, through the igemm microkernel reading the transformed patches in place), and transforms
// the products back into y with the epilogue, all within L2. The filter gradient transforms the input patches and
// the output gradient's m x m blocks, and sums their products over the blocks (a^2 GEMMs whose depth is the
// blocks) before one transform back per channel pair.
#pragma once

#include "convkit/ops.h"
#include "runtime/dispatch.h"

// The input channels the transforms' zero row covers.
constexpr size_t kWinogradMaxChannels = 1024;
// The widest microkernel tile the filter transform packs for.
constexpr size_t kWinogradMaxNR = 32;

// When the dispatch (conv.cc) takes Winograd F(side x side, kernel x kernel) for a layer that qualifies: from this
// many input channels and output pixels on (measured on Zen 4; docs/kernels.md).
struct ck_winograd_limit {
  size_t kernel, side, min_channels, min_pixels;
};
// The forward and backward-input passes: the first entry a layer meets.
constexpr ck_winograd_limit kWinogradLimits[] = {{3, 4, 16, 4096}, {3, 2, 24, 1024}, {5, 2, 32, 8192}};
// The filter gradient, per ISA (indexed by ck_isa), in the same order: with AVX2 the direct gradient kernel kept
// 3x3 layers of 32 channels from F(2x2, 3x3) and 5x5 ones of 24; the scalar F(4x4, 3x3) needed more pixels.
constexpr ck_winograd_limit kWinogradGradientLimits[CK_ISA_COUNT][3] = {
    {{3, 4, 32, 16384}, {3, 2, 32, 1024}, {5, 2, 24, 2048}},  // scalar
    {{3, 4, 32, 4096}, {3, 2, 48, 1024}, {5, 2, 32, 2048}},   // AVX2
    {{3, 4, 32, 4096}, {3, 2, 32, 1024}, {5, 2, 24, 2048}}};  // AVX-512

// The most channel pairs (input x output channels) the filter gradient takes Winograd for: wider, the partials'
// memory leaves too few chunks, and the GEMM path's deep products win.
constexpr size_t kWinogradGradientMaxPairs = 256 * 256;

// A 3x3 or 5x5 kernel (r x r) at stride 1, no dilation, one group, padding of at most r - 1 per side.
bool ck_conv2d_winograd_applies(const ck_conv2d_info& s);

// The floats of s's filter transformed for F(m x m, r x r) (ck_winograd_transform_filter) for d's microkernels.
size_t ck_winograd_filter_size(const ck_dispatch& d, const ck_conv2d_info& s, size_t m);
// filter (r,r,C,OC) -> u: G g G^T of each (input, output) channel pair for F(m x m, r x r), packed for the
// products' microkernel. With `turned`, filter is (r,r,OC,C) and g its taps turned by 180 degrees: the filter of
// the convolution that computes a forward convolution's input gradient from its output gradient. Over the pool.
void ck_winograd_transform_filter(const ck_dispatch& d, float* u, const float* filter, const ck_conv2d_info& s,
                                  size_t m, bool turned = false);

// x (N,H,W,C), u (the filter transformed for d and m) -> y (N,OH,OW,OC) by F(m x m, r x r) (m = 4 only for
// 3x3), then the epilogue. s must pass ck_conv2d_winograd_applies. Each m x m block of y is computed on its own,
// so y does not depend on how the batch is split between calls, nor on the thread count.
void ck_winograd_fwd(const ck_dispatch& d, float* y, const float* x, const float* u, const ck_conv2d_info& s,
                     size_t m, const ck_epilogue* ep);

// x (N,H,W,C), dy (N,OH,OW,OC) -> dfilter (r,r,C,OC) by F(m x m, r x r)'s transpose (m = 4 only for 3x3). s must
// pass ck_conv2d_winograd_applies and have at most kWinogradMaxChannels output channels. Fixed chunks of blocks
// (set by the shape alone) are summed into partials that are added in chunk order, so dfilter is the same for any
// thread count.
void ck_winograd_bwd_filter(const ck_dispatch& d, float* dfilter, const float* x, const float* dy,
                            const ck_conv2d_info& s, size_t m);
