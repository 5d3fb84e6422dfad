// Optimizer steps: the pool splits the elements into fixed chunks, each updated by the ISA's optimizer-step
// microkernel (kernels/f32-optimizer). Elements are independent, so any split gives the same result.
#include <algorithm>

#include "convkit/ops.h"
#include "runtime/dispatch.h"
#include "runtime/parallel.h"

namespace {

constexpr size_t kChunk = 16384;

}  // namespace

void ck_optimizer_step(float* w, const float* g, float* slot0, float* slot1, size_t n, const ck_optimizer_step_info& s) {
  const ck_dispatch& d = ck_kernels();
  ck_parallel_for((n + kChunk - 1) / kChunk, [&](size_t t) {
    d.optimizer(w, g, slot0, slot1, t * kChunk, std::min(n, (t + 1) * kChunk), s);
  });
}
