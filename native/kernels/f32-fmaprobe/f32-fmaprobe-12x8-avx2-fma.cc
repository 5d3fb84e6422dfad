#include "kernels/f32-fmaprobe/f32-fmaprobe-impl.h"
#include "simd/avx2.h"

float ck_f32_fmaprobe_ukernel_12x8__avx2_fma(size_t iters) { return ck_f32_fmaprobe<ck_simd_avx2, 12>(iters); }
