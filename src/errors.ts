/**
 * The one error type convkit throws for bad input. `where` names the op or layer, so a message reads
 * `conv2d: expected filter in-channels 3 (x has 3 channels, groups 1) but received 4`.
 */
export class ConvkitError extends Error {
  override readonly name = 'ConvkitError';
  constructor(
    message: string,
    readonly where?: string,
  ) {
    super(message);
  }
}

/**
 * An optimizer step left a weight NaN or ±Inf (ops.optimizerStep with checkFinite). `index` is the first such
 * element; the update has been applied (in place on the weight and its slots) up to the end of the tensor.
 */
export class NonFiniteError extends ConvkitError {
  readonly code = 'CONVKIT_NONFINITE';
  constructor(
    message: string,
    where: string,
    readonly index: number,
  ) {
    super(message, where);
  }
}

/**
 * Throws `${where}: expected ${expected} but received ${received}`. A string `received` is taken as already
 * described; any other value goes through describe().
 */
export function fail(where: string, expected: string, received: unknown): never {
  const got = typeof received === 'string' ? received : describe(received);
  throw new ConvkitError(`${where}: expected ${expected} but received ${got}`, where);
}

/**
 * A value as a message shows it: strings quoted, arrays shown to a depth of 4 and 16 entries at most, long
 * strings and objects cut at 200 characters.
 */
export function describe(v: unknown, depth = 0): string {
  if (Array.isArray(v)) {
    if (depth >= 4) return '[...]';
    const shown = v.slice(0, 16).map((e) => describe(e, depth + 1));
    return `[${shown.join(', ')}${v.length > 16 ? `, ... (${v.length} entries)` : ''}]`;
  }
  if (typeof v === 'string') return `'${clip(v)}'`;
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') {
    const ctor = (v as object).constructor?.name;
    if (ctor && ctor !== 'Object') return ctor;
    try {
      return clip(JSON.stringify(v));
    } catch {
      return 'object';
    }
  }
  return String(v);
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}... (${s.length} characters)` : s;
}
