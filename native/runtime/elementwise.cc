// Row-wise and elementwise operators: bias, activations, dropout, softmax and the softmax cross-entropy losses,
// and the finiteness check.
// Tasks own disjoint rows; biasGrad's tasks sum fixed blocks of rows into partials, added in block order.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "convkit/ops.h"
#include "runtime/dispatch.h"
#include "runtime/parallel.h"
#include "runtime/rng.h"
#include "runtime/scratch.h"

namespace {

constexpr size_t kChunk = 16384;  // floats per elementwise task

// Runs fn(r0, r1) over row blocks of about kChunk floats.
template <class Fn>
void for_row_blocks(size_t rows, size_t channels, Fn&& fn) {
  const size_t per = std::max<size_t>(1, kChunk / std::max<size_t>(channels, 1));
  ck_parallel_for((rows + per - 1) / per, [&](size_t t) { fn(t * per, std::min(rows, (t + 1) * per)); });
}

// Runs fn(i, len) over [0, n) in tasks of kChunk floats.
template <class Fn>
void for_chunks(size_t n, Fn&& fn) {
  ck_parallel_for((n + kChunk - 1) / kChunk, [&](size_t t) { fn(t * kChunk, std::min(kChunk, n - t * kChunk)); });
}

}  // namespace

void ck_bias_add(float* y, const float* x, const float* bias, size_t rows, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  for_row_blocks(rows, channels, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) d.vadd(channels, x + r * channels, bias, y + r * channels);
  });
}

void ck_bias_grad(float* dbias, const float* dy, size_t rows, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  if (channels == 0) return;
  // Rows in fixed blocks (never derived from the thread count), each summed into a partial; the partials
  // are added in block order. Within a block, few channels are summed `group` rows at a time as one long
  // row (at least 64 floats), then the group's rows are folded: one vadd call per 6 channels was mostly
  // call overhead.
  constexpr size_t kBlockFloats = 65536;
  const size_t group = std::max<size_t>(1, 64 / channels), wide = group * channels;
  const size_t per = std::max<size_t>(group, kBlockFloats / channels / group * group);
  const size_t blocks = std::max<size_t>(1, (rows + per - 1) / per);
  float* partials = ck_scratch(CK_SCRATCH_FILTER, blocks * channels);
  ck_parallel_for(blocks, [&](size_t b) {
    const size_t r0 = b * per, r1 = std::min(rows, r0 + per);
    float* acc = ck_scratch(CK_SCRATCH_ROW, wide);
    std::memset(acc, 0, wide * sizeof(float));
    size_t r = r0;
    for (; r + group <= r1; r += group) d.vadd(wide, acc, dy + r * channels, acc);
    if (r < r1) d.vadd((r1 - r) * channels, acc, dy + r * channels, acc);
    float* part = partials + b * channels;
    std::memcpy(part, acc, channels * sizeof(float));
    for (size_t j = 1; j < group; ++j) d.vadd(channels, part, acc + j * channels, part);
  });
  ck_sum_partials(d, dbias, partials, blocks, channels);
}

void ck_unary_fwd(float* y, const float* x, size_t n, ck_act kind, float alpha) {
  const ck_f32_vunary_fn fn = ck_kernels().unary[kind];
  for_chunks(n, [&](size_t i, size_t len) { fn(len, x + i, y + i, alpha); });
}

void ck_unary_bwd(float* dx, const float* dy, const float* saved, size_t n, ck_act kind, float alpha) {
  const ck_f32_vunary_bwd_fn fn = ck_kernels().unary_bwd[kind];
  for_chunks(n, [&](size_t i, size_t len) { fn(len, dy + i, saved + i, dx + i, alpha); });
}

