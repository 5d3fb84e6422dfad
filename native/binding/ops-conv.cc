// conv2d, conv2dBackwardInput, conv2dBackwardFilter: x (N,H,W,C) nhwc, filter (KH,KW,C/G,OC) hwio, y (N,OH,OW,OC).
#include "binding/marshal.h"

namespace {

struct ConvSizes {
  ck_conv2d_info s;
  size_t x, filter, y;  // element counts
};

// Reads and checks an info record (src/backend/types.ts Conv2DInfo): every field an integer in range,
// groups dividing both channel counts, and outH/outW equal to what the geometry gives.
ConvSizes read_conv_info(const Args& args, size_t i) {
  const Napi::Object o = args.object(i, "info");
  ck_conv2d_info s;
  s.batch = args.field(o, "info", "batch", 1);
  s.in_h = args.field(o, "info", "inH", 1);
  s.in_w = args.field(o, "info", "inW", 1);
  s.in_c = args.field(o, "info", "inC", 1);
  s.out_h = args.field(o, "info", "outH", 1);
  s.out_w = args.field(o, "info", "outW", 1);
  s.out_c = args.field(o, "info", "outC", 1);
  s.k_h = args.field(o, "info", "kH", 1);
  s.k_w = args.field(o, "info", "kW", 1);
  s.stride_h = args.field(o, "info", "strideH", 1);
  s.stride_w = args.field(o, "info", "strideW", 1);
  s.dil_h = args.field(o, "info", "dilH", 1);
  s.dil_w = args.field(o, "info", "dilW", 1);
  s.pad_top = args.field(o, "info", "padTop", 0);
  s.pad_bottom = args.field(o, "info", "padBottom", 0);
  s.pad_left = args.field(o, "info", "padLeft", 0);
  s.pad_right = args.field(o, "info", "padRight", 0);
  s.groups = args.field(o, "info", "groups", 1);
  if (s.in_c % s.groups != 0 || s.out_c % s.groups != 0)
    args.range_error("info.groups " + std::to_string(s.groups) + " must divide info.inC " + std::to_string(s.in_c) +
                     " and info.outC " + std::to_string(s.out_c));
  // All fields are < 2^31, so these stay far from 64-bit overflow.
  const auto out_size = [&](size_t in, size_t pa, size_t pb, size_t k, size_t dil, size_t stride, const char* name,
                            size_t got) {
    const size_t extent = dil * (k - 1) + 1, padded = in + pa + pb;
    if (padded < extent)
      args.range_error(std::string("the dilated kernel (") + std::to_string(extent) + ") is larger than the padded input (" +
                       std::to_string(padded) + ") along " + name);
    const size_t want = (padded - extent) / stride + 1;
    if (got != want)
      args.range_error(std::string("info.") + name + " must be " + std::to_string(want) + " for this geometry, received " +
                       std::to_string(got));
  };
  out_size(s.in_h, s.pad_top, s.pad_bottom, s.k_h, s.dil_h, s.stride_h, "outH", s.out_h);
  out_size(s.in_w, s.pad_left, s.pad_right, s.k_w, s.dil_w, s.stride_w, "outW", s.out_w);
  ConvSizes z;
  z.s = s;
  z.x = args.product({s.batch, s.in_h, s.in_w, s.in_c}, "batch*inH*inW*inC");
  z.filter = args.product({s.k_h, s.k_w, s.in_c / s.groups, s.out_c}, "kH*kW*(inC/groups)*outC");
  z.y = args.product({s.batch, s.out_h, s.out_w, s.out_c}, "batch*outH*outW*outC");
  return z;
}

// What conv2d and conv2dMaxPool share: info (argument 3), activation (5) and alpha (6), read first; then x (0),
// filter (1), bias (4) and scale (at `scale_at`), checked against the info (after the callers have read their
// other plain values, so no getter can detach a buffer once its pointer is taken).
struct ConvForward {
  ConvSizes z;
  ck_act act;
  float alpha;
  F32 x{}, filter{}, bias{}, scale{}, residual{};

