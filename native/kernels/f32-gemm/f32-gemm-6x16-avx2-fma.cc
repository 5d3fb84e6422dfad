#include "kernels/f32-gemm/f32-gemm-ukernel.h"
#include "simd/avx2.h"

// 12 ymm accumulators + 2 for the B row + 1 broadcast of the 16 registers.
CK_DEFINE_GEMM_UKERNELS(ck_f32_gemm_ukernel_6x16__avx2_fma, ck_f32_igemm_ukernel_6x16__avx2_fma,
                        ck_f32_bgemm_ukernel_6x16__avx2_fma, ck_simd_avx2, 6, 16)
