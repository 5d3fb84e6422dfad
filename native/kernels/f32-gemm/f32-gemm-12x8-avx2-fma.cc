#include "kernels/f32-gemm/f32-gemm-ukernel.h"
#include "simd/avx2.h"

// 12 ymm accumulators + the B row + a broadcast: a narrow tile for products of at most 8 columns.
CK_DEFINE_GEMM_UKERNELS(ck_f32_gemm_ukernel_12x8__avx2_fma, ck_f32_igemm_ukernel_12x8__avx2_fma,
                        ck_f32_bgemm_ukernel_12x8__avx2_fma, ck_simd_avx2, 12, 8)
