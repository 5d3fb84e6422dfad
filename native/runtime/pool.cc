// Pooling. Windows are clipped to the input (padding never wins a max nor counts in an average); cells are
// visited in row-major window order and a later cell replaces the max only when strictly greater.
// Forward tasks own output rows; backward tasks own whole images, so the overlapping window adds into dx
// happen in one task, in order.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "convkit/ops.h"
#include "runtime/dispatch.h"
#include "runtime/parallel.h"
#include "runtime/scratch.h"

namespace {

constexpr size_t kVectorCall = 16;  // channels from which a per-cell vector kernel call pays

struct Window {
  size_t h0, h1, w0, w1;  // in-bounds input rows [h0,h1) and columns [w0,w1)
  size_t count() const { return (h1 - h0) * (w1 - w0); }
};

Window window(const ck_pool2d_info& s, size_t oh, size_t ow) {
  const ptrdiff_t top = ptrdiff_t(oh * s.stride_h) - ptrdiff_t(s.pad_top);
  const ptrdiff_t left = ptrdiff_t(ow * s.stride_w) - ptrdiff_t(s.pad_left);
  Window w;
  w.h0 = size_t(std::clamp<ptrdiff_t>(top, 0, ptrdiff_t(s.in_h)));
  w.h1 = size_t(std::clamp<ptrdiff_t>(top + ptrdiff_t(s.pool_h), ptrdiff_t(w.h0), ptrdiff_t(s.in_h)));
  w.w0 = size_t(std::clamp<ptrdiff_t>(left, 0, ptrdiff_t(s.in_w)));
  w.w1 = size_t(std::clamp<ptrdiff_t>(left + ptrdiff_t(s.pool_w), ptrdiff_t(w.w0), ptrdiff_t(s.in_w)));
  return w;
}

// Windows that tile the input (stride = pool size, no padding; the classic 2x2/2): each output row is one call of
// the tiling microkernels (f32-maxpool.h), forward and backward.
bool windows_tile(const ck_pool2d_info& s) {
  return s.stride_h == s.pool_h && s.stride_w == s.pool_w && s.pad_top == 0 && s.pad_left == 0 && s.pad_bottom == 0 &&
         s.pad_right == 0 && s.pool_h * s.pool_w <= 64 && s.out_h * s.pool_h <= s.in_h && s.out_w * s.pool_w <= s.in_w;
}

// Calls fn(out_pixel_offset, window) for every output pixel of image n.
template <class Fn>
void for_each_window(const ck_pool2d_info& s, size_t n, size_t oh, Fn&& fn) {
  for (size_t ow = 0; ow < s.out_w; ++ow) fn(((n * s.out_h + oh) * s.out_w + ow) * s.channels, window(s, oh, ow));
}

// Runs fn(t) for every output row t = n * out_h + oh, in tasks of consecutive rows that read about kChunk
// input floats: one task per row was a few hundred nanoseconds of work for a first layer's 28 x 6 values, and
// the second thread made a 64-image pool slower than one.
constexpr size_t kChunk = 16384;

template <class Fn>
void for_output_rows(const ck_pool2d_info& s, Fn&& fn) {
  const size_t rows = s.batch * s.out_h, per_row = std::max<size_t>(1, s.pool_h * s.in_w * s.channels);
  const size_t per = std::max<size_t>(1, kChunk / per_row);
  ck_parallel_for((rows + per - 1) / per, [&](size_t b) {
    for (size_t t = b * per; t < std::min(rows, (b + 1) * per); ++t) fn(t);
  });
}

size_t cell(const ck_pool2d_info& s, size_t n, size_t h, size_t w) { return ((n * s.in_h + h) * s.in_w + w) * s.channels; }

// The first maximum of each channel over the window: best[c], and off[c] = its offset in x from the window's
// first cell (cells visited in row-major order; a later cell wins only when strictly greater).
// Offsets fit 32 bits: the binding keeps one image below 2^32 values.
size_t argmax(uint32_t* off, float* best, const ck_dispatch& d, const float* x, const ck_pool2d_info& s, size_t n,
              const Window& w) {
  const size_t first = cell(s, n, w.h0, w.w0);
  std::memcpy(best, x + first, s.channels * sizeof(float));
  std::memset(off, 0, s.channels * sizeof(uint32_t));
  for (size_t h = w.h0; h < w.h1; ++h)
    for (size_t ww = w.w0; ww < w.w1; ++ww) {
      const size_t base = cell(s, n, h, ww);
      if (base != first) d.vargmax(s.channels, x + base, uint32_t(base - first), best, off);
    }
  return first;
}

void zero(float* p, size_t n) {
  if (n != 0) std::memset(p, 0, n * sizeof(float));  // p may be null when n is 0
}

}  // namespace

