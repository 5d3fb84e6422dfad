// The Winograd transforms, written once against a SIMD vocabulary V. Contract and matrices: f32-winograd.h.
#pragma once

#include <utility>

#include "kernels/f32-gemm/f32-gemm-ukernel.h"
#include "kernels/f32-winograd/f32-winograd.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// One dimension of each transform, on a column (or row) of vectors: out[i * os] from in[k * is].

template <class V>
struct ck_winograd_b4 {  // points 0, 1, -1, infinity
  using R = typename V::reg;
  static constexpr size_t a = 4;
  static void input(const R* d, size_t is, R* t, size_t os) {  // B^T d
    t[0] = V::sub(d[0], d[2 * is]);
    t[os] = V::add(d[is], d[2 * is]);
    t[2 * os] = V::sub(d[2 * is], d[is]);
    t[3 * os] = V::sub(d[is], d[3 * is]);
  }
};

template <class V>
struct ck_winograd_b6 {  // points 0, 1, -1, 2, -2, infinity
  using R = typename V::reg;
  static constexpr size_t a = 6;
  static void input(const R* d, size_t is, R* t, size_t os) {  // B^T d
    const R four = V::set1(4.0f), five = V::set1(5.0f);
    const R d0 = d[0], d1 = d[is], d2 = d[2 * is], d3 = d[3 * is], d4 = d[4 * is], d5 = d[5 * is];
    const R p1 = V::sub(d4, V::mul(four, d2)), q1 = V::sub(d3, V::mul(four, d1));  // rows 1 and 2: p1 +- q1
    const R p3 = V::sub(d4, d2), q3 = V::add(V::sub(d3, d1), V::sub(d3, d1));      // rows 3 and 4: p3 +- q3
    t[0] = V::add(V::sub(V::mul(four, d0), V::mul(five, d2)), d4);
    t[os] = V::add(p1, q1);
    t[2 * os] = V::sub(p1, q1);
    t[3 * os] = V::add(p3, q3);
    t[4 * os] = V::sub(p3, q3);
    t[5 * os] = V::add(V::sub(V::mul(four, d1), V::mul(five, d3)), d5);
  }
};

template <class V>
struct ck_winograd_f23 {
  using R = typename V::reg;
  static constexpr size_t a = 4, m = 2;
  static void output(const R* x, size_t is, R* t, size_t os) {  // A^T x
    t[0] = V::add(V::add(x[0], x[is]), x[2 * is]);
    t[os] = V::sub(V::sub(x[is], x[2 * is]), x[3 * is]);
  }
  static void gradient(const R* g, size_t is, R* t, size_t os) {  // A g
    t[0] = g[0];
    t[os] = V::add(g[0], g[is]);
    t[2 * os] = V::sub(g[0], g[is]);
    t[3 * os] = V::sub(V::zero(), g[is]);
  }
};

// The inputs of a 6-point A^T at the points 1 and -1, and 2 and -2, added and subtracted.
template <class V>
struct ck_winograd_point_pairs {
  using R = typename V::reg;
  R s12, d12, s34, d34;
  ck_winograd_point_pairs(const R* x, size_t is)
      : s12(V::add(x[is], x[2 * is])),
        d12(V::sub(x[is], x[2 * is])),
        s34(V::add(x[3 * is], x[4 * is])),
        d34(V::sub(x[3 * is], x[4 * is])) {}
};

template <class V>
struct ck_winograd_f43 {
  using R = typename V::reg;
  static constexpr size_t a = 6, m = 4;
  static void output(const R* x, size_t is, R* t, size_t os) {  // A^T x
    const ck_winograd_point_pairs<V> p(x, is);
    t[0] = V::add(V::add(x[0], p.s12), p.s34);
    t[os] = V::fmadd(V::set1(2.0f), p.d34, p.d12);
    t[2 * os] = V::fmadd(V::set1(4.0f), p.s34, p.s12);
    t[3 * os] = V::add(V::fmadd(V::set1(8.0f), p.d34, p.d12), x[5 * is]);
  }
  static void gradient(const R* g, size_t is, R* t, size_t os) {  // A g
    const R four = V::set1(4.0f);
    const R e02 = V::add(g[0], g[2 * is]), o13 = V::add(g[is], g[3 * is]);
    const R e = V::fmadd(four, g[2 * is], g[0]), o = V::fmadd(four, g[3 * is], g[is]);  // o: half of row 3's odd part
    t[0] = g[0];
    t[os] = V::add(e02, o13);
    t[2 * os] = V::sub(e02, o13);
    t[3 * os] = V::add(e, V::add(o, o));
    t[4 * os] = V::sub(e, V::add(o, o));
    t[5 * os] = g[3 * is];
  }
};

