/**
 * A small HTTP inference server: loads a saved model and answers predictions through the dynamic batcher.
 *
 *   npm run build:ts && node dist/examples/server.js --model out/digits --port 8080
 *   curl -s localhost:8080/health
 *   curl -s -X POST localhost:8080/predict -H 'content-type: application/json' -d '{"input": [0, 0, ...784 values]}'
 *
 * POST /predict takes {"input": number[]} (one sample, flattened row-major in the model's input shape) and
 * returns {"output": number[], "class": number, "probabilities": number[]}: the model's output, its largest
 * entry's index, and the class probabilities (the softmax of the output when the model was trained on
 * logits, `loss.fromLogits`; else the output). Bad input gets a 4xx with a reason; overload gets a 503.
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { ConvkitError, createBatcher, getBackend, loadModel, nativeInfo, ops, type BatchPredictor, type BatcherOptions } from '../src/index.js';

export interface ServerOptions extends Partial<Omit<BatcherOptions, 'inputShape'>> {
  /** Largest request body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** An http.Server (not yet listening) that serves `model` through a batcher. */
export function createInferenceServer(
  model: BatchPredictor & { inputShape: readonly (number | null)[]; loss?: { fromLogits?: boolean } },
  opts: ServerOptions = {},
): http.Server & { closeBatcher(): Promise<void> } {
  const inputShape = model.inputShape.filter((d): d is number => d !== null);
  const batcher = createBatcher(model, { inputShape, maxBatchSize: opts.maxBatchSize ?? 64, maxDelayMs: opts.maxDelayMs ?? 2, maxQueue: opts.maxQueue ?? 4096 });
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const expected = inputShape.reduce((a, b) => a * b, 1);

  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    try {
      if (req.method === 'GET' && req.url === '/health') {
        return send(200, { status: 'ok', backend: getBackend(), isa: getBackend() === 'native' ? nativeInfo().isa : undefined, queued: batcher.queued });
      }
      if (req.url !== '/predict') throw new HttpError(404, `no route ${req.method} ${req.url}; try GET /health or POST /predict`);
      if (req.method !== 'POST') throw new HttpError(405, 'use POST /predict');
      const body = await readBody(req, maxBody);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new HttpError(400, 'body is not valid JSON');
      }
      const input = (parsed as { input?: unknown } | null)?.input;
      if (!Array.isArray(input)) throw new HttpError(400, 'expected {"input": number[]}');
      if (input.length !== expected) throw new HttpError(400, `expected ${expected} input values (shape [${inputShape.join(', ')}]) but received ${input.length}`);
      // finite once rounded to float32: 1e39 is a finite JSON number but Infinity as a model input
      const bad = input.findIndex((v) => typeof v !== 'number' || !Number.isFinite(Math.fround(v)));
      if (bad >= 0) throw new HttpError(400, `input[${bad}] is not a number that is finite in float32: ${JSON.stringify(input[bad])}`);
      const controller = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
      });
      let y;
      try {
        y = await batcher.predict(input as number[], { signal: controller.signal });
      } catch (e) {
        if (e instanceof ConvkitError && /overloaded/.test(e.message)) throw new HttpError(503, e.message);
        throw e;
      }
      const output = Array.from(y.data);
      const probabilities = model.loss?.fromLogits ? Array.from(ops.softmax(y.reshape([1, y.size])).data) : output;
      send(200, { output, class: output.indexOf(Math.max(...output)), probabilities });
    } catch (e) {
      if (res.headersSent || res.destroyed) return;
      if (e instanceof HttpError) send(e.status, { error: e.message }, e.status === 503 ? { 'retry-after': '1' } : {});
      else send(500, { error: e instanceof Error ? e.message : String(e) });
    }
  });
  return Object.assign(server, { closeBatcher: () => batcher.close() });
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      return reject(new HttpError(413, `body of ${declared} bytes exceeds the limit of ${limit}`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `body exceeds the limit of ${limit} bytes`));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function main(): Promise<void> {
  const arg = (name: string, dflt: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : dflt;
  };
  let model;
  try {
    model = (await loadModel(arg('model', 'out/digits'))).singleOutput('convkit server');
  } catch (e) {
    console.error(`convkit server: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
    return;
  }
  const port = Number(arg('port', '8080'));
  // the model's weights never change here: a session prepares them once (its loss says whether outputs are logits)
  const session = Object.assign(model.inferenceSession(), { loss: model.loss });
  const server = createInferenceServer(session, { maxBatchSize: Number(arg('max-batch', '64')), maxDelayMs: Number(arg('max-delay-ms', '2')) });
  server.listen(port, '127.0.0.1', () => console.log(`convkit inference server on http://127.0.0.1:${port} (backend ${getBackend()})`));
  const stop = () => server.close(() => void server.closeBatcher());
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
