#include "runtime/gemm.h"

#include <algorithm>
#include <cstring>

#include "runtime/parallel.h"
#include "runtime/scratch.h"

namespace {

size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

// Rows k [0, kc) of a panel whose rows are contiguous in memory: dst[k*MR, +MR) = src[k*ld, +MR).
template <size_t N>
void copy_panel_rows_of(float* dst, const float* src, size_t ld, size_t kc, size_t MR = N) {
  for (size_t k = 0; k < kc; ++k) std::memcpy(dst + k * (N ? N : MR), src + k * ld, (N ? N : MR) * sizeof(float));
}

}  // namespace

void ck_gemm_pack_a(const ck_dispatch& d, float* dst, const ck_gemm_args& g, size_t i0, size_t mc, size_t p0, size_t kc,
                    size_t MR) {
  for (size_t ir = 0; ir < mc; ir += MR, dst += MR * kc) {
    const size_t mr = std::min(MR, mc - ir);
    if (g.trans_a) {
      // A(i,k) = a[k*lda + i]: rows of the panel are contiguous in memory.
      const float* src = g.a + p0 * g.lda + i0 + ir;
      if (mr == MR) {
        switch (MR) {  // the main tiles' heights as constants: each row is a few vector moves
          case 14:
            copy_panel_rows_of<14>(dst, src, g.lda, kc);
            break;
          case 6:
            copy_panel_rows_of<6>(dst, src, g.lda, kc);
            break;
          default:
            copy_panel_rows_of<0>(dst, src, g.lda, kc, MR);
        }
        continue;
      }
      for (size_t k = 0; k < kc; ++k, src += g.lda) {
        float* row = dst + k * MR;
        for (size_t r = 0; r < mr; ++r) row[r] = src[r];
        for (size_t r = mr; r < MR; ++r) row[r] = 0.0f;
      }
    } else {
      // A(i,k) = a[i*lda + k]: a transpose, by the ISA's packing kernel.
      const float* src[32];  // MR <= 32 (a static_assert in dispatch.cc)
      for (size_t r = 0; r < mr; ++r) src[r] = g.a + (i0 + ir + r) * g.lda + p0;
      d.packa(mr, MR, kc, src, dst);
    }
  }
}

namespace {

// One row of B's panels: src[0, cols) -> dst + jr * kc for each panel jr (a multiple of NR < cols).
template <size_t N = 0>
void copy_panel_rows(float* dst, const float* src, size_t kc, size_t cols, size_t NR = N) {
  for (size_t jr = 0; jr < cols; jr += NR) std::memcpy(dst + jr * kc, src + jr, (N ? N : NR) * sizeof(float));
}

// k [p0, p0+kc) x columns [j0, j0+nc) of B -> ceil(nc/NR) micropanels, each kc x NR (k-major), zero-padded.
void pack_b(ck_f32_packa_fn packa, float* dst, const ck_gemm_args& g, size_t p0, size_t kc, size_t j0, size_t nc,
            size_t NR) {
  if (!g.trans_b) {
    // B(k,j) = b[k*ldb + j]: row by row, each row read once in order (column panels first would read a new
    // page per row: one TLB miss per 64 bytes when ldb is a few KiB)
    const size_t full = nc / NR * NR;
    for (size_t k = 0; k < kc; ++k) {
      const float* src = g.b + (p0 + k) * g.ldb + j0;
      switch (NR) {  // a constant length makes each copy a few vector moves instead of a memcpy call
        case 8: copy_panel_rows<8>(dst + k * 8, src, kc, full); break;
        case 16: copy_panel_rows<16>(dst + k * 16, src, kc, full); break;
        case 32: copy_panel_rows<32>(dst + k * 32, src, kc, full); break;
        default: copy_panel_rows(dst + k * NR, src, kc, full, NR);
      }
      if (full < nc) {
        float* d = dst + full * kc + k * NR;
        std::memcpy(d, src + full, (nc - full) * sizeof(float));
        std::memset(d + nc - full, 0, (NR - (nc - full)) * sizeof(float));
      }
    }
    return;
  }
  // B(k,j) = b[j*ldb + k]: B's columns are rows in memory, transposed into the panels by the A-packing kernel.
  for (size_t jr = 0; jr < nc; jr += NR, dst += NR * kc) {
    const float* cols[32];  // NR <= 32 (a static_assert in dispatch.cc)
    const size_t nr = std::min(NR, nc - jr);
    for (size_t c = 0; c < nr; ++c) cols[c] = g.b + (j0 + jr + c) * g.ldb + p0;
    packa(nr, NR, kc, cols, dst);
  }
}

}  // namespace

