#include "runtime/dispatch.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace {

ck_dispatch make_table(ck_isa isa) {
  ck_dispatch d{};
  d.isa = isa;
#define CK_GEMM_UKERNEL(i, fn, ifn, bfn, mr, nr, kc, mc, nc)                                  \
  static_assert(mr <= 32 && nr <= 32, "gemm.cc's packers keep a pointer per row of a panel, 32 at most"); \
  if (i == isa && d.gemm.ukernel == nullptr) d.gemm = {fn, ifn, bfn, mr, nr, kc, mc, nc};
#define CK_GEMM_NARROW_UKERNEL(i, fn, ifn, bfn, mr, nr, kc, mc, nc)                           \
  static_assert(mr <= 32 && nr <= 32, "gemm.cc's packers keep a pointer per row of a panel, 32 at most"); \
  if (i == isa && d.gemm_narrow.ukernel == nullptr) d.gemm_narrow = {fn, ifn, bfn, mr, nr, kc, mc, nc};
#include "kernels/f32-gemm/f32-gemm.inc"
#undef CK_GEMM_NARROW_UKERNEL
#undef CK_GEMM_UKERNEL
  if (d.gemm_narrow.ukernel == nullptr) d.gemm_narrow = d.gemm;
#define CK_CONV1C_UKERNEL(i, fn, width) \
  if (i == isa) d.conv1c = fn, d.conv1c_width = width;
#define CK_CONV1C_GRAD_UKERNEL(i, grad_fn) \
  if (i == isa) d.conv1c_grad = grad_fn;
#include "kernels/f32-conv1c/f32-conv1c.inc"
#undef CK_CONV1C_GRAD_UKERNEL
#undef CK_CONV1C_UKERNEL
#define CK_DCONV_UKERNEL(i, fn) \
  if (i == isa) d.dconv = fn;
#define CK_DCONV_GRAD_UKERNEL(i, grad_fn) \
  if (i == isa) d.dconv_grad = grad_fn;
#include "kernels/f32-dconv/f32-dconv.inc"
#undef CK_DCONV_GRAD_UKERNEL
#undef CK_DCONV_UKERNEL
#define CK_DWCONV_UKERNEL(i, fn, run9_fn, grad_fn) \
  if (i == isa) d.dwconv = fn, d.dwconv_run9 = run9_fn, d.dwconv_grad = grad_fn;
#include "kernels/f32-dwconv/f32-dwconv.inc"
#undef CK_DWCONV_UKERNEL
#define CK_WINOGRAD_INPUT_UKERNEL(i, a, input_fn)              \
  if (i == isa && a == 4) d.winograd_f23.input = input_fn;     \
  if (i == isa && a == 6) d.winograd_f43.input = d.winograd_f25.input = input_fn;
#define CK_WINOGRAD_UKERNEL(i, m, r, output_fn) \
  if (i == isa) ck_winograd(d, m, r).output = output_fn;
#define CK_WINOGRAD_GRADIENT_UKERNEL(i, m, r, gradient_fn) \
  if (i == isa) ck_winograd(d, m, r).gradient = gradient_fn;
#define CK_WINOGRAD_PRODUCT_UKERNEL(i, product_fn) \
  if (i == isa) d.winograd_product = product_fn;
#include "kernels/f32-winograd/f32-winograd.inc"
#undef CK_WINOGRAD_INPUT_UKERNEL
#undef CK_WINOGRAD_UKERNEL
#undef CK_WINOGRAD_GRADIENT_UKERNEL
#undef CK_WINOGRAD_PRODUCT_UKERNEL
#define CK_MAXPOOL_UKERNEL(i, fwd_fn, bwd_fn) \
  if (i == isa) d.maxpool_fwd = fwd_fn, d.maxpool_bwd = bwd_fn;
#include "kernels/f32-maxpool/f32-maxpool.inc"
#undef CK_MAXPOOL_UKERNEL
#define CK_CHANNEL_UKERNELS(i, sfx)                         \
  if (i == isa) {                                           \
    d.channel_sums = ck_f32_channel_sums_ukernel__##sfx;       \
    d.channel_sqdev = ck_f32_channel_sqdev_ukernel__##sfx;     \
    d.channel_affine = ck_f32_channel_affine_ukernel__##sfx;   \
    d.channel_affine2 = ck_f32_channel_affine2_ukernel__##sfx; \
  }
#include "kernels/f32-channel/f32-channel.inc"
#undef CK_CHANNEL_UKERNELS
#define CK_OPTIMIZER_UKERNEL(i, fn) \
  if (i == isa) d.optimizer = fn;
#include "kernels/f32-optimizer/f32-optimizer.inc"
#undef CK_OPTIMIZER_UKERNEL
#define CK_PACKA_UKERNEL(i, fn) \
  if (i == isa) d.packa = fn;
#include "kernels/f32-packa/f32-packa.inc"
#undef CK_PACKA_UKERNEL
#define CK_GEMV_UKERNEL(i, fn) \
  if (i == isa) d.gemv = fn;
#include "kernels/f32-gemv/f32-gemv.inc"
#undef CK_GEMV_UKERNEL
#define CK_VBINARY_UKERNELS(i, sfx)            \
  if (i == isa) {                              \
    d.vadd = ck_f32_vadd_ukernel__##sfx;       \
    d.vsub = ck_f32_vsub_ukernel__##sfx;       \
    d.vmaximum = ck_f32_vmaximum_ukernel__##sfx; \
    d.vminimum = ck_f32_vminimum_ukernel__##sfx; \
    d.vroutemax = ck_f32_vroutemax_ukernel__##sfx; \
    d.vroutemin = ck_f32_vroutemin_ukernel__##sfx; \
    d.vmul = ck_f32_vmul_ukernel__##sfx;       \
    d.vmax = ck_f32_vmax_ukernel__##sfx;       \
    d.vmacc = ck_f32_vmacc_ukernel__##sfx;     \
    d.vmulc = ck_f32_vmulc_ukernel__##sfx;     \
    d.vargmax = ck_f32_vargmax_ukernel__##sfx; \
  }
#include "kernels/f32-vbinary/f32-vbinary.inc"
#undef CK_VBINARY_UKERNELS
#define CK_VFINITE_UKERNEL(i, sfx) \
  if (i == isa) d.vfinite = ck_f32_vfinite_ukernel__##sfx;
#include "kernels/f32-vfinite/f32-vfinite.inc"
#undef CK_VFINITE_UKERNEL
#define CK_VUNARY_REGISTER_ONE(act, id, sfx, V)       \
  d.unary[id] = ck_f32_v##act##_ukernel__##sfx;        \
  d.unary_bwd[id] = ck_f32_v##act##_bwd_ukernel__##sfx;
#define CK_VUNARY_UKERNELS(i, sfx) \
  if (i == isa) {                  \
    CK_VUNARY_ACTS(CK_VUNARY_REGISTER_ONE, sfx, ) \
  }
#include "kernels/f32-vunary/f32-vunary.inc"
#undef CK_VUNARY_UKERNELS
#undef CK_VUNARY_REGISTER_ONE
#define CK_SOFTMAX_UKERNELS(i, sfx)                    \
  if (i == isa) {                                      \
    d.softmax = ck_f32_softmax_ukernel__##sfx;         \
    d.softmax_bwd = ck_f32_softmax_bwd_ukernel__##sfx; \
  }
#include "kernels/f32-softmax/f32-softmax.inc"
#undef CK_SOFTMAX_UKERNELS
#define CK_FMAPROBE_UKERNEL(i, fn, flops) \
  if (i == isa) {                          \
    d.fma_probe = fn;                      \
    d.fma_probe_flops = flops;             \
  }
#include "kernels/f32-fmaprobe/f32-fmaprobe.inc"
#undef CK_FMAPROBE_UKERNEL
  return d;
}

