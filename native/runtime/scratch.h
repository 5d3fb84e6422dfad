// Per-thread scratch buffers (packed GEMM panels, im2col tiles), kept between calls so steady-state
// operators do not allocate. 64-byte aligned. Distinct slots may be live at once; one slot is one buffer.
#pragma once

#include <cstddef>

enum ck_scratch_slot {
  CK_SCRATCH_PACK_A = 0,
  CK_SCRATCH_PACK_B,
  CK_SCRATCH_IM2COL,
  CK_SCRATCH_ROW,
  CK_SCRATCH_A_ROWS,  // igemm row pointers (count them in floats: two per pointer)
  CK_SCRATCH_FILTER,  // a call's buffer shared by its tasks: a reordered filter, partial sums, a transposed product
  CK_SCRATCH_OUTPUT,  // a call's output computed densely before it is scattered
  CK_SCRATCH_FUSED,   // a fused op's intermediate: a convolution's output before its pooling
  CK_SCRATCH_COUNT
};

// A buffer of at least `count` floats for this thread; contents are unspecified. Throws std::bad_alloc.
float* ck_scratch(ck_scratch_slot slot, size_t count);
