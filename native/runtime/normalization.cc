// Batch normalization's passes: per-channel moments and sums (in double, over fixed blocks of rows whose
// partials are added in block order, so any thread count gives the same bits) and per-channel affine maps;
// group (and layer) normalization, sample by sample on the same microkernels.
#include <algorithm>
#include <cmath>
#include <vector>

#include "convkit/ops.h"
#include "runtime/dispatch.h"
#include "runtime/parallel.h"
#include "runtime/scratch.h"

namespace {

constexpr size_t kBlockFloats = 16384;

size_t rows_per_block(size_t channels) { return std::max<size_t>(1, kBlockFloats / channels); }

// out[k] = sum over blocks of part(block)[k], blocks in order; part(b, acc) adds block b's rows into acc.
template <class Part>
void blocked_sum(size_t rows, size_t channels, size_t outputs, std::vector<double>& out, Part&& part) {
  const size_t per = rows_per_block(channels), blocks = (rows + per - 1) / per;
  const size_t n = outputs * channels;
  std::vector<double> partials(blocks * n);
  ck_parallel_for(blocks, [&](size_t b) {
    // summed in this thread's own buffer: neighbouring blocks' partials share cache lines, which the threads
    // would otherwise pass back and forth on every row
    double* acc = reinterpret_cast<double*>(ck_scratch(CK_SCRATCH_ROW, 2 * n));
    std::fill(acc, acc + n, 0.0);
    part(b * per, std::min(rows, (b + 1) * per), acc);
    std::copy(acc, acc + n, partials.data() + b * n);
  });
  out.assign(n, 0.0);
  for (size_t b = 0; b < blocks; ++b)
    for (size_t k = 0; k < n; ++k) out[k] += partials[b * n + k];
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

namespace {

// Samples per task of the group-norm passes: about kBlockFloats values, at least one sample. Each sample's
// sums stay inside its task, and the parameter sums add the tasks' partials in task order.
size_t samples_per_task(size_t sample_floats) { return std::max<size_t>(1, kBlockFloats / std::max<size_t>(sample_floats, 1)); }

}  // namespace

void ck_group_norm_fwd(float* y, float* xhat, double* stats, const float* x, const float* gamma, const float* beta,
                       size_t n, size_t s, size_t g, size_t k, double eps) {
  const ck_dispatch& d = ck_kernels();
  const size_t c = g * k, per = samples_per_task(s * c);
  const double count = double(s) * double(k);
  ck_parallel_for((n + per - 1) / per, [&](size_t task) {
    std::vector<double> sums(c), mean_c(c), sq(c);
    std::vector<float> a(c), b(c);
    for (size_t i = task * per; i < std::min(n, (task + 1) * per); ++i) {
      const float* xi = x + i * s * c;
      std::fill(sums.begin(), sums.end(), 0.0);
      d.channel_sums(s, c, xi, nullptr, sums.data(), nullptr);
      for (size_t gi = 0; gi < g; ++gi) {
        double m = 0;
        for (size_t j = 0; j < k; ++j) m += sums[gi * k + j];
        m /= count;
        for (size_t j = 0; j < k; ++j) mean_c[gi * k + j] = m;
        stats[i * g + gi] = m;
      }
      std::fill(sq.begin(), sq.end(), 0.0);
      d.channel_sqdev(s, c, xi, mean_c.data(), sq.data());
      for (size_t gi = 0; gi < g; ++gi) {
        double v = 0;
        for (size_t j = 0; j < k; ++j) v += sq[gi * k + j];
        const double inv = 1.0 / std::sqrt(v / count + eps), m = stats[i * g + gi];
        stats[n * g + i * g + gi] = inv;
        for (size_t j = 0; j < k; ++j) {
          const size_t ch = gi * k + j;
          const double gm = gamma ? gamma[ch] : 1.0, bt = beta ? beta[ch] : 0.0;
          a[ch] = float(inv * gm);
          b[ch] = float(bt - m * inv * gm);
        }
      }
      d.channel_affine(s, c, xi, a.data(), b.data(), y + i * s * c);
      if (xhat != nullptr) {
        for (size_t gi = 0; gi < g; ++gi)
          for (size_t j = 0; j < k; ++j) {
            const double inv = stats[n * g + i * g + gi];
            a[gi * k + j] = float(inv);
            b[gi * k + j] = float(-stats[i * g + gi] * inv);
          }
        d.channel_affine(s, c, xi, a.data(), b.data(), xhat + i * s * c);
      }
    }
  });
}

void ck_group_norm_bwd(float* dx, double* param_sums, const float* dy, const float* xhat, const float* gamma,
                       const double* inv_std, size_t n, size_t s, size_t g, size_t k) {
  const ck_dispatch& d = ck_kernels();
  const size_t c = g * k, per = samples_per_task(s * c), tasks = (n + per - 1) / per;
  const double count = double(s) * double(k);
  std::vector<double> partials(param_sums ? tasks * 2 * c : 0, 0.0);
  ck_parallel_for(tasks, [&](size_t task) {
    std::vector<double> sdy(c), sdyx(c);
    std::vector<float> sa(c), sb(c), t(c);
    for (size_t i = task * per; i < std::min(n, (task + 1) * per); ++i) {
      const size_t at = i * s * c;
      std::fill(sdy.begin(), sdy.end(), 0.0);
      std::fill(sdyx.begin(), sdyx.end(), 0.0);
      d.channel_sums(s, c, dy + at, xhat + at, sdy.data(), sdyx.data());
      if (param_sums != nullptr)
        for (size_t ch = 0; ch < c; ++ch) {
          partials[task * 2 * c + ch] += sdy[ch];
          partials[task * 2 * c + c + ch] += sdyx[ch];
        }
      // dx = inv (gamma dy - mean(gamma dy) - xhat mean(gamma dy xhat)), the means over the group's s * k values
      for (size_t gi = 0; gi < g; ++gi) {
        double m1 = 0, m2 = 0;
        for (size_t j = 0; j < k; ++j) {
          const size_t ch = gi * k + j;
          const double gm = gamma ? gamma[ch] : 1.0;
          m1 += gm * sdy[ch];
          m2 += gm * sdyx[ch];
        }
        const double inv = inv_std[i * g + gi];
        for (size_t j = 0; j < k; ++j) {
          const size_t ch = gi * k + j;
          sa[ch] = float(inv * (gamma ? gamma[ch] : 1.0));
          sb[ch] = float(-inv * m2 / count);
          t[ch] = float(-inv * m1 / count);
        }
      }
      d.channel_affine2(s, c, dy + at, xhat + at, sa.data(), sb.data(), t.data(), dx + at);
    }
  });
  if (param_sums == nullptr) return;
  std::fill(param_sums, param_sums + 2 * c, 0.0);
  for (size_t task = 0; task < tasks; ++task)
    for (size_t q = 0; q < 2 * c; ++q) param_sums[q] += partials[task * 2 * c + q];
}
