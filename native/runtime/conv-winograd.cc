#include "runtime/conv-winograd.h"

#include <algorithm>
#include <cstring>

#include "runtime/gemm.h"
#include "runtime/parallel.h"
#include "runtime/scratch.h"

namespace {

alignas(64) const float kZeroRow[kWinogradMaxChannels] = {};

// The most the filter gradient's partial sums may take.
constexpr size_t kGradientPartialBytes = size_t(64) << 20;

// G of F(2x2, 3x3) (Lavin & Gray's), of F(4x4, 3x3) (theirs too) and of F(2x2, 5x5) (Cook-Toom's over 0, 1, -1,
// 2, -2 and infinity), to match the B^T and A^T in f32-winograd.h.
constexpr double kG23[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
constexpr double kG43[6][3] = {{1.0 / 4, 0, 0},
                               {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                               {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                               {1.0 / 24, 1.0 / 12, 1.0 / 6},
                               {1.0 / 24, -1.0 / 12, 1.0 / 6},
                               {0, 0, 1}};
constexpr double kG25[6][5] = {{1.0 / 4, 0, 0, 0, 0},
                              {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
                              {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
                              {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
                              {1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
                              {0, 0, 0, 0, 1}};

// U = G g G^T for every (input channel, output channel), in double then rounded once, stored as each position's
// (C x OC) matrix packed into NR-column micropanels: u[((e * panels + q) * C + c) * NR + j] = U(c, q*NR + j)[e],
// zero past OC. g is filter (r,r,C,OC), or with `turned` filter (r,r,OC,C) turned by 180 degrees. Loops over the
// panel's columns so that they vectorize.
template <size_t a, size_t r>
void transform_filter_panel(const double (&G)[a][r], float* u, const float* filter, bool turned, size_t C,
                            size_t OC, size_t NR, size_t c, size_t q) {
  const size_t panels = (OC + NR - 1) / NR, o0 = q * NR, nr = std::min(NR, OC - o0);
  double g[r * r][kWinogradMaxNR] = {}, gg[a][r][kWinogradMaxNR] = {};  // gg = G g
  for (size_t t = 0; t < r * r; ++t)
    for (size_t j = 0; j < nr; ++j)
      g[t][j] = turned ? filter[((r * r - 1 - t) * OC + o0 + j) * C + c] : filter[(t * C + c) * OC + o0 + j];
  for (size_t i = 0; i < a; ++i)
    for (size_t k = 0; k < r; ++k)
      for (size_t kw = 0; kw < r; ++kw)
        for (size_t j = 0; j < NR; ++j) gg[i][kw][j] += G[i][k] * g[k * r + kw][j];
  for (size_t i = 0; i < a; ++i)  // (G g) G^T
    for (size_t k = 0; k < a; ++k) {
      float* dst = u + (((i * a + k) * panels + q) * C + c) * NR;
      for (size_t j = 0; j < NR; ++j) {
        double v = 0;
        for (size_t kw = 0; kw < r; ++kw) v += gg[i][kw][j] * G[k][kw];
        dst[j] = float(v);
      }
    }
}

// The a x a input block of an m x m output block.
size_t block_side(const ck_conv2d_info& s, size_t m) { return m + s.k_h - 1; }

// dfilter[kh][kw][c][o] = (G^T M G)[kh][kw] in double, rounded once, for input channels [c0, c0 + n) (n <= 16),
// where m[(e * OC + o) * C + c] holds position e of the block sums M of the pair (c, o). Vectorizes over c.
template <size_t a, size_t r>
void transform_filter_gradient(const double (&G)[a][r], float* dfilter, const float* m, size_t C, size_t OC,
                               size_t o, size_t c0, size_t n) {
  constexpr size_t W = 16;
  double mg[a][r][W] = {};  // M G
  for (size_t i = 0; i < a; ++i)
    for (size_t j = 0; j < a; ++j) {
      const float* row = m + ((i * a + j) * OC + o) * C + c0;
      for (size_t kw = 0; kw < r; ++kw)
        for (size_t c = 0; c < W; ++c) mg[i][kw][c] += G[j][kw] * double(c < n ? row[c] : 0.0f);
    }
  for (size_t kh = 0; kh < r; ++kh)
    for (size_t kw = 0; kw < r; ++kw) {
      double v[W] = {};
      for (size_t i = 0; i < a; ++i)
        for (size_t c = 0; c < W; ++c) v[c] += G[i][kh] * mg[i][kw][c];
      for (size_t c = 0; c < n; ++c) dfilter[((kh * r + kw) * C + c0 + c) * OC + o] = float(v[c]);
    }
}

// The m x m output blocks of s, and where block blk sits: its image and top-left output pixel.
struct Blocks {
  size_t m, out_h, out_w, bh, bw, count;
  Blocks(const ck_conv2d_info& s, size_t m_)
      : m(m_), out_h(s.out_h), out_w(s.out_w), bh((out_h + m - 1) / m), bw((out_w + m - 1) / m),
        count(s.batch * bh * bw) {}
  struct Origin {
    size_t n, oh, ow;
  };
  Origin operator()(size_t blk) const { return {blk / (bh * bw), m * (blk / bw % bh), m * (blk % bw)}; }
  // dst[m * i + j] = output pixel (i, j) of block blk in t (N,OH,OW,channels), or `outside` past t's edge.
  template <class T>
  void pixels(T** dst, T* t, size_t channels, size_t blk, T* outside) const {
    const auto [n, oh, ow] = (*this)(blk);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < m; ++j)
        dst[m * i + j] = oh + i < out_h && ow + j < out_w ? t + ((n * out_h + oh + i) * out_w + ow + j) * channels
                                                          : outside;
  }
};

// patch[a * i + j] = the input pixel under position (i, j) of the m x m block at (n, oh, ow), or a zero row
// outside x; prefetches the m columns the next block of the row adds, on their way from memory while this one
// computes.
void input_patch(const float** patch, const float* x, const ck_conv2d_info& s, size_t m, size_t n, size_t oh,
                 size_t ow) {
  const size_t a = block_side(s, m), C = s.in_c;
  // Input row i and column j of the block, offset by the padding; unsigned, so one test finds both edges.
  const size_t ih0 = oh - s.pad_top, iw0 = ow - s.pad_left;
  const float* image = x + n * s.in_h * s.in_w * C;
  for (size_t i = 0; i < a; ++i) {
    const bool row_in = ih0 + i < s.in_h;
    const float* row = row_in ? image + (ih0 + i) * s.in_w * C : nullptr;
    for (size_t j = 0; j < a; ++j) patch[a * i + j] = row_in && iw0 + j < s.in_w ? row + (iw0 + j) * C : kZeroRow;
    if (row_in)
      for (size_t j = iw0 + a; j < iw0 + a + m && j < s.in_w; ++j)
        for (size_t off = 0; off < C; off += 16) __builtin_prefetch(row + j * C + off, 0, 3);
  }
}

}  // namespace

bool ck_conv2d_winograd_applies(const ck_conv2d_info& s) {
  const size_t r = s.k_h;
  return (r == 3 || r == 5) && s.k_w == r && s.stride_h == 1 && s.stride_w == 1 && s.dil_h == 1 && s.dil_w == 1 &&
         s.groups == 1 && s.in_c <= kWinogradMaxChannels && s.pad_top < r && s.pad_bottom < r && s.pad_left < r &&
         s.pad_right < r;
}

namespace {

// The microkernel tile of the a^2 products.
const ck_gemm_config& product_tile(const ck_dispatch& d, const ck_conv2d_info& s) {
  return s.out_c <= d.gemm_narrow.nr ? d.gemm_narrow : d.gemm;
}

}  // namespace

size_t ck_winograd_filter_size(const ck_dispatch& d, const ck_conv2d_info& s, size_t m) {
  const size_t NR = product_tile(d, s).nr, a = block_side(s, m);
  return a * a * (s.out_c + NR - 1) / NR * NR * s.in_c;
}

void ck_winograd_transform_filter(const ck_dispatch& d, float* u, const float* filter, const ck_conv2d_info& s,
                                  size_t m, bool turned) {
  const size_t NR = product_tile(d, s).nr;
  ck_parallel_for((s.out_c + NR - 1) / NR, [&](size_t q) {
    for (size_t c = 0; c < s.in_c; ++c)
      if (s.k_h == 5)
        transform_filter_panel(kG25, u, filter, turned, s.in_c, s.out_c, NR, c, q);
      else if (m == 4)
        transform_filter_panel(kG43, u, filter, turned, s.in_c, s.out_c, NR, c, q);
      else
        transform_filter_panel(kG23, u, filter, turned, s.in_c, s.out_c, NR, c, q);
  });
}

void ck_winograd_fwd(const ck_dispatch& d, float* y, const float* x, const float* u, const ck_conv2d_info& s,
                     size_t side, const ck_epilogue* ep) {
  const size_t C = s.in_c, OC = s.out_c;
  const ck_gemm_config& cfg = product_tile(d, s);
  const size_t MR = cfg.mr, NR = cfg.nr, panels = (OC + NR - 1) / NR, a = block_side(s, side), positions = a * a;
  const ck_winograd_kernels& k = ck_winograd(d, side, s.k_h);

  const Blocks origin(s, side);
  const size_t blocks = origin.count;
  // Output blocks per task: their transformed inputs (a^2 x C) and products (a^2 x OC) within half of L2.
  const size_t fit = ck_l2_bytes() / 2 / (positions * (C + OC) * sizeof(float));
  const size_t per = std::max<size_t>(1, std::min<size_t>(fit / MR, 16)) * MR;
  // A cache line more than the block positions' rows need, so that their a^2 streams do not all map to the same
  // L1 sets (with 128 blocks of 16 channels they would be 8 KiB apart).
  const size_t v_stride = per * C + 16, m_stride = per * OC + 16;
  const ck_gemm_params plain{nullptr, CK_ACT_LINEAR, 0.0f, false};
  const ck_gemm_params p = ck_epilogue_params(ep, y, 0);
  const ck_f32_vunary_fn post_act = ep != nullptr && !ck_act_in_ukernel(ep->act) ? d.unary[ep->act] : nullptr;
  // Layers of at most a vector of channels each way (a CIFAR ResNet's first stage) on the product microkernel,
  // whose panel of U is the narrow tile's.
  const bool narrow = d.winograd_product != nullptr && C <= kWinogradProductChannels &&
                      OC <= kWinogradProductChannels && NR == kWinogradProductChannels;
  ck_parallel_for((blocks + per - 1) / per, [&](size_t t) {
    const size_t b0 = t * per, nb = std::min(blocks, b0 + per) - b0;
    float* v = ck_scratch(CK_SCRATCH_IM2COL, positions * v_stride);
    float* m = ck_scratch(CK_SCRATCH_OUTPUT, positions * m_stride);
    const float** rows = reinterpret_cast<const float**>(ck_scratch(CK_SCRATCH_A_ROWS, 2 * (positions + MR)));
    const float** patch = rows + MR;
    for (size_t b = 0; b < nb; ++b) {  // input transforms: v[e] holds position e of every block
      const auto [n, oh, ow] = origin(b0 + b);
      input_patch(patch, x, s, side, n, oh, ow);
      k.input(C, patch, v + b * C, v_stride);
    }
    for (size_t e = 0; e < positions; ++e) {  // m[e] = v[e] . U[e], each B panel used by every row panel in turn
      if (narrow) {
        d.winograd_product(nb, C, OC, v + e * v_stride, u + e * C * NR, m + e * m_stride);
        continue;
      }
      for (size_t q = 0; q < panels; ++q) {
        const float* up = u + (e * panels + q) * C * NR;
        const size_t nr = std::min(NR, OC - q * NR);
        for (size_t i0 = 0; i0 < nb; i0 += MR) {
          const size_t mr = std::min(MR, nb - i0);
          for (size_t r = 0; r < MR; ++r) rows[r] = r < mr ? v + e * v_stride + (i0 + r) * C : kZeroRow;
          cfg.igemm(mr, nr, C, 1, rows, up, m + e * m_stride + i0 * OC + q * NR, OC, &plain);
        }
      }
    }
    for (size_t b = 0; b < nb; ++b) {  // output transforms into y, with the epilogue
      float* out[16];
      if (b + 2 < nb) {  // y's and the residual's pixels two blocks on, on their way from memory
        origin.pixels(out, y, OC, b0 + b + 2, static_cast<float*>(nullptr));
        for (size_t q = 0; q < side * side; ++q)
          for (size_t c = 0; out[q] != nullptr && c < OC; c += 16) {
            __builtin_prefetch(out[q] + c, 1, 3);
            if (p.residual != nullptr) __builtin_prefetch(p.residual + (out[q] - y) + c, 0, 3);
          }
      }
      origin.pixels(out, y, OC, b0 + b, static_cast<float*>(nullptr));
      k.output(OC, m + b * OC, m_stride, out, &p);
      if (post_act != nullptr)
        for (size_t q = 0; q < side * side; ++q)
          if (out[q] != nullptr) post_act(OC, out[q], out[q], ep->alpha);
    }
  });
}

void ck_winograd_bwd_filter(const ck_dispatch& d, float* dfilter, const float* x, const float* dy,
                            const ck_conv2d_info& s, size_t side) {
  const size_t C = s.in_c, OC = s.out_c, a = block_side(s, side), positions = a * a;
  const ck_winograd_kernels& k = ck_winograd(d, side, s.k_h);
  // Each position's product M^T (OC x C) += Z^T . V over a run of blocks, on the wide tile: its rows are output
  // channels, read from Z (the transformed dy) packed as A panels, its columns input channels, from V (the
  // transformed patches) packed as B panels. The transforms write those panels directly.
  const ck_gemm_config& cfg = d.gemm;
  const size_t MR = cfg.mr, NR = cfg.nr, row_panels = (OC + MR - 1) / MR, col_panels = (C + NR - 1) / NR;
  const Blocks origin(s, side);
  // Chunks of at most 256 blocks, as many as a multiple of 8 so that 2, 4 or 8 threads share them evenly, but
  // fewer where wide layers would make the partials outgrow kGradientPartialBytes. Both from the shape alone.
  const size_t part = positions * OC * C;
  const size_t most = std::max<size_t>(1, kGradientPartialBytes / (part * sizeof(float)));
  const size_t even = std::min(most, ((origin.count + 255) / 256 + 7) / 8 * 8);
  const size_t chunk = (origin.count + even - 1) / even, chunks = (origin.count + chunk - 1) / chunk;
  // With fewer chunks than the pool wants, tasks also split the output channels (row panels), each transforming
  // the patches again: that changes no sum.
  const size_t splits_wanted = std::min(row_panels, (2 * ck_threads() + chunks - 1) / chunks);
  const size_t panels_per = (row_panels + splits_wanted - 1) / splits_wanted;
  const size_t splits = (row_panels + panels_per - 1) / panels_per;
  // Blocks per run: their transformed patches and dy within L2, the chunk cut into equal runs.
  const size_t fit = ck_l2_bytes() / (positions * (panels_per * MR + col_panels * NR) * sizeof(float));
  const size_t fits = std::max<size_t>(1, fit), runs = (chunk + fits - 1) / fits, per = (chunk + runs - 1) / runs;
  // A cache line more than a position's panels need, as in the forward.
  const size_t v_stride = col_panels * NR * per + 16, z_stride = panels_per * MR * per + 16;
  float* partials = ck_scratch(CK_SCRATCH_FILTER, chunks * part);
  ck_parallel_for(chunks * splits, [&](size_t t) {
    const size_t b0 = t / splits * chunk, b1 = std::min(origin.count, b0 + chunk);
    const size_t p0 = t % splits * panels_per, p1 = std::min(row_panels, p0 + panels_per);
    float* v = ck_scratch(CK_SCRATCH_IM2COL, positions * v_stride);
    float* z = ck_scratch(CK_SCRATCH_OUTPUT, positions * z_stride);
    const float** patch = reinterpret_cast<const float**>(ck_scratch(CK_SCRATCH_A_ROWS, 4 * positions + 64));
    const float** shifted = patch + positions;
    const float** g = shifted + positions;
    // The last panels' rows or columns past OC or C stay zero (the microkernels compute them, never store them).
    for (size_t e = 0; e < positions; ++e) {
      if (C % NR != 0) std::memset(v + e * v_stride + (col_panels - 1) * NR * per, 0, NR * per * sizeof(float));
      if (OC % MR != 0 && p1 == row_panels)
        std::memset(z + e * z_stride + (p1 - 1 - p0) * MR * per, 0, MR * per * sizeof(float));
    }
    float* m = partials + t / splits * part;
    for (size_t r0 = b0; r0 < b1; r0 += per) {
      const size_t nb = std::min(per, b1 - r0);
      for (size_t b = 0; b < nb; ++b) {
        const auto [n, oh, ow] = origin(r0 + b);
        input_patch(patch, x, s, side, n, oh, ow);
        for (size_t q = 0; q < col_panels; ++q) {
          for (size_t e = 0; e < positions; ++e) shifted[e] = patch[e] + q * NR;
          k.input(std::min(NR, C - q * NR), shifted, v + (q * per + b) * NR, v_stride);
        }
        origin.pixels(g, dy, OC, r0 + b, kZeroRow);
        for (size_t p = p0; p < p1; ++p) {
          for (size_t q = 0; q < side * side; ++q) shifted[q] = g[q] + p * MR;
          k.gradient(std::min(MR, OC - p * MR), shifted, z + ((p - p0) * per + b) * MR, z_stride);
        }
      }
      const ck_gemm_params sum{nullptr, CK_ACT_LINEAR, 0.0f, r0 > b0};
      for (size_t e = 0; e < positions; ++e)  // each B panel used by every row panel in turn
        for (size_t q = 0; q < col_panels; ++q)
          for (size_t p = p0; p < p1; ++p)
            cfg.ukernel(std::min(MR, OC - p * MR), std::min(NR, C - q * NR), nb, z + e * z_stride + (p - p0) * MR * per,
                        v + e * v_stride + q * NR * per, m + (e * OC + p * MR) * C + q * NR, C, &sum);
    }
  });
  float* total = ck_scratch(CK_SCRATCH_OUTPUT, part);
  ck_sum_partials(d, total, partials, chunks, part);
  const size_t vectors = (C + 15) / 16;
  ck_parallel_for(OC * vectors, [&](size_t t) {
    const size_t o = t / vectors, c0 = t % vectors * 16, n = std::min<size_t>(16, C - c0);
    if (s.k_h == 5)
      transform_filter_gradient(kG25, dfilter, total, C, OC, o, c0, n);
    else if (side == 4)
      transform_filter_gradient(kG43, dfilter, total, C, OC, o, c0, n);
    else
      transform_filter_gradient(kG23, dfilter, total, C, OC, o, c0, n);
  });
}
