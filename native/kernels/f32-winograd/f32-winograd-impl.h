// The Winograd F(2x2, 3x3) transforms, written once against a SIMD vocabulary V. Contract: f32-winograd.h.
#pragma once

#include "kernels/f32-gemm/f32-gemm-ukernel.h"
#include "kernels/f32-winograd/f32-winograd.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// B^T d B over n (<= width) channels from c on.
template <class V>
inline void ck_winograd_input_vector(const float* const* d, size_t c, size_t n, float* v, size_t v_stride) {
  typename V::reg t[16];
  for (size_t j = 0; j < 4; ++j) {  // B^T d, column by column
    const typename V::reg d0 = ck_load_n<V>(d[j] + c, n), d1 = ck_load_n<V>(d[4 + j] + c, n),
                          d2 = ck_load_n<V>(d[8 + j] + c, n), d3 = ck_load_n<V>(d[12 + j] + c, n);
    t[j] = V::sub(d0, d2);
    t[4 + j] = V::add(d1, d2);
    t[8 + j] = V::sub(d2, d1);
    t[12 + j] = V::sub(d1, d3);
  }
  for (size_t i = 0; i < 4; ++i) {  // (B^T d) B, row by row
    const typename V::reg* r = t + 4 * i;
    ck_store_n<V>(v + (4 * i) * v_stride + c, V::sub(r[0], r[2]), n);
    ck_store_n<V>(v + (4 * i + 1) * v_stride + c, V::add(r[1], r[2]), n);
    ck_store_n<V>(v + (4 * i + 2) * v_stride + c, V::sub(r[2], r[1]), n);
    ck_store_n<V>(v + (4 * i + 3) * v_stride + c, V::sub(r[1], r[3]), n);
  }
}

template <class V>
inline void ck_f32_winograd_input(size_t channels, const float* const* d, float* v, size_t v_stride) {
  size_t c = 0;
  for (; c + V::width <= channels; c += V::width) ck_winograd_input_vector<V>(d, c, V::width, v, v_stride);
  if (c < channels) ck_winograd_input_vector<V>(d, c, channels - c, v, v_stride);
}

// A^T m A over n (<= width) channels from c on, through the epilogue.
template <class V>
inline void ck_winograd_output_vector(const float* m, size_t m_stride, size_t c, size_t n, float* const* y,
                                      const ck_gemm_params* p) {
  typename V::reg t[8];
  for (size_t j = 0; j < 4; ++j) {  // A^T m, column by column
    const typename V::reg m0 = ck_load_n<V>(m + j * m_stride + c, n), m1 = ck_load_n<V>(m + (4 + j) * m_stride + c, n),
                          m2 = ck_load_n<V>(m + (8 + j) * m_stride + c, n),
                          m3 = ck_load_n<V>(m + (12 + j) * m_stride + c, n);
    t[j] = V::add(V::add(m0, m1), m2);
    t[4 + j] = V::sub(V::sub(m1, m2), m3);
  }
  for (size_t i = 0; i < 2; ++i) {  // (A^T m) A, row by row
    const typename V::reg* r = t + 4 * i;
    if (y[2 * i] != nullptr) ck_gemm_store<V>(y[2 * i] + c, V::add(V::add(r[0], r[1]), r[2]), c, p, n);
    if (y[2 * i + 1] != nullptr) ck_gemm_store<V>(y[2 * i + 1] + c, V::sub(V::sub(r[1], r[2]), r[3]), c, p, n);
  }
}

template <class V>
inline void ck_f32_winograd_output(size_t channels, const float* m, size_t m_stride, float* const* y,
                                   const ck_gemm_params* p) {
  size_t c = 0;
  for (; c + V::width <= channels; c += V::width) ck_winograd_output_vector<V>(m, m_stride, c, V::width, y, p);
  if (c < channels) ck_winograd_output_vector<V>(m, m_stride, c, channels - c, y, p);
}

}  // namespace

#define CK_DEFINE_WINOGRAD_UKERNELS(input_fn, output_fn, V)                                                   \
  void input_fn(size_t channels, const float* const* d, float* v, size_t v_stride) {                         \
    ck_f32_winograd_input<V>(channels, d, v, v_stride);                                                      \
  }                                                                                                          \
  void output_fn(size_t channels, const float* m, size_t m_stride, float* const* y, const ck_gemm_params* p) { \
    ck_f32_winograd_output<V>(channels, m, m_stride, y, p);                                                  \
  }
