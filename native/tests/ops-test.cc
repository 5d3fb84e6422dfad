// Pooling, activations, softmax, losses and bias ops against double-precision loops, under every ISA,
// bit-identical at 1 and 2 threads.
#include <cmath>
#include <string>

#include "convkit/ops.h"
#include "tests/harness.h"
#include "tests/util.h"

namespace {

// Values on a coarse grid so pooling windows contain ties.
std::vector<float> with_ties(size_t n, uint32_t seed) {
  std::vector<float> v = ck_random(n, seed);
  for (float& x : v) x = std::round(x * 3) / 3;
  return v;
}

struct PoolWant {
  std::vector<double> max_y, max_dx, avg_y, avg_dx;
};

PoolWant naive_pool(const ck_pool2d_info& s, const std::vector<float>& x, const std::vector<float>& dy) {
  PoolWant w;
  w.max_y.assign(dy.size(), 0);
  w.avg_y.assign(dy.size(), 0);
  w.max_dx.assign(x.size(), 0);
  w.avg_dx.assign(x.size(), 0);
  for (size_t n = 0; n < s.batch; ++n)
    for (size_t oh = 0; oh < s.out_h; ++oh)
      for (size_t ow = 0; ow < s.out_w; ++ow)
        for (size_t c = 0; c < s.channels; ++c) {
          const size_t yi = ((n * s.out_h + oh) * s.out_w + ow) * s.channels + c;
          long best = -1;
          double sum = 0;
          std::vector<size_t> cells;
          for (size_t ph = 0; ph < s.pool_h; ++ph)
            for (size_t pw = 0; pw < s.pool_w; ++pw) {
              const long ih = long(oh * s.stride_h + ph) - long(s.pad_top);
              const long iw = long(ow * s.stride_w + pw) - long(s.pad_left);
              if (ih < 0 || iw < 0 || ih >= long(s.in_h) || iw >= long(s.in_w)) continue;
              const size_t xi = ((n * s.in_h + size_t(ih)) * s.in_w + size_t(iw)) * s.channels + c;
              if (best < 0 || x[xi] > x[size_t(best)]) best = long(xi);
              sum += x[xi];
              cells.push_back(xi);
            }
          if (cells.empty()) continue;
          w.max_y[yi] = x[size_t(best)];
          w.max_dx[size_t(best)] += dy[yi];
          w.avg_y[yi] = sum / double(cells.size());
          for (size_t xi : cells) w.avg_dx[xi] += dy[yi] / double(cells.size());
        }
  return w;
}

template <class Fn>
void expect_close(const char* what, Fn&& fn, const std::vector<double>& want, double rtol, double atol = 1e-6) {
  const std::vector<float> got = fn();
  const long bad = ck_first_mismatch(got, want, atol, rtol);
  CK_CHECK(bad < 0, std::string(what) + " (" + ck_isa_name(ck_isa_current()) + "): " + ck_describe_mismatch(got, want, bad));
  CK_CHECK(ck_same_for_thread_counts(fn), std::string(what) + ": 1 and 2 threads differ");
}

// What the cross-backend parity suite allows elementwise transcendental results: 8 ulp relative + 1 ulp of 1.
constexpr double kUlpRel = 1.0 / (1 << 20), kUlpAbs = 1.0 / (1 << 24);

// batch, inH, inW, C, outH, outW, poolH, poolW, strides, pads (top, bottom, left, right)
const ck_pool2d_info kPoolConfigs[] = {
    {2, 6, 6, 3, 3, 3, 2, 2, 2, 2, 0, 0, 0, 0},
    {1, 7, 5, 17, 4, 3, 3, 3, 2, 2, 1, 1, 1, 1},
    {2, 5, 6, 9, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1},
    {1, 3, 3, 2, 3, 3, 4, 4, 2, 2, 3, 3, 3, 3},  // windows entirely in padding
    {2, 7, 9, 5, 4, 5, 2, 3, 2, 2, 1, 0, 1, 1},  // few channels, strided, clipped: the by-rows backward
    // windows that tile the input (stride = pool size): one pass; odd sizes leave a row and a column uncovered
    {2, 7, 9, 20, 3, 4, 2, 2, 2, 2, 0, 0, 0, 0},
    {3, 8, 8, 16, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0},
    {1, 10, 9, 37, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0},
};

}  // namespace

