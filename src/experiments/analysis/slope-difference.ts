/**
 * The difference of two runs' rate slopes, slope(b) − slope(a), with a percentile-bootstrap interval
 * that respects the cells the runs share (`gmoe compare`).
 *
 * A cell is a unit of the resampling, keyed by (n, seed): two runs made with the same master seed hold
 * the same cells (the same data, or common random numbers), and their readings there are not
 * independent — each run's own interval says nothing about their difference. At each n the bootstrap
 * resamples three strata separately, each as many times as it has cells: the shared cells (as pairs:
 * one draw gives both runs' values), the cells of `a` alone and those of `b` alone. With no shared cell
 * that is two independent bootstraps; with every cell shared, the paired one. Each run's slope is then
 * fitted as its summary fits it (slope.ts): OLS of log(curve) on log(n) over the n where its point
 * curve is positive, so the point difference is the difference of the two reported slopes.
 */
import { createRng } from '../../random/rng.js';
import { ols } from './slope.js';
import { meanOf, medianInPlace, quantileSorted } from './stats.js';

/** One cell's finite reading of a metric. */
export interface DifferenceCell {
  n: number;
  seed: number;
  value: number;
}

export interface SlopeDifference {
  /** slope(b) − slope(a), each over its own cells */
  difference: number;
  /**
   * percentile-bootstrap interval at `level`; [NaN, NaN] when B = 0, when every resample was skipped, or when a
   * fitted n of either run has one cell (every resample would give it back)
   */
  ci: [number, number];
  /** cells both runs hold (same n and seed), resampled as pairs */
  shared: number;
  /** cells of a alone, of b alone */
  own: [number, number];
  /** resamples left out: some fitted n had a non-positive curve value */
  skipped: number;
}

export interface DifferenceOptions {
  /** the curve each slope is fitted on */
  curve: 'mean' | 'median';
  /** bootstrap resamples (default 1000) */
  B?: number;
  /** seed of the resampling generator (default 1) */
  seed?: number;
  /** interval level (default 0.95) */
  level?: number;
}

interface Stratum {
  /** values in a, values in b (NaN where the run lacks the cell) */
  a: number[];
  b: number[];
}

interface RunCurve {
  /** indices (into the shared n list) of the n fitted: positive point curve */
  use: number[];
  slope: number;
}

/** The three strata of each n, n ascending: [shared, a alone, b alone]. */
function strataByN(a: readonly DifferenceCell[], b: readonly DifferenceCell[]): { n: number[]; strata: Stratum[][] } {
  const byN = new Map<number, Map<number, [number, number]>>();
  const put = (cells: readonly DifferenceCell[], side: 0 | 1) => {
    for (const c of cells) {
      let m = byN.get(c.n);
      if (!m) byN.set(c.n, (m = new Map()));
      const pair = m.get(c.seed) ?? [NaN, NaN];
      if (!Number.isNaN(pair[side])) throw new Error(`a run holds the cell (n = ${c.n}, seed ${c.seed}) twice`);
      pair[side] = c.value;
      m.set(c.seed, pair);
    }
  };
  put(a, 0);
  put(b, 1);
  const n = [...byN.keys()].sort((x, y) => x - y);
  const strata = n.map((nv) => {
    const s: Stratum[] = [0, 1, 2].map(() => ({ a: [], b: [] }));
    // seeds ascending: the draws do not depend on the order the records came in
    const seeds = [...byN.get(nv)!.keys()].sort((x, y) => x - y);
    for (const seed of seeds) {
      const [va, vb] = byN.get(nv)!.get(seed)!;
      const k = Number.isNaN(va) ? 2 : Number.isNaN(vb) ? 1 : 0;
      s[k]!.a.push(va);
      s[k]!.b.push(vb);
    }
    return s;
  });
  return { n, strata };
}

/** The point curve of one run at each n (NaN where it has no cell), as slope.ts computes it. */
function pointCurve(strata: Stratum[][], side: 'a' | 'b', curve: 'mean' | 'median'): number[] {
  return strata.map((s) => {
    const v = Float64Array.from([...s[0]![side], ...s[side === 'a' ? 1 : 2]![side]]).sort();
    if (v.length === 0) return NaN;
    return curve === 'mean' ? meanOf(v) : quantileSorted(v, 0.5);
  });
}

