/**
 * How an op reaches its kernel. Each op is declared once, as a function that validates its arguments and
 * returns an OpRequest (which kernel, with which arguments, writing what output); `defineOp` turns that into
 * the three ways to call it:
 *   - at once on this thread (`ops.conv2d`),
 *   - as a Promise computed off the event loop on the native backend (`ops.conv2dAsync`),
 *   - as a request an OpProgram yields (`ops.request.conv2d`), which a driver runs with one kind of kernel.
 * A driver runs a program's requests in a RunContext, which supplies every output (a model's reused buffers,
 * or fresh tensors), and hands each kernel its output: `backend()[request.kernel](...request.args, out)`.
 */
import { backend } from '../backend/index.js';
import { ASYNC_KERNELS, type AsyncKernelName, type Backend, type Conv2DInfo, type KernelName, type StartedKernel } from '../backend/types.js';
import { fail } from '../errors.js';
import { loadNative } from '../native.js';
import { sizeOf, Tensor, type DType, type FloatArray, type Shape } from '../tensor.js';
import { checkShapeEquals, checkTensor } from '../validate.js';

/** What a kernel writes: a new tensor of this shape and dtype, or (in place) a given tensor. */
export type OutputSpec = { readonly shape: Shape; readonly dtype: DType } | Tensor;

/**
 * A validated op, not yet run: the kernel, its arguments but the output, and the output it writes; or, for an
 * op that needs no kernel (a linear activation), its result.
 */
export type OpRequest =
  | { readonly kernel: KernelName; readonly args: readonly unknown[]; readonly out: OutputSpec }
  | { readonly kernel: undefined; readonly result: Tensor };

/** The option of the ops that can write their result into a tensor the caller gives. */
export interface OutOptions {
  /**
   * The tensor to write the result into, as PyTorch's `out=`: of the result's shape and dtype, sharing no memory
   * with the op's inputs. The op returns it. Reusing one output across calls skips a fresh allocation (and its
   * first-touch page faults) per call.
   */
  out?: Tensor;
}

const overlaps = (a: Tensor, b: Tensor): boolean =>
  a.data.buffer === b.data.buffer &&
  a.data.byteOffset < b.data.byteOffset + b.data.byteLength &&
  b.data.byteOffset < a.data.byteOffset + a.data.byteLength;

/**
 * What an op writes: `out` when the caller gave one (checked: a tensor of this shape and dtype overlapping none
 * of the inputs, which the kernel reads while it writes), else a new tensor of this shape and dtype.
 */
export function outputSpec(where: string, out: unknown, shape: Shape, dtype: DType, inputs: Readonly<Record<string, Tensor | undefined>>): OutputSpec {
  if (out === undefined) return { shape, dtype };
  const t = checkTensor(where, 'out', out);
  if (t.dtype !== dtype) fail(where, `out of dtype ${dtype}`, t.dtype);
  checkShapeEquals(where, 'out', t.shape, shape);
  for (const [name, input] of Object.entries(inputs)) {
    if (input !== undefined && overlaps(t, input)) fail(where, `out sharing no memory with ${name}`, `an out whose storage overlaps ${name}'s`);
  }
  return t;
}

/** A request for `kernel(...args, out)`. */
export function kernelRequest(kernel: KernelName, args: readonly unknown[], out: OutputSpec): OpRequest {
  return { kernel, args, out };
}

/** A request whose result is already known. */
export function readyRequest(result: Tensor): OpRequest {
  return { kernel: undefined, result };
}

/**
 * Yielded by a program before its JS code reads or writes tensor values (rather than passing tensors to ops): a
 * pipelined run (runProgramAsync's `pipelined`) first waits there for every op it has started.
 */
export const SETTLE: unique symbol = Symbol('settle');

/**
 * Yielded by a program in the middle of long JS work (see copyInTurns): runProgramAsync lets the event loop run
 * there, without waiting for the ops in flight or ending the batch; runProgramSync goes on at once.
 */
export const TURN: unique symbol = Symbol('turn');

/**
 * A generator of OpRequests that receives each op's result at its `yield` and returns T. A bare `yield`
 * marks a batch boundary, where runProgramAsync lets the event loop run and a RunContext may take back the
 * batch's buffers; it settles too.
 */
export type OpProgram<T> = Generator<OpRequest | typeof SETTLE | typeof TURN | undefined, T, Tensor>;

