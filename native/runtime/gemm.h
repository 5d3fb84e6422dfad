// BLIS-style GEMM driver over a dispatch table's microkernel: cache blocking (NC, KC, MC), packing of A into
// MR-row and of B into NR-column micropanels (transposes are absorbed by the packing), the fused epilogue on
// the last KC block. See docs/kernels.md.
#pragma once

#include <cstddef>

#include "convkit/ops.h"
#include "runtime/dispatch.h"

// An A read in place through row pointers (the igemm microkernel): K = taps * tap_len, and row i's values for
// tap s are tap_len contiguous floats. Convolution points into x itself; a row-major matrix is one tap.
struct ck_gemm_a_rows {
  size_t taps, tap_len;
  // dst[(s - s0) * MR + r] = row i0 + r's values for tap s, for r < mr and s in [s0, s1); nullptr where the row
  // has none (padding, read as zeros).
  virtual void rows(const float** dst, size_t i0, size_t mr, size_t MR, size_t s0, size_t s1) const = 0;

 protected:
  ck_gemm_a_rows(size_t taps_, size_t tap_len_) : taps(taps_), tap_len(tap_len_) {}
  ~ck_gemm_a_rows() = default;
};

// a (M,K) [lda] or, if trans_a, (K,M); b (K,N) [ldb] or, if trans_b, (N,K) -> c (M,N) [ldc]
struct ck_gemm_args {
  float* c;
  size_t ldc;
  const float* a;
  size_t lda;
  bool trans_a;
  const float* b;
  size_t ldb;
  bool trans_b;
  size_t m, n, k;
  bool accumulate;         // c += a.b (then ep must be null) instead of c = a.b
  const ck_epilogue* ep;  // scale and bias indexed by the column of c, residual laid out like c; may be null
  const ck_gemm_a_rows* a_rows = nullptr;  // when set, A comes from it and a/lda/trans_a are unused
  // B (not transposed) already in whole-k micropanels of b_panels_nr columns (ck_gemm_pack_b_panels), or null.
  // Used where the product's tile is that wide; b stays the source for products that read B in place.
  const float* b_panels = nullptr;
  size_t b_panels_nr = 0;
};

// The most column panels over which a plain row-major A is read in place rather than packed. Packing costs about
// as much per A value as a few NR-wide tiles compute with it, so it pays off only over many panels: more than 8,
// or than 16 where the AVX-512 FMA is full width and the tiles compute twice as fast (ck_avx512_fma_width,
// probed once; docs/kernels.md has the measurements).
size_t ck_gemm_in_place_panels(const ck_dispatch& d);

// The micropanel width of the tile a product of n columns packs its B for (the narrow tile up to its width).
size_t ck_gemm_b_panels_nr(const ck_dispatch& d, size_t n);
// b (k,n) [ldb] -> ceil(n/nr) micropanels of k rows of nr (k-major, zero past n): any k block of a panel is a
// micropanel the microkernel reads in place.
void ck_gemm_pack_b_panels(float* dst, const float* b, size_t ldb, size_t k, size_t n, size_t nr);

// Whether the microkernels apply act at their store (the others run over the stored tile afterwards).
bool ck_act_in_ukernel(ck_act act);
// The microkernel parameters of an epilogue (null: none) for an output whose first element is at `output`
// (the residual's first value belongs to it): scale and bias from column col0 on, the activation when the
// microkernel applies it.
ck_gemm_params ck_epilogue_params(const ck_epilogue* ep, const float* output, size_t col0);
// The epilogue over n products stored at c (columns col0.. of its vectors), their residual values at r (null:
// none), activation included: for outputs no microkernel stores.
void ck_epilogue_apply(const ck_dispatch& d, const ck_epilogue& ep, size_t n, float* c, size_t col0, const float* r);

// Rows [i0, i0+mc) x k [p0, p0+kc) of g's A (a, lda, trans_a) -> ceil(mc/MR) micropanels, each kc x MR
// (k-major), zero-padded.
void ck_gemm_pack_a(const ck_dispatch& d, float* dst, const ck_gemm_args& g, size_t i0, size_t mc, size_t p0, size_t kc,
                    size_t MR);

// Single-threaded: computes rows [m0,m1) x columns [n0,n1) of c. Each element's sum runs over k in blocks of
// at most KC (split evenly, and at tap boundaries for a_rows) in order, so the result does not depend on how callers split rows and columns.
void ck_gemm_block(const ck_dispatch& d, const ck_gemm_args& g, size_t m0, size_t m1, size_t n0, size_t n1);
// Splits c into disjoint blocks over the thread pool.
void ck_gemm_parallel(const ck_dispatch& d, const ck_gemm_args& g);

// d for a plain matrix product (ck_gemm) of depth k >= 1024 and more than MC rows: k blocks up to 1024 long
// instead of KC, so C passes through the caches once per 1024 of k instead of once per KC, and MC cut so the
// packed A block keeps the registry's footprint (MC x KC floats). Convolutions keep the registry's blocking
// (their backward-filter product lost 4-7% with it). Paired A/B on Zen 4, 2048^3: AVX-512 1.02-1.06x on 1
// core, 1.05-1.09x on 2; AVX2 even.
ck_dispatch ck_gemm_long_k(const ck_dispatch& d, size_t m, size_t k);
