// The progress bar on terminals of 40, 80 and 200 columns: every redraw fits (no line wraps, so a carriage
// return always reaches the line it redraws), nothing stale is left behind, and it shows samples/s and the ETA.
// Once with a fake stream rendered by a minimal terminal, once in a real pseudo-terminal (script(1)).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { callbacks, layers, losses, randomUniform, sequential } from '../../src/index.js';
import { progressLine } from '../../src/callbacks/index.js';
import { renderTerminal } from '../helpers/terminal.js';

const LOGS = 'loss: 0.1234 - accuracy: 0.9500 - val_loss: 0.2345 - val_accuracy: 0.9100 - lr: 0.001';

describe('progress bar', () => {
  it('progressLine fits any width: the bar shrinks, then the logs, then the rate go', () => {
    for (let columns = 12; columns <= 220; columns++) {
      for (const final of [false, true]) {
        const line = progressLine(columns, '117/469', 0.25, final, final ? '12.3s' : 'ETA 9.1s', '5123 samples/s', LOGS);
        expect(line.length, `${columns} columns: ${line}`).toBeLessThan(columns);
      }
    }
    expect(progressLine(200, '117/469', 0.25, false, 'ETA 9.1s', '5123 samples/s', LOGS)).toBe(`117/469 [=======>......................] - ETA 9.1s - 5123 samples/s - ${LOGS}`);
    expect(progressLine(80, '117/469', 0.25, false, 'ETA 9.1s', '5123 samples/s', LOGS)).toMatch(/^117\/469 \[==>\.{7}\] - ETA 9\.1s - 5123 samples\/s - loss: 0\.1234 - accuracy.*…$/);
    expect(progressLine(40, '469/469', 1, true, '12.3s', '5123 samples/s', LOGS)).toBe(`469/469 [${'='.repeat(21)}] - 12.3s`);
  });

  for (const columns of [40, 80, 200]) {
    it(`a fit redrawn on a ${columns}-column terminal never wraps and leaves no stale line`, async () => {
      const out: string[] = [];
      const m = sequential([layers.dense({ units: 4, inputShape: [6] }), layers.dense({ units: 3 })], { seed: 1 });
      m.compile({ optimizer: 'adam', loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy', 'top_k_categorical_accuracy'] });
      const x = randomUniform([600, 6], { seed: 2 });
      const y = Int32Array.from({ length: 600 }, (_, i) => i % 3);
      // a redraw at every batch: a slow batch end forces one
      const slow = { onBatchEnd: () => new Promise<void>((r) => setTimeout(r, 101)) };
      await m.fit(x, y, { batchSize: 100, epochs: 2, verbose: 0, validationSplit: 0.2, callbacks: [slow, callbacks.progressBar({ stream: { isTTY: true, columns, write: (s: string) => out.push(s) } })] });
      const text = out.join('');
      expect(text.match(/\r/g)!.length).toBeGreaterThanOrEqual(8);
      expect(text).toMatch(/samples\/s/);
      const { rows, wraps } = renderTerminal(text, columns);
      expect(wraps).toBe(0);
      // each epoch: its title, then the one bar line redrawn in place, ending with the epoch's total time
      expect(rows.filter((r) => r !== '')).toHaveLength(4);
      for (const r of rows.filter((row) => row.includes('['))) expect(r).toMatch(/^5\/5 \[=+\] - [\d.]+s/);
    });
  }

  it.skipIf(!existsSync('/usr/bin/script'))('in a real pseudo-terminal of 40, 80 and 200 columns', () => {
    const program = `
      const { sequential, layers, randomUniform } = await import('${new URL('../../dist/src/index.js', import.meta.url).href}');
      const m = sequential([layers.dense({ units: 3, inputShape: [5] })], { seed: 1 });
      m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['acc', 'mse'] });
      await m.fit(randomUniform([400, 5], { seed: 1 }), Int32Array.from({ length: 400 }, (_, i) => i % 3), {
        batchSize: 50, epochs: 2, callbacks: [{ onBatchEnd: () => new Promise((r) => setTimeout(r, 101)) }] });`;
    for (const columns of [40, 80, 200]) {
      const command = `stty cols ${columns} rows 40; ${process.execPath} --input-type=module -e "${program.replace(/"/g, '\\"').replace(/\$/g, '\\$')}"`;
      const text = execFileSync('script', ['-qfec', command, '/dev/null'], { encoding: 'utf8' });
      const { rows, wraps } = renderTerminal(text, columns);
      expect(wraps, `${columns} columns:\n${rows.join('\n')}`).toBe(0);
      expect(rows.filter((r) => r.includes('['))).toHaveLength(2);
      for (const r of rows.filter((row) => row.includes('['))) expect(r, `${columns} columns`).toMatch(/^8\/8 \[=+\] - [\d.]+s/);
    }
  });
});
