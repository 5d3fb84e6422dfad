#include "binding/async.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/parallel.h"

namespace {

int kAsyncTag;  // its address marks the async export of a binding

std::mutex& compute_mutex() {
  static std::mutex mu;
  return mu;
}

// Every async kernel runs on this one long-lived thread, which the libuv worker hands it to and waits for: the
// scratch buffers (thread-local) and the cache lines of the last kernel's outputs stay with one thread instead
// of rotating through libuv's four. Never destroyed, like the thread pool: it parks on a condition variable.
class ComputeThread {
 public:
  ComputeThread() {
    std::thread([this] { loop(); }).detach();
  }

  // Runs kernel on the compute thread and returns when it has finished; rethrows what it threw.
  void run(const std::function<void()>& kernel) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      error_ = nullptr;
      kernel_.store(&kernel);
    }
    work_cv_.notify_one();
    if (!ck_spin_until([&] { return kernel_.load() == nullptr; })) {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, [&] { return kernel_.load() == nullptr; });
    }
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void loop() {
    for (;;) {
      ck_spin_until([&] { return kernel_.load() != nullptr; });
      const std::function<void()>* kernel;
      {
        std::unique_lock<std::mutex> lk(mu_);
        work_cv_.wait(lk, [&] { return kernel_.load() != nullptr; });
        kernel = kernel_.load();
      }
      std::exception_ptr error;
      try {
        (*kernel)();
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lk(mu_);
        error_ = error;
        kernel_.store(nullptr);  // error_ is visible to whoever sees this
      }
      done_cv_.notify_one();
    }
  }

  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::atomic<const std::function<void()>*> kernel_{nullptr};  // the job; null when none is pending
  std::exception_ptr error_;
};

ComputeThread& compute_thread() {
  static ComputeThread* t = new ComputeThread();
  return *t;
}

class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(const Napi::CallbackInfo& info, const char* op, std::function<void()> kernel)
      : Napi::AsyncWorker(info.Env(), op), op_(op), kernel_(std::move(kernel)), deferred_(Napi::Promise::Deferred::New(info.Env())) {
    for (size_t i = 0; i < info.Length(); ++i)
      if (info[i].IsObject()) keep_.push_back(Napi::Persistent(info[i].As<Napi::Object>()));
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    std::lock_guard<std::mutex> lock(compute_mutex());
    try {
      compute_thread().run(kernel_);
    } catch (const std::exception& e) {
      SetError(std::string(op_) + ": native failure: " + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  const char* op_;
  std::function<void()> kernel_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> keep_;  // inputs and outputs stay alive until the Promise settles
};

}  // namespace

bool ck_called_async(const Napi::CallbackInfo& info) { return info.Data() == &kAsyncTag; }

Napi::Value ck_queue_kernel(const Napi::CallbackInfo& info, const char* op, std::function<void()> kernel) {
  auto* worker = new KernelWorker(info, op, std::move(kernel));  // deletes itself after OnOK/OnError
  const Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

void ck_export_op(Napi::Env env, Napi::Object exports, const char* name, ck_binding fn) {
  exports.Set(name, Napi::Function::New(env, fn, name));
  const std::string async_name = std::string(name) + "Async";
  exports.Set(async_name, Napi::Function::New(env, fn, async_name, &kAsyncTag));
}