bool ck_act_in_ukernel(ck_act act) {
  return act == CK_ACT_LINEAR || act == CK_ACT_RELU || act == CK_ACT_LEAKY_RELU || act == CK_ACT_RELU6;
}

ck_gemm_params ck_epilogue_params(const ck_epilogue* ep, const float* output, size_t col0) {
  ck_gemm_params p{nullptr, CK_ACT_LINEAR, 0.0f, false};
  if (ep == nullptr) return p;
  p.bias = ep->bias ? ep->bias + col0 : nullptr;
  p.scale = ep->scale ? ep->scale + col0 : nullptr;
  p.act = ck_act_in_ukernel(ep->act) ? ep->act : CK_ACT_LINEAR;
  p.alpha = ep->alpha;
  p.residual = ep->residual;
  p.output = output;
  return p;
}

void ck_epilogue_apply(const ck_dispatch& d, const ck_epilogue& ep, size_t n, float* c, size_t col0, const float* r) {
  if (ep.scale != nullptr) d.vmul(n, c, ep.scale + col0, c);
  if (ep.bias != nullptr) d.vadd(n, c, ep.bias + col0, c);
  if (r != nullptr) d.vadd(n, c, r, c);
  if (ep.act != CK_ACT_LINEAR) d.unary[ep.act](n, c, c, ep.alpha);
}

namespace {

// A block of k: columns [p0, p0+kc) of A (rows of B). With a_rows it is taps [s0, s0+taps), each contributing
// tap_kc values from its channel c0 on: whole taps when a tap is shorter than KC, else one tap in even chunks.
struct KBlock {
  size_t p0, kc, s0, taps, c0, tap_kc;
  bool last;
};

// Calls fn(block) for the k blocks, in order; at least once, so k == 0 still stores the epilogue (or leaves c
// alone when accumulating). Blocks are at most KC long and split evenly (800 -> 4 x 200, not 3 x 256 + 32;
// 25 taps of 32 -> 6, 6, 6, 7 taps, not 8, 8, 8, 1).
template <class Fn>
void for_each_kc(const ck_gemm_config& cfg, const ck_gemm_args& g, Fn&& fn) {
  const size_t taps = g.a_rows ? g.a_rows->taps : 1, len = g.a_rows ? g.a_rows->tap_len : g.k;
  if (taps == 0 || len == 0) return fn(KBlock{0, 0, 0, 0, 0, 0, true});
  if (len < cfg.kc) {
    const size_t per = cfg.kc / len, blocks = (taps + per - 1) / per;
    for (size_t b = 0; b < blocks; ++b) {
      const size_t s0 = b * taps / blocks, s1 = (b + 1) * taps / blocks;
      fn(KBlock{s0 * len, (s1 - s0) * len, s0, s1 - s0, 0, len, s1 == taps});
    }
    return;
  }
  const size_t chunks = (len + cfg.kc - 1) / cfg.kc, chunk = (len + chunks - 1) / chunks;
  for (size_t s = 0; s < taps; ++s)
    for (size_t c0 = 0; c0 < len; c0 += chunk) {
      const size_t kc = std::min(chunk, len - c0);
      fn(KBlock{s * len + c0, kc, s, 1, c0, kc, s + 1 == taps && c0 + kc == len});
    }
}

constexpr size_t kInPlaceMaxPanels = 8;

// A row-major (not transposed) a, read in place by the igemm microkernel: one tap of K values per row.
class MatrixRows final : public ck_gemm_a_rows {
 public:
  explicit MatrixRows(const ck_gemm_args& g) : ck_gemm_a_rows(1, g.k), a_(g.a), lda_(g.lda) {}
  void rows(const float** dst, size_t i0, size_t mr, size_t, size_t, size_t) const override {
    for (size_t r = 0; r < mr; ++r) dst[r] = a_ + (i0 + r) * lda_;
  }

