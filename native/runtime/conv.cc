// 2-D convolution lowered onto the GEMM; the lowered input (im2col) never exists in full.
// - Forward reads it in place through row pointers (ConvRows, the igemm microkernel).
// - Backward-input is a convolution of dy (GradRows), one per phase of dx when strided; with fewer than NR/2
//   channels it multiplies dy by the filter in tiles of pixels and adds the tiles back into dx (col2im).
// - Backward-filter is dfilter^T = dy^T . lowered x, its B rows read from x in place (tall tiles) or packed panel by
//   panel as they are used.
// 1x1 / stride 1 / no padding is a plain GEMM over x; depthwise runs directly (conv-depthwise.cc), and so
// does a one-channel input at stride 1 (the f32-conv1c kernel, forward and backward-input).
// Determinism: forward and backward-input tasks own disjoint outputs; backward-filter tasks sum fixed chunks of
// pixels into partials, which are added in chunk order.
#include <algorithm>
#include <cstring>
#include <vector>

#include "convkit/isa.h"
#include "convkit/ops.h"
#include "runtime/conv-depthwise.h"
#include "runtime/conv-winograd.h"
#include "runtime/gemm.h"
#include "runtime/parallel.h"
#include "runtime/scratch.h"

namespace {

// Backward-filter reads its B rows (a tap's channels at each pixel) in place, through row pointers, when the
// tile has at least this many rows: each B vector then feeds that many FMAs, so streaming the rows from L2
// (they sit a pixel apart, not packed in L1) costs nothing. Paired A/B on Zen 4 against packing each panel:
// the 14-row AVX-512 tile 1.04-1.09x on the conv layers of bench/, the 6-row AVX2 tile 0.85-0.93x (its rows,
// a pixel apart, missed L1 three times as often as a packed panel: cachegrind on Zen 3).
constexpr size_t kBInPlaceMinRows = 12;

// Pixels per backward-filter partial sum: fixed, never derived from the thread count, so the sums and their
// order are the same for any number of threads.
constexpr size_t kPixelChunk = 1024;

// Bytes of a strided backward-input phase's rows per task: computed, then scattered into dx from L2.
constexpr size_t kPhaseBlockBytes = 256 << 10;

// Bytes of convolution output per task of a fused convolution + pooling: computed, then pooled from L2.
constexpr size_t kFusedBytes = 256 << 10;

struct Geometry {
  size_t cg, ocg, kc;  // channels per group, out channels per group, GEMM depth KH*KW*cg
  size_t ohw, m;       // pixels per image, N*OH*OW
};

Geometry geometry(const ck_conv2d_info& s) {
  Geometry g;
  g.cg = s.in_c / s.groups;
  g.ocg = s.out_c / s.groups;
  g.kc = s.k_h * s.k_w * g.cg;
  g.ohw = s.out_h * s.out_w;
  g.m = s.batch * g.ohw;
  return g;
}

// Rows of the pointwise shortcut's GEMM are pixels of x itself.
bool is_pointwise(const ck_conv2d_info& s) {
  return s.k_h == 1 && s.k_w == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 && s.pad_left == 0 &&
         s.pad_bottom == 0 && s.pad_right == 0 && s.groups == 1 && s.out_h == s.in_h && s.out_w == s.in_w;
}

// Visits output pixel rows [r0, r1) x lowered columns [k0, k1) of group grp as runs of adjacent columns:
// fn(row, col, offset, run), where the run's values are x[offset .. offset+run) or, for offset SIZE_MAX,
// zeros (padding). Runs are as long as the layout allows: padding runs cover every outside tap in a row of
// the kernel, and with one group and no horizontal dilation the taps of a kernel row are adjacent in x.
template <class Fn>
void for_each_run(const ck_conv2d_info& s, const Geometry& geo, size_t grp, size_t r0, size_t r1, size_t k0,
                  size_t k1, Fn&& fn) {
  const size_t row_len = s.k_w * geo.cg;  // lowered columns per kernel row
  const bool merge = s.groups == 1 && s.dil_w == 1;
  const ptrdiff_t dw = ptrdiff_t(s.dil_w);
  // Where k0 falls in the kernel; after the first run of a row every run starts at a tap (ci = 0).
  const size_t kh0 = k0 / row_len, kw0 = (k0 % row_len) / geo.cg, ci0 = k0 % geo.cg;
  // Output pixel r = (n, oh, ow), stepped without division.
  size_t n = r0 / geo.ohw, oh = (r0 % geo.ohw) / s.out_w, ow = r0 % s.out_w;
  for (size_t r = r0; r < r1; ++r) {
    const ptrdiff_t ih0 = ptrdiff_t(oh * s.stride_h) - ptrdiff_t(s.pad_top);
    const ptrdiff_t iw0 = ptrdiff_t(ow * s.stride_w) - ptrdiff_t(s.pad_left);
    const size_t image = n;
    if (++ow == s.out_w) {
      ow = 0;
      if (++oh == s.out_h) {
        oh = 0;
        ++n;
      }
    }
    size_t kh = kh0, kw = kw0, ci = ci0;
    for (size_t col = k0; col < k1;) {
      const ptrdiff_t ih = ih0 + ptrdiff_t(kh * s.dil_h), iw = iw0 + ptrdiff_t(kw) * dw;
      size_t next_kw, off = SIZE_MAX;  // the tap after this run
      if (ih < 0 || ih >= ptrdiff_t(s.in_h) || iw >= ptrdiff_t(s.in_w)) {
        next_kw = s.k_w;  // the rest of this kernel row is outside
      } else if (iw < 0) {
        next_kw = std::min(size_t((-iw0 + dw - 1) / dw), s.k_w);
      } else {
        off = ((image * s.in_h + size_t(ih)) * s.in_w + size_t(iw)) * s.in_c + grp * geo.cg + ci;
        next_kw = merge ? size_t(std::min(ptrdiff_t(s.k_w), ptrdiff_t(s.in_w) - iw0)) : kw + 1;
      }
      const size_t run = std::min((next_kw - kw) * geo.cg - ci, k1 - col);
      fn(r, col, off, run);
      col += run;
      ci = 0;
      kw = next_kw;
      if (kw == s.k_w) {
        kw = 0;
        ++kh;
      }
    }
  }
}

// dx += the lowered gradient dcols (rows [r0, r1), all columns) of group grp, in row-major order.
void col2im(float* dx, const float* dcols, const ck_dispatch& d, const ck_conv2d_info& s, const Geometry& geo,
            size_t grp, size_t r0, size_t r1) {
  for_each_run(s, geo, grp, r0, r1, 0, geo.kc, [&](size_t r, size_t col, size_t off, size_t run) {
    if (off == SIZE_MAX) return;
    const float* src = dcols + (r - r0) * geo.kc + col;
    if (run < 32) {  // a call per short run (LeNet conv2: 5 x 6 channels) costs more than the adds: 1.06-1.1x
      for (size_t i = 0; i < run; ++i) dx[off + i] += src[i];
    } else {
      d.vadd(run, dx + off, src, dx + off);
    }
  });
}

// With one group and no horizontal dilation a whole kernel row (KW*C values) is contiguous in x, so a tap is a
// kernel row: KW times fewer pointers and longer inner loops.
bool merged_taps(const ck_conv2d_info& s) { return s.groups == 1 && s.dil_w == 1; }

// For merged taps, the kernel rows that cross an edge, with their zeros: for every input row and every output
// column outside ck_conv2d_inside_columns, the KW*C values that column's kernel row reads from that input row,
// written out once per call ((N*H) x edge columns x KW*C floats, in the caller's scratch). Null when no kernel row
// crosses an edge.
const float* edge_strips(const float* x, const ck_conv2d_info& s) {
  const ck_column_span span = ck_conv2d_inside_columns(s);
  const size_t edges = s.out_w - (span.hi - span.lo), len = s.k_w * s.in_c, c = s.in_c;
  if (!merged_taps(s) || edges == 0) return nullptr;
  float* strips = ck_scratch(CK_SCRATCH_OUTPUT, s.batch * s.in_h * edges * len);
  ck_parallel_for(s.batch, [&](size_t n) {
    for (size_t h = 0; h < s.in_h; ++h) {
      const float* src = x + (n * s.in_h + h) * s.in_w * c;
      float* dst = strips + (n * s.in_h + h) * edges * len;
      for (size_t ow = 0; ow < s.out_w; ++ow) {
        if (ow == span.lo) ow = span.hi;
        if (ow == s.out_w) break;
        const ptrdiff_t iw = ptrdiff_t(ow * s.stride_w) - ptrdiff_t(s.pad_left), k_w = ptrdiff_t(s.k_w);
        const ptrdiff_t c0 = std::clamp<ptrdiff_t>(-iw, 0, k_w);
        const ptrdiff_t c1 = std::clamp<ptrdiff_t>(ptrdiff_t(s.in_w) - iw, c0, k_w);
        std::fill(dst, dst + size_t(c0) * c, 0.0f);  // kernel columns [c0, c1) are inside
        std::copy(src + size_t(iw + c0) * c, src + size_t(iw + c1) * c, dst + size_t(c0) * c);
        std::fill(dst + size_t(c1) * c, dst + len, 0.0f);
        dst += len;
      }
    }
  });
  return strips;
}

// x with its left and right padding written out as zeros, (N, H, W + pl + pr, C) in the caller's scratch, and
// in sp the geometry that reads it (no horizontal padding): kernel rows at the image's edges are then
// contiguous in x, and no edge strips are needed. Only for narrow images, where edge columns are a large share
// of each row: (pl + pr) x KH x KW > W + pl + pr. Paired A/B on Zen 4 against copying edge kernel rows tile by
// tile: the 14-wide 5x5 Fashion layer 1.05x forward and 1.07-1.10x backward-filter; copying the 28- and 56-wide
// 3x3 layers anyway was 0.94-0.98x. Against edge strips on Zen 5, the copy still ran the backward-filter of
// the 14-wide 5x5 and 8-wide 3x3 layers 1.05-1.09x faster.
const float* pad_columns(const float* x, const ck_conv2d_info& s, ck_conv2d_info& sp) {
  sp = s;
  const size_t pads = s.pad_left + s.pad_right;
  if (!merged_taps(s) || pads * s.k_h * s.k_w <= s.in_w + pads) return nullptr;
  sp.in_w = s.in_w + pads;
  sp.pad_left = sp.pad_right = 0;
  const size_t c = s.in_c, row = sp.in_w * c;
  float* xp = ck_scratch(CK_SCRATCH_OUTPUT, s.batch * s.in_h * row);
  ck_parallel_for(s.batch, [&](size_t n) {
    for (size_t h = 0; h < s.in_h; ++h) {
      float* dst = xp + (n * s.in_h + h) * row;
      std::memset(dst, 0, s.pad_left * c * sizeof(float));
      std::memcpy(dst + s.pad_left * c, x + (n * s.in_h + h) * s.in_w * c, s.in_w * c * sizeof(float));
      std::memset(dst + (s.pad_left + s.in_w) * c, 0, s.pad_right * c * sizeof(float));
    }
  });
  return xp;
}

// x as the lowered rows read it: its columns padded (pad_columns; s then the geometry that reads the copy), or
// x itself with edge strips for the kernel rows that cross an edge.
struct LoweredInput {
  const float* x;
  const float* strips;
  ck_conv2d_info s;
};

LoweredInput lowered_input(const float* x, const ck_conv2d_info& s) {
  LoweredInput in{x, nullptr, s};
  if (const float* xp = pad_columns(x, s, in.s))
    in.x = xp;
  else
    in.strips = edge_strips(x, s);
  return in;
}

// The lowered input of group grp (rows = output pixels, KH*KW*cg columns), as pointers into x: a tap is a
// kernel row where the taps merge (merged_taps), else one (kh, kw) of cg channels. A merged tap that crosses
// an edge points into edge_strips; an unmerged one outside the input, or any tap in the top or bottom padding,
// is null.
class ConvRows final : public ck_gemm_a_rows {
 public:
  ConvRows(const LoweredInput& in, const Geometry& geo, size_t grp)
      : ck_gemm_a_rows(merged_taps(in.s) ? in.s.k_h : in.s.k_h * in.s.k_w,
                       merged_taps(in.s) ? in.s.k_w * in.s.in_c : geo.cg),
        x_(in.x + grp * geo.cg), strips_(in.strips), s_(in.s), geo_(geo), merged_(merged_taps(in.s)),
        span_(ck_conv2d_inside_columns(in.s)), edges_(in.s.out_w - (span_.hi - span_.lo)) {}

