// The MR x NR register-blocked GEMM microkernel, written once against a SIMD vocabulary V (simd/*.h) and
// instantiated per ISA by the f32-gemm-<MR>x<NR>-<isa>.cc files. Contract: f32-gemm.h.
#pragma once

#include <cmath>
#include <type_traits>

#include "convkit/ops.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "simd/scalar.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// v through the epilogue for the first n (<= width) columns at c, column `col` of the epilogue's vectors: c
// added when accumulating, then times scale, plus bias and residual, and the activation.
template <class S>
inline typename S::reg ck_gemm_store_value(typename S::reg v, const float* c, size_t col, const ck_gemm_params* p,
                                           size_t n = S::width) {
  if (p->accumulate) v = S::add(v, ck_load_n<S>(c, n));
  if (p->scale != nullptr)
    v = p->bias != nullptr ? S::fmadd(v, ck_load_n<S>(p->scale + col, n), ck_load_n<S>(p->bias + col, n))
                           : S::mul(v, ck_load_n<S>(p->scale + col, n));
  else if (p->bias != nullptr)
    v = S::add(v, ck_load_n<S>(p->bias + col, n));
  if (p->residual != nullptr) v = S::add(v, ck_load_n<S>(p->residual + (c - p->output), n));
  if (p->act == CK_ACT_RELU) v = S::max(S::zero(), v);  // a NaN stays NaN (see ck_op_relu)
  if (p->act == CK_ACT_LEAKY_RELU) v = S::select_pos(v, v, S::mul(v, S::set1(p->alpha)));
  if (p->act == CK_ACT_RELU6) v = S::min(S::set1(6.0f), S::max(S::zero(), v));
  return v;
}

// v through the epilogue (ck_gemm_store_value) into the first n (<= width) floats at c.
template <class S>
inline void ck_gemm_store(float* c, typename S::reg v, size_t col, const ck_gemm_params* p, size_t n = S::width) {
  ck_store_n<S>(c, ck_gemm_store_value<S>(v, c, col, p, n), n);
}

// ck_gemm_store_value's epilogue with its choices made once, as template arguments, for the many stores of a
// tile: Acc adds c, Affine 0 adds nothing, 1 a bias, 2 a scale and a bias (one FMA), Res the residual, and the
// activation is two clamps, max with lo then min with hi (0 or -inf, 6 or +inf: relu's and relu6's operations
// in their order, and for linear v itself, NaN and -0 included). The same operations in the same order, so
// the same bits. Through the parameters' pointer, each store reloaded p's fields and retook their branches:
// with a short k loop that took as long as the FMAs (docs/kernels.md).
template <class V, bool Acc, int Affine, bool Res>
struct ck_gemm_fixed_epilogue {
  using reg = typename V::reg;
  const ck_gemm_params* p;
  const float *residual, *output;
  reg lo, hi;
  explicit ck_gemm_fixed_epilogue(const ck_gemm_params* p_)
      : p(p_), residual(p_->residual), output(p_->output), lo(V::set1(p_->act == CK_ACT_LINEAR ? -INFINITY : 0.0f)),
        hi(V::set1(p_->act == CK_ACT_RELU6 ? 6.0f : INFINITY)) {}
  // The scale and the bias for columns [col, col + n) (zero where the epilogue has none).
  CK_INLINE reg scale(size_t col, size_t n) const { return Affine == 2 ? ck_load_n<V>(p->scale + col, n) : V::zero(); }
  CK_INLINE reg bias(size_t col, size_t n) const { return Affine >= 1 ? ck_load_n<V>(p->bias + col, n) : V::zero(); }
  // v into the first n floats at c, with that column's scale and bias.
  CK_INLINE void store(float* c, reg v, reg scale, reg bias, size_t n) const {
    if (Acc) v = V::add(v, ck_load_n<V>(c, n));
    if (Affine == 2) v = V::fmadd(v, scale, bias);
    if (Affine == 1) v = V::add(v, bias);
    if (Res) v = V::add(v, ck_load_n<V>(residual + (c - output), n));
    ck_store_n<V>(c, V::min(hi, V::max(lo, v)), n);
  }
};

