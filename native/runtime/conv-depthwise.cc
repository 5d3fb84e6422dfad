#include "runtime/conv-depthwise.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/gemm.h"
#include "runtime/parallel.h"
#include "runtime/scratch.h"

namespace {

// y[c*m + j] += a[c] * b[c*m + j] for c < channels, j < m
void macc_expand(const ck_dispatch& d, size_t channels, size_t m, const float* a, const float* b, float* y) {
  if (m == 1) return d.vmacc(channels, a, b, y);
  for (size_t c = 0; c < channels; ++c)
    for (size_t j = 0; j < m; ++j) y[c * m + j] += a[c] * b[c * m + j];
}

// The input coordinate tap k of output coordinate o reads, or -1 outside the input.
ptrdiff_t input_at(size_t o, size_t k, size_t stride, size_t dil, size_t pad, size_t in) {
  const ptrdiff_t i = ptrdiff_t(o * stride + k * dil) - ptrdiff_t(pad);
  return i >= 0 && i < ptrdiff_t(in) ? i : -1;
}

// The output coordinate whose tap k reads input coordinate i, or -1 if none.
ptrdiff_t output_at(size_t i, size_t k, size_t stride, size_t dil, size_t pad, size_t out) {
  const ptrdiff_t t = ptrdiff_t(i + pad) - ptrdiff_t(k * dil);
  if (t < 0 || t % ptrdiff_t(stride) != 0) return -1;
  const ptrdiff_t o = t / ptrdiff_t(stride);
  return o < ptrdiff_t(out) ? o : -1;
}

// Calls fn(kh, kw, ih, iw) for the taps of output pixel (oh, ow) that fall inside the input, in row-major order.
template <class Fn>
void for_each_inside_tap(const ck_conv2d_info& s, size_t oh, size_t ow, Fn&& fn) {
  for (size_t kh = 0; kh < s.k_h; ++kh) {
    const ptrdiff_t ih = input_at(oh, kh, s.stride_h, s.dil_h, s.pad_top, s.in_h);
    if (ih < 0) continue;
    for (size_t kw = 0; kw < s.k_w; ++kw) {
      const ptrdiff_t iw = input_at(ow, kw, s.stride_w, s.dil_w, s.pad_left, s.in_w);
      if (iw >= 0) fn(kh, kw, size_t(ih), size_t(iw));
    }
  }
}

// One filter per channel through the f32-dwconv microkernel, one destination pixel at a time: dst (N, dst_h,
// dst_w, C) from src (N, src_h, src_w, C), where tap (kh, kw) of destination pixel (r, q) reads source pixel
// (map_h(r, kh), map_w(q, kw)), or nothing where a map gives -1. The forward maps output pixels to the input
// pixels they read; backward-input maps input pixels to the dy pixels that read them. post (if not null)
// applies an activation the microkernel does not fuse.
template <class MapH, class MapW>
void dwconv_pixels(const ck_dispatch& d, float* dst, size_t dst_h, size_t dst_w, const float* src, size_t src_h,
                   size_t src_w, const float* filter, const ck_conv2d_info& s, const ck_gemm_params& p, MapH&& map_h,
                   MapW&& map_w, ck_f32_vunary_fn post, float alpha) {
  const size_t c_n = s.in_c, taps = s.k_h * s.k_w, k_h = s.k_h, k_w = s.k_w;
  std::vector<ptrdiff_t> cols(dst_w * k_w);  // map_w, tabulated once per call
  for (size_t q = 0; q < dst_w; ++q)
    for (size_t kw = 0; kw < k_w; ++kw) cols[q * k_w + kw] = map_w(q, kw);
  // The columns [run_lo, run_hi) whose taps all read the source, each tap's source column run_step after the
  // previous column's: there every row runs the 9-tap run kernel (kernel rows in the padding left out).
  const auto inside = [&](size_t q) {
    for (size_t kw = 0; kw < k_w; ++kw)
      if (cols[q * k_w + kw] < 0) return false;
    return true;
  };
  size_t run_lo = 0, run_hi = 0;
  ptrdiff_t run_step = 0;
  if (taps == 9) {
    while (run_lo < dst_w && !inside(run_lo)) ++run_lo;
    run_hi = run_lo;
    while (run_hi < dst_w && inside(run_hi)) ++run_hi;
    if (run_hi - run_lo >= 2) run_step = cols[(run_lo + 1) * k_w] - cols[run_lo * k_w];
    for (size_t q = run_lo; q + 1 < run_hi && run_step > 0; ++q)
      for (size_t kw = 0; kw < k_w; ++kw)
        if (cols[(q + 1) * k_w + kw] - cols[q * k_w + kw] != run_step) run_step = 0;
    if (run_step <= 0) run_lo = run_hi = 0;
  }
  const auto dwconv_row = [&](size_t t) {
    const size_t n = t / dst_h, r = t % dst_h;
    // CK_DWCONV_PIXELS pixels' tap pointers, then the source row of each kh (null outside the source)
    const float** ptrs =
        reinterpret_cast<const float**>(ck_scratch(CK_SCRATCH_A_ROWS, 2 * (CK_DWCONV_PIXELS * taps + k_h)));
    const float** rows = ptrs + CK_DWCONV_PIXELS * taps;
    for (size_t kh = 0; kh < k_h; ++kh) {
      const ptrdiff_t sr = map_h(r, kh);
      rows[kh] = sr < 0 ? nullptr : src + (n * src_h + size_t(sr)) * src_w * c_n;
    }
    float* dst_row = dst + (n * dst_h + r) * dst_w * c_n;
    const auto pixel_groups = [&](size_t q_begin, size_t q_end) {
      for (size_t q0 = q_begin; q0 < q_end; q0 += CK_DWCONV_PIXELS) {
        const size_t pixels = std::min<size_t>(CK_DWCONV_PIXELS, q_end - q0);
        for (size_t q = 0; q < pixels; ++q) {
          const ptrdiff_t* col = cols.data() + (q0 + q) * k_w;
          for (size_t kh = 0; kh < k_h; ++kh)
            for (size_t kw = 0; kw < k_w; ++kw)
              ptrs[q * taps + kh * k_w + kw] =
                  rows[kh] == nullptr || col[kw] < 0 ? nullptr : rows[kh] + size_t(col[kw]) * c_n;
        }
        float* out = dst_row + q0 * c_n;
        d.dwconv(pixels, c_n, taps, ptrs, filter, out, c_n, &p);
        if (post != nullptr) post(pixels * c_n, out, out, alpha);
      }
    };
    if (run_hi == run_lo) return pixel_groups(0, dst_w);
    pixel_groups(0, run_lo);
    for (size_t kh = 0; kh < k_h; ++kh)
      for (size_t kw = 0; kw < k_w; ++kw)
        ptrs[kh * k_w + kw] = rows[kh] == nullptr ? nullptr : rows[kh] + size_t(cols[run_lo * k_w + kw]) * c_n;
    float* out = dst_row + run_lo * c_n;
    d.dwconv_run9(run_hi - run_lo, c_n, ptrs, size_t(run_step) * c_n, filter, out, &p);
    if (post != nullptr) post((run_hi - run_lo) * c_n, out, out, alpha);
    pixel_groups(run_hi, dst_w);
  };
  // Each task a band of consecutive rows: a source row read for one destination row is still in cache for the
  // next ones (with one row per task, the threads take alternate rows and each reads every source row).
  const size_t rows_total = s.batch * dst_h, bands = std::min(rows_total, 4 * ck_threads());
  ck_parallel_for(bands, [&](size_t band) {
    for (size_t t = band * rows_total / bands; t < (band + 1) * rows_total / bands; ++t) dwconv_row(t);
  });
}

}  // namespace