/**
 * `program` as an unpipelined run would run it, inside a pipelined one: it first waits for every op in flight, and
 * for each of program's ops before handing over the op's output. For programs whose JS reads or writes tensor
 * values without yielding SETTLE first (a layer's program that says it touches values).
 */
export function* unpipelined<T>(program: OpProgram<T>): OpProgram<T> {
  yield SETTLE;
  let step = program.next();
  while (!step.done) {
    const req = step.value;
    let out: Tensor;
    try {
      out = yield req;
      if (req !== undefined && req !== SETTLE && req !== TURN) yield SETTLE;
    } catch (e) {
      step = program.throw(e);
      continue;
    }
    step = program.next(out);
  }
  return step.value;
}

/** Where the ops of a run get their outputs. */
export interface RunContext {
  /** A tensor of this shape and dtype that an op overwrites in full (its contents are unspecified). */
  alloc(shape: Shape, dtype: DType): Tensor;
  /** Called at each batch boundary: every tensor allocated since the last one is dead. */
  batchEnd?(): void;
}

/** Outputs this large are fresh mmap()s (native/runtime/malloc-tuning.h), which fault in 2 MiB pages where advised. */
const HUGE_PAGE_OUTPUT_BYTES = 32 << 20;

/**
 * Fresh tensors for every output: what ops called on their own use. Their storage is not zero-filled: a typed
 * array of Node's comes zeroed (calloc), one more write pass over an output the kernel then overwrites in full,
 * which costs a memory-bound layer (a depthwise convolution) as much as the layer itself. Outputs of 32 MiB and
 * up are backed by huge pages where the kernel has them, so they fault in 2 MiB at a time instead of 4 KiB.
 */
export const freshOutputs: RunContext = {
  alloc: (shape, dtype) => {
    const n = sizeOf(shape);
    const bytes = Buffer.allocUnsafeSlow(n * (dtype === 'float32' ? 4 : 8)); // an ArrayBuffer of its own
    if (dtype === 'float64') return new Tensor(new Float64Array(bytes.buffer, 0, n), shape);
    const data = new Float32Array(bytes.buffer, 0, n);
    if (bytes.length >= HUGE_PAGE_OUTPUT_BYTES) loadNative().addon?.adviseHugePages(data);
    return new Tensor(data, shape);
  },
};

function outputOf(out: OutputSpec, ctx: RunContext): Tensor {
  return out instanceof Tensor ? out : ctx.alloc(out.shape, out.dtype);
}

type Kernel = (...args: unknown[]) => Tensor;

function runNow(req: OpRequest, ctx: RunContext, b: Backend = backend()): Tensor {
  if (req.kernel === undefined) return req.result;
  return (b[req.kernel] as Kernel)(...req.args, outputOf(req.out, ctx));
}

// Handing a kernel to the compute thread and back costs about 120 us here (a thread wake-up each way and a trip
// through the event loop), more than a small op computes: a LeNet-sized layer at batch 64, a bias gradient, a pooling. Such ops
// run on the calling thread instead. Estimates are rough (80 GFLOP/s of arithmetic, 10 GB/s of memory
// traffic: what small convolutions and poolings reach on two Zen 3 cores); they only need the order of
// magnitude. At half those rates (40 and 5) the LeNet-5 batches of the batcher made two worker trips each
// and it served 25k requests/s at 64 clients; at these, none, and 47k.
const INLINE_OP_MICROS = 400;
const INLINE_TURN_MICROS = 500;

// The native kernels already leave the event loop free, but the reference backend's async ops resolve at
// once, so without a turn at each batch boundary a long fit would starve timers and I/O there.
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const ASYNC = new Set<string>(ASYNC_KERNELS);

function estimateMicros(kernel: KernelName, args: readonly unknown[]): number {
  const flops = (f: number): number => f / 80e3;
  const bytes = (b: number): number => b / 10e3;
  switch (kernel) {
    case 'matmul': {
      const [a, b, ta, tb] = args as [Tensor, Tensor, boolean, boolean];
      const [m, k] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
      return flops(2 * m * k * (tb ? b.shape[0] : b.shape[1]));
    }
    case 'conv2d':
    case 'conv2dMaxPool':
    case 'conv2dBackwardInput':
    case 'conv2dBackwardFilter': {
      const i = args[2] as Conv2DInfo;
      return flops((2 * i.batch * i.outH * i.outW * i.outC * i.kH * i.kW * i.inC) / i.groups);
    }
    case 'optimizerStep':
      return bytes(5 * 4 * (args[0] as Tensor).size);
    default: {
      // elementwise, pooling, softmax: proportional to the tensors read and written (about twice the inputs)
      let n = 0;
      for (const a of args) if (a instanceof Tensor) n += a.size;
      return bytes(2 * 4 * n);
    }
  }
}

