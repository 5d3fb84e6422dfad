#include "runtime/scratch.h"

#include <cstdlib>
#include <new>

namespace {

struct Buffers {
  float* data[CK_SCRATCH_COUNT] = {};
  size_t size[CK_SCRATCH_COUNT] = {};
  ~Buffers() {
    for (float* p : data) std::free(p);
  }
};

thread_local Buffers t_buffers;

}  // namespace

float* ck_scratch(ck_scratch_slot slot, size_t count) {
  Buffers& b = t_buffers;
  if (b.size[slot] < count || b.data[slot] == nullptr) {
    const size_t bytes = ((count * sizeof(float) + 63) / 64 + 1) * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (p == nullptr) throw std::bad_alloc();
    std::free(b.data[slot]);
    b.data[slot] = static_cast<float*>(p);
    b.size[slot] = bytes / sizeof(float);
  }
  return b.data[slot];
}
