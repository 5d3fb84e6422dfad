// What the machine probes (the FMA peak, the copy bandwidth) share: a body run on threads of their own rather
// than the pool's, so the count is exactly what was asked, all released at once and each running until the
// same deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

// Calls body(t, end) on `threads` threads, t = 0 on the calling thread, where end is the steady_clock time
// point `seconds` after they were released; returns the seconds from the release until the last one returned.
template <class Body>
double ck_probe_threads(size_t threads, double seconds, Body&& body) {
  using clock = std::chrono::steady_clock;
  std::atomic<bool> go{false};
  clock::time_point start;
  const auto run = [&](size_t t) {
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    body(t, start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds)));
  };
  std::vector<std::thread> workers;
  for (size_t t = 1; t < threads; ++t) workers.emplace_back(run, t);
  start = clock::now();
  go.store(true, std::memory_order_release);
  run(0);
  for (auto& w : workers) w.join();
  return std::chrono::duration<double>(clock::now() - start).count();
}
