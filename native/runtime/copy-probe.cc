// The copy bandwidth probe: the bound memory-bound kernels are compared against. Each thread copies its own
// slice of a source into a destination (memcpy, which glibc tunes per CPU) until the time is up. The buffers
// are written once before timing, so no page is first touched inside it.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "convkit/isa.h"
#include "runtime/probe-threads.h"

double ck_copy_bandwidth_probe(size_t bytes, size_t threads, double seconds) {
  const size_t slice = std::max<size_t>(64, (bytes / 2 / threads + 63) / 64 * 64);
  std::vector<std::vector<char>> src(threads, std::vector<char>(slice, 1)), dst(threads, std::vector<char>(slice, 0));
  std::vector<double> moved(threads, 0.0);
  const double elapsed = ck_probe_threads(threads, seconds, [&](size_t t, std::chrono::steady_clock::time_point end) {
    do {
      std::memcpy(dst[t].data(), src[t].data(), slice);
      src[t].swap(dst[t]);
      moved[t] += 2.0 * double(slice);
    } while (std::chrono::steady_clock::now() < end);
  });
  double total = 0.0;
  for (double m : moved) total += m;
  return total / elapsed / 1e9;
}
