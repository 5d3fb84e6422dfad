#include "kernels/f32-fmaprobe/f32-fmaprobe-impl.h"
#include "simd/avx512.h"

float ck_f32_fmaprobe_ukernel_24x16__avx512f(size_t iters) { return ck_f32_fmaprobe<ck_simd_avx512, 24>(iters); }
