#include "binding/marshal.h"

#include <cmath>
#include <cstring>
#include <new>

#include "convkit/isa.h"

void Args::type_error(const std::string& msg) const {
  throw Napi::TypeError::New(env(), std::string(op_) + ": " + msg);
}

void Args::range_error(const std::string& msg) const {
  throw Napi::RangeError::New(env(), std::string(op_) + ": " + msg);
}

Napi::Value Args::at(size_t i, const char* name) const {
  if (i >= info_.Length()) type_error(std::string("missing argument ") + name);
  return info_[i];
}

Args::Args(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {
  if (ck_called_async(info)) staging_ = std::make_unique<AsyncStaging>();
}

namespace {

enum class Storage { kPlain, kDetached, kShared };

// What a typed array's memory is: a plain ArrayBuffer (maybe detached) or a SharedArrayBuffer (for which
// napi_is_arraybuffer is false).
Storage storage_of(const Napi::TypedArray& a) {
  napi_value buffer;
  bool plain = true, detached = false;
  if (napi_get_typedarray_info(a.Env(), a, nullptr, nullptr, nullptr, &buffer, nullptr) != napi_ok ||
      napi_is_arraybuffer(a.Env(), buffer, &plain) != napi_ok)
    return Storage::kPlain;
  if (!plain) return Storage::kShared;
  if (napi_is_detached_arraybuffer(a.Env(), buffer, &detached) == napi_ok && detached) return Storage::kDetached;
  return Storage::kPlain;
}

}  // namespace

void* Args::array(size_t i, const char* name, Access access, napi_typedarray_type type, size_t* length) const {
  const bool f64 = type == napi_float64_array;
  const Napi::Value v = at(i, name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    type_error(std::string(name) + (f64 ? " must be a Float64Array" : " must be a Float32Array"));
  const Napi::TypedArray a = v.As<Napi::TypedArray>();
  void* data = nullptr;
  if (napi_get_typedarray_info(env(), a, nullptr, length, &data, nullptr, nullptr) != napi_ok)
    type_error(std::string(name) + " could not be read");
  const Storage storage = storage_of(a);
  if (storage == Storage::kDetached)
    type_error(std::string(name) + "'s ArrayBuffer is detached (transferred to another thread or structuredClone)");
  if (*length == 0) range_error(std::string(name) + " must not be empty");
  if (!staging_ || storage == Storage::kShared) return data;
  const size_t bytes = *length * (f64 ? 8 : 4);
  std::unique_ptr<char[]> copy(new (std::nothrow) char[bytes]);
  if (!copy) range_error(std::string("out of memory staging ") + name + " (" + std::to_string(bytes) + " bytes)");
  if (access != Access::kWrite) std::memcpy(copy.get(), data, bytes);
  void* staged = copy.get();
  if (access == Access::kRead)
    staging_->inputs.push_back(std::move(copy));
  else
    staging_->outputs.push_back({i, name, std::move(copy), bytes});
  return staged;
}

F32 Args::array(size_t i, const char* name, Access access) const {
  size_t length = 0;
  float* data = static_cast<float*>(array(i, name, access, napi_float32_array, &length));
  return {data, length};
}

F64 Args::f64(size_t i, const char* name) const {
  size_t length = 0;
  double* data = static_cast<double*>(array(i, name, Access::kRead, napi_float64_array, &length));
  return {data, length};
}

F64 Args::f64_out(size_t i, const char* name) const {
  size_t length = 0;
  double* data = static_cast<double*>(array(i, name, Access::kWrite, napi_float64_array, &length));
  return {data, length};
}

F32 Args::array_or_null(size_t i, const char* name, Access access) const {
  if (i >= info_.Length() || info_[i].IsNull() || info_[i].IsUndefined()) return {nullptr, 0};
  return array(i, name, access);
}

F32 Args::f32(size_t i, const char* name) const { return array(i, name, Access::kRead); }
F32 Args::f32_or_null(size_t i, const char* name) const { return array_or_null(i, name, Access::kRead); }
F32 Args::f32_out(size_t i, const char* name) const { return array(i, name, Access::kWrite); }
F32 Args::f32_out_or_null(size_t i, const char* name) const { return array_or_null(i, name, Access::kWrite); }
F32 Args::f32_inout(size_t i, const char* name) const { return array(i, name, Access::kReadWrite); }
F32 Args::f32_inout_or_null(size_t i, const char* name) const { return array_or_null(i, name, Access::kReadWrite); }

std::vector<int32_t> Args::i32_copy(size_t i, const char* name) const {
  const Napi::Value v = at(i, name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    type_error(std::string(name) + " must be an Int32Array");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  std::vector<int32_t> out(a.ElementLength());
  if (!out.empty()) std::memcpy(out.data(), a.Data(), out.size() * sizeof(int32_t));
  return out;
}

bool Args::boolean(size_t i, const char* name) const {
  const Napi::Value v = at(i, name);
  if (!v.IsBoolean()) type_error(std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

double Args::number(size_t i, const char* name) const {
  const Napi::Value v = at(i, name);
  if (!v.IsNumber()) type_error(std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) range_error(std::string(name) + " must be finite, received " + std::to_string(d));
  return d;
}

std::string Args::string(size_t i, const char* name) const {
  const Napi::Value v = at(i, name);
  if (!v.IsString()) type_error(std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

size_t Args::integer(const Napi::Value& v, const std::string& name, size_t lo) const {
  if (!v.IsNumber()) type_error(name + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= double(lo) && d <= double(kMaxDim) && std::floor(d) == d))
    range_error(name + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(kMaxDim) +
                "], received " + v.ToString().Utf8Value());
  return size_t(d);
}

size_t Args::dim(size_t i, const char* name, size_t lo) const { return integer(at(i, name), name, lo); }

Napi::Object Args::object(size_t i, const char* name) const {
  const Napi::Value v = at(i, name);
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) type_error(std::string(name) + " must be an object");
  return v.As<Napi::Object>();
}

size_t Args::field(const Napi::Object& obj, const char* obj_name, const char* field, size_t lo) const {
  return integer(obj.Get(field), std::string(obj_name) + "." + field, lo);
}

std::vector<size_t> Args::dims(size_t i, const char* name, size_t count, size_t lo) const {
  const Napi::Value v = at(i, name);
  if (!v.IsArray()) type_error(std::string(name) + " must be an array");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() != count)
    range_error(std::string(name) + " must have " + std::to_string(count) + " entries, received " +
                std::to_string(a.Length()));
  std::vector<size_t> out(count);
  for (uint32_t k = 0; k < count; ++k) out[k] = integer(a.Get(k), std::string(name) + "[" + std::to_string(k) + "]", lo);
  return out;
}

ck_act Args::activation(size_t i, const char* name, bool allow_linear) const {
  static const struct {
    const char* name;
    ck_act act;
  } kActs[] = {{"linear", CK_ACT_LINEAR},
               {"relu", CK_ACT_RELU},
               {"leakyRelu", CK_ACT_LEAKY_RELU},
               {"elu", CK_ACT_ELU},
               {"sigmoid", CK_ACT_SIGMOID},
               {"tanh", CK_ACT_TANH},
               {"relu6", CK_ACT_RELU6},
               {"hardSigmoid", CK_ACT_HARD_SIGMOID},
               {"hardSwish", CK_ACT_HARD_SWISH},
               {"swish", CK_ACT_SWISH},
               {"gelu", CK_ACT_GELU},
               {"geluTanh", CK_ACT_GELU_TANH},
               {"softplus", CK_ACT_SOFTPLUS},
               {"softsign", CK_ACT_SOFTSIGN},
               {"selu", CK_ACT_SELU},
               {"mish", CK_ACT_MISH},
               {"exponential", CK_ACT_EXPONENTIAL}};
  const std::string s = string(i, name);
  std::string known;
  for (const auto& a : kActs) {
    if (s == a.name && (allow_linear || a.act != CK_ACT_LINEAR)) return a.act;
    if (allow_linear || a.act != CK_ACT_LINEAR) known += std::string(known.empty() ? "" : ", ") + a.name;
  }
  range_error(std::string(name) + " must be one of " + known + "; received '" + s + "'");
}

size_t Args::product(std::initializer_list<size_t> factors, const char* what) const {
  size_t p = 1;
  for (size_t f : factors)
    if (__builtin_mul_overflow(p, f, &p)) range_error(std::string(what) + " overflows");
  return p;
}

void Args::expect_length(const F32& a, const char* name, size_t expected, const char* formula) const {
  if (a.length != expected)
    range_error(std::string(name) + " must have " + std::to_string(expected) + " elements (" + formula +
                "), received " + std::to_string(a.length));
}

void Args::expect_disjoint(const F32& a, const char* a_name, const F32& b, const char* b_name) const {
  const auto begin = [](const F32& v) { return reinterpret_cast<uintptr_t>(v.data); };
  const auto end = [&](const F32& v) { return begin(v) + v.length * sizeof(float); };
  if (a.data != nullptr && b.data != nullptr && begin(a) < end(b) && begin(b) < end(a))
    range_error(std::string(a_name) + " must not share memory with " + b_name);
}

namespace {

constexpr uint32_t kWeightsMagic = 0x636b7770;  // "ckwp"

void form_words(const ck_weights_form& f, uint32_t (&w)[kWeightsHeader]) {
  for (uint32_t& v : w) v = 0;
  w[0] = kWeightsMagic;
  w[1] = uint32_t(f.kind);
  w[2] = uint32_t(f.isa);
  w[3] = uint32_t(f.param);
  w[4] = uint32_t(f.kernel);
  size_t i = 5;
  for (size_t v : {f.rows, f.cols, f.length}) {
    w[i++] = uint32_t(v);
    w[i++] = uint32_t(uint64_t(v) >> 32);
  }
}

std::string form_key(const ck_weights_form& f) {
  const char* kind = f.kind == CK_WEIGHTS_GEMM_PANELS ? "gemm" : "winograd";
  return std::string(kind) + ":" + ck_isa_name(static_cast<ck_isa>(f.isa)) + ":" + std::to_string(f.param) +
         (f.kernel ? "x" + std::to_string(f.kernel) : "") + ":" + std::to_string(f.rows) + "x" + std::to_string(f.cols);
}

}  // namespace

void write_weights_header(float* dst, const ck_weights_form& form) {
  uint32_t w[kWeightsHeader];
  form_words(form, w);
  std::memcpy(dst, w, sizeof(w));
}

Napi::Value weights_form_value(Napi::Env env, const ck_weights_form& form) {
  if (form.kind == CK_WEIGHTS_NONE) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("key", form_key(form));
  o.Set("length", double(kWeightsHeader + form.length));
  return o;
}

ck_prepared_weights prepared_weights(const Args& args, size_t i, const ck_weights_form& form) {
  const F32 a = args.f32_or_null(i, "prepared");
  if (a.data == nullptr) return {form, nullptr};
  if (form.kind == CK_WEIGHTS_NONE)
    args.range_error("prepared weights were given, but this shape's algorithm reads none");
  uint32_t want[kWeightsHeader], got[kWeightsHeader];
  form_words(form, want);
  if (a.length >= kWeightsHeader) std::memcpy(got, a.data, sizeof(got));
  if (a.length != kWeightsHeader + form.length || std::memcmp(want, got, sizeof(want)) != 0)
    args.range_error("prepared weights must be in the form " + form_key(form) + " (" +
                     std::to_string(kWeightsHeader + form.length) + " floats); these were prepared for another");
  return {form, a.data + kWeightsHeader};
}
