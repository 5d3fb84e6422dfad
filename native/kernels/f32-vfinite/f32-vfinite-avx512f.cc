#include "kernels/f32-vfinite/f32-vfinite-impl.h"
#include "simd/avx512.h"

CK_DEFINE_VFINITE_UKERNEL(avx512f, ck_simd_avx512)
