#include "kernels/f32-fmaprobe/f32-fmaprobe-impl.h"
#include "simd/scalar.h"

float ck_f32_fmaprobe_ukernel_8x1__scalar(size_t iters) { return ck_f32_fmaprobe<ck_simd_scalar, 8>(iters); }
