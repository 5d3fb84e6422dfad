// Off-the-event-loop execution for the op bindings. Every op is exported twice: `name` runs the kernel on the
// calling thread, `nameAsync` runs it off the event loop (on one compute thread, see async.cc) and
// returns a Promise. Both go through the same argument checks; the async one keeps every JS argument
// referenced until the Promise settles and never touches memory JS could free meanwhile (AsyncStaging).
#pragma once

#include <napi.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// True when the running binding was called as its `...Async` export.
bool ck_called_async(const Napi::CallbackInfo& info);

// The memory an async kernel uses in place of typed arrays that JS could take away while it runs. A plain
// ArrayBuffer can be detached (transferred to a worker, structuredClone'd with transfer) and then freed, or, if
// resizable, shrunk with its pages released, at any moment the event loop runs; a SharedArrayBuffer can be
// neither. So an async call uses a shared buffer in place (the reference it keeps holds the memory), and stages
// a plain one: inputs are copied here when the call is made, outputs are written here and copied into their
// typed array when the Promise settles, if that array is still attached and as long (else the Promise rejects).
struct AsyncStaging {
  struct Output {
    size_t arg;
    const char* name;
    std::unique_ptr<char[]> data;
    size_t bytes;
  };
  std::vector<std::unique_ptr<char[]>> inputs;
  std::vector<Output> outputs;
};

// A kernel's failure that JS can act on: thrown from a kernel, it becomes an Error (or a rejection) with
// properties `code` and `index` besides its message.
struct ck_kernel_error : std::runtime_error {
  ck_kernel_error(const std::string& message, const char* code, size_t index)
      : std::runtime_error(message), code(code), index(index) {}
  const char* code;
  size_t index;
};

// Queues `kernel` on the compute thread and returns a Promise that resolves to undefined (or rejects with
// "<op>: native failure: ..."). Kernels from concurrent async calls run one at a time, each with the whole
// thread pool, so N concurrent requests never put more than ck_threads() threads to work.
Napi::Value ck_queue_kernel(const Napi::CallbackInfo& info, const char* op, std::function<void()> kernel,
                            std::unique_ptr<AsyncStaging> staging);

using ck_binding = Napi::Value (*)(const Napi::CallbackInfo&);

// exports[name] = fn and exports[name + "Async"] = fn in async mode.
void ck_export_op(Napi::Env env, Napi::Object exports, const char* name, ck_binding fn);
