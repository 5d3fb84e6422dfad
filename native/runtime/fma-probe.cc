// The FMA peak probe: each thread runs the dispatch table's probe kernel in chunks until the time is up.
#include <algorithm>
#include <chrono>
#include <vector>

#include "convkit/isa.h"
#include "runtime/dispatch.h"
#include "runtime/probe-threads.h"

namespace {

// GFLOP/s of d's probe kernel on `threads` threads for about `seconds`.
double probe(const ck_dispatch& d, size_t threads, double seconds) {
  constexpr size_t kChunk = 1 << 16;  // iterations per call: well under a millisecond
  std::vector<double> flops(threads, 0.0);
  std::vector<float> sinks(threads, 0.0f);
  const double elapsed = ck_probe_threads(threads, seconds, [&](size_t t, std::chrono::steady_clock::time_point end) {
    do {
      sinks[t] += d.fma_probe(kChunk);
      flops[t] += double(kChunk) * double(d.fma_probe_flops);
    } while (std::chrono::steady_clock::now() < end);
  });
  double total = 0.0;
  for (size_t t = 0; t < threads; ++t) total += flops[t] + (sinks[t] == 12345.0f ? 1.0 : 0.0);  // keep sinks live
  return total / elapsed / 1e9;
}

}  // namespace

double ck_fma_peak_probe(size_t threads, double seconds) { return probe(ck_kernels(), threads, seconds); }

unsigned ck_avx512_fma_width() {
  static const unsigned width = [] {
    if (!ck_isa_supported(CK_ISA_AVX512)) return 0u;
    // Full-width units run the 16-lane probe at about twice the 8-lane one's FLOP rate; split units at about the same.
    // Best of five short runs of each, alternating: a run that shares its core or meets the clock's ramp reads low.
    double avx512 = 0.0, avx2 = 0.0;
    for (int i = 0; i < 5; ++i) {
      avx2 = std::max(avx2, probe(ck_kernels_for(CK_ISA_AVX2), 1, 0.001));
      avx512 = std::max(avx512, probe(ck_kernels_for(CK_ISA_AVX512), 1, 0.001));
    }
    return avx512 / avx2 > 1.5 ? 512u : 256u;
  }();
  return width;
}
