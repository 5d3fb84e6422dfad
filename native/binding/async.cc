#include "binding/async.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/parallel.h"

namespace {

int kAsyncTag;  // its address marks the async export of a binding

struct EnvQueue;

// One `...Async` call: the kernel, and what the calling environment's thread settles once it has run.
struct Job {
  std::shared_ptr<EnvQueue> queue;
  const char* op;
  std::function<void()> kernel;
  Napi::Promise::Deferred deferred;
  std::vector<Napi::ObjectReference> keep;  // by argument index (empty for non-objects): alive until settled
  std::unique_ptr<AsyncStaging> staging;
  std::string error;  // why the kernel failed; empty when it did not
  const char* error_code = nullptr;  // a ck_kernel_error's
  size_t error_index = 0;
};

// Copies staged outputs into their typed arrays; returns why one could not be, or "".
std::string copy_out(Job& job) {
  for (AsyncStaging::Output& o : job.staging->outputs) {
    const Napi::TypedArray a = job.keep[o.arg].Value().As<Napi::TypedArray>();
    void* data = nullptr;
    size_t bytes = 0;
    if (napi_get_typedarray_info(a.Env(), a, nullptr, &bytes, &data, nullptr, nullptr) != napi_ok || data == nullptr ||
        bytes * (a.TypedArrayType() == napi_float64_array ? 8 : 4) != o.bytes)
      return std::string(job.op) + ": " + o.name + " was detached or resized while the kernel ran, so its result (" +
             std::to_string(o.bytes) + " bytes) has nowhere to go";
    std::memcpy(data, o.data.get(), o.bytes);
  }
  return "";
}

// A job whose environment is going away: its references die with that environment, not here (deleting
// them needs it alive).
void abandon(Job* job) {
  for (Napi::ObjectReference& r : job->keep) r.SuppressDestruct();
  delete job;
}

void settle(Napi::Env env, Napi::Function, EnvQueue* queue, Job* job);
using Completion = Napi::TypedThreadSafeFunction<EnvQueue, Job, settle>;

// Per Node environment (the main thread's, each worker_thread's): the channel that brings finished jobs back
// to its event loop, and how many of its jobs the compute thread still holds, so that the environment's
// teardown waits for them instead of freeing the typed arrays a kernel is writing.
struct EnvQueue {
  Completion completion;
  size_t unsettled = 0;  // this environment's thread only: Promises pending (its loop stays alive while > 0)
  std::mutex mu;
  std::condition_variable idle;
  size_t held = 0;  // under mu: jobs queued or running on the compute thread

  static std::shared_ptr<EnvQueue> of(Napi::Env env) {
    using Holder = std::shared_ptr<EnvQueue>;
    if (Holder* h = env.GetInstanceData<Holder>()) return *h;
    auto queue = std::make_shared<EnvQueue>();
    queue->completion = Completion::New(env, "convkit kernel", 0, 1, queue.get());
    queue->completion.Unref(env);
    env.SetInstanceData<Holder>(new Holder(queue));
    napi_add_env_cleanup_hook(env, wait_for_jobs, new Holder(queue));
    return queue;
  }

 private:
  static void wait_for_jobs(void* arg) {
    std::unique_ptr<std::shared_ptr<EnvQueue>> holder(static_cast<std::shared_ptr<EnvQueue>*>(arg));
    EnvQueue& q = **holder;
    std::unique_lock<std::mutex> lk(q.mu);
    q.idle.wait(lk, [&] { return q.held == 0; });
  }
};

// Runs on the environment's thread. Nothing may escape it: an exception leaving a thread-safe function's
// callback terminates the process, and while a worker_thread is being terminated every call into JS fails.
void settle(Napi::Env env, Napi::Function, EnvQueue* queue, Job* job) {
  if (env == nullptr) return abandon(job);  // the channel is closing with the environment
  std::unique_ptr<Job> owned(job);
  const bool last = --queue->unsettled == 0;
  try {
    if (job->error.empty()) job->error = copy_out(*job);
    if (job->error.empty()) {
      job->deferred.Resolve(env.Undefined());
    } else {
      Napi::Error e = Napi::Error::New(env, job->error);
      if (job->error_code != nullptr) {
        e.Set("code", job->error_code);
        e.Set("index", double(job->error_index));
      }
      job->deferred.Reject(e.Value());
    }
    if (last) queue->completion.Unref(env);
  } catch (...) {
    // The environment is shutting down: nobody is left to see this Promise settle.
  }
}

// Every async kernel runs on this one long-lived thread, in the order the calls were made, each with the
// whole thread pool. The calling thread hands jobs over directly and the finished ones come back through
// their environment's event loop: one thread wake-up each way (handing them over through a libuv worker cost
// two more, about 150 us per kernel on this VM). The scratch buffers (thread-local) and the cache lines of
// the last kernel's outputs also stay with one thread. Never destroyed, like the thread pool: it parks on a
// condition variable.
class ComputeThread {
 public:
  ComputeThread() {
    std::thread([this] { loop(); }).detach();
  }

