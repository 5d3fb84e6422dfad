// The one-channel direct convolution written once against a SIMD vocabulary, in one of two loop orders:
// - by columns (fewer output channels than a vector holds): a register of output columns per output channel,
//   up to kBlock channels at a time; each tap loads one vector of inputs (consecutive columns, since there is
//   one channel and stride 1) and multiplies it by each channel's broadcast weight. The finished block is
//   transposed into the NHWC row through a small tile, each value through the GEMM's store epilogue.
// - by channels (at least a vector of them): R pixels x NV vectors of channels in registers; each tap loads
//   the NV weight vectors and broadcasts R inputs, as the GEMM microkernel does, and each pixel's channels go
//   straight into the NHWC row through the vector epilogue.
#pragma once

#include "kernels/f32-conv1c/f32-conv1c.h"
#include "kernels/f32-gemm/f32-gemm-ukernel.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

template <class V, size_t R, size_t NV>
inline void ck_f32_conv1c_row_by_channels(size_t out_w, size_t oc, size_t kh_n, size_t kw_n, const float* x,
                                          size_t x_stride, const float* w, float* y, const ck_gemm_params* p) {
  using reg = typename V::reg;
  constexpr size_t W = V::width;
  static_assert(R <= 2 * W + 1,
                "the last pixel block reads at most 2 x width columns past out_w (the caller's margin)");
  for (size_t o0 = 0; o0 < oc; o0 += NV * W) {
    const size_t on = oc - o0 < NV * W ? oc - o0 : NV * W;  // channels in this block
    for (size_t ow0 = 0; ow0 < out_w; ow0 += R) {
      reg acc[R][NV];
#pragma GCC unroll 16
      for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (size_t j = 0; j < NV; ++j) acc[r][j] = V::zero();
      for (size_t kh = 0; kh < kh_n; ++kh) {
        const float* row = x + kh * x_stride + ow0;
        const float* wt = w + kh * kw_n * oc + o0;
        for (size_t kw = 0; kw < kw_n; ++kw, wt += oc) {
          reg wv[NV];
#pragma GCC unroll 4
          for (size_t j = 0; j < NV; ++j)
            wv[j] = j * W + W <= on ? V::load(wt + j * W)
                    : j * W < on    ? V::load_partial(wt + j * W, on - j * W)
                                    : V::zero();
#pragma GCC unroll 16
          for (size_t r = 0; r < R; ++r) {
            const reg xv = V::set1(row[r + kw]);
#pragma GCC unroll 4
            for (size_t j = 0; j < NV; ++j) acc[r][j] = V::fmadd(xv, wv[j], acc[r][j]);
          }
        }
      }
      const size_t rows = out_w - ow0 < R ? out_w - ow0 : R;
#pragma GCC unroll 16
      for (size_t r = 0; r < R; ++r) {
        if (r >= rows) break;
        float* out = y + (ow0 + r) * oc + o0;
#pragma GCC unroll 4
        for (size_t j = 0; j < NV; ++j) {
          if (j * W >= on) break;
          ck_gemm_store<V>(out + j * W, acc[r][j], o0 + j * W, p, on - j * W < W ? on - j * W : W);
        }
      }
    }
  }
}

// The epilogue of a register of output channel o's output columns: times scale, + bias, then relu, leakyRelu or relu6
// (never accumulate; a residual is added by the caller, which then runs the activation).
template <class V>
inline typename V::reg ck_conv1c_epilogue(typename V::reg v, size_t o, const ck_gemm_params* p) {
  if (p->scale != nullptr) v = V::mul(v, V::set1(p->scale[o]));
  if (p->bias != nullptr) v = V::add(v, V::set1(p->bias[o]));
  if (p->act == CK_ACT_RELU) v = V::max(V::zero(), v);  // a NaN stays NaN (see ck_op_relu)
  if (p->act == CK_ACT_LEAKY_RELU) v = V::select_pos(v, v, V::mul(v, V::set1(p->alpha)));
  if (p->act == CK_ACT_RELU6) v = V::min(V::set1(6.0f), V::max(V::zero(), v));
  return v;
}

