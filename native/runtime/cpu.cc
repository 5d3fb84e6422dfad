// CPU feature probe: CPUID says what the core implements, XGETBV says which register state the OS saves.
#include <cstdint>
#include <cstring>

#include "convkit/isa.h"

#if CK_X86_KERNELS
#include <cpuid.h>
#endif

namespace {

struct Features {
  bool avx2 = false;
  bool avx512 = false;
};

#if CK_X86_KERNELS
uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

Features probe() {
  Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;      // XMM | YMM
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;    // + opmask, ZMM_Hi256, Hi16_ZMM
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5);
  const bool f512 = b & (1u << 16), dq = b & (1u << 17), bw = b & (1u << 30), vl = b & (1u << 31);
  f.avx2 = ymm_state && avx2 && fma;
  f.avx512 = f.avx2 && zmm_state && f512 && dq && bw && vl;
  return f;
}

#else
// No x86 kernels were built: scalar only.
Features probe() { return {}; }
#endif

const Features& features() {
  static const Features f = probe();
  return f;
}

const char* const kNames[CK_ISA_COUNT] = {"scalar", "avx2", "avx512"};

}  // namespace

const char* ck_isa_name(ck_isa isa) { return isa >= 0 && isa < CK_ISA_COUNT ? kNames[isa] : "unknown"; }

bool ck_isa_parse(const char* name, ck_isa* out) {
  for (int i = 0; i < CK_ISA_COUNT; ++i) {
    if (std::strcmp(name, kNames[i]) == 0) {
      *out = static_cast<ck_isa>(i);
      return true;
    }
  }
  return false;
}

bool ck_isa_supported(ck_isa isa) {
  switch (isa) {
    case CK_ISA_SCALAR: return true;
    case CK_ISA_AVX2: return features().avx2;
    case CK_ISA_AVX512: return features().avx512;
    default: return false;
  }
}

ck_isa ck_isa_best() {
  for (int i = CK_ISA_COUNT - 1; i > 0; --i)
    if (ck_isa_supported(static_cast<ck_isa>(i))) return static_cast<ck_isa>(i);
  return CK_ISA_SCALAR;
}