CK_TEST(pooling_against_loops) {
  ck_for_each_isa([&](ck_isa) {
    uint32_t seed = 5;
    for (const auto& s : kPoolConfigs) {
      const std::vector<float> x = with_ties(s.batch * s.in_h * s.in_w * s.channels, ++seed);
      const std::vector<float> dy = ck_random(s.batch * s.out_h * s.out_w * s.channels, ++seed);
      const PoolWant w = naive_pool(s, x, dy);
      const auto out = [&](auto fn, size_t n) {
        return [&, fn, n] {
          std::vector<float> v(n, NAN);
          fn(v.data());
          return v;
        };
      };
      expect_close("maxpool fwd", out([&](float* y) { ck_maxpool2d_fwd(y, x.data(), s); }, dy.size()), w.max_y, 0);
      expect_close("maxpool bwd", out([&](float* dx) { ck_maxpool2d_bwd(dx, dy.data(), x.data(), s); }, x.size()), w.max_dx, 1e-6);
      expect_close("avgpool fwd", out([&](float* y) { ck_avgpool2d_fwd(y, x.data(), s); }, dy.size()), w.avg_y, 1e-6);
      expect_close("avgpool bwd", out([&](float* dx) { ck_avgpool2d_bwd(dx, dy.data(), s); }, x.size()), w.avg_dx, 1e-6);
    }
  });
}

// NaNs through the tiling max-pooling kernels: a window's result is its first cell's NaN, and a later cell's NaN
// never wins (the loops' strict comparison, as the reference backend's); the backward routes dy the same way.
CK_TEST(tiling_maxpool_nan_like_loops) {
  ck_for_each_isa([&](ck_isa isa) {
    uint32_t seed = 30;
    for (const auto& s : kPoolConfigs) {
      if (s.stride_h != s.pool_h || s.stride_w != s.pool_w || s.pad_top + s.pad_bottom + s.pad_left + s.pad_right != 0)
        continue;
      std::vector<float> x = ck_random(s.batch * s.in_h * s.in_w * s.channels, ++seed);
      for (size_t i = 0; i < x.size(); i += 5) x[i] = NAN;
      const std::vector<float> dy = ck_random(s.batch * s.out_h * s.out_w * s.channels, ++seed);
      const PoolWant w = naive_pool(s, x, dy);
      std::vector<float> y(dy.size());
      ck_maxpool2d_fwd(y.data(), x.data(), s);
      for (size_t i = 0; i < y.size(); ++i)
        CK_CHECK(std::isnan(w.max_y[i]) ? std::isnan(y[i]) : double(y[i]) == w.max_y[i],
                 std::string(ck_isa_name(isa)) + " maxpool fwd, output " + std::to_string(i) + ": got " +
                     std::to_string(y[i]) + ", want " + std::to_string(w.max_y[i]));
      expect_close("maxpool bwd with NaNs", [&] {
        std::vector<float> dx(x.size(), 1.0f);
        ck_maxpool2d_bwd(dx.data(), dy.data(), x.data(), s);
        return dx;
      }, w.max_dx, 0);
    }
  });
}

