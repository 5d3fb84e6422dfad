#include "kernels/f32-conv1c/f32-conv1c-impl.h"
#include "simd/avx2.h"

// By channels: 6 pixels x 2 vectors = 12 ymm accumulators + 2 weight vectors + a broadcast.
CK_DEFINE_CONV1C_UKERNEL(ck_f32_conv1c_ukernel__avx2_fma, ck_simd_avx2, 6, 2)
