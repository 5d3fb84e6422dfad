// The f32 GEMV microkernel, for products with fewer rows than the GEMM's MR (batch-1 inference):
//
//   y[0:n] = sum over k of a[k] * b[k*ldb + 0:n]      (a: k values, b: k rows of n, row stride ldb)
//
// B is read once, in place (no packing): at one row packing would triple the memory traffic. Each y[j] is
// one FMA chain over k in order. Overwrites y; no alignment required; reads exactly the n x k block.
#pragma once

#include <cstddef>

#include "convkit/isa.h"

typedef void (*ck_f32_gemv_fn)(size_t k, size_t n, const float* a, const float* b, size_t ldb, float* y);

// CK_GEMV_UKERNEL(isa, fn)
#define CK_GEMV_UKERNEL(isa, fn) void fn(size_t k, size_t n, const float* a, const float* b, size_t ldb, float* y);
#include "kernels/f32-gemv/f32-gemv.inc"
#undef CK_GEMV_UKERNEL
