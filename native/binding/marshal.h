// Argument checking and marshalling shared by the op files. Nothing from JavaScript is trusted: every size is
// re-read, checked as an integer in range, multiplied with overflow checks and compared with the length of
// the typed array it describes. Failures throw a TypeError (wrong kind of value) or RangeError (wrong value)
// whose message starts with the op and names the field.
//
// Order matters: read every plain value (numbers, strings, info objects; their getters may run JS) BEFORE
// taking typed-array pointers, so no JS runs between taking a pointer and the kernel using it. Say how the
// kernel uses each array (f32, f32_out, f32_inout): an async call stages plain ArrayBuffers by that.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "binding/async.h"
#include "convkit/ops.h"

// Largest accepted dimension, stride, padding or dilation.
constexpr size_t kMaxDim = 2147483647;

struct F32 {
  float* data;
  size_t length;
};

struct F64 {
  double* data;
  size_t length;
};

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op);

  Napi::Env env() const { return info_.Env(); }
  const Napi::CallbackInfo& info() const { return info_; }
  const char* op() const { return op_; }

  [[noreturn]] void type_error(const std::string& msg) const;
  [[noreturn]] void range_error(const std::string& msg) const;

  // A Float32Array argument the kernel reads.
  F32 f32(size_t i, const char* name) const;
  // A Float32Array argument, or null/undefined -> {nullptr, 0}.
  F32 f32_or_null(size_t i, const char* name) const;
  // A Float32Array argument the kernel overwrites in full.
  F32 f32_out(size_t i, const char* name) const;
  F32 f32_out_or_null(size_t i, const char* name) const;
  // A Float32Array argument the kernel reads and updates in place.
  F32 f32_inout(size_t i, const char* name) const;
  F32 f32_inout_or_null(size_t i, const char* name) const;
  // A Float64Array argument the kernel overwrites in full (statistics accumulated in double).
  F64 f64_out(size_t i, const char* name) const;
  // A Float64Array argument the kernel reads.
  F64 f64(size_t i, const char* name) const;
  // An Int32Array argument, copied (a SharedArrayBuffer could change under a range check otherwise).
  std::vector<int32_t> i32_copy(size_t i, const char* name) const;
  bool boolean(size_t i, const char* name) const;
  // A finite number.
  double number(size_t i, const char* name) const;
  std::string string(size_t i, const char* name) const;
  // An integer in [lo, kMaxDim].
  size_t dim(size_t i, const char* name, size_t lo) const;
  // Field `field` of the object argument i, an integer in [lo, kMaxDim].
  size_t field(const Napi::Object& obj, const char* obj_name, const char* field, size_t lo) const;
  Napi::Object object(size_t i, const char* name) const;
  // An array of exactly `count` integers, each in [lo, kMaxDim].
  std::vector<size_t> dims(size_t i, const char* name, size_t count, size_t lo) const;
  // An activation name; 'linear' only when allow_linear.
  ck_act activation(size_t i, const char* name, bool allow_linear) const;

  // The product of factors, or a RangeError naming `what` if it overflows.
  size_t product(std::initializer_list<size_t> factors, const char* what) const;
  // RangeError unless a.length == expected.
  void expect_length(const F32& a, const char* name, size_t expected, const char* formula) const;
  // RangeError if a and b share memory (an input a kernel reads while writing b).
  void expect_disjoint(const F32& a, const char* a_name, const F32& b, const char* b_name) const;

  // For an async call: what the kernel reads and writes instead of plain (detachable) ArrayBuffers.
  std::unique_ptr<AsyncStaging> take_staging() const { return std::move(staging_); }

 private:
  enum class Access { kRead, kWrite, kReadWrite };
  Napi::Value at(size_t i, const char* name) const;
  size_t integer(const Napi::Value& v, const std::string& name, size_t lo) const;
  // The data and length of typed-array argument i of `type`, staged for an async call as `access` says.
  void* array(size_t i, const char* name, Access access, napi_typedarray_type type, size_t* length) const;
  F32 array(size_t i, const char* name, Access access) const;
  F32 array_or_null(size_t i, const char* name, Access access) const;

  const Napi::CallbackInfo& info_;
  const char* op_;
  mutable std::unique_ptr<AsyncStaging> staging_;  // set when called as the `...Async` export
};

// Runs a kernel: on this thread, or, when the binding was called as its `...Async` export, on a worker
// thread, returning the Promise. The kernel must capture by value: in async mode it runs after the
// binding has returned. C++ failures (out of memory) become JS errors either way.
template <class Fn>
Napi::Value run_native(const Args& args, Fn fn) {
  if (ck_called_async(args.info()))
    return ck_queue_kernel(args.info(), args.op(), std::function<void()>(std::move(fn)), args.take_staging());
  try {
    fn();
  } catch (const ck_kernel_error& e) {
    Napi::Error error = Napi::Error::New(args.env(), e.what());
    error.Set("code", e.code);
    error.Set("index", double(e.index));
    throw error;
  } catch (const std::exception& e) {
    throw Napi::Error::New(args.env(), std::string(args.op()) + ": native failure: " + e.what());
  }
  return args.env().Undefined();
}

// Prepared weights (ck_weights_form) as JavaScript holds them: a Float32Array of kWeightsHeader floats naming the
// form (so a buffer made for another form, ISA or shape is refused, not misread), then form.length floats.
constexpr size_t kWeightsHeader = 16;
// The header for form, into dst[0, kWeightsHeader).
void write_weights_header(float* dst, const ck_weights_form& form);
// { key, length } of a form (length with the header), or null for kind none: what the TypeScript layer caches
// prepared weights by and allocates for them.
Napi::Value weights_form_value(Napi::Env env, const ck_weights_form& form);
// Argument i: weights prepared in `form`, or null/undefined ({form, nullptr}). A RangeError when the op's shape
// takes no prepared weights or the array was prepared in another form.
ck_prepared_weights prepared_weights(const Args& args, size_t i, const ck_weights_form& form);

// A checked Pool2DInfo (src/backend/types.ts) and the element counts of its x and y (ops-pool.cc).
struct PoolSizes {
  ck_pool2d_info s;
  size_t x, y;
};
PoolSizes read_pool_info(const Args& args, size_t i, const char* name = "info");

// Exports of each op group.
void ck_register_matmul_ops(Napi::Env env, Napi::Object exports);
void ck_register_conv_ops(Napi::Env env, Napi::Object exports);
void ck_register_pool_ops(Napi::Env env, Napi::Object exports);
void ck_register_activation_ops(Napi::Env env, Napi::Object exports);
void ck_register_optimizer_ops(Napi::Env env, Napi::Object exports);
void ck_register_elementwise_ops(Napi::Env env, Napi::Object exports);
void ck_register_normalization_ops(Napi::Env env, Napi::Object exports);
