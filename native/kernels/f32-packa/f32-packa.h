// The f32 A-packing microkernel of the GEMM: one micropanel of a row-major A (or of a transposed B, whose
// columns are rows in memory), transposed so that the tile reads its MR rows' values for one k side by side:
//
//   dst[k*MR + r] = rows[r][k]  for r < mr, k < kc;   dst[k*MR + r] = 0  for mr <= r < MR
//
// rows holds mr pointers (1 <= mr <= MR <= 32), each to kc readable floats; no alignment required. A copy, no
// arithmetic: every ISA's kernel writes the same bits.
#pragma once

#include <cstddef>

#include "convkit/isa.h"

typedef void (*ck_f32_packa_fn)(size_t mr, size_t MR, size_t kc, const float* const* rows, float* dst);

// CK_PACKA_UKERNEL(isa, fn)
#define CK_PACKA_UKERNEL(isa, fn) void fn(size_t mr, size_t MR, size_t kc, const float* const* rows, float* dst);
#include "kernels/f32-packa/f32-packa.inc"
#undef CK_PACKA_UKERNEL