  void push(Job* job) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      jobs_.push_back(job);
      pending_.store(true);
    }
    work_cv_.notify_one();
  }

 private:
  Job* next() {
    ck_spin_until([&] { return pending_.load(); });
    std::unique_lock<std::mutex> lk(mu_);
    work_cv_.wait(lk, [&] { return !jobs_.empty(); });
    Job* job = jobs_.front();
    jobs_.pop_front();
    pending_.store(!jobs_.empty());
    return job;
  }

  void loop() {
    for (;;) {
      Job* job = next();
      try {
        job->kernel();
      } catch (const ck_kernel_error& e) {
        job->error = e.what();
        job->error_code = e.code;
        job->error_index = e.index;
      } catch (const std::exception& e) {
        job->error = std::string(job->op) + ": native failure: " + e.what();
      } catch (...) {
        job->error = std::string(job->op) + ": native failure";
      }
      // Handing a job back wakes its environment's thread, which on a machine whose cores all run the pool
      // preempts a kernel thread, and the whole kernel waits for it: so finished jobs go back when no job is
      // queued (a pipelined run has queued all it can before it waits), or once the first has waited kMaxHold.
      const auto now = std::chrono::steady_clock::now();
      if (finished_.empty()) first_finished_ = now;
      finished_.push_back(job);
      if (!pending_.load() || now - first_finished_ >= kMaxHold) hand_back();
    }
  }

  void hand_back() {
    for (Job* job : finished_) {
      const std::shared_ptr<EnvQueue> queue = job->queue;  // the job may be settled and gone once handed back
      if (queue->completion.NonBlockingCall(job) != napi_ok) abandon(job);
      std::lock_guard<std::mutex> lk(queue->mu);
      --queue->held;
      queue->idle.notify_all();
    }
    finished_.clear();
  }

  static constexpr std::chrono::microseconds kMaxHold{1000};
  std::vector<Job*> finished_;  // run, not yet handed back
  std::chrono::steady_clock::time_point first_finished_;

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<Job*> jobs_;
  std::atomic<bool> pending_{false};  // !jobs_.empty(), readable without the lock while spinning
};

ComputeThread& compute_thread() {
  static ComputeThread* t = new ComputeThread();
  return *t;
}

}  // namespace

bool ck_called_async(const Napi::CallbackInfo& info) { return info.Data() == &kAsyncTag; }

Napi::Value ck_queue_kernel(const Napi::CallbackInfo& info, const char* op, std::function<void()> kernel,
                            std::unique_ptr<AsyncStaging> staging) {
  const Napi::Env env = info.Env();
  std::shared_ptr<EnvQueue> queue = EnvQueue::of(env);
  auto* job = new Job{queue, op, std::move(kernel), Napi::Promise::Deferred::New(env), {}, std::move(staging), {}};
  job->keep.resize(info.Length());
  for (size_t i = 0; i < info.Length(); ++i)
    if (info[i].IsObject()) job->keep[i] = Napi::Persistent(info[i].As<Napi::Object>());
  const Napi::Promise promise = job->deferred.Promise();
  if (queue->unsettled++ == 0) queue->completion.Ref(env);
  {
    std::lock_guard<std::mutex> lk(queue->mu);
    ++queue->held;
  }
  compute_thread().push(job);
  return promise;
}

void ck_export_op(Napi::Env env, Napi::Object exports, const char* name, ck_binding fn) {
  exports.Set(name, Napi::Function::New(env, fn, name));
  const std::string async_name = std::string(name) + "Async";
  exports.Set(async_name, Napi::Function::New(env, fn, async_name, &kAsyncTag));
}