 private:
  const float* a_;
  size_t lda_;
};

// Rows a multiple of 4 KiB apart (lda a multiple of 1024 floats) all fall in one L1 set, whose ways (8 on
// Zen 3 and 4) hold only that many of a tile's rows at once: a taller tile reading them in place evicts its
// own rows every k step. Packing them then pays: dy . W^T for a 1024-wide dense layer 1.17-1.31x, and
// 20000 x 64 x 2048 1.15-1.19x, with the 14-row AVX-512 tile; the 8-row narrow tile keeps reading in place
// (packing its A costs 2x there).
constexpr size_t kL1Ways = 8;

bool aliased_rows(size_t lda) { return lda % 1024 == 0; }

// Whether n columns are few enough panels to read A in place over (ck_gemm_in_place_panels); the FMA width is
// probed only for a product past kInPlaceMaxPanels.
bool few_panels(const ck_dispatch& d, size_t n) {
  return n <= kInPlaceMaxPanels * d.gemm.nr || n <= ck_gemm_in_place_panels(d) * d.gemm.nr;
}

// g, reading a non-transposed a in place through row pointers when that pays (rows lives in the caller's
// frame); in place, the strided rows stream from L2 a little slower than a packed panel.
ck_gemm_args in_place(const ck_dispatch& d, const ck_gemm_args& g, const MatrixRows& rows) {
  ck_gemm_args out = g;
  if (g.a_rows == nullptr && !g.trans_a && !(aliased_rows(g.lda) && d.gemm.mr > kL1Ways) && few_panels(d, g.n))
    out.a_rows = &rows;
  return out;
}

// The products the narrow tile runs: d with its gemm replaced, in `narrow`; false when d already is that (or
// the ISA has no narrower tile). Those of at most its columns (a first layer's 6 filters), and those with
// aliased rows and at most kInPlaceMaxPanels of its panels, whose A it reads in place where the wide tile packs
// it. Paired A/B on Zen 4 against the packed wide tile: 3136 x 64 x 1024 (C^T = W . dy^T, a 3136 -> 1024 dense
// layer's input gradient) 1.28x on 1 core and 1.24x on 2, 20000 x 64 x 2048 1.31x, 3136 x 128 x 1024 1.12-1.14x;
// with rows not aliased the narrow tile was 0.96-1.00x, so those keep the wide one.
bool use_narrow(const ck_dispatch& d, const ck_gemm_args& g, size_t n, ck_dispatch& narrow) {
  if (d.gemm_narrow.ukernel == d.gemm.ukernel) return false;
  const bool aliased_in_place = g.a_rows == nullptr && !g.trans_a && aliased_rows(g.lda) && d.gemm.mr > kL1Ways &&
                                n <= kInPlaceMaxPanels * d.gemm_narrow.nr;
  if (n > d.gemm_narrow.nr && !aliased_in_place) return false;
  narrow = d;
  narrow.gemm = d.gemm_narrow;
  return true;
}

// Zeros for the row pointers of padding and of rows past mr (every k block is at most KC <= 1024 long).
alignas(64) const float kZeros[1024] = {};

// Row pointers for the micropanels of rows [ic, ic+mc) over k block kb: kb.taps * MR per panel, offset to the
// block's first channel; padding and rows past the edge point at kZeros.
const float** row_pointers(const ck_gemm_args& g, const KBlock& kb, size_t ic, size_t mc, size_t MR) {
  const size_t per_panel = kb.taps * MR, panels = (mc + MR - 1) / MR;
  const float** ptrs =
      reinterpret_cast<const float**>(ck_scratch(CK_SCRATCH_A_ROWS, 2 * std::max<size_t>(1, panels * per_panel)));
  for (size_t ir = 0; ir < mc; ir += MR) {
    const float** dst = ptrs + ir / MR * per_panel;
    const size_t mr = std::min(MR, mc - ir);
    g.a_rows->rows(dst, ic + ir, mr, MR, kb.s0, kb.s0 + kb.taps);
    for (size_t t = 0; t < kb.taps; ++t)
      for (size_t r = 0; r < MR; ++r) {
        const float*& p = dst[t * MR + r];
        p = r < mr && p != nullptr ? p + kb.c0 : kZeros;
      }
  }
  return ptrs;
}

// Where a k block's B micropanels are: the first (for the block's first column) and the floats from one to the next.
// With rows, B is read in place instead, B(kb.p0 + k, jc + j) = rows[k][j], for the columns below `whole`, and
// `first` holds the last, partial panel packed.
struct BPanels {
  const float* first;
  size_t stride;
  const float* const* rows = nullptr;
  size_t whole = 0;
};

// Whether g brings its B in micropanels of this tile's width (ck_gemm_args::b_panels) for columns from jc on.
bool given_panels(const ck_gemm_config& cfg, const ck_gemm_args& g, size_t jc) {
  return g.b_panels != nullptr && g.b_panels_nr == cfg.nr && !g.trans_b && jc % cfg.nr == 0;
}

// g's own micropanels of k block kb from column jc (a multiple of NR) on.
BPanels panels_of(const ck_gemm_config& cfg, const ck_gemm_args& g, size_t jc, const KBlock& kb) {
  return {g.b_panels + (jc / cfg.nr * g.k + kb.p0) * cfg.nr, g.k * cfg.nr};
}

// One k block of rows [ic, ic+mc) x columns jc + [jr0, jr1) of c, against B's micropanels from column jc on:
// packs the A block into this thread's scratch (or points at it in place) and runs the microkernels. The
// epilogue (bias, activation) goes with the last k block; earlier blocks accumulate.
void macro_kernel(const ck_dispatch& d, const ck_gemm_args& g, const BPanels& pb, size_t jc, size_t jr0, size_t jr1,
                  size_t ic, size_t mc, const KBlock& kb) {
  const ck_gemm_config& cfg = d.gemm;
  const size_t MR = cfg.mr, NR = cfg.nr, kc = kb.kc;
  const float* pa = nullptr;
  const float** ptrs = nullptr;
  if (g.a_rows != nullptr) {
    ptrs = row_pointers(g, kb, ic, mc, MR);
  } else {
    float* packed = ck_scratch(CK_SCRATCH_PACK_A, round_up(mc, MR) * std::max<size_t>(kc, 1));
    ck_gemm_pack_a(d, packed, g, ic, mc, kb.p0, kc, MR);
    pa = packed;
  }
  const ck_act act = g.ep ? g.ep->act : CK_ACT_LINEAR;
  const float alpha = g.ep ? g.ep->alpha : 0.0f;
  const ck_f32_vunary_fn post_act = ck_act_in_ukernel(act) ? nullptr : d.unary[act];
  for (size_t jr = jr0; jr < jr1; jr += NR) {
    const size_t nr = std::min(NR, jr1 - jr);
    const bool b_in_place = jr < pb.whole;
    const float* b = pb.rows != nullptr ? pb.first : pb.first + jr / NR * pb.stride;
    ck_gemm_params p = ck_epilogue_params(kb.last ? g.ep : nullptr, g.c, jc + jr);
    p.accumulate = kb.p0 > 0 || g.accumulate;
    for (size_t ir = 0; ir < mc; ir += MR) {
      const size_t mr = std::min(MR, mc - ir);
      float* c = g.c + (ic + ir) * g.ldc + jc + jr;
      if (ptrs != nullptr)
        cfg.igemm(mr, nr, kb.tap_kc, kb.taps, ptrs + ir / MR * kb.taps * MR, b, c, g.ldc, &p);
      else if (b_in_place)
        cfg.bgemm(mr, nr, kc, pa + ir * kc, pb.rows, jr, c, g.ldc, &p);
      else
        cfg.ukernel(mr, nr, kc, pa + ir * kc, b, c, g.ldc, &p);
      if (kb.last && post_act != nullptr)
        for (size_t r = 0; r < mr; ++r) post_act(nr, c + r * g.ldc, c + r * g.ldc, alpha);
    }
  }
}

// When all of B packs into a few hundred KiB (convolution filters, most dense layers) it is packed once and kept:
// each row block then runs every k block while its C block stays in L2, instead of C streaming from memory once
// per k block (tall products: 25088 x 64 x 576 went from 54 to ~75 GFLOP/s on one Zen 3 core).
constexpr size_t kResidentBBytes = 1 << 20;
constexpr size_t kResidentCBytes = 128 << 10;

bool b_resident(const ck_gemm_config& cfg, const ck_gemm_args& g, size_t n) {
  return g.m >= 4 * cfg.mr && g.k * round_up(n, cfg.nr) * sizeof(float) <= kResidentBBytes;
}

// With B resident, k blocks run up to 1024 long (the longest kZeros covers) instead of KC: the C tile is then
// loaded and stored once or twice per row block instead of once per KC, and B's panels come from L2 either
// way. Paired A/B on Zen 4, forward and backward-input convolutions of bench/: AVX-512 1.00-1.04x, AVX2
// 1.01-1.09x.
ck_dispatch resident(const ck_dispatch& d) {
  ck_dispatch r = d;
  r.gemm.kc = std::max(d.gemm.kc, sizeof(kZeros) / sizeof(float));
  return r;
}

// Rows per block with B resident: the C block (rows x n) stays within kResidentCBytes.
size_t resident_mc(const ck_gemm_config& cfg, size_t n) {
  return std::clamp(kResidentCBytes / sizeof(float) / std::max<size_t>(n, 1) / cfg.mr * cfg.mr, cfg.mr, cfg.mc);
}

// Packs panels [p0, p1) of columns jc + ... of every k block into pb, block kb at pb + kb.p0 * panels_total * NR.
void pack_b_resident(float* pb, const ck_dispatch& dr, const ck_gemm_args& g, size_t jc, size_t n, size_t p0,
                     size_t p1) {
  const ck_gemm_config& cfg = dr.gemm;
  const size_t width = round_up(n, cfg.nr);
  for_each_kc(cfg, g, [&](const KBlock& kb) {
    pack_b(dr.packa, pb + kb.p0 * width + p0 * cfg.nr * kb.kc, g, kb.p0, kb.kc, jc + p0 * cfg.nr,
           std::min(n, p1 * cfg.nr) - p0 * cfg.nr, cfg.nr);
  });
}

// Rows [ic, ic+mc) x columns [jc, jc+n) through every k block, against a resident packed B (pb, or g's own
// micropanels).
void row_block_resident(const ck_dispatch& d, const ck_gemm_args& g, const float* pb, size_t jc, size_t n, size_t ic,
                        size_t mc) {
  const size_t width = round_up(n, d.gemm.nr);
  for_each_kc(d.gemm, g, [&](const KBlock& kb) {
    const BPanels b =
        given_panels(d.gemm, g, jc) ? panels_of(d.gemm, g, jc, kb) : BPanels{pb + kb.p0 * width, kb.kc * d.gemm.nr};
    macro_kernel(d, g, b, jc, 0, n, ic, mc, kb);
  });
}

// Row pointers to B's rows [kb.p0, kb.p0 + kb.kc) from column jc on.
const float* const* b_row_pointers(const ck_gemm_args& g, const KBlock& kb, size_t jc) {
  const float** rows = reinterpret_cast<const float**>(ck_scratch(CK_SCRATCH_A_ROWS, 2 * std::max<size_t>(1, kb.kc)));
  for (size_t k = 0; k < kb.kc; ++k) rows[k] = g.b + (kb.p0 + k) * g.ldb + jc;
  return rows;
}

// Rows [m0, m1) x columns [n0, n1) of c with B packed a (KC x NC) block at a time into this thread's scratch, or,
// with read_b_in_place and a B that allows it, read in place through row pointers (only a last, partial panel
// packed).
void block_streamed(const ck_dispatch& d, const ck_gemm_args& g, size_t m0, size_t m1, size_t n0, size_t n1,
                    bool read_b_in_place = false) {
  const ck_gemm_config& cfg = d.gemm;
  const bool given = given_panels(cfg, g, n0);
  const bool b_rows = read_b_in_place && !given && !g.trans_b && g.a_rows == nullptr;
  const size_t pb_cols = b_rows ? cfg.nr : round_up(std::min(cfg.nc, n1 - n0), cfg.nr);
  float* pb = given ? nullptr : ck_scratch(CK_SCRATCH_PACK_B, pb_cols * std::max<size_t>(1, std::min(cfg.kc, g.k)));
  for (size_t jc = n0; jc < n1; jc += cfg.nc) {
    const size_t nc = std::min(cfg.nc, n1 - jc), whole = b_rows ? nc / cfg.nr * cfg.nr : 0;
    for_each_kc(cfg, g, [&](const KBlock& kb) {
      BPanels b{pb, kb.kc * cfg.nr};
      if (b_rows) {
        if (whole < nc) pack_b(d.packa, pb, g, kb.p0, kb.kc, jc + whole, nc - whole, cfg.nr);
        b = {pb, 0, b_row_pointers(g, kb, jc), whole};
      } else if (given) {
        b = panels_of(cfg, g, jc, kb);
      } else {
        pack_b(d.packa, pb, g, kb.p0, kb.kc, jc, nc, cfg.nr);
      }
      for (size_t ic = m0; ic < m1; ic += cfg.mc) macro_kernel(d, g, b, jc, 0, nc, ic, std::min(cfg.mc, m1 - ic), kb);
    });
  }
}

}  // namespace

