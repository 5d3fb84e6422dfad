// Off-the-event-loop execution for the op bindings. Every op is exported twice: `name` runs the kernel on the
// calling thread, `nameAsync` runs it off the event loop (on one compute thread, see async.cc) and
// returns a Promise. Both go through the same argument checks; the async one keeps every JS argument
// referenced until the Promise settles, so the typed arrays it writes cannot be collected while the kernel
// runs.
#pragma once

#include <napi.h>

#include <functional>

// True when the running binding was called as its `...Async` export.
bool ck_called_async(const Napi::CallbackInfo& info);

// Queues `kernel` on the compute thread and returns a Promise that resolves to undefined (or rejects with
// "<op>: native failure: ..."). Kernels from concurrent async calls run one at a time, each with the whole
// thread pool, so N concurrent requests never put more than ck_threads() threads to work.
Napi::Value ck_queue_kernel(const Napi::CallbackInfo& info, const char* op, std::function<void()> kernel);

using ck_binding = Napi::Value (*)(const Napi::CallbackInfo&);

// exports[name] = fn and exports[name + "Async"] = fn in async mode.
void ck_export_op(Napi::Env env, Napi::Object exports, const char* name, ck_binding fn);