bool ck_conv2d_is_depthwise(const ck_conv2d_info& s) { return s.groups > 1 && s.groups == s.in_c; }

ck_column_span ck_conv2d_inside_columns(const ck_conv2d_info& s) {
  const size_t lo = std::min(s.out_w, (s.pad_left + s.stride_w - 1) / s.stride_w);
  const size_t reach = (s.k_w - 1) * s.dil_w, room = s.in_w + s.pad_left;  // an inside column + pad_left < room
  const size_t hi = room > reach ? std::min(s.out_w, (room - reach - 1) / s.stride_w + 1) : 0;
  return {lo, std::max(lo, hi)};
}

void ck_depthwise_fwd(const ck_dispatch& d, float* y, const float* x, const float* filter, const ck_conv2d_info& s,
                      const ck_epilogue* ep) {
  const size_t c_n = s.in_c, m = s.out_c / s.in_c;
  if (m == 1) {
    // One filter per channel: the f32-dwconv microkernel per output pixel, fed its taps' input pixels.
    const ck_act act = ep ? ep->act : CK_ACT_LINEAR;
    const bool fused = ck_act_in_ukernel(act);
    const ck_gemm_params p = ck_epilogue_params(ep, y, 0);
    dwconv_pixels(
        d, y, s.out_h, s.out_w, x, s.in_h, s.in_w, filter, s, p,
        [&](size_t o, size_t k) { return input_at(o, k, s.stride_h, s.dil_h, s.pad_top, s.in_h); },
        [&](size_t o, size_t k) { return input_at(o, k, s.stride_w, s.dil_w, s.pad_left, s.in_w); },
        fused ? nullptr : d.unary[act], p.alpha);
    return;
  }
  ck_parallel_for(s.batch * s.out_h, [&](size_t t) {
    const size_t n = t / s.out_h, oh = t % s.out_h;
    for (size_t ow = 0; ow < s.out_w; ++ow) {
      float* yp = y + ((n * s.out_h + oh) * s.out_w + ow) * s.out_c;
      std::memset(yp, 0, s.out_c * sizeof(float));
      for_each_inside_tap(s, oh, ow, [&](size_t kh, size_t kw, size_t ih, size_t iw) {
        macc_expand(d, c_n, m, x + ((n * s.in_h + ih) * s.in_w + iw) * c_n, filter + (kh * s.k_w + kw) * s.out_c, yp);
      });
      if (ep != nullptr) ck_epilogue_apply(d, *ep, s.out_c, yp, 0, ep->residual ? ep->residual + (yp - y) : nullptr);
    }
  });
}

