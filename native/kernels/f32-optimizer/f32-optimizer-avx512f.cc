#include "kernels/f32-optimizer/f32-optimizer-impl.h"

CK_DEFINE_OPTIMIZER_UKERNEL(ck_f32_optimizer_ukernel__avx512f)
