// maxPool2d, avgPool2d (+ backward) over nhwc; global average / max pooling (+ backward).
#include "binding/marshal.h"

// Reads and checks a Pool2DInfo: every field an integer in range and outH/outW equal to what the geometry gives.
PoolSizes read_pool_info(const Args& args, size_t i, const char* name) {
  const Napi::Object o = args.object(i, name);
  ck_pool2d_info s;
  s.batch = args.field(o, name, "batch", 1);
  s.in_h = args.field(o, name, "inH", 1);
  s.in_w = args.field(o, name, "inW", 1);
  s.channels = args.field(o, name, "channels", 1);
  s.out_h = args.field(o, name, "outH", 1);
  s.out_w = args.field(o, name, "outW", 1);
  s.pool_h = args.field(o, name, "poolH", 1);
  s.pool_w = args.field(o, name, "poolW", 1);
  s.stride_h = args.field(o, name, "strideH", 1);
  s.stride_w = args.field(o, name, "strideW", 1);
  s.pad_top = args.field(o, name, "padTop", 0);
  s.pad_bottom = args.field(o, name, "padBottom", 0);
  s.pad_left = args.field(o, name, "padLeft", 0);
  s.pad_right = args.field(o, name, "padRight", 0);
  const auto out_size = [&](size_t in, size_t pa, size_t pb, size_t k, size_t stride, const char* field, size_t got) {
    const size_t padded = in + pa + pb;
    if (padded < k)
      args.range_error(std::string("the pool window (") + std::to_string(k) + ") is larger than the padded input (" +
                       std::to_string(padded) + ") along " + field);
    const size_t want = (padded - k) / stride + 1;
    if (got != want)
      args.range_error(std::string(name) + "." + field + " must be " + std::to_string(want) +
                       " for this geometry, received " + std::to_string(got));
  };
  // A window made only of padding would have nothing to average or take the maximum of.
  const auto pad_below_window = [&](size_t pad, size_t k, const char* field, const char* window) {
    if (pad >= k)
      args.range_error(std::string(name) + "." + field + " must be below " + name + "." + window + " " +
                       std::to_string(k) + ", received " + std::to_string(pad));
  };
  pad_below_window(s.pad_top, s.pool_h, "padTop", "poolH");
  pad_below_window(s.pad_bottom, s.pool_h, "padBottom", "poolH");
  pad_below_window(s.pad_left, s.pool_w, "padLeft", "poolW");
  pad_below_window(s.pad_right, s.pool_w, "padRight", "poolW");
  out_size(s.in_h, s.pad_top, s.pad_bottom, s.pool_h, s.stride_h, "outH", s.out_h);
  out_size(s.in_w, s.pad_left, s.pad_right, s.pool_w, s.stride_w, "outW", s.out_w);
  PoolSizes z;
  z.s = s;
  z.x = args.product({s.batch, s.in_h, s.in_w, s.channels}, "batch*inH*inW*channels");
  z.y = args.product({s.batch, s.out_h, s.out_w, s.channels}, "batch*outH*outW*channels");
  return z;
}

namespace {

// Max-pool backward records where each maximum was as a 32-bit offset inside one image.
void check_image_size(const Args& args, size_t values) {
  if (values >= (size_t(1) << 32))
    args.range_error("one image must hold fewer than 2^32 values for max-pool backward, received " + std::to_string(values));
}

// maxPool2d(x, y, info) / avgPool2d(x, y, info)
template <void (*Kernel)(float*, const float*, const ck_pool2d_info&)>
Napi::Value PoolForward(const Napi::CallbackInfo& info, const char* op) {
  const Args args(info, op);
  const PoolSizes z = read_pool_info(args, 2);
  const F32 x = args.f32(0, "x"), y = args.f32_out(1, "y");
  args.expect_length(x, "x", z.x, "batch*inH*inW*channels");
  args.expect_length(y, "y", z.y, "batch*outH*outW*channels");
  return run_native(args, [=] { Kernel(y.data, x.data, z.s); });
}

Napi::Value MaxPool2d(const Napi::CallbackInfo& info) { return PoolForward<ck_maxpool2d_fwd>(info, "maxPool2d"); }
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) { return PoolForward<ck_avgpool2d_fwd>(info, "avgPool2d"); }

// maxPool2dBackward(dy, x, dx, info, activation, alpha): with an activation other than linear, x is its output
// and dx the gradient at its input.
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  const Args args(info, "maxPool2dBackward");
  const PoolSizes z = read_pool_info(args, 3);
  const ck_act act = args.activation(4, "activation", true);
  if (act != CK_ACT_LINEAR && act != CK_ACT_RELU && act != CK_ACT_LEAKY_RELU && act != CK_ACT_SIGMOID && act != CK_ACT_TANH)
    args.range_error(
        "activation must be one whose output gives its derivative: linear, relu, leakyRelu, sigmoid, tanh; received '" +
        args.string(4, "activation") + "'");
  const float alpha = float(args.number(5, "alpha"));
  if (act == CK_ACT_LEAKY_RELU && !(alpha > 0))
    args.range_error("alpha must be > 0 for leakyRelu, received " + std::to_string(alpha));
  const F32 dy = args.f32(0, "dy"), x = args.f32(1, "x"), dx = args.f32_out(2, "dx");
  args.expect_length(dy, "dy", z.y, "batch*outH*outW*channels");
  args.expect_length(x, "x", z.x, "batch*inH*inW*channels");
  args.expect_length(dx, "dx", z.x, "batch*inH*inW*channels");
  check_image_size(args, args.product({z.s.in_h, z.s.in_w, z.s.channels}, "inH*inW*channels"));
  return run_native(args, [=] { ck_maxpool2d_bwd(dx.data, dy.data, x.data, z.s, act, alpha); });
}

