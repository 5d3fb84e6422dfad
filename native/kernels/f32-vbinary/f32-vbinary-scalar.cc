#include "kernels/f32-vbinary/f32-vbinary-impl.h"

CK_DEFINE_VBINARY_UKERNELS(scalar, ck_simd_scalar)
