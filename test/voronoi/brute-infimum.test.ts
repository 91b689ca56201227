/**
 * The top-K Voronoi loss with translation against brute force: an independent implementation of
 * the top-K D2 objective F(c, t1) — the sum of the K largest cell terms with the cells at t1 — is
 * minimised over c exactly (it is convex and piecewise linear in c) and over t1 on a dense grid,
 * refined by a compass search from the best grid points. The loss must be no larger than that
 * minimum and be attained at its own (t0, t1) with cells that are the nearest at t1.
 * Then the lower bound used for cells of ≥ 4 atoms (unknown r̄) against the same brute force.
 */
import { describe, expect, it } from 'vitest';
import { modelFromParams, type GateSpec, type Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';
import { rBar, voronoiLoss, UnknownRBarError } from '../../src/voronoi/index.js';

const lse = (v: ArrayLike<number>) => {
  const m = Math.max(...Array.from(v));
  return m + Math.log(Array.from(v).reduce((s, x) => s + Math.exp(x - m), 0));
};

/** squared cell distance of fitted atom i to true atom j in the frame translated by t1 */
function dist2(fit: Model, truth: Model, i: number, j: number, t1: ArrayLike<number>): number {
  const { d } = fit;
  let s = 0;
  for (let l = 0; l < d; l++) {
    s += (fit.beta1[i * d + l]! - truth.beta1[j * d + l]! - t1[l]!) ** 2;
    s += (fit.a[i * d + l]! - truth.a[j * d + l]!) ** 2;
  }
  return s + (fit.b[i]! - truth.b[j]!) ** 2 + (fit.nu[i]! - truth.nu[j]!) ** 2;
}

/** nearest true atom of every fitted atom at t1 (smaller j on ties) */
function nearest(fit: Model, truth: Model, t1: ArrayLike<number>): number[] {
  return Array.from({ length: fit.k }, (_, i) => {
    let best = 0;
    for (let j = 1; j < truth.k; j++) if (dist2(fit, truth, i, j, t1) < dist2(fit, truth, i, best, t1)) best = j;
    return best;
  });
}

/**
 * D2 with the softmax/top-K exponent pattern (β1, b: r̄; a, ν: r̄/2; all 1 for one atom). Cells of
 * m ≥ 4 atoms (r̄ unknown) get the lower bound max(0, x^{r̄(3)·f} − 1) when `bound`, else make the
 * value Infinity. Returns the per-cell parts that do not depend on c, the fitted cell weights W_j
 * and the true weights w*_j (fitted weights rescaled to the truth's total).
 */
function cellParts(fit: Model, truth: Model, assign: number[], t1: ArrayLike<number>, bound: boolean) {
  const { d } = fit;
  const logS = lse(truth.beta0) - lse(fit.beta0);
  const w = Array.from(fit.beta0, (b) => Math.exp(b + logS));
  const wStar = Array.from(truth.beta0, Math.exp);
  const fixed = new Array<number>(truth.k).fill(0);
  const W = new Array<number>(truth.k).fill(0);
  let unknown = false;
  for (let j = 0; j < truth.k; j++) {
    const cell = assign.flatMap((a, i) => (a === j ? [i] : []));
    let pw: (x: number, f: number) => number;
    if (cell.length <= 1) pw = (x) => x;
    else if (cell.length <= 3) pw = (x, f) => x ** (f * rBar(cell.length));
    else {
      if (!bound) return null;
      unknown = true;
      pw = (x, f) => Math.max(0, x ** (6 * f) - 1);
    }
    for (const i of cell) {
      let db1 = 0;
      let da = 0;
      for (let l = 0; l < d; l++) {
        db1 += (fit.beta1[i * d + l]! - truth.beta1[j * d + l]! - t1[l]!) ** 2;
        da += (fit.a[i * d + l]! - truth.a[j * d + l]!) ** 2;
      }
      W[j] += w[i]!;
      fixed[j] +=
        w[i]! *
        (pw(Math.sqrt(db1), 1) +
          pw(Math.abs(fit.b[i]! - truth.b[j]!), 1) +
          pw(Math.sqrt(da), 0.5) +
          pw(Math.abs(fit.nu[i]! - truth.nu[j]!), 0.5));
    }
  }
  return { fixed, W, wStar, unknown, logS };
}

/** Σ of the K largest T_j = fixed_j + |W_j − c w*_j| at c */
function topKAt(parts: { fixed: number[]; W: number[]; wStar: number[] }, K: number, c: number): number {
  const T = parts.fixed.map((f, j) => f + Math.abs(parts.W[j]! - c * parts.wStar[j]!));
  T.sort((x, y) => y - x);
  return T.slice(0, K).reduce((s, x) => s + x, 0);
}

/** min over c of topKAt: convex and piecewise linear in c, so its minimum is at a kink — a ratio W_j/w*_j or a crossing of two terms' linear pieces */
function minOverC(parts: { fixed: number[]; W: number[]; wStar: number[] }, K: number): { c: number; value: number } {
  const { fixed, W, wStar } = parts;
  const k = W.length;
  const cand = W.map((x, j) => x / wStar[j]!);
  // pieces fixed_j ± (W_j − c w*_j); two pieces cross where they are equal
  for (let j = 0; j < k; j++)
    for (let l = 0; l < k; l++)
      for (const sj of [1, -1])
        for (const sl of [1, -1]) {
          const den = sj * wStar[j]! - sl * wStar[l]!;
          if (den !== 0) cand.push((fixed[j]! + sj * W[j]! - fixed[l]! - sl * W[l]!) / den);
        }
  let best = { c: NaN, value: Infinity };
  for (const c of cand) {
    if (!(c >= 0) || !Number.isFinite(c)) continue;
    const v = topKAt(parts, K, c);
    if (v < best.value) best = { c, value: v };
  }
  return best;
}

/** min over c of the top-K objective with the cells nearest at t1 (Infinity where a cell needs r̄(m ≥ 4)) */
function objective(fit: Model, truth: Model, K: number, t1: number[]): number {
  const parts = cellParts(fit, truth, nearest(fit, truth, t1), t1, false);
  return parts ? minOverC(parts, K).value : Infinity;
}

/** dense grid over t1 in [lo, hi]^d, then a compass search from the best grid points */
function bruteMin(f: (t: number[]) => number, d: number, lo: number, hi: number, N: number): number {
  const pts: { t: number[]; v: number }[] = [];
  const idx = new Array<number>(d).fill(0);
  for (;;) {
    const t = idx.map((u) => lo + ((hi - lo) * u) / N);
    pts.push({ t, v: f(t) });
    let q = 0;
    while (q < d && ++idx[q]! > N) idx[q++] = 0;
    if (q === d) break;
  }
  pts.sort((x, y) => x.v - y.v);
  let best = pts[0]!.v;
  for (const p of pts.slice(0, 8)) {
    let { t, v } = p;
    for (let step = (hi - lo) / N; step > 1e-10;) {
      let moved = false;
      for (let l = 0; l < d && !moved; l++)
        for (const s of [1, -1]) {
          const u = t.slice();
          u[l] = u[l]! + s * step;
          const fu = f(u);
          if (fu < v) {
            t = u;
            v = fu;
            moved = true;
            break;
          }
        }
      if (!moved) step /= 2;
    }
    best = Math.min(best, v);
  }
  return best;
}

/** a top-K truth with k* = 3 true atoms in d dimensions, and an over-specified fit (one extra atom) near it */
function pair(seed: number, d: number, K: number): { fit: Model; truth: Model } {
  const rng = createRng(seed);
  const gate: GateSpec = { kind: 'topk', K, selectOn: 'logit' };
  const vec = (s: number) => Array.from({ length: d }, () => s * rng.normal());
  const truth = modelFromParams(gate, {
    beta0: [0.3 * rng.normal(), 0.3 * rng.normal(), 0],
    beta1: [vec(3), vec(3), vec(3)],
    a: [vec(2), vec(2), vec(2)],
    b: [2 * rng.normal(), 2 * rng.normal(), 2 * rng.normal()],
    nu: [0.5, 1, 1.5].map((v) => v * Math.exp(0.2 * rng.normal())),
  });
  const src = [0, 1, 2, rng.int(3)];
  const near = (v: Float64Array, j: number, len: number, s: number) =>
    Array.from({ length: len }, (_, l) => v[j * len + l]! + s * rng.normal());
  const fit = modelFromParams(gate, {
    beta0: src.map((j) => truth.beta0[j]! + 0.4 * rng.normal()),
    beta1: src.map((j) => near(truth.beta1, j, d, 0.6)),
    a: src.map((j) => near(truth.a, j, d, 0.3)),
    b: src.map((j) => near(truth.b, j, 1, 0.3)[0]!),
    nu: src.map((j) => truth.nu[j]! * Math.exp(0.2 * rng.normal())),
  });
  return { fit, truth };
}

/** the loss is attained at its own (t0, t1): cells nearest there (up to a tie), the top-K objective at that c equal to it */
function expectAttained(fit: Model, truth: Model, K: number, r: ReturnType<typeof voronoiLoss>, what: string): void {
  const assign = new Array<number>(fit.k).fill(-1);
  r.cells.forEach((cell, j) => cell.fitted.forEach((i) => (assign[i] = j)));
  for (let i = 0; i < fit.k; i++) {
    const own = dist2(fit, truth, i, assign[i]!, r.t1);
    for (let j = 0; j < truth.k; j++)
      expect(own, `${what}: atom ${i} nearer to ${j} than to its cell ${assign[i]} at t1`).toBeLessThanOrEqual(
        dist2(fit, truth, i, j, r.t1) * (1 + 1e-9) + 1e-12,
      );
  }
  const parts = cellParts(fit, truth, assign, r.t1, false)!;
  const c = Math.exp(r.t0 + parts.logS);
  const v = topKAt(parts, K, c);
  expect(
    Math.abs(v - r.loss),
    `${what}: F(c, t1) = ${v} at the returned translation, loss ${r.loss}`,
  ).toBeLessThanOrEqual(1e-9 * (1 + r.loss));
}

describe('top-K loss with translation vs brute force', () => {
  const cases: { d: number; K: number; seeds: number[]; N: number }[] = [
    { d: 1, K: 1, seeds: [1, 2, 3], N: 3000 },
    { d: 1, K: 2, seeds: [4, 5, 6], N: 3000 },
    { d: 2, K: 1, seeds: [7, 8, 21], N: 100 },
    { d: 2, K: 2, seeds: [9, 21], N: 100 },
  ];
  for (const { d, K, seeds, N } of cases) {
    it(`d = ${d}, top-${K} of k* = 3, four fitted atoms: no (c, t1) beats the loss, which is attained at its (t0, t1)`, () => {
      for (const seed of seeds) {
        const { fit, truth } = pair(seed, d, K);
        const r = voronoiLoss(fit, truth);
        expect(r.topK).toBe(true);
        expect(r.K).toBe(K);
        expect(r.kind).toBe('D2');
        // a minimiser lies in the box of the anchors β1_i − β1*_j (moving t1 into it brings t1 nearer to all)
        let span = 0;
        for (let i = 0; i < fit.k * d; i++)
          for (let j = 0; j < truth.k; j++)
            span = Math.max(span, Math.abs(fit.beta1[i]! - truth.beta1[j * d + (i % d)]!));
        const g = bruteMin((t) => objective(fit, truth, K, t), d, -span - 1, span + 1, N);
        expect(Number.isFinite(g)).toBe(true);
        expect(r.loss, `seed ${seed}: brute-force minimum ${g}`).toBeLessThanOrEqual(g + 1e-9 * (1 + g));
        expectAttained(fit, truth, K, r, `seed ${seed}`);
      }
    });
  }
});

/** a softmax truth with k* = 2 in d = 1 and a fit of five atoms near it (several in one cell) */
function crowded(seed: number): { fit: Model; truth: Model } {
  const rng = createRng(seed);
  const gate: GateSpec = { kind: 'softmax' };
  const truth = modelFromParams(gate, {
    beta0: [0.3 * rng.normal(), 0],
    beta1: [[3 * rng.normal()], [0]],
    a: [[2 * rng.normal()], [2 * rng.normal()]],
    b: [2 * rng.normal(), 2 * rng.normal()],
    nu: [0.5 * Math.exp(0.2 * rng.normal()), Math.exp(0.2 * rng.normal())],
  });
  const src = [0, 1, rng.int(2), rng.int(2), rng.int(2)];
  const fit = modelFromParams(gate, {
    beta0: src.map((j) => truth.beta0[j]! - Math.log(2) + 0.4 * rng.normal()),
    beta1: src.map((j) => [truth.beta1[j]! + 0.6 * rng.normal()]),
    a: src.map((j) => [truth.a[j]! + 0.3 * rng.normal()]),
    b: src.map((j) => truth.b[j]! + 0.3 * rng.normal()),
    nu: src.map((j) => truth.nu[j]! * Math.exp(0.2 * rng.normal())),
  });
  return { fit, truth };
}

/**
 * Brute force over t1 (grid and compass search): the smallest loss of the cell assignments with
 * known exponents, and the smallest lower bound of those with a cell of ≥ 4 atoms (each at its
 * optimal c).
 */
function knownAndBound(fit: Model, truth: Model, lo: number, hi: number, N: number): { known: number; bound: number } {
  const at = (t1: number[], unknown: boolean) => {
    const parts = cellParts(fit, truth, nearest(fit, truth, t1), t1, true)!;
    return parts.unknown === unknown ? minOverC(parts, truth.k).value : Infinity;
  };
  return { known: bruteMin((t) => at(t, false), 1, lo, hi, N), bound: bruteMin((t) => at(t, true), 1, lo, hi, N) };
}

describe('the lower bound for cells of ≥ 4 atoms (unknown r̄) vs brute force', () => {
  // the bound of four atoms in one cell below the best known value by 4 % (seed 298), 1.8 % (1908), 0.7 % (3106);
  // above it by 0.6 % (947), 2.9 % (3013), 11 % (387)
  for (const seed of [298, 1908, 3106, 947, 3013, 387]) {
    it(`seed ${seed}: r̄ is asked for exactly when the bound of a ≥ 4-atom assignment is below the best known loss`, () => {
      const { fit, truth } = crowded(seed);
      const { known, bound } = knownAndBound(fit, truth, -15, 15, 3000);
      expect(Number.isFinite(known) && Number.isFinite(bound)).toBe(true);
      expect(Math.abs(bound / known - 1), 'a clear decision').toBeGreaterThan(0.005);
      if (bound < known) {
        expect(() => voronoiLoss(fit, truth)).toThrow(UnknownRBarError);
      } else {
        const r = voronoiLoss(fit, truth);
        expect(r.cells.every((c) => c.fitted.length <= 3)).toBe(true);
        expect(r.loss).toBeLessThanOrEqual(known + 1e-9 * (1 + known));
        expect(r.loss).toBeGreaterThan(known * (1 - 1e-6));
      }
    });
  }
});
