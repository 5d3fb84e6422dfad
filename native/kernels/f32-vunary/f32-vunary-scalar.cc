#include "kernels/f32-vunary/f32-vunary-impl.h"
#include "simd/scalar.h"

CK_DEFINE_VUNARY_UKERNELS(scalar, ck_simd_scalar)
