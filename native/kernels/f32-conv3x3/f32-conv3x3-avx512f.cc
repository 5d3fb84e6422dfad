#include "kernels/f32-conv3x3/f32-conv3x3-impl.h"
#include "simd/avx512.h"

// 16 pixels x 1 vector (or 8 x 2) = 16 zmm accumulators + 3 (or 6) weight vectors + a broadcast.
CK_DEFINE_CONV3X3_UKERNEL(ck_f32_conv3x3_ukernel__avx512f, ck_simd_avx512, 16)
