/** One optimizer rule applied in place to a weight and its slots: what the optimizers run. */
import type { OptimizerRule, OptimizerStepInfo } from '../backend/types.js';
import { describe, fail } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { checkSameDtype, checkShapeEquals, checkTensor, finiteNumber, own } from '../validate.js';
import { defineOp, kernelRequest, type OpRequest } from './program.js';

const SLOT_COUNTS: Record<OptimizerRule, (s: OptimizerStepInfo) => number> = {
  sgd: (s) => (s.momentum > 0 ? 1 : 0),
  adam: () => 2,
  rmsprop: (s) => (s.momentum > 0 ? 2 : 1),
  adagrad: () => 1,
  adadelta: () => 2,
  adamax: () => 2,
  nadam: () => 2,
};

/**
 * One optimizer rule applied in place to a weight and its slots (the optimizers' step, for custom loops);
 * returns w. Both backends give the same bits for float32.
 * @throws ConvkitError when shapes, dtypes, the slot count or a hyperparameter do not fit the rule; a
 * NonFiniteError (a ConvkitError with the first bad `index`) when the update leaves a weight NaN or ±Inf,
 * unless info.checkFinite is false.
 */
export const optimizerStepOp = defineOp((w: Tensor, g: Tensor, slots: readonly Tensor[], info: OptimizerStepInfo): OpRequest => {
  const where = 'optimizerStep';
  checkTensor(where, 'w', w);
  checkTensor(where, 'g', g);
  checkSameDtype(where, w, g, ['w', 'g']);
  checkShapeEquals(where, 'g', g.shape, w.shape);
  const count = own(SLOT_COUNTS, info?.rule)?.(info);
  if (count === undefined) fail(where, `a rule, one of ${Object.keys(SLOT_COUNTS).join(', ')}`, describe(info?.rule));
  if (!Array.isArray(slots) || slots.length !== count) fail(where, `${count} slot tensors for ${info.rule}`, describe(Array.isArray(slots) ? slots.length : slots));
  slots.forEach((t, i) => {
    checkTensor(where, `slots[${i}]`, t);
    checkSameDtype(where, w, t, ['w', `slots[${i}]`]);
    checkShapeEquals(where, `slots[${i}]`, t.shape, w.shape);
  });
  for (const k of ['lr', 'scale', 'decay', 'momentum', 'beta1', 'beta2', 'rho', 'epsilon'] as const) finiteNumber(where, k, info[k]);
  const coefs = { mCoef: 0, gCoef: 0, vCoef: 0 };
  if (info.rule === 'nadam') for (const k of ['mCoef', 'gCoef', 'vCoef'] as const) coefs[k] = finiteNumber(where, k, info[k]);
  return kernelRequest('optimizerStep', [w, g, slots, { ...info, ...coefs, nesterov: !!info.nesterov, checkFinite: info.checkFinite !== false }], w);
});