void ck_depthwise_bwd_input(const ck_dispatch& d, float* dx, const float* dy, const float* filter,
                            const ck_conv2d_info& s) {
  const size_t c_n = s.in_c, m = s.out_c / s.in_c;
  if (m == 1) {
    // A depthwise convolution of dy: the f32-dwconv microkernel per dx pixel, fed the dy pixel each tap reaches.
    const ck_gemm_params p{nullptr, CK_ACT_LINEAR, 0.0f, false};
    dwconv_pixels(
        d, dx, s.in_h, s.in_w, dy, s.out_h, s.out_w, filter, s, p,
        [&](size_t i, size_t k) { return output_at(i, k, s.stride_h, s.dil_h, s.pad_top, s.out_h); },
        [&](size_t i, size_t k) { return output_at(i, k, s.stride_w, s.dil_w, s.pad_left, s.out_w); }, nullptr, 0.0f);
    return;
  }
  ck_parallel_for(s.batch * s.in_h, [&](size_t t) {
    const size_t n = t / s.in_h, ih = t % s.in_h;
    for (size_t iw = 0; iw < s.in_w; ++iw) {
      float* dxp = dx + ((n * s.in_h + ih) * s.in_w + iw) * c_n;
      std::memset(dxp, 0, c_n * sizeof(float));
      for (size_t kh = 0; kh < s.k_h; ++kh) {
        const ptrdiff_t oh = output_at(ih, kh, s.stride_h, s.dil_h, s.pad_top, s.out_h);
        if (oh < 0) continue;
        for (size_t kw = 0; kw < s.k_w; ++kw) {
          const ptrdiff_t ow = output_at(iw, kw, s.stride_w, s.dil_w, s.pad_left, s.out_w);
          if (ow < 0) continue;
          const float* dyp = dy + ((n * s.out_h + size_t(oh)) * s.out_w + size_t(ow)) * s.out_c;
          const float* fp = filter + (kh * s.k_w + kw) * s.out_c;
          if (m == 1) {
            d.vmacc(c_n, dyp, fp, dxp);
          } else {
            for (size_t c = 0; c < c_n; ++c)
              for (size_t j = 0; j < m; ++j) dxp[c] += dyp[c * m + j] * fp[c * m + j];
          }
        }
      }
    }
  });
}

