// Elementwise binary microkernels over n floats; no alignment required, outputs may alias inputs.
//   vadd:  y = a + b
//   vsub:  y = a - b
//   vmul:  y = a * b
//   vmax:  y = b > a ? b : a   (a is the running maximum: the earlier of equal values is kept)
//   vmaximum, vminimum: max(a, b), min(a, b), NaN if either is (the Maximum and Minimum merge layers)
//   vroutemax: da = a < b ? 0 : dy, db = a < b ? dy : 0   (the gradient of vmaximum: a wins ties and NaNs)
//   vroutemin: da = a > b ? 0 : dy, db = a > b ? dy : 0
//   vmacc: y = y + a * b       (y is read: a multiply-accumulate)
//   vmulc: y = a * c           (c a scalar)
//   vargmax: where x > best: best = x, idx = k   (the running first maximum and where it was; k a tag)
#pragma once

#include <cstddef>
#include <cstdint>

#include "convkit/isa.h"

typedef void (*ck_f32_vbinary_fn)(size_t n, const float* a, const float* b, float* y);
typedef void (*ck_f32_vmulc_fn)(size_t n, const float* a, float c, float* y);
typedef void (*ck_f32_vargmax_fn)(size_t n, const float* x, uint32_t k, float* best, uint32_t* idx);
typedef void (*ck_f32_vroute_fn)(size_t n, const float* dy, const float* a, const float* b, float* da, float* db);

// CK_VBINARY_UKERNELS(isa, suffix): one set of ck_f32_{vadd,vsub,vmul,vmax,vmaximum,vminimum,vroutemax,vroutemin,vmacc,
// vmulc,vargmax}_ukernel__<suffix> per ISA.
#define CK_VBINARY_UKERNELS(isa, sfx)                                                   \
  void ck_f32_vadd_ukernel__##sfx(size_t n, const float* a, const float* b, float* y);  \
  void ck_f32_vsub_ukernel__##sfx(size_t n, const float* a, const float* b, float* y);  \
  void ck_f32_vmaximum_ukernel__##sfx(size_t n, const float* a, const float* b, float* y); \
  void ck_f32_vminimum_ukernel__##sfx(size_t n, const float* a, const float* b, float* y); \
  void ck_f32_vroutemax_ukernel__##sfx(size_t n, const float* dy, const float* a, const float* b, float* da, float* db); \
  void ck_f32_vroutemin_ukernel__##sfx(size_t n, const float* dy, const float* a, const float* b, float* da, float* db); \
  void ck_f32_vmul_ukernel__##sfx(size_t n, const float* a, const float* b, float* y);  \
  void ck_f32_vmax_ukernel__##sfx(size_t n, const float* a, const float* b, float* y);  \
  void ck_f32_vmacc_ukernel__##sfx(size_t n, const float* a, const float* b, float* y); \
  void ck_f32_vmulc_ukernel__##sfx(size_t n, const float* a, float c, float* y);        \
  void ck_f32_vargmax_ukernel__##sfx(size_t n, const float* x, uint32_t k, float* best, uint32_t* idx);
#include "kernels/f32-vbinary/f32-vbinary.inc"
#undef CK_VBINARY_UKERNELS
