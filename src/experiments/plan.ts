/**
 * The plan of a sweep: its cells (fitted model × n × replication), their seeds and shards.
 *
 * A cell's seed is deriveSeed(master, n, rep) — nothing else — so its data and initialisation
 * never depend on the worker, the shard or the order that ran it; the data seed and the init seed
 * are derived from it. Every fitted model of a cell sees the same seed (common random numbers: with
 * one truth, the same data). Replications are 0-based.
 */
import { deriveSeed } from '../random/seed.js';
import type { CellRecord, ExperimentSpec } from './types.js';

/** One unit of work: fit model `model` (index into spec.models) at (n, rep). */
export interface Cell {
  /** index into spec.models */
  model: number;
  /** spec.models[model].label */
  label: string;
  n: number;
  /** replication, 0-based */
  rep: number;
  /** deriveSeed(spec.seed, n, rep) */
  seed: number;
}

/** A deterministic share of the cells: shard `index` of `count` (1-based, as in `--shard 2/8`). */
export interface Shard {
  index: number;
  count: number;
}

/** The seed of cell (n, rep): deriveSeed(master, n, rep). */
export function cellSeed(master: number, n: number, rep: number): number {
  return deriveSeed(master, n, rep);
}

/** Seed of the simulated data of a cell. */
export function dataSeed(seed: number): number {
  return deriveSeed(seed, 1);
}

/** Seed of the initialisation (and restarts) of a cell's fit. */
export function initSeed(seed: number): number {
  return deriveSeed(seed, 2);
}

/** Seed of the Monte Carlo design points of a cell's Hellinger distance. */
export function hellingerSeed(seed: number): number {
  return deriveSeed(seed, 3);
}

/** The key identifying a cell in results: `${label}|${n}|${rep}`. */
export function cellKey(label: string, n: number, rep: number): string {
  return `${label}|${n}|${rep}`;
}

/** The cells a run plans, as cellKey(label, n, rep): what its results.jsonl may hold. */
export function plannedKeys(cells: readonly Cell[]): Set<string> {
  return new Set(cells.map((c) => cellKey(c.label, c.n, c.rep)));
}

/**
 * All cells of a (normalised) spec, sorted by (n, rep, model index).
 * @param spec a spec from validateSpec (n is a list)
 */
export function planCells(spec: ExperimentSpec): Cell[] {
  if (!Array.isArray(spec.n))
    throw new Error('planCells needs a normalised spec (n as a list): call validateSpec first');
  const cells: Cell[] = [];
  for (const n of spec.n) {
    for (let rep = 0; rep < spec.replications; rep++) {
      const seed = cellSeed(spec.seed, n, rep);
      spec.models.forEach((m, model) => cells.push({ model, label: m.label, n, rep, seed }));
    }
  }
  return cells;
}

/**
 * Parses `i/N` (1 ≤ i ≤ N).
 * @throws Error naming `--shard` and the value
 */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new Error(`--shard must be i/N with 1 ≤ i ≤ N (e.g. 2/8). Value: ${text}`);
  }
  return { index, count };
}

/**
 * The share of shard i/N: the cells sorted by (n, rep, model) taken round-robin, so that every
 * shard gets small and large n alike and the N shards partition the cells exactly.
 */
export function shardCells(cells: readonly Cell[], shard: Shard | undefined): Cell[] {
  if (!shard || shard.count === 1) return [...cells];
  return cells.filter((_, t) => t % shard.count === shard.index - 1);
}

/**
 * Sorts records by (model order in the spec, n, rep) — the one order every output uses, so that
 * nothing downstream depends on completion order. Unknown labels go last, by name.
 */
export function sortRecords<T extends Pick<CellRecord, 'model' | 'n' | 'rep'>>(
  records: readonly T[],
  spec: ExperimentSpec,
): T[] {
  const order = new Map(spec.models.map((m, t) => [m.label, t]));
  const rank = (r: T) => order.get(r.model) ?? spec.models.length;
  return [...records].sort(
    (p, q) =>
      rank(p) - rank(q) ||
      (rank(p) === spec.models.length ? p.model.localeCompare(q.model) : 0) ||
      p.n - q.n ||
      p.rep - q.rep,
  );
}
