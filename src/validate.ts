import { ConvkitError, describe, fail } from './errors.js';
import { Tensor, type Shape } from './tensor.js';

/** Argument checks shared by ops and layers; every message reads `<where>: expected <what> but received <got>`. */

export function checkTensor(where: string, arg: string, t: unknown, rank?: number): Tensor {
  if (!(t instanceof Tensor)) fail(where, `${arg} to be a Tensor`, describe(t));
  if (rank !== undefined && t.rank !== rank) {
    fail(where, `${arg} of rank ${rank}`, `rank ${t.rank} (shape [${t.shape.join(', ')}])`);
  }
  if (t.size === 0) fail(where, `${arg} to be non-empty`, `shape [${t.shape.join(', ')}]`);
  return t;
}

export function checkSameDtype(where: string, a: Tensor, b: Tensor, names: [string, string]): void {
  if (a.dtype !== b.dtype) fail(where, `${names[1]} of dtype ${a.dtype} (as ${names[0]})`, describe(b.dtype));
}

export function checkShapeEquals(where: string, arg: string, actual: Shape, expected: Shape): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    fail(where, `${arg} of shape [${expected.join(', ')}]`, `[${actual.join(', ')}]`);
  }
}

export function positiveInt(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(where, `${arg} to be a positive integer`, describe(v));
  return v;
}

export function nonNegativeInt(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(where, `${arg} to be a non-negative integer`, describe(v));
  return v;
}

/** A number or an [h, w] pair of positive integers. */
export function pair(where: string, arg: string, v: unknown): [number, number] {
  if (typeof v === 'number') return [positiveInt(where, arg, v), v];
  if (Array.isArray(v) && v.length === 2) return [positiveInt(where, `${arg}[0]`, v[0]), positiveInt(where, `${arg}[1]`, v[1])];
  return fail(where, `${arg} to be a positive integer or [h, w]`, describe(v));
}

export function finiteNumber(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(where, `${arg} to be a finite number`, describe(v));
  return v;
}

export function nonNegativeNumber(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(where, `${arg} to be a finite number >= 0`, describe(v));
  return v;
}

export function positiveNumber(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(where, `${arg} to be a finite number > 0`, describe(v));
  return v;
}

export function oneOf<T extends string>(where: string, arg: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new ConvkitError(`${where}: expected ${arg} to be one of ${allowed.map((a) => `'${a}'`).join(', ')} but received ${describe(v)}`, where);
  }
  return v as T;
}

/**
 * table[key] when key is one of the table's own names: a registry lookup that a name from a file, such as
 * 'constructor' or 'toString', cannot turn into one of Object.prototype's functions.
 */
export function own<T>(table: Readonly<Record<string, T>>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}
