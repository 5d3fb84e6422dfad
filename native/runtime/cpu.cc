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

#if CK_X86_KERNELS
const char* amd_microarchitecture(unsigned family, unsigned model) {
  if (family == 0x17) return model >= 0x30 ? "zen2" : "zen";
  if (family == 0x19) {
    const bool zen4 = (model >= 0x10 && model <= 0x1f) || (model >= 0x60 && model <= 0x7f) || (model >= 0xa0 && model <= 0xaf);
    return zen4 ? "zen4" : "zen3";
  }
  if (family == 0x1a) return "zen5";
  return "unknown";
}

// Deterministic cache parameters (AMD leaf 0x8000001D, Intel leaf 4): the data or unified cache of each level.
void cache_sizes(bool amd, ck_cpu_description& out) {
  // AMD's legacy leaves first: hypervisors that hide the topology leaf still fill them.
  if (amd && __get_cpuid_max(0x80000000u, nullptr) >= 0x80000006u) {
    unsigned a, b, c, d;
    __get_cpuid(0x80000005u, &a, &b, &c, &d);
    out.l1d_bytes = size_t(c >> 24) << 10;
    __get_cpuid(0x80000006u, &a, &b, &c, &d);
    out.l2_bytes = size_t(c >> 16) << 10;
    out.l3_bytes = size_t(d >> 18) << 19;
  }
  const unsigned leaf = amd ? 0x8000001Du : 4u;
  if ((amd ? __get_cpuid_max(0x80000000u, nullptr) : __get_cpuid_max(0, nullptr)) < leaf) return;
  for (unsigned sub = 0; sub < 16; ++sub) {
    unsigned a, b, c, d;
    __cpuid_count(leaf, sub, a, b, c, d);
    const unsigned type = a & 0x1f, level = (a >> 5) & 0x7;
    if (type == 0) break;
    if (type == 2) continue;  // instruction cache
    const size_t bytes = size_t((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * (size_t(c) + 1);
    if (level == 1) out.l1d_bytes = bytes;
    if (level == 2) out.l2_bytes = bytes;
    if (level == 3) out.l3_bytes = bytes;
  }
}

ck_cpu_description describe() {
  ck_cpu_description out{};
  out.microarchitecture = "unknown";
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return out;
  std::memcpy(out.vendor, &b, 4);
  std::memcpy(out.vendor + 4, &d, 4);
  std::memcpy(out.vendor + 8, &c, 4);
  __get_cpuid(1, &a, &b, &c, &d);
  const unsigned base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
  out.family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
  out.model = base_family == 0xf || base_family == 0x6 ? (((a >> 16) & 0xf) << 4) | base_model : base_model;
  if (__get_cpuid_max(0x80000000u, nullptr) >= 0x80000004u) {
    unsigned* words = reinterpret_cast<unsigned*>(out.model_name);
    for (unsigned i = 0; i < 3; ++i) __get_cpuid(0x80000002u + i, &words[4 * i], &words[4 * i + 1], &words[4 * i + 2], &words[4 * i + 3]);
    out.model_name[48] = '\0';
    for (size_t n = std::strlen(out.model_name); n > 0 && out.model_name[n - 1] == ' ';) out.model_name[--n] = '\0';
  }
  const bool amd = std::strcmp(out.vendor, "AuthenticAMD") == 0;
  if (amd) out.microarchitecture = amd_microarchitecture(out.family, out.model);
  if (std::strcmp(out.vendor, "GenuineIntel") == 0) out.microarchitecture = "intel";
  cache_sizes(amd, out);
  return out;
}
#else
ck_cpu_description describe() {
  ck_cpu_description out{};
  out.microarchitecture = "unknown";
  return out;
}
#endif

}  // namespace

const ck_cpu_description& ck_cpu() {
  static const ck_cpu_description c = describe();
  return c;
}

size_t ck_l2_bytes() { return ck_cpu().l2_bytes != 0 ? ck_cpu().l2_bytes : size_t(1) << 20; }

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
