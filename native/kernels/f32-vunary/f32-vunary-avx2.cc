#include "kernels/f32-vunary/f32-vunary-impl.h"
#include "simd/avx2.h"

CK_DEFINE_VUNARY_UKERNELS(avx2, ck_simd_avx2)
