// The MR x NR register-blocked GEMM microkernel, written once against a SIMD vocabulary V (simd/*.h) and
// instantiated per ISA by the f32-gemm-<MR>x<NR>-<isa>.cc files. Contract: f32-gemm.h.
#pragma once

#include "convkit/ops.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "simd/scalar.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

template <class S>
inline typename S::reg ck_gemm_store_value(typename S::reg v, const float* c, const float* bias,
                                           const ck_gemm_params* p) {
  if (p->accumulate) v = S::add(v, S::load(c));
  if (bias != nullptr) v = S::add(v, S::load(bias));
  if (p->act == CK_ACT_RELU) v = S::max(v, S::zero());
  if (p->act == CK_ACT_LEAKY_RELU) v = S::select_pos(v, v, S::mul(v, S::set1(p->alpha)));
  return v;
}

template <class V, size_t MR, size_t NR>
inline void ck_f32_gemm_ukernel(size_t mr, size_t nr, size_t kc, const float* CK_RESTRICT a,
                                const float* CK_RESTRICT b, float* CK_RESTRICT c, size_t ldc,
                                const ck_gemm_params* p) {
  using reg = typename V::reg;
  constexpr size_t W = V::width;
  constexpr size_t NV = NR / W;
  static_assert(NR % W == 0, "NR must be a multiple of the vector width");

  reg acc[MR][NV];
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (size_t j = 0; j < NV; ++j) acc[i][j] = V::zero();

  for (size_t k = 0; k < kc; ++k) {
    reg bv[NV];
#pragma GCC unroll 8
    for (size_t j = 0; j < NV; ++j) bv[j] = V::load(b + j * W);
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i) {
      const reg av = V::set1(a[i]);
#pragma GCC unroll 8
      for (size_t j = 0; j < NV; ++j) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
    }
    a += MR;
    b += NR;
  }

  if (mr == MR && nr == NR) {
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (size_t j = 0; j < NV; ++j) {
        float* cp = c + i * ldc + j * W;
        V::store(cp, ck_gemm_store_value<V>(acc[i][j], cp, p->bias ? p->bias + j * W : nullptr, p));
      }
    return;
  }
  // Edge tile: spill the accumulators, then store only the valid mr x nr part.
  float tile[MR * NR];
  for (size_t i = 0; i < MR; ++i)
    for (size_t j = 0; j < NV; ++j) V::store(tile + i * NR + j * W, acc[i][j]);
  for (size_t i = 0; i < mr; ++i)
    for (size_t j = 0; j < nr; ++j) {
      float* cp = c + i * ldc + j;
      *cp = ck_gemm_store_value<ck_simd_scalar>(tile[i * NR + j], cp, p->bias ? p->bias + j : nullptr, p);
    }
}

}  // namespace
