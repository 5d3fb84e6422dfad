#include "kernels/f32-dconv/f32-dconv-impl.h"
#include "simd/avx2.h"

// The gradient only (f32-dconv.inc), one vector of output channels at a time: KW x CB accumulators (12 for a 3-wide
// kernel, 10 for 5), KW dy vectors and a broadcast take all 16 ymm, and GCC keeps a few of them on the stack.
CK_DEFINE_DCONV_GRAD_UKERNEL(ck_f32_dconv_grad_ukernel__avx2_fma, ck_simd_avx2, 4, 0, 2, 0)
