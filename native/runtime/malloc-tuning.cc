#include "runtime/malloc-tuning.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <cstdint>

bool ck_tune_malloc() {
  static bool active = false;
  static std::once_flag once;
  std::call_once(once, [] {
#if defined(__GLIBC__)
    const char* env = std::getenv("CONVKIT_MALLOC_TUNING");
    if (env != nullptr && std::strcmp(env, "0") == 0) return;
    active = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1;
#endif
  });
  return active;
}

size_t ck_advise_huge_pages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p);
  if (bytes > UINTPTR_MAX - begin) return 0;
  const uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1), last = (begin + bytes) & ~(kHuge - 1);
  if (last <= first || madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE) != 0) return 0;
  return last - first;
#else
  (void)p;
  (void)bytes;
  return 0;
#endif
}
