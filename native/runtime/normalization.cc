// Batch normalization's passes: per-channel moments and sums (in double, over fixed blocks of rows whose
// partials are added in block order, so any thread count gives the same bits) and per-channel affine maps.
#include <algorithm>
#include <vector>

#include "convkit/ops.h"
#include "runtime/dispatch.h"
#include "runtime/parallel.h"

namespace {

constexpr size_t kBlockFloats = 16384;

size_t rows_per_block(size_t channels) { return std::max<size_t>(1, kBlockFloats / channels); }

// out[k] = sum over blocks of part(block)[k], blocks in order; part(b, acc) adds block b's rows into acc.
template <class Part>
void blocked_sum(size_t rows, size_t channels, size_t outputs, std::vector<double>& out, Part&& part) {
  const size_t per = rows_per_block(channels), blocks = (rows + per - 1) / per;
  std::vector<double> partials(blocks * outputs * channels, 0.0);
  ck_parallel_for(blocks, [&](size_t b) {
    part(b * per, std::min(rows, (b + 1) * per), partials.data() + b * outputs * channels);
  });
  out.assign(outputs * channels, 0.0);
  for (size_t b = 0; b < blocks; ++b)
    for (size_t k = 0; k < outputs * channels; ++k) out[k] += partials[b * outputs * channels + k];
}

template <class Fn>
void for_blocks(size_t rows, size_t channels, Fn&& fn) {
  const size_t per = rows_per_block(channels);
  ck_parallel_for((rows + per - 1) / per, [&](size_t b) { fn(b * per, std::min(rows, (b + 1) * per)); });
}

}  // namespace

void ck_channel_moments(double* mean, double* var, const float* x, size_t rows, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  std::vector<double> sums;
  blocked_sum(rows, channels, 1, sums, [&](size_t r0, size_t r1, double* acc) {
    d.channel_sums(r1 - r0, channels, x + r0 * channels, nullptr, acc, nullptr);
  });
  for (size_t k = 0; k < channels; ++k) mean[k] = sums[k] / double(rows);
  std::vector<double> sq;
  blocked_sum(rows, channels, 1, sq, [&](size_t r0, size_t r1, double* acc) {
    d.channel_sqdev(r1 - r0, channels, x + r0 * channels, mean, acc);
  });
  for (size_t k = 0; k < channels; ++k) var[k] = sq[k] / double(rows);
}

void ck_channel_sums(double* sum_a, double* sum_ab, const float* a, const float* b, size_t rows, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  std::vector<double> sums;
  blocked_sum(rows, channels, 2, sums, [&](size_t r0, size_t r1, double* acc) {
    d.channel_sums(r1 - r0, channels, a + r0 * channels, b ? b + r0 * channels : nullptr, acc, acc + channels);
  });
  std::copy(sums.begin(), sums.begin() + channels, sum_a);
  if (b != nullptr) std::copy(sums.begin() + channels, sums.end(), sum_ab);
}

void ck_channel_affine(float* y, const float* x, const float* s, const float* t, size_t rows, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  for_blocks(rows, channels, [&](size_t r0, size_t r1) {
    d.channel_affine(r1 - r0, channels, x + r0 * channels, s, t, y + r0 * channels);
  });
}

void ck_channel_affine2(float* y, const float* a, const float* b, const float* sa, const float* sb, const float* t,
                        size_t rows, size_t channels) {
  const ck_dispatch& d = ck_kernels();
  for_blocks(rows, channels, [&](size_t r0, size_t r1) {
    d.channel_affine2(r1 - r0, channels, a + r0 * channels, b + r0 * channels, sa, sb, t, y + r0 * channels);
  });
}
