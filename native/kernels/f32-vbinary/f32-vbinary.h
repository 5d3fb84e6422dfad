// Elementwise binary microkernels over n floats; no alignment required, outputs may alias inputs.
//   vadd:  y = a + b
//   vmax:  y = b > a ? b : a   (a is the running maximum: the earlier of equal values is kept)
//   vmacc: y = y + a * b       (y is read: a multiply-accumulate)
//   vmulc: y = a * c           (c a scalar)
#pragma once

#include <cstddef>

typedef void (*ck_f32_vbinary_fn)(size_t n, const float* a, const float* b, float* y);
typedef void (*ck_f32_vmulc_fn)(size_t n, const float* a, float c, float* y);

// CK_VBINARY_UKERNELS(isa, suffix): one set of ck_f32_{vadd,vmax,vmacc,vmulc}_ukernel__<suffix> per ISA.
#define CK_VBINARY_UKERNELS(isa, sfx)                                                  \
  void ck_f32_vadd_ukernel__##sfx(size_t n, const float* a, const float* b, float* y); \
  void ck_f32_vmax_ukernel__##sfx(size_t n, const float* a, const float* b, float* y); \
  void ck_f32_vmacc_ukernel__##sfx(size_t n, const float* a, const float* b, float* y); \
  void ck_f32_vmulc_ukernel__##sfx(size_t n, const float* a, float c, float* y);
#include "kernels/f32-vbinary/f32-vbinary.inc"
#undef CK_VBINARY_UKERNELS
