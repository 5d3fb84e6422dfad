#include "kernels/f32-winograd/f32-winograd-impl.h"
#include "simd/scalar.h"

CK_DEFINE_WINOGRAD_UKERNELS(ck_f32_winograd_f23_input_ukernel__scalar, ck_f32_winograd_f23_output_ukernel__scalar,
                            ck_f32_winograd_f23_gradient_ukernel__scalar, ck_simd_scalar, ck_winograd_f23)
CK_DEFINE_WINOGRAD_UKERNELS(ck_f32_winograd_f25_input_ukernel__scalar, ck_f32_winograd_f25_output_ukernel__scalar,
                            ck_f32_winograd_f25_gradient_ukernel__scalar, ck_simd_scalar, ck_winograd_f25)
