#include "kernels/f32-dwconv/f32-dwconv-impl.h"
#include "simd/avx2.h"

CK_DEFINE_DWCONV_UKERNELS(ck_f32_dwconv_ukernel__avx2_fma, ck_f32_dwconv_run9_ukernel__avx2_fma, ck_f32_dwconv_grad_ukernel__avx2_fma, ck_simd_avx2, 2)