  void rows(const float** dst, size_t i0, size_t mr, size_t MR, size_t s0, size_t s1) const override {
    // Output pixel i0 + r = (n, oh, ow), a run of pixels of one output row at a time.
    size_t n = i0 / geo_.ohw, oh = (i0 % geo_.ohw) / s_.out_w, ow = i0 % s_.out_w;
    for (size_t r = 0; r < mr;) {
      const size_t len = std::min(mr - r, s_.out_w - ow);
      row_run(dst + r, MR, n, oh, ow, len, s0, s1);
      r += len;
      ow = 0;
      if (++oh == s_.out_h) oh = 0, ++n;
    }
  }

 private:
  // Pixels (n, oh, ow0 + q) for q < len, at dst[t * MR + q] for taps t in [s0, s1): inside columns are one base
  // pointer stepped by stride_w pixels (for a 1-channel first layer the per-pixel work costs more than the few
  // multiply-adds a pointer feeds), the rest are looked up one by one.
  void row_run(const float** dst, size_t MR, size_t n, size_t oh, size_t ow0, size_t len, size_t s0, size_t s1) const {
    const size_t taps_w = merged_ ? 1 : s_.k_w, c = s_.in_c, step = s_.stride_w * c;
    const size_t lo = std::clamp(span_.lo, ow0, ow0 + len), hi = std::clamp(span_.hi, lo, ow0 + len);
    const ptrdiff_t ih0 = ptrdiff_t(oh * s_.stride_h) - ptrdiff_t(s_.pad_top);
    const float* image = x_ + n * s_.in_h * s_.in_w * c;
    for (size_t t = s0, kh = s0 / taps_w, kw = s0 % taps_w; t < s1; ++t, dst += MR) {
      const ptrdiff_t ih = ih0 + ptrdiff_t(kh * s_.dil_h);
      const ptrdiff_t shift = ptrdiff_t(kw * s_.dil_w) - ptrdiff_t(s_.pad_left);  // output column 0's input column
      if (ih < 0 || ih >= ptrdiff_t(s_.in_h)) {
        std::fill(dst, dst + len, nullptr);
      } else {
        const float* row = image + size_t(ih) * s_.in_w * c;
        if (lo < hi) {
          const float* base = row + size_t(ptrdiff_t(lo * s_.stride_w) + shift) * c;
          for (size_t q = lo; q < hi; ++q) dst[q - ow0] = base + (q - lo) * step;
        }
        for (size_t q = ow0; q < ow0 + len; ++q) {
          if (q == lo) q = hi;
          if (q == ow0 + len) break;
          dst[q - ow0] = edge_tap(n, size_t(ih), q, row, shift);
        }
      }
      if (++kw == taps_w) kw = 0, ++kh;
    }
  }

  // Output column q's tap in input row ih, for a column outside ck_conv2d_inside_columns.
  const float* edge_tap(size_t n, size_t ih, size_t q, const float* row, ptrdiff_t shift) const {
    if (merged_) {
      const size_t edge = q < span_.lo ? q : q - (span_.hi - span_.lo);  // its index among the edge columns
      return strips_ + ((n * s_.in_h + ih) * edges_ + edge) * tap_len;
    }
    const ptrdiff_t iw = ptrdiff_t(q * s_.stride_w) + shift;
    return iw >= 0 && iw < ptrdiff_t(s_.in_w) ? row + size_t(iw) * s_.in_c : nullptr;
  }

