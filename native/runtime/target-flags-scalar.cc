#define CK_TARGET_FLAGS_FN ck_target_flags_scalar
#include "runtime/target-flags.inc"
