#include "kernels/f32-dwconv/f32-dwconv-impl.h"
#include "simd/avx512.h"

CK_DEFINE_DWCONV_UKERNELS(ck_f32_dwconv_ukernel__avx512f, ck_f32_dwconv_run9_ukernel__avx512f, ck_f32_dwconv_grad_ukernel__avx512f, ck_simd_avx512, 4)