struct Tables {
  ck_dispatch by_isa[CK_ISA_COUNT];
  Tables() {
    for (int i = 0; i < CK_ISA_COUNT; ++i) by_isa[i] = make_table(static_cast<ck_isa>(i));
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

// CONVKIT_ISA picks a level; above the CPU's it falls back to the best supported, an unknown name falls back
// to the best with a warning (a typo in an environment variable should not stop a program from loading).
ck_isa initial_isa() {
  const ck_isa best = ck_isa_best();
  const char* env = std::getenv("CONVKIT_ISA");
  ck_isa chosen = best;
  if (env != nullptr && *env != '\0') {
    ck_isa requested;
    if (!ck_isa_parse(env, &requested)) {
      std::fprintf(stderr, "convkit: CONVKIT_ISA='%s' is not one of scalar, avx2, avx512; using %s\n", env,
                   ck_isa_name(best));
    } else if (requested > best) {
      std::fprintf(stderr, "convkit: CONVKIT_ISA=%s is not supported by this CPU; using %s\n", env,
                   ck_isa_name(best));
    } else {
      chosen = requested;
    }
  }
  const char* debug = std::getenv("CONVKIT_DEBUG");
  if (debug != nullptr && *debug != '\0' && *debug != '0') {
    std::fprintf(stderr, "convkit: isa %s (best supported %s, CONVKIT_ISA=%s), gemm %zux%zu, %zu threads\n",
                 ck_isa_name(chosen), ck_isa_name(best), env ? env : "unset", tables().by_isa[chosen].gemm.mr,
                 tables().by_isa[chosen].gemm.nr, ck_threads());
  }
  return chosen;
}

std::atomic<const ck_dispatch*>& current() {
  static std::atomic<const ck_dispatch*> cur{&tables().by_isa[initial_isa()]};
  return cur;
}

}  // namespace

const ck_dispatch& ck_kernels() { return *current().load(std::memory_order_acquire); }

const ck_dispatch& ck_kernels_for(ck_isa isa) { return tables().by_isa[isa]; }

ck_isa ck_isa_current() { return ck_kernels().isa; }

ck_isa ck_isa_select(ck_isa requested) {
  const ck_isa best = ck_isa_best();
  const ck_isa chosen = requested > best ? best : requested;
  current().store(&tables().by_isa[chosen], std::memory_order_release);
  return chosen;
}
