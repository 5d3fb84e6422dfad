// The code-generation flags each ISA's translation units were really built with, read back from the
// compiler's predefined macros (so nativeInfo() cannot drift from the build files).
#pragma once

const char* ck_target_flags_scalar();
const char* ck_target_flags_avx2();
const char* ck_target_flags_avx512();
