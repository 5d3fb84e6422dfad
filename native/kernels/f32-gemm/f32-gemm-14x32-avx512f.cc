#include "kernels/f32-gemm/f32-gemm-ukernel.h"
#include "simd/avx512.h"

// 28 zmm accumulators + 2 for the B row + 1 broadcast of the 32 registers.
CK_DEFINE_GEMM_UKERNELS(ck_f32_gemm_ukernel_14x32__avx512f, ck_f32_igemm_ukernel_14x32__avx512f,
                        ck_f32_bgemm_ukernel_14x32__avx512f, ck_simd_avx512, 14, 32)