  const float* x_;
  const float* strips_;
  const ck_conv2d_info& s_;
  const Geometry& geo_;
  const bool merged_;
  const ck_column_span span_;
  const size_t edges_;
};


// The backward-filter product's B = lowered x, rows [k0, k0+kn): ptr[t * kn + k] -> pixel k0 + k's values
// for tap t (tap_len contiguous floats), or null in the padding. Column j is tap j / tap_len, value j % tap_len.
const float* const* lowered_rows(const ConvRows& rows, size_t k0, size_t kn, const float* zeros = nullptr) {
  const float** ptr = reinterpret_cast<const float**>(ck_scratch(CK_SCRATCH_A_ROWS, 2 * rows.taps * kn));
  rows.rows(ptr, k0, kn, kn, 0, rows.taps);
  if (zeros != nullptr)
    for (size_t i = 0; i < rows.taps * kn; ++i)
      if (ptr[i] == nullptr) ptr[i] = zeros;
  return ptr;
}

// dst[k * NR + i] = src[k][off + i] (zeros for null rows) for k < kn, i < n. A whole panel row (n = NR, the
// common case) has a constant length, so the copy is a few vector moves instead of a loop per value.
template <size_t N = 0>
void copy_rows(float* dst, const float* const* src, size_t off, size_t kn, size_t NR, size_t n = N) {
  for (size_t k = 0; k < kn; ++k, dst += NR)
    if (src[k] != nullptr)
      std::memcpy(dst, src[k] + off, (N ? N : n) * sizeof(float));
    else
      std::memset(dst, 0, (N ? N : n) * sizeof(float));
}

// B panel of columns [jr, jr+nr) as a k-major NR-column panel (zero-padded) at panel: the panel's columns
// are at most a few runs of taps, so each pixel's row is one or two short copies.
void pack_lowered_panel(float* panel, const float* const* ptr, size_t tap_len, size_t kn, size_t jr, size_t nr,
                        size_t NR) {
  for (size_t j = jr; j < jr + nr;) {  // one run of the panel's columns within tap t
    const size_t t = j / tap_len, off = j % tap_len, run = std::min(tap_len - off, jr + nr - j);
    const float* const* src = ptr + t * kn;
    float* dst = panel + (j - jr);
    if (run == 8)
      copy_rows<8>(dst, src, off, kn, NR);
    else if (run == 16)
      copy_rows<16>(dst, src, off, kn, NR);
    else if (run == 32)
      copy_rows<32>(dst, src, off, kn, NR);
    else
      copy_rows(dst, src, off, kn, NR, run);
    j += run;
  }
  if (nr < NR)
    for (size_t k = 0; k < kn; ++k) std::memset(panel + k * NR + nr, 0, (NR - nr) * sizeof(float));
}

// dx, one phase at a time, as a stride-1 correlation of dy. A phase (r_h, r_w) is dx's pixels (n, r_h + sh*a,
// r_w + sw*b), a < hp, b < wp; the filter taps (kh, kw) that reach them are those with r_h + pad_top - kh*dil_h
// divisible by sh (and likewise across), and each reads dy at (a + dh, b + dw) for a fixed offset. At stride 1
// there is one phase, every tap, and the rows are dx's own pixels. Null where dy has no such pixel.
struct PhaseTap {
  size_t tap;          // kh * KW + kw
  ptrdiff_t dh, dw;  // dy pixel offset from (a, b)
};

class GradRows final : public ck_gemm_a_rows {
 public:
  GradRows(const float* dy, const ck_conv2d_info& s, const Geometry& geo, size_t grp, size_t hp, size_t wp,
           const std::vector<PhaseTap>& taps)
      : ck_gemm_a_rows(taps.size(), geo.ocg), dy_(dy + grp * geo.ocg), s_(s), hp_(hp), wp_(wp), taps_(taps) {}

  void rows(const float** dst, size_t i0, size_t mr, size_t MR, size_t s0, size_t s1) const override {
    const ptrdiff_t out_h = ptrdiff_t(s_.out_h), out_w = ptrdiff_t(s_.out_w);
    size_t n = i0 / (hp_ * wp_), a = (i0 % (hp_ * wp_)) / wp_, b = i0 % wp_;  // stepped without division
    for (size_t r = 0; r < mr; ++r) {
      const float* image = dy_ + n * s_.out_h * s_.out_w * s_.out_c;
      for (size_t t = s0; t < s1; ++t) {
        const ptrdiff_t oh = ptrdiff_t(a) + taps_[t].dh, ow = ptrdiff_t(b) + taps_[t].dw;
        dst[(t - s0) * MR + r] = oh >= 0 && oh < out_h && ow >= 0 && ow < out_w
                                     ? image + (size_t(oh) * s_.out_w + size_t(ow)) * s_.out_c
                                     : nullptr;
      }
      if (++b == wp_) {
        b = 0;
        if (++a == hp_) a = 0, ++n;
      }
    }
  }

