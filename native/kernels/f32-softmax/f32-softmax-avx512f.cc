#include "kernels/f32-softmax/f32-softmax-impl.h"
#include "simd/avx512.h"

CK_DEFINE_SOFTMAX_UKERNELS(avx512f, ck_simd_avx512)