void ck_maxpool2d_fwd(float* y, const float* x, const ck_pool2d_info& s) {
  const ck_dispatch& d = ck_kernels();
  const size_t c_n = s.channels, row = s.in_w * c_n;
  if (windows_tile(s)) {
    // one call per output row, where the path below made a vector call or two per output pixel: a 2x2 pool of
    // 32 channels was mostly calls
    for_output_rows(s, [&](size_t t) {
      const size_t n = t / s.out_h, oh = t % s.out_h;
      d.maxpool_fwd(c_n, s.out_w, s.pool_h, s.pool_w, x + cell(s, n, oh * s.pool_h, 0), row, y + t * s.out_w * c_n);
    });
    return;
  }
  // The windows' input columns depend on ow only: found once, not per output pixel.
  std::vector<Window> cols(s.out_w);
  for (size_t ow = 0; ow < s.out_w; ++ow) cols[ow] = window(s, 0, ow);
  for_output_rows(s, [&](size_t t) {
    const size_t n = t / s.out_h, oh = t % s.out_h;
    float* out = y + t * s.out_w * c_n;
    // First the maxima down the window's rows, for a whole input row at once (one long vector call per row
    // instead of one per cell: a 2x2 pool of 6 channels has only 6 values per cell), then across each window.
    const Window rows = window(s, oh, 0);
    if (rows.h0 == rows.h1) return zero(out, s.out_w * c_n);
    const float* down = x + cell(s, n, rows.h0, 0);
    if (rows.h1 - rows.h0 > 1) {
      float* m = ck_scratch(CK_SCRATCH_ROW, row);
      d.vmax(row, down, x + cell(s, n, rows.h0 + 1, 0), m);
      for (size_t h = rows.h0 + 2; h < rows.h1; ++h) d.vmax(row, m, x + cell(s, n, h, 0), m);
      down = m;
    }
    for (size_t ow = 0; ow < s.out_w; ++ow, out += c_n) {
      const Window& w = cols[ow];
      if (w.w0 == w.w1) {
        zero(out, c_n);
      } else if (c_n < kVectorCall) {  // a first layer's few channels: no call per pixel, the running max in a register
        for (size_t c = 0; c < c_n; ++c) {
          float m = down[w.w0 * c_n + c];
          for (size_t ww = w.w0 + 1; ww < w.w1; ++ww) m = down[ww * c_n + c] > m ? down[ww * c_n + c] : m;
          out[c] = m;
        }
      } else {
        std::memcpy(out, down + w.w0 * c_n, c_n * sizeof(float));
        for (size_t ww = w.w0 + 1; ww < w.w1; ++ww) d.vmax(c_n, out, down + ww * c_n, out);
      }
    }
  });
}

