// conv2d forward / backward-input / backward-filter against double-precision loops, under every ISA,
// bit-identical at 1 and 2 threads.
#include <cmath>
#include <cstring>
#include <string>

#include "convkit/ops.h"
#include "runtime/conv-winograd.h"
#include "runtime/dispatch.h"
#include "tests/harness.h"
#include "tests/util.h"

namespace {

size_t out_size(size_t in, size_t pa, size_t pb, size_t k, size_t dil, size_t stride) {
  return (in + pa + pb - dil * (k - 1) - 1) / stride + 1;
}

// N, H, W, C, OC, KH, KW, strides, dilations, pads (top, bottom, left, right), groups
ck_conv2d_info make(size_t n, size_t h, size_t w, size_t c, size_t oc, size_t kh, size_t kw, size_t sh, size_t sw,
                    size_t dh, size_t dw, size_t pt, size_t pb, size_t pl, size_t pr, size_t g) {
  return {n, h, w, c, out_size(h, pt, pb, kh, dh, sh), out_size(w, pl, pr, kw, dw, sw), oc, kh, kw, sh, sw, dh, dw,
          pt, pb, pl, pr, g};
}

struct Naive {
  std::vector<double> y, dx, dfilter, y_scale, dx_scale, df_scale;
};

// All three results from one loop over (n, oh, ow, oc, kh, kw, ci), with |product| sums as error scales.
Naive naive(const ck_conv2d_info& s, const std::vector<float>& x, const std::vector<float>& f,
            const std::vector<float>& dy) {
  const size_t cg = s.in_c / s.groups, ocg = s.out_c / s.groups;
  Naive r;
  r.y.assign(s.batch * s.out_h * s.out_w * s.out_c, 0);
  r.y_scale = r.y;
  r.dx.assign(x.size(), 0);
  r.dx_scale = r.dx;
  r.dfilter.assign(f.size(), 0);
  r.df_scale = r.dfilter;
  for (size_t n = 0; n < s.batch; ++n)
    for (size_t oh = 0; oh < s.out_h; ++oh)
      for (size_t ow = 0; ow < s.out_w; ++ow)
        for (size_t oc = 0; oc < s.out_c; ++oc) {
          const size_t yi = ((n * s.out_h + oh) * s.out_w + ow) * s.out_c + oc, g = oc / ocg;
          for (size_t kh = 0; kh < s.k_h; ++kh)
            for (size_t kw = 0; kw < s.k_w; ++kw) {
              const long ih = long(oh * s.stride_h + kh * s.dil_h) - long(s.pad_top);
              const long iw = long(ow * s.stride_w + kw * s.dil_w) - long(s.pad_left);
              if (ih < 0 || iw < 0 || ih >= long(s.in_h) || iw >= long(s.in_w)) continue;
              for (size_t ci = 0; ci < cg; ++ci) {
                const size_t xi = ((n * s.in_h + size_t(ih)) * s.in_w + size_t(iw)) * s.in_c + g * cg + ci;
                const size_t fi = ((kh * s.k_w + kw) * cg + ci) * s.out_c + oc;
                r.y[yi] += double(x[xi]) * f[fi];
                r.y_scale[yi] += std::fabs(double(x[xi]) * f[fi]);
                r.dx[xi] += double(dy[yi]) * f[fi];
                r.dx_scale[xi] += std::fabs(double(dy[yi]) * f[fi]);
                r.dfilter[fi] += double(x[xi]) * dy[yi];
                r.df_scale[fi] += std::fabs(double(x[xi]) * dy[yi]);
              }
            }
        }
  return r;
}

std::string name(const ck_conv2d_info& s) {
  return "conv N" + std::to_string(s.batch) + " " + std::to_string(s.in_h) + "x" + std::to_string(s.in_w) + "x" +
         std::to_string(s.in_c) + " -> " + std::to_string(s.out_c) + " k" + std::to_string(s.k_h) + "x" +
         std::to_string(s.k_w) + " s" + std::to_string(s.stride_h) + "," + std::to_string(s.stride_w) + " d" +
         std::to_string(s.dil_h) + "," + std::to_string(s.dil_w) + " g" + std::to_string(s.groups) + " isa " +
         ck_isa_name(ck_isa_current());
}

void check(const ck_conv2d_info& s, uint32_t seed) {
  const size_t cg = s.in_c / s.groups;
  const std::vector<float> x = ck_random(s.batch * s.in_h * s.in_w * s.in_c, seed);
  const std::vector<float> f = ck_random(s.k_h * s.k_w * cg * s.out_c, seed + 1);
  const std::vector<float> dy = ck_random(s.batch * s.out_h * s.out_w * s.out_c, seed + 2);
  const std::vector<float> bias = ck_random(s.out_c, seed + 3);
  const Naive want = naive(s, x, f, dy);
  const double rtol = 1e-5 * std::sqrt(double(s.k_h * s.k_w * cg));

  const auto fwd = [&] {
    std::vector<float> y(dy.size(), NAN);
    const ck_epilogue ep{bias.data(), CK_ACT_RELU, 0};
    ck_conv2d_fwd(y.data(), x.data(), f.data(), s, &ep);
    return y;
  };
  std::vector<double> y_want = want.y;
  for (size_t i = 0; i < y_want.size(); ++i) y_want[i] = std::max(0.0, y_want[i] + bias[i % s.out_c]);
  std::vector<double> y_scale = want.y_scale;
  for (double& v : y_scale) v += 1;
  const std::vector<float> y = fwd();
  long bad = ck_first_mismatch(y, y_want, 1e-6, rtol, y_scale);
  CK_CHECK(bad < 0, name(s) + " forward (bias + relu): " + ck_describe_mismatch(y, y_want, bad));
  CK_CHECK(ck_same_for_thread_counts(fwd), name(s) + " forward: 1 and 2 threads differ");

  // relu6, with a bias around 6 so that both bounds clip
  std::vector<float> bias6 = bias, y6(dy.size(), NAN);
  for (float& b : bias6) b += 6.0f;
  const ck_epilogue ep6{bias6.data(), CK_ACT_RELU6, 0};
  ck_conv2d_fwd(y6.data(), x.data(), f.data(), s, &ep6);
  std::vector<double> y6_want = want.y;
  for (size_t i = 0; i < y6_want.size(); ++i) y6_want[i] = std::min(6.0, std::max(0.0, y6_want[i] + bias6[i % s.out_c]));
  bad = ck_first_mismatch(y6, y6_want, 1e-6, rtol, y_scale);
  CK_CHECK(bad < 0, name(s) + " forward (bias + relu6): " + ck_describe_mismatch(y6, y_want, bad));

  // a batch normalization folded in (scale, bias) and a residual added before the activation, which is
  // applied in the store (relu) or after it (elu)
  const std::vector<float> col_scale = ck_random(s.out_c, seed + 4), residual = ck_random(dy.size(), seed + 5);
  const ck_act act = seed / 10 % 2 ? CK_ACT_RELU : CK_ACT_ELU;
  const auto fwd_affine = [&] {
    std::vector<float> out(dy.size(), NAN);
    const ck_epilogue ep{bias.data(), act, 1.0f, col_scale.data(), residual.data()};
    ck_conv2d_fwd(out.data(), x.data(), f.data(), s, &ep);
    return out;
  };
  std::vector<double> affine_want = want.y, affine_scale = want.y_scale;
  for (size_t i = 0; i < affine_want.size(); ++i) {
    const double v = affine_want[i] * col_scale[i % s.out_c] + bias[i % s.out_c] + residual[i];
    affine_want[i] = act == CK_ACT_RELU ? std::max(0.0, v) : v > 0 ? v : std::expm1(v);
    affine_scale[i] = affine_scale[i] * std::fabs(col_scale[i % s.out_c]) + 1;
  }
  const std::vector<float> y_affine = fwd_affine();
  bad = ck_first_mismatch(y_affine, affine_want, 1e-6, rtol, affine_scale);
  CK_CHECK(bad < 0, name(s) + " forward (scale + bias + residual, " + (act == CK_ACT_RELU ? "relu" : "elu") +
                        "): " + ck_describe_mismatch(y_affine, affine_want, bad));
  CK_CHECK(ck_same_for_thread_counts(fwd_affine), name(s) + " forward with scale and residual: 1 and 2 threads differ");

  // the filter prepared once, as an inference session holds it: the same bits
  const ck_weights_form form = ck_conv2d_weights_form(s);
  if (form.kind != CK_WEIGHTS_NONE) {
    std::vector<float> prepared(form.length, NAN);
    ck_conv2d_prepare_weights(form, prepared.data(), f.data(), s);
    const ck_prepared_weights w{form, prepared.data()};
    const auto fwd_prepared = [&] {
      std::vector<float> out(dy.size(), NAN);
      const ck_epilogue ep{bias.data(), act, 1.0f, col_scale.data(), residual.data()};
      ck_conv2d_fwd(out.data(), x.data(), f.data(), s, &ep, &w);
      return out;
    };
    const std::vector<float> y_prepared = fwd_prepared();
    CK_CHECK(std::memcmp(y_prepared.data(), y_affine.data(), y_affine.size() * sizeof(float)) == 0 &&
                 ck_same_for_thread_counts(fwd_prepared),
             name(s) + " forward with the filter prepared differs");
  }

  const auto bwd_input = [&] {
    std::vector<float> dx(x.size(), NAN);
    ck_conv2d_bwd_input(dx.data(), dy.data(), f.data(), s);
    return dx;
  };
  const std::vector<float> dx = bwd_input();
  bad = ck_first_mismatch(dx, want.dx, 1e-6, rtol * 4, want.dx_scale);
  CK_CHECK(bad < 0, name(s) + " backward input: " + ck_describe_mismatch(dx, want.dx, bad));
  CK_CHECK(ck_same_for_thread_counts(bwd_input), name(s) + " backward input: 1 and 2 threads differ");

  const auto bwd_filter = [&] {
    std::vector<float> df(f.size(), NAN);
    ck_conv2d_bwd_filter(df.data(), x.data(), dy.data(), s);
    return df;
  };
  const std::vector<float> df = bwd_filter();
  bad = ck_first_mismatch(df, want.dfilter, 1e-6, 1e-5 * std::sqrt(double(s.batch * s.out_h * s.out_w)), want.df_scale);
  CK_CHECK(bad < 0, name(s) + " backward filter: " + ck_describe_mismatch(df, want.dfilter, bad));
  CK_CHECK(ck_same_for_thread_counts(bwd_filter), name(s) + " backward filter: 1 and 2 threads differ");
}

}  // namespace