template <class V>
struct ck_winograd_f25 {
  using R = typename V::reg;
  static constexpr size_t a = 6, m = 2;
  static void output(const R* x, size_t is, R* t, size_t os) {  // A^T x
    const ck_winograd_point_pairs<V> p(x, is);
    t[0] = V::add(V::add(x[0], p.s12), p.s34);
    t[os] = V::add(V::add(p.d12, V::add(p.d34, p.d34)), x[5 * is]);
  }
  static void gradient(const R* g, size_t is, R* t, size_t os) {  // A g
    const R g0 = g[0], g1 = g[is], g2 = V::add(g1, g1);
    t[0] = g0;
    t[os] = V::add(g0, g1);
    t[2 * os] = V::sub(g0, g1);
    t[3 * os] = V::add(g0, g2);
    t[4 * os] = V::sub(g0, g2);
    t[5 * os] = g1;
  }
};

// B^T d B over n (<= width) channels from c on.
template <class V, class B>
inline void ck_winograd_input_vector(const float* const* d, size_t c, size_t n, float* v, size_t v_stride) {
  constexpr size_t a = B::a;
  typename V::reg x[a * a], t[a * a];
  for (size_t e = 0; e < a * a; ++e) x[e] = ck_load_n<V>(d[e] + c, n);
  for (size_t j = 0; j < a; ++j) B::input(x + j, a, t + j, a);  // B^T d, column by column
  for (size_t i = 0; i < a; ++i) B::input(t + a * i, 1, x + a * i, 1);  // (B^T d) B, row by row
  for (size_t e = 0; e < a * a; ++e) ck_store_n<V>(v + e * v_stride + c, x[e], n);
}

// A^T x A over n (<= width) channels from c on, through the epilogue.
template <class V, class T>
inline void ck_winograd_output_vector(const float* x_, size_t x_stride, size_t c, size_t n, float* const* y,
                                      const ck_gemm_params* p) {
  constexpr size_t a = T::a, m = T::m;
  typename V::reg x[a * a], t[m * a], o[m * m];
  for (size_t e = 0; e < a * a; ++e) x[e] = ck_load_n<V>(x_ + e * x_stride + c, n);
  for (size_t j = 0; j < a; ++j) T::output(x + j, a, t + j, a);  // A^T x, column by column
  for (size_t i = 0; i < m; ++i) T::output(t + a * i, 1, o + m * i, 1);  // (A^T x) A, row by row
  if (ck_gemm_with_fixed_epilogue<V, false>(p, [&](const auto& ep) CK_INLINE_LAMBDA {
        const typename V::reg scale = ep.scale(c, n), bias = ep.bias(c, n);
        for (size_t q = 0; q < m * m; ++q)
          if (y[q] != nullptr) ep.store(y[q] + c, o[q], scale, bias, n);
      }))
    return;
  for (size_t q = 0; q < m * m; ++q)
    if (y[q] != nullptr) ck_gemm_store<V>(y[q] + c, o[q], c, p, n);
}

// A g A^T over n (<= width) channels from c on.
template <class V, class T>
inline void ck_winograd_gradient_vector(const float* const* g, size_t c, size_t n, float* z, size_t z_stride) {
  constexpr size_t a = T::a, m = T::m;
  typename V::reg x[m * m], t[m * a], o[a * a];
  for (size_t q = 0; q < m * m; ++q) x[q] = ck_load_n<V>(g[q] + c, n);
  for (size_t j = 0; j < m; ++j) T::gradient(x + j, m, t + j, m);  // A g, column by column
  for (size_t i = 0; i < a; ++i) T::gradient(t + m * i, 1, o + a * i, 1);  // (A g) A^T, row by row
  for (size_t e = 0; e < a * a; ++e) ck_store_n<V>(z + e * z_stride + c, o[e], n);
}

