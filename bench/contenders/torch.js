// PyTorch contender: a python3 process (torch_peer.py) running the same described graph with the same
// weights, driven over line-delimited JSON; each timed step is measured inside that process. Debian's
// python3-torch (with libopenblas0-pthread: without it, its dense layers run on the reference BLAS).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const b64 = (f32) => Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength).toString('base64');
const PYTHON = process.env.CONVKIT_BENCH_PYTHON ?? '/usr/bin/python3';

/** The python process and its request/reply channel. */
function spawnPeer() {
  const proc = spawn(PYTHON, [fileURLToPath(new URL('./torch_peer.py', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const failed = new Promise((resolve) => proc.on('error', (e) => resolve({ error: e.message })));
  const ask = async (req) => {
    proc.stdin.write(`${JSON.stringify(req)}\n`);
    const next = await Promise.race([lines.next(), failed]);
    if (next.error) throw new Error(next.error);
    if (next.done) throw new Error('the python process ended');
    const reply = JSON.parse(next.value);
    if (reply.error) throw new Error(reply.error);
    return reply;
  };
  return { proc, ask };
}

const unavailable = (e) => console.log(`PyTorch unavailable (${e.message.split('\n')[0]}); apt-get install python3-torch libopenblas0-pthread`);
const floats = (s) => new Float32Array(Uint8Array.from(Buffer.from(s, 'base64')).buffer);
const wireArray = (t) => ({ shape: t.shape, data: b64(t.data) });

/**
 * PyTorch running one layer's op (kind and options as bench/variants.js describes them) at `threads` threads on
 * the given tensors (convkit's layouts): its forward, backward-input and backward-filter results in convkit's
 * layouts, and then each pass timed in the peer. Undefined (reason printed) without torch.
 */
export async function torchOps(threads) {
  const { proc, ask } = spawnPeer();
  try {
    await ask({ cmd: 'ping' });
  } catch (e) {
    unavailable(e);
    proc.kill();
    return undefined;
  }
  return {
    async setup(op, opts, x, ws, dy) {
      const r = await ask({ cmd: 'op', op, opts, threads, x: wireArray(x), w: ws.map(wireArray), dy: wireArray(dy) });
      return { version: r.torch, y: floats(r.y), dx: floats(r.dx), dw: floats(r.dw) };
    },
    /** The median of `runs` calls back to back, timed in the peer. */
    time: async (pass, runs = 1) => (await ask({ cmd: 'op_time', pass, runs })).seconds,
    close() {
      proc.stdin.end();
    },
  };
}

/** A PyTorch peer for the graph at `threads` intra-op threads, or undefined (reason printed) without torch. */
export async function torchPeer(graph, threads) {
  const { proc, ask } = spawnPeer();
  const wire = (g) => ({ ...g, layers: g.layers.map((l) => ({ ...l, weights: Object.fromEntries(Object.entries(l.weights).map(([k, w]) => [k, { shape: w.shape, data: b64(w.data) }])) })) });
  let info;
  try {
    info = await ask({ cmd: 'build', graph: wire(graph), threads });
  } catch (e) {
    unavailable(e);
    proc.kill();
    return undefined;
  }
  return {
    version: info.torch,
    async setData(xTrain, labels, xInfer) {
      await ask({ cmd: 'data', trainX: b64(xTrain.data), trainShape: xTrain.shape, labels: Array.from(labels), inferX: b64(xInfer.data), inferShape: xInfer.shape });
    },
    async predict(x) {
      const { y } = await ask({ cmd: 'predict', x: b64(x.data), shape: x.shape });
      return floats(y);
    },
    /** Mean cross-entropy of the training batch in training mode (batch statistics), nothing updated. */
    loss: async () => (await ask({ cmd: 'loss' })).loss,
    /** One SGD training step on the data batch; its seconds, timed in the peer. */
    trainStep: async () => (await ask({ cmd: 'train' })).seconds,
    /** One inference pass over the data's inference batch; its seconds, timed in the peer. */
    inferStep: async () => (await ask({ cmd: 'infer' })).seconds,
    close() {
      proc.stdin.end();
    },
  };
}
