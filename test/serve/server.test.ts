// The example inference server: health, predictions through the batcher, and a 4xx with a reason for
// every kind of bad request (never a crash), 503 on overload.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceServer } from '../../examples/server.js';
import { architectures, losses, ops, Tensor } from '../../src/index.js';

async function start(model: Parameters<typeof createInferenceServer>[0], opts: Parameters<typeof createInferenceServer>[1] = {}) {
  const server = createInferenceServer(model, opts);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    await new Promise((r) => server.close(r));
    await server.closeBatcher();
  };
  return { url, close };
}

const post = (url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${url}/predict`, { method: 'POST', body, headers });

describe('example inference server', () => {
  const model = architectures.lenet5({ seed: 5 });
  let srv: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    srv = await start(model, { maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => srv.close());

  it('GET /health answers with the backend', async () => {
    const r = await fetch(`${srv.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok', queued: 0 });
  });

  it('POST /predict returns the model output for one sample', async () => {
    const input = Array.from({ length: 784 }, (_, i) => (i % 29) / 29);
    const r = await post(srv.url, JSON.stringify({ input }));
    expect(r.status).toBe(200);
    const body = await r.json();
    const want = await model.predict(new Tensor(Float32Array.from(input), [1, 28, 28, 1]));
    expect(body.output).toEqual(Array.from(want.data));
    expect(body.class).toBe(body.output.indexOf(Math.max(...body.output)));
    // a model compiled on logits: probabilities are their softmax
    const logits = architectures.lenet5({ seed: 5 });
    logits.compile({ optimizer: 'adam', loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const other = await start(logits);
    try {
      const b2 = await (await post(other.url, JSON.stringify({ input }))).json();
      const p = Array.from(ops.softmax(new Tensor(Float32Array.from(b2.output), [1, 10])).data);
      expect(b2.probabilities).toEqual(p);
      expect(b2.probabilities.reduce((a: number, v: number) => a + v, 0)).toBeCloseTo(1, 5);
      expect(b2.class).toBe(p.indexOf(Math.max(...p)));
    } finally {
      await other.close();
    }
  });

  const bad: [string, () => Promise<Response>, number, RegExp][] = [
    ['invalid JSON', () => post(srv.url, '{"input": [1, 2'), 400, /not valid JSON/],
    ['no input field', () => post(srv.url, '{"pixels": []}'), 400, /expected \{"input": number\[\]\}/],
    ['input not an array', () => post(srv.url, '{"input": "abc"}'), 400, /expected \{"input": number\[\]\}/],
    ['wrong length', () => post(srv.url, JSON.stringify({ input: [1, 2, 3] })), 400, /expected 784 input values \(shape \[28, 28, 1\]\) but received 3/],
    ['a non-numeric value', () => post(srv.url, JSON.stringify({ input: [...new Array(783).fill(0), 'x'] })), 400, /input\[783\] is not a number that is finite in float32: "x"/],
    ['a numeric string', () => post(srv.url, JSON.stringify({ input: ['3', ...new Array(783).fill(0)] })), 400, /input\[0\] is not a number that is finite in float32: "3"/],
    ['NaN (serialized as null)', () => post(srv.url, JSON.stringify({ input: [Number.NaN, ...new Array(783).fill(0)] })), 400, /input\[0\] is not a number that is finite in float32: null/],
    ['1e39 (finite JSON, Infinity in float32)', () => post(srv.url, `{"input": [1e39${',0'.repeat(783)}]}`), 400, /input\[0\] is not a number that is finite in float32: 1e\+39/],
    ['an oversized body', () => post(srv.url, JSON.stringify({ input: new Array(40000).fill(0.5) })), 413, /exceeds the limit/],
    ['an unknown route', () => fetch(`${srv.url}/nope`), 404, /no route/],
    ['GET /predict', () => fetch(`${srv.url}/predict`), 405, /use POST/],
  ];
  for (const [what, send, status, reason] of bad) {
    it(`refuses ${what} with ${status} and a reason`, async () => {
      const r = await send();
      expect(r.status).toBe(status);
      expect((await r.json()).error).toMatch(reason);
    });
  }

  it('still serves after all of that', async () => {
    const r = await post(srv.url, JSON.stringify({ input: new Array(784).fill(0) }));
    expect(r.status).toBe(200);
  });

  it('answers 503 with Retry-After past maxQueue, and serves the rest', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = {
      inputShape: [2],
      predict: async (x: Tensor) => {
        await gate;
        return x;
      },
    };
    const s = await start(slow, { maxBatchSize: 1, maxDelayMs: 0, maxQueue: 2 });
    try {
      const first = post(s.url, '{"input": [1, 2]}'); // computing, held at the gate
      await new Promise((r) => setTimeout(r, 50));
      const queued = [post(s.url, '{"input": [3, 4]}'), post(s.url, '{"input": [5, 6]}')];
      await new Promise((r) => setTimeout(r, 50));
      const over = await post(s.url, '{"input": [7, 8]}');
      expect(over.status).toBe(503);
      expect(over.headers.get('retry-after')).toBe('1');
      expect((await over.json()).error).toMatch(/overloaded/);
      release();
      const ok = await Promise.all([first, ...queued]);
      expect(ok.map((r) => r.status)).toEqual([200, 200, 200]);
      expect((await ok[2].json()).output).toEqual([5, 6]);
    } finally {
      release();
      await s.close();
    }
  });

  it('prints one line, not a stack trace, when --model cannot be loaded', async () => {
    const { execFile } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const script = fileURLToPath(new URL('../../dist/examples/server.js', import.meta.url));
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(process.execPath, [script, '--model', '/nonexistent/model', '--port', '0'], (err, _out, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr })),
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^convkit server: loadModel: model.json: cannot read it/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
