#include "kernels/f32-packa/f32-packa.h"

// A line of each row at a time, so every source line is used up at once and the stores stay within one small
// block of the panel.
void ck_f32_packa_ukernel__scalar(size_t mr, size_t MR, size_t kc, const float* const* rows, float* dst) {
  constexpr size_t kBlock = 16;
  for (size_t k0 = 0; k0 < kc; k0 += kBlock) {
    const size_t kn = kc - k0 < kBlock ? kc - k0 : kBlock;
    float* d = dst + k0 * MR;
    for (size_t r = 0; r < MR; ++r)
      for (size_t k = 0; k < kn; ++k) d[k * MR + r] = r < mr ? rows[r][k0 + k] : 0.0f;
  }
}
