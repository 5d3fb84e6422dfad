// matmul, biasAdd, biasGrad.
#include "binding/marshal.h"

namespace {

// matmul(a, b, y, m, k, n, transposeA, transposeB, bias|null, activation, alpha, scale|null, residual|null,
// prepared|null): a (M,K) or (K,M), b (K,N) or (N,K) -> y (M,N) = act(a.b * scale + bias + residual); prepared:
// b from prepareMatmulWeights.
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  const Args args(info, "matmul");
  const size_t m = args.dim(3, "m", 1), k = args.dim(4, "k", 1), n = args.dim(5, "n", 1);
  const bool ta = args.boolean(6, "transposeA"), tb = args.boolean(7, "transposeB");
  const ck_act act = args.activation(9, "activation", true);
  const float alpha = float(args.number(10, "alpha"));
  const F32 a = args.f32(0, "a"), b = args.f32(1, "b"), y = args.f32_out(2, "y"), bias = args.f32_or_null(8, "bias");
  const F32 scale = args.f32_or_null(11, "scale"), residual = args.f32_or_null(12, "residual");
  const ck_prepared_weights w = prepared_weights(args, 13, ck_matmul_weights_form(k, n, tb));
  args.expect_length(a, "a", args.product({m, k}, "m*k"), "m*k");
  args.expect_length(b, "b", args.product({k, n}, "k*n"), "k*n");
  args.expect_length(y, "y", args.product({m, n}, "m*n"), "m*n");
  if (bias.data != nullptr) args.expect_length(bias, "bias", n, "n");
  if (scale.data != nullptr) args.expect_length(scale, "scale", n, "n");
  if (residual.data != nullptr) args.expect_length(residual, "residual", args.product({m, n}, "m*n"), "m*n");
  args.expect_disjoint(residual, "residual", y, "y");
  const ck_epilogue ep{bias.data, act, alpha, scale.data, residual.data};
  const bool fused = bias.data != nullptr || scale.data != nullptr || residual.data != nullptr || act != CK_ACT_LINEAR;
  return run_native(args, [=] {
    ck_gemm(y.data, n, a.data, ta ? m : k, ta, b.data, tb ? k : n, tb, m, n, k, false, fused ? &ep : nullptr, &w);
  });
}

// matmulWeightsForm(k, n, transposeB) -> { key, length } of the form matmul reads a prepared b in, or null.
Napi::Value MatmulWeightsForm(const Napi::CallbackInfo& info) {
  const Args args(info, "matmulWeightsForm");
  const size_t k = args.dim(0, "k", 1), n = args.dim(1, "n", 1);
  return weights_form_value(args.env(), ck_matmul_weights_form(k, n, args.boolean(2, "transposeB")));
}

// prepareMatmulWeights(b, k, n, dst): b (K,N) -> dst in the form matmulWeightsForm(k, n, false) names.
Napi::Value PrepareMatmulWeights(const Napi::CallbackInfo& info) {
  const Args args(info, "prepareMatmulWeights");
  const size_t k = args.dim(1, "k", 1), n = args.dim(2, "n", 1);
  const ck_weights_form form = ck_matmul_weights_form(k, n, false);
  const F32 b = args.f32(0, "b"), dst = args.f32_out(3, "dst");
  args.expect_length(b, "b", args.product({k, n}, "k*n"), "k*n");
  args.expect_length(dst, "dst", kWeightsHeader + form.length, "matmulWeightsForm(k, n).length");
  args.expect_disjoint(b, "b", dst, "dst");
  return run_native(args, [=] {
    write_weights_header(dst.data, form);
    ck_matmul_prepare_weights(form, dst.data + kWeightsHeader, b.data, k, n);
  });
}

// biasAdd(x, bias, y): x (rows,C) + bias (C) -> y (rows,C), C = bias.length
Napi::Value BiasAdd(const Napi::CallbackInfo& info) {
  const Args args(info, "biasAdd");
  const F32 x = args.f32(0, "x"), bias = args.f32(1, "bias"), y = args.f32_out(2, "y");
  if (bias.length == 0) args.range_error("bias must not be empty");
  if (x.length % bias.length != 0)
    args.range_error("x length " + std::to_string(x.length) + " is not a multiple of bias length " +
                     std::to_string(bias.length));
  args.expect_length(y, "y", x.length, "x.length");
  return run_native(args, [=] { ck_bias_add(y.data, x.data, bias.data, x.length / bias.length, bias.length); });
}

// biasGrad(dy, dbias): dy (rows,C) -> dbias (C), C = dbias.length
Napi::Value BiasGrad(const Napi::CallbackInfo& info) {
  const Args args(info, "biasGrad");
  const F32 dy = args.f32(0, "dy"), dbias = args.f32_out(1, "dbias");
  if (dbias.length == 0) args.range_error("dbias must not be empty");
  if (dy.length % dbias.length != 0)
    args.range_error("dy length " + std::to_string(dy.length) + " is not a multiple of dbias length " +
                     std::to_string(dbias.length));
  return run_native(args, [=] { ck_bias_grad(dbias.data, dy.data, dy.length / dbias.length, dbias.length); });
}

}  // namespace

void ck_register_matmul_ops(Napi::Env env, Napi::Object exports) {
  ck_export_op(env, exports, "matmul", Matmul);
  // no ...Async twins: they prepare weights once, on the calling thread
  exports.Set("matmulWeightsForm", Napi::Function::New(env, MatmulWeightsForm, "matmulWeightsForm"));
  exports.Set("prepareMatmulWeights", Napi::Function::New(env, PrepareMatmulWeights, "prepareMatmulWeights"));
  ck_export_op(env, exports, "biasAdd", BiasAdd);
  ck_export_op(env, exports, "biasGrad", BiasGrad);
}
