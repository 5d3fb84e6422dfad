// Optimizer steps over float32 weights, written to give the reference backend's results bit for bit: that
// code computes in float64 and stores into Float32Arrays, so here every expression is evaluated in double in
// the same order, and a value the reference reads back from a typed array after storing it is rounded to
// float first (-ffp-contract=off keeps multiplies and adds unfused). Elements are independent: the pool splits
// them into chunks, and any split gives the same result.
#include <cmath>

#include "convkit/ops.h"
#include "runtime/parallel.h"

namespace {

constexpr size_t kChunk = 16384;

// Stored into a Float32Array and read back.
inline double f32(double v) { return double(float(v)); }

void step_range(float* w, const float* g, float* s0, float* s1, size_t i0, size_t i1, const ck_optimizer_step_info& s) {
  const double lr = s.lr, eps = s.epsilon;
  for (size_t i = i0; i < i1; ++i) {
    const double gi = double(g[i]) * s.scale;
    double wi = w[i];
    if (s.decay != 0) wi = f32(wi - s.decay * wi);
    switch (s.rule) {
      case CK_OPT_SGD:  // v = mu v - lr g; w += v, or with nesterov w += mu v - lr g; without momentum w -= lr g
        if (s0 == nullptr) {
          wi = wi - lr * gi;
        } else {
          const double v = f32(s.momentum * double(s0[i]) - lr * gi);
          s0[i] = float(v);
          wi = wi + (s.nesterov ? s.momentum * v - lr * gi : v);
        }
        break;
      case CK_OPT_ADAM: {  // m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr m / (sqrt(v) + eps)
        const double m = f32(s.beta1 * double(s0[i]) + (1 - s.beta1) * gi);
        const double v = f32(s.beta2 * double(s1[i]) + (1 - s.beta2) * gi * gi);
        s0[i] = float(m);
        s1[i] = float(v);
        wi = wi - (lr * m) / (std::sqrt(v) + eps);
        break;
      }
      case CK_OPT_RMSPROP: {  // v = rho v + (1-rho) g^2; step = lr g / sqrt(v + eps); m = mu m + step; w -= m
        const double v = f32(s.rho * double(s0[i]) + (1 - s.rho) * gi * gi);
        s0[i] = float(v);
        const double step = (lr * gi) / std::sqrt(v + eps);
        if (s1 != nullptr) {
          const double m = f32(s.momentum * double(s1[i]) + step);
          s1[i] = float(m);
          wi = wi - m;
        } else {
          wi = wi - step;
        }
        break;
      }
      case CK_OPT_ADAGRAD: {  // a += g^2; w -= lr g / sqrt(a + eps)
        const double a = f32(double(s0[i]) + gi * gi);
        s0[i] = float(a);
        wi = wi - (lr * gi) / std::sqrt(a + eps);
        break;
      }
      case CK_OPT_ADADELTA: {  // a = rho a + (1-rho) g^2; d = -sqrt(u + eps) / sqrt(a + eps) g; u = rho u + (1-rho) d^2
        const double a = f32(s.rho * double(s0[i]) + (1 - s.rho) * gi * gi);
        s0[i] = float(a);
        const double d = (-std::sqrt(double(s1[i]) + eps) / std::sqrt(a + eps)) * gi;
        s1[i] = float(s.rho * double(s1[i]) + (1 - s.rho) * d * d);
        wi = wi + lr * d;
        break;
      }
      default:
        break;
    }
    w[i] = float(wi);
  }
}

}  // namespace

void ck_optimizer_step(float* w, const float* g, float* slot0, float* slot1, size_t n, const ck_optimizer_step_info& s) {
  ck_parallel_for((n + kChunk - 1) / kChunk, [&](size_t t) {
    step_range(w, g, slot0, slot1, t * kChunk, std::min(n, (t + 1) * kChunk), s);
  });
}
