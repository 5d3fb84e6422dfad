import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { ActivationKind, AsyncKernelName, BinaryKind, Conv2DInfo, Pool2DInfo } from './backend/types.js';
import { ConvkitError } from './errors.js';

/** An activation the native epilogue can fuse. */
export type NativeActivation = ActivationKind;
export type NativeIsa = 'avx512' | 'avx2' | 'scalar';

export interface NativeInfo {
  /** The ISA the kernels run with now. */
  isa: NativeIsa;
  /** Every ISA this CPU (and OS) supports, best first; 'scalar' always. */
  availableIsas: NativeIsa[];
  threads: number;
  /**
   * Whether the thread pool's workers are pinned, each to a CPU of its own: when the pool has as many threads as
   * the CPUs the process may use (false before the first parallel op, and for a smaller pool).
   */
  pinnedWorkers: boolean;
  /** What CPUID reports (zeros and empty strings where it says nothing), and the AVX-512 FMA width a short probe measured (0 without AVX-512). */
  cpu: {
    vendor: string;
    model: string;
    family: number;
    modelNumber: number;
    microarchitecture: 'zen' | 'zen2' | 'zen3' | 'zen4' | 'zen5' | 'intel' | 'unknown';
    l1dBytes: number;
    l2Bytes: number;
    l3Bytes: number;
    avx512FmaWidth: 0 | 256 | 512;
  };
  /**
   * The current ISA's GEMM microkernel tiles (rows x columns) and cache blocking, and the most column panels over
   * which a row-major A is read in place instead of packed: 16 where the AVX-512 FMA is full width, else 8
   * (docs/kernels.md).
   */
  gemmTile: Record<'wide' | 'narrow', { mr: number; nr: number; kc: number; mc: number; nc: number }> & { inPlacePanels: 8 | 16 };
  /** Whether the current ISA has the direct convolution kernels (kernels 3 or 5 wide at stride 1; docs/kernels.md). */
  directConv: { forward: boolean; gradient: boolean };
  /**
   * Which stride-1 convolutions run by Winograd F(b x b, k x k) (blocks of b x b output pixels, a k x k kernel):
   * those with at least minChannels input channels and minPixels output pixels (batch x height x width), under
   * the current ISA. `forward` (also the backward-input pass) lists the choices in order: a layer takes the first
   * it meets.
   */
  winograd: Record<'forward' | 'filterGradient', { kernel: 3 | 5; outputBlock: 2 | 4; minChannels: number; minPixels: number }[]>;
  compiler: string;
  /** The code-generation flags each ISA's kernels were compiled with. */
  buildFlags: { avx512: string; avx2: string; scalar: string };
  /** Whether freed tensor memory stays in the heap for reuse (glibc; CONVKIT_MALLOC_TUNING=0 turns it off). */
  mallocTuning: boolean;
}

/**
 * A form of prepared weights (ck_weights_form): `key` names it (its kind, ISA and layout), `length` is the
 * Float32Array it takes (a header naming the form, then the weights).
 */
export interface WeightsForm {
  key: string;
  length: number;
}

/**
 * The addon's exports (native/binding/). Outputs are preallocated Float32Arrays passed in; every size is
 * re-checked natively and a mismatch throws a RangeError (wrong value) or TypeError (wrong kind) naming the field.
 * Shapes: `[N, H, W, C]` arrays for the global pools.
 */
interface NativeSyncOps {
  nativeInfo(): NativeInfo;
  /** Switches kernels; a level above the CPU's gives the best supported. Returns the ISA in use. */
  setIsa(name: string): NativeIsa;
  /** Returns the thread count in use (1..256). */
  setThreads(n: number): number;
  /** GFLOP/s of independent vector FMA chains on the current ISA, `threads` threads for about `seconds` (<= 10). */
  fmaPeakProbe(threads: number, seconds: number): number;
  /** GB/s read plus written copying `bytes / 2` into another `bytes / 2` on `threads` threads for about `seconds` (<= 10). */
  copyBandwidthProbe(bytes: number, threads: number, seconds: number): number;
  /** Asks the kernel to back the whole 2 MiB pages inside a fresh, unwritten array with huge pages; returns the bytes advised. */
  adviseHugePages(array: Float32Array): number;

