// Instruction-set levels, the CPU probe and the load-time kernel choice. Plain C++, no Node-API.
#pragma once

#include <cstddef>

// 1 when the build compiled the AVX2 and AVX-512 kernel libraries (x86-64 targets; the build files define
// it). The kernel registries list those variants, and the CPU probe reports those levels, only then.
#ifndef CK_X86_KERNELS
#define CK_X86_KERNELS 0
#endif

enum ck_isa : int { CK_ISA_SCALAR = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2, CK_ISA_COUNT = 3 };

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
