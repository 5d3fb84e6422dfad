/**
 * File access for model directories that neither trusts what it reads nor loses what it writes: bounded reads
 * of regular files only, durable writes (data and directory entries flushed), and a lock that serializes the
 * saves to one directory, across the processes of one machine and within one.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** Why a read was refused: the message names the file, never quotes its contents. */
export class FileError extends Error {}

/**
 * The bytes of `path` if it is a regular file (after symlinks) of at most `maxBytes`: a FIFO, a device or a
 * directory is refused without blocking on it (opened non-blocking, checked with fstat on the open handle, so
 * it cannot be swapped between the check and the read). `expectBytes` refuses any other size before reading.
 * @throws FileError saying what the file is instead.
 */
export async function readRegularFile(path: string, maxBytes: number, expectBytes?: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new FileError(`cannot open it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new FileError(`it is not a regular file (${kindOf(st)})`);
    if (expectBytes !== undefined && st.size !== expectBytes) {
      throw new FileError(`it has ${st.size} bytes where model.json says ${expectBytes}: ${st.size < expectBytes ? 'it is truncated' : 'it belongs to another model.json'}`);
    }
    if (st.size > maxBytes) throw new FileError(`it has ${st.size} bytes, more than the ${maxBytes} allowed`);
    const data = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(data, 0, st.size, 0);
    if (bytesRead !== st.size) throw new FileError(`it shrank to ${bytesRead} bytes while being read`);
    return data;
  } finally {
    await fh.close();
  }
}

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}

/**
 * Writes a new file and flushes it to disk; fails if `path` exists (names are chosen fresh). A write that
 * fails part-way (a full disk) removes what it wrote.
 */
export async function writeDurably(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  }
}

/** Flushes a directory's entries (renames, creations, removals) to disk. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A name no other writer picks: `<prefix><pid>-<8 random hex>`. */
export function freshName(prefix: string): string {
  return `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`;
}

const LOCK_FILE = '.convkit-save.lock';
const inProcess = new Map<string, Promise<void>>();

/**
 * Runs `fn` holding the save lock of `dir` (created if missing): saves in this process queue behind each
 * other in call order (the place is taken before anything is awaited); across processes the lock is a file
 * created exclusively, holding its owner's pid and host. A lock left by a process that
 * died (killed mid-save) is taken over; one held by a live process is waited for up to `waitMs`.
 * @throws Error naming the holder when the wait runs out.
 */
export async function withDirLock<T>(dir: string, fn: () => Promise<T>, waitMs = 30_000): Promise<T> {
  const key = resolve(dir);
  const before = inProcess.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  const chained = before.then(() => mine);
  inProcess.set(key, chained);
  try {
    await before;
    await mkdir(dir, { recursive: true });
    const lock = join(dir, LOCK_FILE);
    await acquire(lock, waitMs);
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  } finally {
    done();
    if (inProcess.get(key) === chained) inProcess.delete(key);
  }
}

async function acquire(lock: string, waitMs: number): Promise<void> {
  const host = hostname();
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await writeDurably(lock, new TextEncoder().encode(`${process.pid}\n${host}\n${new Date().toISOString()}\n`));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readHolder(lock);
    // left by a save that was killed: its holder is dead, or it died between creating the file and writing it
    if (holder ? holder.host === host && !alive(holder.pid) : await olderThan(lock, UNWRITTEN_LOCK_MS)) {
      await rm(lock, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder ? `process ${holder.pid} on ${holder.host}, since ${holder.since}` : 'another process';
      throw new Error(`another save to this directory is in progress (${who}); if no such save is running, delete ${lock}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A lock's holder record, or undefined while it is not complete (being written, or its writer was killed). */
async function readHolder(lock: string): Promise<{ pid: number; host: string; since: string } | undefined> {
  try {
    const [pid, host, since] = (await readRegularFile(lock, 4096)).toString('utf8').split('\n');
    return /^[1-9]\d*$/.test(pid) && host && since ? { pid: Number(pid), host, since } : undefined;
  } catch {
    return undefined; // being created or removed right now
  }
}

/**
 * A lock file is written within microseconds of its creation: one still without a complete holder record after
 * this long belongs to a save killed in between, and is taken over.
 */
const UNWRITTEN_LOCK_MS = 2000;

async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return (await stat(path)).mtimeMs < Date.now() - ms;
  } catch {
    return false; // gone: the next attempt creates it
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the entries of `dir` whose names match `stale` (a save's leftovers); missing ones are fine. */
export async function removeStale(dir: string, stale: (name: string) => boolean): Promise<void> {
  for (const name of await readdir(dir)) if (stale(name)) await rm(join(dir, name), { force: true });
}