 private:
  const float* dy_;
  const ck_conv2d_info& s_;
  size_t hp_, wp_;
  const std::vector<PhaseTap>& taps_;
};

// One input channel at stride 1 without dilation (a grayscale first layer): no GEMM, the direct kernel runs
// along output rows over a zero-padded copy of the image, so its inner loop has no edge tests. Tasks take an
// image's rows in chunks (each copies the small image once); at least about four per thread.
bool one_channel(const ck_conv2d_info& s) {
  return s.in_c == 1 && s.groups == 1 && s.stride_h == 1 && s.stride_w == 1 && s.dil_h == 1 && s.dil_w == 1;
}

// Images [n0, n1) of a one-channel x, zero-padded, into this thread's scratch: rows (in_h + pad_top +
// pad_bottom) of `stride` floats each, the image at (pad_top, pad_left).
float* padded_images(const float* x, const ck_conv2d_info& s, size_t n0, size_t n1, size_t stride) {
  const size_t rows = s.in_h + s.pad_top + s.pad_bottom;
  float* padded = ck_scratch(CK_SCRATCH_IM2COL, (n1 - n0) * rows * stride);
  std::fill(padded, padded + (n1 - n0) * rows * stride, 0.0f);
  for (size_t n = n0; n < n1; ++n)
    for (size_t h = 0; h < s.in_h; ++h)
      std::copy_n(x + (n * s.in_h + h) * s.in_w, s.in_w, padded + ((n - n0) * rows + s.pad_top + h) * stride + s.pad_left);
  return padded;
}

// Kernels 3 or 5 wide at stride 1 without dilation, one group, at most KW / 2 padded columns on each side (a
// ResNet's 'same' layers): the direct kernels (f32-dconv.h) where the ISA has them, with no lowering, no row
// pointers and no edge strips; within limits measured against the GEMM path (docs/kernels.md).
bool direct_shape(const ck_conv2d_info& s) {
  return (s.k_w == 3 || s.k_w == 5) && s.stride_h == 1 && s.stride_w == 1 && s.dil_h == 1 && s.dil_w == 1 &&
         s.groups == 1 && 2 * s.pad_left <= s.k_w && 2 * s.pad_right <= s.k_w;
}

size_t filter_bytes(const ck_conv2d_info& s) { return s.k_h * s.k_w * s.in_c * s.out_c * sizeof(float); }

// The forward kernel reads its weights as stored, all of them for every output row: within half of L2 they stay
// there (the Fashion layer's 200 KiB, forward 1.11-1.31x and backward-input 1.34-1.51x on Zen 5's 1 MiB); the
// VGG layer's 576 KiB ran forward no faster than the GEMM path, and 3 x 3 x 256 x 256 (2.25 MiB) at half its speed.
bool direct_conv(const ck_conv2d_info& s) {
  return direct_shape(s) && filter_bytes(s) <= ck_l2_bytes() / 2;
}

// The side of the output blocks of the Winograd algorithm that computes s, under the first of `limits` it meets
// (kWinogradLimits or kWinogradGradientLimits, docs/kernels.md), or 0 where none beats the direct kernel and the
// GEMM path: with few input channels the products are too shallow for the microkernel's tile, and with few output
// pixels the filter transform (forward) or the partial sums (filter gradient) do not pay for themselves.
template <size_t N>
size_t winograd_side(const ck_conv2d_info& s, const ck_winograd_limit (&limits)[N]) {
  if (!ck_conv2d_winograd_applies(s)) return 0;
  for (const ck_winograd_limit& limit : limits)
    if (limit.kernel == s.k_h && s.in_c >= limit.min_channels && s.batch * s.out_h * s.out_w >= limit.min_pixels)
      return limit.side;
  return 0;
}

// The filter of s (with `turned`, of the convolution s computes an input gradient for) transformed for Winograd
// F(side x side, r x r), in this thread's scratch.
const float* winograd_filter(const ck_dispatch& d, const float* filter, const ck_conv2d_info& s, size_t side,
                             bool turned = false) {
  float* u = ck_scratch(CK_SCRATCH_FILTER, ck_winograd_filter_size(d, s, side));
  ck_winograd_transform_filter(d, u, filter, s, side, turned);
  return u;
}

// The convolution of dy that gives the input gradient of s (stride 1, no dilation, one group, padded by less than
// the kernel a side): dy padded by K - 1 - pad, with the filter turned by 180 degrees and its channels swapped. The
// direct kernel and Winograd (under the forward's rule) both compute it.
ck_conv2d_info input_gradient_conv(const ck_conv2d_info& s) {
  return {s.batch, s.out_h, s.out_w, s.out_c, s.in_h, s.in_w, s.in_c, s.k_h, s.k_w, 1, 1, 1, 1,
          s.k_h - 1 - s.pad_top, s.k_h - 1 - s.pad_bottom, s.k_w - 1 - s.pad_left, s.k_w - 1 - s.pad_right, 1};
}

// The gradient kernel holds no weights: 3-wide kernels up to 128 channels (the VGG layer 1.09-1.20x), 5-wide
// ones up to 16 (1.3-2.1x; the Fashion layer's 32 ran at 0.83-0.87x).
bool direct_conv_grad(const ck_conv2d_info& s) { return direct_shape(s) && s.in_c <= (s.k_w == 3 ? 128 : 16); }

// Input row oh + kh - pad_top of image n (rows of in_w x in_c), null where that row is padding.
const float* input_row(const float* x, const ck_conv2d_info& s, size_t n, size_t oh, size_t kh) {
  const size_t ih = oh + kh - s.pad_top;  // wraps around for the top padding
  return oh + kh < s.pad_top || ih >= s.in_h ? nullptr : x + (n * s.in_h + ih) * s.in_w * s.in_c;
}

// Output rows in bands of consecutive rows, about four per thread, so each thread streams through its part of x.
void direct_conv_fwd(const ck_dispatch& d, float* y, const float* x, const float* filter, const ck_conv2d_info& s,
                     const ck_epilogue* ep) {
  const size_t rows = s.batch * s.out_h, row_out = s.out_w * s.out_c;
  const ck_gemm_params p = ck_epilogue_params(ep, y, 0);
  const ck_f32_vunary_fn post_act = ep != nullptr && !ck_act_in_ukernel(ep->act) ? d.unary[ep->act] : nullptr;
  const size_t per = (rows + 4 * ck_threads() - 1) / (4 * ck_threads());
  ck_parallel_for((rows + per - 1) / per, [&](size_t t) {
    std::vector<const float*> in(s.k_h);
    for (size_t r = t * per; r < std::min(rows, (t + 1) * per); ++r) {
      const size_t n = r / s.out_h, oh = r % s.out_h;
      for (size_t kh = 0; kh < s.k_h; ++kh) in[kh] = input_row(x, s, n, oh, kh);
      float* out = y + r * row_out;
      d.dconv(s.k_h, s.k_w, s.out_w, s.in_w, s.pad_left, s.in_c, s.out_c, in.data(), filter, out, &p);
      if (post_act != nullptr) post_act(row_out, out, out, ep->alpha);
    }
  });
}

// The GEMM path runs the backward-input slower than the forward, so the direct kernel pays up to filters of all
// of L2 there: 576-900 KiB filters ran 1.05-1.17x faster on two Zen 5 threads (docs/kernels.md).
bool direct_conv_bwd_input(const ck_conv2d_info& s) {
  return direct_shape(s) && filter_bytes(s) <= ck_l2_bytes() && s.pad_left == s.k_w / 2 && s.pad_right == s.k_w / 2 &&
         s.pad_top < s.k_h && s.pad_bottom < s.k_h;
}

void direct_conv_bwd_input_run(const ck_dispatch& d, float* dx, const float* dy, const float* filter,
                               const ck_conv2d_info& s) {
  const size_t c = s.in_c, oc = s.out_c, taps = s.k_h * s.k_w;
  float* turned = ck_scratch(CK_SCRATCH_FILTER, taps * c * oc);  // [tap][o][ci] = filter[taps - 1 - tap][ci][o]
  for (size_t tap = 0; tap < taps; ++tap)
    for (size_t ci = 0; ci < c; ++ci)
      for (size_t o = 0; o < oc; ++o) turned[(tap * oc + o) * c + ci] = filter[((taps - 1 - tap) * c + ci) * oc + o];
  direct_conv_fwd(d, dx, dy, turned, input_gradient_conv(s), nullptr);
}

// The filter gradient within the direct kernel's limits: fixed chunks of output rows (about kPixelChunk pixels,
// whatever the thread count), each summing every kernel row's products into its own partial, added in chunk
// order at the end.
void direct_conv_bwd_filter(const ck_dispatch& d, float* dfilter, const float* x, const float* dy,
                            const ck_conv2d_info& s) {
  const size_t rows = s.batch * s.out_h, per = std::max<size_t>(1, kPixelChunk / s.out_w);
  const size_t chunks = (rows + per - 1) / per, row_out = s.out_w * s.out_c;
  const size_t kernel_row = s.k_w * s.in_c * s.out_c, part = s.k_h * kernel_row;
  float* partials = ck_scratch(CK_SCRATCH_FILTER, chunks * part);
  ck_parallel_for(chunks, [&](size_t t) {
    const size_t r0 = t * per, r1 = std::min(rows, r0 + per);
    std::vector<const float*> x_rows(r1 - r0), dy_rows(r1 - r0);
    for (size_t kh = 0; kh < s.k_h; ++kh) {
      size_t n = 0;
      for (size_t r = r0; r < r1; ++r) {
        const float* in = input_row(x, s, r / s.out_h, r % s.out_h, kh);
        if (in == nullptr) continue;
        x_rows[n] = in;
        dy_rows[n++] = dy + r * row_out;
      }
      d.dconv_grad(s.k_w, n, x_rows.data(), dy_rows.data(), s.out_w, s.in_w, s.pad_left, s.in_c, s.out_c,
                   partials + t * part + kh * kernel_row);
    }
  });
  ck_sum_partials(d, dfilter, partials, chunks, part);  // dfilter (KH, KW, C, OC) is the partials' layout
}

// Few filters (2 oc <= the vector width): the filter gradient's vectors hold several pixels' channels.
bool conv1c_few_filters(const ck_dispatch& d, const ck_conv2d_info& s) {
  return d.conv1c_grad != nullptr && 2 * s.out_c <= d.conv1c_width;
}

// Image n of a one-channel x zero-padded, every value repeated oc times, into this thread's scratch (the
// few-filter gradient's xr): rows of (in_w + pl + pr) * oc floats, then 2 * width zeros its last vectors may read.
float* repeated_image(const float* x, const ck_conv2d_info& s, size_t n, size_t width) {
  const size_t cols = s.in_w + s.pad_left + s.pad_right, rows = s.in_h + s.pad_top + s.pad_bottom, oc = s.out_c;
  const size_t stride = cols * oc, size = rows * stride + 2 * width + 8;
  float* xr = ck_scratch(CK_SCRATCH_IM2COL, size);
  // Each value is written once: the padding rows and columns with zeros, the image rows with copies.
  std::fill(xr, xr + s.pad_top * stride, 0.0f);
  for (size_t h = 0; h < s.in_h; ++h) {
    const float* src = x + (n * s.in_h + h) * s.in_w;
    float* row = xr + (s.pad_top + h) * stride;
    float* dst = row + s.pad_left * oc;
    std::fill(row, dst, 0.0f);
    if (oc <= 8) {  // 8 copies of each pixel, a constant-length store, each overlapping the next pixel's
      for (size_t w = 0; w < s.in_w; ++w) {
        const float v = src[w], copies[8] = {v, v, v, v, v, v, v, v};
        std::memcpy(dst + w * oc, copies, sizeof copies);
      }
    } else {
      for (size_t w = 0; w < s.in_w; ++w) std::fill(dst + w * oc, dst + (w + 1) * oc, src[w]);
    }
    // the right padding; what the last pixel's copies ran into past it, the next row's own stores overwrite
    std::fill(dst + s.in_w * oc, row + stride, 0.0f);
  }
  std::fill(xr + (s.pad_top + s.in_h) * stride, xr + size, 0.0f);
  return xr;
}

void conv1c_fwd(const ck_dispatch& d, float* y, const float* x, const float* filter, const ck_conv2d_info& s,
                const ck_epilogue* ep) {
  const size_t stride = s.in_w + s.pad_left + s.pad_right + 2 * d.conv1c_width;  // room for the last vectors' reads
  const size_t row_out = s.out_w * s.out_c;
  const size_t chunks = std::min(s.out_h, (4 * ck_threads() + s.batch - 1) / s.batch);
  const size_t per = (s.out_h + chunks - 1) / chunks;
  // The kernel applies scale, bias and a relu-like activation; a residual (one of its two forms would have to
  // gather it) and the activation after it are added to each stored row.
  ck_epilogue after;
  if (ep != nullptr) after.residual = ep->residual;
  if (ep != nullptr && (ep->residual != nullptr || !ck_act_in_ukernel(ep->act))) {
    after.act = ep->act;
    after.alpha = ep->alpha;
  }
  ck_epilogue in_kernel;
  if (ep != nullptr) in_kernel = {ep->bias, after.act == CK_ACT_LINEAR ? ep->act : CK_ACT_LINEAR, ep->alpha, ep->scale, nullptr};
  const ck_gemm_params p = ck_epilogue_params(&in_kernel, y, 0);
  const bool post = after.residual != nullptr || after.act != CK_ACT_LINEAR;
  ck_parallel_for(s.batch * chunks, [&](size_t t) {
    const size_t n = t / chunks, oh0 = t % chunks * per, oh1 = std::min(s.out_h, oh0 + per);
    if (oh0 >= oh1) return;
    const float* image = padded_images(x, s, n, n + 1, stride);
    for (size_t oh = oh0; oh < oh1; ++oh) {
      const size_t at = (n * s.out_h + oh) * row_out;
      d.conv1c(s.out_w, s.out_c, s.k_h, s.k_w, image + oh * stride, stride, filter, y + at, &p);
      if (post) ck_epilogue_apply(d, after, row_out, y + at, 0, after.residual ? after.residual + at : nullptr);
    }
  });
}

// dx of a one-channel input at stride 1, by the one-channel forward kernel: dx is the sum over output channels o
// of dy's plane o correlated with filter o turned by 180 degrees. Each image's dy planes are written out
// zero-padded and interleaved by row (row r of every plane, then row r + 1 of every plane), so the kernel's
// KH rows become KH x OC rows at one stride, and one call per dx row sums every (row, plane, column) tap into
// the single output channel. The GEMM form (dy . filter^T, then col2im) has K = OC: with a first layer's few
// filters its tiles are mostly overhead. convkit_bench conv, 2 threads, Zen 5, against the GEMM form: LeNet-5's
// 6 filters 2.7x (AVX-512) and 1.27x (AVX2), the tutorial network's 32 filters 0.85x and 0.37x (one chain of
// FMAs per vector of dx columns, each OC x KH x KW long, against a GEMM whose K grew with OC).
constexpr size_t kConv1cBwdInputMaxFilters = 8;

void conv1c_bwd_input(const ck_dispatch& d, float* dx, const float* dy, const float* filter, const ck_conv2d_info& s) {
  const size_t oc = s.out_c, rows = s.in_h + s.k_h - 1, cols = s.in_w + s.k_w - 1;
  const size_t stride = cols + 2 * d.conv1c_width;  // room for the last vectors' reads
  float* turned = ck_scratch(CK_SCRATCH_FILTER, s.k_h * oc * s.k_w);  // [(a * OC + o) * KW + b]
  for (size_t a = 0; a < s.k_h; ++a)
    for (size_t o = 0; o < oc; ++o)
      for (size_t b = 0; b < s.k_w; ++b)
        turned[(a * oc + o) * s.k_w + b] = filter[((s.k_h - 1 - a) * s.k_w + (s.k_w - 1 - b)) * oc + o];
  // plane o's row r, column c holds dy[r - top, c - left, o]
  const ptrdiff_t top = ptrdiff_t(s.k_h - 1) - ptrdiff_t(s.pad_top);
  const ptrdiff_t left = ptrdiff_t(s.k_w - 1) - ptrdiff_t(s.pad_left);
  const ck_gemm_params p{nullptr, CK_ACT_LINEAR, 0.0f, false};
  ck_parallel_for(s.batch, [&](size_t n) {
    float* planes = ck_scratch(CK_SCRATCH_IM2COL, rows * oc * stride);
    std::fill(planes, planes + rows * oc * stride, 0.0f);
    for (size_t oh = 0; oh < s.out_h; ++oh) {
      const ptrdiff_t r = ptrdiff_t(oh) + top;
      if (r < 0 || r >= ptrdiff_t(rows)) continue;
      for (size_t ow = 0; ow < s.out_w; ++ow) {
        const ptrdiff_t c = ptrdiff_t(ow) + left;
        if (c < 0 || c >= ptrdiff_t(cols)) continue;
        const float* g = dy + ((n * s.out_h + oh) * s.out_w + ow) * oc;
        for (size_t o = 0; o < oc; ++o) planes[(size_t(r) * oc + o) * stride + size_t(c)] = g[o];
      }
    }
    for (size_t ih = 0; ih < s.in_h; ++ih)
      d.conv1c(s.in_w, 1, s.k_h * oc, s.k_w, planes + ih * oc * stride, stride, turned,
               dx + (n * s.in_h + ih) * s.in_w, &p);
  });
}

// The backward-filter product of a one-channel input transposed, dfilter (taps x OC) = lowered x^T . dy: its
// rows are the KH*KW taps, each read in place along output rows of a zero-padded copy of the images (segment
// j is output row r0 + j, OW contiguous values), and dy is its B as stored. The general form, dy^T . lowered
// x, would put the 25 taps in NR-wide column panels, half empty, behind a copy per pixel.
class OneChannelRows final : public ck_gemm_a_rows {
 public:
  OneChannelRows(const float* padded, size_t stride, size_t image_rows, const ck_conv2d_info& s, size_t r0, size_t count)
      : ck_gemm_a_rows(count, s.out_w), padded_(padded), stride_(stride), image_rows_(image_rows), s_(s), r0_(r0) {}

