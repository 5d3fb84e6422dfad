// The dispatch table: one set of microkernel pointers per ISA, filled from the kernel registries (*.inc).
// Operators read the current table once per call; ck_isa_select() switches it.
#pragma once

#include "convkit/isa.h"
#include "convkit/ops.h"
#include "kernels/f32-channel/f32-channel.h"
#include "kernels/f32-conv1c/f32-conv1c.h"
#include "kernels/f32-dconv/f32-dconv.h"
#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-fmaprobe/f32-fmaprobe.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-gemv/f32-gemv.h"
#include "kernels/f32-maxpool/f32-maxpool.h"
#include "kernels/f32-optimizer/f32-optimizer.h"
#include "kernels/f32-packa/f32-packa.h"
#include "kernels/f32-softmax/f32-softmax.h"
#include "kernels/f32-vbinary/f32-vbinary.h"
#include "kernels/f32-vfinite/f32-vfinite.h"
#include "kernels/f32-vunary/f32-vunary.h"
#include "kernels/f32-winograd/f32-winograd.h"

struct ck_gemm_config {
  ck_f32_gemm_ukernel_fn ukernel;
  ck_f32_igemm_ukernel_fn igemm;
  ck_f32_bgemm_ukernel_fn bgemm;
  size_t mr, nr, kc, mc, nc;
};

struct ck_winograd_kernels {
  ck_f32_winograd_input_fn input;
  ck_f32_winograd_output_fn output;
  ck_f32_winograd_gradient_fn gradient;
};

struct ck_dispatch {
  ck_isa isa;
  ck_gemm_config gemm;
  ck_gemm_config gemm_narrow;  // for products of at most gemm_narrow.nr columns (gemm where none is narrower)
  ck_f32_packa_fn packa;  // packs the micropanels of a row-major A (and of a transposed B) for either tile
  ck_f32_gemv_fn gemv;  // for products of fewer than gemm.mr rows
  ck_f32_conv1c_fn conv1c;  // direct convolution of a one-channel input, stride 1
  size_t conv1c_width;      // its output columns per vector
  ck_f32_conv1c_grad_fn conv1c_grad;  // its filter gradient with few filters (null where a vector holds one pixel)
  ck_f32_dconv_fn dconv;  // direct convolution at stride 1, kernels 3 or 5 wide (null: the GEMM path)
  ck_f32_dconv_grad_fn dconv_grad;  // its filter gradient (null: the GEMM path)
  ck_f32_dwconv_fn dwconv;  // depthwise convolution, one output pixel
  ck_f32_dwconv_run_fn dwconv_run9;  // a run of output pixels with all 9 taps inside the input
  ck_f32_dwconv_grad_fn dwconv_grad;  // its filter gradient, one run of output pixels
  ck_winograd_kernels winograd_f23;  // 3x3 convolution by Winograd F(2x2, 3x3)
  ck_winograd_kernels winograd_f43;  // 3x3 by F(4x4, 3x3)
  ck_winograd_kernels winograd_f25;  // 5x5 by F(2x2, 5x5)
  ck_f32_winograd_product_fn winograd_product;  // their products for narrow layers (null: the GEMM tiles)
  ck_f32_vbinary_fn vadd;
  ck_f32_vbinary_fn vsub;
  ck_f32_vbinary_fn vmaximum;  // NaN-propagating, the merge layers'
  ck_f32_vbinary_fn vminimum;
  ck_f32_vroute_fn vroutemax;  // their gradients
  ck_f32_vroute_fn vroutemin;
  ck_f32_vbinary_fn vmul;
  ck_f32_vbinary_fn vmax;
  ck_f32_vbinary_fn vmacc;  // y += a * b
  ck_f32_vmulc_fn vmulc;
  ck_f32_vargmax_fn vargmax;
  ck_f32_vfinite_fn vfinite;
  ck_f32_maxpool_fwd_fn maxpool_fwd;             // windows that tile the input
  ck_f32_maxpool_bwd_fn maxpool_bwd;
  ck_f32_vunary_fn unary[CK_ACT_COUNT];          // [CK_ACT_LINEAR] is null
  ck_f32_vunary_bwd_fn unary_bwd[CK_ACT_COUNT];  // [CK_ACT_LINEAR] is null
  ck_f32_softmax_fn softmax;
  ck_f32_softmax_bwd_fn softmax_bwd;
  ck_f32_optimizer_fn optimizer;
  ck_f32_channel_sums_fn channel_sums;  // batch normalization
  ck_f32_channel_sqdev_fn channel_sqdev;
  ck_f32_channel_affine_fn channel_affine;
  ck_f32_channel_affine2_fn channel_affine2;
  ck_f32_fmaprobe_fn fma_probe;
  size_t fma_probe_flops;  // per iteration
};

// The transforms of Winograd F(m x m, r x r) in d (const or not): F(2x2, 3x3), F(4x4, 3x3) or F(2x2, 5x5).
template <class Dispatch>
auto& ck_winograd(Dispatch& d, size_t m, size_t r) {
  return r == 5 ? d.winograd_f25 : m == 4 ? d.winograd_f43 : d.winograd_f23;
}

// The table in use (chosen at load from the CPU and CONVKIT_ISA).
const ck_dispatch& ck_kernels();
// The table of one ISA, whether or not the CPU supports it.
const ck_dispatch& ck_kernels_for(ck_isa isa);