/**
 * Runs one request for an async driver: on the compute thread when the backend can and the op is big enough
 * to pay for the trip (see INLINE_OP_MICROS), else on this thread. `budget.spent` counts the inline work since
 * this driver last let the event loop run; past INLINE_TURN_MICROS it yields a turn first, so one program
 * never holds the loop for long and concurrent programs take turns in order.
 */
async function runAsyncRequest(req: OpRequest, ctx: RunContext, budget: { spent: number }, b: Backend = backend()): Promise<Tensor> {
  if (req.kernel === undefined) return req.result;
  const micros = estimateMicros(req.kernel, req.args);
  if (b.async && ASYNC.has(req.kernel) && micros > INLINE_OP_MICROS) {
    const out = await (b.async[req.kernel as AsyncKernelName] as (...a: unknown[]) => Promise<Tensor>)(...req.args, outputOf(req.out, ctx));
    budget.spent = 0; // the result came back through the event loop: timers and I/O had their turn
    return out;
  }
  if (budget.spent + micros > INLINE_TURN_MICROS) {
    await nextTurn();
    budget.spent = micros;
    return runNow(req, ctx, b);
  }
  budget.spent += micros;
  return runNow(req, ctx, b);
}

const standalone = { spent: 0 };

// 256 KiB: about 1 ms where every page is a first touch (15 us per 4 KiB page on these VMs), 25 us where none is.
const COPY_SLICE = 1 << 16;

/**
 * dst.set(src, offset), slice by slice, yielding TURN whenever INLINE_TURN_MICROS have passed since the last one.
 * For copies a program makes in JS between its ops: a batch's rows into fresh or newly grown memory would
 * otherwise hold the event loop for tens of ms on first touches alone (16 MiB: 60 ms here).
 */
export function* copyInTurns(dst: FloatArray, src: FloatArray, offset = 0): OpProgram<void> {
  let last = performance.now();
  for (let i = 0; i < src.length; i += COPY_SLICE) {
    dst.set(src.subarray(i, Math.min(i + COPY_SLICE, src.length)), offset + i);
    if (performance.now() - last > INLINE_TURN_MICROS / 1000) {
      yield TURN;
      last = performance.now();
    }
  }
}

/** The three forms of one op, from its one declaration (see the file comment). */
export interface OpForms<A extends unknown[]> {
  now(...args: A): Tensor;
  async(...args: A): Promise<Tensor>;
  request(...args: A): OpRequest;
}

/**
 * Declares an op by its validation: `prepare` checks the arguments (throwing ConvkitErrors) and returns the
 * request; every form runs exactly that request, so the checks and the kernel call exist once.
 */
export function defineOp<A extends unknown[]>(prepare: (...args: A) => OpRequest): OpForms<A> {
  return {
    now: (...args) => runNow(prepare(...args), freshOutputs),
    async: async (...args) => runAsyncRequest(prepare(...args), freshOutputs, standalone),
    request: prepare,
  };
}

/** The forms of an op that is a program of other ops (a lowering): at once, off the event loop, and as the program. */
export interface ProgramOpForms<A extends unknown[]> {
  now(...args: A): Tensor;
  async(...args: A): Promise<Tensor>;
  program(...args: A): OpProgram<Tensor>;
}

/** Declares an op computed by a program of other ops; its checks run when the program starts. */
export function defineProgramOp<A extends unknown[]>(program: (...args: A) => OpProgram<Tensor>): ProgramOpForms<A> {
  return {
    now: (...args) => runProgramSync(program(...args)),
    async: (...args) => runProgramAsync(program(...args)),
    program,
  };
}

/**
 * Runs a program to its end on this thread with the synchronous kernels; batch boundaries pass at once.
 * A kernel's error is thrown into the program at its `yield`, so its `finally` blocks run.
 */
export function runProgramSync<T>(program: OpProgram<T>, ctx: RunContext = freshOutputs): T {
  let step = program.next();
  while (!step.done) {
    const req = step.value;
    if (req === undefined || req === SETTLE || req === TURN) {
      if (req === undefined) ctx.batchEnd?.();
      step = program.next();
      continue;
    }
    let out: Tensor;
    try {
      out = runNow(req, ctx);
    } catch (e) {
      step = program.throw(e);
      continue;
    }
    step = program.next(out);
  }
  return step.value;
}

