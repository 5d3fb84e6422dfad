#include "kernels/f32-gemm/f32-gemm-ukernel.h"
#include "simd/avx512.h"

// 8 zmm accumulators + the B row + a broadcast: a narrow tile for products of at most 16 columns.
CK_DEFINE_GEMM_UKERNELS(ck_f32_gemm_ukernel_8x16__avx512f, ck_f32_igemm_ukernel_8x16__avx512f,
                        ck_f32_bgemm_ukernel_8x16__avx512f, ck_simd_avx512, 8, 16)
