// The optimizer-step microkernel, written once in plain C++ and compiled per ISA: the compiler vectorizes its
// float64 arithmetic (sqrt and division included, under -fno-math-errno) to the ISA's width. Every element's
// expression is evaluated in double in the reference backend's order, and every value the reference reads
// back from a Float32Array after storing it is rounded to float first (-ffp-contract=off keeps multiplies and
// adds unfused), so any vector width gives the reference's bits.
#pragma once

#include <cmath>

#include "kernels/f32-optimizer/f32-optimizer.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

// Stored into a Float32Array and read back.
inline double f32(double v) { return double(float(v)); }

// One rule over [i0, i1), its branches (the rule, decay, which slots) fixed at compile time so the compiler
// vectorizes the loop: with them inside, plain SGD over a 3.2M-weight dense layer ran at 2 ns per weight.
// Returns whether every weight written is finite (w - w is 0 then and NaN otherwise; an integer OR keeps the
// loop vectorizable, where a float sum would have to keep its order).
template <ck_optimizer_rule Rule, bool Decay, bool Slot0, bool Slot1>
bool step_rule(float* w, const float* g, float* s0, float* s1, size_t i0, size_t i1, const ck_optimizer_step_info& s) {
  const double lr = s.lr, eps = s.epsilon, scale = s.scale, decay = s.decay;
  unsigned nonfinite = 0;
  for (size_t i = i0; i < i1; ++i) {
    const double gi = double(g[i]) * scale;
    double wi = w[i];
    if (Decay) wi = f32(wi - decay * wi);
    if constexpr (Rule == CK_OPT_SGD) {
      // v = mu v - lr g; w += v, or with nesterov w += mu v - lr g; without momentum w -= lr g
      if constexpr (!Slot0) {
        wi = wi - lr * gi;
      } else {
        const double v = f32(s.momentum * double(s0[i]) - lr * gi);
        s0[i] = float(v);
        wi = wi + (s.nesterov ? s.momentum * v - lr * gi : v);
      }
    } else if constexpr (Rule == CK_OPT_ADAM) {
      // m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr m / (sqrt(v) + eps)
      const double m = f32(s.beta1 * double(s0[i]) + (1 - s.beta1) * gi);
      const double v = f32(s.beta2 * double(s1[i]) + (1 - s.beta2) * gi * gi);
      s0[i] = float(m);
      s1[i] = float(v);
      wi = wi - (lr * m) / (std::sqrt(v) + eps);
    } else if constexpr (Rule == CK_OPT_RMSPROP) {
      // v = rho v + (1-rho) g^2; step = lr g / sqrt(v + eps); m = mu m + step; w -= m
      const double v = f32(s.rho * double(s0[i]) + (1 - s.rho) * gi * gi);
      s0[i] = float(v);
      const double step = (lr * gi) / std::sqrt(v + eps);
      if constexpr (Slot1) {
        const double m = f32(s.momentum * double(s1[i]) + step);
        s1[i] = float(m);
        wi = wi - m;
      } else {
        wi = wi - step;
      }
    } else if constexpr (Rule == CK_OPT_ADAGRAD) {
      // a += g^2; w -= lr g / sqrt(a + eps)
      const double a = f32(double(s0[i]) + gi * gi);
      s0[i] = float(a);
      wi = wi - (lr * gi) / std::sqrt(a + eps);
    } else if constexpr (Rule == CK_OPT_ADADELTA) {
      // a = rho a + (1-rho) g^2; d = -sqrt(u + eps) / sqrt(a + eps) g; u = rho u + (1-rho) d^2
      const double a = f32(s.rho * double(s0[i]) + (1 - s.rho) * gi * gi);
      s0[i] = float(a);
      const double d = (-std::sqrt(double(s1[i]) + eps) / std::sqrt(a + eps)) * gi;
      s1[i] = float(s.rho * double(s1[i]) + (1 - s.rho) * d * d);
      wi = wi + lr * d;
    } else if constexpr (Rule == CK_OPT_ADAMAX) {
      // m = b1 m + (1-b1) g; u = max(b2 u, |g|) (NaN-propagating, as Math.max); w -= lr m / (u + eps)
      const double m = f32(s.beta1 * double(s0[i]) + (1 - s.beta1) * gi);
      const double bu = s.beta2 * double(s1[i]), ag = std::fabs(gi);
      const double u = f32(bu != bu || ag != ag ? bu + ag : (bu > ag ? bu : ag));
      s0[i] = float(m);
      s1[i] = float(u);
      wi = wi - (lr * m) / (u + eps);
    } else if constexpr (Rule == CK_OPT_NADAM) {
      // m, v as adam's; w -= lr (m_coef m + g_coef g) / (sqrt(v_coef v) + eps)
      const double m = f32(s.beta1 * double(s0[i]) + (1 - s.beta1) * gi);
      const double v = f32(s.beta2 * double(s1[i]) + (1 - s.beta2) * gi * gi);
      s0[i] = float(m);
      s1[i] = float(v);
      wi = wi - (lr * (s.m_coef * m + s.g_coef * gi)) / (std::sqrt(v * s.v_coef) + eps);
    }
    const float out = float(wi);
    w[i] = out;
    nonfinite |= !(out - out == 0.0f);
  }
  return nonfinite == 0;
}

template <ck_optimizer_rule Rule, bool Slot0, bool Slot1>
bool step_decay(float* w, const float* g, float* s0, float* s1, size_t i0, size_t i1, const ck_optimizer_step_info& s) {
  if (s.decay != 0)
    return step_rule<Rule, true, Slot0, Slot1>(w, g, s0, s1, i0, i1, s);
  else
    return step_rule<Rule, false, Slot0, Slot1>(w, g, s0, s1, i0, i1, s);
}

inline bool ck_f32_optimizer_step(float* w, const float* g, float* s0, float* s1, size_t i0, size_t i1,
                                  const ck_optimizer_step_info& s) {
  switch (s.rule) {
    case CK_OPT_SGD:
      return s0 ? step_decay<CK_OPT_SGD, true, false>(w, g, s0, s1, i0, i1, s)
                : step_decay<CK_OPT_SGD, false, false>(w, g, s0, s1, i0, i1, s);
    case CK_OPT_ADAM:
      return step_decay<CK_OPT_ADAM, true, true>(w, g, s0, s1, i0, i1, s);
    case CK_OPT_RMSPROP:
      return s1 ? step_decay<CK_OPT_RMSPROP, true, true>(w, g, s0, s1, i0, i1, s)
                : step_decay<CK_OPT_RMSPROP, true, false>(w, g, s0, s1, i0, i1, s);
    case CK_OPT_ADAGRAD:
      return step_decay<CK_OPT_ADAGRAD, true, false>(w, g, s0, s1, i0, i1, s);
    case CK_OPT_ADADELTA:
      return step_decay<CK_OPT_ADADELTA, true, true>(w, g, s0, s1, i0, i1, s);
    case CK_OPT_ADAMAX:
      return step_decay<CK_OPT_ADAMAX, true, true>(w, g, s0, s1, i0, i1, s);
    case CK_OPT_NADAM:
      return step_decay<CK_OPT_NADAM, true, true>(w, g, s0, s1, i0, i1, s);
    default:
      return true;
  }
}

}  // namespace

#define CK_DEFINE_OPTIMIZER_UKERNEL(fn)                                               \
  bool fn(float* w, const float* g, float* slot0, float* slot1, size_t i0, size_t i1, \
          const ck_optimizer_step_info& info) {                                       \
    return ck_f32_optimizer_step(w, g, slot0, slot1, i0, i1, info);                   \
  }
