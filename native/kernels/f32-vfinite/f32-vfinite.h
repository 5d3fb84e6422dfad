// The finiteness microkernel: whether all of x[0, n) is finite (no NaN, no ±inf); no alignment required.
#pragma once

#include <cstddef>

#include "convkit/isa.h"

typedef bool (*ck_f32_vfinite_fn)(size_t n, const float* x);

// CK_VFINITE_UKERNEL(isa, suffix): ck_f32_vfinite_ukernel__<suffix>.
#define CK_VFINITE_UKERNEL(isa, sfx) bool ck_f32_vfinite_ukernel__##sfx(size_t n, const float* x);
#include "kernels/f32-vfinite/f32-vfinite.inc"
#undef CK_VFINITE_UKERNEL
