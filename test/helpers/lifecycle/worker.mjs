// A worker_thread that imports convkit and runs one async entry point (workerData.entry) over and over until
// it is terminated, or `workerData.runs` times and then exits. It posts 'ready' before its first run.
import { parentPort, workerData } from 'node:worker_threads';
import { buildEntries } from './entries.mjs';

const { opEntries, modelEntries } = buildEntries();
const run = opEntries[workerData.entry] ?? modelEntries[workerData.entry];
if (!run) throw new Error(`no entry ${workerData.entry}`);
parentPort.postMessage('ready');
for (let i = 0; workerData.runs === undefined || i < workerData.runs; i++) await run();