  void rows(const float** dst, size_t i0, size_t mr, size_t MR, size_t s0, size_t s1) const override {
    for (size_t t = s0; t < s1; ++t, dst += MR) {
      const size_t r = r0_ + t, base = (r / s_.out_h * image_rows_ + r % s_.out_h) * stride_;
      for (size_t i = 0; i < mr; ++i) dst[i] = padded_ + base + (i0 + i) / s_.k_w * stride_ + (i0 + i) % s_.k_w;
    }
  }

 private:
  const float* padded_;
  size_t stride_, image_rows_;
  const ck_conv2d_info& s_;
  size_t r0_;
};

// Tasks take fixed groups of images (about kPixelChunk output pixels), each padding its own images and
// summing into its partial; the partials are added in order, so any thread count gives the same result.
void conv1c_bwd_filter(const ck_dispatch& d, float* dfilter, const float* x, const float* dy, const ck_conv2d_info& s) {
  const size_t stride = s.in_w + s.pad_left + s.pad_right, image_rows = s.in_h + s.pad_top + s.pad_bottom;
  const size_t taps = s.k_h * s.k_w, part = taps * s.out_c, pixels = s.out_h * s.out_w;
  const size_t per = std::max<size_t>(1, kPixelChunk / std::max<size_t>(pixels, 1));
  const size_t chunks = (s.batch + per - 1) / per;
  if (conv1c_few_filters(d, s)) {
    // Each chunk sums its rows into taps x width lanes (the few-filter kernel's layout); after the partials are
    // added in chunk order, the lanes of each channel are added in order.
    const size_t width = d.conv1c_width, lanes = taps * width, xr_stride = stride * s.out_c;
    float* partials = ck_scratch(CK_SCRATCH_FILTER, (chunks + 1) * lanes);
    ck_parallel_for(chunks, [&](size_t t) {
      float* acc = partials + t * lanes;
      std::fill(acc, acc + lanes, 0.0f);
      for (size_t n = t * per; n < std::min(s.batch, (t + 1) * per); ++n) {
        const float* image = repeated_image(x, s, n, width);
        for (size_t oh = 0; oh < s.out_h; ++oh)
          d.conv1c_grad(s.out_w, s.out_c, s.k_h, s.k_w, image + oh * xr_stride, xr_stride,
                        dy + (n * s.out_h + oh) * s.out_w * s.out_c, acc);
      }
    });
    float* sum = partials + chunks * lanes;
    ck_sum_partials(d, sum, partials, chunks, lanes);
    for (size_t tap = 0; tap < taps; ++tap)
      for (size_t o = 0; o < s.out_c; ++o) {
        float v = sum[tap * width + o];
        for (size_t l = o + s.out_c; l < width / s.out_c * s.out_c; l += s.out_c) v += sum[tap * width + l];
        dfilter[tap * s.out_c + o] = v;
      }
    return;
  }
  float* partials = ck_scratch(CK_SCRATCH_FILTER, chunks * part);
  ck_parallel_for(chunks, [&](size_t t) {
    const size_t n0 = t * per, n1 = std::min(s.batch, n0 + per);
    const OneChannelRows rows(padded_images(x, s, n0, n1, stride), stride, image_rows, s, 0, (n1 - n0) * s.out_h);
    ck_gemm_args g{partials + t * part, s.out_c, nullptr, 0, false, dy + n0 * pixels * s.out_c, s.out_c, false,
                   taps, s.out_c, (n1 - n0) * pixels, false, nullptr, &rows};
    ck_gemm_block(d, g, 0, taps, 0, s.out_c);
  });
  ck_sum_partials(d, dfilter, partials, chunks, part);  // dfilter (KH, KW, 1, OC) is the partials' layout
}

// Pixel rows per im2col tile: keep the tile near 256 KiB.
size_t tile_rows(const Geometry& geo) { return std::clamp<size_t>(65536 / std::max<size_t>(geo.kc, 1), 16, 1024); }

}  // namespace

