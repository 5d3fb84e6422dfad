#include "runtime/malloc-tuning.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

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
