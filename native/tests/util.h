// Shared helpers for the C++ tests: seeded data, closeness checks, ISA / thread loops.
#pragma once

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "convkit/isa.h"
#include "convkit/ops.h"

// Deterministic values in [-1, 1) (xorshift), so failures reproduce.
std::vector<float> ck_random(size_t n, uint32_t seed);

// Index of the first element where |got - want| > atol + rtol * scale[i] (scale: |want| if empty), or -1.
long ck_first_mismatch(const std::vector<float>& got, const std::vector<double>& want, double atol, double rtol,
                       const std::vector<double>& scale = {});

// "index 12: got 1.5, want 1.25" for the first mismatch.
std::string ck_describe_mismatch(const std::vector<float>& got, const std::vector<double>& want, long i);

// The activation in double, from its definition (alpha: leakyRelu's slope, elu's alpha, hardSigmoid's slope).
double ck_activate(double v, ck_act act, double alpha);

// Every ISA this CPU supports, scalar first.
std::vector<ck_isa> ck_supported_isas();

// Runs fn(isa) under every supported ISA, then restores the best one.
template <class Fn>
void ck_for_each_isa(Fn&& fn) {
  for (ck_isa isa : ck_supported_isas()) {
    ck_isa_select(isa);
    fn(isa);
  }
  ck_isa_select(ck_isa_best());
}

// Runs fn() at 1 and 2 threads; true when both outputs are bit-identical. fn returns the output.
template <class Fn>
bool ck_same_for_thread_counts(Fn&& fn) {
  ck_set_threads(1);
  const std::vector<float> one = fn();
  ck_set_threads(2);
  const std::vector<float> two = fn();
  return one.size() == two.size() && std::equal(one.begin(), one.end(), two.begin(), [](float a, float b) {
           return std::memcmp(&a, &b, sizeof(float)) == 0;
         });
}