// Max pooling's backward through the activation whose output it pooled: the same bits as the two ops in turn.
CK_TEST(maxpool_bwd_through_activation) {
  ck_for_each_isa([&](ck_isa isa) {
    uint32_t seed = 50;
    for (const auto& s : kPoolConfigs) {
      const std::vector<float> x = with_ties(s.batch * s.in_h * s.in_w * s.channels, ++seed);
      const std::vector<float> dy = ck_random(s.batch * s.out_h * s.out_w * s.channels, ++seed);
      for (const ck_act act : {CK_ACT_RELU, CK_ACT_LEAKY_RELU, CK_ACT_SIGMOID, CK_ACT_TANH}) {
        std::vector<float> two(x.size()), one(x.size(), NAN);
        ck_maxpool2d_bwd(two.data(), dy.data(), x.data(), s);
        ck_unary_bwd(two.data(), two.data(), x.data(), two.size(), act, 0.3f);
        ck_maxpool2d_bwd(one.data(), dy.data(), x.data(), s, act, 0.3f);
        CK_CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0,
                 std::string(ck_isa_name(isa)) + " activation " + std::to_string(int(act)) + ", " +
                     std::to_string(s.in_h) + "x" + std::to_string(s.in_w) + "x" + std::to_string(s.channels) +
                     ": differs from the two ops in turn");
      }
    }
  });
}

CK_TEST(global_pooling_against_loops) {
  const size_t n = 3, hw = 13, c = 19;
  const std::vector<float> x = with_ties(n * hw * c, 3), dy = ck_random(n * c, 4);
  std::vector<double> avg(n * c, 0), mx(n * c, 0), avg_dx(x.size(), 0), max_dx(x.size(), 0);
  for (size_t b = 0; b < n; ++b)
    for (size_t k = 0; k < c; ++k) {
      size_t best = b * hw * c + k;
      for (size_t p = 0; p < hw; ++p) {
        const size_t i = (b * hw + p) * c + k;
        avg[b * c + k] += x[i] / double(hw);
        avg_dx[i] = dy[b * c + k] / double(hw);
        if (x[i] > x[best]) best = i;
      }
      mx[b * c + k] = x[best];
      max_dx[best] = dy[b * c + k];
    }
  ck_for_each_isa([&](ck_isa) {
    expect_close("global avg fwd", [&] { std::vector<float> y(n * c); ck_global_avgpool_fwd(y.data(), x.data(), n, hw, c); return y; }, avg, 1e-6);
    expect_close("global avg bwd", [&] { std::vector<float> d(x.size()); ck_global_avgpool_bwd(d.data(), dy.data(), n, hw, c); return d; }, avg_dx, 1e-6);
    expect_close("global max fwd", [&] { std::vector<float> y(n * c); ck_global_maxpool_fwd(y.data(), x.data(), n, hw, c); return y; }, mx, 0);
    expect_close("global max bwd", [&] { std::vector<float> d(x.size()); ck_global_maxpool_bwd(d.data(), dy.data(), x.data(), n, hw, c); return d; }, max_dx, 0);
  });
}