// avgPool2dBackward(dy, dx, info)
Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  const Args args(info, "avgPool2dBackward");
  const PoolSizes z = read_pool_info(args, 2);
  const F32 dy = args.f32(0, "dy"), dx = args.f32_out(1, "dx");
  args.expect_length(dy, "dy", z.y, "batch*outH*outW*channels");
  args.expect_length(dx, "dx", z.x, "batch*inH*inW*channels");
  return run_native(args, [=] { ck_avgpool2d_bwd(dx.data, dy.data, z.s); });
}

// shape [N, H, W, C] of x -> {N, H*W, C} and the element counts of x (N,H,W,C) and y (N,C)
struct GlobalSizes {
  size_t batch, hw, channels, x, y;
};

GlobalSizes read_global_shape(const Args& args, size_t i) {
  const std::vector<size_t> d = args.dims(i, "shape", 4, 1);
  return {d[0], args.product({d[1], d[2]}, "H*W"), d[3], args.product({d[0], d[1], d[2], d[3]}, "N*H*W*C"),
          args.product({d[0], d[3]}, "N*C")};
}

// globalAvgPool2d(x, y, shape) / globalMaxPool2d(x, y, shape)
template <void (*Kernel)(float*, const float*, size_t, size_t, size_t)>
Napi::Value GlobalForward(const Napi::CallbackInfo& info, const char* op) {
  const Args args(info, op);
  const GlobalSizes z = read_global_shape(args, 2);
  const F32 x = args.f32(0, "x"), y = args.f32_out(1, "y");
  args.expect_length(x, "x", z.x, "N*H*W*C");
  args.expect_length(y, "y", z.y, "N*C");
  return run_native(args, [=] { Kernel(y.data, x.data, z.batch, z.hw, z.channels); });
}

Napi::Value GlobalAvgPool2d(const Napi::CallbackInfo& info) { return GlobalForward<ck_global_avgpool_fwd>(info, "globalAvgPool2d"); }
Napi::Value GlobalMaxPool2d(const Napi::CallbackInfo& info) { return GlobalForward<ck_global_maxpool_fwd>(info, "globalMaxPool2d"); }

// globalAvgPool2dBackward(dy, dx, shape)
Napi::Value GlobalAvgPool2dBackward(const Napi::CallbackInfo& info) {
  const Args args(info, "globalAvgPool2dBackward");
  const GlobalSizes z = read_global_shape(args, 2);
  const F32 dy = args.f32(0, "dy"), dx = args.f32_out(1, "dx");
  args.expect_length(dy, "dy", z.y, "N*C");
  args.expect_length(dx, "dx", z.x, "N*H*W*C");
  return run_native(args, [=] { ck_global_avgpool_bwd(dx.data, dy.data, z.batch, z.hw, z.channels); });
}

// globalMaxPool2dBackward(dy, x, dx, shape)
Napi::Value GlobalMaxPool2dBackward(const Napi::CallbackInfo& info) {
  const Args args(info, "globalMaxPool2dBackward");
  const GlobalSizes z = read_global_shape(args, 3);
  const F32 dy = args.f32(0, "dy"), x = args.f32(1, "x"), dx = args.f32_out(2, "dx");
  args.expect_length(dy, "dy", z.y, "N*C");
  args.expect_length(x, "x", z.x, "N*H*W*C");
  args.expect_length(dx, "dx", z.x, "N*H*W*C");
  check_image_size(args, args.product({z.hw, z.channels}, "H*W*C"));
  return run_native(args, [=] { ck_global_maxpool_bwd(dx.data, dy.data, x.data, z.batch, z.hw, z.channels); });
}

}  // namespace

void ck_register_pool_ops(Napi::Env env, Napi::Object exports) {
  ck_export_op(env, exports, "maxPool2d", MaxPool2d);
  ck_export_op(env, exports, "maxPool2dBackward", MaxPool2dBackward);
  ck_export_op(env, exports, "avgPool2d", AvgPool2d);
  ck_export_op(env, exports, "avgPool2dBackward", AvgPool2dBackward);
  ck_export_op(env, exports, "globalAvgPool2d", GlobalAvgPool2d);
  ck_export_op(env, exports, "globalAvgPool2dBackward", GlobalAvgPool2dBackward);
  ck_export_op(env, exports, "globalMaxPool2d", GlobalMaxPool2d);
  ck_export_op(env, exports, "globalMaxPool2dBackward", GlobalMaxPool2dBackward);
}
