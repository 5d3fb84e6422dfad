#include "kernels/f32-softmax/f32-softmax-impl.h"

CK_DEFINE_SOFTMAX_UKERNELS(scalar, ck_simd_scalar)