  explicit ConvForward(const Args& args)
      : z(read_conv_info(args, 3)),
        act(args.activation(5, "activation", true)),
        alpha(float(args.number(6, "alpha"))) {}

  void read_arrays(const Args& args, size_t scale_at) {
    x = args.f32(0, "x");
    filter = args.f32(1, "filter");
    bias = args.f32_or_null(4, "bias");
    scale = args.f32_or_null(scale_at, "scale");
    args.expect_length(x, "x", z.x, "batch*inH*inW*inC");
    args.expect_length(filter, "filter", z.filter, "kH*kW*(inC/groups)*outC");
    if (bias.data != nullptr) args.expect_length(bias, "bias", z.s.out_c, "outC");
    if (scale.data != nullptr) args.expect_length(scale, "scale", z.s.out_c, "outC");
  }
  // The epilogue, to pass when fused() (otherwise there is nothing to apply).
  ck_epilogue epilogue() const { return {bias.data, act, alpha, scale.data, residual.data}; }
  bool fused() const { return bias.data != nullptr || scale.data != nullptr || residual.data != nullptr || act != CK_ACT_LINEAR; }
};

// conv2d(x, filter, y, info, bias|null, activation, alpha, scale|null, residual|null, prepared|null); prepared: the
// filter from prepareConv2dWeights for this info
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  const Args args(info, "conv2d");
  ConvForward c(args);
  c.read_arrays(args, 7);
  c.residual = args.f32_or_null(8, "residual");
  const F32 y = args.f32_out(2, "y");
  args.expect_length(y, "y", c.z.y, "batch*outH*outW*outC");
  if (c.residual.data != nullptr) args.expect_length(c.residual, "residual", c.z.y, "batch*outH*outW*outC");
  args.expect_disjoint(c.residual, "residual", y, "y");
  const ck_prepared_weights w = prepared_weights(args, 9, ck_conv2d_weights_form(c.z.s));
  const ck_epilogue ep = c.epilogue();
  const bool fused = c.fused();
  return run_native(args, [=, x = c.x, filter = c.filter, s = c.z.s] {
    ck_conv2d_fwd(y.data, x.data, filter.data, s, fused ? &ep : nullptr, &w);
  });
}

// conv2dMaxPool(x, filter, y, info, bias|null, activation, alpha, poolInfo, convY|null, scale|null, prepared|null):
// conv2d (no residual), then maxPool2d of its output (poolInfo's batch, inH, inW, channels must be the
// convolution's batch, outH, outW, outC) into y; with convY, the convolution's output into it as well.
Napi::Value Conv2dMaxPool(const Napi::CallbackInfo& info) {
  const Args args(info, "conv2dMaxPool");
  ConvForward c(args);
  const PoolSizes pz = read_pool_info(args, 7, "poolInfo");
  const auto same = [&](size_t conv, size_t pool, const char* conv_name, const char* pool_name) {
    if (conv != pool)
      args.range_error(std::string("poolInfo.") + pool_name + " " + std::to_string(pool) + " must equal info." +
                       conv_name + " " + std::to_string(conv));
  };
  same(c.z.s.batch, pz.s.batch, "batch", "batch");
  same(c.z.s.out_h, pz.s.in_h, "outH", "inH");
  same(c.z.s.out_w, pz.s.in_w, "outW", "inW");
  same(c.z.s.out_c, pz.s.channels, "outC", "channels");
  c.read_arrays(args, 9);
  const F32 y = args.f32_out(2, "y"), conv_y = args.f32_out_or_null(8, "convY");
  args.expect_length(y, "y", pz.y, "batch*poolInfo.outH*poolInfo.outW*outC");
  if (conv_y.data != nullptr) args.expect_length(conv_y, "convY", c.z.y, "batch*outH*outW*outC");
  const ck_prepared_weights w = prepared_weights(args, 10, ck_conv2d_weights_form(c.z.s));
  const ck_epilogue ep = c.epilogue();
  const bool fused = c.fused();
  return run_native(args, [=, x = c.x, filter = c.filter, s = c.z.s, p = pz.s] {
    ck_conv2d_maxpool_fwd(y.data, x.data, filter.data, s, fused ? &ep : nullptr, p, conv_y.data, &w);
  });
}