// Calls fn(ck_gemm_fixed_epilogue<V, ...>(p)) for p's choices and returns true; false, without calling it, for
// leaky relu, a scale without a bias, and (unless Accumulating) accumulation: the caller then stores through
// ck_gemm_store. Kernels that never accumulate leave out the half of the variants that would.
template <class V, bool Accumulating = true, class Fn>
CK_INLINE bool ck_gemm_with_fixed_epilogue(const ck_gemm_params* p, Fn&& fn) {
  if (p->act == CK_ACT_LEAKY_RELU || (p->scale != nullptr && p->bias == nullptr)) return false;
  if (!Accumulating && p->accumulate) return false;
  const auto with = [&](auto acc, auto res) CK_INLINE_LAMBDA {
    constexpr bool A = decltype(acc)::value, R = decltype(res)::value;
    if (p->scale != nullptr)
      fn(ck_gemm_fixed_epilogue<V, A, 2, R>(p));
    else if (p->bias != nullptr)
      fn(ck_gemm_fixed_epilogue<V, A, 1, R>(p));
    else
      fn(ck_gemm_fixed_epilogue<V, A, 0, R>(p));
  };
  using T = std::true_type;
  using F = std::false_type;
  if constexpr (Accumulating)
    if (p->accumulate) return p->residual != nullptr ? with(T{}, T{}) : with(T{}, F{}), true;
  p->residual != nullptr ? with(F{}, T{}) : with(F{}, F{});
  return true;
}

// The accumulator tile both microkernels share: zeroed, fed k-steps from packed or indirect A, stored. It
// computes the first R rows of an MR-row panel (R = MR but for the short tiles at the bottom edge, below).
template <class V, size_t MR, size_t NR, size_t R = MR>
struct ck_gemm_tile {
  using reg = typename V::reg;
  static constexpr size_t W = V::width;
  static constexpr size_t NV = NR / W;
  static_assert(NR % W == 0, "NR must be a multiple of the vector width");
  // The loops over rows are unrolled 32 deep; a taller tile would leave acc[][] in memory, not in registers.
  static_assert(MR <= 32, "MR must not exceed the row loops' unroll count");
  static_assert(R <= MR, "a tile computes at most the panel's rows");
  reg acc[R][NV];

  // The C tile's rows (and the residual's) are ldc apart and usually out of cache: start fetching them now, so
  // the k loop hides the misses instead of the stores at the end waiting for them.
  CK_INLINE void begin(size_t mr, size_t nr, const float* c, size_t ldc, const ck_gemm_params* p) {
    const float* res = p->residual != nullptr ? p->residual + (c - p->output) : nullptr;
#pragma GCC unroll 32
    for (size_t i = 0; i < mr; ++i) {
      __builtin_prefetch(c + i * ldc, 1);
      __builtin_prefetch(c + i * ldc + nr - 1, 1);
      if (res != nullptr) {
        __builtin_prefetch(res + i * ldc);
        __builtin_prefetch(res + i * ldc + nr - 1);
      }
    }
#pragma GCC unroll 32
    for (size_t i = 0; i < R; ++i)
#pragma GCC unroll 8
      for (size_t j = 0; j < NV; ++j) acc[i][j] = V::zero();
  }

  // acc += A(:, 0:kc) . b, with A(i, k) = a[k * MR + i] (a packed micropanel); returns b advanced by kc rows.
  CK_INLINE const float* madd_packed(const float* CK_RESTRICT a, const float* CK_RESTRICT b, size_t kc) {
    for (size_t k = 0; k < kc; ++k, a += MR, b += NR) step(b, [&](size_t i) { return a[i]; });
    return b;
  }

  // acc += A(:, 0:kc) . B, with A(i, k) = a[k * MR + i] (a packed micropanel) and B(k, j) = b_rows[k][b_off + j].
  CK_INLINE void madd_b_rows(const float* CK_RESTRICT a, const float* const* b_rows, size_t b_off, size_t kc) {
    for (size_t k = 0; k < kc; ++k, a += MR) step(b_rows[k] + b_off, [&](size_t i) { return a[i]; });
  }

