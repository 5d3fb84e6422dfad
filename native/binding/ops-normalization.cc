// channelMoments, channelSums, channelAffine, channelAffine2: the passes of batch normalization over
// (rows, C) arrays, channels last; C is given by the per-channel arrays. groupNormForward, groupNormBackward:
// group (and layer) normalization over [n][s][g][k] arrays.
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

// The geometry of a group-norm call (arguments at `at`..at+3: n, s, g, k) and the value count it implies.
struct GroupDims {
  size_t n, s, g, k, size;
};

GroupDims group_dims(const Args& args, size_t at) {
  GroupDims z{args.dim(at, "n", 1), args.dim(at + 1, "s", 1), args.dim(at + 2, "g", 1), args.dim(at + 3, "k", 1), 0};
  z.size = args.product({z.n, z.s, z.g, z.k}, "n*s*g*k");
  return z;
}

// groupNormForward(x, gamma|null, beta|null, y, xhat|null, stats, n, s, g, k, epsilon)
Napi::Value GroupNormForward(const Napi::CallbackInfo& info) {
  const Args args(info, "groupNormForward");
  const GroupDims z = group_dims(args, 6);
  const double eps = args.number(10, "epsilon");
  if (!(eps > 0)) args.range_error("epsilon must be > 0, received " + std::to_string(eps));
  const F32 x = args.f32(0, "x"), gamma = args.f32_or_null(1, "gamma"), beta = args.f32_or_null(2, "beta");
  const F32 y = args.f32_out(3, "y"), xhat = args.f32_out_or_null(4, "xhat");
  const F64 stats = args.f64_out(5, "stats");
  args.expect_length(x, "x", z.size, "n*s*g*k");
  args.expect_length(y, "y", z.size, "n*s*g*k");
  if (xhat.data != nullptr) args.expect_length(xhat, "xhat", z.size, "n*s*g*k");
  if (gamma.data != nullptr) args.expect_length(gamma, "gamma", z.g * z.k, "g*k");
  if (beta.data != nullptr) args.expect_length(beta, "beta", z.g * z.k, "g*k");
  if (stats.length != 2 * z.n * z.g) args.range_error("stats must have " + std::to_string(2 * z.n * z.g) + " elements (2*n*g), received " + std::to_string(stats.length));
  return run_native(args, [=] { ck_group_norm_fwd(y.data, xhat.data, stats.data, x.data, gamma.data, beta.data, z.n, z.s, z.g, z.k, eps); });
}

// groupNormBackward(dy, xhat, gamma|null, invStd, dx, paramSums|null, n, s, g, k)
Napi::Value GroupNormBackward(const Napi::CallbackInfo& info) {
  const Args args(info, "groupNormBackward");
  const GroupDims z = group_dims(args, 6);
  const F32 dy = args.f32(0, "dy"), xhat = args.f32(1, "xhat"), gamma = args.f32_or_null(2, "gamma");
  const F64 inv = args.f64(3, "invStd");
  const F32 dx = args.f32_out(4, "dx");
  F64 sums{nullptr, 0};
  if (!info[5].IsNull() && !info[5].IsUndefined()) sums = args.f64_out(5, "paramSums");
  args.expect_length(dy, "dy", z.size, "n*s*g*k");
  args.expect_length(xhat, "xhat", z.size, "n*s*g*k");
  args.expect_length(dx, "dx", z.size, "n*s*g*k");
  if (gamma.data != nullptr) args.expect_length(gamma, "gamma", z.g * z.k, "g*k");
  if (inv.length != z.n * z.g) args.range_error("invStd must have " + std::to_string(z.n * z.g) + " elements (n*g), received " + std::to_string(inv.length));
  if (sums.data != nullptr && sums.length != 2 * z.g * z.k)
    args.range_error("paramSums must have " + std::to_string(2 * z.g * z.k) + " elements (2*g*k), received " + std::to_string(sums.length));
  return run_native(args, [=] { ck_group_norm_bwd(dx.data, sums.data, dy.data, xhat.data, gamma.data, inv.data, z.n, z.s, z.g, z.k); });
}

}  // namespace

void ck_register_normalization_ops(Napi::Env env, Napi::Object exports) {
  ck_export_op(env, exports, "groupNormForward", GroupNormForward);
  ck_export_op(env, exports, "groupNormBackward", GroupNormBackward);
  ck_export_op(env, exports, "channelMoments", ChannelMoments);
  ck_export_op(env, exports, "channelSums", ChannelSums);
  ck_export_op(env, exports, "channelAffine", ChannelAffine);
  ck_export_op(env, exports, "channelAffine2", ChannelAffine2);
}
