#include "kernels/f32-conv1c/f32-conv1c-impl.h"

// Always by columns: one value per register leaves nothing to block.
CK_DEFINE_CONV1C_UKERNEL(ck_f32_conv1c_ukernel__scalar, ck_simd_scalar, 0, 1, 1)
