// The FMA throughput probe the benchmarks divide by: `iters` rounds of independent vector FMA chains, enough
// of them to cover FMA latency on every FMA pipe. Returns a value derived from every chain so none is dead.
// flops per call = iters * the registry's flops_per_iter.
#pragma once

#include <cstddef>

#include "convkit/isa.h"

typedef float (*ck_f32_fmaprobe_fn)(size_t iters);

// CK_FMAPROBE_UKERNEL(isa, fn, flops_per_iter)
#define CK_FMAPROBE_UKERNEL(isa, fn, flops) float fn(size_t iters);
#include "kernels/f32-fmaprobe/f32-fmaprobe.inc"
#undef CK_FMAPROBE_UKERNEL