  matmul(a: Float32Array, b: Float32Array, y: Float32Array, m: number, k: number, n: number, transposeA: boolean,
    transposeB: boolean, bias: Float32Array | null, activation: NativeActivation, alpha: number, scale?: Float32Array | null,
    residual?: Float32Array | null, prepared?: Float32Array | null): void;
  /** The form matmul reads a prepared b of (k, n) in ({ key, length }), or null (it reads b as it is). */
  matmulWeightsForm(k: number, n: number, transposeB: boolean): WeightsForm | null;
  /** b (k, n) -> prepared, of matmulWeightsForm(k, n, false).length floats. Runs on the calling thread. */
  prepareMatmulWeights(b: Float32Array, k: number, n: number, prepared: Float32Array): void;
  biasAdd(x: Float32Array, bias: Float32Array, y: Float32Array): void;
  biasGrad(dy: Float32Array, dbias: Float32Array): void;

  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, info: Conv2DInfo, bias: Float32Array | null,
    activation: NativeActivation, alpha: number, scale?: Float32Array | null, residual?: Float32Array | null,
    prepared?: Float32Array | null): void;
  conv2dMaxPool(x: Float32Array, filter: Float32Array, y: Float32Array, info: Conv2DInfo, bias: Float32Array | null,
    activation: NativeActivation, alpha: number, poolInfo: Pool2DInfo, convY?: Float32Array | null, scale?: Float32Array | null,
    prepared?: Float32Array | null): void;
  /** The form conv2d and conv2dMaxPool read a prepared filter for info in, or null (they read it as it is). */
  conv2dWeightsForm(info: Conv2DInfo): WeightsForm | null;
  /** filter -> prepared, of conv2dWeightsForm(info).length floats. Runs on the calling thread. */
  prepareConv2dWeights(filter: Float32Array, info: Conv2DInfo, prepared: Float32Array): void;
  conv2dBackwardInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, info: Conv2DInfo): void;
  conv2dBackwardFilter(x: Float32Array, dy: Float32Array, dfilter: Float32Array, info: Conv2DInfo): void;

  maxPool2d(x: Float32Array, y: Float32Array, info: Pool2DInfo): void;
  maxPool2dBackward(dy: Float32Array, x: Float32Array, dx: Float32Array, info: Pool2DInfo, activation: ActivationKind, alpha: number): void;
  avgPool2d(x: Float32Array, y: Float32Array, info: Pool2DInfo): void;
  avgPool2dBackward(dy: Float32Array, dx: Float32Array, info: Pool2DInfo): void;
  globalAvgPool2d(x: Float32Array, y: Float32Array, shape: readonly number[]): void;
  globalAvgPool2dBackward(dy: Float32Array, dx: Float32Array, shape: readonly number[]): void;
  globalMaxPool2d(x: Float32Array, y: Float32Array, shape: readonly number[]): void;
  globalMaxPool2dBackward(dy: Float32Array, x: Float32Array, dx: Float32Array, shape: readonly number[]): void;

  unary(kind: string, x: Float32Array, y: Float32Array, alpha: number): void;
  unaryBackward(kind: string, dy: Float32Array, saved: Float32Array, dx: Float32Array, alpha: number): void;
  dropout(x: Float32Array, y: Float32Array, mask: Float32Array, seed: number, rate: number): void;
  /** y = a kind b elementwise; max and min are NaN where either operand is. */
  binary(kind: BinaryKind, a: Float32Array, b: Float32Array, y: Float32Array): void;
  /** The gradient of max or min: da = dy where a gave the result (ties and NaNs included), db = dy elsewhere. */
  binaryRoute(kind: 'max' | 'min', dy: Float32Array, a: Float32Array, b: Float32Array, da: Float32Array, db: Float32Array): void;
  /** out (2C) = [mean, biased variance] per channel of x (rows, C), in double. */
  channelMoments(x: Float32Array, out: Float64Array, channels: number): void;
  groupNormForward(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, y: Float32Array, xhat: Float32Array | null, stats: Float64Array,
    n: number, s: number, g: number, k: number, epsilon: number): void;
  groupNormBackward(dy: Float32Array, xhat: Float32Array, gamma: Float32Array | null, invStd: Float64Array, dx: Float32Array, paramSums: Float64Array | null,
    n: number, s: number, g: number, k: number): void;
  /** out (2C) = [sum of a, sum of a * b] per channel of (rows, C) arrays, in double; b may be null. */
  channelSums(a: Float32Array, b: Float32Array | null, out: Float64Array, channels: number): void;
  /** y = x * s + t per channel (C = s.length). */
  channelAffine(x: Float32Array, s: Float32Array, t: Float32Array, y: Float32Array): void;
  /** y = a * sa + b * sb + t per channel (C = sa.length). */
  channelAffine2(a: Float32Array, b: Float32Array, sa: Float32Array, sb: Float32Array, t: Float32Array, y: Float32Array): void;
  /** y = x * c. */
  scale(x: Float32Array, c: number, y: Float32Array): void;
  /** dst[dstOffset + r * dstStride + j] = src[srcOffset + r * srcStride + j] for r < rows, j < cols (dst in place). */
  copyRows(dst: Float32Array, src: Float32Array, rows: number, cols: number, dstStride: number, dstOffset: number, srcStride: number, srcOffset: number): void;
  softmax(x: Float32Array, y: Float32Array, channels: number): void;
  softmaxBackward(dy: Float32Array, y: Float32Array, dx: Float32Array, channels: number): void;
  /** Returns the mean loss; fills grad. */
  softmaxCrossEntropySparse(logits: Float32Array, labels: Int32Array, grad: Float32Array, classes: number): number;
  softmaxCrossEntropyDense(logits: Float32Array, targets: Float32Array, grad: Float32Array, classes: number): number;
  /**
   * Updates w and the slots in place (see OptimizerStepInfo). With checkFinite, an update that leaves a weight
   * NaN or ±Inf throws an Error with code 'CONVKIT_NONFINITE' and `index` the first such weight.
   */
  optimizerStep(rule: string, w: Float32Array, g: Float32Array, slot0: Float32Array | null, slot1: Float32Array | null,
    lr: number, scale: number, decay: number, momentum: number, nesterov: boolean, beta1: number, beta2: number,
    rho: number, epsilon: number, checkFinite: boolean, mCoef: number, gCoef: number, vCoef: number): void;
  /** The index of the first NaN or ±Inf in x, or -1. */
  firstNonFinite(x: Float32Array): number;
}