/**
 * The ops a pipelined run has started and not yet waited for. The native backend runs started kernels in order,
 * so an op may start on what an unfinished one writes, in a shared buffer; a plain buffer an unfinished op
 * touches is copied at its start or written back at its end, so an op on one waits for the ops in flight first,
 * as do ops run on this thread and the program's JS at SETTLE. A small op (see INLINE_OP_MICROS) still runs on
 * this thread when nothing is in flight: a network of small ops then makes no trip at all.
 */
class InFlight {
  private readonly done: Promise<unknown>[] = [];
  private readonly plain = new Set<ArrayBufferLike>();

  constructor(private readonly b: Backend) {}

  get empty(): boolean {
    return this.done.length === 0;
  }

  /** Starts req; or, for an op to run as runAsyncRequest runs it, returns undefined once nothing is in flight. */
  async start(req: OpRequest & { kernel: KernelName }, ctx: RunContext): Promise<Tensor | undefined> {
    const b = this.b;
    const start = b.start && ASYNC.has(req.kernel) ? (b.start[req.kernel as AsyncKernelName] as (...a: unknown[]) => StartedKernel) : undefined;
    if (!start || (this.empty && estimateMicros(req.kernel, req.args) <= INLINE_OP_MICROS)) {
      await this.settleOrThrow();
      return undefined;
    }
    const out = outputOf(req.out, ctx);
    const buffers = [...req.args, out].flatMap((a) => (a instanceof Tensor ? [a.data.buffer] : ArrayBuffer.isView(a) ? [a.buffer] : []));
    const plain = buffers.filter((buf) => !(buf instanceof SharedArrayBuffer));
    if (plain.some((buf) => this.plain.has(buf))) await this.settleOrThrow();
    const started = start(...req.args, out);
    // a handler now, so a failure waits for settle() without counting as an unhandled rejection meanwhile
    this.done.push(started.done.then(() => undefined, (e: unknown) => ({ error: e })));
    for (const buf of plain) this.plain.add(buf);
    return started.out;
  }

  /** Waits for every op in flight; returns the first one's error, if one failed. */
  async settle(): Promise<{ error: unknown } | undefined> {
    if (this.empty) return undefined;
    const results = await Promise.all(this.done.splice(0));
    this.plain.clear();
    return results.find((r) => r !== undefined) as { error: unknown } | undefined;
  }

  private async settleOrThrow(): Promise<void> {
    const failed = await this.settle();
    if (failed) throw failed.error;
  }
}

/**
 * Runs a program with the `...Async` kernels (off the event loop on the native backend), one op after the
 * other: the same kernels in the same order as runProgramSync, so the same results bit for bit. Pipelined, it
 * starts each op without waiting for it (see InFlight) and gives the program its output at once, waiting only at
 * SETTLE, at a batch boundary and at the end: an inference run of many ops then pays one trip between threads
 * per batch instead of one per op. A program runs pipelined only if it yields SETTLE before every piece of JS
 * that reads or writes tensor values; a kernel's error is thrown into it where it next waits. Every op runs on
 * the backend active when the run started.
 */
export async function runProgramAsync<T>(program: OpProgram<T>, ctx: RunContext = freshOutputs, opts: { pipelined?: boolean } = {}): Promise<T> {
  const budget = { spent: 0 };
  const b = backend();
  const inFlight = opts.pipelined ? new InFlight(b) : undefined;
  try {
    let step = program.next();
    while (!step.done) {
      const req = step.value;
      if (req === TURN) {
        await nextTurn();
        budget.spent = 0;
        step = program.next();
        continue;
      }
      if (req === undefined || req === SETTLE) {
        const failed = await inFlight?.settle();
        if (failed) {
          step = program.throw(failed.error);
          continue;
        }
        if (req === undefined) {
          ctx.batchEnd?.();
          await nextTurn();
          budget.spent = 0;
        }
        step = program.next();
        continue;
      }
      let out: Tensor;
      try {
        const started = inFlight && req.kernel !== undefined ? await inFlight.start(req, ctx) : undefined;
        out = started ?? (await runAsyncRequest(req, ctx, budget, b));
      } catch (e) {
        step = program.throw(e);
        continue;
      }
      step = program.next(out);
    }
    const failed = await inFlight?.settle();
    if (failed) throw failed.error;
    return step.value;
  } finally {
    // what the started ops read and write stays theirs until they finish, even when the program failed
    await inFlight?.settle();
  }
}
