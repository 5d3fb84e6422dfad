// The optimizer-step microkernel: one update rule (sgd, adam, rmsprop, adagrad, adadelta, adamax, nadam; decoupled weight
// decay and the gradient scale first) over elements [i0, i1) of w, g and the rule's slots, in place. Slots the
// rule does not use may be null. The result is the reference backend's, bit for bit, on every ISA. Returns
// whether every weight written is finite.
#pragma once

#include <cstddef>

#include "convkit/isa.h"
#include "convkit/ops.h"

typedef bool (*ck_f32_optimizer_fn)(float* w, const float* g, float* slot0, float* slot1, size_t i0, size_t i1,
                                    const ck_optimizer_step_info& info);

// CK_OPTIMIZER_UKERNEL(isa, fn)
#define CK_OPTIMIZER_UKERNEL(isa, fn)                                                 \
  bool fn(float* w, const float* g, float* slot0, float* slot1, size_t i0, size_t i1, \
          const ck_optimizer_step_info& info);
#include "kernels/f32-optimizer/f32-optimizer.inc"
#undef CK_OPTIMIZER_UKERNEL
