// The allocator tuning (native/runtime/malloc-tuning.h) is on by default on glibc and off with CONVKIT_MALLOC_TUNING=0.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '../helpers/backends.js';

const probe = (env: Record<string, string>) =>
  execFileSync(process.execPath, ['--input-type=module', '-e', "import('./dist/src/index.js').then((m) => console.log(m.nativeInfo().mallocTuning))"], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  }).trim();

describe.skipIf(!nativeAvailable || process.platform !== 'linux')('malloc tuning', () => {
  it('is active by default and off with CONVKIT_MALLOC_TUNING=0', () => {
    const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
    expect(probe({ CONVKIT_MALLOC_TUNING: '' })).toBe(glibc ? 'true' : 'false');
    expect(probe({ CONVKIT_MALLOC_TUNING: '0' })).toBe('false');
  });
});
