// The persistent thread pool behind every operator.
//
// ck_parallel_for(n, fn) runs fn(0) .. fn(n-1), each exactly once, on up to ck_threads() threads (the caller
// is one of them) and returns when all are done. Each thread runs a contiguous range of the tasks first (the
// caller the first), then helps with the others', so a task must not depend on which thread runs it or in
// which order: operators split work over disjoint outputs, in memory order, and keep every
// reduction inside one task, which makes results bit-identical for any thread count.
// Calls from inside a task, or while another thread (a worker_thread) holds the pool, run serially.
// The first exception a task throws is rethrown in the caller after all tasks finish.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

#include "runtime/dispatch.h"

void ck_parallel_for(size_t n, const std::function<void(size_t task)>& fn);

// dst[i] = partials[0][i] + partials[1][i] + ... + partials[chunks-1][i] for i < count, added in chunk order
// (partial c at partials + c * count), with blocks of elements split over the pool: how operators that sum
// fixed chunks of their input into partials finish, with the same result for any thread count.
void ck_sum_partials(const ck_dispatch& d, float* dst, const float* partials, size_t chunks, size_t count);

// Polls ready() for up to 50 us, and returns its last value: how a thread about to sleep on a condition
// variable first waits for work that usually comes sooner. The parallel loops of one op (a GEMM's k blocks)
// and the ops of a training step follow each other within tens of microseconds, and waking a sleeping
// thread costs about as much on this VM.
template <class Ready>
bool ck_spin_until(Ready&& ready) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    if (std::chrono::steady_clock::now() >= until) return ready();
  }
}