namespace {

// dx phase by phase (see GradRows): one GEMM per phase and group, B the phase's filter taps transposed. At
// stride 1 the GEMM writes dx itself; strided, each phase is computed densely and scattered into dx.
void bwd_input_by_phases(const ck_dispatch& d, float* dx, const float* dy, const float* filter, const ck_conv2d_info& s,
                         const Geometry& geo) {
  const size_t sh = s.stride_h, sw = s.stride_w;
  const bool strided = sh * sw > 1;
  float* filter_t = ck_scratch(CK_SCRATCH_FILTER, s.k_h * s.k_w * geo.ocg * geo.cg);
  std::vector<PhaseTap> taps;
  for (size_t rh = 0; rh < std::min(sh, s.in_h); ++rh)
    for (size_t rw = 0; rw < std::min(sw, s.in_w); ++rw) {
      const size_t hp = (s.in_h - rh + sh - 1) / sh, wp = (s.in_w - rw + sw - 1) / sw, m = s.batch * hp * wp;
      taps.clear();
      for (size_t kh = 0; kh < s.k_h; ++kh)
        for (size_t kw = 0; kw < s.k_w; ++kw) {
          const ptrdiff_t y = ptrdiff_t(rh + s.pad_top) - ptrdiff_t(kh * s.dil_h);
          const ptrdiff_t x = ptrdiff_t(rw + s.pad_left) - ptrdiff_t(kw * s.dil_w);
          if (y % ptrdiff_t(sh) == 0 && x % ptrdiff_t(sw) == 0)
            taps.push_back({kh * s.k_w + kw, y / ptrdiff_t(sh), x / ptrdiff_t(sw)});
        }
      float* out = strided ? ck_scratch(CK_SCRATCH_OUTPUT, m * geo.cg) : nullptr;
      for (size_t grp = 0; grp < s.groups; ++grp) {
        // filter_t[(j * ocg + oc) * cg + ci] = filter[(tap_j * cg + ci) * OC + group's oc]
        for (size_t j = 0; j < taps.size(); ++j)
          for (size_t ci = 0; ci < geo.cg; ++ci)
            for (size_t oc = 0; oc < geo.ocg; ++oc)
              filter_t[(j * geo.ocg + oc) * geo.cg + ci] = filter[(taps[j].tap * geo.cg + ci) * s.out_c + grp * geo.ocg + oc];
        const GradRows a(dy, s, geo, grp, hp, wp, taps);
        ck_gemm_args g{strided ? out : dx + grp * geo.cg, strided ? geo.cg : s.in_c, nullptr, 0, false, filter_t,
                       geo.cg, false, m, geo.cg, taps.size() * geo.ocg, false, nullptr};
        g.a_rows = &a;
        if (!strided) {
          ck_gemm_parallel(d, g);  // no taps (a kernel smaller than the stride): K = 0 stores zeros
          continue;
        }
        // Each task computes a block of the phase's rows and scatters it into dx while it is still in L2.
        const size_t per_task = (m + 4 * ck_threads() - 1) / (4 * ck_threads()), mr = d.gemm.mr;
        const size_t rows = std::clamp((per_task + mr - 1) / mr * mr, mr,
                                       std::max(mr, kPhaseBlockBytes / sizeof(float) / geo.cg / mr * mr));
        ck_parallel_for((m + rows - 1) / rows, [&](size_t t) {
          const size_t r0 = t * rows, r1 = std::min(m, r0 + rows);
          ck_gemm_block(d, g, r0, r1, 0, geo.cg);
          for (size_t r = r0; r < r1; ++r) {
            const size_t n = r / (hp * wp), ih = rh + sh * (r / wp % hp), iw = rw + sw * (r % wp);
            std::memcpy(dx + ((n * s.in_h + ih) * s.in_w + iw) * s.in_c + grp * geo.cg, out + r * geo.cg,
                        geo.cg * sizeof(float));
          }
        });
      }
    }
}

}  // namespace

namespace {

// The forward algorithm a convolution takes (side: Winograd's output block).
enum class Forward { kNothing, kDepthwise, kPointwise, kOneChannel, kWinograd, kDirect, kLowered };

Forward forward_route(const ck_dispatch& d, const ck_conv2d_info& s, size_t* side) {
  if (geometry(s).m == 0) return Forward::kNothing;
  if (ck_conv2d_is_depthwise(s)) return Forward::kDepthwise;
  if (is_pointwise(s)) return Forward::kPointwise;
  if (one_channel(s)) return Forward::kOneChannel;
  if ((*side = winograd_side(s, kWinogradLimits)) != 0) return Forward::kWinograd;
  if (d.dconv != nullptr && direct_conv(s)) return Forward::kDirect;
  return Forward::kLowered;
}

// The form a forward by `route` reads a prepared filter in.
ck_weights_form form_of(const ck_dispatch& d, const ck_conv2d_info& s, Forward route, size_t side) {
  switch (route) {
    case Forward::kPointwise:
      return ck_matmul_weights_form(s.in_c, s.out_c, false);
    case Forward::kWinograd:
      return {CK_WEIGHTS_WINOGRAD, ck_isa_current(), side, s.k_h, s.k_h * s.k_w * s.in_c, s.out_c,
              ck_winograd_filter_size(d, s, side)};
    case Forward::kLowered:
      if (s.groups == 1) return ck_matmul_weights_form(geometry(s).kc, s.out_c, false);
      return {};
    default:
      return {};
  }
}

// w's data when it is in the form a forward of s by `route` reads, else null.
const float* prepared_for(const ck_prepared_weights* w, const ck_dispatch& d, const ck_conv2d_info& s, Forward route,
                          size_t side) {
  return w != nullptr && w->data != nullptr && w->form == form_of(d, s, route, side) ? w->data : nullptr;
}

}  // namespace