/** The bindings behind the async kernels (concat and slice run as block copies). */
type AsyncBindingName = Exclude<AsyncKernelName, 'concat' | 'slice'> | 'copyRows';
/** Every heavy binding `op` has a twin `opAsync` with the same arguments that runs the kernel on a worker. */
type NativeAsyncTwins = { [K in AsyncBindingName as `${K}Async`]: (...args: Parameters<NativeSyncOps[K]>) => Promise<void> };
export type NativeAddon = NativeSyncOps & NativeAsyncTwins;

let cached: { addon?: NativeAddon; error?: Error } | undefined;

/** The directory of convkit's package.json: sources run from src/, compiled code from dist/src/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'convkit') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no convkit package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function explain(cause: unknown): ConvkitError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const err = new ConvkitError(
    [
      `native: could not load the convkit addon (${process.platform}-${process.arch}, Node ${process.versions.node}): ${reason}`,
      'Possible solutions:',
      '- Build it for this machine: `npm rebuild convkit` (or `npx node-gyp rebuild` in a clone).',
      '- Building needs Python 3, make and a C++17 compiler (g++ >= 9 or clang >= 10) on an x86-64 CPU;',
      '  on Debian/Ubuntu: `apt-get install python3 make g++`.',
      '- If you installed with --ignore-scripts, run `npm rebuild convkit` once.',
      "- Meanwhile the pure-TypeScript backend works everywhere: setBackend('reference').",
    ].join('\n'),
    'native',
  );
  err.cause = cause;
  return err;
}

/**
 * Loads the addon once (build/Release or a prebuild, via node-gyp-build) and caches the outcome.
 * Never throws: on failure `error` explains why and how to fix it.
 * @example const { addon, error } = loadNative(); if (addon) console.log(addon.nativeInfo().isa);
 */
export function loadNative(): { addon?: NativeAddon; error?: Error } {
  if (cached) return cached;
  try {
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => NativeAddon;
    cached = { addon: load(packageRoot()) };
  } catch (cause) {
    cached = { error: explain(cause) };
  }
  return cached;
}

function addonOrThrow(): NativeAddon {
  const { addon, error } = loadNative();
  if (!addon) throw error;
  return addon;
}

/**
 * What the native kernels run with.
 * @throws ConvkitError when the addon cannot be loaded (the message says how to fix it).
 */
export function nativeInfo(): NativeInfo {
  return addonOrThrow().nativeInfo();
}

/**
 * Forces an ISA for the native kernels ('avx512' | 'avx2' | 'scalar'); a level above the CPU's gives the
 * best supported one. Returns the ISA now in use. The CONVKIT_ISA environment variable sets it at load.
 * @example setNativeIsa('scalar')
 * @throws ConvkitError when the addon cannot be loaded; RangeError for an unknown name.
 */
export function setNativeIsa(name: NativeIsa): NativeIsa {
  isaSwitches++;
  return addonOrThrow().setIsa(name);
}

let isaSwitches = 0;

/** How many times setNativeIsa has switched kernels: what weights prepared for one ISA are cached under. */
export function nativeIsaSwitches(): number {
  return isaSwitches;
}

/**
 * Sets the native thread count (1..256; CONVKIT_THREADS sets it at load). Results do not depend on it.
 * @throws ConvkitError when the addon cannot be loaded; RangeError for a count out of range.
 */
export function setNativeThreads(n: number): number {
  return addonOrThrow().setThreads(n);
}
