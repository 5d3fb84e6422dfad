#!/usr/bin/env node
/**
 * The `convkit` command: train, evaluate, predict and summary over saved models, on an IDX directory or the
 * digits the `mnist` package ships. `convkit <command> --help` describes each.
 */
import { realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { getBackend } from '../backend/index.js';
import { loadIdxDirectory, readIdx, idxImages } from '../data/idx.js';
import { mnistDigits } from '../data/mnist.js';
import { ConvkitError } from '../errors.js';
import { argmaxRows } from '../losses/labels.js';
import { architecture, digitsRecipe } from '../model/architectures.js';
import { loadModel } from '../io/load.js';
import type { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';
import * as visualize from '../visualize/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const DATA_OPTIONS = {
  data: { type: 'string' },
  seed: { type: 'string', default: '1' },
  train: { type: 'string', default: '8000' },
  test: { type: 'string', default: '2000' },
} as const satisfies Options;

const HELP: Record<string, string> = {
  main: `convkit — train and use CNNs from the command line

Usage: convkit <command> [options]

Commands:
  train      train a preset architecture and save it
  evaluate   loss and accuracy of a saved model on test data
  predict    predicted classes of a saved model
  summary    print a saved model's layers and parameter counts
  convert    convert a model between formats (convkit, TF.js Layers, Keras .keras/.h5 in; convkit, TF.js, ONNX out)
  visualize  a convolution's filters or one image's feature maps as a PNG
  report     an HTML report: summary, test results, confusion matrix, filters, feature maps

A model is a convkit model directory, a TF.js Layers model.json (or its directory), or a Keras .keras or
.h5 file.

Run 'convkit <command> --help' for a command's options.`,
  train: `Usage: convkit train [options]

  --arch <name>        lenet5 (default), tutorial or resnet (ResNet-20)
  --data <dir>         an IDX directory (train-/t10k-images/labels-idx?-ubyte[.gz]);
                       default: the digits the mnist package ships, split --train/--test
  --train <n>          bundled digits for training (default 8000)
  --test <n>           bundled digits held back for testing (default 2000)
  --epochs <n>         default 10
  --batch-size <n>     default 64
  --lr <rate>          initial Adam learning rate, cosine-decayed (default 0.003)
  --no-augment         train without random rotations and shifts
  --seed <n>           initialization, split, shuffle and dropout seed (default 1)
  --out <dir>          where to save model.json and its weights file (default out/model)
  --verbose <0|1|2>    0 silent, 1 progress bar, 2 a line per epoch (default 1)`,
  evaluate: `Usage: convkit evaluate <model> [--data <dir>] [--seed n --train n --test n]

Prints loss and accuracy on the IDX directory's test split, or on the bundled digits held back with the
same --seed/--train/--test as training used.`,
  predict: `Usage: convkit predict <model> [--input <file.idx[.gz]> | --data <dir>] [--limit n]

Prints one line per image: index, predicted class, its probability. Images come from an IDX images file,
an IDX directory's test split, or the bundled held-back digits (default). --limit defaults to 10.`,
  summary: `Usage: convkit summary <model>

Prints the model's layers, output shapes and parameter counts.`,
  convert: `Usage: convkit convert <model> <out> [--to convkit|tfjs|onnx]

Reads <model> (a convkit directory, a TF.js Layers model.json or its directory, a Keras .keras or .h5 file)
and writes it to <out>: an ONNX file when <out> ends in .onnx (opset 17, NHWC inputs), else a directory in
convkit's format, or TF.js's with --to tfjs (what TF.js's loadLayersModel reads).`,
  visualize: `Usage: convkit visualize <model> --layer <name> --out <file.png> [--maps [--index n]] [--method weights|activation]

Writes the layer's filters (--method weights: the kernels; activation: the input each filter responds to
most), or with --maps the feature maps of test image --index (default 0) of --data or the bundled digits.`,
  report: `Usage: convkit report <model> --out <file.html> [--data <dir> | --train n --test n --seed n] [--samples n]

Writes one HTML file: the model's summary, accuracy, per-class precision/recall/F1 and confusion matrix on the
test data, the first convolutions' filters, and the feature maps of --samples (default 3) test images.`,
};

function int(name: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ConvkitError(`convkit: expected --${name} to be a non-negative integer but received '${String(v)}'`, 'cli');
  return n;
}

async function testData(values: Record<string, unknown>): Promise<{ x: Tensor; y: Int32Array; train: { x: Tensor; y: Int32Array } }> {
  if (typeof values.data === 'string') {
    const d = await loadIdxDirectory(values.data);
    return { x: d.xTest, y: d.yTest, train: { x: d.xTrain, y: d.yTrain } };
  }
  const d = await mnistDigits({ train: int('train', values.train), test: int('test', values.test), seed: int('seed', values.seed) });
  return { x: d.xTest, y: d.yTest, train: { x: d.xTrain, y: d.yTrain } };
}

function modelDir(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new ConvkitError(`convkit ${command}: expected one model but received ${positionals.length}\n\n${HELP[command]}`, 'cli');
  return positionals[0];
}

async function train(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...DATA_OPTIONS,
      arch: { type: 'string', default: 'lenet5' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      out: { type: 'string', default: 'out/model' },
      verbose: { type: 'string', default: '1' },
      'no-augment': { type: 'boolean', default: false },
    },
  });
  const data = await testData(values);
  const seed = int('seed', values.seed);
  const [, h, w, c] = data.train.x.shape;
  const classes = Math.max(...data.train.y, ...data.y) + 1;
  const model = architecture(String(values.arch), { inputShape: [h, w, c], numClasses: classes, seed });
  const lr = values.lr === undefined ? undefined : Number(values.lr);
  if (lr !== undefined && !(lr > 0)) throw new ConvkitError(`convkit train: expected --lr to be a positive number but received '${values.lr}'`, 'cli');
  const recipe = digitsRecipe(data.train.x.shape[0], {
    epochs: values.epochs === undefined ? undefined : int('epochs', values.epochs),
    batchSize: values['batch-size'] === undefined ? undefined : int('batch-size', values['batch-size']),
    learningRate: lr,
    augment: !values['no-augment'],
  });
  model.compile({ optimizer: recipe.optimizer, loss: recipe.loss, metrics: ['accuracy'] });
  const verbose = int('verbose', values.verbose) as 0 | 1 | 2;
  if (verbose) model.summary();
  console.log(`training ${values.arch} on ${data.train.x.shape[0]} images (backend ${getBackend()})`);
  const started = performance.now();
  await model.fit(data.train.x, data.train.y, { epochs: recipe.epochs, batchSize: recipe.batchSize, augment: recipe.augment, seed, verbose });
  const seconds = (performance.now() - started) / 1000;
  const { loss, accuracy } = await model.evaluate(data.x, data.y);
  await model.save(String(values.out));
  console.log(`test accuracy ${(accuracy * 100).toFixed(2)}% (loss ${loss.toFixed(4)}) on ${data.x.shape[0]} images; trained in ${seconds.toFixed(1)} s; saved to ${values.out}`);
}