CK_TEST(activations_against_formulas) {
  const size_t n = 16384 * 2 + 37;  // several tasks and a vector tail
  std::vector<float> x = ck_random(n, 11);
  for (size_t i = 0; i < n; ++i) x[i] *= i % 3 == 0 ? 1e-3f : float(1 + i % 9);  // near 0 (expm1) up to |x| ~ 9
  const std::vector<float> dy = ck_random(n, 12);
  const float alpha = 0.7f;
  ck_for_each_isa([&](ck_isa) {
    for (int k = CK_ACT_RELU; k < CK_ACT_COUNT; ++k) {
      const ck_act act = ck_act(k);
      std::vector<double> y(n), dx(n);
      std::vector<float> saved(n);
      for (size_t i = 0; i < n; ++i) {
        const double v = x[i];
        y[i] = ck_activate(v, act, alpha);
        // the derivatives taken from x, by their definitions
        const double sg = 1 / (1 + std::exp(-v));
        switch (act) {
          case CK_ACT_RELU: dx[i] = v > 0 ? dy[i] : 0; break;
          case CK_ACT_LEAKY_RELU: dx[i] = v > 0 ? dy[i] : alpha * dy[i]; break;
          case CK_ACT_ELU: dx[i] = v > 0 ? dy[i] : dy[i] * alpha * std::exp(v); break;
          case CK_ACT_HARD_SWISH: dx[i] = v < -3 ? 0 : v > 3 ? dy[i] : dy[i] * (2 * v + 3) / 6; break;
          case CK_ACT_SWISH: dx[i] = dy[i] * (sg + v * sg * (1 - sg)); break;
          case CK_ACT_GELU:
            dx[i] = dy[i] * (0.5 * std::erfc(-v / std::sqrt(2.0)) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI));
            break;
          case CK_ACT_GELU_TANH: {
            const double c = std::sqrt(2 / M_PI), t = std::tanh(c * (v + 0.044715 * v * v * v));
            dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v));
            break;
          }
          case CK_ACT_SOFTPLUS: dx[i] = dy[i] * sg; break;
          case CK_ACT_SOFTSIGN: dx[i] = dy[i] / ((1 + std::fabs(v)) * (1 + std::fabs(v))); break;
          case CK_ACT_SELU: dx[i] = 1.0507009873554805 * (v > 0 ? dy[i] : dy[i] * 1.6732632423543772 * std::exp(v)); break;
          case CK_ACT_MISH: {
            const double t = std::tanh(std::max(v, 0.0) + std::log1p(std::exp(-std::fabs(v))));
            dx[i] = dy[i] * (t + v * (1 - t * t) * sg);
            break;
          }
          default: break;  // from y, below
        }
        // these differentiate from their output y (as it was stored, in float)
        const bool from_y = act == CK_ACT_SIGMOID || act == CK_ACT_TANH || act == CK_ACT_RELU6 || act == CK_ACT_HARD_SIGMOID ||
                            act == CK_ACT_EXPONENTIAL;
        saved[i] = from_y ? float(y[i]) : x[i];
        const double s = saved[i];
        if (act == CK_ACT_SIGMOID) dx[i] = dy[i] * s * (1 - s);
        if (act == CK_ACT_TANH) dx[i] = dy[i] * (1 - s * s);
        if (act == CK_ACT_RELU6) dx[i] = s > 0 && s < 6 ? dy[i] : 0;
        if (act == CK_ACT_HARD_SIGMOID) dx[i] = s > 0 && s < 1 ? alpha * dy[i] : 0;
        if (act == CK_ACT_EXPONENTIAL) dx[i] = dy[i] * s;
      }
      const std::string what = "activation " + std::to_string(k);
      expect_close((what + " fwd").c_str(), [&] { std::vector<float> o(n); ck_unary_fwd(o.data(), x.data(), n, act, alpha); return o; }, y, kUlpRel, kUlpAbs);
      expect_close((what + " bwd").c_str(), [&] { std::vector<float> o(n); ck_unary_bwd(o.data(), dy.data(), saved.data(), n, act, alpha); return o; }, dx, kUlpRel, kUlpAbs);
    }
  });
}

// Far out on both sides every activation and its gradient stay what their definitions give (no overflow into
// NaN, no cancellation to 0 where the value is small but not zero), within the same relative tolerance.
CK_TEST(activations_at_extremes) {
  const std::vector<float> x = {-1e4f, -200.f, -50.f, -20.f, -11.f, -9.f, 9.f, 11.f, 20.f, 50.f, 80.f, 88.5f, 89.f, 1e4f};
  const std::vector<float> dy(x.size(), 1.0f);
  ck_for_each_isa([&](ck_isa isa) {
    for (int k = CK_ACT_RELU; k < CK_ACT_COUNT; ++k) {
      const ck_act act = ck_act(k);
      std::vector<float> y(x.size()), dx(x.size());
      ck_unary_fwd(y.data(), x.data(), x.size(), act, 0.7f);
      const bool from_y = act == CK_ACT_SIGMOID || act == CK_ACT_TANH || act == CK_ACT_RELU6 || act == CK_ACT_HARD_SIGMOID ||
                          act == CK_ACT_EXPONENTIAL;
      ck_unary_bwd(dx.data(), dy.data(), from_y ? y.data() : x.data(), x.size(), act, 0.7f);
      for (size_t i = 0; i < x.size(); ++i) {
        const double want = ck_activate(x[i], act, 0.7);
        const std::string what = std::string(ck_isa_name(isa)) + " activation " + std::to_string(k) + " at " + std::to_string(x[i]);
        if (std::fabs(want) > 3.4e38) {
          CK_CHECK(std::isinf(y[i]), what + ": expected an infinite value, got " + std::to_string(y[i]));
          continue;
        }
        CK_CHECK(std::fabs(y[i] - want) <= 1e-30 + kUlpRel * std::fabs(want), what + ": got " + std::to_string(y[i]) + ", want " + std::to_string(want));
        CK_CHECK(std::isfinite(dx[i]), what + ": gradient " + std::to_string(dx[i]));
      }
    }
  });
}

