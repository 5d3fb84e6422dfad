#include "kernels/f32-conv1c/f32-conv1c-impl.h"
#include "simd/avx2.h"

// By channels: 6 pixels x 2 vectors = 12 ymm accumulators + 2 weight vectors + a broadcast.
CK_DEFINE_CONV1C_UKERNEL(ck_f32_conv1c_ukernel__avx2_fma, ck_simd_avx2, 6, 2, 1)
// Few filters' gradient: 12 taps' accumulators of the 16 registers per pass.
CK_DEFINE_CONV1C_GRAD_UKERNEL(ck_f32_conv1c_grad_ukernel__avx2_fma, ck_simd_avx2, 12)