// One stream of draws, so one thread: about 1.5 ns per element (a 64 x 1024 layer in 0.1 ms).
void ck_dropout(float* y, float* mask, const float* x, size_t n, uint32_t seed, double rate) {
  ck_rng rng(seed);
  const uint64_t keep_from = uint64_t(std::ceil(rate * 4294967296.0));  // draw >= rate * 2^32, as integers
  const float values[2] = {0.0f, float(1.0 / (1.0 - rate))};
  for (size_t i = 0; i < n; ++i) {
    const float m = values[rng.next_u32() >= keep_from];  // a lookup: keep/drop is random, a branch mispredicts
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

void ck_binary(float* y, const float* a, const float* b, size_t n, ck_binary_op op) {
  const ck_dispatch& d = ck_kernels();
  const ck_f32_vbinary_fn fns[CK_BIN_COUNT] = {d.vadd, d.vsub, d.vmul, d.vmaximum, d.vminimum};
  const ck_f32_vbinary_fn fn = fns[op];
  for_chunks(n, [&](size_t i, size_t len) { fn(len, a + i, b + i, y + i); });
}

void ck_binary_route(float* da, float* db, const float* dy, const float* a, const float* b, size_t n, ck_binary_op op) {
  const ck_f32_vroute_fn fn = op == CK_BIN_MIN ? ck_kernels().vroutemin : ck_kernels().vroutemax;
  for_chunks(n, [&](size_t i, size_t len) { fn(len, dy + i, a + i, b + i, da + i, db + i); });
}

void ck_scale(float* y, const float* x, float c, size_t n) {
  const ck_f32_vmulc_fn fn = ck_kernels().vmulc;
  for_chunks(n, [&](size_t i, size_t len) { fn(len, x + i, c, y + i); });
}

void ck_copy_rows(float* dst, size_t dst_stride, const float* src, size_t src_stride, size_t rows, size_t cols) {
  for_row_blocks(rows, cols, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) std::memcpy(dst + r * dst_stride, src + r * src_stride, cols * sizeof(float));
  });
}

void ck_softmax_fwd(float* y, const float* x, size_t rows, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  for_row_blocks(rows, channels, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) d.softmax(channels, x + r * channels, y + r * channels);
  });
}

void ck_softmax_bwd(float* dx, const float* dy, const float* y, size_t rows, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  for_row_blocks(rows, channels, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) d.softmax_bwd(channels, dy + r * channels, y + r * channels, dx + r * channels);
  });
}

namespace {

// log(sum(exp(x))) of one row, in double with the max subtracted.
double log_sum_exp(const float* x, size_t c) {
  float mx = x[0];
  for (size_t j = 1; j < c; ++j) mx = std::max(mx, x[j]);
  double s = 0.0;
  for (size_t j = 0; j < c; ++j) s += std::exp(double(x[j]) - double(mx));
  return double(mx) + std::log(s);
}

// Shared by both losses: grad = (softmax - target) / N per row, loss = mean over rows of row_loss.
// target(r, j) and row_loss(r, lse) describe the labels.
template <class Target, class RowLoss>
double softmax_xent(float* dlogits, const float* logits, size_t n, size_t c, Target&& target, RowLoss&& row_loss) {
  const ck_dispatch& d = ck_kernels();
  std::vector<double> losses(n);
  const float float_n = float(n);
  for_row_blocks(n, c, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const float* x = logits + r * c;
      float* g = dlogits + r * c;
      d.softmax(c, x, g);
      for (size_t j = 0; j < c; ++j) g[j] = (g[j] - target(r, j)) / float_n;
      losses[r] = row_loss(r, log_sum_exp(x, c));
    }
  });
  double total = 0.0;
  for (double l : losses) total += l;  // in row order, whatever the threads
  return n > 0 ? total / double(n) : 0.0;
}

}  // namespace

double ck_softmax_xent_sparse(float* dlogits, const float* logits, const int32_t* labels, size_t n, size_t c) {
  return softmax_xent(
      dlogits, logits, n, c, [&](size_t r, size_t j) { return size_t(labels[r]) == j ? 1.0f : 0.0f; },
      [&](size_t r, double lse) { return lse - double(logits[r * c + size_t(labels[r])]); });
}

double ck_softmax_xent_dense(float* dlogits, const float* logits, const float* targets, size_t n, size_t c) {
  return softmax_xent(
      dlogits, logits, n, c, [&](size_t r, size_t j) { return targets[r * c + j]; },
      [&](size_t r, double lse) {
        double l = 0.0;
        for (size_t j = 0; j < c; ++j) l += double(targets[r * c + j]) * (lse - double(logits[r * c + j]));
        return l;
      });
}

size_t ck_first_nonfinite(const float* x, size_t n) {
  const ck_dispatch& d = ck_kernels();
  const size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<char> finite(chunks);
  for_chunks(n, [&](size_t i, size_t len) { finite[i / kChunk] = d.vfinite(len, x + i); });
  for (size_t c = 0; c < chunks; ++c) {
    if (finite[c]) continue;
    for (size_t i = c * kChunk; i < n; ++i)
      if (!std::isfinite(x[i])) return i;
  }
  return n;
}
