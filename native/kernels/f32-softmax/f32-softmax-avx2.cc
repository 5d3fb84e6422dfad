#include "kernels/f32-softmax/f32-softmax-impl.h"
#include "simd/avx2.h"

CK_DEFINE_SOFTMAX_UKERNELS(avx2, ck_simd_avx2)