ck_weights_form ck_conv2d_weights_form(const ck_conv2d_info& s) {
  const ck_dispatch& d = ck_kernels();
  size_t side = 0;
  const Forward route = forward_route(d, s, &side);
  return form_of(d, s, route, side);
}

void ck_conv2d_prepare_weights(const ck_weights_form& form, float* dst, const float* filter,
                               const ck_conv2d_info& s) {
  if (form.kind == CK_WEIGHTS_WINOGRAD) ck_winograd_transform_filter(ck_kernels(), dst, filter, s, form.param, false);
  if (form.kind == CK_WEIGHTS_GEMM_PANELS)
    ck_gemm_pack_b_panels(dst, filter, s.out_c, geometry(s).kc, s.out_c, form.param);
}

void ck_conv2d_fwd(float* y, const float* x, const float* filter, const ck_conv2d_info& s, const ck_epilogue* ep,
                   const ck_prepared_weights* w) {
  const ck_dispatch& d = ck_kernels();
  const Geometry geo = geometry(s);
  size_t side = 0;
  const Forward route = forward_route(d, s, &side);
  const float* prepared = prepared_for(w, d, s, route, side);
  switch (route) {
    case Forward::kNothing:
      return;
    case Forward::kDepthwise:
      return ck_depthwise_fwd(d, y, x, filter, s, ep);
    case Forward::kPointwise: {
      ck_gemm_args g{y, s.out_c, x, s.in_c, false, filter, s.out_c, false, geo.m, s.out_c, s.in_c, false, ep};
      if (prepared != nullptr) g.b_panels = prepared, g.b_panels_nr = w->form.param;
      return ck_gemm_parallel(ck_gemm_long_k(d, geo.m, s.in_c), g);
    }
    case Forward::kOneChannel:
      return conv1c_fwd(d, y, x, filter, s, ep);
    case Forward::kWinograd:
      return ck_winograd_fwd(d, y, x, prepared != nullptr ? prepared : winograd_filter(d, filter, s, side), s, side,
                             ep);
    case Forward::kDirect:
      return direct_conv_fwd(d, y, x, filter, s, ep);
    case Forward::kLowered:
      break;
  }
  // Lowered rows are read in place from x (ConvRows); one GEMM per group, split over the pool inside.
  const LoweredInput in = lowered_input(x, s);
  for (size_t grp = 0; grp < s.groups; ++grp) {
    const ConvRows a(in, geo, grp);
    ck_epilogue gep;
    if (ep != nullptr) {
      gep = *ep;
      if (gep.bias != nullptr) gep.bias += grp * geo.ocg;
      if (gep.scale != nullptr) gep.scale += grp * geo.ocg;
      if (gep.residual != nullptr) gep.residual += grp * geo.ocg;
    }
    ck_gemm_args g{y + grp * geo.ocg, s.out_c, nullptr, 0, false, filter + grp * geo.ocg, s.out_c, false,
                   geo.m, geo.ocg, geo.kc, false, ep ? &gep : nullptr};
    g.a_rows = &a;
    if (prepared != nullptr) g.b_panels = prepared, g.b_panels_nr = w->form.param;
    ck_gemm_parallel(d, g);
  }
}

// Images at a time: each task convolves a few images into its scratch (which stays in L2) and pools them from
// there, so the convolution's output never goes to memory and back (the tutorial network's first layer writes
// 25.7 MB for 256 images, which its pooling then reads). Inside a task both ops run on one thread; with fewer
// images than tasks want, the ops run in turn over the pool instead.
void ck_conv2d_maxpool_fwd(float* y, const float* x, const float* filter, const ck_conv2d_info& conv,
                           const ck_epilogue* ep, const ck_pool2d_info& pool, float* conv_y,
                           const ck_prepared_weights* w) {
  const size_t in_image = conv.in_h * conv.in_w * conv.in_c, mid_image = conv.out_h * conv.out_w * conv.out_c;
  const size_t out_image = pool.out_h * pool.out_w * pool.channels;
  const size_t tasks_wanted = 4 * ck_threads();
  if (conv.batch < tasks_wanted) {
    float* mid = conv_y ? conv_y : ck_scratch(CK_SCRATCH_FUSED, conv.batch * mid_image);
    ck_conv2d_fwd(mid, x, filter, conv, ep, w);
    ck_maxpool2d_fwd(y, mid, pool);
    return;
  }
  const size_t per =
      std::clamp<size_t>(kFusedBytes / sizeof(float) / std::max<size_t>(mid_image, 1), 1, conv.batch / tasks_wanted);
  // Winograd is chosen for the whole batch (a task's few images would not pay for it) and its filter transformed
  // once: the ops in turn would choose it and give the same bits.
  const ck_dispatch& d = ck_kernels();
  const size_t side = winograd_side(conv, kWinogradLimits);
  const float* prepared = side != 0 ? prepared_for(w, d, conv, Forward::kWinograd, side) : nullptr;
  const float* u = side == 0 ? nullptr : prepared != nullptr ? prepared : winograd_filter(d, filter, conv, side);
  ck_parallel_for((conv.batch + per - 1) / per, [&](size_t t) {
    const size_t n0 = t * per, n = std::min(conv.batch, n0 + per) - n0;
    float* mid = conv_y ? conv_y + n0 * mid_image : ck_scratch(CK_SCRATCH_FUSED, n * mid_image);
    ck_conv2d_info c = conv;
    ck_pool2d_info p = pool;
    c.batch = p.batch = n;
    if (u != nullptr)
      ck_winograd_fwd(d, mid, x + n0 * in_image, u, c, side, ep);
    else
      ck_conv2d_fwd(mid, x + n0 * in_image, filter, c, ep, w);
    ck_maxpool2d_fwd(y + n0 * out_image, mid, p);
  });
}

void ck_conv2d_bwd_input(float* dx, const float* dy, const float* filter, const ck_conv2d_info& s) {
  const ck_dispatch& d = ck_kernels();
  const Geometry geo = geometry(s);
  const size_t in_hw = s.in_h * s.in_w;
  if (ck_conv2d_is_depthwise(s)) return ck_depthwise_bwd_input(d, dx, dy, filter, s);
  if (is_pointwise(s)) {
    // dx (M,C) = dy (M,OC) . filter (C,OC)^T
    ck_gemm_parallel(d, {dx, s.in_c, dy, s.out_c, false, filter, s.out_c, true, geo.m, s.in_c, s.out_c, false, nullptr});
    return;
  }
  if (one_channel(s) && s.out_c <= kConv1cBwdInputMaxFilters) return conv1c_bwd_input(d, dx, dy, filter, s);
  if (ck_conv2d_winograd_applies(s)) {
    const ck_conv2d_info t = input_gradient_conv(s);
    if (const size_t side = winograd_side(t, kWinogradLimits))
      return ck_winograd_fwd(d, dx, dy, winograd_filter(d, filter, t, side, true), t, side, nullptr);
  }
  if (d.dconv != nullptr && direct_conv_bwd_input(s)) return direct_conv_bwd_input_run(d, dx, dy, filter, s);
  // dx is a convolution of dy (one per phase when strided), unless dx has too few channels to fill a
  // microkernel's columns (a first layer's 1 or 3): then im2col + col2im, whose GEMM is KH*KW*cg wide, does better.
  if (2 * geo.cg >= d.gemm.nr) return bwd_input_by_phases(d, dx, dy, filter, s, geo);
  // im2col tiles of dy's lowered gradient, added back with col2im.
  // One (image, group) owns dx[n, :, :, group channels]: col2im's overlapping adds stay inside one task, in
  // order. With fewer of those than threads, the GEMMs inside are split over the pool instead.
  const size_t jobs = s.batch * s.groups;
  const bool outer = jobs >= ck_threads();
  const size_t rows = tile_rows(geo);
  auto job = [&](size_t t) {
    const size_t n = t / s.groups, grp = t % s.groups;
    for (size_t p = 0; p < in_hw; ++p) std::memset(dx + (n * in_hw + p) * s.in_c + grp * geo.cg, 0, geo.cg * sizeof(float));
    for (size_t r0 = n * geo.ohw; r0 < (n + 1) * geo.ohw; r0 += rows) {
      const size_t r1 = std::min((n + 1) * geo.ohw, r0 + rows);
      float* dcols = ck_scratch(CK_SCRATCH_IM2COL, (r1 - r0) * geo.kc);
      // dcols (rows, KH*KW*cg) = dy (rows, ocg) . filter_g (KH*KW*cg, ocg)^T
      const ck_gemm_args g{dcols, geo.kc, dy + r0 * s.out_c + grp * geo.ocg, s.out_c, false, filter + grp * geo.ocg,
                           s.out_c, true, r1 - r0, geo.kc, geo.ocg, false, nullptr};
      if (outer)
        ck_gemm_block(d, g, 0, g.m, 0, g.n);
      else
        ck_gemm_parallel(d, g);
      col2im(dx, dcols, d, s, geo, grp, r0, r1);
    }
  };
  if (outer)
    ck_parallel_for(jobs, job);
  else
    for (size_t t = 0; t < jobs; ++t) job(t);
}

