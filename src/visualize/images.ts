/**
 * What a network learned, as PNG images (encoded with pngjs): a convolution's filters as tiles (first-layer
 * kernels as they are; deeper ones per input channel, or as the input that excites each filter most, found by
 * gradient ascent) and the feature maps one input produces, each tile normalized to its own range and, for
 * single-channel tiles, coloured with a perceptual colour map.
 */
import { PNG } from 'pngjs';
import { ConvkitError, describe } from '../errors.js';
import { Layer } from '../layers/layer.js';
import { model as graphModel, type Model } from '../model/model.js';
import { Tensor } from '../tensor.js';

/** A picture: width × height RGB, and its PNG bytes. */
export interface Picture {
  width: number;
  height: number;
  /** RGB bytes, row-major. */
  rgb: Uint8Array;
  png: Buffer;
}

// Viridis at 9 evenly spaced points (from its published table); values between are interpolated.
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

/** Viridis colour of t in [0, 1]. */
export function viridis(t: number): [number, number, number] {
  const x = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS.length - 2);
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(VIRIDIS[i][c] + f * (VIRIDIS[i + 1][c] - VIRIDIS[i][c]))) as [number, number, number];
}

/** One tile: h × w values per channel (1: coloured by the map or gray, 3: RGB), normalized to its own range. */
interface Tile {
  h: number;
  w: number;
  channels: 1 | 3;
  values: Float32Array;
}

/** Tiles laid out in a grid of `columns`, each magnified `scale` times, 1-pixel gaps. */
function grid(tiles: Tile[], columns: number, scale: number, colour: 'viridis' | 'gray'): Picture {
  const cols = Math.max(1, Math.min(columns, tiles.length));
  const rows = Math.ceil(tiles.length / cols);
  const th = Math.max(...tiles.map((t) => t.h)) * scale;
  const tw = Math.max(...tiles.map((t) => t.w)) * scale;
  const width = cols * (tw + 1) + 1;
  const height = rows * (th + 1) + 1;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  tiles.forEach((t, k) => {
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of t.values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const range = hi - lo || 1;
    const [oy, ox] = [1 + Math.floor(k / cols) * (th + 1), 1 + (k % cols) * (tw + 1)];
    for (let y = 0; y < t.h * scale; y++) {
      for (let x = 0; x < t.w * scale; x++) {
        const at = ((oy + y) * width + ox + x) * 3;
        const src = (Math.floor(y / scale) * t.w + Math.floor(x / scale)) * t.channels;
        if (t.channels === 3) {
          for (let c = 0; c < 3; c++) rgb[at + c] = Math.round((255 * (t.values[src + c] - lo)) / range);
        } else {
          const n = (t.values[src] - lo) / range;
          const [r, g, b] = colour === 'viridis' ? viridis(n) : [255 * n, 255 * n, 255 * n].map(Math.round);
          rgb.set([r, g, b], at);
        }
      }
    }
  });
  return picture(width, height, rgb);
}

/** RGB bytes as a Picture with its PNG encoding. */
export function picture(width: number, height: number, rgb: Uint8Array): Picture {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return { width, height, rgb, png: PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }) };
}

function layerOf(where: string, m: Model, layer: string | Layer): Layer {
  if (layer instanceof Layer) return layer;
  if (typeof layer !== 'string') throw new ConvkitError(`${where}: expected a layer name or a Layer but received ${describe(layer)}`, where);
  return m.getLayer(layer);
}

export interface FiltersOptions {
  /** 'weights' (default): the kernels themselves; 'activation': the input each filter responds to most (gradient ascent). */
  method?: 'weights' | 'activation';
  /** Tiles per row (default: about square). */
  columns?: number;
  /** Magnification of each tile (default: tiles about 48 pixels). */
  scale?: number;
  /** At most this many filters (default 64). */
  maxFilters?: number;
  /** Gradient ascent: steps (default 40) and step size relative to the gradient's RMS (default 0.1), seed of the start. */
  steps?: number;
  stepSize?: number;
  seed?: number;
}

/**
 * A convolution's filters as an image. With 'weights', a kernel over 1 or 3 input channels is one tile (gray or
 * colour); over more, one row per filter with a tile per input channel (the first 16). With 'activation', each
 * tile is the input (of the model's input shape) that most raises the filter's mean response, from gradient
 * ascent on a small random start: what a deeper filter looks for.
 * @example writeFileSync('filters.png', (await visualize.filters(model, 'conv2d_1')).png)
 * @throws ConvkitError when the layer is not a convolution.
 */
