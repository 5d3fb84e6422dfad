#include "kernels/f32-conv1c/f32-conv1c-impl.h"
#include "simd/avx512.h"

// By channels: 14 pixels x 2 vectors = 28 zmm accumulators + 2 weight vectors + a broadcast.
CK_DEFINE_CONV1C_UKERNEL(ck_f32_conv1c_ukernel__avx512f, ck_simd_avx512, 14, 2, 2)
// Few filters' gradient: a 5x5 filter's 25 taps in registers while a row's vectors run.
CK_DEFINE_CONV1C_GRAD_UKERNEL(ck_f32_conv1c_grad_ukernel__avx512f, ck_simd_avx512, 25)