// conv2dWeightsForm(info) -> { key, length } of the form conv2d and conv2dMaxPool read a prepared filter for info
// in, or null (its algorithm reads the filter as it is).
Napi::Value Conv2dWeightsForm(const Napi::CallbackInfo& info) {
  const Args args(info, "conv2dWeightsForm");
  return weights_form_value(args.env(), ck_conv2d_weights_form(read_conv_info(args, 0).s));
}

// prepareConv2dWeights(filter, info, dst): the filter -> dst in the form conv2dWeightsForm(info) names.
Napi::Value PrepareConv2dWeights(const Napi::CallbackInfo& info) {
  const Args args(info, "prepareConv2dWeights");
  const ConvSizes z = read_conv_info(args, 1);
  const ck_weights_form form = ck_conv2d_weights_form(z.s);
  if (form.kind == CK_WEIGHTS_NONE)
    args.range_error("this info's algorithm reads its filter as it is: nothing to prepare");
  const F32 filter = args.f32(0, "filter"), dst = args.f32_out(2, "dst");
  args.expect_length(filter, "filter", z.filter, "kH*kW*(inC/groups)*outC");
  args.expect_length(dst, "dst", kWeightsHeader + form.length, "conv2dWeightsForm(info).length");
  args.expect_disjoint(filter, "filter", dst, "dst");
  return run_native(args, [=, s = z.s] {
    write_weights_header(dst.data, form);
    ck_conv2d_prepare_weights(form, dst.data + kWeightsHeader, filter.data, s);
  });
}

// conv2dBackwardInput(dy, filter, dx, info)
Napi::Value Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  const Args args(info, "conv2dBackwardInput");
  const ConvSizes z = read_conv_info(args, 3);
  const F32 dy = args.f32(0, "dy"), filter = args.f32(1, "filter"), dx = args.f32_out(2, "dx");
  args.expect_length(dy, "dy", z.y, "batch*outH*outW*outC");
  args.expect_length(filter, "filter", z.filter, "kH*kW*(inC/groups)*outC");
  args.expect_length(dx, "dx", z.x, "batch*inH*inW*inC");
  return run_native(args, [=] { ck_conv2d_bwd_input(dx.data, dy.data, filter.data, z.s); });
}

// conv2dBackwardFilter(x, dy, dfilter, info)
Napi::Value Conv2dBackwardFilter(const Napi::CallbackInfo& info) {
  const Args args(info, "conv2dBackwardFilter");
  const ConvSizes z = read_conv_info(args, 3);
  const F32 x = args.f32(0, "x"), dy = args.f32(1, "dy"), dfilter = args.f32_out(2, "dfilter");
  args.expect_length(x, "x", z.x, "batch*inH*inW*inC");
  args.expect_length(dy, "dy", z.y, "batch*outH*outW*outC");
  args.expect_length(dfilter, "dfilter", z.filter, "kH*kW*(inC/groups)*outC");
  return run_native(args, [=] { ck_conv2d_bwd_filter(dfilter.data, x.data, dy.data, z.s); });
}

}  // namespace

void ck_register_conv_ops(Napi::Env env, Napi::Object exports) {
  ck_export_op(env, exports, "conv2d", Conv2d);
  ck_export_op(env, exports, "conv2dMaxPool", Conv2dMaxPool);
  // no ...Async twins: they prepare weights once, on the calling thread
  exports.Set("conv2dWeightsForm", Napi::Function::New(env, Conv2dWeightsForm, "conv2dWeightsForm"));
  exports.Set("prepareConv2dWeights", Napi::Function::New(env, PrepareConv2dWeights, "prepareConv2dWeights"));
  ck_export_op(env, exports, "conv2dBackwardInput", Conv2dBackwardInput);
  ck_export_op(env, exports, "conv2dBackwardFilter", Conv2dBackwardFilter);
}