  // acc += A(:, 0:kc) . b, with A(i, k) = rows[i][k] (MR row pointers); returns b advanced by kc rows.
  CK_INLINE const float* madd_rows(const float* const* rows, const float* CK_RESTRICT b, size_t kc) {
    const float* r[R];
#pragma GCC unroll 32
    for (size_t i = 0; i < R; ++i) r[i] = rows[i];
    for (size_t k = 0; k < kc; ++k, b += NR) step(b, [&](size_t i) { return r[i][k]; });
    return b;
  }

  // Stores the valid mr x nr part of the tile through the epilogue: rows past mr are skipped, and a row's
  // last vector stores only its valid columns (a first layer's 6 filters make every tile an edge tile).
  CK_INLINE void store(size_t mr, size_t nr, float* CK_RESTRICT c, size_t ldc, const ck_gemm_params* p) {
    // A whole tile of the panel's full height: the epilogue's choices once for all its vectors.
    if (R == MR && mr == R && nr == NR && ck_gemm_with_fixed_epilogue<V>(p, [&](const auto& ep) CK_INLINE_LAMBDA {
          reg scale[NV], bias[NV];
#pragma GCC unroll 8
          for (size_t j = 0; j < NV; ++j) scale[j] = ep.scale(j * W, W), bias[j] = ep.bias(j * W, W);
#pragma GCC unroll 32
          for (size_t i = 0; i < R; ++i)
#pragma GCC unroll 8
            for (size_t j = 0; j < NV; ++j) ep.store(c + i * ldc + j * W, acc[i][j], scale[j], bias[j], W);
        }))
      return;
#pragma GCC unroll 32
    for (size_t i = 0; i < R; ++i) {
      if (i >= mr) break;
#pragma GCC unroll 8
      for (size_t j = 0; j < NV; ++j) {
        if (j * W >= nr) break;
        ck_gemm_store<V>(c + i * ldc + j * W, acc[i][j], j * W, p, nr - j * W < W ? nr - j * W : W);
      }
    }
  }

 private:
  template <class A>
  CK_INLINE void step(const float* b, A&& a) {
    reg bv[NV];
#pragma GCC unroll 8
    for (size_t j = 0; j < NV; ++j) bv[j] = V::load(b + j * W);
#pragma GCC unroll 32
    for (size_t i = 0; i < R; ++i) {
      const reg av = V::set1(a(i));
#pragma GCC unroll 8
      for (size_t j = 0; j < NV; ++j) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
    }
  }
};

template <class V, size_t MR, size_t NR, size_t R>
inline void ck_f32_gemm_tile(size_t mr, size_t nr, size_t kc, const float* CK_RESTRICT a, const float* CK_RESTRICT b,
                             float* CK_RESTRICT c, size_t ldc, const ck_gemm_params* p) {
  ck_gemm_tile<V, MR, NR, R> t;
  t.begin(mr, nr, c, ldc, p);
  t.madd_packed(a, b, kc);
  t.store(mr, nr, c, ldc, p);
}

template <class V, size_t MR, size_t NR, size_t R>
inline void ck_f32_igemm_tile(size_t mr, size_t nr, size_t kc, size_t ks, const float* const* a,
                              const float* CK_RESTRICT b, float* CK_RESTRICT c, size_t ldc, const ck_gemm_params* p) {
  ck_gemm_tile<V, MR, NR, R> t;
  t.begin(mr, nr, c, ldc, p);
  for (size_t s = 0; s < ks; ++s, a += MR) b = t.madd_rows(a, b, kc);
  t.store(mr, nr, c, ldc, p);
}

template <class V, size_t MR, size_t NR, size_t R>
inline void ck_f32_gemm_brows_tile(size_t mr, size_t nr, size_t kc, const float* CK_RESTRICT a,
                                   const float* const* b_rows, size_t b_off, float* CK_RESTRICT c, size_t ldc,
                                   const ck_gemm_params* p) {
  ck_gemm_tile<V, MR, NR, R> t;
  t.begin(mr, nr, c, ldc, p);
  t.madd_b_rows(a, b_rows, b_off, kc);
  t.store(mr, nr, c, ldc, p);
}