void ck_gemm_block(const ck_dispatch& d, const ck_gemm_args& args, size_t m0, size_t m1, size_t n0, size_t n1) {
  if (m0 >= m1 || n0 >= n1) return;
  ck_dispatch narrow;
  if (use_narrow(d, args, n1 - n0, narrow)) return ck_gemm_block(narrow, args, m0, m1, n0, n1);
  const ck_gemm_config& cfg = d.gemm;
  const MatrixRows matrix_rows(args);
  const ck_gemm_args g = in_place(d, args, matrix_rows);
  if (b_resident(cfg, g, n1 - n0)) {
    const ck_dispatch dr = resident(d);
    float* pb = nullptr;
    if (!given_panels(cfg, g, n0)) {
      pb = ck_scratch(CK_SCRATCH_PACK_B, round_up(n1 - n0, cfg.nr) * std::max<size_t>(g.k, 1));
      pack_b_resident(pb, dr, g, n0, n1 - n0, 0, (n1 - n0 + cfg.nr - 1) / cfg.nr);
    }
    const size_t mc = resident_mc(cfg, n1 - n0);
    for (size_t ic = m0; ic < m1; ic += mc) row_block_resident(dr, g, pb, n0, n1 - n0, ic, std::min(mc, m1 - ic));
    return;
  }
  block_streamed(d, g, m0, m1, n0, n1);
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
      if (g.ep != nullptr) ck_epilogue_apply(d, *g.ep, nj, c, j0, g.ep->residual ? g.ep->residual + i * g.ldc + j0 : nullptr);
    }
  });
}