function fitCurve(logN: readonly number[], stat: readonly number[], use: readonly number[]): number {
  if (use.length < 2) return NaN;
  return ols(
    use.map((g) => logN[g]!),
    use.map((g) => Math.log(stat[g]!)),
  ).slope;
}

/**
 * slope(b) − slope(a) with its stratified bootstrap interval (see the module doc).
 * @returns null when either run has fewer than two n with a positive curve (no slope)
 */
export function slopeDifference(
  a: readonly DifferenceCell[],
  b: readonly DifferenceCell[],
  options: DifferenceOptions,
): SlopeDifference | null {
  const B = options.B ?? 1000;
  const level = options.level ?? 0.95;
  const { n, strata } = strataByN(a, b);
  const logN = n.map(Math.log);
  const runs: RunCurve[] = (['a', 'b'] as const).map((side) => {
    const stat = pointCurve(strata, side, options.curve);
    const use = stat.flatMap((v, g) => (v > 0 ? [g] : []));
    return { use, slope: fitCurve(logN, stat, use) };
  });
  if (!runs.every((r) => Number.isFinite(r.slope))) return null;
  const count = (k: number) => strata.reduce((s, st) => s + st[k]!.a.length, 0);
  const out: SlopeDifference = {
    difference: runs[1]!.slope - runs[0]!.slope,
    ci: [NaN, NaN],
    shared: count(0),
    own: [count(1), count(2)],
    skipped: 0,
  };
  // an n with a single cell would be given back by every resample: too narrow an interval (as slope.ts)
  const single = (k: 1 | 2, use: number[]) => use.some((g) => strata[g]![0]!.a.length + strata[g]![k]!.a.length < 2);
  if (B === 0 || single(1, runs[0]!.use) || single(2, runs[1]!.use)) return out;
  const rng = createRng(options.seed ?? 1);
  const diffs = new Float64Array(B);
  let kept = 0;
  const maxLen = Math.max(...strata.map((s) => s[0]!.a.length + Math.max(s[1]!.a.length, s[2]!.a.length)));
  const bufA = new Float64Array(maxLen);
  const bufB = new Float64Array(maxLen);
  const statA = new Float64Array(n.length);
  const statB = new Float64Array(n.length);
  const stat = (buf: Float64Array, len: number) => {
    if (len === 0) return NaN;
    if (options.curve === 'median') return medianInPlace(buf, len);
    let s = 0;
    for (let i = 0; i < len; i++) s += buf[i]!;
    return s / len;
  };
  for (let r = 0; r < B; r++) {
    for (let g = 0; g < n.length; g++) {
      const [both, onlyA, onlyB] = strata[g]!;
      let la = 0;
      let lb = 0;
      for (let i = 0; i < both!.a.length; i++) {
        const j = rng.int(both!.a.length);
        bufA[la++] = both!.a[j]!;
        bufB[lb++] = both!.b[j]!;
      }
      for (let i = 0; i < onlyA!.a.length; i++) bufA[la++] = onlyA!.a[rng.int(onlyA!.a.length)]!;
      for (let i = 0; i < onlyB!.b.length; i++) bufB[lb++] = onlyB!.b[rng.int(onlyB!.b.length)]!;
      statA[g] = stat(bufA, la);
      statB[g] = stat(bufB, lb);
    }
    const positive = (s: Float64Array, use: number[]) => use.every((g) => s[g]! > 0);
    if (!positive(statA, runs[0]!.use) || !positive(statB, runs[1]!.use)) {
      out.skipped++;
      continue;
    }
    const d = fitCurve(logN, Array.from(statB), runs[1]!.use) - fitCurve(logN, Array.from(statA), runs[0]!.use);
    if (Number.isFinite(d)) diffs[kept++] = d;
    else out.skipped++;
  }
  if (kept > 0) {
    const s = diffs.subarray(0, kept).sort();
    const tail = (1 - level) / 2;
    out.ci = [quantileSorted(s, tail), quantileSorted(s, 1 - tail)];
  }
  return out;
}
