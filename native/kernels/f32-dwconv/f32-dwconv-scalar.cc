#include "kernels/f32-dwconv/f32-dwconv-impl.h"

CK_DEFINE_DWCONV_UKERNELS(ck_f32_dwconv_ukernel__scalar, ck_f32_dwconv_run9_ukernel__scalar, ck_f32_dwconv_grad_ukernel__scalar, ck_simd_scalar, 4)
