#include "kernels/f32-gemv/f32-gemv-impl.h"

CK_DEFINE_GEMV_UKERNEL(ck_f32_gemv_ukernel__scalar, ck_simd_scalar)
