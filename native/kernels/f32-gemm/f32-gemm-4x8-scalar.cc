#include "kernels/f32-gemm/f32-gemm-ukernel.h"

CK_DEFINE_GEMM_UKERNELS(ck_f32_gemm_ukernel_4x8__scalar, ck_f32_igemm_ukernel_4x8__scalar,
                        ck_f32_bgemm_ukernel_4x8__scalar, ck_simd_scalar, 4, 8)
