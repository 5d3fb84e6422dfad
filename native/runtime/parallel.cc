#include "runtime/parallel.h"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "convkit/isa.h"

namespace {

thread_local bool t_in_task = false;

size_t default_threads() {
  if (const char* env = std::getenv("CONVKIT_THREADS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1) return size_t(std::min<long>(v, 256));
    std::fprintf(stderr, "convkit: CONVKIT_THREADS='%s' is not a positive integer; using the CPU count\n", env);
  }
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return size_t(std::max(1, CPU_COUNT(&set)));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

class Pool {
 public:
  Pool() : threads_(default_threads()) {}

  size_t threads() const { return threads_.load(); }
  bool pinned() const { return pinned_.load(); }

  void resize(size_t n) {
    std::lock_guard<std::mutex> run(run_mu_);
    stop_workers();
    threads_ = n;
  }

  void run(size_t n, const std::function<void(size_t)>& fn) {
    std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
    if (n == 1 || t_in_task || threads_ == 1 || !run.owns_lock() || n > 0xffffffffu) {
      for (size_t i = 0; i < n; ++i) fn(i);
      return;
    }
    if (workers_.size() + 1 != threads_) start_workers();
    uint32_t generation;
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      n_ = n;
      done_.store(0);
      error_ = nullptr;
      generation = ++generation_;
      for (size_t t = 0; t < threads_; ++t) ranges_[t].claim.store(uint64_t(generation) << 32 | (t * n / threads_));
    }
    work_cv_.notify_all();
    t_in_task = true;
    drain(0, generation, n, &fn);
    t_in_task = false;
    // Wait for the tasks, not for the workers: one that wakes after the caller has run every task finds
    // none left and never touches this job, so a small operator does not pay for a wake-up it did not use.
    if (!ck_spin_until([&] { return done_.load() == n; })) {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, [&] { return done_.load() == n; });
    }
    std::lock_guard<std::mutex> lk(mu_);
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Runs tasks of job `generation` until none is left: first those of its own range (thread `self` of
  // `threads`, tasks [self * n / threads, (self + 1) * n / threads)), then what is left of the others'. A task is
  // claimed together with its job's generation (one 64-bit word per range), so a late worker cannot take a task
  // of a newer job with an older job's fn.
  void drain(size_t self, uint32_t generation, size_t n, const std::function<void(size_t)>* fn) {
    const size_t threads = threads_;
    for (size_t r = 0; r < threads; ++r) {
      const size_t owner = (self + r) % threads, end = (owner + 1) * n / threads;
      Range& range = ranges_[owner];
      uint64_t c = range.claim.load();
      for (;;) {
        if (uint32_t(c >> 32) != generation || (c & 0xffffffffu) >= end) break;
        if (!range.claim.compare_exchange_weak(c, c + 1)) continue;
        try {
          (*fn)(size_t(c & 0xffffffffu));
        } catch (...) {
          std::lock_guard<std::mutex> lk(mu_);
          if (!error_) error_ = std::current_exception();
        }
        if (done_.fetch_add(1) + 1 == n) {
          std::lock_guard<std::mutex> lk(mu_);  // so the caller cannot miss the notification between check and wait
          done_cv_.notify_one();
        }
        c = range.claim.load();
      }
    }
  }

  void worker(size_t self) {
    t_in_task = true;
    uint32_t seen = 0;
    for (;;) {
      ck_spin_until([&] { return uint32_t(ranges_[self].claim.load() >> 32) != seen; });
      std::unique_lock<std::mutex> lk(mu_);
      work_cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      const std::function<void(size_t)>* fn = fn_;
      const size_t n = n_;
      lk.unlock();
      if (fn != nullptr) drain(self, seen, n, fn);  // *fn stays alive while a task of this generation is unfinished
    }
  }

  // A pool as large as the CPUs the process may use pins worker i to the i-th of those CPUs past the first (the
  // caller stays free to move). Unpinned, a worker woken after an idle gap was often queued on the caller's
  // CPU while the other stayed idle, and every op of the next tens of milliseconds ran at one thread's speed.
  // A smaller pool (CONVKIT_THREADS, setThreads: several processes sharing the machine) is left to the scheduler.
  void start_workers() {
    stop_workers();
    ranges_.reset(new Range[threads_]);
    for (size_t i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
#if defined(__linux__)
    cpu_set_t allowed;
    if (threads_ < 2 || sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || size_t(CPU_COUNT(&allowed)) != threads_) return;
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
    bool all = true;
    for (size_t i = 1; i < threads_; ++i) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpus[i], &one);
      all = pthread_setaffinity_np(workers_[i - 1].native_handle(), sizeof(one), &one) == 0 && all;
    }
    pinned_ = all;
#endif
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    pinned_ = false;
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = false;
    generation_ = 0;
  }

  std::atomic<size_t> threads_;
  std::atomic<bool> pinned_{false};  // whether the running workers are pinned (start_workers)
  std::mutex run_mu_;  // one parallel_for (or resize) at a time
  std::mutex mu_;      // guards the job fields below
  std::condition_variable work_cv_, done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  // Per thread, the current job's generation (high half) and the next task of its range (low half).
  struct alignas(64) Range {
    std::atomic<uint64_t> claim{0};
  };
  std::unique_ptr<Range[]> ranges_;
  std::atomic<size_t> done_{0};     // tasks of the current job finished
  uint32_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

// Never destroyed: idle workers block on a condition variable and die with the process, so exit order
// (static destructors, addon unload) cannot deadlock on a join.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

void ck_parallel_for(size_t n, const std::function<void(size_t task)>& fn) {
  if (n != 0) pool().run(n, fn);
}

size_t ck_threads() { return pool().threads(); }

bool ck_threads_pinned() { return pool().pinned(); }

void ck_set_threads(size_t n) { pool().resize(std::min<size_t>(std::max<size_t>(n, 1), 256)); }

void ck_sum_partials(const ck_dispatch& d, float* dst, const float* partials, size_t chunks, size_t count) {
  constexpr size_t kBlock = 256;
  ck_parallel_for((count + kBlock - 1) / kBlock, [&](size_t t) {
    const size_t i0 = t * kBlock, n = std::min(count, i0 + kBlock) - i0;
    std::copy(partials + i0, partials + i0 + n, dst + i0);
    for (size_t c = 1; c < chunks; ++c) d.vadd(n, dst + i0, partials + c * count + i0, dst + i0);
  });
}
