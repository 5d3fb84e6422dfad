#include "kernels/f32-vfinite/f32-vfinite-impl.h"
#include "simd/avx2.h"

CK_DEFINE_VFINITE_UKERNEL(avx2, ck_simd_avx2)
