// binary, binaryRoute, scale, copyRows: the elementwise ops of merge layers and the block copies of
// concatenation and slicing.
#include "binding/marshal.h"

namespace {

ck_binary_op binary_kind(const Args& args, size_t i, bool route) {
  static const char* const kNames[CK_BIN_COUNT] = {"add", "sub", "mul", "max", "min"};
  const std::string s = args.string(i, "kind");
  for (int k = route ? CK_BIN_MAX : 0; k < CK_BIN_COUNT; ++k)
    if (s == kNames[k]) return ck_binary_op(k);
  args.range_error(std::string("kind must be one of ") + (route ? "max, min" : "add, sub, mul, max, min") + "; received '" + s + "'");
}

// binary(kind, a, b, y): y = a kind b, all of one length
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const Args args(info, "binary");
  const ck_binary_op op = binary_kind(args, 0, false);
  const F32 a = args.f32(1, "a"), b = args.f32(2, "b"), y = args.f32_out(3, "y");
  args.expect_length(b, "b", a.length, "a.length");
  args.expect_length(y, "y", a.length, "a.length");
  return run_native(args, [=] { ck_binary(y.data, a.data, b.data, a.length, op); });
}

// binaryRoute(kind, dy, a, b, da, db): the gradient of max or min (see ck_binary_route)
Napi::Value BinaryRoute(const Napi::CallbackInfo& info) {
  const Args args(info, "binaryRoute");
  const ck_binary_op op = binary_kind(args, 0, true);
  const F32 dy = args.f32(1, "dy"), a = args.f32(2, "a"), b = args.f32(3, "b"), da = args.f32_out(4, "da"),
            db = args.f32_out(5, "db");
  for (const auto& [arr, name] : {std::pair{a, "a"}, std::pair{b, "b"}, std::pair{da, "da"}, std::pair{db, "db"}})
    args.expect_length(arr, name, dy.length, "dy.length");
  return run_native(args, [=] { ck_binary_route(da.data, db.data, dy.data, a.data, b.data, dy.length, op); });
}

// scale(x, c, y): y = x * c
Napi::Value Scale(const Napi::CallbackInfo& info) {
  const Args args(info, "scale");
  const float c = float(args.number(1, "c"));
  const F32 x = args.f32(0, "x"), y = args.f32_out(2, "y");
  args.expect_length(y, "y", x.length, "x.length");
  return run_native(args, [=] { ck_scale(y.data, x.data, c, x.length); });
}

// copyRows(dst, src, rows, cols, dstStride, dstOffset, srcStride, srcOffset):
// dst[dstOffset + r * dstStride + j] = src[srcOffset + r * srcStride + j] for r < rows, j < cols. dst is updated
// in place (a concatenation writes it one input at a time).
Napi::Value CopyRows(const Napi::CallbackInfo& info) {
  const Args args(info, "copyRows");
  const size_t rows = args.dim(2, "rows", 1), cols = args.dim(3, "cols", 1);
  const size_t dst_stride = args.dim(4, "dstStride", 1), dst_offset = args.dim(5, "dstOffset", 0);
  const size_t src_stride = args.dim(6, "srcStride", 1), src_offset = args.dim(7, "srcOffset", 0);
  if (cols > dst_stride || cols > src_stride)
    args.range_error("cols " + std::to_string(cols) + " must not exceed dstStride " + std::to_string(dst_stride) +
                     " or srcStride " + std::to_string(src_stride));
  const F32 dst = args.f32_inout(0, "dst"), src = args.f32(1, "src");
  // the last element each side touches, checked without overflow (every factor is below 2^31)
  const auto reach = [&](size_t offset, size_t stride) { return offset + (rows - 1) * stride + cols; };
  if (reach(dst_offset, dst_stride) > dst.length)
    args.range_error("dst must hold dstOffset + (rows - 1) * dstStride + cols = " + std::to_string(reach(dst_offset, dst_stride)) +
                     " elements, received " + std::to_string(dst.length));
  if (reach(src_offset, src_stride) > src.length)
    args.range_error("src must hold srcOffset + (rows - 1) * srcStride + cols = " + std::to_string(reach(src_offset, src_stride)) +
                     " elements, received " + std::to_string(src.length));
  return run_native(args, [=] {
    ck_copy_rows(dst.data + dst_offset, dst_stride, src.data + src_offset, src_stride, rows, cols);
  });
}

}  // namespace

void ck_register_elementwise_ops(Napi::Env env, Napi::Object exports) {
  ck_export_op(env, exports, "binary", Binary);
  ck_export_op(env, exports, "binaryRoute", BinaryRoute);
  ck_export_op(env, exports, "scale", Scale);
  ck_export_op(env, exports, "copyRows", CopyRows);
}
