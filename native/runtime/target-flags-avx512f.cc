#define CK_TARGET_FLAGS_FN ck_target_flags_avx512
#include "runtime/target-flags.inc"
