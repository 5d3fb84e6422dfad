// Worker thread: loads the model saved at workerData.dir with the built package, predicts workerData.x
// (transferred), and posts the output back.
import { parentPort, workerData } from 'node:worker_threads';
import { loadModel, Tensor, getBackend } from '../../dist/src/index.js';

const model = await loadModel(workerData.dir);
const y = await model.predict(new Tensor(workerData.x, workerData.shape));
parentPort.postMessage({ data: y.data, shape: y.shape, backend: getBackend() }, [y.data.buffer]);
