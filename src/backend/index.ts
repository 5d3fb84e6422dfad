import { ConvkitError } from '../errors.js';
import { loadNative } from '../native.js';
import { createNativeBackend } from './native/index.js';
import { referenceBackend } from './reference/index.js';
import type { Backend } from './types.js';

export type BackendName = Backend['name'];

let active: Backend | undefined;
let native: Backend | undefined;
let warned = false;

function nativeBackend(): Backend {
  if (native) return native;
  const { addon, error } = loadNative();
  if (!addon) throw new ConvkitError(`setBackend: the native backend is unavailable: ${error?.message ?? 'unknown reason'}`, 'setBackend');
  native = createNativeBackend(addon);
  return native;
}

/** The backend ops run on: CONVKIT_BACKEND if set, else native when the addon loads, else reference (with one warning). */
export function backend(): Backend {
  if (active) return active;
  const wanted = process.env.CONVKIT_BACKEND;
  if (wanted) {
    setBackend(wanted as BackendName);
    return active!;
  }
  const { addon, error } = loadNative();
  if (addon) {
    active = nativeBackend();
  } else {
    active = referenceBackend;
    if (!warned) {
      warned = true;
      process.emitWarning(`native addon did not load, using the pure-TypeScript reference backend (slow): ${error?.message}`, {
        code: 'CONVKIT_NO_NATIVE',
      });
    }
  }
  return active;
}

/**
 * Chooses where ops run: 'native' (the C++ addon) or 'reference' (pure TypeScript, the oracle).
 * @example setBackend('reference')
 * @throws ConvkitError for an unknown name, or 'native' when the addon cannot load (the message says why).
 */
export function setBackend(name: BackendName): void {
  if (name === 'reference') active = referenceBackend;
  else if (name === 'native') active = nativeBackend();
  else throw new ConvkitError(`setBackend: expected 'native' or 'reference' but received '${String(name)}'`, 'setBackend');
}

export function getBackend(): BackendName {
  return backend().name;
}

/** Runs fn with the given backend active, restoring the previous one afterwards (tests and benchmarks). */
export function withBackend<T>(name: BackendName, fn: () => T): T {
  const prev = backend();
  setBackend(name);
  return restoring(prev, fn);
}

/**
 * Runs fn (synchronous kernels) on the given Backend: `createNativeBackend(addon)` of another build of the addon
 * (bench/ab.js, which alternates two builds in one process), restoring the previous one afterwards.
 */
export function withBackendImpl<T>(impl: Backend, fn: () => T): T {
  const prev = backend();
  active = impl;
  return restoring(prev, fn);
}

function restoring<T>(prev: Backend, fn: () => T): T {
  try {
    return fn();
  } finally {
    active = prev;
  }
}
