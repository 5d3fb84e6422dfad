// The FMA peak probe: each thread runs the dispatch table's probe kernel in chunks until the time is up.
// Its own threads, not the pool, so the count is exactly what was asked.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "convkit/isa.h"
#include "runtime/dispatch.h"

namespace {

// GFLOP/s of d's probe kernel on `threads` threads for about `seconds`.
double probe(const ck_dispatch& d, size_t threads, double seconds) {
  using clock = std::chrono::steady_clock;
  constexpr size_t kChunk = 1 << 16;  // iterations per call: well under a millisecond
  std::vector<double> flops(threads, 0.0);
  std::vector<float> sinks(threads, 0.0f);
  std::atomic<bool> go{false};
  clock::time_point start;
  const auto body = [&](size_t t) {
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    const clock::time_point end = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
    do {
      sinks[t] += d.fma_probe(kChunk);
      flops[t] += double(kChunk) * double(d.fma_probe_flops);
    } while (clock::now() < end);
  };
  std::vector<std::thread> workers;
  for (size_t t = 1; t < threads; ++t) workers.emplace_back(body, t);
  start = clock::now();
  go.store(true, std::memory_order_release);
  body(0);
  for (auto& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
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
    const double ratio = probe(ck_kernels_for(CK_ISA_AVX512), 1, 0.003) / probe(ck_kernels_for(CK_ISA_AVX2), 1, 0.003);
    return ratio > 1.5 ? 512u : 256u;
  }();
  return width;
}