export async function filters(m: Model, layer: string | Layer, opts: FiltersOptions = {}): Promise<Picture> {
  const where = 'visualize.filters';
  const l = layerOf(where, m, layer);
  const kernel = l.params().find((p) => /\/(kernel|depthwise_kernel)$/.test(p.name))?.value;
  if (!kernel || kernel.rank !== 4) throw new ConvkitError(`${where}: layer '${l.name}' has no 2-D convolution kernel`, where);
  const [kh, kw, cin, count] = kernel.shape;
  const n = Math.min(count, opts.maxFilters ?? 64);
  let tiles: Tile[];
  let columns: number;
  if ((opts.method ?? 'weights') === 'activation') {
    tiles = await strongestInputs(m, l, n, opts);
    columns = opts.columns ?? Math.ceil(Math.sqrt(n));
  } else if (cin === 1 || cin === 3) {
    tiles = Array.from({ length: n }, (_, f) => {
      const values = new Float32Array(kh * kw * cin);
      for (let i = 0; i < kh * kw * cin; i++) values[i] = kernel.data[i * count + f];
      return { h: kh, w: kw, channels: cin as 1 | 3, values };
    });
    columns = opts.columns ?? Math.ceil(Math.sqrt(n));
  } else {
    const shown = Math.min(cin, 16);
    tiles = [];
    for (let f = 0; f < n; f++) {
      for (let c = 0; c < shown; c++) {
        const values = new Float32Array(kh * kw);
        for (let s = 0; s < kh * kw; s++) values[s] = kernel.data[(s * cin + c) * count + f];
        tiles.push({ h: kh, w: kw, channels: 1, values });
      }
    }
    columns = opts.columns ?? shown;
  }
  const scale = opts.scale ?? Math.max(1, Math.round(48 / Math.max(tiles[0].h, tiles[0].w)));
  return grid(tiles, columns, scale, 'gray');
}

/** Gradient ascent on the input: for each filter, the input that maximizes its mean response. */
async function strongestInputs(m: Model, l: Layer, n: number, opts: FiltersOptions): Promise<Tile[]> {
  if (m.inputs.length !== 1 || m.inputs[0].shape.length !== 3) throw new ConvkitError(`visualize.filters: 'activation' needs a model with one image input`, 'visualize.filters');
  const probe = graphModel({ inputs: m.inputs, outputs: l.output });
  const shape = m.inputs[0].shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const out = probe.outputs[0].shape;
  const channels = out[out.length - 1];
  const positions = out.slice(0, -1).reduce((a, b) => a * b, 1);
  const tiles: Tile[] = [];
  for (let f = 0; f < n; f++) {
    let s = (opts.seed ?? 1) * 9973 + f;
    const x = new Tensor(Float32Array.from({ length: size }, () => 0.5 + 0.1 * (((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5)), [1, ...shape]);
    const dy = new Tensor(new Float32Array(positions * channels), [1, ...out]);
    for (let p = 0; p < positions; p++) dy.data[p * channels + f] = 1 / positions;
    for (let step = 0; step < (opts.steps ?? 40); step++) {
      await probe.forward(x);
      const g = (await probe.backward(dy)) as Tensor;
      let rms = 0;
      for (const v of g.data) rms += v * v;
      rms = Math.sqrt(rms / g.size) || 1;
      for (let i = 0; i < size; i++) x.data[i] += ((opts.stepSize ?? 0.1) * g.data[i]) / rms;
    }
    // a colour image when the input has 3 channels, else its first channel
    const values = shape[2] === 3 || shape[2] === 1 ? Float32Array.from(x.data) : Float32Array.from(x.data.filter((_, i) => i % shape[2] === 0));
    tiles.push({ h: shape[0], w: shape[1], channels: shape[2] === 3 ? 3 : 1, values });
  }
  return tiles;
}

export interface FeatureMapOptions {
  columns?: number;
  scale?: number;
  /** At most this many channels (default 64). */
  maxMaps?: number;
}

/**
 * The activation maps one input produces at a layer (its output, channels as tiles, coloured with viridis).
 * `image` is one sample of the model's input shape (or a batch of one).
 * @example writeFileSync('maps.png', (await visualize.featureMaps(model, 'conv2d_1', xTest.slice(0, 1))).png)
 * @throws ConvkitError when the layer's output is not a map [H, W, C] or the image does not fit the model.
 */
export async function featureMaps(m: Model, layer: string | Layer, image: Tensor, opts: FeatureMapOptions = {}): Promise<Picture> {
  const where = 'visualize.featureMaps';
  const l = layerOf(where, m, layer);
  if (l.outputShape.length !== 3) throw new ConvkitError(`${where}: layer '${l.name}' outputs [${l.outputShape.join(', ')}], not a map [height, width, channels]`, where);
  const probe = graphModel({ inputs: m.inputs, outputs: l.output });
  const y = (await probe.predict(image)) as Tensor;
  const [h, w, c] = l.outputShape;
  const n = Math.min(c, opts.maxMaps ?? 64);
  const tiles: Tile[] = Array.from({ length: n }, (_, k) => {
    const values = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) values[p] = y.data[p * c + k];
    return { h, w, channels: 1, values };
  });
  return grid(tiles, opts.columns ?? Math.ceil(Math.sqrt(n)), opts.scale ?? Math.max(1, Math.round(64 / Math.max(h, w))), 'viridis');
}
