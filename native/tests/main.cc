#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tests/harness.h"
#include "tests/util.h"

namespace {
int g_failures = 0;
}

std::vector<ck_test_case>& ck_test_registry() {
  static std::vector<ck_test_case> cases;
  return cases;
}

void ck_test_fail(const char* file, int line, const std::string& msg) {
  ++g_failures;
  std::fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, msg.c_str());
}

double ck_activate(double v, ck_act act, double alpha) {
  const double softplus = std::max(v, 0.0) + std::log1p(std::exp(-std::fabs(v)));
  switch (act) {
    case CK_ACT_RELU: return v > 0 ? v : 0;
    case CK_ACT_LEAKY_RELU: return v > 0 ? v : alpha * v;
    case CK_ACT_ELU: return v > 0 ? v : alpha * std::expm1(v);
    case CK_ACT_SIGMOID: return 1 / (1 + std::exp(-v));
    case CK_ACT_TANH: return std::tanh(v);
    case CK_ACT_RELU6: return std::min(6.0, std::max(0.0, v));
    case CK_ACT_HARD_SIGMOID: return std::min(1.0, std::max(0.0, alpha * v + 0.5));
    case CK_ACT_HARD_SWISH: return v * std::min(6.0, std::max(0.0, v + 3)) / 6;
    case CK_ACT_SWISH: return v / (1 + std::exp(-v));
    case CK_ACT_GELU: return 0.5 * v * std::erfc(-v / std::sqrt(2.0));
    // (v / 2)(1 + tanh u) = v sigmoid(2u): the form that does not cancel in the left tail, in double too
    case CK_ACT_GELU_TANH: return v / (1 + std::exp(-2 * std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    case CK_ACT_SOFTPLUS: return softplus;
    case CK_ACT_SOFTSIGN: return v / (1 + std::fabs(v));
    case CK_ACT_SELU: return 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * std::expm1(v));
    case CK_ACT_MISH: return v * std::tanh(softplus);
    case CK_ACT_EXPONENTIAL: return std::exp(v);
    default: return v;
  }
}

std::vector<float> ck_random(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    x = float(s >> 8) / float(1 << 23) - 1.0f;
  }
  return v;
}

long ck_first_mismatch(const std::vector<float>& got, const std::vector<double>& want, double atol, double rtol,
                       const std::vector<double>& scale) {
  if (got.size() != want.size()) return 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double s = scale.empty() ? std::fabs(want[i]) : scale[i];
    if (!(std::fabs(double(got[i]) - want[i]) <= atol + rtol * s)) return long(i);
  }
  return -1;
}

std::string ck_describe_mismatch(const std::vector<float>& got, const std::vector<double>& want, long i) {
  if (got.size() != want.size())
    return "size " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
  return "index " + std::to_string(i) + ": got " + std::to_string(got[size_t(i)]) + ", want " +
         std::to_string(want[size_t(i)]);
}

std::vector<ck_isa> ck_supported_isas() {
  std::vector<ck_isa> out;
  for (int i = 0; i < CK_ISA_COUNT; ++i)
    if (ck_isa_supported(static_cast<ck_isa>(i))) out.push_back(static_cast<ck_isa>(i));
  return out;
}

// convkit_tests [substring]: runs every case (or those whose name contains the substring).
int main(int argc, char** argv) {
  std::printf("ISAs supported:");
  for (ck_isa isa : ck_supported_isas()) std::printf(" %s", ck_isa_name(isa));
  std::printf("\n");
  int run = 0;
  for (const auto& c : ck_test_registry()) {
    if (argc > 1 && std::strstr(c.name, argv[1]) == nullptr) continue;
    const int before = g_failures;
    c.fn();
    ++run;
    std::printf("%s %s\n", g_failures == before ? "ok  " : "FAIL", c.name);
  }
  std::printf("%d cases, %d failures\n", run, g_failures);
  return g_failures == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
