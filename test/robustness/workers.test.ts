// The worker lifecycle suite: worker_threads that load convkit, compute and exit, or are terminated in the middle
// of every async entry point, must never take the process down or leave their environments behind. Each
// scenario runs in a fresh process (test/helpers/lifecycle/main.mjs), so a crash shows up as its exit signal,
// and so that "the main thread never loaded convkit" can be true.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onBestIsaRun, underAsan } from '../helpers/backends.js';

const main = fileURLToPath(new URL('../helpers/lifecycle/main.mjs', import.meta.url));

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  result: Record<string, unknown> | undefined;
  stderr: string;
}

function scenario(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--expose-gc', main, ...args], { env, timeout: 240_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: NodeJS.Signals }) | null;
      const last = stdout.trim().split('\n').pop();
      let result: Record<string, unknown> | undefined;
      try {
        result = last ? JSON.parse(last) : undefined;
      } catch {
        result = undefined;
      }
      resolve({ code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, result, stderr });
    });
  });
}

function expectClean(o: Outcome): Record<string, unknown> {
  expect({ code: o.code, signal: o.signal, stderr: o.stderr.slice(-2000) }).toEqual({ code: 0, signal: null, stderr: expect.any(String) });
  expect(o.result).toBeDefined();
  return o.result!;
}

// A worker environment that cannot be torn down keeps a whole V8 isolate (10 MiB or more), and an addon
// unloaded and loaded again leaks its threads and state (about 7 MiB a cycle before it was pinned): 25
// cycles of either add far more than this bound, which leaves room for allocator noise.
const RSS_BOUND_MIB = 96;

describe.skipIf(!onBestIsaRun)('worker lifecycle', () => {
  it('30 workers import convkit, compute and exit while the main thread never loads it (the addon stays mapped)', async () => {
    const r = expectClean(await scenario(['exit-cycles']));
    expect(r.cycles).toBe(30);
    if (!underAsan) expect(r.rssGrowthMiB as number).toBeLessThan(RSS_BOUND_MIB);
  });

  it('30 workers import convkit, compute (half of them async ops too) and exit while the main thread has loaded it too', async () => {
    const r = expectClean(await scenario(['exit-cycles', '--main-loads', '--async']));
    if (!underAsan) expect(r.rssGrowthMiB as number).toBeLessThan(RSS_BOUND_MIB);
  });

  it('the entries below cover every async op of the public API', async () => {
    const r = expectClean(await scenario(['entries'])) as { asyncOpNames: string[]; opEntries: string[] };
    expect([...r.opEntries].sort()).toEqual([...r.asyncOpNames].sort());
  });

  it('terminating a worker in the middle of any async op never aborts the process', async () => {
    const { asyncOpNames } = expectClean(await scenario(['entries'])) as { asyncOpNames: string[] };
    const r = expectClean(await scenario(['terminate', ...asyncOpNames]));
    expect(r.terminated).toBe(3 * asyncOpNames.length);
  });

  it('terminating a worker in the middle of predict, evaluate, fit, trainOnBatch, forward/backward or a batcher never aborts the process', async () => {
    const entries = ['predict', 'evaluate', 'fit', 'trainOnBatch', 'forwardBackward', 'batcher'];
    const r = expectClean(await scenario(['terminate', ...entries]));
    expect(r.terminated).toBe(3 * entries.length);
  });

  it('8 workers at once, half terminated mid-kernel and half exiting on their own, four rounds; RSS steady from round 1 to 4', async () => {
    // Without convkit's malloc tuning freed memory goes back to the system, so RSS measures what is still live;
    // with it, each of the 8 threads' allocator arenas keeps up to 32 MiB blocks for reuse.
    const r = expectClean(await scenario(['many'], { ...process.env, CONVKIT_MALLOC_TUNING: '0' }));
    expect(r.ended).toBe(32);
    if (!underAsan) expect(r.rssGrowthMiB as number).toBeLessThan(RSS_BOUND_MIB);
  });
});
