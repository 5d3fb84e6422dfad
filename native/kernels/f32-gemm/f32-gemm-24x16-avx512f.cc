#include "kernels/f32-gemm/f32-gemm-ukernel.h"
#include "simd/avx512.h"

// 24 zmm accumulators + the B row + a broadcast: a narrow tile for products of at most 16 columns.
void ck_f32_gemm_ukernel_24x16__avx512f(size_t mr, size_t nr, size_t kc, const float* a, const float* b, float* c,
                                        size_t ldc, const ck_gemm_params* params) {
  ck_f32_gemm_ukernel<ck_simd_avx512, 24, 16>(mr, nr, kc, a, b, c, ldc, params);
}

void ck_f32_igemm_ukernel_24x16__avx512f(size_t mr, size_t nr, size_t kc, size_t ks, const float* const* a,
                                         const float* b, float* c, size_t ldc, const ck_gemm_params* params) {
  ck_f32_igemm_ukernel<ck_simd_avx512, 24, 16>(mr, nr, kc, ks, a, b, c, ldc, params);
}
