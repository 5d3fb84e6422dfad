#include "kernels/f32-maxpool/f32-maxpool-impl.h"

CK_DEFINE_MAXPOOL_UKERNELS(ck_f32_maxpool_fwd_ukernel__scalar, ck_f32_maxpool_bwd_ukernel__scalar, ck_simd_scalar)
