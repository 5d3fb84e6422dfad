import { ConvkitError, describe, fail } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Per-batch or per-epoch numbers: loss, the metrics, val_loss, val_<metric>; at an epoch's end also lr (its last step's learning rate). */
export type Logs = Record<string, number>;

export interface TrainParams {
  epochs: number;
  /** The global index of the first epoch of this fit call (a resumed model continues its count). */
  initialEpoch: number;
  /** Batches per epoch; 0 when unknown (fitDataset over a dataset of unknown length). */
  stepsPerEpoch: number;
  /** Samples per epoch; 0 when unknown. */
  samples: number;
}

/** The part of a model callbacks may use (keeps this module free of the model's imports). */
export interface CallbackModel {
  stopTraining: boolean;
  getWeights(): Tensor[];
  setWeights(weights: Tensor[]): void;
  save(dir: string): Promise<void>;
  readonly optimizer: { learningRate: unknown; currentLearningRate(): number } | undefined;
}

/**
 * Hooks `fit` calls; any may be async (fit awaits it). Plain objects work: `{ onEpochEnd: (e, logs) => ... }`.
 * Epochs are counted globally, so a resumed model's first epoch is its saved count.
 */
export interface Callback {
  setModel?(model: CallbackModel): void;
  onTrainBegin?(params: TrainParams): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

interface Stream {
  write(s: string): unknown;
  isTTY?: boolean;
  /** A terminal's width (process.stdout has it); 80 when absent. */
  columns?: number;
}

const fmt = (k: string, v: number): string => `${k}: ${Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(3)}`;
const formatLogs = (logs: Logs): string =>
  Object.entries(logs)
    .map(([k, v]) => fmt(k, v))
    .join(' - ');
const seconds = (ms: number): string => (ms >= 10_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 1000).toFixed(1)}s`);

/**
 * One progress line that fits `columns - 1` characters (a line as wide as the terminal wraps on some terminals,
 * and a wrapped line leaves a stale one behind at the next carriage return): the bar shrinks from 30 to 10
 * cells, then the logs are cut, then the rate is dropped, then the line itself is cut.
 */
export function progressLine(columns: number, count: string, fraction: number, final: boolean, time: string, rate: string, logs: string): string {
  const max = Math.max(columns - 1, 1);
  const bar = (width: number): string => {
    const filled = Math.round(width * fraction);
    return `[${('='.repeat(Math.max(filled - (final ? 0 : 1), 0)) + (final ? '' : '>')).padEnd(width, '.')}]`;
  };
  for (const tail of [[time, rate, logs], [time, rate], [time]]) {
    const text = tail.filter(Boolean).join(' - ');
    const fixed = count.length + 6 + text.length; // "count [" and "] - " around the bar, then the tail
    const width = Math.min(30, max - fixed);
    if (width >= 10) return `${count} ${bar(width)} - ${text}`;
    if (tail.length === 3 && logs) {
      // with the narrowest bar, whatever room is left goes to the start of the logs
      const room = max - (count.length + 16 + time.length + 3 + rate.length + 3);
      if (room >= 12) return `${count} ${bar(10)} - ${time} - ${rate} - ${logs.slice(0, room - 1)}…`;
    }
  }
  return `${count} ${time}`.slice(0, max);
}

/**
 * Keras-like progress: on a TTY a bar per epoch with the batch count, samples per second, ETA and running
 * loss/metrics, fitted to the terminal's width at every redraw; otherwise (or with verbose 2) one plain line
 * per epoch. `fit` adds one unless `verbose: 0`.
 * @example callbacks.progressBar({ stream: process.stderr })
 */
export function progressBar(opts: { verbose?: 1 | 2; stream?: Stream } = {}): Callback {
  const stream = opts.stream ?? process.stdout;
  const bar = (opts.verbose ?? 1) === 1 && !!stream.isTTY;
  let params: TrainParams;
  let epochStart = 0;
  let lastDraw = 0;
  let batches = 0;
  // a dataset of unknown length (fitDataset without batchesPerEpoch) shows the count and batches per second
  const draw = (done: number, logs: Logs, final: boolean): void => {
    const total = params.stepsPerEpoch;
    const elapsed = Date.now() - epochStart;
    const time = final || !total ? seconds(elapsed) : `ETA ${seconds((elapsed / done) * (total - done))}`;
    const rate = elapsed <= 0 ? '' : params.samples ? `${Math.round((1000 * (done / total) * params.samples) / elapsed)} samples/s` : `${((1000 * done) / elapsed).toFixed(1)} batches/s`;
    const count = total ? `${String(done).padStart(String(total).length)}/${total}` : `${done}`;
    stream.write(`\r${progressLine(stream.columns ?? 80, count, total ? done / total : final ? 1 : 0, final, time, rate, formatLogs(logs))}\x1b[K`);
  };
  return {
    onTrainBegin(p) {
      params = p;
    },
    onEpochBegin(epoch) {
      epochStart = Date.now();
      lastDraw = 0;
      batches = 0;
      if (bar) stream.write(`Epoch ${epoch + 1}/${params.initialEpoch + params.epochs}\n`);
    },
    onBatchEnd(batch, logs) {
      batches = batch + 1;
      const now = Date.now();
      if (!bar || now - lastDraw < 100) return;
      lastDraw = now;
      draw(batch + 1, logs, false);
    },
    onEpochEnd(epoch, logs) {
      if (bar) {
        draw(params.stepsPerEpoch || batches, logs, true);
        stream.write('\n');
      } else {
        stream.write(`Epoch ${epoch + 1}/${params.initialEpoch + params.epochs} - ${seconds(Date.now() - epochStart)} - ${formatLogs(logs)}\n`);
      }
    },
  };
}

type Mode = 'min' | 'max' | 'auto';

function monitorTracker(where: string, monitor: string | undefined, mode: Mode, minDelta: number) {
  const better = (key: string, a: number, b: number): boolean => {
    const max = mode === 'max' || (mode === 'auto' && /acc/.test(key));
    return max ? a > b + minDelta : a < b - minDelta;
  };
  return {
    /** The monitored value: `monitor`, or by default val_loss when validation ran, else loss. */
    read(logs: Logs): [string, number] {
      const key = monitor ?? ('val_loss' in logs ? 'val_loss' : 'loss');
      const v = logs[key];
      if (typeof v !== 'number') fail(where, `monitor '${key}' among the epoch logs (${Object.keys(logs).join(', ')})`, describe(key));
      return [key, v];
    },
    better,
  };
}

export interface EarlyStoppingArgs {
  /** Default val_loss when validation runs, else loss. */
  monitor?: string;
  minDelta?: number;
  /** Stop after this many epochs in a row without improvement (Keras semantics; 0 acts as 1). Default 0. */
  patience?: number;
  /** 'auto' maximizes metrics named like accuracy and minimizes the rest. */
  mode?: Mode;
  /** Put back the best epoch's weights when stopping. */
  restoreBestWeights?: boolean;
}

/**
 * Stops fit when the monitored value stops improving.
 * @example callbacks.earlyStopping({ patience: 2, restoreBestWeights: true })
 * @throws ConvkitError (at epoch end) when the monitored key is not in the logs.
 */
export function earlyStopping(args: EarlyStoppingArgs = {}): Callback {
  const patience = args.patience ?? 0;
  const tracker = monitorTracker('earlyStopping', args.monitor, args.mode ?? 'auto', args.minDelta ?? 0);
  let model: CallbackModel;
  let best: number | undefined;
  let bestWeights: Tensor[] | undefined;
  let wait = 0;
  return {
    setModel(m) {
      model = m;
    },
    onTrainBegin() {
      best = undefined;
      bestWeights = undefined;
      wait = 0;
    },
    onEpochEnd(_epoch, logs) {
      const [key, v] = tracker.read(logs);
      if (best === undefined || tracker.better(key, v, best)) {
        best = v;
        wait = 0;
        if (args.restoreBestWeights) bestWeights = model.getWeights();
        return;
      }
      if (++wait >= Math.max(patience, 1)) {
        model.stopTraining = true;
        if (bestWeights) model.setWeights(bestWeights);
      }
    },
  };
}

export interface ModelCheckpointArgs {
  /** Where to save; `{epoch}` is replaced by the 1-based epoch number. */
  dir: string;
  /** Save only when the monitored value improves. */
  saveBestOnly?: boolean;
  monitor?: string;
  mode?: Mode;
}

/**
 * Saves the model (weights, config and optimizer state, so training can resume) after each epoch.
 * @example callbacks.modelCheckpoint({ dir: 'out/ckpt', saveBestOnly: true })
 */
export function modelCheckpoint(args: ModelCheckpointArgs): Callback {
  if (typeof args?.dir !== 'string' || args.dir === '') fail('modelCheckpoint', 'a dir to save into', args?.dir);
  const tracker = monitorTracker('modelCheckpoint', args.monitor, args.mode ?? 'auto', 0);
  let model: CallbackModel;
  let best: number | undefined;
  return {
    setModel(m) {
      model = m;
    },
    async onEpochEnd(epoch, logs) {
      if (args.saveBestOnly) {
        const [key, v] = tracker.read(logs);
        if (best !== undefined && !tracker.better(key, v, best)) return;
        best = v;
      }
      await model.save(args.dir.replaceAll('{epoch}', String(epoch + 1)));
    },
  };
}

/**
 * Sets the optimizer's learning rate at the start of each epoch to `schedule(epoch, currentRate)`.
 * @example callbacks.learningRateScheduler((epoch, lr) => (epoch < 3 ? lr : lr * 0.5))
 * @throws ConvkitError when the model is not compiled or the schedule returns a non-positive rate.
 */
export function learningRateScheduler(schedule: (epoch: number, lr: number) => number): Callback {
  let model: CallbackModel;
  return {
    setModel(m) {
      model = m;
    },
    onEpochBegin(epoch) {
      const opt = model.optimizer;
      if (!opt) throw new ConvkitError('learningRateScheduler: the model is not compiled', 'learningRateScheduler');
      const lr = schedule(epoch, opt.currentLearningRate());
      if (!(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) fail('learningRateScheduler', 'a positive learning rate from the schedule', describe(lr));
      opt.learningRate = lr;
    },
  };
}