// Image n's dx for a few channels, an output row at a time: a vargmax call per window cell and pixel would
// cost more than its compares when a first layer has 6 channels.
void maxpool_bwd_by_rows(const ck_dispatch& d, float* dx, const float* dy, const float* x, const ck_pool2d_info& s,
                         size_t n) {
  const size_t c_n = s.channels, in_image = s.in_h * s.in_w * c_n, row = s.out_w * c_n, cells = s.pool_h * s.pool_w;
  const float* image = x + n * in_image;
  float* best = ck_scratch(CK_SCRATCH_ROW, 3 * row + cells);
  float* gathered = best + row;
  uint32_t* cell_of = reinterpret_cast<uint32_t*>(best + 2 * row);  // the winning window cell, row-major
  int32_t* cell_at = reinterpret_cast<int32_t*>(best + 3 * row);   // a cell's pixel offset from the window's
  for (size_t i = 0; i < cells; ++i) cell_at[i] = int32_t(i / s.pool_w * s.in_w + i % s.pool_w);
  for (size_t oh = 0; oh < s.out_h; ++oh) {
    const Window rows = window(s, oh, 0);
    if (rows.h0 == rows.h1) continue;
    const ptrdiff_t top = ptrdiff_t(oh * s.stride_h) - ptrdiff_t(s.pad_top);
    // Each window starts from its first in-bounds cell ...
    size_t lo = s.out_w, hi = 0;  // output pixels with a non-empty window
    for (size_t ow = 0; ow < s.out_w; ++ow) {
      const Window w = window(s, oh, ow);
      if (w.w0 == w.w1) continue;
      lo = std::min(lo, ow), hi = ow + 1;
      const ptrdiff_t left = ptrdiff_t(ow * s.stride_w) - ptrdiff_t(s.pad_left);
      const uint32_t first = uint32_t((ptrdiff_t(rows.h0) - top) * ptrdiff_t(s.pool_w) + ptrdiff_t(w.w0) - left);
      std::memcpy(best + ow * c_n, image + (rows.h0 * s.in_w + w.w0) * c_n, c_n * sizeof(float));
      for (size_t c = 0; c < c_n; ++c) cell_of[ow * c_n + c] = first;
    }
    // ... then takes the cells in row-major order, each as one vargmax over the whole output row (a later
    // cell wins only when strictly greater). Strided windows gather the cell's pixels first.
    for (size_t h = rows.h0; h < rows.h1; ++h)
      for (size_t kw = 0; kw < s.pool_w; ++kw) {
        const ptrdiff_t shift = ptrdiff_t(kw) - ptrdiff_t(s.pad_left);  // input column = ow * stride_w + shift
        const size_t first = shift >= 0 ? 0 : (size_t(-shift) + s.stride_w - 1) / s.stride_w;
        const ptrdiff_t span = ptrdiff_t(s.in_w) - shift;
        const size_t last = span <= 0 ? 0 : std::min(s.out_w, (size_t(span) + s.stride_w - 1) / s.stride_w);
        const size_t a = std::max(first, lo), b = std::min(last, hi);
        if (a >= b) continue;
        const float* src = image + (h * s.in_w + size_t(ptrdiff_t(a * s.stride_w) + shift)) * c_n;
        if (s.stride_w != 1) {
          for (size_t ow = a; ow < b; ++ow, src += s.stride_w * c_n)
            for (size_t c = 0; c < c_n; ++c) gathered[(ow - a) * c_n + c] = src[c];
          src = gathered;
        }
        const uint32_t cell = uint32_t((ptrdiff_t(h) - top) * ptrdiff_t(s.pool_w) + ptrdiff_t(kw));
        d.vargmax((b - a) * c_n, src, cell, best + a * c_n, cell_of + a * c_n);
      }
    const float* g = dy + (n * s.out_h + oh) * row;
    float* out = dx + n * in_image;
    for (size_t ow = lo; ow < hi; ++ow) {
      const ptrdiff_t origin = top * ptrdiff_t(s.in_w) + ptrdiff_t(ow * s.stride_w) - ptrdiff_t(s.pad_left);
      for (size_t c = 0; c < c_n; ++c)
        out[size_t(origin + cell_at[cell_of[ow * c_n + c]]) * c_n + c] += g[ow * c_n + c];
    }
  }
}

namespace {

// dx[0, n) = dx * f'(.) from f's output x[0, n), while a task's dx is still in cache; nothing for linear.
void activation_bwd(const ck_dispatch& d, ck_act act, float alpha, float* dx, const float* x, size_t n) {
  if (act != CK_ACT_LINEAR) d.unary_bwd[act](n, dx, x, dx, alpha);
}

// Each input cell is in at most one window, so the microkernel writes every covered cell of dx once, and the
// cells no window covers (the last rows and columns of an odd size) get zeros.
void maxpool_bwd_tiled(const ck_dispatch& d, float* dx, const float* dy, const float* x, const ck_pool2d_info& s,
                       ck_act act, float alpha) {
  const size_t c_n = s.channels, row = s.in_w * c_n, covered = s.out_w * s.pool_w * c_n;
  for_output_rows(s, [&](size_t t) {
    const size_t n = t / s.out_h, oh = t % s.out_h, at = cell(s, n, oh * s.pool_h, 0);
    d.maxpool_bwd(c_n, s.out_w, s.pool_h, s.pool_w, x + at, row, dy + t * s.out_w * c_n, dx + at);
    for (size_t i = 0; i < s.pool_h; ++i) zero(dx + at + i * row + covered, row - covered);
    activation_bwd(d, act, alpha, dx + at, x + at, s.pool_h * row);
    if (oh + 1 == s.out_h) {
      const size_t below = cell(s, n, s.out_h * s.pool_h, 0), rows = s.in_h - s.out_h * s.pool_h;
      zero(dx + below, rows * row);
      activation_bwd(d, act, alpha, dx + below, x + below, rows * row);
    }
  });
}

}  // namespace