// P blocks of the product with C channels, u's rows in registers: P independent FMA chains.
template <class V, size_t C, size_t P>
CK_INLINE void ck_winograd_product_blocks(const typename V::reg* u, size_t out_channels, const float* v, float* m) {
  typename V::reg acc[P];
#pragma GCC unroll 8
  for (size_t j = 0; j < P; ++j) acc[j] = V::zero();
#pragma GCC unroll 16
  for (size_t c = 0; c < C; ++c)
#pragma GCC unroll 8
    for (size_t j = 0; j < P; ++j) acc[j] = V::fmadd(V::set1(v[j * C + c]), u[c], acc[j]);
#pragma GCC unroll 8
  for (size_t j = 0; j < P; ++j) ck_store_n<V>(m + j * out_channels, acc[j], out_channels);
}

template <class V, size_t C>
void ck_winograd_product(size_t blocks, size_t out_channels, const float* v, const float* u_, float* m) {
  typename V::reg u[C];
#pragma GCC unroll 16
  for (size_t c = 0; c < C; ++c) u[c] = V::load(u_ + c * V::width);
  size_t b = 0;
  for (; b + 8 <= blocks; b += 8) ck_winograd_product_blocks<V, C, 8>(u, out_channels, v + b * C, m + b * out_channels);
  for (; b < blocks; ++b) ck_winograd_product_blocks<V, C, 1>(u, out_channels, v + b * C, m + b * out_channels);
}

// The product for 1 .. sizeof...(C) channels, each with its own unrolled kernel.
template <class V, size_t... C>
void ck_winograd_product_of(size_t blocks, size_t channels, size_t out_channels, const float* v, const float* u,
                            float* m, std::index_sequence<C...>) {
  using fn = void (*)(size_t, size_t, const float*, const float*, float*);
  static constexpr fn by_channels[] = {&ck_winograd_product<V, C + 1>...};
  by_channels[channels - 1](blocks, out_channels, v, u, m);
}

// Runs f(c, n) over the channels a vector at a time, the last one partial.
template <class V, class F>
inline void ck_winograd_channels(size_t channels, F&& f) {
  size_t c = 0;
  for (; c + V::width <= channels; c += V::width) f(c, V::width);
  if (c < channels) f(c, channels - c);
}

}  // namespace

#define CK_DEFINE_WINOGRAD_INPUT_UKERNEL(input_fn, V, B)                                                     \
  void input_fn(size_t channels, const float* const* d, float* v, size_t v_stride) {                        \
    ck_winograd_channels<V>(channels,                                                                       \
                            [&](size_t c, size_t n) { ck_winograd_input_vector<V, B<V>>(d, c, n, v, v_stride); }); \
  }
#define CK_DEFINE_WINOGRAD_OUTPUT_UKERNEL(output_fn, V, T)                                                    \
  void output_fn(size_t channels, const float* m, size_t m_stride, float* const* y, const ck_gemm_params* p) { \
    ck_winograd_channels<V>(channels,                                                                        \
                            [&](size_t c, size_t n) { ck_winograd_output_vector<V, T<V>>(m, m_stride, c, n, y, p); }); \
  }
#define CK_DEFINE_WINOGRAD_GRADIENT_UKERNEL(gradient_fn, V, T)                                              \
  void gradient_fn(size_t channels, const float* const* g, float* z, size_t z_stride) {                     \
    ck_winograd_channels<V>(channels,                                                                       \
                            [&](size_t c, size_t n) { ck_winograd_gradient_vector<V, T<V>>(g, c, n, z, z_stride); }); \
  }
#define CK_DEFINE_WINOGRAD_PRODUCT_UKERNEL(product_fn, V)                                                  \
  static_assert(V::width == kWinogradProductChannels, "the product holds a layer's channels in one vector"); \
  void product_fn(size_t blocks, size_t channels, size_t out_channels, const float* v, const float* u,       \
                  float* m) {                                                                                \
    if (channels > 0)                                                                                        \
      ck_winograd_product_of<V>(blocks, channels, out_channels, v, u, m,                                     \
                                std::make_index_sequence<kWinogradProductChannels>());                       \
  }