// A tile at the bottom edge with few rows (mr <= 4 or <= 8 of a taller MR) runs a short tile that computes
// only those: a dense layer's batch of 64 is 4 x 14 + 8 rows, and computing the last 8 as 14 would waste 9%
// of the product.
template <class V, size_t MR, size_t NR>
inline void ck_f32_gemm_ukernel(size_t mr, size_t nr, size_t kc, const float* CK_RESTRICT a,
                                const float* CK_RESTRICT b, float* CK_RESTRICT c, size_t ldc,
                                const ck_gemm_params* p) {
  if (MR > 4 && mr <= 4) return ck_f32_gemm_tile<V, MR, NR, (MR > 4 ? 4 : MR)>(mr, nr, kc, a, b, c, ldc, p);
  if (MR > 8 && mr <= 8) return ck_f32_gemm_tile<V, MR, NR, (MR > 8 ? 8 : MR)>(mr, nr, kc, a, b, c, ldc, p);
  ck_f32_gemm_tile<V, MR, NR, MR>(mr, nr, kc, a, b, c, ldc, p);
}

template <class V, size_t MR, size_t NR>
inline void ck_f32_igemm_ukernel(size_t mr, size_t nr, size_t kc, size_t ks, const float* const* a,
                                 const float* CK_RESTRICT b, float* CK_RESTRICT c, size_t ldc,
                                 const ck_gemm_params* p) {
  if (MR > 4 && mr <= 4) return ck_f32_igemm_tile<V, MR, NR, (MR > 4 ? 4 : MR)>(mr, nr, kc, ks, a, b, c, ldc, p);
  if (MR > 8 && mr <= 8) return ck_f32_igemm_tile<V, MR, NR, (MR > 8 ? 8 : MR)>(mr, nr, kc, ks, a, b, c, ldc, p);
  ck_f32_igemm_tile<V, MR, NR, MR>(mr, nr, kc, ks, a, b, c, ldc, p);
}

template <class V, size_t MR, size_t NR>
inline void ck_f32_gemm_brows_ukernel(size_t mr, size_t nr, size_t kc, const float* CK_RESTRICT a,
                                      const float* const* b_rows, size_t b_off, float* CK_RESTRICT c, size_t ldc,
                                      const ck_gemm_params* p) {
  if (MR > 4 && mr <= 4)
    return ck_f32_gemm_brows_tile<V, MR, NR, (MR > 4 ? 4 : MR)>(mr, nr, kc, a, b_rows, b_off, c, ldc, p);
  if (MR > 8 && mr <= 8)
    return ck_f32_gemm_brows_tile<V, MR, NR, (MR > 8 ? 8 : MR)>(mr, nr, kc, a, b_rows, b_off, c, ldc, p);
  ck_f32_gemm_brows_tile<V, MR, NR, MR>(mr, nr, kc, a, b_rows, b_off, c, ldc, p);
}

}  // namespace

// Defines the packed, indirect-A and indirect-B microkernels <gemm>, <igemm>, <bgemm> of one MR x NR tile for
// vocabulary V.
#define CK_DEFINE_GEMM_UKERNELS(gemm, igemm, bgemm, V, MR, NR)                                                        \
  void gemm(size_t mr, size_t nr, size_t kc, const float* a, const float* b, float* c, size_t ldc,                    \
            const ck_gemm_params* params) {                                                                           \
    ck_f32_gemm_ukernel<V, MR, NR>(mr, nr, kc, a, b, c, ldc, params);                                                 \
  }                                                                                                                   \
  void igemm(size_t mr, size_t nr, size_t kc, size_t ks, const float* const* a, const float* b, float* c, size_t ldc, \
             const ck_gemm_params* params) {                                                                          \
    ck_f32_igemm_ukernel<V, MR, NR>(mr, nr, kc, ks, a, b, c, ldc, params);                                            \
  }                                                                                                                   \
  void bgemm(size_t mr, size_t nr, size_t kc, const float* a, const float* const* b_rows, size_t b_off, float* c,     \
             size_t ldc, const ck_gemm_params* params) {                                                              \
    ck_f32_gemm_brows_ukernel<V, MR, NR>(mr, nr, kc, a, b_rows, b_off, c, ldc, params);                               \
  }
