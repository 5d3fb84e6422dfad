#include "kernels/f32-conv1c/f32-conv1c-impl.h"
#include "simd/avx512.h"

CK_DEFINE_CONV1C_UKERNEL(ck_f32_conv1c_ukernel__avx512f, ck_simd_avx512)