// An element's activation is the same bits wherever it sits: in a vector or in the tail of an array whose
// length is not a multiple of the vector width (inference one image at a time against a batch).
CK_TEST(activations_do_not_depend_on_position) {
  const size_t n = 67;
  std::vector<float> x = ck_random(n, 13);
  for (size_t i = 0; i < n; ++i) x[i] *= float(1 + i % 5);
  const std::vector<float> dy = ck_random(n, 14);
  ck_for_each_isa([&](ck_isa isa) {
    for (int k = CK_ACT_RELU; k < CK_ACT_COUNT; ++k) {
      const ck_act act = ck_act(k);
      std::vector<float> y(n), dx(n);
      ck_unary_fwd(y.data(), x.data(), n, act, 0.7f);
      ck_unary_bwd(dx.data(), dy.data(), x.data(), n, act, 0.7f);
      for (size_t off = 1; off < 17; ++off) {
        std::vector<float> ys(n - off), dxs(n - off);
        ck_unary_fwd(ys.data(), x.data() + off, n - off, act, 0.7f);
        ck_unary_bwd(dxs.data(), dy.data() + off, x.data() + off, n - off, act, 0.7f);
        CK_CHECK(std::memcmp(ys.data(), y.data() + off, ys.size() * sizeof(float)) == 0 &&
                     std::memcmp(dxs.data(), dx.data() + off, dxs.size() * sizeof(float)) == 0,
                 std::string(ck_isa_name(isa)) + " activation " + std::to_string(k) + ": offset " +
                     std::to_string(off) + " changed some element's bits");
      }
    }
  });
}

