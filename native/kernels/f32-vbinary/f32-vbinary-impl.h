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
