// The one-channel direct convolution written once against a SIMD vocabulary: a register of output columns
// per output channel, up to kBlock channels at a time; each tap loads one vector of inputs (consecutive
// columns, since there is one channel and stride 1) and multiplies it by each channel's broadcast weight.
// The finished block is transposed into the NHWC row through a small tile, each value through the GEMM's
// store epilogue.
#pragma once

#include "kernels/f32-conv1c/f32-conv1c.h"
#include "kernels/f32-gemm/f32-gemm-ukernel.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

template <class V>
inline void ck_f32_conv1c_row(size_t out_w, size_t oc, size_t kh_n, size_t kw_n, const float* x, size_t x_stride,
                              const float* w, float* y, const ck_gemm_params* p) {
  using reg = typename V::reg;
  constexpr size_t W = V::width;
  constexpr size_t kBlock = 8;  // output channels in registers: 8 accumulators, an input vector, a weight
  float tile[kBlock * W];
  for (size_t o0 = 0; o0 < oc; o0 += kBlock) {
    const size_t ob = oc - o0 < kBlock ? oc - o0 : kBlock;
    for (size_t ow0 = 0; ow0 < out_w; ow0 += W) {
      reg acc[kBlock];
#pragma GCC unroll 8
      for (size_t o = 0; o < kBlock; ++o) acc[o] = V::zero();
      for (size_t kh = 0; kh < kh_n; ++kh) {
        const float* row = x + kh * x_stride + ow0;
        const float* wt = w + kh * kw_n * oc + o0;
        for (size_t kw = 0; kw < kw_n; ++kw, wt += oc) {
          const reg xv = V::load(row + kw);
#pragma GCC unroll 8
          for (size_t o = 0; o < kBlock; ++o)
            if (o < ob) acc[o] = V::fmadd(xv, V::set1(wt[o]), acc[o]);
        }
      }
#pragma GCC unroll 8
      for (size_t o = 0; o < kBlock; ++o) V::store(tile + o * W, acc[o]);
      const size_t columns = out_w - ow0 < W ? out_w - ow0 : W;
      for (size_t q = 0; q < columns; ++q) {
        float* out = y + (ow0 + q) * oc + o0;
        for (size_t o = 0; o < ob; ++o)
          out[o] = ck_gemm_store_value<ck_simd_scalar>(tile[o * W + q], out + o, p->bias ? p->bias + o0 + o : nullptr, p);
      }
    }
  }
}

}  // namespace

#define CK_DEFINE_CONV1C_UKERNEL(fn, V)                                                                          \
  void fn(size_t out_w, size_t oc, size_t kh, size_t kw, const float* x, size_t x_stride, const float* w, float* y, \
          const ck_gemm_params* p) {                                                                              \
    ck_f32_conv1c_row<V>(out_w, oc, kh, kw, x, x_stride, w, y, p);                                               \
  }
