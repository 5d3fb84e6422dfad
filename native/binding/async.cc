#include "binding/async.h"

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace {

int kAsyncTag;  // its address marks the async export of a binding

std::mutex& compute_mutex() {
  static std::mutex mu;
  return mu;
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
      kernel_();
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