// A few rows against a large transposed B (a dense layer's input gradient, dy . W^T): packing B would copy
// all of it for a few rows' use. C^T = B . A^T reads B's rows in place instead (the large operand becomes an
// in-place A with few columns) and packs only A^T; C^T is then transposed into c. Up to 128 rows: paired
// A/B on 2 Zen 4 cores, dy (m x 1024) . W^T (1024 x 3136), against packing B: AVX-512 1.25x at 64 rows,
// even at 128, 0.82x at 192 and 256; AVX2 1.27x at 64 and 128.
constexpr size_t kTransposeMaxRows = 128;

bool transpose_pays(const ck_gemm_config& cfg, const ck_gemm_args& g) {
  return g.trans_b && !g.accumulate && g.ep == nullptr && g.a_rows == nullptr && g.m >= cfg.mr &&
         g.m <= std::min(kTransposeMaxRows, kInPlaceMaxPanels * cfg.nr) && g.n >= 4 * g.m &&
         g.n * g.k >= (size_t(1) << 18);
}

void gemm_transposed(const ck_dispatch& d, const ck_gemm_args& g) {
  float* ct = ck_scratch(CK_SCRATCH_FILTER, g.n * g.m);  // (n x m)
  // A' = B^T stored (n x k) row-major = b as given; B' = A^T: a (m x k) is B' transposed, a^T (k x m) is not.
  ck_gemm_parallel(d, {ct, g.m, g.b, g.ldb, false, g.a, g.lda, !g.trans_a, g.n, g.m, g.k, false, nullptr});
  constexpr size_t kRows = 64;
  ck_parallel_for((g.m + kRows - 1) / kRows, [&](size_t t) {
    for (size_t i = t * kRows; i < std::min(g.m, (t + 1) * kRows); ++i)
      for (size_t j = 0; j < g.n; ++j) g.c[i * g.ldc + j] = ct[j * g.m + i];
  });
}

