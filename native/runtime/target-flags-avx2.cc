#define CK_TARGET_FLAGS_FN ck_target_flags_avx2
#include "runtime/target-flags.inc"
