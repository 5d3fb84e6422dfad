// onnxruntime-node contender: the convkit model as convkit's own ONNX export writes it (model.exportOnnx: NHWC in
// and out, channels-first inside, opset 17), run with the CPU provider.
import { createRequire } from 'node:module';
import { onnxBytes } from '../../dist/src/io/onnx.js';

const require = createRequire(import.meta.url);

/** An onnxruntime-node session for the model, or undefined (with the reason printed) if it cannot load. */
export async function onnxSession(model, threads) {
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    console.log(`onnxruntime-node unavailable (${e.message.split('\n')[0]}); run 'npm install' in bench/`);
    return undefined;
  }
  // Its idle intra-op threads would otherwise spin for a while after each run, on the cores convkit then uses:
  // measured here, a convkit predict right after an onnxruntime run took 76 ms instead of 54. Without spinning
  // onnxruntime's own runs were no slower (11.6-12.5 ms either way).
  const session = await ort.InferenceSession.create(onnxBytes(model), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const [input, output] = [model.inputNames[0], model.outputNames[0]];
  return {
    async run(x) {
      const res = await session.run({ [input]: new ort.Tensor('float32', x.data, [...x.shape]) });
      return res[output].data;
    },
  };
}
