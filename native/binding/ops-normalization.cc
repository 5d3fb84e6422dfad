// channelMoments, channelSums, channelAffine, channelAffine2: the passes of batch normalization over
// (rows, C) arrays, channels last; C is given by the per-channel arrays.
#include "binding/marshal.h"

namespace {

// The rows of an array of `channels` channels, checking it divides.
size_t rows_of(const Args& args, const F32& a, const char* name, size_t channels) {
  if (a.length % channels != 0)
    args.range_error(std::string(name) + " length " + std::to_string(a.length) + " is not a multiple of channels " +
                     std::to_string(channels));
  return a.length / channels;
}

// channelMoments(x, out, channels): out (2C) = [mean (C), biased variance (C)] in double
Napi::Value ChannelMoments(const Napi::CallbackInfo& info) {
  const Args args(info, "channelMoments");
  const size_t c = args.dim(2, "channels", 1);
  const F32 x = args.f32(0, "x");
  const F64 out = args.f64_out(1, "out");
  const size_t rows = rows_of(args, x, "x", c);
  if (out.length != 2 * c) args.range_error("out must have " + std::to_string(2 * c) + " elements (2 * channels), received " + std::to_string(out.length));
  return run_native(args, [=] { ck_channel_moments(out.data, out.data + c, x.data, rows, c); });
}

// channelSums(a, b|null, out, channels): out (2C) = [sum of a (C), sum of a * b (C)] in double
Napi::Value ChannelSums(const Napi::CallbackInfo& info) {
  const Args args(info, "channelSums");
  const size_t c = args.dim(3, "channels", 1);
  const F32 a = args.f32(0, "a"), b = args.f32_or_null(1, "b");
  const F64 out = args.f64_out(2, "out");
  const size_t rows = rows_of(args, a, "a", c);
  if (b.data != nullptr) args.expect_length(b, "b", a.length, "a.length");
  if (out.length != 2 * c) args.range_error("out must have " + std::to_string(2 * c) + " elements (2 * channels), received " + std::to_string(out.length));
  return run_native(args, [=] { ck_channel_sums(out.data, out.data + c, a.data, b.data, rows, c); });
}

// channelAffine(x, s, t, y): y = x * s + t per channel (C = s.length)
Napi::Value ChannelAffine(const Napi::CallbackInfo& info) {
  const Args args(info, "channelAffine");
  const F32 x = args.f32(0, "x"), s = args.f32(1, "s"), t = args.f32(2, "t"), y = args.f32_out(3, "y");
  args.expect_length(t, "t", s.length, "s.length");
  args.expect_length(y, "y", x.length, "x.length");
  const size_t rows = rows_of(args, x, "x", s.length);
  return run_native(args, [=] { ck_channel_affine(y.data, x.data, s.data, t.data, rows, s.length); });
}

// channelAffine2(a, b, sa, sb, t, y): y = a * sa + b * sb + t per channel (C = sa.length)
Napi::Value ChannelAffine2(const Napi::CallbackInfo& info) {
  const Args args(info, "channelAffine2");
  const F32 a = args.f32(0, "a"), b = args.f32(1, "b"), sa = args.f32(2, "sa"), sb = args.f32(3, "sb"),
            t = args.f32(4, "t"), y = args.f32_out(5, "y");
  args.expect_length(b, "b", a.length, "a.length");
  args.expect_length(sb, "sb", sa.length, "sa.length");
  args.expect_length(t, "t", sa.length, "sa.length");
  args.expect_length(y, "y", a.length, "a.length");
  const size_t rows = rows_of(args, a, "a", sa.length);
  return run_native(args, [=] { ck_channel_affine2(y.data, a.data, b.data, sa.data, sb.data, t.data, rows, sa.length); });
}

}  // namespace

void ck_register_normalization_ops(Napi::Env env, Napi::Object exports) {
  ck_export_op(env, exports, "channelMoments", ChannelMoments);
  ck_export_op(env, exports, "channelSums", ChannelSums);
  ck_export_op(env, exports, "channelAffine", ChannelAffine);
  ck_export_op(env, exports, "channelAffine2", ChannelAffine2);
}
