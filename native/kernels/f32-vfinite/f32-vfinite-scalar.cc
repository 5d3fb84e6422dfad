#include "kernels/f32-vfinite/f32-vfinite-impl.h"
#include "simd/scalar.h"

CK_DEFINE_VFINITE_UKERNEL(scalar, ck_simd_scalar)
