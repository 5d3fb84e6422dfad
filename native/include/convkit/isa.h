// Instruction-set levels, the CPU probe and the load-time kernel choice. Plain C++, no Node-API.
#pragma once

#include <cstddef>

// 1 when the build compiled the AVX2 and AVX-512 kernel libraries (x86-64 targets; the build files define
// it). The kernel registries list those variants, and the CPU probe reports those levels, only then.
#ifndef CK_X86_KERNELS
#define CK_X86_KERNELS 0
#endif

enum ck_isa : int { CK_ISA_SCALAR = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2, CK_ISA_COUNT = 3 };

// What CPUID says about the processor, for reports (nativeInfo, the benchmarks): zeros and empty strings where it
// says nothing (not x86-64, or a leaf the hypervisor hides).
struct ck_cpu_description {
  char vendor[13];
  char model_name[49];
  unsigned family, model;
  const char* microarchitecture;  // "zen", "zen2", "zen3", "zen4", "zen5", "intel", or "unknown"
  size_t l1d_bytes, l2_bytes, l3_bytes;  // the data caches each level has (one core's L1 and L2, one L3)
};
const ck_cpu_description& ck_cpu();
// One core's L2 for sizing blocks of work: CPUID's, or 1 MiB where it says nothing.
size_t ck_l2_bytes();
// The width of the AVX-512 FMA units: 512, or 256 where each 512-bit FMA runs as two halves (Zen 4), from a
// short probe at first call (AVX-512 against AVX2 FMA throughput on one thread); 0 without AVX-512.
unsigned ck_avx512_fma_width();

// "scalar", "avx2", "avx512".
const char* ck_isa_name(ck_isa isa);
// Parses a name as above; false for anything else.
bool ck_isa_parse(const char* name, ck_isa* out);
// True when both the CPU (CPUID) and the OS (XGETBV: XMM/YMM[/opmask/ZMM] state enabled) support it.
bool ck_isa_supported(ck_isa isa);
// The highest supported level; scalar always is.
ck_isa ck_isa_best();
// The level the dispatch table currently uses.
ck_isa ck_isa_current();
// Switches the dispatch table to `requested`, clamped to ck_isa_best(); returns the level chosen.
ck_isa ck_isa_select(ck_isa requested);

// Threads parallel_for uses (the caller counts as one). Default: CPUs available, or CONVKIT_THREADS.
size_t ck_threads();
// Clamped to [1, 256].
void ck_set_threads(size_t n);
// Whether the pool's running workers are pinned, each to a CPU of its own (false before the first parallel op).
bool ck_threads_pinned();

// FMA throughput of the current ISA's probe kernel (independent vector FMA chains) on `threads` threads
// running for about `seconds`, in GFLOP/s: the peak benchmarks compare against.
double ck_fma_peak_probe(size_t threads, double seconds);

// GB/s moved (read plus written) by copying bytes / 2 into another bytes / 2, split over `threads` threads,
// for about `seconds`: the bandwidth bound benchmarks compare memory-bound kernels against.
double ck_copy_bandwidth_probe(size_t bytes, size_t threads, double seconds);