// NC vectors of output columns at a time, so each broadcast weight feeds NC FMAs.
template <class V, size_t NC>
inline void ck_f32_conv1c_row_by_columns(size_t out_w, size_t oc, size_t kh_n, size_t kw_n, const float* x,
                                         size_t x_stride, const float* w, float* y, const ck_gemm_params* p) {
  using reg = typename V::reg;
  constexpr size_t W = V::width;
  constexpr size_t kBlock = 8;  // output channels in registers: 8 x NC accumulators, NC input vectors, a weight
  float tile[kBlock * NC * W];
  for (size_t o0 = 0; o0 < oc; o0 += kBlock) {
    const size_t ob = oc - o0 < kBlock ? oc - o0 : kBlock;
    for (size_t ow0 = 0; ow0 < out_w; ow0 += NC * W) {
      reg acc[NC][kBlock];
#pragma GCC unroll 8
      for (size_t c = 0; c < NC; ++c)
#pragma GCC unroll 8
        for (size_t o = 0; o < kBlock; ++o) acc[c][o] = V::zero();
      for (size_t kh = 0; kh < kh_n; ++kh) {
        const float* row = x + kh * x_stride + ow0;
        const float* wt = w + kh * kw_n * oc + o0;
        for (size_t kw = 0; kw < kw_n; ++kw, wt += oc) {
          reg xv[NC];
#pragma GCC unroll 8
          for (size_t c = 0; c < NC; ++c) xv[c] = V::load(row + kw + c * W);
#pragma GCC unroll 8
          for (size_t o = 0; o < kBlock; ++o) {
            if (o >= ob) break;
            const reg wv = V::set1(wt[o]);
#pragma GCC unroll 8
            for (size_t c = 0; c < NC; ++c) acc[c][o] = V::fmadd(xv[c], wv, acc[c][o]);
          }
        }
      }
      // The epilogue on whole registers, then the block transposed into the NHWC row value by value.
#pragma GCC unroll 8
      for (size_t c = 0; c < NC; ++c)
#pragma GCC unroll 8
        for (size_t o = 0; o < kBlock; ++o)
          V::store(tile + (o * NC + c) * W,
                   ck_conv1c_epilogue<V>(acc[c][o], o0 + (o < ob ? o : 0), p));
      const size_t columns = out_w - ow0 < NC * W ? out_w - ow0 : NC * W;
      for (size_t q = 0; q < columns; ++q) {
        float* out = y + (ow0 + q) * oc + o0;
        for (size_t o = 0; o < ob; ++o) out[o] = tile[o * NC * W + q];
      }
    }
  }
}

// The filter gradient of one output row with few filters (2 oc <= width): the per = width / oc pixels of a
// vector share it, lane q*oc + o holding pixel q's channel o, so dy is read as stored and nothing is
// transposed. The input is a copy of the zero-padded image with each value repeated oc times (xr), which makes
// a tap's inputs for those lanes one contiguous load. sums[t*width + lane] += the sum over the row's vectors of
// xr(tap t)[lane] * dy[lane], lanes past the row's end (and past per * oc) multiplied by zeros. At most T
// taps' accumulators sit in registers while the row's vectors run; more taps take more passes.
template <class V, size_t T>
inline void ck_f32_conv1c_grad_row(size_t out_w, size_t oc, size_t kh_n, size_t kw_n, const float* xr, size_t xr_stride,
                                   const float* dy, float* sums) {
  using reg = typename V::reg;
  constexpr size_t W = V::width;
  const size_t per = W / oc, lanes = per * oc, vectors = (out_w + per - 1) / per, taps = kh_n * kw_n;
  for (size_t t0 = 0; t0 < taps; t0 += T) {
    const size_t nt = taps - t0 < T ? taps - t0 : T;
    size_t off[T];
    reg acc[T];
#pragma GCC unroll 32
    for (size_t t = 0; t < T; ++t) {
      off[t] = t < nt ? (t0 + t) / kw_n * xr_stride + (t0 + t) % kw_n * oc : 0;
      acc[t] = t < nt ? V::load(sums + (t0 + t) * W) : V::zero();
    }
    for (size_t v = 0; v < vectors; ++v) {
      const size_t first = v * per, n = (out_w - first < per ? out_w - first : per) * oc;
      const reg g = V::load_partial(dy + first * oc, n);
      const float* src = xr + v * lanes;
#pragma GCC unroll 32
      for (size_t t = 0; t < T; ++t)
        if (t < nt) acc[t] = V::fmadd(V::load_partial(src + off[t], n), g, acc[t]);
    }
#pragma GCC unroll 32
    for (size_t t = 0; t < T; ++t)
      if (t < nt) V::store(sums + (t0 + t) * W, acc[t]);
  }
}

