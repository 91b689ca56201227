/**
 * Worker threads for a parametric bootstrap: its B samples are independent (each seeded from
 * (master seed, …, b)), so they are mapped over W workers and put back in order of b — the result
 * is the sequential one, byte for byte, whatever W. A task module exports a factory
 * `(context) => (b) => result`; each `map` sends the context (data, model, plain options) to every
 * worker once by structured clone, then only sample indices.
 */
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../io/worker-entry.js';

/** A task: `module` (URL) exports `name`, a factory `(context) => (b: number) => result`. */
export interface BootTask {
  module: string;
  name: string;
}

/** workerData of a bootstrap worker. */
export interface BootWorkerInit {
  task: BootTask;
  /** module URL of boot-worker.ts (loaded by src/io/worker-boot.mjs) */
  workerModule: string;
}
export type BootRequest = { context: unknown } | { b: number };
export type BootReply = { ready: true } | { b: number; value: unknown } | { b: number; error: string };

// as experiments/pool.ts: .ts from the sources (tsx registered in the worker), .js compiled
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const WORKER_MODULE = new URL(`./boot-worker${EXT}`, import.meta.url).href;
const BOOT = workerEntry(WORKER_MODULE);

/** A task module's URL beside this one (`boot-lrt` → ./boot-lrt.ts or .js). */
export function taskModule(relative: string): string {
  return new URL(`${relative}${EXT}`, import.meta.url).href;
}

export interface BootPool {
  /**
   * Runs samples 0 … B − 1 of `context`; `onResult` sees each result as it arrives (completion order).
   * @returns the results in order of b
   * @throws the first sample that threw, as "bootstrap sample b: message"; a worker that died
   */
  map<R>(context: unknown, B: number, onResult?: (value: R, b: number) => void): Promise<R[]>;
  close(): Promise<void>;
}

/** The first line of an error's message. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/** A worker that posted `ready`, or the reason it could not start. */
function startWorker(init: BootWorkerInit): Promise<Worker> {
  const worker = new Worker(BOOT, { workerData: init });
  return new Promise((resolve, reject) => {
    const onError = (e: unknown) => failed(firstLine(e));
    const onExit = (code: number) => failed(`exited with code ${code}`);
    const onReady = () => {
      // only our own listeners: removeAllListeners would also drop the Worker's internal ones
      worker.off('error', onError).off('exit', onExit);
      resolve(worker);
    };
    const failed = (why: string) => {
      worker.off('message', onReady);
      void worker.terminate();
      reject(new Error(`bootstrap worker failed to start: ${why}`));
    };
    worker.once('message', onReady).once('error', onError).once('exit', onExit);
  });
}

/** One map over started workers: dispatch one index at a time to each, collect by b. */
function mapOn<R>(
  workers: Worker[],
  context: unknown,
  B: number,
  onResult?: (value: R, b: number) => void,
): Promise<R[]> {
  const results = new Array<R>(B);
  let next = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    let settled = false;
    const detach: (() => void)[] = [];
    const end = (error?: Error) => {
      if (settled) return;
      settled = true;
      for (const off of detach) off();
      if (error) reject(error);
      else resolve(results);
    };
    const dispatch = (w: Worker) => {
      if (next < B) w.postMessage({ b: next++ } satisfies BootRequest);
    };
    const receive = (w: Worker, msg: BootReply) => {
      if (settled || !('b' in msg)) return;
      if ('error' in msg) return end(new Error(`bootstrap sample ${msg.b}: ${msg.error}`));
      results[msg.b] = msg.value as R;
      done++;
      try {
        onResult?.(msg.value as R, msg.b);
      } catch (e) {
        return end(e instanceof Error ? e : new Error(String(e)));
      }
      if (done === B) return end();
      dispatch(w);
    };
    for (const w of workers) {
      const onMessage = (msg: BootReply) => receive(w, msg);
      const onError = (e: unknown) => end(new Error(`bootstrap worker crashed: ${firstLine(e)}`));
      const onExit = (code: number) => end(new Error(`bootstrap worker crashed: exited with code ${code}`));
      w.on('message', onMessage).on('error', onError).on('exit', onExit);
      detach.push(() => w.off('message', onMessage).off('error', onError).off('exit', onExit));
      w.postMessage({ context } satisfies BootRequest);
    }
    if (B === 0) return end();
    for (const w of workers) dispatch(w);
  });
}

/**
 * Starts `workers` threads (at most `most`, the samples a map will ask for) that each load `task`.
 * @throws when a worker cannot start (e.g. the task module does not load)
 */
export async function openBootPool(task: BootTask, workers: number, most = Infinity): Promise<BootPool> {
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`workers must be a positive integer. Value: ${workers}`);
  const init: BootWorkerInit = { task, workerModule: WORKER_MODULE };
  const started = await Promise.allSettled(Array.from({ length: Math.min(workers, most) }, () => startWorker(init)));
  const threads = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const close = async () => {
    await Promise.all(threads.map((w) => w.terminate().catch(() => 0)));
  };
  const refused = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (refused) {
    await close();
    throw refused.reason;
  }
  // a map that failed leaves workers mid-sample: the pool is closed, no later map may use it
  let broken: Error | undefined;
  // a worker lost between maps (map's own listeners are off then) breaks the pool, not the process
  for (const w of threads)
    w.on('error', () => 0).on('exit', (code) => {
      broken ??= new Error(`bootstrap worker crashed: exited with code ${code}`);
    });
  return {
    async map<R>(context: unknown, B: number, onResult?: (value: R, b: number) => void) {
      if (broken) throw broken;
      try {
        return await mapOn<R>(threads, context, B, onResult);
      } catch (e) {
        broken = e as Error;
        await close();
        throw e;
      }
    },
    close,
  };
}

/** Opens a pool, runs `body` with it, and closes it however `body` ends. */
export async function withBootPool<T>(
  task: BootTask,
  workers: number,
  most: number,
  body: (pool: BootPool) => Promise<T>,
): Promise<T> {
  const pool = await openBootPool(task, workers, most);
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}
