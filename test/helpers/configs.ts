import { conv2dInfo, pool2dInfo, type Conv2DOptions, type Padding, type Pool2DOptions } from '../../src/ops/index.js';
import { Rng } from '../../src/random.js';

export interface ConvCase {
  label: string;
  xShape: number[];
  fShape: number[];
  opts: Conv2DOptions;
}

export interface PoolCase {
  label: string;
  xShape: number[];
  opts: Pool2DOptions;
}

// Channel counts around SIMD widths (8 and 16 floats) and primes, so every vector tail is hit.
const CHANNELS = [1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 19, 24, 31, 33];

function padding(rng: Rng, kH: number, kW: number): Padding {
  const r = rng.next();
  if (r < 0.4) return 'same';
  if (r < 0.7) return 'valid';
  return [[rng.int(kH + 1), rng.int(kH + 1)], [rng.int(kW + 1), rng.int(kW + 1)]];
}

/**
 * `count` seeded random convolutions: batch 1 and more, odd spatial sizes, channels off the SIMD width,
 * strides 1–3, dilation 2, every padding mode, groups and depthwise; the last few are larger, so that
 * K = KH·KW·C and OC cross the GEMM's register and cache blocks.
 */
export function convCases(count: number, seed: number): ConvCase[] {
  const rng = new Rng(seed);
  const out: ConvCase[] = [];
  while (out.length < count) {
    const i = out.length;
    const large = i >= count - 4;
    const kind = rng.next();
    const groups = kind < 0.6 ? 1 : kind < 0.8 ? 2 + rng.int(2) : 0; // 0: depthwise
    const pick = () => CHANNELS[rng.int(CHANNELS.length)];
    let inC: number;
    let g: number;
    let outC: number;
    if (groups === 0) {
      inC = pick();
      g = inC;
      outC = inC * (1 + rng.int(2));
    } else {
      g = groups;
      inC = (large ? 40 + rng.int(40) : pick()) * g;
      outC = (large ? 60 + rng.int(80) : pick()) * g;
    }
    const kH = 1 + rng.int(5);
    const kW = 1 + rng.int(5);
    const opts: Conv2DOptions = {
      strides: [1 + rng.int(3), 1 + rng.int(3)],
      dilations: [rng.next() < 0.3 ? 2 : 1, rng.next() < 0.3 ? 2 : 1],
      groups: g,
      padding: padding(rng, kH, kW),
    };
    const batch = i % 3 === 0 ? 1 : 2 + rng.int(2);
    const h = 1 + rng.int(large ? 12 : 15);
    const w = 1 + rng.int(large ? 12 : 15);
    const xShape = [batch, h, w, inC];
    const fShape = [kH, kW, inC / g, outC];
    try {
      conv2dInfo(xShape, fShape, opts);
    } catch {
      continue; // a padding that leaves no output: draw again
    }
    out.push({ label: `#${i} x[${xShape}] f[${fShape}] ${JSON.stringify(opts)}`, xShape, fShape, opts });
  }
  return out;
}

export function poolCases(count: number, seed: number): PoolCase[] {
  const rng = new Rng(seed);
  const out: PoolCase[] = [];
  while (out.length < count) {
    const pH = 1 + rng.int(4);
    const pW = 1 + rng.int(4);
    const r = rng.next();
    const pad: Padding = r < 0.4 ? 'same' : r < 0.7 ? 'valid' : [[rng.int(pH), rng.int(pH)], [rng.int(pW), rng.int(pW)]];
    const opts: Pool2DOptions = { poolSize: [pH, pW], strides: [1 + rng.int(3), 1 + rng.int(3)], padding: pad };
    const xShape = [out.length % 3 === 0 ? 1 : 2 + rng.int(2), 1 + rng.int(13), 1 + rng.int(13), CHANNELS[rng.int(CHANNELS.length)]];
    try {
      pool2dInfo(xShape, opts);
    } catch {
      continue;
    }
    out.push({ label: `#${out.length} x[${xShape}] ${JSON.stringify(opts)}`, xShape, opts });
  }
  return out;
}

/** [M, N, K] triples: random small ones, then sizes around typical MR/NR (6–32) and KC/MC (~128–512). */
export function matmulCases(count: number, seed: number): [number, number, number][] {
  const rng = new Rng(seed);
  const edges: [number, number, number][] = [
    [1, 1, 1], [5, 15, 7], [6, 16, 8], [7, 17, 9], [14, 32, 1], [15, 33, 3], [16, 48, 255], [17, 31, 257],
    [31, 47, 513], [97, 130, 300], [129, 65, 1025], [300, 20, 64],
  ];
  const out = edges.slice(0, count);
  while (out.length < count) out.push([1 + rng.int(70), 1 + rng.int(70), 1 + rng.int(90)]);
  return out;
}