async function evaluate(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: DATA_OPTIONS, allowPositionals: true });
  const model = await loadModel(modelDir('evaluate', positionals));
  if (!model.loss) throw new ConvkitError('convkit evaluate: the saved model was never compiled, so it has no loss to evaluate', 'cli');
  const data = await testData(values);
  const logs = await model.evaluate(data.x, data.y);
  console.log(Object.entries(logs).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join('  '));
}

async function predict(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...DATA_OPTIONS, input: { type: 'string' }, limit: { type: 'string', default: '10' } }, allowPositionals: true });
  const model = (await loadModel(modelDir('predict', positionals))).singleOutput('convkit predict');
  const limit = int('limit', values.limit);
  const x = typeof values.input === 'string' ? idxImages(await readIdx(values.input)) : (await testData(values)).x;
  const n = Math.min(limit, x.shape[0]);
  const out = await model.predict(x.slice(0, n));
  const probs = model.loss?.fromLogits ? ops.softmax(out) : out;
  const classes = out.size / n;
  argmaxRows(probs.data, n, classes).forEach((k, i) => console.log(`${i}\t${k}\t${probs.data[i * classes + k].toFixed(4)}`));
}

async function summary(args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true });
  (await loadModel(modelDir('summary', positionals))).summary();
}

async function convert(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { to: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 2) throw new ConvkitError(`convkit convert: expected a model and an output path but received ${positionals.length} paths\n\n${HELP.convert}`, 'cli');
  const [from, to] = positionals;
  const format = values.to ?? (/\.onnx$/i.test(to) ? 'onnx' : 'convkit');
  if (format !== 'convkit' && format !== 'tfjs' && format !== 'onnx') throw new ConvkitError(`convkit convert: expected --to convkit, tfjs or onnx but received '${format}'`, 'cli');
  const model = await loadModel(from);
  if (format === 'onnx') await model.exportOnnx(to);
  else await model.save(to, { format });
  console.log(`${from} -> ${to} (${format})`);
}

async function visualizeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...DATA_OPTIONS, layer: { type: 'string' }, out: { type: 'string' }, maps: { type: 'boolean', default: false }, index: { type: 'string', default: '0' }, method: { type: 'string', default: 'weights' } },
    allowPositionals: true,
  });
  if (typeof values.layer !== 'string' || typeof values.out !== 'string') throw new ConvkitError(`convkit visualize: expected --layer and --out\n\n${HELP.visualize}`, 'cli');
  if (values.method !== 'weights' && values.method !== 'activation') throw new ConvkitError(`convkit visualize: expected --method weights or activation but received '${values.method}'`, 'cli');
  const model = await loadModel(modelDir('visualize', positionals));
  const picture = values.maps
    ? await visualize.featureMaps(model, values.layer, (await testData(values)).x.slice(int('index', values.index), int('index', values.index) + 1))
    : await visualize.filters(model, values.layer, { method: values.method });
  await writeFile(values.out, picture.png);
  console.log(`${values.out}: ${picture.width}x${picture.height}`);
}

async function reportCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...DATA_OPTIONS, out: { type: 'string' }, samples: { type: 'string', default: '3' } }, allowPositionals: true });
  if (typeof values.out !== 'string') throw new ConvkitError(`convkit report: expected --out\n\n${HELP.report}`, 'cli');
  const model = await loadModel(modelDir('report', positionals));
  const data = await testData(values);
  await visualize.writeReport(values.out, model, { x: data.x, y: data.y, samples: int('samples', values.samples) });
  console.log(values.out);
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = { train, evaluate, predict, summary, convert, visualize: visualizeCommand, report: reportCommand };

/** Runs the CLI on argv (without node and the script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP.main);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`convkit: unknown command '${command}'\n\n${HELP.main}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(HELP[command]);
    return 0;
  }
  try {
    await run(rest);
    return 0;
  } catch (e) {
    // Bad input (ours or parseArgs's) is reported as a message; anything else is a bug and keeps its stack.
    const code = (e as { code?: string }).code ?? '';
    if (e instanceof ConvkitError || code.startsWith('ERR_PARSE_ARGS')) {
      console.error((e as Error).message);
      return 1;
    }
    throw e;
  }
}

// Run when executed (also through npm's bin symlink), not when imported by tests.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
