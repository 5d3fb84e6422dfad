#include "kernels/f32-gemv/f32-gemv-impl.h"
#include "simd/avx2.h"

CK_DEFINE_GEMV_UKERNEL(ck_f32_gemv_ukernel__avx2_fma, ck_simd_avx2)
