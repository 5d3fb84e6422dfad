// Optimizer steps: the pool splits the elements into fixed chunks, each updated by the ISA's optimizer-step
// microkernel (kernels/f32-optimizer), which also says whether every weight it wrote is finite. Elements are
// independent, so any split gives the same result.
#include <algorithm>
#include <cmath>
#include <vector>

#include "convkit/ops.h"
#include "runtime/dispatch.h"
#include "runtime/parallel.h"

namespace {

constexpr size_t kChunk = 16384;

}  // namespace

size_t ck_optimizer_step(float* w, const float* g, float* slot0, float* slot1, size_t n, const ck_optimizer_step_info& s) {
  const ck_dispatch& d = ck_kernels();
  const size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<char> finite(chunks);
  ck_parallel_for(chunks, [&](size_t t) {
    finite[t] = d.optimizer(w, g, slot0, slot1, t * kChunk, std::min(n, (t + 1) * kChunk), s);
  });
  for (size_t t = 0; t < chunks; ++t) {
    if (finite[t]) continue;
    for (size_t i = t * kChunk; i < n; ++i)
      if (!std::isfinite(w[i])) return i;
  }
  return n;
}
