// A fresh process for the worker lifecycle suite (test/robustness/workers.test.ts); its main thread imports
// convkit only when asked to. Scenarios:
//   exit-cycles [--main-loads] [--async]
//                                30 workers one after another import convkit, compute (with --async, every
//                                other one an async op too) and exit
//   terminate <entry...>         per entry: start a worker looping it, terminate it at a random moment, 3 times
//   many                         8 workers at once, on different entries, ended at staggered moments; 4 rounds
//   entries                      the names of ops' async exports and of the entries that exercise them
// Prints one JSON line of results; any crash shows as a signal or an exit code in the parent.
import { Worker } from 'node:worker_threads';

const here = (f) => new URL(f, import.meta.url);
const [scenario, ...rest] = process.argv.slice(2);
const rng = (() => {
  let s = 12345;
  return () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
})();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function start(file, workerData) {
  const w = new Worker(here(file), { workerData });
  const exited = new Promise((resolve, reject) => {
    w.once('error', reject);
    w.once('exit', resolve);
  });
  const ready = new Promise((resolve) => w.once('message', resolve));
  return { w, exited, ready };
}

async function exitCycles(mainLoads, withAsync) {
  if (mainLoads) await import('../../../dist/src/index.js');
  const rss = [];
  for (let i = 0; i < 30; i++) {
    const { exited } = start('exit-worker.mjs', { async: withAsync && i % 2 === 1 });
    const code = await exited;
    if (code !== 0) throw new Error(`worker ${i} exited with ${code}`);
    globalThis.gc?.();
    rss.push(process.memoryUsage().rss);
  }
  return { cycles: 30, rssGrowthMiB: (rss[29] - rss[4]) / 2 ** 20 };
}

async function terminate(entries) {
  let terminated = 0;
  for (const entry of entries) {
    for (let k = 0; k < 3; k++) {
      const { w, exited, ready } = start('worker.mjs', { entry });
      await ready;
      await sleep(rng() * 40);
      await w.terminate();
      await exited;
      terminated++;
    }
  }
  return { terminated };
}

async function many() {
  const entries = ['conv2dAsync', 'predict', 'fit', 'optimizerStepAsync', 'matmulAsync', 'batcher', 'evaluate', 'conv2dBackwardFilterAsync'];
  const rss = [];
  let ended = 0;
  for (let round = 0; round < 4; round++) {
    const workers = entries.map((entry, i) => ({ ...start('worker.mjs', { entry, runs: i % 2 === 0 ? undefined : 2 }), entry }));
    await Promise.all(workers.map((x) => x.ready));
    await Promise.all(
      workers.map(async (x, i) => {
        if (i % 2 === 0) {
          await sleep(rng() * 100);
          await x.w.terminate();
        }
        const code = await x.exited;
        if (i % 2 === 1 && code !== 0) throw new Error(`${x.entry} exited with ${code}`);
        ended++;
      }),
    );
    globalThis.gc?.();
    rss.push(process.memoryUsage().rss);
  }
  return { ended, rssGrowthMiB: (rss[3] - rss[0]) / 2 ** 20, rssMiB: rss.map((r) => Math.round(r / 2 ** 20)) };
}

async function entryNames() {
  const { buildEntries, asyncOpNames } = await import('./entries.mjs');
  const { opEntries, modelEntries } = buildEntries();
  return { asyncOpNames, opEntries: Object.keys(opEntries), modelEntries: Object.keys(modelEntries) };
}

const result =
  scenario === 'exit-cycles' ? await exitCycles(rest.includes('--main-loads'), rest.includes('--async'))
  : scenario === 'terminate' ? await terminate(rest)
  : scenario === 'many' ? await many()
  : scenario === 'entries' ? await entryNames()
  : (() => { throw new Error(`unknown scenario ${scenario}`); })();
console.log(JSON.stringify(result));
