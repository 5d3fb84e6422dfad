import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/index.js';

/** Runs the CLI in-process and captures what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('convkit CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convkit-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints help for the tool and for each command', async () => {
    expect((await cli('--help')).out).toMatch(/Commands:\n {2}train .*\n {2}evaluate .*\n {2}predict .*\n {2}summary/);
    for (const command of ['train', 'evaluate', 'predict', 'summary']) {
      const r = await cli(command, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^Usage: convkit ${command}`));
    }
    const bad = await cli('fly');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown command 'fly'/);
  });

  it('trains, then summarizes, evaluates and predicts with the saved model', async () => {
    const out = join(dir, 'digits');
    const trained = await cli('train', '--train', '300', '--test', '100', '--epochs', '1', '--verbose', '0', '--out', out);
    expect(trained.code).toBe(0);
    expect(trained.out).toMatch(/test accuracy \d+\.\d\d% .* on 100 images; trained in [\d.]+ s; saved to /);
    expect((await cli('summary', out)).out).toMatch(/Total params: 61,706/);
    const evaluated = await cli('evaluate', out, '--train', '300', '--test', '100');
    expect(evaluated.out).toMatch(/^loss: \d+\.\d{4} {2}accuracy: \d\.\d{4}$/);
    const predicted = await cli('predict', out, '--limit', '3', '--train', '300', '--test', '100');
    expect(predicted.out.split('\n')).toHaveLength(3);
    expect(predicted.out).toMatch(/^0\t\d\t[01]\.\d{4}\n1\t/);
  });

  it('reports bad input as a message and status 1', async () => {
    const r = await cli('train', '--epochs', 'many');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/expected --epochs to be a non-negative integer but received 'many'/);
    const missing = await cli('summary', join(dir, 'nothing-here'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/loadModel: cannot read model.json/);
    expect((await cli('train', '--arch', 'alexnet', '--train', '10', '--test', '10')).err).toMatch(/architecture: expected one of lenet5, tutorial but received '?alexnet'?/);
  });
});