namespace {

// Output pixels per filter-gradient partial sum, in whole output rows: fixed, so the sums and their order do
// not depend on the thread count.
constexpr size_t kPixelChunk = 2048;

// One filter per channel: chunks of output rows sum into partials (added in chunk order), each row as runs of
// pixels whose taps are all inside the input horizontally (the interior, one run) or one edge pixel at a time;
// the f32-dwconv gradient microkernel holds a vector of channels for up to 9 taps in registers over a run.
void depthwise_bwd_filter_m1(const ck_dispatch& d, float* dfilter, const float* x, const float* dy,
                             const ck_conv2d_info& s) {
  const size_t c_n = s.in_c, taps = s.k_h * s.k_w, part = taps * c_n, rows = s.batch * s.out_h;
  const size_t per = std::max<size_t>(1, kPixelChunk / s.out_w), chunks = (rows + per - 1) / per;
  // Interior output columns: every tap's input column is inside the image.
  const ck_column_span inside = ck_conv2d_inside_columns(s);
  const size_t ow_lo = inside.lo, ow_hi = inside.hi;
  float* partials = ck_scratch(CK_SCRATCH_FILTER, chunks * part);
  ck_parallel_for(chunks, [&](size_t t) {
    float* acc = partials + t * part;
    std::memset(acc, 0, part * sizeof(float));
    float* slots = ck_scratch(CK_SCRATCH_A_ROWS, 4 * taps);  // two pointers per tap, two floats per pointer
    const float** xs = reinterpret_cast<const float**>(slots);
    float** dws = reinterpret_cast<float**>(slots + 2 * taps);
    for (size_t r = t * per; r < std::min(rows, (t + 1) * per); ++r) {
      const size_t n = r / s.out_h, oh = r % s.out_h;
      const auto run = [&](size_t ow0, size_t count) {  // the taps inside the input for pixels [ow0, ow0+count)
        size_t k = 0;
        for_each_inside_tap(s, oh, ow0, [&](size_t kh, size_t kw, size_t ih, size_t iw) {
          xs[k] = x + ((n * s.in_h + ih) * s.in_w + iw) * c_n;
          dws[k++] = acc + (kh * s.k_w + kw) * c_n;
        });
        d.dwconv_grad(c_n, count, k, xs, s.stride_w * c_n, dy + ((n * s.out_h + oh) * s.out_w + ow0) * c_n, dws);
      };
      if (ow_lo >= ow_hi) {
        for (size_t ow = 0; ow < s.out_w; ++ow) run(ow, 1);
        continue;
      }
      for (size_t ow = 0; ow < ow_lo; ++ow) run(ow, 1);
      run(ow_lo, ow_hi - ow_lo);
      for (size_t ow = ow_hi; ow < s.out_w; ++ow) run(ow, 1);
    }
  });
  ck_sum_partials(d, dfilter, partials, chunks, part);  // dfilter (KH, KW, 1, C) is the partials' layout
}

}  // namespace

void ck_depthwise_bwd_filter(const ck_dispatch& d, float* dfilter, const float* x, const float* dy,
                             const ck_conv2d_info& s) {
  const size_t c_n = s.in_c, m = s.out_c / s.in_c, taps = s.k_h * s.k_w;
  if (m == 1) return depthwise_bwd_filter_m1(d, dfilter, x, dy, s);
  // Enough (tap, channel block) tasks for the pool; the split never changes a sum's order.
  const size_t blocks = std::min(c_n, std::max<size_t>(1, (2 * ck_threads() + taps - 1) / taps));
  const size_t cb = (c_n + blocks - 1) / blocks;
  ck_parallel_for(taps * blocks, [&](size_t t) {
    const size_t tap = t / blocks, c0 = (t % blocks) * cb, c1 = std::min(c_n, c0 + cb);
    if (c0 >= c1) return;
    const size_t kh = tap / s.k_w, kw = tap % s.k_w;
    float* acc = dfilter + tap * s.out_c + c0 * m;
    std::memset(acc, 0, (c1 - c0) * m * sizeof(float));
    for (size_t n = 0; n < s.batch; ++n)
      for (size_t oh = 0; oh < s.out_h; ++oh) {
        const ptrdiff_t ih = input_at(oh, kh, s.stride_h, s.dil_h, s.pad_top, s.in_h);
        if (ih < 0) continue;
        for (size_t ow = 0; ow < s.out_w; ++ow) {
          const ptrdiff_t iw = input_at(ow, kw, s.stride_w, s.dil_w, s.pad_left, s.in_w);
          if (iw < 0) continue;
          macc_expand(d, c1 - c0, m, x + ((n * s.in_h + size_t(ih)) * s.in_w + size_t(iw)) * c_n + c0,
                      dy + ((n * s.out_h + oh) * s.out_w + ow) * s.out_c + c0 * m, acc);
        }
      }
  });
}
