#include "kernels/f32-vbinary/f32-vbinary-impl.h"
#include "simd/avx2.h"

CK_DEFINE_VBINARY_UKERNELS(avx2, ck_simd_avx2)