// Rows [0, m) as blocks of whole MR-row tiles: at most max_rows rows each, at least `target` blocks where there
// are that many tiles, and a multiple of `threads` of them where the tiles allow. Block sizes differ by one
// tile at most, so no thread is left alone with a last block: 1152 rows as 8 blocks of 154 rows left the last
// one half full, and one of two threads idle for half a block per k block.
struct RowBlocks {
  size_t m, mr, tiles, count;
  size_t begin(size_t b) const { return b * tiles / count * mr; }
  size_t end(size_t b) const { return std::min(m, (b + 1) * tiles / count * mr); }
};

RowBlocks row_blocks(size_t m, size_t mr, size_t max_rows, size_t target, size_t threads) {
  const size_t tiles = (m + mr - 1) / mr, per = std::max<size_t>(1, max_rows / mr);
  const size_t count = std::max((tiles + per - 1) / per, std::min(target, tiles));
  return {m, mr, tiles, std::min(tiles, round_up(count, threads))};
}

}  // namespace

void ck_gemm_parallel(const ck_dispatch& d, const ck_gemm_args& args) {
  const size_t threads = ck_threads();
  if (args.m < d.gemm.mr && !args.trans_b && !args.accumulate && args.a_rows == nullptr)
    return gemv_rows(d, args, threads);
  ck_dispatch narrow;
  if (use_narrow(d, args, args.n, narrow)) return ck_gemm_parallel(narrow, args);
  const ck_gemm_config& cfg = d.gemm;
  if (transpose_pays(cfg, args)) return gemm_transposed(d, args);
  const MatrixRows matrix_rows(args);
  const ck_gemm_args g = in_place(d, args, matrix_rows);
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
  if (b_resident(cfg, g, g.n)) {
    const ck_dispatch dr = resident(d);
    const size_t panels = (g.n + cfg.nr - 1) / cfg.nr, pack_chunk = (panels + target - 1) / target;
    float* pb = nullptr;
    if (!given_panels(cfg, g, 0)) {
      pb = ck_scratch(CK_SCRATCH_PACK_B, panels * cfg.nr * std::max<size_t>(g.k, 1));
      ck_parallel_for((panels + pack_chunk - 1) / pack_chunk, [&](size_t t) {
        pack_b_resident(pb, dr, g, 0, g.n, t * pack_chunk, std::min(panels, (t + 1) * pack_chunk));
      });
    }
    const RowBlocks rows = row_blocks(g.m, cfg.mr, resident_mc(cfg, g.n), target, threads);
    ck_parallel_for(rows.count, [&](size_t t) {
      row_block_resident(dr, g, pb, 0, g.n, rows.begin(t), rows.end(t) - rows.begin(t));
    });
    return;
  }
  const size_t panels_n = (g.n + cfg.nr - 1) / cfg.nr;
  if (g.m <= cfg.mc && panels_n >= 2 * threads) {
    // Few rows (a dense layer's batch) against a large B: each thread takes one block of columns and packs its
    // own B panels (and its own copy of A), so B goes from memory into that core's L2 once and no k block
    // waits for every thread's share of a shared packed B. Paired A/B on 2 Zen 4 cores against the shared-B
    // scheme below: 64x1024x3136 1.17x, 256x1024x3136 1.04x, 128x1024x1024 1.14x. Two blocks per thread
    // were slower (each packs A again). Each thread reads its B in place (see docs/kernels.md, "Few rows").
    const size_t chunk = (panels_n + threads - 1) / threads * cfg.nr;
    ck_parallel_for((g.n + chunk - 1) / chunk, [&](size_t t) {
      block_streamed(d, g, 0, g.m, t * chunk, std::min(g.n, (t + 1) * chunk), true);
    });
    return;
  }
  const RowBlocks rows = row_blocks(g.m, cfg.mr, cfg.mc, target, threads);
  const bool given = given_panels(cfg, g, 0);
  float* pb = given ? nullptr
                    : ck_scratch(CK_SCRATCH_PACK_B,
                                 round_up(std::min(cfg.nc, g.n), cfg.nr) * std::max<size_t>(1, std::min(cfg.kc, g.k)));
  for (size_t jc = 0; jc < g.n; jc += cfg.nc) {
    const size_t nc = std::min(cfg.nc, g.n - jc);
    const size_t panels = (nc + cfg.nr - 1) / cfg.nr;
    const size_t col_tasks = std::min(panels, (target + rows.count - 1) / rows.count);
    const size_t chunk = (panels + col_tasks - 1) / col_tasks;  // B panels per column chunk
    const size_t n_chunks = (panels + chunk - 1) / chunk;
    const size_t pack_tasks = std::min(panels, target);
    const size_t pack_chunk = (panels + pack_tasks - 1) / pack_tasks;
    for_each_kc(cfg, g, [&](const KBlock& kb) {
      if (!given)
        ck_parallel_for((panels + pack_chunk - 1) / pack_chunk, [&](size_t t) {
          const size_t p0 = t * pack_chunk, p1 = std::min(panels, p0 + pack_chunk);
          pack_b(d.packa, pb + p0 * cfg.nr * kb.kc, g, kb.p0, kb.kc, jc + p0 * cfg.nr,
                 std::min(nc, p1 * cfg.nr) - p0 * cfg.nr, cfg.nr);
        });
      const BPanels b = given ? panels_of(cfg, g, jc, kb) : BPanels{pb, kb.kc * cfg.nr};
      ck_parallel_for(rows.count * n_chunks, [&](size_t t) {
        const size_t block = t / n_chunks, ic = rows.begin(block), jr0 = (t % n_chunks) * chunk * cfg.nr;
        macro_kernel(d, g, b, jc, jr0, std::min(nc, jr0 + chunk * cfg.nr), ic, rows.end(block) - ic, kb);
      });
    });
  }
}

