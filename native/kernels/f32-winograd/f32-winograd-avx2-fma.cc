#include "kernels/f32-winograd/f32-winograd-impl.h"
#include "simd/avx2.h"

CK_DEFINE_WINOGRAD_UKERNELS(ck_f32_winograd_f23_input_ukernel__avx2_fma, ck_f32_winograd_f23_output_ukernel__avx2_fma,
                            ck_f32_winograd_f23_gradient_ukernel__avx2_fma, ck_simd_avx2, ck_winograd_f23)
CK_DEFINE_WINOGRAD_UKERNELS(ck_f32_winograd_f25_input_ukernel__avx2_fma, ck_f32_winograd_f25_output_ukernel__avx2_fma,
                            ck_f32_winograd_f25_gradient_ukernel__avx2_fma, ck_simd_avx2, ck_winograd_f25)
