// TensorFlow.js contenders: the pure-JS 'cpu' backend and the WASM (XNNPACK) backend, loaded offline.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

let tf;
export async function loadTfjs() {
  if (tf) return tf;
  try {
    tf = require('@tensorflow/tfjs');
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${dist}/`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  } catch (e) {
    console.log(`tfjs contenders unavailable (${e.message}); run 'npm install' in bench/`);
    tf = null;
  }
  return tf;
}

/** Runs fn with the named tfjs backend ('cpu' or 'wasm') active; returns undefined if it cannot. */
export async function withTfBackend(name, fn) {
  const t = await loadTfjs();
  if (!t) return undefined;
  if (!(await t.setBackend(name))) return undefined;
  await t.ready();
  return fn(t);
}