ck_dispatch ck_gemm_long_k(const ck_dispatch& d, size_t m, size_t k) {
  ck_dispatch r = d;
  ck_gemm_config& cfg = r.gemm;
  // 512^3 (k 512, MC 252) was 0.97-0.98x; 256 x 256 x 1568 (MC 154) left the few-rows split: 0.90x on 2 threads
  if (k < sizeof(kZeros) / sizeof(float) || m <= cfg.mc) return r;
  cfg.kc = sizeof(kZeros) / sizeof(float);
  const size_t blocks = (k + cfg.kc - 1) / cfg.kc, kc = (k + blocks - 1) / blocks;  // as for_each_kc splits k
  cfg.mc = std::clamp(d.gemm.mc * d.gemm.kc / kc / cfg.mr * cfg.mr, cfg.mr, d.gemm.mc);
  return r;
}

size_t ck_gemm_in_place_panels(const ck_dispatch& d) {
  return d.isa == CK_ISA_AVX512 && ck_avx512_fma_width() == 512 ? 2 * kInPlaceMaxPanels : kInPlaceMaxPanels;
}

size_t ck_gemm_b_panels_nr(const ck_dispatch& d, size_t n) {
  return n <= d.gemm_narrow.nr ? d.gemm_narrow.nr : d.gemm.nr;
}