void ck_conv2d_bwd_filter(float* dfilter, const float* x, const float* dy, const ck_conv2d_info& s) {
  const ck_dispatch& d = ck_kernels();
  const Geometry geo = geometry(s);
  if (geo.m == 0) {
    std::memset(dfilter, 0, geo.kc * s.out_c * sizeof(float));
    return;
  }
  if (ck_conv2d_is_depthwise(s)) return ck_depthwise_bwd_filter(d, dfilter, x, dy, s);
  if (one_channel(s)) return conv1c_bwd_filter(d, dfilter, x, dy, s);
  if (const size_t side = winograd_side(s, kWinogradGradientLimits[d.isa]);
      side != 0 && s.out_c <= kWinogradMaxChannels && s.in_c * s.out_c <= kWinogradGradientMaxPairs)
    return ck_winograd_bwd_filter(d, dfilter, x, dy, s, side);
  if (d.dconv_grad != nullptr && direct_conv_grad(s)) return direct_conv_bwd_filter(d, dfilter, x, dy, s);
  if (is_pointwise(s)) {
    // dfilter (C,OC) = x (M,C)^T . dy (M,OC). The chunked form below repacked all of dy^T for each column
    // block: a quarter of the work when one chunk of 256 channels was split 8 ways for 2 threads.
    ck_gemm_parallel(d, {dfilter, s.out_c, x, s.in_c, true, dy, s.out_c, false, s.in_c, s.out_c, geo.m, false, nullptr});
    return;
  }
  // Per group, dfilter_g^T (ocg x kc) = dy_g^T (ocg x pixels) . lowered x (pixels x kc): one product whose depth
  // is the pixels. Its B rows are read from x in place (tall tiles, every panel inside one tap) or packed
  // straight from x panel by panel, its A panels are dy's rows. Tasks take fixed chunks
  // of pixels (partial sums, added in chunk order) and blocks of columns (which change no sum, so any number
  // of them gives the same result): about four tasks per thread.
  const size_t MR = d.gemm.mr, NR = d.gemm.nr, KC = d.gemm.kc;
  const size_t chunks = (geo.m + kPixelChunk - 1) / kPixelChunk, part = geo.ocg * geo.kc;
  const size_t panels = (geo.kc + NR - 1) / NR, outer = chunks * s.groups;
  const size_t threads = ck_threads(), want = threads == 1 ? 1 : 2 * threads;  // each column block repacks A
  const size_t col_blocks = std::min(panels, (want + outer - 1) / outer);
  const size_t block_cols = (panels + col_blocks - 1) / col_blocks * NR;
  float* partials = ck_scratch(CK_SCRATCH_FILTER, outer * part);
  const LoweredInput in = lowered_input(x, s);
  ck_parallel_for(outer * col_blocks, [&](size_t task) {
    const size_t t = task / col_blocks, j0 = task % col_blocks * block_cols, j1 = std::min(geo.kc, j0 + block_cols);
    if (j0 >= j1) return;
    const size_t grp = t % s.groups, p0 = t / s.groups * kPixelChunk, p1 = std::min(geo.m, p0 + kPixelChunk);
    const ConvRows rows(in, geo, grp);
    float* c = partials + t * part;  // (ocg x kc)
    // A(i, k) = dy[k, group's channel i]: dy^T, packed as a transposed A
    ck_gemm_args dy_t{};
    dy_t.a = dy + grp * geo.ocg;
    dy_t.lda = s.out_c;
    dy_t.trans_a = true;
    float* pa = ck_scratch(CK_SCRATCH_PACK_A, (geo.ocg + MR - 1) / MR * MR * KC);
    // Tall tiles read B's rows in place (kBInPlaceMinRows) when every panel lies inside one tap; padding rows
    // then point at a zero row. Otherwise each B panel is packed just before its tiles use it, so it is still in
    // L1 for all of them (packing the whole block first overflowed L2).
    const bool b_in_place = MR >= kBInPlaceMinRows && rows.tap_len % NR == 0;
    float* pb = b_in_place ? nullptr : ck_scratch(CK_SCRATCH_PACK_B, NR * KC);
    float* zeros = b_in_place ? ck_scratch(CK_SCRATCH_ROW, rows.tap_len) : nullptr;
    if (b_in_place) std::memset(zeros, 0, rows.tap_len * sizeof(float));
    for (size_t k0 = p0; k0 < p1; k0 += KC) {
      const size_t kn = std::min(KC, p1 - k0);
      ck_gemm_pack_a(d, pa, dy_t, 0, geo.ocg, k0, kn, MR);
      const float* const* ptr = lowered_rows(rows, k0, kn, zeros);
      const ck_gemm_params p{nullptr, CK_ACT_LINEAR, 0.0f, k0 > p0};
      for (size_t jr = j0; jr < j1; jr += NR) {
        const size_t nr = std::min(NR, j1 - jr);
        if (b_in_place) {
          const float* const* b_rows = ptr + jr / rows.tap_len * kn;
          for (size_t ir = 0; ir < geo.ocg; ir += MR)
            d.gemm.bgemm(std::min(MR, geo.ocg - ir), nr, kn, pa + ir * kn, b_rows, jr % rows.tap_len,
                         c + ir * geo.kc + jr, geo.kc, &p);
          continue;
        }
        pack_lowered_panel(pb, ptr, rows.tap_len, kn, jr, nr, NR);
        for (size_t ir = 0; ir < geo.ocg; ir += MR)
          d.gemm.ukernel(std::min(MR, geo.ocg - ir), nr, kn, pa + ir * kn, pb, c + ir * geo.kc + jr, geo.kc, &p);
      }
    }
  });
  // dfilter[j, group's oc i] = the chunks' partial[i, j], summed in chunk order, a block of kBlock columns j at
  // a time: the sums of the block's rows go into a tile, which is then written out as rows of dfilter (writing
  // each partial row's sums down a column of dfilter touched a cache line per value).
  constexpr size_t kBlock = 128;
  const size_t blocks = (geo.kc + kBlock - 1) / kBlock;
  ck_parallel_for(s.groups * blocks, [&](size_t t) {
    const size_t grp = t / blocks, j0 = t % blocks * kBlock, jn = std::min(geo.kc, j0 + kBlock) - j0;
    float* tile = ck_scratch(CK_SCRATCH_ROW, geo.ocg * kBlock);
    for (size_t i = 0; i < geo.ocg; ++i) {
      float* row = tile + i * kBlock;
      std::memcpy(row, partials + grp * part + i * geo.kc + j0, jn * sizeof(float));
      for (size_t chunk = 1; chunk < chunks; ++chunk)
        d.vadd(jn, row, partials + (chunk * s.groups + grp) * part + i * geo.kc + j0, row);
    }
    for (size_t j = 0; j < jn; ++j) {
      float* out = dfilter + (j0 + j) * s.out_c + grp * geo.ocg;
      for (size_t i = 0; i < geo.ocg; ++i) out[i] = tile[i * kBlock + j];
    }
  });
}
