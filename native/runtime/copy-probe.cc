// The copy bandwidth probe: the bound memory-bound kernels are compared against. Each thread copies its own
// slice of a source into a destination (memcpy, which glibc tunes per CPU) until the time is up, on its own
// threads like the FMA probe. The buffers are written once before timing, so no page is first touched inside it.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "convkit/isa.h"

double ck_copy_bandwidth_probe(size_t bytes, size_t threads, double seconds) {
  using clock = std::chrono::steady_clock;
  const size_t slice = std::max<size_t>(64, (bytes / 2 / threads + 63) / 64 * 64);
  std::vector<std::vector<char>> src(threads, std::vector<char>(slice, 1)), dst(threads, std::vector<char>(slice, 0));
  std::vector<double> moved(threads, 0.0);
  std::atomic<bool> go{false};
  clock::time_point start;
  const auto body = [&](size_t t) {
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    const clock::time_point end = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
    do {
      std::memcpy(dst[t].data(), src[t].data(), slice);
      src[t].swap(dst[t]);
      moved[t] += 2.0 * double(slice);
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
  for (double m : moved) total += m;
  return total / elapsed / 1e9;
}
