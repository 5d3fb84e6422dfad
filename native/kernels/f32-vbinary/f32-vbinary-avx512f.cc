#include "kernels/f32-vbinary/f32-vbinary-impl.h"
#include "simd/avx512.h"

CK_DEFINE_VBINARY_UKERNELS(avx512f, ck_simd_avx512)
