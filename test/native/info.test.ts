// What the addon reports about itself, ISA switching, and loading in a worker thread.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { afterAll, describe, expect, it } from 'vitest';

import { loadNative } from '../../src/native.js';

const { addon, error } = loadNative();
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe.skipIf(!addon)(`native addon info${error ? ` (skipped: ${error.message})` : ''}`, () => {
  const a = addon!;
  const initial = a.nativeInfo();
  afterAll(() => {
    a.setIsa(initial.isa);
    a.setThreads(initial.threads);
  });

  it('reports its build', () => {
    expect(initial.availableIsas.at(-1)).toBe('scalar');
    expect(initial.threads).toBeGreaterThanOrEqual(1);
    expect(initial.compiler).toMatch(/^(gcc|clang) \d/);
    expect(initial.buildFlags.scalar).toBe('');
    if (process.arch !== 'x64') return;  // the AVX libraries are built on x86-64 only
    expect(initial.buildFlags.avx512.split(' ')).toEqual(expect.arrayContaining(['-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl', '-mfma']));
    expect(initial.buildFlags.avx2).toBe('-mavx2 -mfma');
  });

  it.skipIf(process.env.CONVKIT_ISA !== undefined)('picks the best ISA the CPU has when CONVKIT_ISA is unset', () => {
    expect(initial.isa).toBe(initial.availableIsas[0]);
  });

  it.skipIf(process.env.CONVKIT_ISA !== undefined || !initial.availableIsas.includes('avx512'))('uses AVX-512 on a CPU that has it', () => {
    expect(initial.isa).toBe('avx512');
  });

  it('switches to every available ISA, and never above the CPU', () => {
    for (const isa of initial.availableIsas) {
      expect(a.setIsa(isa)).toBe(isa);
      expect(a.nativeInfo().isa).toBe(isa);
    }
    for (const isa of ['avx512', 'avx2', 'scalar'] as const) {
      const got = a.setIsa(isa);
      expect(initial.availableIsas).toContain(got);
      if (!initial.availableIsas.includes(isa)) expect(got).toBe(initial.availableIsas[0]);
    }
  });

  it('describes the CPU as /proc/cpuinfo does (vendor, family, model), and the GEMM tile of the current ISA', async () => {
    const { cpu, gemmTile } = initial;
    if (process.arch === 'x64' && process.platform === 'linux') {
      const { readFileSync } = await import('node:fs');
      const info = readFileSync('/proc/cpuinfo', 'utf8');
      const field = (name: string): string => new RegExp(`^${name}\\s*: (.*)$`, 'm').exec(info)![1];
      expect(cpu.vendor).toBe(field('vendor_id'));
      expect(cpu.model).toMatch(/\S/); // CPUID's brand string (this VM's kernel shows another in /proc/cpuinfo)
      expect(cpu.family).toBe(Number(field('cpu family')));
      expect(cpu.modelNumber).toBe(Number(field('model')));
      if (cpu.vendor === 'AuthenticAMD' && cpu.family === 0x1a) expect(cpu.microarchitecture).toBe('zen5');
      expect(cpu.l1dBytes).toBeGreaterThanOrEqual(16 * 1024);
      expect(cpu.l2Bytes).toBeGreaterThan(cpu.l1dBytes);
    }
    expect(initial.availableIsas.includes('avx512') ? [256, 512] : [0]).toContain(cpu.avx512FmaWidth);
    const widths = { avx512: 16, avx2: 8, scalar: 1 };
    expect(gemmTile.wide.nr % widths[initial.isa]).toBe(0);
    expect(gemmTile.wide.mc % gemmTile.wide.mr).toBe(0);
    expect(gemmTile.narrow.nr).toBeLessThanOrEqual(gemmTile.wide.nr);
    expect(gemmTile.inPlacePanels).toBe(initial.isa === 'avx512' && cpu.avx512FmaWidth === 512 ? 16 : 8);
    if (process.arch === 'x64') expect(initial.directConv).toEqual({ forward: initial.isa === 'avx512', gradient: initial.isa !== 'scalar' });
    expect(initial.winograd.forward.map((w) => [w.kernel, w.outputBlock])).toEqual([[3, 4], [3, 2], [5, 2]]);
    expect(initial.winograd.filterGradient.map((w) => [w.kernel, w.outputBlock])).toEqual([[3, 4], [3, 2], [5, 2]]);
    for (const w of [...initial.winograd.forward, ...initial.winograd.filterGradient]) expect(w.minChannels > 0 && w.minPixels > 0).toBe(true);
  });

  it('pins the workers of a pool spanning every CPU it may use, and not those of a smaller one', () => {
    const cpus = initial.threads; // the default pool: every CPU of the affinity mask, unless CONVKIT_THREADS set it
    const run = (): void => void a.matmul(new Float32Array(256 * 256), new Float32Array(256 * 256), new Float32Array(256 * 256), 256, 256, 256, false, false, null, 'linear', 0);
    a.setThreads(cpus);
    run();
    if (process.platform === 'linux' && cpus > 1 && process.env.CONVKIT_THREADS === undefined) expect(a.nativeInfo().pinnedWorkers).toBe(true);
    if (cpus > 2) {
      a.setThreads(2);
      run();
      expect(a.nativeInfo().pinnedWorkers).toBe(false);
    }
    a.setThreads(1);
    run();
    expect(a.nativeInfo().pinnedWorkers).toBe(false);
    a.setThreads(cpus);
  });

  it('sets the thread count', () => {
    expect(a.setThreads(1)).toBe(1);
    expect(a.nativeInfo().threads).toBe(1);
    expect(a.setThreads(2)).toBe(2);
  });

  it('measures a plausible FMA peak (over 1 GFLOP/s)', () => {
    expect(a.fmaPeakProbe(1, 0.05)).toBeGreaterThan(1);
  });

  it('measures a plausible copy bandwidth (over 0.1 GB/s), odd sizes and more threads than bytes included', () => {
    expect(a.copyBandwidthProbe(1 << 20, 2, 0.02)).toBeGreaterThan(0.1);
    expect(a.copyBandwidthProbe(129, 3, 0.01)).toBeGreaterThan(0.1);
  });

  it.skipIf(process.platform !== 'linux')('advises the whole 2 MiB pages inside an array to huge pages, none of a smaller one', () => {
    const big = new Float32Array(10 << 20); // 40 MiB: at least 38 MiB of whole 2 MiB pages, wherever it starts
    const advised = a.adviseHugePages(big);
    expect(advised % (2 << 20)).toBe(0);
    expect(advised).toBeGreaterThanOrEqual(38 << 20);
    expect(advised).toBeLessThanOrEqual(40 << 20);
    expect(a.adviseHugePages(new Float32Array(1 << 18))).toBe(0); // 1 MiB holds no whole 2 MiB page
    big.fill(1.5);
    expect(big[0] + big[big.length - 1]).toBe(3);
  });

  it('loads and runs in a worker thread (context-aware)', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const a = require('node-gyp-build')(workerData);
      const y = new Float32Array(1);
      a.matmul(Float32Array.of(2), Float32Array.of(3), y, 1, 1, 1, false, false, null, 'linear', 0);
      parentPort.postMessage({ isa: a.nativeInfo().isa, y: y[0] });`;
    const result = await new Promise((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: root });
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(result).toMatchObject({ y: 6 });
  });
});
