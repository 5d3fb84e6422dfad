// convkit_bench: the native GEMM and conv2d kernels timed on preallocated buffers (no JS, no allocation in
// the timed region), as GFLOP/s and % of the FMA peak measured in the same run. For tuning blocking
// parameters; bench/ (npm run bench) measures what users see, through the addon.
//   convkit_bench [gemm|conv]... [--threads 1,2]      (CONVKIT_ISA picks the path, as in the addon)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "convkit/isa.h"
#include "convkit/ops.h"

namespace {

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The fastest of at least 5 runs (more while under budget seconds), after one warm-up run. The best time, not
// the median: this VM shares its cores' FMA units with other tenants, and the best run is the one that measures
// the kernel rather than the neighbours (bench/ reports medians, as users see them).
double time_best(const std::function<void()>& fn, double budget = 1.0) {
  fn();
  std::vector<double> t;
  const double start = seconds_now();
  while (t.size() < 5 || (seconds_now() - start < budget && t.size() < 51)) {
    const double t0 = seconds_now();
    fn();
    t.push_back(seconds_now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t.front();
}

std::vector<float> random_buffer(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void bench_gemm(double peak) {
  const size_t shapes[][3] = {{256, 256, 256},  {512, 512, 512},  {1024, 1024, 1024}, {2048, 2048, 2048},
                              {64, 1024, 3136}, {3136, 1024, 64}, {12544, 64, 800},   {6400, 16, 150}};
  std::printf("%-22s %10s %7s\n", "gemm MxNxK", "GFLOP/s", "%peak");
  for (const auto& s : shapes) {
    const size_t m = s[0], n = s[1], k = s[2];
    std::vector<float> a = random_buffer(m * k, 1), b = random_buffer(k * n, 2), c(m * n);
    const double t = time_best([&] { ck_gemm(c.data(), n, a.data(), k, false, b.data(), n, false, m, n, k, false, nullptr); });
    const double gf = 2.0 * double(m) * double(n) * double(k) / t / 1e9;
    char name[64];
    std::snprintf(name, sizeof name, "%zux%zux%zu", m, n, k);
    std::printf("%-22s %10.1f %6.0f%%\n", name, gf, 100.0 * gf / peak);
  }
}

struct ConvCase {
  const char* name;
  size_t n, h, w, c, oc, k, stride, pad;
  bool depthwise;
};

void bench_conv(double peak) {
  const ConvCase cases[] = {
      {"lenet conv1", 64, 28, 28, 1, 6, 5, 1, 0, false},     {"tutorial conv1", 64, 28, 28, 1, 32, 5, 1, 2, false},
      {"fashion conv2", 64, 14, 14, 32, 64, 5, 1, 2, false}, {"resnet 3x3", 8, 56, 56, 64, 64, 3, 1, 1, false},
      {"vgg 3x3", 8, 28, 28, 128, 128, 3, 1, 1, false},      {"strided 3x3/2", 8, 56, 56, 64, 128, 3, 2, 1, false},
      {"1x1", 8, 14, 14, 256, 256, 1, 1, 0, false},          {"depthwise 3x3", 8, 56, 56, 64, 64, 3, 1, 1, true},
      {"cifar 3x3 16", 64, 32, 32, 16, 16, 3, 1, 1, false},  {"cifar 3x3 32", 64, 16, 16, 32, 32, 3, 1, 1, false},
      {"cifar 3x3 64", 64, 8, 8, 64, 64, 3, 1, 1, false},
  };
  std::printf("%-16s %10s %7s %10s %7s %10s %7s\n", "conv", "fwd", "%peak", "bwd-in", "%peak", "bwd-filt", "%peak");
  for (const ConvCase& cc : cases) {
    ck_conv2d_info s{};
    s.batch = cc.n;
    s.in_h = cc.h;
    s.in_w = cc.w;
    s.in_c = cc.c;
    s.out_c = cc.oc;
    s.k_h = s.k_w = cc.k;
    s.stride_h = s.stride_w = cc.stride;
    s.dil_h = s.dil_w = 1;
    s.pad_top = s.pad_left = cc.pad;
    s.out_h = (cc.h + 2 * cc.pad - cc.k) / cc.stride + 1;
    s.out_w = (cc.w + 2 * cc.pad - cc.k) / cc.stride + 1;
    s.pad_bottom = (s.out_h - 1) * cc.stride + cc.k - cc.h - cc.pad;
    s.pad_right = (s.out_w - 1) * cc.stride + cc.k - cc.w - cc.pad;
    s.groups = cc.depthwise ? cc.c : 1;
    const size_t cg = cc.c / s.groups;
    std::vector<float> x = random_buffer(cc.n * cc.h * cc.w * cc.c, 1), dx(x.size());
    std::vector<float> f = random_buffer(cc.k * cc.k * cg * cc.oc, 2), df(f.size());
    std::vector<float> dy = random_buffer(cc.n * s.out_h * s.out_w * cc.oc, 3), y(dy.size());
    const double flops = 2.0 * double(cc.n * s.out_h * s.out_w) * double(cc.oc) * double(cc.k * cc.k * cg);
    const double tf = time_best([&] { ck_conv2d_fwd(y.data(), x.data(), f.data(), s, nullptr); });
    const double ti = time_best([&] { ck_conv2d_bwd_input(dx.data(), dy.data(), f.data(), s); });
    const double tw = time_best([&] { ck_conv2d_bwd_filter(df.data(), x.data(), dy.data(), s); });
    std::printf("%-16s %10.1f %6.0f%% %10.1f %6.0f%% %10.1f %6.0f%%\n", cc.name, flops / tf / 1e9,
                100.0 * flops / tf / 1e9 / peak, flops / ti / 1e9, 100.0 * flops / ti / 1e9 / peak,
                flops / tw / 1e9, 100.0 * flops / tw / 1e9 / peak);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> sections;
  std::vector<size_t> threads = {1, 2};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads.clear();
      for (char* p = argv[++i]; *p != '\0';) threads.push_back(std::strtoul(p, &p, 10)), p += *p == ',';
    } else {
      sections.emplace_back(argv[i]);
    }
  }
  const auto want = [&](const char* s) { return sections.empty() || std::find(sections.begin(), sections.end(), s) != sections.end(); };
  std::printf("convkit_bench: isa %s\n", ck_isa_name(ck_isa_current()));
  for (size_t t : threads) {
    ck_set_threads(t);
    const double peak = ck_fma_peak_probe(t, 0.3);
    std::printf("\n== %zu thread(s): FMA peak %.1f GFLOP/s ==\n", t, peak);
    if (want("gemm")) bench_gemm(peak);
    if (want("conv")) bench_conv(peak);
  }
  return 0;
}