void ck_maxpool2d_bwd(float* dx, const float* dy, const float* x, const ck_pool2d_info& s, ck_act act, float alpha) {
  const ck_dispatch& d = ck_kernels();
  if (windows_tile(s)) return maxpool_bwd_tiled(d, dx, dy, x, s, act, alpha);
  const size_t c_n = s.channels, in_image = s.in_h * s.in_w * c_n;
  ck_parallel_for(s.batch, [&](size_t n) {
    zero(dx + n * in_image, in_image);
    if (c_n < kVectorCall) {
      maxpool_bwd_by_rows(d, dx, dy, x, s, n);
    } else {
      float* best = ck_scratch(CK_SCRATCH_ROW, 2 * c_n);
      uint32_t* off = reinterpret_cast<uint32_t*>(best + c_n);
      for (size_t oh = 0; oh < s.out_h; ++oh)
        for_each_window(s, n, oh, [&](size_t out, const Window& w) {
          if (w.count() == 0) return;
          float* at = dx + argmax(off, best, d, x, s, n, w);
          for (size_t c = 0; c < c_n; ++c) at[off[c] + c] += dy[out + c];
        });
    }
    activation_bwd(d, act, alpha, dx + n * in_image, x + n * in_image, in_image);
  });
}

void ck_avgpool2d_fwd(float* y, const float* x, const ck_pool2d_info& s) {
  const ck_dispatch& d = ck_kernels();
  const size_t c_n = s.channels;
  for_output_rows(s, [&](size_t t) {
    const size_t n = t / s.out_h;
    for_each_window(s, n, t % s.out_h, [&](size_t out, const Window& w) {
      zero(y + out, c_n);
      if (w.count() == 0) return;
      for (size_t h = w.h0; h < w.h1; ++h)
        for (size_t ww = w.w0; ww < w.w1; ++ww) d.vadd(c_n, y + out, x + cell(s, n, h, ww), y + out);
      d.vmulc(c_n, y + out, 1.0f / float(w.count()), y + out);
    });
  });
}

void ck_avgpool2d_bwd(float* dx, const float* dy, const ck_pool2d_info& s) {
  const ck_dispatch& d = ck_kernels();
  const size_t c_n = s.channels, in_image = s.in_h * s.in_w * c_n;
  ck_parallel_for(s.batch, [&](size_t n) {
    zero(dx + n * in_image, in_image);
    float* share = ck_scratch(CK_SCRATCH_ROW, c_n);
    for (size_t oh = 0; oh < s.out_h; ++oh)
      for_each_window(s, n, oh, [&](size_t out, const Window& w) {
        if (w.count() == 0) return;
        d.vmulc(c_n, dy + out, 1.0f / float(w.count()), share);
        for (size_t h = w.h0; h < w.h1; ++h)
          for (size_t ww = w.w0; ww < w.w1; ++ww) {
            float* dst = dx + cell(s, n, h, ww);
            d.vadd(c_n, dst, share, dst);
          }
      });
  });
}

void ck_global_avgpool_fwd(float* y, const float* x, size_t batch, size_t hw, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  ck_parallel_for(batch, [&](size_t n) {
    float* out = y + n * channels;
    zero(out, channels);
    for (size_t p = 0; p < hw; ++p) d.vadd(channels, out, x + (n * hw + p) * channels, out);
    if (hw > 0) d.vmulc(channels, out, 1.0f / float(hw), out);
  });
}

void ck_global_avgpool_bwd(float* dx, const float* dy, size_t batch, size_t hw, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  ck_parallel_for(batch, [&](size_t n) {
    if (hw == 0) return;
    float* first = dx + n * hw * channels;
    d.vmulc(channels, dy + n * channels, 1.0f / float(hw), first);
    for (size_t p = 1; p < hw; ++p) std::memcpy(first + p * channels, first, channels * sizeof(float));
  });
}

void ck_global_maxpool_fwd(float* y, const float* x, size_t batch, size_t hw, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  ck_parallel_for(batch, [&](size_t n) {
    float* out = y + n * channels;
    if (hw == 0) return zero(out, channels);
    std::memcpy(out, x + n * hw * channels, channels * sizeof(float));
    for (size_t p = 1; p < hw; ++p) d.vmax(channels, out, x + (n * hw + p) * channels, out);
  });
}

void ck_global_maxpool_bwd(float* dx, const float* dy, const float* x, size_t batch, size_t hw, size_t channels) {
  // The same first-maximum rule as a pool window covering the whole image.
  const ck_pool2d_info s{batch, 1, hw, channels, 1, 1, 1, hw, 1, 1, 0, 0, 0, 0};
  ck_maxpool2d_bwd(dx, dy, x, s);
}
