/**
 * One self-contained HTML page about a model: its summary, training curves, test results (accuracy, per-class
 * precision/recall/F1, the confusion matrix), the first convolutions' filters and the feature maps of a few
 * test samples. Pictures are inline (PNG as data URIs, charts as SVG), so the file can be mailed or archived.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { ConvkitError } from '../errors.js';
import type { Labels } from '../losses/labels.js';
import { classificationReport, confusionMatrix as countConfusion } from '../model/evaluation.js';
import type { Model } from '../model/model.js';
import type { History } from '../model/training.js';
import { Tensor } from '../tensor.js';
import { confusionMatrix, history as curves } from './charts.js';
import { featureMaps, filters, picture, type Picture } from './images.js';

export interface ReportOptions {
  title?: string;
  /** fit's History: the training curves. */
  history?: History;
  /** Test data: results, confusion matrix, and the samples whose feature maps are shown. */
  x?: Tensor;
  y?: Labels;
  classNames?: string[];
  /** Test samples whose feature maps are shown (default 3). */
  samples?: number;
  /** The convolution layers shown (default: the model's first two 2-D convolutions). */
  layers?: string[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const img = (p: Picture, alt: string): string => `<img alt="${esc(alt)}" src="data:image/png;base64,${p.png.toString('base64')}" width="${p.width}" height="${p.height}">`;

/** One sample of an image tensor as a picture (gray or RGB, normalized to its range, magnified). */
function sampleImage(x: Tensor, i: number): Picture {
  const [, h, w, c] = x.shape;
  const scale = Math.max(1, Math.round(84 / Math.max(h, w)));
  const values = x.data.subarray(i * h * w * c, (i + 1) * h * w * c);
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const rgb = new Uint8Array(h * scale * w * scale * 3);
  for (let y = 0; y < h * scale; y++) {
    for (let xx = 0; xx < w * scale; xx++) {
      const src = (Math.floor(y / scale) * w + Math.floor(xx / scale)) * c;
      for (let k = 0; k < 3; k++) rgb[(y * w * scale + xx) * 3 + k] = Math.round((255 * (values[src + (c === 3 ? k : 0)] - lo)) / (hi - lo || 1));
    }
  }
  return picture(w * scale, h * scale, rgb);
}

/**
 * The report as HTML text (see the file comment); each part appears when its inputs are given.
 * @example await writeFile('report.html', await visualize.report(model, { history, x: xTest, y: yTest }))
 * @throws ConvkitError for layers that are not convolutions or test data that does not fit the model.
 */
export async function report(model: Model, opts: ReportOptions = {}): Promise<string> {
  const parts: string[] = [`<h1>${esc(opts.title ?? model.name)}</h1>`, `<h2>Model</h2><pre>${esc(model.summary(null))}</pre>`];
  if (opts.history) parts.push(`<h2>Training</h2>${curves(opts.history)}`);
  const single = model.outputs.length === 1 ? model.singleOutput('report') : undefined;
  if (opts.x && opts.y !== undefined && single && single.outputs[0].shape.length === 1) {
    const scores = await single.predict(opts.x);
    const r = classificationReport(opts.y, scores, scores.shape[1]);
    const names = opts.classNames ?? r.perClass.map((_, i) => String(i));
    const rows = r.perClass.map((c, i) => `<tr><td>${esc(names[i])}</td><td>${c.precision.toFixed(3)}</td><td>${c.recall.toFixed(3)}</td><td>${c.f1.toFixed(3)}</td><td>${c.support}</td></tr>`);
    parts.push(
      `<h2>Test results</h2><p>Accuracy ${(100 * r.accuracy).toFixed(2)}% on ${opts.x.shape[0]} samples; macro F1 ${r.macro.f1.toFixed(3)}.</p>`,
      `<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>${rows.join('')}</table>`,
      `<h3>Confusion matrix</h3>${confusionMatrix(countConfusion(opts.y, scores, scores.shape[1]), names)}`,
    );
  }
  const convs = opts.layers ?? model.layers.filter((l) => l.params().some((p) => /\/kernel$/.test(p.name) && p.value.rank === 4)).slice(0, 2).map((l) => l.name);
  for (const name of convs) {
    parts.push(`<h2>Filters of ${esc(name)}</h2>${img(await filters(model, name), `filters of ${name}`)}`);
  }
  const imageInput = model.inputs.length === 1 && model.inputs[0].shape.length === 3;
  if (opts.x && imageInput && convs.length > 0) {
    const n = Math.min(opts.samples ?? 3, opts.x.shape[0]);
    parts.push('<h2>Feature maps</h2>');
    for (let i = 0; i < n; i++) {
      const one = opts.x.slice(i, i + 1);
      const maps = await Promise.all(convs.map(async (name) => `<figure>${img(await featureMaps(model, name, one), `${name}, sample ${i}`)}<figcaption>${esc(name)}</figcaption></figure>`));
      parts.push(`<div class="row"><figure>${img(sampleImage(opts.x, i), `sample ${i}`)}<figcaption>sample ${i}</figcaption></figure>${maps.join('')}</div>`);
    }
  }
  const style = 'body{font-family:sans-serif;margin:2em;max-width:1100px}pre{background:#f6f6f6;padding:1em;overflow:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}.row{display:flex;gap:1em;align-items:flex-start}figure{margin:0}img{image-rendering:pixelated}';
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(opts.title ?? model.name)}</title><style>${style}</style></head><body>${parts.join('\n')}</body></html>\n`;
}

/**
 * Writes the report to `path` (whole or not at all: written beside it, then renamed).
 * @example await visualize.writeReport('out/digits/report.html', model, { history, x: xTest, y: yTest })
 */
export async function writeReport(path: string, model: Model, opts: ReportOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new ConvkitError('visualize.writeReport: expected a file path', 'visualize.writeReport');
  const html = await report(model, opts);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, html);
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}
