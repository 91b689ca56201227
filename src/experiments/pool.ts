/**
 * A pool of worker threads evaluating sweep cells. Each worker loads the cell evaluator module
 * once (TypeScript, through tsx: see src/io/worker-boot.mjs) and takes one cell at a time; the main thread
 * receives the records in completion order and hands them to `onRecord` (which writes them).
 * Nothing a worker computes depends on which worker it is: every random draw of a cell comes from
 * the cell's own seed.
 */
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../io/worker-entry.js';
import type { Cell } from './plan.js';
import type { CellRecord, ExperimentSpec } from './types.js';

/** Evaluates one cell; may throw (the pool then records the cell as failed). */
export type CellEvaluator = (cell: Cell) => CellRecord;

/** A module usable as a cell evaluator: exports `createCellEvaluator(spec)`. */
export interface CellEvaluatorModule {
  createCellEvaluator(spec: ExperimentSpec): CellEvaluator | Promise<CellEvaluator>;
}

// Sibling modules have this module's own extension: .ts when run from the sources (tsx, vitest),
// .js from the compiled library (build/lib), where no TypeScript loader is needed or installed.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** URL of the real cell evaluator (simulate, fit by EM, Voronoi losses): ./cell.ts (./cell.js compiled). */
export const DEFAULT_EVALUATOR = new URL(`./cell${EXT}`, import.meta.url).href;

/** workerData of a sweep worker. */
export interface WorkerInit {
  spec: ExperimentSpec;
  /** module URL of the cell evaluator */
  evaluator: string;
  /** module URL of worker.ts (loaded by worker-boot.mjs) */
  workerModule: string;
}
export interface PoolRequest {
  id: number;
  cell: Cell;
}
export type PoolReply = { ready: true } | { id: number; record: CellRecord };

/** The record of a cell whose evaluation threw: status "failed" with the error message. */
export function failedRecord(cell: Cell, error: unknown, seconds = 0): CellRecord {
  const msg = error instanceof Error ? error.message : String(error);
  return {
    n: cell.n,
    rep: cell.rep,
    seed: cell.seed,
    model: cell.label,
    status: 'failed',
    error: msg.split('\n')[0]!,
    metrics: {},
    logLik: null as unknown as number, // JSON has no NaN: null marks "no value"
    iterations: 0,
    converged: false,
    warnings: [],
    seconds,
  };
}

export interface PoolOptions {
  spec: ExperimentSpec;
  /** number of worker threads (≥ 1; capped at the number of cells) */
  workers: number;
  /** module URL of the cell evaluator (default {@link DEFAULT_EVALUATOR}) */
  evaluator?: string;
  /** called on the main thread with each finished record, in completion order */
  onRecord: (record: CellRecord, cell: Cell) => void;
  /** aborting terminates the workers; the cells in flight are lost */
  signal?: AbortSignal;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** the cell in flight */
  busy?: { id: number; cell: Cell };
  /** terminated by the pool (not a crash) */
  retired: boolean;
}

const WORKER_MODULE = new URL(`./worker${EXT}`, import.meta.url).href;
const BOOT = workerEntry(WORKER_MODULE);

/**
 * Evaluates `cells` on worker threads, in the given order of dispatch.
 * A worker that dies mid-cell has that cell recorded as failed and is replaced; a worker that
 * cannot start (e.g. the evaluator module does not load) rejects the whole run.
 * @returns `interrupted: true` when `signal` aborted the run
 * @throws when a worker cannot start, or when `onRecord` throws (e.g. the disk is full)
 */
export function runPool(cells: readonly Cell[], options: PoolOptions): Promise<{ interrupted: boolean }> {
  const { spec, onRecord, signal } = options;
  if (!Number.isInteger(options.workers) || options.workers < 1)
    throw new Error(`workers must be a positive integer. Value: ${options.workers}`);
  const init: WorkerInit = { spec, evaluator: options.evaluator ?? DEFAULT_EVALUATOR, workerModule: WORKER_MODULE };
  const total = cells.length;
  if (total === 0) return Promise.resolve({ interrupted: false });
  if (signal?.aborted) return Promise.resolve({ interrupted: true });

  return new Promise((resolve, reject) => {
    const slots = new Set<Slot>();
    let next = 0;
    let finished = 0;
    let ids = 0;
    let settled = false;

    const shutdown = async () => {
      const all = [...slots];
      for (const s of all) s.retired = true;
      await Promise.all(all.map((s) => s.worker.terminate().catch(() => 0)));
    };
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void shutdown().then(fn);
    };
    const onAbort = () => settle(() => resolve({ interrupted: true }));
    signal?.addEventListener('abort', onAbort, { once: true });

    const deliver = (record: CellRecord, cell: Cell) => {
      try {
        onRecord(record, cell);
      } catch (e) {
        settle(() => reject(e));
        return;
      }
      finished++;
      if (finished === total) settle(() => resolve({ interrupted: false }));
    };

    const dispatch = (s: Slot) => {
      if (settled) return;
      if (next >= total) {
        s.retired = true;
        slots.delete(s);
        void s.worker.terminate();
        return;
      }
      const cell = cells[next++]!;
      s.busy = { id: ++ids, cell };
      s.worker.postMessage({ id: s.busy.id, cell } satisfies PoolRequest);
    };

    const spawn = () => {
      const worker = new Worker(BOOT, { workerData: init });
      const s: Slot = { worker, ready: false, retired: false };
      slots.add(s);
      let crashed = false;
      const crash = (why: string) => {
        if (crashed || s.retired || settled) return;
        crashed = true;
        slots.delete(s);
        if (!s.ready) {
          settle(() => reject(new Error(`sweep worker failed to start: ${why}`)));
          return;
        }
        const lost = s.busy;
        s.busy = undefined;
        void worker.terminate();
        if (lost) deliver(failedRecord(lost.cell, `worker crashed: ${why}`), lost.cell);
        if (!settled && next < total) spawn();
      };
      worker.on('message', (msg: PoolReply) => {
        if (settled || s.retired) return;
        if ('ready' in msg) {
          s.ready = true;
          dispatch(s);
          return;
        }
        const cell = s.busy?.cell;
        if (!cell || s.busy?.id !== msg.id) return;
        s.busy = undefined;
        deliver(msg.record, cell);
        dispatch(s);
      });
      worker.on('error', (e) => crash(e instanceof Error ? e.message : String(e)));
      worker.on('exit', (code) => crash(`exited with code ${code}`));
    };

    const n = Math.min(options.workers, total);
    for (let t = 0; t < n; t++) spawn();
  });
}
