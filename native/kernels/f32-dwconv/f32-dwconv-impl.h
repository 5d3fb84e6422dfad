// The depthwise microkernel written once against a SIMD vocabulary: 4 vectors of channels in registers while
// the taps run, then single vectors, then a masked last vector; the store goes through the GEMM's epilogue.
#pragma once

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-gemm/f32-gemm-ukernel.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// Channels [c0, c0 + U*W), the last vector holding only n (<= W) of them.
template <class V, size_t U>
inline void ck_f32_dwconv_block(size_t channels, size_t c0, size_t n, size_t ks, const float* const* x,
                                const float* w, float* y, const ck_gemm_params* p) {
  constexpr size_t W = V::width;
  const auto load = [n](const float* q, size_t u) {
    return u + 1 < U || n == W ? V::load(q + u * W) : V::load_partial(q + u * W, n);
  };
  typename V::reg acc[U];
#pragma GCC unroll 4
  for (size_t u = 0; u < U; ++u) acc[u] = V::zero();
  for (size_t t = 0; t < ks; ++t) {
    if (x[t] == nullptr) continue;
#pragma GCC unroll 4
    for (size_t u = 0; u < U; ++u) acc[u] = V::fmadd(load(x[t] + c0, u), load(w + t * channels + c0, u), acc[u]);
  }
#pragma GCC unroll 4
  for (size_t u = 0; u < U; ++u) {
    const size_t valid = u + 1 < U ? W : n;
    float* out = y + c0 + u * W;
    const typename V::reg v = ck_gemm_store_value<V>(acc[u], out, p->bias ? p->bias + c0 + u * W : nullptr, p, valid);
    if (valid == W)
      V::store(out, v);
    else
      V::store_partial(out, v, valid);
  }
}

template <class V>
inline void ck_f32_dwconv(size_t channels, size_t ks, const float* const* x, const float* w, float* y,
                          const ck_gemm_params* p) {
  constexpr size_t W = V::width;
  size_t c = 0;
  for (; c + 4 * W <= channels; c += 4 * W) ck_f32_dwconv_block<V, 4>(channels, c, W, ks, x, w, y, p);
  for (; c + W <= channels; c += W) ck_f32_dwconv_block<V, 1>(channels, c, W, ks, x, w, y, p);
  if (c < channels) ck_f32_dwconv_block<V, 1>(channels, c, channels - c, ks, x, w, y, p);
}

}  // namespace

#define CK_DEFINE_DWCONV_UKERNEL(fn, V)                                                                        \
  void fn(size_t channels, size_t ks, const float* const* x, const float* w, float* y, const ck_gemm_params* p) { \
    ck_f32_dwconv<V>(channels, ks, x, w, y, p);                                                                 \
  }
