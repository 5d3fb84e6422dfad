// unary, unaryBackward, dropout, softmax, softmaxBackward, the softmax cross-entropy losses, and firstNonFinite.
#include <cmath>

#include "binding/marshal.h"

namespace {

// unary(kind, x, y, alpha)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const Args args(info, "unary");
  const ck_act kind = args.activation(0, "kind", false);
  const float alpha = float(args.number(3, "alpha"));
  const F32 x = args.f32(1, "x"), y = args.f32_out(2, "y");
  args.expect_length(y, "y", x.length, "x.length");
  return run_native(args, [=] { ck_unary_fwd(y.data, x.data, x.length, kind, alpha); });
}

// unaryBackward(kind, dy, saved, dx, alpha)
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  const Args args(info, "unaryBackward");
  const ck_act kind = args.activation(0, "kind", false);
  const float alpha = float(args.number(4, "alpha"));
  const F32 dy = args.f32(1, "dy"), saved = args.f32(2, "saved"), dx = args.f32_out(3, "dx");
  args.expect_length(saved, "saved", dy.length, "dy.length");
  args.expect_length(dx, "dx", dy.length, "dy.length");
  return run_native(args, [=] { ck_unary_bwd(dx.data, dy.data, saved.data, dy.length, kind, alpha); });
}

// dropout(x, y, mask, seed, rate)
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  const Args args(info, "dropout");
  const double seed = args.number(3, "seed"), rate = args.number(4, "rate");
  if (!(seed >= 0 && seed < 4294967296.0 && seed == std::floor(seed)))
    args.range_error("seed must be an integer in [0, 2^32), received " + std::to_string(seed));
  if (!(rate >= 0 && rate < 1)) args.range_error("rate must be in [0, 1), received " + std::to_string(rate));
  const F32 x = args.f32(0, "x"), y = args.f32_out(1, "y"), mask = args.f32_out(2, "mask");
  args.expect_length(y, "y", x.length, "x.length");
  args.expect_length(mask, "mask", x.length, "x.length");
  return run_native(args, [=] { ck_dropout(y.data, mask.data, x.data, x.length, uint32_t(seed), rate); });
}

// firstNonFinite(x) -> the index of the first NaN or ±inf in x, or -1
Napi::Value FirstNonFinite(const Napi::CallbackInfo& info) {
  const Args args(info, "firstNonFinite");
  const F32 x = args.f32(0, "x");
  size_t bad = 0;
  run_native(args, [&] { bad = ck_first_nonfinite(x.data, x.length); });
  return Napi::Number::New(info.Env(), bad < x.length ? double(bad) : -1.0);
}

// The number of rows of a (rows, channels) array, channels >= 1 dividing its length.
size_t rows_of(const Args& args, const F32& a, const char* name, size_t channels) {
  if (a.length % channels != 0)
    args.range_error(std::string(name) + " length " + std::to_string(a.length) + " is not a multiple of channels " +
                     std::to_string(channels));
  return a.length / channels;
}

// softmax(x, y, channels)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const Args args(info, "softmax");
  const size_t c = args.dim(2, "channels", 1);
  const F32 x = args.f32(0, "x"), y = args.f32_out(1, "y");
  const size_t rows = rows_of(args, x, "x", c);
  args.expect_length(y, "y", x.length, "x.length");
  return run_native(args, [=] { ck_softmax_fwd(y.data, x.data, rows, c); });
}

// softmaxBackward(dy, y, dx, channels)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  const Args args(info, "softmaxBackward");
  const size_t c = args.dim(3, "channels", 1);
  const F32 dy = args.f32(0, "dy"), y = args.f32(1, "y"), dx = args.f32_out(2, "dx");
  const size_t rows = rows_of(args, dy, "dy", c);
  args.expect_length(y, "y", dy.length, "dy.length");
  args.expect_length(dx, "dx", dy.length, "dy.length");
  return run_native(args, [=] { ck_softmax_bwd(dx.data, dy.data, y.data, rows, c); });
}

// softmaxCrossEntropySparse(logits, labels, grad, classes) -> mean loss
Napi::Value SoftmaxCrossEntropySparse(const Napi::CallbackInfo& info) {
  const Args args(info, "softmaxCrossEntropySparse");
  const size_t c = args.dim(3, "classes", 1);
  const std::vector<int32_t> labels = args.i32_copy(1, "labels");
  const F32 logits = args.f32(0, "logits"), grad = args.f32_out(2, "grad");
  const size_t n = rows_of(args, logits, "logits", c);
  if (labels.size() != n)
    args.range_error("labels must have " + std::to_string(n) + " elements (one per row of logits), received " +
                     std::to_string(labels.size()));
  for (size_t r = 0; r < n; ++r)
    if (labels[r] < 0 || size_t(labels[r]) >= c)
      args.range_error("labels[" + std::to_string(r) + "] must be a class id in [0, " + std::to_string(c) +
                       "), received " + std::to_string(labels[r]));
  args.expect_length(grad, "grad", logits.length, "logits.length");
  double loss = 0.0;
  run_native(args, [&] { loss = ck_softmax_xent_sparse(grad.data, logits.data, labels.data(), n, c); });
  return Napi::Number::New(info.Env(), loss);
}

// softmaxCrossEntropyDense(logits, targets, grad, classes) -> mean loss
Napi::Value SoftmaxCrossEntropyDense(const Napi::CallbackInfo& info) {
  const Args args(info, "softmaxCrossEntropyDense");
  const size_t c = args.dim(3, "classes", 1);
  const F32 logits = args.f32(0, "logits"), targets = args.f32(1, "targets"), grad = args.f32_out(2, "grad");
  const size_t n = rows_of(args, logits, "logits", c);
  args.expect_length(targets, "targets", logits.length, "logits.length");
  args.expect_length(grad, "grad", logits.length, "logits.length");
  double loss = 0.0;
  run_native(args, [&] { loss = ck_softmax_xent_dense(grad.data, logits.data, targets.data, n, c); });
  return Napi::Number::New(info.Env(), loss);
}

}  // namespace

void ck_register_activation_ops(Napi::Env env, Napi::Object exports) {
  ck_export_op(env, exports, "unary", Unary);
  ck_export_op(env, exports, "unaryBackward", UnaryBackward);
  ck_export_op(env, exports, "softmax", Softmax);
  ck_export_op(env, exports, "softmaxBackward", SoftmaxBackward);
  // dropout and firstNonFinite are one pass over a layer's activations, the fused losses O(N*C) (and they
  // return the loss): synchronous only
  exports.Set("dropout", Napi::Function::New(env, Dropout, "dropout"));
  exports.Set("firstNonFinite", Napi::Function::New(env, FirstNonFinite, "firstNonFinite"));
  exports.Set("softmaxCrossEntropySparse", Napi::Function::New(env, SoftmaxCrossEntropySparse, "softmaxCrossEntropySparse"));
  exports.Set("softmaxCrossEntropyDense", Napi::Function::New(env, SoftmaxCrossEntropyDense, "softmaxCrossEntropyDense"));
}
