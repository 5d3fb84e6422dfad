import type { NativeAddon } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import type { OptimizerStepInfo } from '../types.js';
import { optimizerStep as referenceOptimizerStep } from '../reference/optimizer.js';
import { f32, fromNativeError } from './check.js';

/**
 * One optimizer step in place on w and its slots; returns w. Optimizer state lives in JS whatever the model's
 * backend, so float64 weights (which no native kernel takes) are updated by the reference loops.
 */
export function optimizerStep(addon: NativeAddon, w: Tensor, g: Tensor, slots: readonly Tensor[], s: OptimizerStepInfo): Tensor {
  const op = 'optimizerStep';
  if (w.dtype === 'float64') return referenceOptimizerStep(w, g, slots, s);
  const [s0, s1] = [slots[0] ? f32(op, slots[0]) : null, slots[1] ? f32(op, slots[1]) : null];
  try {
    addon.optimizerStep(s.rule, f32(op, w), f32(op, g), s0, s1, s.lr, s.scale, s.decay, s.momentum, s.nesterov, s.beta1, s.beta2, s.rho, s.epsilon, s.checkFinite !== false, s.mCoef ?? 0, s.gCoef ?? 0, s.vCoef ?? 0);
  } catch (e) {
    throw fromNativeError(e);
  }
  return w;
}