CK_TEST(conv2d_against_loops) {
  const ck_conv2d_info configs[] = {
      make(2, 7, 6, 3, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),     // same padding
      make(1, 9, 8, 4, 6, 3, 2, 2, 2, 1, 1, 0, 1, 1, 0, 1),     // stride 2, asymmetric padding
      make(2, 9, 9, 3, 4, 3, 3, 1, 2, 2, 2, 2, 2, 1, 3, 1),     // dilation 2
      make(2, 6, 5, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2),     // groups 2
      make(2, 5, 3, 3, 4, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),     // a kernel wider than the image: every column crosses both edges
      make(2, 7, 11, 5, 9, 3, 5, 2, 3, 1, 1, 1, 3, 1, 2, 1),    // strided, asymmetric columns: edge columns on both sides
      make(1, 6, 7, 4, 8, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 4),     // depthwise, multiplier 2
      make(2, 9, 8, 13, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 13),  // depthwise, vector body + tail
      make(1, 8, 9, 19, 19, 3, 2, 1, 1, 2, 3, 2, 1, 0, 3, 19),  // depthwise, dilated, asymmetric padding
      make(1, 7, 6, 37, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 37),  // depthwise: a 4-vector block, then a masked tail
      make(3, 40, 33, 11, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 11),  // depthwise backward-filter over two row chunks
      make(2, 5, 21, 35, 35, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 35),  // depthwise: runs of 8, 4 and 1 pixels, whole vectors and a tail
      make(2, 17, 30, 9, 9, 5, 3, 2, 2, 1, 2, 2, 1, 2, 0, 9),     // depthwise strided, dilated: edge runs
      make(2, 5, 49, 37, 37, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 37),  // depthwise 3x3 stride 2: runs of 8, 8, 4, 1, 1, 1
      make(1, 6, 50, 16, 16, 3, 3, 2, 2, 1, 1, 0, 1, 0, 1, 16),  // the same padded as TF's 'same' (bottom and right)
      make(2, 5, 4, 8, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),     // pointwise: plain GEMM
      make(1, 12, 12, 40, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),  // depth 360 > KC
      make(3, 20, 20, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),   // several im2col tiles and pixel blocks
      make(1, 4, 4, 3, 2, 5, 5, 1, 1, 1, 1, 3, 3, 3, 3, 1),     // padding wider than the input
      make(2, 6, 6, 4, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    // 32 out channels: untransposed backward-filter
      make(1, 7, 6, 100, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),  // kernel row 300 > KC: padded copy, chunked taps
      make(1, 5, 30, 100, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), // the same 30 wide: edge strips, chunked taps
      make(2, 9, 8, 12, 10, 3, 2, 1, 1, 2, 1, 2, 0, 1, 0, 1),   // backward-input as a dy convolution: dilated, uneven pads
      make(2, 11, 13, 1, 10, 5, 3, 1, 1, 1, 1, 2, 1, 0, 2, 1),  // one channel: the direct kernel, two channel blocks
      make(1, 6, 9, 1, 6, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1),     // one channel, 6 filters, rows shorter than a vector
      make(5, 30, 29, 1, 7, 5, 5, 1, 1, 1, 1, 2, 1, 2, 0, 1),   // one channel: backward-filter over several image chunks
      make(2, 13, 31, 1, 32, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),  // one channel, 32 filters: by channels, a row tail
      make(1, 9, 17, 1, 45, 3, 4, 1, 1, 1, 1, 1, 1, 2, 1, 1),   // one channel, 45 filters: partial channel vectors
      make(5, 30, 29, 1, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),   // one channel, 3 filters: pixels share vectors, chunks
      make(3, 11, 40, 1, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),   // one channel, one filter: a vector of pixels
      make(2, 4, 5, 1, 3, 3, 3, 1, 1, 1, 1, 3, 2, 3, 1, 1),     // one channel, padding past the kernel: dy rows no dx pixel reads
      make(2, 9, 11, 12, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 1),  // backward-input by phases: stride 2, uneven pads
      make(1, 10, 9, 16, 8, 1, 1, 2, 3, 1, 1, 0, 0, 0, 0, 1),   // 1x1 at stride 2x3: phases no tap reaches
      make(2, 11, 10, 9, 7, 3, 2, 3, 2, 2, 1, 2, 1, 0, 1, 1),   // stride 3x2 with dilation 2
      make(2, 9, 7, 32, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),   // kernel rows of 96: backward-filter B read in place
      make(1, 10, 9, 64, 16, 3, 3, 2, 2, 2, 1, 2, 1, 1, 1, 2),  // the same with taps of 32 (groups 2), strided, dilated
      make(2, 9, 37, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),  // direct 3x3: rows of 37 in tiles of 13, 12 and 12 pixels
      make(2, 6, 13, 5, 40, 3, 3, 1, 1, 1, 1, 0, 2, 0, 1, 1),   // direct 3x3: two vectors then 8 channels; right padding only
      make(1, 5, 1, 3, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    // direct 3x3: one column, padded on both sides
      make(2, 4, 20, 7, 33, 3, 3, 1, 1, 1, 1, 3, 0, 1, 0, 1),   // direct 3x3: a row whose kernel rows are all padding
      make(2, 8, 10, 32, 32, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1),  // direct 3x3, valid: no padded column
      make(2, 6, 9, 8, 20, 3, 3, 1, 1, 1, 1, 2, 0, 1, 1, 1),    // direct 3x3 backward-input: dy padded 0 on top, 2 below
      make(2, 7, 21, 6, 24, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),   // direct 5x5: two padded columns a side, tiles of 11 and 10
      make(2, 5, 3, 5, 17, 5, 5, 1, 1, 1, 1, 4, 4, 2, 2, 1),    // direct 5x5 on 3 columns: tiles padded on both sides
      make(1, 6, 9, 4, 16, 3, 5, 1, 1, 1, 1, 0, 1, 1, 2, 1),    // direct 3 x 5, uneven padding
      make(2, 4, 12, 8, 16, 1, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1),   // direct 1 x 3
      make(1, 5, 7, 72, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),   // direct 3x3, 72 channels: backward-input 2 vectors + 8
      make(1, 4, 6, 128, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), // 576 KiB of weights (over half of a 1 MiB L2): GEMM forward, direct backward
      make(1, 3, 5, 176, 176, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), // 1089 KiB (over all of it): GEMM forward and backward-input
      make(2, 23, 25, 24, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), // Winograd forward: odd output sides, a channel tail
      make(1, 34, 33, 40, 37, 3, 3, 1, 1, 1, 1, 2, 0, 0, 2, 1), // Winograd forward and backward-input, uneven padding
      make(2, 20, 27, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 1), // Winograd backward-input only (16 -> 32)
      make(3, 55, 52, 32, 34, 5, 5, 1, 1, 1, 1, 2, 2, 1, 3, 1), // Winograd 5x5 forward and backward-input, uneven padding
      make(4, 32, 33, 32, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), // Winograd F(4x4, 3x3), all passes (scalar: F(2x2) dW)
  };
  ck_for_each_isa([&](ck_isa) {
    uint32_t seed = 1;
    for (const auto& s : configs) check(s, seed += 10);
  });
}

// A one-channel filter gradient with few filters reads the input as vectors of several pixels; a row's last
// vector, with fewer pixels, must not multiply the pixels past them by dy's zeros. Column out_w of every row is
// infinite: taps (kh, 0) never read it (output column ow reads column ow + kw), so their sums stay finite and
// equal the loops'. The taps that do read it are infinite or NaN in both. Tolerance: a float sum of at most 90
// products rounds by at most 90 x 2^-24 (5.4e-6) of their absolute sum.
CK_TEST(conv2d_one_channel_filter_gradient_masks_row_ends) {
  ck_for_each_isa([&](ck_isa isa) {
    for (const size_t k : {size_t(3), size_t(5)})
      for (const size_t oc : {size_t(1), size_t(3), size_t(6)}) {
        const ck_conv2d_info s = make(2, k + 2, 2 * k + 9, 1, oc, k, k, 1, 1, 1, 1, 0, 0, 0, 0, 1);
        std::vector<float> x = ck_random(s.batch * s.in_h * s.in_w, uint32_t(k * 10 + oc));
        const std::vector<float> dy = ck_random(s.batch * s.out_h * s.out_w * oc, uint32_t(k * 10 + oc + 1));
        for (size_t r = 0; r < s.batch * s.in_h; ++r) x[r * s.in_w + s.out_w] = INFINITY;
        std::vector<float> df(k * k * oc, NAN);
        ck_conv2d_bwd_filter(df.data(), x.data(), dy.data(), s);
        for (size_t kh = 0; kh < k; ++kh)
          for (size_t o = 0; o < oc; ++o) {
            double want = 0, scale = 0;
            for (size_t n = 0; n < s.batch; ++n)
              for (size_t oh = 0; oh < s.out_h; ++oh)
                for (size_t ow = 0; ow < s.out_w; ++ow) {
                  const double p = double(x[(n * s.in_h + oh + kh) * s.in_w + ow]) *
                                   dy[((n * s.out_h + oh) * s.out_w + ow) * oc + o];
                  want += p;
                  scale += std::fabs(p);
                }
            const float got = df[kh * k * oc + o];
            CK_CHECK(std::isfinite(got) && std::fabs(got - want) <= 1e-5 * (scale + 1),
                     std::string(ck_isa_name(isa)) + " k" + std::to_string(k) + " oc " + std::to_string(oc) +
                         ": tap (" + std::to_string(kh) + ", 0) got " + std::to_string(got) + ", want " +
                         std::to_string(want));
          }
      }
  });
}

// The Winograd forward, F(2x2, 3x3), F(4x4, 3x3) and F(2x2, 5x5), against double loops, on shapes the dispatch
// would not send it (few channels, few pixels) as well as its own: every padding from 0 to r - 1 a side, output
// sides that cut blocks, channel counts around the vector width and the narrow and wide tiles, each epilogue.
//
// Tolerance, derived: each output is A^T [sum over c of U_c (.) V_c] A with U = G g G^T (in double, rounded
// once) and V = B^T d B. With t rounding steps in each 1-D pass of the input transform and o in each of the
// output transform's (F(2x2, 3x3): t = 1, o = 2; F(4x4, 3x3): t = 3, o = 3; F(2x2, 5x5): t = 3, o = 4, counting
// 4 x, 5 x, 2 x and 8 x as the kernels compute them), |got - y| <= gamma(C + 2 t + 1 + 2 o) * S, where S is the
// same expression over absolute
// values, |A^T| (sum over c of |G||g_c||G^T| (.) |B^T||d_c||B|) |A|, and gamma(n) = n u / (1 - n u), u = 2^-24;
// the epilogue adds at most three roundings of |scale y| + |bias| + |residual|, and elu's kernel its own 4 ulps.
struct WinogradMatrices {
  size_t m, r, a, t, o;
  std::vector<std::vector<double>> G, BT, AT;  // absolute values
};

WinogradMatrices winograd_matrices(size_t r, size_t m = 2) {
  const std::vector<std::vector<double>> bt6 = {{4, 0, 5, 0, 1, 0}, {0, 4, 4, 1, 1, 0}, {0, 4, 4, 1, 1, 0},
                                                {0, 2, 1, 2, 1, 0}, {0, 2, 1, 2, 1, 0}, {0, 4, 0, 5, 0, 1}};
  if (r == 3 && m == 4)
    return {4, 3, 6, 3, 3,
            {{1. / 4, 0, 0}, {1. / 6, 1. / 6, 1. / 6}, {1. / 6, 1. / 6, 1. / 6}, {1. / 24, 1. / 12, 1. / 6},
             {1. / 24, 1. / 12, 1. / 6}, {0, 0, 1}},
            bt6,
            {{1, 1, 1, 1, 1, 0}, {0, 1, 1, 2, 2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, 1, 8, 8, 1}}};
  if (r == 3)
    return {2, 3, 4, 1, 2,
            {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}, {0, 0, 1}},
            {{1, 0, 1, 0}, {0, 1, 1, 0}, {0, 1, 1, 0}, {0, 1, 0, 1}},
            {{1, 1, 1, 0}, {0, 1, 1, 1}}};
  return {2, 5, 6, 3, 4,
          {{1. / 4, 0, 0, 0, 0},
           {1. / 6, 1. / 6, 1. / 6, 1. / 6, 1. / 6},
           {1. / 6, 1. / 6, 1. / 6, 1. / 6, 1. / 6},
           {1. / 24, 1. / 12, 1. / 6, 1. / 3, 2. / 3},
           {1. / 24, 1. / 12, 1. / 6, 1. / 3, 2. / 3},
           {0, 0, 0, 0, 1}},
          bt6,
          {{1, 1, 1, 1, 1, 0}, {0, 1, 1, 2, 2, 1}}};
}

// S for every output of s (the bound above without gamma).
std::vector<double> winograd_error_scale(const ck_conv2d_info& s, const std::vector<float>& x,
                                         const std::vector<float>& f, size_t m) {
  const WinogradMatrices w = winograd_matrices(s.k_h, m);
  const size_t r = w.r, a = w.a, P = a * a;
  std::vector<double> absu(s.in_c * s.out_c * P);
  for (size_t c = 0; c < s.in_c; ++c)
    for (size_t o = 0; o < s.out_c; ++o)
      for (size_t i = 0; i < a; ++i)
        for (size_t j = 0; j < a; ++j) {
          double v = 0;
          for (size_t kh = 0; kh < r; ++kh)
            for (size_t kw = 0; kw < r; ++kw)
              v += w.G[i][kh] * w.G[j][kw] * std::fabs(f[((kh * r + kw) * s.in_c + c) * s.out_c + o]);
          absu[(c * s.out_c + o) * P + i * a + j] = v;
        }
  std::vector<double> bound(s.batch * s.out_h * s.out_w * s.out_c);
  for (size_t n = 0; n < s.batch; ++n)
    for (size_t oh = 0; oh < s.out_h; oh += m)
      for (size_t ow = 0; ow < s.out_w; ow += m) {
        std::vector<double> absm(P * s.out_c, 0.0), d(P), absv(P);
        for (size_t c = 0; c < s.in_c; ++c) {
          for (size_t i = 0; i < a; ++i)
            for (size_t j = 0; j < a; ++j) {
              const long ih = long(oh + i) - long(s.pad_top), iw = long(ow + j) - long(s.pad_left);
              const bool in = ih >= 0 && iw >= 0 && ih < long(s.in_h) && iw < long(s.in_w);
              d[i * a + j] = in ? std::fabs(x[((n * s.in_h + size_t(ih)) * s.in_w + size_t(iw)) * s.in_c + c]) : 0.0;
            }
          for (size_t i = 0; i < a; ++i)
            for (size_t j = 0; j < a; ++j) {
              double v = 0;
              for (size_t k = 0; k < a; ++k)
                for (size_t l = 0; l < a; ++l) v += w.BT[i][k] * w.BT[j][l] * d[k * a + l];
              absv[i * a + j] = v;
            }
          for (size_t o = 0; o < s.out_c; ++o)
            for (size_t e = 0; e < P; ++e) absm[e * s.out_c + o] += absu[(c * s.out_c + o) * P + e] * absv[e];
        }
        for (size_t i = 0; i < m && oh + i < s.out_h; ++i)
          for (size_t j = 0; j < m && ow + j < s.out_w; ++j)
            for (size_t o = 0; o < s.out_c; ++o) {
              double v = 0;
              for (size_t k = 0; k < a; ++k)
                for (size_t l = 0; l < a; ++l) v += w.AT[i][k] * w.AT[j][l] * absm[(k * a + l) * s.out_c + o];
              bound[((n * s.out_h + oh + i) * s.out_w + ow + j) * s.out_c + o] = v;
            }
      }
  return bound;
}

CK_TEST(conv2d_winograd_against_loops) {
  const ck_conv2d_info configs[] = {
      make(1, 5, 6, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),     // few channels: one partial vector, the narrow tile
      make(2, 8, 8, 16, 16, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1),   // valid, whole vectors
      make(1, 7, 9, 17, 33, 3, 3, 1, 1, 1, 1, 2, 1, 0, 2, 1),   // uneven padding, a one-column last panel
      make(2, 4, 3, 33, 15, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 1),   // padding 2 on every side: blocks of zeros only
      make(3, 13, 11, 64, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), // several tasks, the last one short
      make(1, 1, 1, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),     // a one-pixel output: three of a block's four cut off
      make(2, 9, 8, 5, 12, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),    // 5x5, 'same'
      make(1, 11, 10, 33, 40, 5, 5, 1, 1, 1, 1, 0, 4, 3, 1, 1), // 5x5, uneven padding up to 4, a channel tail
      make(2, 6, 7, 16, 17, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1),   // 5x5, valid: a 2x3 output
      make(3, 30, 29, 16, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), // narrow product: 112-block tasks, partial vectors
      make(2, 9, 10, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    // the narrow product with one channel each way
  };
  const double u = std::ldexp(1.0, -24);
  ck_for_each_isa([&](ck_isa) {
    uint32_t seed = 900;
    for (const auto& s : configs)
      for (const size_t m : {size_t(2), size_t(4)}) {
        if (m == 4 && s.k_h != 3) continue;
        const WinogradMatrices w = winograd_matrices(s.k_h, m);
        const std::vector<float> x = ck_random(s.batch * s.in_h * s.in_w * s.in_c, seed++);
        const std::vector<float> f = ck_random(s.k_h * s.k_w * s.in_c * s.out_c, seed++);
        const std::vector<float> bias = ck_random(s.out_c, seed++), col_scale = ck_random(s.out_c, seed++);
        const size_t ny = s.batch * s.out_h * s.out_w * s.out_c;
        const std::vector<float> residual = ck_random(ny, seed++);
        const Naive want = naive(s, x, f, std::vector<float>(ny, 0.0f));
        const std::vector<double> bound = winograd_error_scale(s, x, f, m);
        const double steps = double(s.in_c + 2 * w.t + 1 + 2 * w.o), gamma = steps * u / (1 - steps * u);
        const ck_act acts[] = {CK_ACT_RELU, CK_ACT_ELU, CK_ACT_LINEAR};
        for (const ck_act act : acts) {
          const bool affine = act != CK_ACT_LINEAR;
          const ck_epilogue ep{bias.data(), act, 1.0f, affine ? col_scale.data() : nullptr,
                               affine ? residual.data() : nullptr};
          const auto run = [&] {
            const ck_dispatch& d = ck_kernels();
            std::vector<float> y(ny, NAN), u_f(ck_winograd_filter_size(d, s, m));
            ck_winograd_transform_filter(d, u_f.data(), f.data(), s, m);
            ck_winograd_fwd(d, y.data(), x.data(), u_f.data(), s, m, &ep);
            return y;
          };
          std::vector<double> y_want(ny), scale(ny);
          for (size_t i = 0; i < ny; ++i) {
            const double cs = affine ? col_scale[i % s.out_c] : 1.0, r = affine ? residual[i] : 0.0;
            const double v = want.y[i] * cs + bias[i % s.out_c] + r;
            y_want[i] = ck_activate(v, act, 1.0);
            scale[i] = gamma * bound[i] * std::fabs(cs) +
                       3 * u * (std::fabs(want.y[i] * cs) + std::fabs(bias[i % s.out_c]) + std::fabs(r)) +
                       4 * u * std::fabs(y_want[i]);
          }
          const std::vector<float> y = run();
          const long bad = ck_first_mismatch(y, y_want, 0.0, 1.0, scale);
          const std::string which = " Winograd F(" + std::to_string(m) + "x" + std::to_string(m) + ")";
          CK_CHECK(bad < 0, name(s) + which + " (" + std::to_string(int(act)) + "): " +
                                ck_describe_mismatch(y, y_want, bad));
          CK_CHECK(ck_same_for_thread_counts(run), name(s) + which + ": 1 and 2 threads differ");
          const ck_dispatch& d = ck_kernels();
          if (d.winograd_product != nullptr) {  // the product microkernel sums as the GEMM tiles do
            ck_dispatch tiles = d;
            tiles.winograd_product = nullptr;
            std::vector<float> y_tiles(ny, NAN), u_f(ck_winograd_filter_size(d, s, m));
            ck_winograd_transform_filter(d, u_f.data(), f.data(), s, m);
            ck_winograd_fwd(tiles, y_tiles.data(), x.data(), u_f.data(), s, m, &ep);
            CK_CHECK(std::memcmp(y.data(), y_tiles.data(), ny * sizeof(float)) == 0,
                     name(s) + which + ": the product microkernel and the GEMM tiles differ");
          }
        }
      }
  });
}

// The Winograd filter gradient, by F(2x2, r x r) and F(4x4, 3x3), against double loops: every padding from 0 to
// r - 1 a side, output sides that cut blocks, channel tails in the tile's rows (output channels) and columns
// (input channels), several runs of blocks per chunk and several chunks.
//
// Tolerance, derived: each value is G^T [sum over blocks of Z (.) V] G, Z = A dy A^T (z rounding steps per 1-D
// pass: 1 for F(2x2, r x r), 2 for F(4x4, 3x3)) and V = B^T d B (t per pass), summed in float by a tree of depth
// at most `blocks`, then transformed in double and rounded once. So |got - dg| <= gamma(blocks + 2 t + 2 z + 1) *
// S, where S is the same expression over absolute values, |G^T| (sum over blocks of |A||dy||A^T| (.) |B^T||d||B|)
// |G|.
std::vector<double> winograd_gradient_error_scale(const ck_conv2d_info& s, const std::vector<float>& x,
                                                  const std::vector<float>& dy, size_t m) {
  const WinogradMatrices w = winograd_matrices(s.k_h, m);
  const size_t r = w.r, a = w.a, P = a * a, C = s.in_c, OC = s.out_c;
  std::vector<double> absm(P * C * OC, 0.0), d(P * C), z(P * OC);
  for (size_t n = 0; n < s.batch; ++n)
    for (size_t oh = 0; oh < s.out_h; oh += m)
      for (size_t ow = 0; ow < s.out_w; ow += m) {
        for (size_t c = 0; c < C; ++c)
          for (size_t i = 0; i < a; ++i)
            for (size_t j = 0; j < a; ++j) {
              double v = 0;
              for (size_t k = 0; k < a; ++k)
                for (size_t l = 0; l < a; ++l) {
                  const long ih = long(oh + k) - long(s.pad_top), iw = long(ow + l) - long(s.pad_left);
                  if (ih >= 0 && iw >= 0 && ih < long(s.in_h) && iw < long(s.in_w))
                    v += w.BT[i][k] * w.BT[j][l] *
                         std::fabs(x[((n * s.in_h + size_t(ih)) * s.in_w + size_t(iw)) * C + c]);
                }
              d[(i * a + j) * C + c] = v;
            }
        for (size_t o = 0; o < OC; ++o)
          for (size_t i = 0; i < a; ++i)
            for (size_t j = 0; j < a; ++j) {
              double v = 0;  // A is AT transposed
              for (size_t k = 0; k < m && oh + k < s.out_h; ++k)
                for (size_t l = 0; l < m && ow + l < s.out_w; ++l)
                  v += w.AT[k][i] * w.AT[l][j] * std::fabs(dy[((n * s.out_h + oh + k) * s.out_w + ow + l) * OC + o]);
              z[(i * a + j) * OC + o] = v;
            }
        for (size_t e = 0; e < P; ++e)
          for (size_t c = 0; c < C; ++c)
            for (size_t o = 0; o < OC; ++o) absm[(e * C + c) * OC + o] += d[e * C + c] * z[e * OC + o];
      }
  std::vector<double> bound(r * r * C * OC, 0.0);
  for (size_t kh = 0; kh < r; ++kh)
    for (size_t kw = 0; kw < r; ++kw)
      for (size_t i = 0; i < a; ++i)
        for (size_t j = 0; j < a; ++j)
          for (size_t co = 0; co < C * OC; ++co)
            bound[(kh * r + kw) * C * OC + co] += w.G[i][kh] * w.G[j][kw] * absm[(i * a + j) * C * OC + co];
  return bound;
}

CK_TEST(conv2d_winograd_filter_gradient_against_loops) {
  const ck_conv2d_info configs[] = {
      make(1, 5, 6, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),      // few channels: one partial row and column panel
      make(2, 8, 8, 16, 16, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1),    // valid, whole vectors
      make(1, 7, 9, 17, 33, 3, 3, 1, 1, 1, 1, 2, 1, 0, 2, 1),    // uneven padding, odd output sides
      make(2, 4, 3, 33, 15, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 1),    // padding 2 on every side: blocks of zeros only
      make(3, 26, 25, 40, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),  // 8 chunks of 64 blocks
      make(2, 64, 66, 8, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    // 16 chunks of 132 blocks
      make(1, 1, 1, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),      // a one-pixel output
      make(1, 2, 4, 8, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),     // one or two chunks: tasks split the row panels
      make(2, 9, 8, 5, 12, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),     // 5x5, 'same'
      make(1, 11, 10, 33, 40, 5, 5, 1, 1, 1, 1, 0, 4, 3, 1, 1),  // 5x5, uneven padding up to 4, a channel tail
      make(4, 14, 14, 32, 64, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),  // 5x5, the Fashion layer's shape
      make(3, 22, 22, 64, 70, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),  // 5x5, two runs of blocks a chunk within a 1 MiB L2
  };
  const double u = std::ldexp(1.0, -24);
  ck_for_each_isa([&](ck_isa) {
    uint32_t seed = 1900;
    for (const auto& s : configs)
      for (const size_t m : {size_t(2), size_t(4)}) {
        if (m == 4 && s.k_h != 3) continue;
        const WinogradMatrices w = winograd_matrices(s.k_h, m);
        const std::vector<float> x = ck_random(s.batch * s.in_h * s.in_w * s.in_c, seed++);
        const std::vector<float> dy = ck_random(s.batch * s.out_h * s.out_w * s.out_c, seed++);
        const std::vector<float> f(s.k_h * s.k_w * s.in_c * s.out_c, 0.0f);
        const Naive want = naive(s, x, f, dy);
        const std::vector<double> bound = winograd_gradient_error_scale(s, x, dy, m);
        const size_t blocks = s.batch * ((s.out_h + m - 1) / m) * ((s.out_w + m - 1) / m), z = m == 4 ? 2 : 1;
        const double steps = double(blocks + 2 * w.t + 2 * z + 1), gamma = steps * u / (1 - steps * u);
        std::vector<double> scale(bound.size());
        for (size_t i = 0; i < bound.size(); ++i) scale[i] = gamma * bound[i];
        const auto run = [&] {
          std::vector<float> df(f.size(), NAN);
          ck_winograd_bwd_filter(ck_kernels(), df.data(), x.data(), dy.data(), s, m);
          return df;
        };
        const std::vector<float> df = run();
        const long bad = ck_first_mismatch(df, want.dfilter, 0.0, 1.0, scale);
        const std::string which = " Winograd F(" + std::to_string(m) + "x" + std::to_string(m) + ") filter gradient";
        CK_CHECK(bad < 0, name(s) + which + ": " + ck_describe_mismatch(df, want.dfilter, bad));
        CK_CHECK(ck_same_for_thread_counts(run), name(s) + which + ": 1 and 2 threads differ");
      }
  });
}

// The fused convolution + max pooling against the two ops in turn: the same bits (both compute the same sums in
// the same order), with fewer images than the fused path wants (the ops in turn) and with more (a few images per
// task, pooled from scratch), and the same for 1 and 2 threads.
CK_TEST(conv2d_maxpool_fused) {
  struct Case {
    ck_conv2d_info conv;
    size_t pool, stride, pad;
  };
  const std::vector<Case> cases = {
      {make(9, 12, 11, 3, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), 2, 2, 0},  // GEMM path, odd width
      {make(10, 13, 13, 1, 6, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1), 2, 2, 0},  // one input channel (direct kernel)
      {make(9, 9, 10, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8), 3, 2, 1},    // depthwise, strided; padded 3x3 pool
      {make(3, 8, 8, 4, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1), 2, 1, 0},     // few images: the ops in turn
      {make(9, 12, 11, 24, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), 2, 2, 0}, // Winograd for the batch, per task
      {make(9, 24, 26, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), 2, 2, 0}, // the same by F(4x4, 3x3)
  };
  ck_for_each_isa([&](ck_isa) {
    uint32_t seed = 500;
    for (const Case& c : cases) {
      const ck_conv2d_info& s = c.conv;
      ck_pool2d_info p{};
      p.batch = s.batch, p.in_h = s.out_h, p.in_w = s.out_w, p.channels = s.out_c;
      p.pool_h = p.pool_w = c.pool, p.stride_h = p.stride_w = c.stride;
      p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = c.pad;
      p.out_h = (s.out_h + 2 * c.pad - c.pool) / c.stride + 1, p.out_w = (s.out_w + 2 * c.pad - c.pool) / c.stride + 1;
      const std::vector<float> x = ck_random(s.batch * s.in_h * s.in_w * s.in_c, seed++);
      const std::vector<float> f = ck_random(s.k_h * s.k_w * (s.in_c / s.groups) * s.out_c, seed++);
      const std::vector<float> bias = ck_random(s.out_c, seed++);
      const ck_epilogue ep{bias.data(), CK_ACT_RELU, 0};
      std::vector<float> mid(s.batch * s.out_h * s.out_w * s.out_c), want(p.batch * p.out_h * p.out_w * p.channels);
      ck_conv2d_fwd(mid.data(), x.data(), f.data(), s, &ep);
      ck_maxpool2d_fwd(want.data(), mid.data(), p);
      const auto fused = [&] {
        std::vector<float> y(want.size(), NAN);
        ck_conv2d_maxpool_fwd(y.data(), x.data(), f.data(), s, &ep, p);
        return y;
      };
      const std::vector<float> got = fused();
      CK_CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0,
               name(s) + ": fused convolution + max pooling differs from the two ops");
      CK_CHECK(ck_same_for_thread_counts(fused), name(s) + " fused with pooling: 1 and 2 threads differ");
      const ck_weights_form form = ck_conv2d_weights_form(s);
      if (form.kind != CK_WEIGHTS_NONE) {
        std::vector<float> prepared(form.length, NAN), y(want.size(), NAN);
        ck_conv2d_prepare_weights(form, prepared.data(), f.data(), s);
        const ck_prepared_weights w{form, prepared.data()};
        ck_conv2d_maxpool_fwd(y.data(), x.data(), f.data(), s, &ep, p, nullptr, &w);
        CK_CHECK(std::memcmp(y.data(), want.data(), want.size() * sizeof(float)) == 0,
                 name(s) + ": fused convolution + max pooling with the filter prepared differs");
      }
      // keeping the convolution's output (training): both outputs the two ops' bits
      std::vector<float> y(want.size(), NAN), conv_y(mid.size(), NAN);
      ck_conv2d_maxpool_fwd(y.data(), x.data(), f.data(), s, &ep, p, conv_y.data());
      CK_CHECK(std::memcmp(y.data(), want.data(), want.size() * sizeof(float)) == 0 &&
                   std::memcmp(conv_y.data(), mid.data(), mid.size() * sizeof(float)) == 0,
               name(s) + ": fused convolution + max pooling keeping the convolution's output differs from the two ops");
    }
  });
}
