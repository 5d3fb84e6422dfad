/**
 * Charts as SVG (text and lines stay sharp at any size, and need no font in the library): training curves per
 * epoch, training against validation, and a confusion matrix with its counts.
 */
import { ConvkitError, describe } from '../errors.js';
import type { History } from '../model/training.js';
import { viridis } from './images.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number): string => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

/**
 * Loss and each metric per epoch, one panel each, training solid and validation dashed.
 * @example writeFileSync('curves.svg', visualize.history(await model.fit(x, y, { epochs: 10, validationSplit: 0.1 })))
 * @throws ConvkitError for a history with no epochs.
 */
export function history(h: History): string {
  const series = h?.history;
  if (!series || typeof series !== 'object') throw new ConvkitError(`visualize.history: expected fit's History but received ${describe(h)}`, 'visualize.history');
  const names = Object.keys(series).filter((k) => !k.startsWith('val_') && k !== 'lr' && series[k].length > 0);
  if (names.length === 0) throw new ConvkitError('visualize.history: the history has no epochs', 'visualize.history');
  const [pw, ph, m] = [360, 220, { l: 48, r: 12, t: 24, b: 32 }];
  const panels = names.map((name, i) => {
    const train = series[name];
    const val = series[`val_${name}`] ?? [];
    const all = [...train, ...val].filter(Number.isFinite);
    let [lo, hi] = [Math.min(...all), Math.max(...all)];
    if (hi === lo) [lo, hi] = [lo - 0.5, hi + 0.5];
    const epochs = Math.max(train.length, val.length);
    const x = (e: number): number => m.l + (epochs > 1 ? (e / (epochs - 1)) * (pw - m.l - m.r) : (pw - m.l - m.r) / 2);
    const y = (v: number): number => m.t + (1 - (v - lo) / (hi - lo)) * (ph - m.t - m.b);
    const line = (vs: number[], style: string): string => `<polyline fill="none" stroke-width="2" ${style} points="${vs.map((v, e) => `${x(e).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`;
    const ticks = [lo, (lo + hi) / 2, hi].map((v) => `<text x="${m.l - 4}" y="${y(v) + 4}" text-anchor="end">${num(v)}</text><line x1="${m.l}" x2="${pw - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    return `<g transform="translate(${(i % 2) * pw},${Math.floor(i / 2) * ph})">
<text x="${m.l}" y="16" font-weight="bold">${esc(name)}</text>${ticks.join('')}
<text x="${x(0)}" y="${ph - 12}" text-anchor="middle">1</text><text x="${x(epochs - 1)}" y="${ph - 12}" text-anchor="middle">${epochs}</text><text x="${pw / 2}" y="${ph - 2}" text-anchor="middle">epoch</text>
${line(train, 'stroke="#1f77b4"')}${val.length ? line(val, 'stroke="#ff7f0e" stroke-dasharray="6 4"') : ''}
<text x="${pw - m.r}" y="16" text-anchor="end" fill="#1f77b4">train</text>${val.length ? `<text x="${pw - m.r - 44}" y="16" text-anchor="end" fill="#ff7f0e">validation</text>` : ''}
</g>`;
  });
  const cols = Math.min(2, names.length);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * pw}" height="${Math.ceil(names.length / 2) * ph}" font-family="sans-serif" font-size="11">${panels.join('\n')}</svg>`;
}

/**
 * A confusion matrix (rows true classes, columns predictions, as metrics.confusionMatrix gives it) as a grid of
 * counts shaded by their share of the row.
 * @example writeFileSync('confusion.svg', visualize.confusionMatrix(metrics.confusionMatrix(yTest, probs), classNames))
 * @throws ConvkitError when the matrix is not square or the names do not match.
 */
export function confusionMatrix(matrix: number[][], classNames?: string[]): string {
  const k = matrix?.length ?? 0;
  if (k === 0 || matrix.some((r) => !Array.isArray(r) || r.length !== k)) throw new ConvkitError(`visualize.confusionMatrix: expected a square matrix but received ${describe(matrix)}`, 'visualize.confusionMatrix');
  const names = classNames ?? matrix.map((_, i) => String(i));
  if (names.length !== k) throw new ConvkitError(`visualize.confusionMatrix: expected ${k} class names but received ${names.length}`, 'visualize.confusionMatrix');
  const cell = 36;
  const left = 12 + 7 * Math.max(...names.map((n) => n.length));
  const top = 40;
  const cells = matrix.flatMap((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    return row.map((v, j) => {
      const [r, g, b] = viridis(v / total);
      const dark = v / total < 0.6;
      return `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${r},${g},${b})"/><text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${dark ? '#fff' : '#000'}">${v}</text>`;
    });
  });
  const labels = names.map((n, i) => `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(n)}</text><text x="${left + i * cell + cell / 2}" y="${top - 6}" text-anchor="middle">${esc(n.slice(0, 5))}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + k * cell + 8}" height="${top + k * cell + 24}" font-family="sans-serif" font-size="11">
<text x="${left}" y="14" font-weight="bold">predicted →</text><text x="4" y="${top + k * cell + 18}" font-weight="bold">true ↓</text>
${labels.join('')}${cells.join('')}</svg>`;
}
