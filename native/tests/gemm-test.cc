// Every registered GEMM microkernel (kernels/f32-gemm/f32-gemm.inc) the CPU supports, through the blocked
// driver, against a double-precision triple loop, on shapes at and around MR, NR, KC, MC and NC.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "runtime/gemm.h"
#include "tests/harness.h"
#include "tests/util.h"

namespace {

struct Variant {
  ck_isa isa;
  const char* name;
  ck_gemm_config cfg;
};

std::vector<Variant> variants() {
  std::vector<Variant> out;
#define CK_GEMM_UKERNEL(isa, fn, ifn, bfn, mr, nr, kc, mc, nc) \
  if (ck_isa_supported(isa)) out.push_back({isa, #fn, {fn, ifn, bfn, mr, nr, kc, mc, nc}});
#define CK_GEMM_NARROW_UKERNEL CK_GEMM_UKERNEL
#include "kernels/f32-gemm/f32-gemm.inc"
#undef CK_GEMM_NARROW_UKERNEL
#undef CK_GEMM_UKERNEL
  return out;
}

struct Shape {
  size_t m, n, k;
  bool ta, tb;
  bool accumulate;
  ck_act act;
  bool bias;
  size_t lda = 0;  // A's row stride; 0 for a few floats past its rows
  bool scale = false, residual = false;
};

std::string describe(const char* name, const Shape& s) {
  return std::string(name) + " m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k) +
         " ta=" + std::to_string(s.ta) + " tb=" + std::to_string(s.tb) + " acc=" + std::to_string(s.accumulate) +
         " act=" + std::to_string(s.act) + " bias=" + std::to_string(s.bias) + " lda=" + std::to_string(s.lda) +
         " scale=" + std::to_string(s.scale) + " residual=" + std::to_string(s.residual);
}

// Runs one shape with padded leading dimensions (so strides are exercised) and checks it: on exactly variant v,
// or with v null on base's own tiles (the wide one and, for the shapes it takes, the narrow one).
void check_shape(const ck_dispatch& base, const Variant* v, const Shape& s, uint32_t seed) {
  ck_dispatch d = base;
  if (v != nullptr) d.gemm = d.gemm_narrow = v->cfg;
  const size_t a_rows = s.ta ? s.k : s.m, a_cols = s.ta ? s.m : s.k;
  const size_t b_rows = s.tb ? s.n : s.k, b_cols = s.tb ? s.k : s.n;
  const size_t lda = s.lda ? s.lda : a_cols + 3, ldb = b_cols + 1, ldc = s.n + 2;
  const std::vector<float> a = ck_random(a_rows * lda, seed), b = ck_random(b_rows * ldb, seed + 1);
  const std::vector<float> bias = ck_random(s.n, seed + 2);
  const std::vector<float> c0 = ck_random(s.m * ldc, seed + 3);
  const std::vector<float> col_scale = ck_random(s.n, seed + 4), residual = ck_random(s.m * ldc, seed + 5);
  const float alpha = 0.3f;
  std::vector<double> want(c0.begin(), c0.end()), scale(c0.size(), 1.0);
  for (size_t i = 0; i < s.m; ++i)
    for (size_t j = 0; j < s.n; ++j) {
      double acc = 0, mag = 0;
      for (size_t p = 0; p < s.k; ++p) {
        const double x = a[s.ta ? p * lda + i : i * lda + p], y = b[s.tb ? j * ldb + p : p * ldb + j];
        acc += x * y;
        mag += std::fabs(x * y);
      }
      double& w = want[i * ldc + j];
      const double sc = s.scale ? col_scale[j] : 1.0;
      w = s.accumulate ? w + acc
                       : ck_activate(acc * sc + (s.bias ? bias[j] : 0.0) + (s.residual ? residual[i * ldc + j] : 0.0), s.act, alpha);
      // the sum's rounding carried through the activation: its slope is at most 2 but for exp, whose slope is y
      scale[i * ldc + j] = (mag * std::fabs(sc) + 1) * (s.act == CK_ACT_EXPONENTIAL && !s.accumulate ? std::max(1.0, std::fabs(w)) : 1.0);
    }
  const ck_epilogue ep{s.bias ? bias.data() : nullptr, s.act, alpha, s.scale ? col_scale.data() : nullptr,
                       s.residual ? residual.data() : nullptr};
  const bool fused = !s.accumulate && (s.bias || s.act != CK_ACT_LINEAR || s.scale || s.residual);
  const ck_gemm_args g{nullptr, ldc, a.data(), lda, s.ta, b.data(), ldb, s.tb, s.m, s.n, s.k, s.accumulate,
                       fused ? &ep : nullptr};
  // B as prepared weights (whole-k micropanels of the tile the product takes), where it is not transposed
  std::vector<float> panels;
  const size_t nr = v != nullptr ? v->cfg.nr : ck_gemm_b_panels_nr(d, s.n);
  if (!s.tb) {
    panels.resize((s.n + nr - 1) / nr * nr * s.k);
    ck_gemm_pack_b_panels(panels.data(), b.data(), ldb, s.k, s.n, nr);
  }
  const auto run_with = [&](bool prepared) {
    std::vector<float> c = c0;
    ck_gemm_args gg = g;
    gg.c = c.data();
    if (prepared) gg.b_panels = panels.data(), gg.b_panels_nr = nr;
    ck_gemm_parallel(d, gg);
    return c;
  };
  const auto run = [&] { return run_with(false); };
  const std::vector<float> got = run();
  // Sums are float32 in blocks of KC: allow a few ulps of the absolute-product sum.
  const long bad = ck_first_mismatch(got, want, 1e-6, 1e-5 * std::sqrt(double(s.k) + 1), scale);
  const std::string what = describe(v ? v->name : ck_isa_name(d.isa), s);
  CK_CHECK(bad < 0, what + ": " + ck_describe_mismatch(got, want, bad));
  CK_CHECK(ck_same_for_thread_counts(run), what + ": 1 and 2 threads differ");
  if (!s.tb) {
    // the same k blocks and microkernel calls: the same bits
    const std::vector<float> prepared = run_with(true);
    CK_CHECK(std::memcmp(prepared.data(), got.data(), got.size() * sizeof(float)) == 0 &&
                 ck_same_for_thread_counts([&] { return run_with(true); }),
             what + ": prepared B panels give other values");
  }
}

}  // namespace

CK_TEST(gemm_micro_tile_edges) {
  for (const Variant& v : variants()) {
    const ck_dispatch& base = ck_kernels_for(v.isa);
    const size_t MR = v.cfg.mr, NR = v.cfg.nr, KC = v.cfg.kc;
    uint32_t seed = 1;
    // MR + 3 and MR + 7 end in the short 4- and 8-row tiles of a taller MR.
    for (size_t m : {size_t(1), MR - 1, MR, MR + 1, MR + 3, MR + 7, 2 * MR + 1})
      for (size_t n : {size_t(1), NR - 1, NR, NR + 1, 2 * NR + 3})
        for (size_t k : {size_t(0), size_t(1), size_t(7), KC, KC + 1})
          check_shape(base, &v, {m, n, k, false, false, false, CK_ACT_LINEAR, false}, seed++);
  }
}

CK_TEST(gemm_transposes_accumulate_epilogues) {
  for (const Variant& v : variants()) {
    const ck_dispatch& base = ck_kernels_for(v.isa);
    const size_t MR = v.cfg.mr, NR = v.cfg.nr;
    uint32_t seed = 100;
    for (int t = 0; t < 4; ++t)
      for (int acc = 0; acc < 2; ++acc)
        check_shape(base, &v, {2 * MR + 3, NR + 5, 33, bool(t & 1), bool(t & 2), bool(acc), CK_ACT_LINEAR, false},
                    seed++);
    // Fewer rows than MR take the GEMV path: transposed A, every epilogue, column chunks over threads.
    for (int act = CK_ACT_LINEAR; act < CK_ACT_COUNT; ++act)
      check_shape(base, &v, {MR - 1, 150, 2000, act % 2 == 1, false, false, ck_act(act), act > 2}, seed++);
    for (int act = CK_ACT_LINEAR; act < CK_ACT_COUNT; ++act)
      for (int bias = 0; bias < 2; ++bias)
        check_shape(base, &v, {MR + 2, 2 * NR + 1, 20, false, true, false, ck_act(act), bool(bias)}, seed++);
    // scale and residual (a folded batch normalization, a residual add): in the microkernels' store, after
    // the last of several k blocks, and on the GEMV path's rows; with activations applied in and after them
    for (int act = CK_ACT_LINEAR; act < CK_ACT_COUNT; ++act)
      for (int form = 1; form < 4; ++form) {
        const bool sc = form & 1, res = form & 2;
        check_shape(base, &v, {2 * MR + 1, NR + 3, 2 * v.cfg.kc + 3, false, false, false, ck_act(act), act % 2 == 0, 0, sc, res}, seed++);
        check_shape(base, &v, {MR - 1, 70, 40, false, false, false, ck_act(act), act % 2 == 1, 0, sc, res}, seed++);
      }
  }
}

CK_TEST(gemm_cache_block_edges) {
  for (const Variant& v : variants()) {
    const ck_dispatch& base = ck_kernels_for(v.isa);
    const size_t MR = v.cfg.mr, NR = v.cfg.nr, KC = v.cfg.kc, MC = v.cfg.mc, NC = v.cfg.nc;
    // Several KC and MC blocks with ragged ends, bias + relu on the last KC block only.
    check_shape(base, &v, {MC + MR + 1, 2 * NR + 3, 2 * KC + 5, false, false, false, CK_ACT_RELU, true}, 7);
    check_shape(base, &v, {MC - 1, NR, KC - 1, true, false, false, CK_ACT_LINEAR, false}, 8);
    // B small enough to stay packed (resident), with its own k blocks of up to 1024: K past two of them.
    check_shape(base, &v, {4 * MR + 5, NR + 3, 2100, false, false, false, CK_ACT_RELU, true}, 15);
    // Past NC, thin in M and K.
    check_shape(base, &v, {MR + 1, NC + NR + 1, 3, false, true, false, CK_ACT_LEAKY_RELU, true}, 9);
    check_shape(base, &v, {2, NC - 1, KC + 1, false, false, true, CK_ACT_LINEAR, false}, 10);
    // Big enough for the threaded driver: past NC with a shared packed B, and few rows (column chunks).
    check_shape(base, &v, {64, NC + NR + 1, 20, false, true, false, CK_ACT_SIGMOID, true}, 11);
    check_shape(base, &v, {2 * MR + 1, 300, 2 * KC + 7, true, false, false, CK_ACT_LINEAR, true}, 12);
    // Few rows on 2 threads read B in place but for a last, partial panel (A transposed, so packed): scale,
    // residual and relu after the last of several k blocks, the second thread's columns ending in that panel.
    check_shape(base, &v, {MR + 3, 5 * NR + 9, 2 * KC + 9, true, false, false, CK_ACT_RELU, true, 0, true, true}, 16);
    // 9 to 16 panels: A read in place where the AVX-512 FMA is full width, packed elsewhere.
    check_shape(base, &v, {3 * MR + 5, 12 * NR + 5, KC + 3, false, false, false, CK_ACT_RELU, true}, 17);
    // Few rows against a large transposed B: computed as C^T = B . A^T, then transposed.
    check_shape(base, &v, {MR + 3, 1000, 300, false, true, false, CK_ACT_LINEAR, false}, 13);
    check_shape(base, &v, {2 * NR + 1, 700, 400, true, true, false, CK_ACT_LINEAR, false}, 14);
  }
}

CK_TEST(gemm_long_k_blocks) {
  for (const Variant& v : variants()) {
    ck_dispatch base = ck_kernels_for(v.isa);
    base.gemm = v.cfg;
    uint32_t seed = 200;
    // ck_gemm's blocking for depth >= 1024: one k block of 1024, then three of 683 with a ragged MC.
    CK_CHECK(ck_gemm_long_k(base, v.cfg.mc, 4096).gemm.kc == v.cfg.kc, std::string(v.name) + ": few rows keep KC");
    for (size_t k : {size_t(1024), size_t(2049)}) {
      Variant lv = v;
      lv.cfg = ck_gemm_long_k(base, v.cfg.mc + 1, k).gemm;
      CK_CHECK(lv.cfg.kc == 1024 && lv.cfg.mc <= v.cfg.mc && lv.cfg.mc % lv.cfg.mr == 0, describe(lv.name, {0, 0, k}));
      check_shape(base, &lv, {lv.cfg.mc + lv.cfg.mr + 1, 2 * v.cfg.nr + 3, k, false, false, false, CK_ACT_RELU, true},
                  seed++);
      check_shape(base, &lv, {2 * lv.cfg.mc + 3, v.cfg.nr + 1, k, true, true, true, CK_ACT_LINEAR, false}, seed++);
    }
  }
}

CK_TEST(gemm_aliased_rows) {
  // Rows 4 KiB apart (lda 1024) with up to 8 narrow panels of columns: the narrow tile reads them in place
  // where the wide one would pack them; past that, the wide tile packs them. Through each ISA's own tiles.
  for (ck_isa isa : ck_supported_isas()) {
    const ck_dispatch& base = ck_kernels_for(isa);
    uint32_t seed = 300;
    for (size_t n : {base.gemm_narrow.nr + 1, 8 * base.gemm_narrow.nr, 8 * base.gemm_narrow.nr + 1})
      for (size_t m : {size_t(9), size_t(3 * base.gemm.mr + 5), size_t(300)})
        check_shape(base, nullptr, {m, n, 700, false, false, false, CK_ACT_RELU, true, 1024}, seed++);
  }
}

// A whole tile stores through its own epilogue path (ck_gemm_tile::store_full); a tile one row or one column
// short takes the general one. Every combination of accumulation, scale and bias, residual and an activation
// the microkernels apply, with a NaN, an infinity and a -0 among the values: the shared rows and columns must
// have the same bits. Through the packed and the indirect-A microkernels of every variant.
CK_TEST(gemm_whole_tile_store_matches_edge_store) {
  for (const Variant& v : variants()) {
    const size_t MR = v.cfg.mr, NR = v.cfg.nr, k = 5, ldc = NR + 1;
    std::vector<float> a = ck_random(MR * k, 500), b = ck_random(k * NR, 501);
    a[0] = NAN;               // row 0 is NaN in every column
    a[1 * k + 1] = INFINITY;  // row 1 infinite or NaN
    std::vector<float> packed(MR * k);
    for (size_t i = 0; i < MR; ++i)
      for (size_t p = 0; p < k; ++p) packed[p * MR + i] = a[i * k + p];
    std::vector<const float*> rows(MR);
    for (size_t i = 0; i < MR; ++i) rows[i] = a.data() + i * k;
    const std::vector<float> c0 = ck_random(MR * ldc, 502), residual = ck_random(MR * ldc, 503);
    std::vector<float> bias = ck_random(NR, 504), scale = ck_random(NR, 505);
    bias[1] = -0.0f;  // with a scale of -1 and a product of 0: -0
    scale[1] = -1.0f;
    for (int acc = 0; acc < 2; ++acc)
      for (int affine = 0; affine < 4; ++affine)  // none, bias, scale and bias, scale
        for (int res = 0; res < 2; ++res)
          for (const ck_act act : {CK_ACT_LINEAR, CK_ACT_RELU, CK_ACT_RELU6, CK_ACT_LEAKY_RELU})
            for (int indirect = 0; indirect < 2; ++indirect) {
              std::vector<float> full = c0, short_col = c0, short_row = c0;
              const auto run = [&](std::vector<float>& c, size_t mr, size_t nr) {
                ck_gemm_params p{affine % 2 == 1 || affine == 2 ? bias.data() : nullptr, act, 0.3f, acc == 1};
                p.scale = affine >= 2 ? scale.data() : nullptr;
                p.residual = res ? residual.data() : nullptr;
                p.output = c.data();
                if (indirect)
                  v.cfg.igemm(mr, nr, k, 1, rows.data(), b.data(), c.data(), ldc, &p);
                else
                  v.cfg.ukernel(mr, nr, k, packed.data(), b.data(), c.data(), ldc, &p);
              };
              run(full, MR, NR);
              run(short_col, MR, NR - 1);
              run(short_row, MR - 1, NR);
              bool same = true;
              for (size_t i = 0; i < MR; ++i)
                for (size_t j = 0; j < NR; ++j) {
                  const float f = full[i * ldc + j];
                  if (j + 1 < NR) same = same && std::memcmp(&f, &short_col[i * ldc + j], sizeof f) == 0;
                  if (i + 1 < MR) same = same && std::memcmp(&f, &short_row[i * ldc + j], sizeof f) == 0;
                }
              CK_CHECK(same, std::string(v.name) + (indirect ? " igemm" : " gemm") + " acc=" + std::to_string(acc) +
                                 " affine=" + std::to_string(affine) + " residual=" + std::to_string(res) +
                                 " act=" + std::to_string(int(act)) + ": a whole tile and an edge tile differ");
            }
  }
}

// Every supported ISA's A-packing kernel against its definition, bit for bit: panel heights of every tile and
// past one vector, panels short of rows, k around the 8- and 16-value steps. Nothing is written past the
// panel, and the last row ends where its buffer does.
CK_TEST(packa_matches_its_definition) {
  const float kUntouched = 12345.0f;
  uint32_t seed = 700;
  for (int i = 0; i < CK_ISA_COUNT; ++i) {
    const ck_isa isa = static_cast<ck_isa>(i);
    if (!ck_isa_supported(isa)) continue;
    const ck_f32_packa_fn packa = ck_kernels_for(isa).packa;
    for (const size_t MR : {1, 4, 6, 8, 12, 14, 16, 17, 32})
      for (const size_t mr : {size_t(1), MR / 2 + 1, MR})
        for (const size_t kc : {1, 7, 8, 9, 15, 16, 17, 40, 384}) {
          const size_t lda = kc + 5;
          std::vector<float> a = ck_random((mr - 1) * lda + kc, ++seed);
          a[0] = NAN;
          a.back() = -0.0f;
          const float* rows[32];
          for (size_t r = 0; r < mr; ++r) rows[r] = a.data() + r * lda;
          std::vector<float> got(MR * kc + 16, kUntouched);
          packa(mr, MR, kc, rows, got.data());
          const std::string where = std::string(ck_isa_name(isa)) + " MR=" + std::to_string(MR) +
                                    " mr=" + std::to_string(mr) + " kc=" + std::to_string(kc);
          for (size_t k = 0; k < kc; ++k)
            for (size_t r = 0; r < MR; ++r) {
              const float want = r < mr ? rows[r][k] : 0.0f;
              CK_CHECK(std::memcmp(&got[k * MR + r], &want, sizeof(float)) == 0,
                       where + ": value " + std::to_string(k) + " of row " + std::to_string(r));
            }
          for (size_t j = MR * kc; j < got.size(); ++j)
            CK_CHECK(got[j] == kUntouched, where + ": wrote past the panel");
        }
  }
}