// The same sums for a KH x KW filter known at compile time, all its taps' accumulators in registers: each tap's
// input is addressed from its kernel row's pointer, where the general loop above reloads a table of tap offsets
// and tests each tap against the pass's count. The vectors of whole pixels load xr unmasked, straight into the
// FMA: their lanes past per * oc are never added up by the caller, and dy's are zero there. The row's last
// vector, with fewer pixels, masks both.
template <class V, size_t KH, size_t KW>
inline void ck_f32_conv1c_grad_row_fixed(size_t out_w, size_t oc, const float* xr, size_t xr_stride, const float* dy,
                                         float* sums) {
  using reg = typename V::reg;
  constexpr size_t W = V::width, taps = KH * KW;
  const size_t per = W / oc, lanes = per * oc, whole = out_w / per;
  reg acc[taps];
#pragma GCC unroll 32
  for (size_t t = 0; t < taps; ++t) acc[t] = V::load(sums + t * W);
  const auto row_sums = [&](size_t v, size_t n, auto load) {
    const reg g = V::load_partial(dy + v * lanes, n);
#pragma GCC unroll 8
    for (size_t kh = 0; kh < KH; ++kh) {
      const float* src = xr + kh * xr_stride + v * lanes;
#pragma GCC unroll 8
      for (size_t kw = 0; kw < KW; ++kw) acc[kh * KW + kw] = V::fmadd(load(src + kw * oc, n), g, acc[kh * KW + kw]);
    }
  };
  for (size_t v = 0; v < whole; ++v) row_sums(v, lanes, [](const float* q, size_t) { return V::load(q); });
  if (whole * per < out_w) row_sums(whole, (out_w - whole * per) * oc, V::load_partial);
#pragma GCC unroll 32
  for (size_t t = 0; t < taps; ++t) V::store(sums + t * W, acc[t]);
}

}  // namespace

// Defines the microkernel fn for vocabulary V; R pixels x NV vectors of channels in registers when there are
// at least a vector's worth of channels (R = 0: always by columns), NC vectors of columns otherwise.
#define CK_DEFINE_CONV1C_UKERNEL(fn, V, R, NV, NC)                                                                  \
  void fn(size_t out_w, size_t oc, size_t kh, size_t kw, const float* x, size_t x_stride, const float* w, float* y, \
          const ck_gemm_params* p) {                                                                                \
    if (R > 0 && oc >= V::width)                                                                                    \
      ck_f32_conv1c_row_by_channels<V, (R > 0 ? R : 1), NV>(out_w, oc, kh, kw, x, x_stride, w, y, p);               \
    else                                                                                                            \
      ck_f32_conv1c_row_by_columns<V, NC>(out_w, oc, kh, kw, x, x_stride, w, y, p);                                 \
  }

// Defines the few-filter filter-gradient microkernel grad_fn for vocabulary V (width >= 2), T taps at a time;
// 3x3 and (where T holds them) 5x5 filters by the fixed-size row.
#define CK_DEFINE_CONV1C_GRAD_UKERNEL(grad_fn, V, T)                                                              \
  void grad_fn(size_t out_w, size_t oc, size_t kh, size_t kw, const float* xr, size_t xr_stride, const float* dy, \
               float* sums) {                                                                                     \
    if (T >= 25 && kh == 5 && kw == 5)                                                                            \
      return ck_f32_conv1c_grad_row_fixed<V, 5, 5>(out_w, oc, xr, xr_stride, dy, sums);                           \
    if (T >= 9 && kh == 3 && kw == 3) return ck_f32_conv1c_grad_row_fixed<V, 3, 3>(out_w, oc, xr, xr_stride, dy, sums); \
    ck_f32_conv1c_grad_row<V, T>(out_w, oc, kh, kw, xr, xr_stride, dy, sums);                                     \
  }
