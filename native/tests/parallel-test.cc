// The thread pool's contract (runtime/parallel.h): every task exactly once, back-to-back jobs of any size
// (late workers must never run a newer job's tasks with an older job's function), exceptions rethrown in the
// caller, nested calls serial.
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "convkit/isa.h"
#include "runtime/parallel.h"
#include "tests/harness.h"

namespace {

void spin_for(std::chrono::microseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

}  // namespace

CK_TEST(parallel_for_runs_every_task_once) {
  ck_set_threads(2);
  uint32_t s = 12345;
  for (int job = 0; job < 20000; ++job) {
    s = s * 1664525u + 1013904223u;
    const size_t n = 1 + (s >> 8) % 40;
    const bool slow = job % 97 == 0;  // now and then tasks long enough for the worker to join in
    std::vector<std::atomic<int>> runs(n);
    ck_parallel_for(n, [&, job](size_t i) {
      runs[i].fetch_add(1);
      if (slow && i % 3 == 0) spin_for(std::chrono::microseconds(30));
      if (job % 2 == 0 && i == 0) std::this_thread::yield();
    });
    for (size_t i = 0; i < n; ++i)
      if (runs[i].load() != 1) {
        CK_CHECK(false, "job " + std::to_string(job) + " task " + std::to_string(i) + " ran " +
                            std::to_string(runs[i].load()) + " times");
        return;
      }
  }
}

CK_TEST(parallel_for_rethrows_and_recovers) {
  ck_set_threads(2);
  for (int round = 0; round < 200; ++round) {
    bool thrown = false;
    try {
      ck_parallel_for(8, [&](size_t i) {
        if (i == size_t(round % 8)) throw std::runtime_error("task failed");
      });
    } catch (const std::runtime_error&) {
      thrown = true;
    }
    CK_CHECK(thrown, "round " + std::to_string(round) + ": the task's exception was not rethrown");
    std::atomic<size_t> sum{0};
    ck_parallel_for(16, [&](size_t i) { sum.fetch_add(i); });
    CK_CHECK(sum.load() == 120, "round " + std::to_string(round) + ": the next job after an exception lost tasks");
  }
  std::atomic<int> inner{0};
  ck_parallel_for(4, [&](size_t) { ck_parallel_for(3, [&](size_t) { inner.fetch_add(1); }); });
  CK_CHECK(inner.load() == 12, "nested parallel_for ran " + std::to_string(inner.load()) + " inner tasks, want 12");
}

// Each thread runs its own contiguous range of a job's tasks first (the first 1/threads to the caller), so
// consecutive ops split alike touch the data each thread last wrote; then it takes what is left of the others'.
// With 4 tasks on 2 threads, task 0 holds the caller until another thread has started a task: that task is 2,
// the worker's range's first, where tasks handed out in order would give it task 1.
CK_TEST(parallel_for_runs_own_range_first) {
  ck_set_threads(2);
  const std::thread::id caller = std::this_thread::get_id();
  for (int job = 0; job < 50; ++job) {
    std::atomic<int> first_other{-1};
    ck_parallel_for(4, [&](size_t i) {
      if (std::this_thread::get_id() != caller) {
        int none = -1;
        first_other.compare_exchange_strong(none, int(i));
      }
      if (i != 0) return;
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      while (first_other.load() < 0 && std::chrono::steady_clock::now() < until) {
      }
    });
    CK_CHECK(first_other.load() == 2 || first_other.load() == -1,
             "job " + std::to_string(job) + ": the worker started with task " + std::to_string(first_other.load()));
  }
}
