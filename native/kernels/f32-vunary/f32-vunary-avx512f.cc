#include "kernels/f32-vunary/f32-vunary-impl.h"
#include "simd/avx512.h"

CK_DEFINE_VUNARY_UKERNELS(avx512f, ck_simd_avx512)