CK_TEST(softmax_losses_bias_against_formulas) {
  const size_t rows = 37, c = 21;
  std::vector<float> x = ck_random(rows * c, 21);
  for (float& v : x) v *= 30;  // large logits: the max subtraction matters
  const std::vector<float> dy = ck_random(rows * c, 22);
  std::vector<int32_t> labels(rows);
  std::vector<float> targets(rows * c, 0);
  for (size_t r = 0; r < rows; ++r) {
    labels[r] = int32_t((r * 7) % c);
    targets[r * c + (r % c)] = 0.75f;
    targets[r * c + ((r + 1) % c)] = 0.25f;
  }
  std::vector<double> p(rows * c), sbwd(rows * c), gs(rows * c), gd(rows * c), bias_sum(c, 0), bias_add(rows * c);
  double loss_s = 0, loss_d = 0;
  const std::vector<float> bias = ck_random(c, 23);
  for (size_t r = 0; r < rows; ++r) {
    double mx = x[r * c], sum = 0, dot = 0;
    for (size_t j = 0; j < c; ++j) mx = std::max(mx, double(x[r * c + j]));
    for (size_t j = 0; j < c; ++j) sum += std::exp(x[r * c + j] - mx);
    for (size_t j = 0; j < c; ++j) {
      p[r * c + j] = std::exp(x[r * c + j] - mx) / sum;
      dot += dy[r * c + j] * p[r * c + j];
    }
    const double lse = mx + std::log(sum);
    loss_s += (lse - x[r * c + size_t(labels[r])]) / rows;
    for (size_t j = 0; j < c; ++j) {
      sbwd[r * c + j] = p[r * c + j] * (dy[r * c + j] - dot);
      gs[r * c + j] = (p[r * c + j] - (size_t(labels[r]) == j ? 1 : 0)) / rows;
      gd[r * c + j] = (p[r * c + j] - targets[r * c + j]) / rows;
      loss_d += targets[r * c + j] * (lse - x[r * c + j]) / rows;
      bias_sum[j] += dy[r * c + j];
      bias_add[r * c + j] = double(x[r * c + j]) + bias[j];
    }
  }
  ck_for_each_isa([&](ck_isa) {
    // softmax(y) is fed back as float: compare the backward against the formula on that y.
    std::vector<float> y(rows * c);
    ck_softmax_fwd(y.data(), x.data(), rows, c);
    std::vector<double> sb(rows * c);
    for (size_t r = 0; r < rows; ++r) {
      double dot = 0;
      for (size_t j = 0; j < c; ++j) dot += double(dy[r * c + j]) * y[r * c + j];
      for (size_t j = 0; j < c; ++j) sb[r * c + j] = y[r * c + j] * (dy[r * c + j] - dot);
    }
    expect_close("softmax fwd", [&] { std::vector<float> o(rows * c); ck_softmax_fwd(o.data(), x.data(), rows, c); return o; }, p, kUlpRel, kUlpAbs);
    expect_close("softmax bwd", [&] { std::vector<float> o(rows * c); ck_softmax_bwd(o.data(), dy.data(), y.data(), rows, c); return o; }, sb, 1e-5);
    double ls = 0, ld = 0;
    expect_close("xent sparse grad", [&] { std::vector<float> o(rows * c); ls = ck_softmax_xent_sparse(o.data(), x.data(), labels.data(), rows, c); return o; }, gs, 1e-5);
    expect_close("xent dense grad", [&] { std::vector<float> o(rows * c); ld = ck_softmax_xent_dense(o.data(), x.data(), targets.data(), rows, c); return o; }, gd, 1e-5);
    CK_CHECK(std::fabs(ls - loss_s) <= 1e-5 * loss_s, "sparse loss " + std::to_string(ls) + " vs " + std::to_string(loss_s));
    CK_CHECK(std::fabs(ld - loss_d) <= 1e-5 * loss_d, "dense loss " + std::to_string(ld) + " vs " + std::to_string(loss_d));
    expect_close("bias add", [&] { std::vector<float> o(rows * c); ck_bias_add(o.data(), x.data(), bias.data(), rows, c); return o; }, bias_add, 1e-6);
    expect_close("bias grad", [&] { std::vector<float> o(c); ck_bias_grad(o.data(), dy.data(), rows, c); return o; }, bias_sum, 1e-5);
  });
}

// biasGrad sums fixed row blocks into partials, and few channels several rows at a time: shapes with several
// blocks, a ragged last block and a row count that is not a multiple of the rows summed at once.
CK_TEST(bias_grad_row_blocks) {
  const size_t shapes[][2] = {{25003, 6}, {4099, 32}, {3001, 1}, {777, 70}, {5, 13}};
  ck_for_each_isa([&](ck_isa) {
    uint32_t seed = 300;
    for (const auto& sh : shapes) {
      const size_t rows = sh[0], c = sh[1];
      const std::vector<float> dy = ck_random(rows * c, ++seed);
      std::vector<double> want(c, 0.0), scale(c, 0.0);
      for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < c; ++j) want[j] += dy[r * c + j], scale[j] += std::fabs(dy[r * c + j]);
      const auto run = [&] { std::vector<float> o(c); ck_bias_grad(o.data(), dy.data(), rows, c); return o; };
      const std::vector<float> got = run();
      // float sums of `rows` terms: a few ulp of the sum of magnitudes
      const long bad = ck_first_mismatch(got, want, 0.0, 1e-6 * std::sqrt(double(rows)), scale);
      const std::string what = "bias grad " + std::to_string(rows) + "x" + std::to_string(c) + " (" + ck_isa_name(ck_isa_current()) + ")";
      CK_CHECK(bad < 0, what + ": " + ck_describe_mismatch(got, want, bad));
      CK_CHECK(ck_same_for_thread_counts(run), what + ": 1 and 2 threads differ");
    }
  });
}
