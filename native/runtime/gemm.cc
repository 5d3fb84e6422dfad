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

// One KC block [pc, pc+kc) of rows [ic, ic+mc) x columns jc + [jr0, jr1) of c, against the packed B block
// pb (which starts at column jc): packs the A block into this thread's scratch and runs the microkernels.
// The epilogue (bias, activation) goes with the last KC block; earlier blocks accumulate.
void macro_kernel(const ck_dispatch& d, const ck_gemm_args& g, const float* pb, size_t jc, size_t jr0, size_t jr1,
                  size_t ic, size_t mc, size_t pc, size_t kc, bool last) {
  const ck_gemm_config& cfg = d.gemm;
  const size_t MR = cfg.mr, NR = cfg.nr;
  float* pa = ck_scratch(CK_SCRATCH_PACK_A, round_up(mc, MR) * std::max<size_t>(kc, 1));
  if (g.a_packer != nullptr)
    g.a_packer->pack(pa, ic, mc, pc, kc, MR);
  else
    pack_a(pa, g, ic, mc, pc, kc, MR);
  const ck_act act = g.ep ? g.ep->act : CK_ACT_LINEAR;
  const float alpha = g.ep ? g.ep->alpha : 0.0f;
  const ck_f32_vunary_fn post_act = act_in_ukernel(act) ? nullptr : d.unary[act];
  for (size_t jr = jr0; jr < jr1; jr += NR) {
    const size_t nr = std::min(NR, jr1 - jr);
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

// Calls fn(pc, kc, last) for the KC blocks of k, in order; at least once, so k == 0 still stores the
// epilogue (or leaves c alone when accumulating).
template <class Fn>
void for_each_kc(const ck_gemm_config& cfg, size_t k, Fn&& fn) {
  for (size_t pc = 0;; pc += cfg.kc) {
    const size_t kc = std::min(cfg.kc, k - pc);
    const bool last = pc + kc >= k;
    fn(pc, kc, last);
    if (last) return;
  }
}

}  // namespace

void ck_gemm_block(const ck_dispatch& d, const ck_gemm_args& g, size_t m0, size_t m1, size_t n0, size_t n1) {
  const ck_gemm_config& cfg = d.gemm;
  if (m0 >= m1 || n0 >= n1) return;
  float* pb = ck_scratch(CK_SCRATCH_PACK_B,
                         round_up(std::min(cfg.nc, n1 - n0), cfg.nr) * std::max<size_t>(1, std::min(cfg.kc, g.k)));
  for (size_t jc = n0; jc < n1; jc += cfg.nc) {
    const size_t nc = std::min(cfg.nc, n1 - jc);
    for_each_kc(cfg, g.k, [&](size_t pc, size_t kc, bool last) {
      pack_b(pb, g, pc, kc, jc, nc, cfg.nr);
      for (size_t ic = m0; ic < m1; ic += cfg.mc)
        macro_kernel(d, g, pb, jc, 0, nc, ic, std::min(cfg.mc, m1 - ic), pc, kc, last);
    });
  }
}

namespace {

// Fewer rows than a microkernel tile (batch-1 inference): multiply straight from B with the GEMV kernel, so
// B is read once instead of packed and re-read. Column chunks are split over the pool; each c element is one
// FMA chain over k, whatever the chunks.
void gemv_rows(const ck_dispatch& d, const ck_gemm_args& g, size_t threads) {
  const double flops = 2.0 * double(g.m) * double(g.n) * double(g.k);
  const size_t chunk = threads == 1 || flops < 1e6 ? g.n : round_up((g.n + 4 * threads - 1) / (4 * threads), 64);
  ck_parallel_for((g.n + chunk - 1) / chunk, [&](size_t t) {
    const size_t j0 = t * chunk, nj = std::min(g.n, j0 + chunk) - j0;
    float* column = g.trans_a ? ck_scratch(CK_SCRATCH_ROW, g.k) : nullptr;
    for (size_t i = 0; i < g.m; ++i) {
      const float* a = g.a + i * g.lda;
      if (g.trans_a) {  // row i of A is column i of the stored (K, M) matrix
        for (size_t p = 0; p < g.k; ++p) column[p] = g.a[p * g.lda + i];
        a = column;
      }
      float* c = g.c + i * g.ldc + j0;
      d.gemv(g.k, nj, a, g.b + j0, g.ldb, c);
      if (g.ep != nullptr && g.ep->bias != nullptr) d.vadd(nj, c, g.ep->bias + j0, c);
      if (g.ep != nullptr && g.ep->act != CK_ACT_LINEAR) d.unary[g.ep->act](nj, c, c, g.ep->alpha);
    }
  });
}

}  // namespace

void ck_gemm_parallel(const ck_dispatch& d, const ck_gemm_args& g) {
  const ck_gemm_config& cfg = d.gemm;
  const size_t threads = ck_threads();
  if (g.m < cfg.mr && !g.trans_b && !g.accumulate && g.a_packer == nullptr) return gemv_rows(d, g, threads);
  const double flops = 2.0 * double(g.m) * double(g.n) * double(g.k);
  if (threads == 1 || flops < 4e6) {
    ck_gemm_block(d, g, 0, g.m, 0, g.n);
    return;
  }
  // BLIS's shared-B scheme: per (NC, KC) block all threads pack B together into the caller's buffer, then take
  // (row block x column chunk) tasks against it. About four tasks per thread, so a thread the OS delays does
  // not hold up the rest. Each c element still sums its KC blocks in order: the result is the same as
  // ck_gemm_block's for any thread count.
  const size_t target = 4 * threads;
  const size_t mb = std::min(cfg.mc, round_up((g.m + target - 1) / target, cfg.mr));
  const size_t m_blocks = (g.m + mb - 1) / mb;
  float* pb = ck_scratch(CK_SCRATCH_PACK_B,
                         round_up(std::min(cfg.nc, g.n), cfg.nr) * std::max<size_t>(1, std::min(cfg.kc, g.k)));
  for (size_t jc = 0; jc < g.n; jc += cfg.nc) {
    const size_t nc = std::min(cfg.nc, g.n - jc);
    const size_t panels = (nc + cfg.nr - 1) / cfg.nr;
    const size_t col_tasks = std::min(panels, (target + m_blocks - 1) / m_blocks);
    const size_t chunk = (panels + col_tasks - 1) / col_tasks;  // B panels per column chunk
    const size_t n_chunks = (panels + chunk - 1) / chunk;
    const size_t pack_tasks = std::min(panels, target);
    const size_t pack_chunk = (panels + pack_tasks - 1) / pack_tasks;
    for_each_kc(cfg, g.k, [&](size_t pc, size_t kc, bool last) {
      ck_parallel_for((panels + pack_chunk - 1) / pack_chunk, [&](size_t t) {
        const size_t p0 = t * pack_chunk, p1 = std::min(panels, p0 + pack_chunk);
        pack_b(pb + p0 * cfg.nr * kc, g, pc, kc, jc + p0 * cfg.nr, std::min(nc, p1 * cfg.nr) - p0 * cfg.nr, cfg.nr);
      });
      ck_parallel_for(m_blocks * n_chunks, [&](size_t t) {
        const size_t ic = (t / n_chunks) * mb, jr0 = (t % n_chunks) * chunk * cfg.nr;
        macro_kernel(d, g, pb, jc, jr0, std::min(nc, jr0 + chunk * cfg.nr), ic, std::min(mb, g.m - ic), pc, kc, last);
      });
    });
  }
}

void ck_gemm(float* c, size_t ldc, const float* a, size_t lda, bool trans_a, const float* b, size_t ldb,
             bool trans_b, size_t m, size_t n, size_t k, bool accumulate, const ck_epilogue* ep) {
  ck_gemm_parallel(ck_kernels(), {c, ldc, a, lda, trans_a, b, ldb, trans_b, m, n, k, accumulate, ep});
}
