#include "runtime/gemm.h"

#include <algorithm>

#include "runtime/parallel.h"
#include "runtime/scratch.h"

namespace {

size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

// Rows [i0, i0+mc) x k [p0, p0+kc) of A -> ceil(mc/MR) micropanels, each kc x MR (k-major), zero-padded.
void pack_a(float* dst, const ck_gemm_args& g, size_t i0, size_t mc, size_t p0, size_t kc, size_t MR) {
  for (size_t ir = 0; ir < mc; ir += MR, dst += MR * kc) {
    const size_t mr = std::min(MR, mc - ir);
    if (g.trans_a) {
      // A(i,k) = a[k*lda + i]: rows of the panel are contiguous in memory.
      for (size_t k = 0; k < kc; ++k) {
        const float* src = g.a + (p0 + k) * g.lda + i0 + ir;
        float* d = dst + k * MR;
        for (size_t r = 0; r < mr; ++r) d[r] = src[r];
        for (size_t r = mr; r < MR; ++r) d[r] = 0.0f;
      }
    } else {
      // A(i,k) = a[i*lda + k]: walk each row contiguously, scatter with stride MR.
      for (size_t r = 0; r < mr; ++r) {
        const float* src = g.a + (i0 + ir + r) * g.lda + p0;
        for (size_t k = 0; k < kc; ++k) dst[k * MR + r] = src[k];
      }
      for (size_t r = mr; r < MR; ++r)
        for (size_t k = 0; k < kc; ++k) dst[k * MR + r] = 0.0f;
    }
  }
}

// k [p0, p0+kc) x columns [j0, j0+nc) of B -> ceil(nc/NR) micropanels, each kc x NR (k-major), zero-padded.
void pack_b(float* dst, const ck_gemm_args& g, size_t p0, size_t kc, size_t j0, size_t nc, size_t NR) {
  for (size_t jr = 0; jr < nc; jr += NR, dst += NR * kc) {
    const size_t nr = std::min(NR, nc - jr);
    if (g.trans_b) {
      // B(k,j) = b[j*ldb + k]
      for (size_t c = 0; c < nr; ++c) {
        const float* src = g.b + (j0 + jr + c) * g.ldb + p0;
        for (size_t k = 0; k < kc; ++k) dst[k * NR + c] = src[k];
      }
      for (size_t c = nr; c < NR; ++c)
        for (size_t k = 0; k < kc; ++k) dst[k * NR + c] = 0.0f;
    } else {
      // B(k,j) = b[k*ldb + j]
      for (size_t k = 0; k < kc; ++k) {
        const float* src = g.b + (p0 + k) * g.ldb + j0 + jr;
        float* d = dst + k * NR;
        for (size_t c = 0; c < nr; ++c) d[c] = src[c];
        for (size_t c = nr; c < NR; ++c) d[c] = 0.0f;
      }
    }
  }
}

bool act_in_ukernel(ck_act act) { return act == CK_ACT_LINEAR || act == CK_ACT_RELU || act == CK_ACT_LEAKY_RELU; }

}  // namespace

void ck_gemm_block(const ck_dispatch& d, const ck_gemm_args& g, size_t m0, size_t m1, size_t n0, size_t n1) {
  const ck_gemm_config& cfg = d.gemm;
  const size_t MR = cfg.mr, NR = cfg.nr;
  if (m0 >= m1 || n0 >= n1) return;
  const size_t kc_max = std::max<size_t>(1, std::min(cfg.kc, g.k));
  float* pa = ck_scratch(CK_SCRATCH_PACK_A, round_up(std::min(cfg.mc, m1 - m0), MR) * kc_max);
  float* pb = ck_scratch(CK_SCRATCH_PACK_B, round_up(std::min(cfg.nc, n1 - n0), NR) * kc_max);
  const ck_act act = g.ep ? g.ep->act : CK_ACT_LINEAR;
  const float alpha = g.ep ? g.ep->alpha : 0.0f;
  const ck_f32_vunary_fn post_act = act_in_ukernel(act) ? nullptr : d.unary[act];

  for (size_t jc = n0; jc < n1; jc += cfg.nc) {
    const size_t nc = std::min(cfg.nc, n1 - jc);
    // At least one KC block, so k == 0 still stores the epilogue (or leaves c alone when accumulating).
    for (size_t pc = 0;; pc += cfg.kc) {
      const size_t kc = std::min(cfg.kc, g.k - pc);
      const bool last = pc + kc >= g.k;
      pack_b(pb, g, pc, kc, jc, nc, NR);
      for (size_t ic = m0; ic < m1; ic += cfg.mc) {
        const size_t mc = std::min(cfg.mc, m1 - ic);
        if (g.a_packer != nullptr)
          g.a_packer->pack(pa, ic, mc, pc, kc, MR);
        else
          pack_a(pa, g, ic, mc, pc, kc, MR);
        for (size_t jr = 0; jr < nc; jr += NR) {
          const size_t nr = std::min(NR, nc - jr);
          ck_gemm_params p;
          p.bias = last && g.ep && g.ep->bias ? g.ep->bias + jc + jr : nullptr;
          p.act = last && post_act == nullptr ? act : CK_ACT_LINEAR;
          p.alpha = alpha;
          p.accumulate = pc > 0 || g.accumulate;
          for (size_t ir = 0; ir < mc; ir += MR) {
            const size_t mr = std::min(MR, mc - ir);
            float* c = g.c + (ic + ir) * g.ldc + jc + jr;
            cfg.ukernel(mr, nr, kc, pa + ir * kc, pb + jr * kc, c, g.ldc, &p);
            if (last && post_act != nullptr)
              for (size_t r = 0; r < mr; ++r) post_act(nr, c + r * g.ldc, c + r * g.ldc, alpha);
          }
        }
      }
      if (last) break;
    }
  }
}

void ck_gemm_parallel(const ck_dispatch& d, const ck_gemm_args& g) {
  const size_t threads = ck_threads();
  const double flops = 2.0 * double(g.m) * double(g.n) * double(g.k);
  if (threads == 1 || flops < 4e6) {
    ck_gemm_block(d, g, 0, g.m, 0, g.n);
    return;
  }
  // Split the longer side (in micro-tiles) into one slab per thread; slabs are disjoint blocks of c.
  const bool split_m = (g.m + d.gemm.mr - 1) / d.gemm.mr >= (g.n + d.gemm.nr - 1) / d.gemm.nr;
  const size_t len = split_m ? g.m : g.n;
  const size_t unit = split_m ? d.gemm.mr : d.gemm.nr;
  const size_t step = round_up((len + threads - 1) / threads, unit);
  const size_t tasks = (len + step - 1) / step;
  ck_parallel_for(tasks, [&](size_t t) {
    const size_t lo = t * step, hi = std::min(len, lo + step);
    if (split_m)
      ck_gemm_block(d, g, lo, hi, 0, g.n);
    else
      ck_gemm_block(d, g, 0, g.m, lo, hi);
  });
}

void ck_gemm(float* c, size_t ldc, const float* a, size_t lda, bool trans_a, const float* b, size_t ldb,
             bool trans_b, size_t m, size_t n, size_t k, bool accumulate, const ck_epilogue* ep) {
  ck_gemm_parallel(ck_kernels(), {c, ldc, a, lda, trans_a, b, ldb, trans_b, m, n, k, accumulate, ep});
}
