#include "kernels/f32-winograd/f32-winograd-impl.h"
#include "simd/avx2.h"

CK_DEFINE_WINOGRAD_UKERNELS(ck_f32_winograd_input_ukernel__avx2_fma, ck_f32_winograd_output_ukernel__avx2_fma, ck_simd_avx2)
