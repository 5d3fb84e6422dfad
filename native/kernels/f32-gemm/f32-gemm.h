// The f32 GEMM microkernel contract (see docs/kernels.md for the packing diagram).
//
//   c[0:mr, 0:nr] (row stride ldc)  (=|+=)  a_packed (kc x MR) . b_packed (kc x NR), then the epilogue
//
// a_packed: one MR-row micropanel, k-major: a[k*MR + i] = A(i, k). Rows >= mr are zero.
// b_packed: one NR-column micropanel, k-major: b[k*NR + j] = B(k, j). Columns >= nr are zero.
// Both panels are read in full (MR and NR values per k), so packing pads them; no alignment is required.
// c is read (if accumulate) and written only within mr x nr. 1 <= mr <= MR, 1 <= nr <= NR, kc >= 0.
// Microkernels do not allocate, spawn threads or throw.
//
// The indirect variant (igemm) reads A through row pointers instead of a packed panel, so convolution needs
// no im2col copy and a plain row-major A no packing:
//
//   c[0:mr, 0:nr]  (=|+=)  sum over s < ks of  A_s (MR x kc) . b_packed rows [s*kc, (s+1)*kc), then the epilogue
//
// a: ks groups of MR pointers, a[s*MR + i] -> the kc floats of A_s row i (contiguous). Every pointer is
// readable (padding and rows >= mr point at zeros); b_packed holds ks*kc rows of NR columns.
//
// The indirect-B variant (bgemm) reads B through row pointers instead, for a B whose rows are scattered
// (convolution backward-filter reads x's pixels in place):
//
//   c[0:mr, 0:nr]  (=|+=)  a_packed (kc x MR) . B, B(k, j) = b_rows[k][b_off + j], then the epilogue
//
// Every b_rows[k] + b_off is readable for NR floats (padding points at zeros).
#pragma once

#include <cstddef>
#include <cstdint>

#include "convkit/isa.h"

// Applied as each tile is stored: c = act((acc [+ c when accumulating]) * scale + bias + residual). scale and
// bias (nr values starting at this tile's first column) may be null; the residual (null, or laid out like the
// output) holds the value for the output element at c at residual[c - output], `output` being the output's
// first element; act is CK_ACT_LINEAR, CK_ACT_RELU, CK_ACT_LEAKY_RELU or CK_ACT_RELU6 (the runtime applies the other
// activations to the stored tile).
struct ck_gemm_params {
  const float* bias;
  int act;
  float alpha;
  bool accumulate;
  const float* scale = nullptr;
  const float* residual = nullptr;
  const float* output = nullptr;
};

typedef void (*ck_f32_gemm_ukernel_fn)(size_t mr, size_t nr, size_t kc, const float* a_packed,
                                        const float* b_packed, float* c, size_t ldc, const ck_gemm_params* params);
typedef void (*ck_f32_bgemm_ukernel_fn)(size_t mr, size_t nr, size_t kc, const float* a_packed,
                                        const float* const* b_rows, size_t b_off, float* c, size_t ldc,
                                        const ck_gemm_params* params);
typedef void (*ck_f32_igemm_ukernel_fn)(size_t mr, size_t nr, size_t kc, size_t ks, const float* const* a,
                                         const float* b_packed, float* c, size_t ldc, const ck_gemm_params* params);

// CK_GEMM_UKERNEL(isa, fn, ifn, bfn, mr, nr, kc, mc, nc): the packed, indirect-A and indirect-B variants and the cache
// blocking they are tuned with; CK_GEMM_NARROW_UKERNEL likewise for products of at most nr columns.
#define CK_GEMM_UKERNEL(isa, fn, ifn, bfn, mr, nr, kc, mc, nc)                                                    \
  void fn(size_t mr_, size_t nr_, size_t kc_, const float* a_packed, const float* b_packed, float* c, size_t ldc, \
          const ck_gemm_params* params);                                                                          \
  void ifn(size_t mr_, size_t nr_, size_t kc_, size_t ks, const float* const* a, const float* b_packed, float* c, \
           size_t ldc, const ck_gemm_params* params);                                                             \
  void bfn(size_t mr_, size_t nr_, size_t kc_, const float* a_packed, const float* const* b_rows, size_t b_off,   \
           float* c, size_t ldc, const ck_gemm_params* params);
#define CK_GEMM_NARROW_UKERNEL CK_GEMM_UKERNEL
#include "kernels/f32-gemm/f32-gemm.inc"
#undef CK_GEMM_NARROW_UKERNEL
#undef CK_GEMM_UKERNEL