void ck_gemm_pack_b_panels(float* dst, const float* b, size_t ldb, size_t k, size_t n, size_t nr) {
  ck_gemm_args g{};
  g.b = b;
  g.ldb = ldb;
  const size_t panels = (n + nr - 1) / nr;
  const ck_f32_packa_fn packa = ck_kernels().packa;
  ck_parallel_for(panels,
                  [&](size_t q) { pack_b(packa, dst + q * nr * k, g, 0, k, q * nr, std::min(nr, n - q * nr), nr); });
}

void ck_gemm(float* c, size_t ldc, const float* a, size_t lda, bool trans_a, const float* b, size_t ldb,
             bool trans_b, size_t m, size_t n, size_t k, bool accumulate, const ck_epilogue* ep,
             const ck_prepared_weights* w) {
  const ck_dispatch d = ck_gemm_long_k(ck_kernels(), m, k);
  ck_gemm_args g{c, ldc, a, lda, trans_a, b, ldb, trans_b, m, n, k, accumulate, ep};
  if (w != nullptr && w->data != nullptr && w->form == ck_matmul_weights_form(k, n, trans_b)) {
    g.b_panels = w->data;
    g.b_panels_nr = w->form.param;
  }
  ck_gemm_parallel(d, g);
}

ck_weights_form ck_matmul_weights_form(size_t k, size_t n, bool trans_b) {
  if (trans_b || k == 0 || n == 0) return {};
  const size_t nr = ck_gemm_b_panels_nr(ck_kernels(), n);
  return {CK_WEIGHTS_GEMM_PANELS, ck_isa_current(), nr, 0, k, n, (n + nr - 1) / nr * nr * k};
}

void ck_matmul_prepare_weights(const ck_weights_form& form, float* dst, const float* b, size_t k, size_t n) {
  if (form.kind == CK_WEIGHTS_GEMM_PANELS) ck_gemm_pack_b_panels(dst, b, n, k, n, form.param);
}
