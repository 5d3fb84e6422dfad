// The elementwise binary microkernels, written once against a SIMD vocabulary; loop tails use the scalar one.
#pragma once

#include "kernels/f32-vbinary/f32-vbinary.h"
#include <cstring>

#include "simd/scalar.h"

// Internal linkage: every ISA's translation units get their own copy, so the linker can never pick an
// AVX-512-compiled copy of a shared inline function for the scalar or AVX2 path.
namespace {

template <class V, class Op>
inline void ck_f32_vbinary(size_t n, const float* a, const float* b, float* y) {
  size_t i = 0;
  for (; i + V::width <= n; i += V::width) V::store(y + i, Op::template apply<V>(V::load(a + i), V::load(b + i)));
  for (; i < n; ++i) y[i] = Op::template apply<ck_simd_scalar>(a[i], b[i]);
}

struct ck_op_add {
  template <class T>
  static typename T::reg apply(typename T::reg a, typename T::reg b) { return T::add(a, b); }
};
struct ck_op_mul {
  template <class T>
  static typename T::reg apply(typename T::reg a, typename T::reg b) {
    return T::mul(a, b);
  }
};
struct ck_op_sub {
  template <class T>
  static typename T::reg apply(typename T::reg a, typename T::reg b) { return T::sub(a, b); }
};
// The vector max and min return their second operand when one is NaN: that covers a NaN b, and select_nan a NaN a.
struct ck_op_maximum {
  template <class T>
  static typename T::reg apply(typename T::reg a, typename T::reg b) { return T::select_nan(a, a, T::max(a, b)); }
};
struct ck_op_minimum {
  template <class T>
  static typename T::reg apply(typename T::reg a, typename T::reg b) { return T::select_nan(a, a, T::min(a, b)); }
};

// The gradient of a two-way maximum (Min = false) or minimum: dy to a where a wins (ties and NaNs included), else to b.
template <class T, bool Min>
inline void ck_route_one(typename T::reg g, typename T::reg x, typename T::reg y, typename T::reg& ga, typename T::reg& gb) {
  const typename T::reg z = T::zero();
  ga = Min ? T::select_gt(x, y, z, g) : T::select_lt(x, y, z, g);
  gb = Min ? T::select_gt(x, y, g, z) : T::select_lt(x, y, g, z);
}

template <class V, bool Min>
inline void ck_f32_vroute(size_t n, const float* dy, const float* a, const float* b, float* da, float* db) {
  size_t i = 0;
  for (; i + V::width <= n; i += V::width) {
    typename V::reg ga, gb;
    ck_route_one<V, Min>(V::load(dy + i), V::load(a + i), V::load(b + i), ga, gb);
    V::store(da + i, ga);
    V::store(db + i, gb);
  }
  for (; i < n; ++i) ck_route_one<ck_simd_scalar, Min>(dy[i], a[i], b[i], da[i], db[i]);
}

struct ck_op_max {
  template <class T>
  static typename T::reg apply(typename T::reg a, typename T::reg b) { return T::max(b, a); }
};

template <class V>
inline void ck_f32_vmacc(size_t n, const float* a, const float* b, float* y) {
  size_t i = 0;
  for (; i + V::width <= n; i += V::width) V::store(y + i, V::fmadd(V::load(a + i), V::load(b + i), V::load(y + i)));
  for (; i < n; ++i) y[i] = ck_simd_scalar::fmadd(a[i], b[i], y[i]);
}

template <class V>
inline void ck_f32_vmulc(size_t n, const float* a, float c, float* y) {
  size_t i = 0;
  const typename V::reg vc = V::set1(c);
  for (; i + V::width <= n; i += V::width) V::store(y + i, V::mul(V::load(a + i), vc));
  for (; i < n; ++i) y[i] = a[i] * c;
}

template <class V>
inline void ck_f32_vargmax(size_t n, const float* x, uint32_t k, float* best, uint32_t* idx) {
  size_t i = 0;
  if constexpr (V::width > 1) {
    // idx travels through float registers as raw bits: blends move them unchanged.
    float kbits;
    std::memcpy(&kbits, &k, sizeof(kbits));
    const typename V::reg vk = V::set1(kbits);
    for (; i + V::width <= n; i += V::width) {
      const typename V::reg xv = V::load(x + i), bv = V::load(best + i);
      float* ip = reinterpret_cast<float*>(idx + i);  // the vector load/store intrinsics may alias
      V::store(ip, V::select_gt(xv, bv, vk, V::load(ip)));
      V::store(best + i, V::select_gt(xv, bv, xv, bv));
    }
  }
  for (; i < n; ++i) {
    const bool gt = x[i] > best[i];
    best[i] = gt ? x[i] : best[i];
    idx[i] = gt ? k : idx[i];
  }
}

}  // namespace

#define CK_DEFINE_VBINARY_UKERNELS(sfx, V)                                                                       \
  void ck_f32_vadd_ukernel__##sfx(size_t n, const float* a, const float* b, float* y) {                          \
    ck_f32_vbinary<V, ck_op_add>(n, a, b, y);                                                                    \
  }                                                                                                              \
  void ck_f32_vsub_ukernel__##sfx(size_t n, const float* a, const float* b, float* y) {                          \
    ck_f32_vbinary<V, ck_op_sub>(n, a, b, y);                                                                    \
  }                                                                                                              \
  void ck_f32_vmaximum_ukernel__##sfx(size_t n, const float* a, const float* b, float* y) {                      \
    ck_f32_vbinary<V, ck_op_maximum>(n, a, b, y);                                                                \
  }                                                                                                              \
  void ck_f32_vminimum_ukernel__##sfx(size_t n, const float* a, const float* b, float* y) {                      \
    ck_f32_vbinary<V, ck_op_minimum>(n, a, b, y);                                                                \
  }                                                                                                              \
  void ck_f32_vroutemax_ukernel__##sfx(size_t n, const float* dy, const float* a, const float* b, float* da,      \
                                       float* db) {                                                              \
    ck_f32_vroute<V, false>(n, dy, a, b, da, db);                                                                \
  }                                                                                                              \
  void ck_f32_vroutemin_ukernel__##sfx(size_t n, const float* dy, const float* a, const float* b, float* da,      \
                                       float* db) {                                                              \
    ck_f32_vroute<V, true>(n, dy, a, b, da, db);                                                                 \
  }                                                                                                              \
  void ck_f32_vmul_ukernel__##sfx(size_t n, const float* a, const float* b, float* y) {                          \
    ck_f32_vbinary<V, ck_op_mul>(n, a, b, y);                                                                    \
  }                                                                                                              \
  void ck_f32_vmax_ukernel__##sfx(size_t n, const float* a, const float* b, float* y) {                          \
    ck_f32_vbinary<V, ck_op_max>(n, a, b, y);                                                                    \
  }                                                                                                              \
  void ck_f32_vmacc_ukernel__##sfx(size_t n, const float* a, const float* b, float* y) {                         \
    ck_f32_vmacc<V>(n, a, b, y);                                                                                 \
  }                                                                                                              \
  void ck_f32_vmulc_ukernel__##sfx(size_t n, const float* a, float c, float* y) { ck_f32_vmulc<V>(n, a, c, y); } \
  void ck_f32_vargmax_ukernel__##sfx(size_t n, const float* x, uint32_t k, float* best, uint32_t* idx) {         \
    ck_f32_vargmax<V>(n, x, k, best, idx);                                                                       \
  }
