#include "kernels/f32-dconv/f32-dconv-impl.h"
#include "simd/avx512.h"

// 16 pixels x 1 vector (or 8 x 2) = 16 zmm accumulators + KW (or 2 KW) weight vectors + a broadcast.
CK_DEFINE_DCONV_UKERNEL(ck_f32_dconv_ukernel__avx512f, ck_simd_avx512, 16, 8)
// Its gradient: KW x CB x NV accumulators (24 for a 3-wide kernel, 20 for 5) + KW x NV dy vectors + a broadcast.
CK_DEFINE_DCONV_GRAD_UKERNEL(ck_f32_dconv_grad_ukernel__avx512f, ck_simd_avx512, 8, 4, 4, 2)
