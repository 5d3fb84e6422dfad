#include "kernels/f32-maxpool/f32-maxpool-impl.h"
#include "simd/avx2.h"

CK_DEFINE_MAXPOOL_UKERNELS(ck_f32_maxpool_fwd_ukernel__avx2, ck_f32_maxpool_bwd_ukernel__avx2, ck_simd_avx2)
