#include "kernels/f32-gemv/f32-gemv-impl.h"
#include "simd/avx512.h"

CK_DEFINE_GEMV_UKERNEL(ck_f32_gemv_ukernel__avx512f, ck_simd_avx512)
