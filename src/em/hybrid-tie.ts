/**
 * Top-K switches pinned to samples (hybrid.ts): the fit's optimum on its piece of the likelihood lies on
 * the piece's boundary, where sample i's experts a and b tie (s_a(x_i) = s_b(x_i), one active, one not),
 * and every step that crosses it jumps down. The trust region then works on that boundary: each tie
 * h(θ) = s_a(x_i) − s_b(x_i) = cᵀθ + const (linear in the gate's β0, β1) is held by eliminating one gate
 * coordinate. With r ties the rows c_1 … c_r are brought to reduced row-echelon form (pivot coordinates
 * p_1 … p_r), so a step keeps every tie when s_{p_i} = Σ_u M_iu s_u over the other coordinates u; with T
 * that map, the reduced gradient and Hessian are Tᵀg and TᵀHT.
 */
import { LuDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { Model } from '../models/types.js';
import type { ParamLayout } from './inference/params.js';

export interface Tie {
  /** the sample, its active expert and the inactive one it ties with */
  sample: number;
  active: number;
  inactive: number;
  /** ∂h/∂θ (gate coordinates only) */
  c: Float64Array;
}

/** Ties held together: the pivot coordinate of each and the rows M_i of s_{p_i} = Σ_u M_iu s_u (0 at pivots). */
export interface TieSet {
  ties: Tie[];
  pivots: number[];
  M: Float64Array[];
}

/** The ranking leaves β0 out (topk.ts: β1_j·x on the slope, the logit otherwise). */
function onSlope(model: Model): boolean {
  return model.gate.kind === 'topk' && model.gate.selectOn === 'slope';
}

/** The ranking score of expert j at row i (the reference's β is 0). */
function score(model: Model, X: Float64Array, i: number, j: number): number {
  const d = model.d;
  let s = onSlope(model) ? 0 : model.beta0[j]!;
  for (let a = 0; a < d; a++) s += model.beta1[j * d + a]! * X[i * d + a]!;
  return s;
}

/** h = s_active − s_inactive at the model (≥ 0 on the tie's own side, up to the tie-break by index). */
export function tieMargin(model: Model, X: Float64Array, tie: Tie): number {
  return score(model, X, tie.sample, tie.active) - score(model, X, tie.sample, tie.inactive);
}

/**
 * The tie behind a refused crossing, if the current point (`model`) lies on the region's boundary: among
 * the samples whose active set differs between `before` and `after`, the swap (an expert leaving, one
 * entering) with the smallest score margin at `model`, when that margin is within `tol` (relative). The
 * other changed samples lie further along the step. Null otherwise.
 */
export function findTie(
  model: Model,
  X: Float64Array,
  L: ParamLayout,
  before: Uint8Array,
  after: Uint8Array,
  tol: number,
): Tie | null {
  const k = model.k;
  let best: { sample: number; active: number; inactive: number; h: number; sa: number } | null = null;
  for (let i = 0, o = 0; o < before.length; i++, o += k) {
    let differs = false;
    for (let j = 0; j < k && !differs; j++) differs = before[o + j] !== after[o + j];
    if (!differs) continue;
    for (let a = 0; a < k; a++) {
      if (!before[o + a] || after[o + a]) continue;
      const sa = score(model, X, i, a);
      for (let b = 0; b < k; b++) {
        if (before[o + b] || !after[o + b]) continue;
        const h = Math.abs(sa - score(model, X, i, b));
        if (!best || h < best.h) best = { sample: i, active: a, inactive: b, h, sa };
      }
    }
  }
  if (!best || !(best.h <= tol * (1 + Math.abs(best.sa)))) return null;
  const { sample, active, inactive } = best;
  const slope = onSlope(model);
  const c = new Float64Array(L.P);
  const put = (j: number, sign: number): void => {
    const b0 = L.gate.b0Index[j]!;
    const b1 = L.gate.b1Index[j]!;
    if (b0 >= 0 && !slope) c[b0] = sign;
    if (b1 >= 0) for (let a = 0; a < model.d; a++) c[b1 + a] = sign * X[sample * model.d + a]!;
  };
  put(active, 1);
  put(inactive, -1);
  return { sample, active, inactive, c };
}

/** The ties' elimination (Gauss–Jordan with the largest pivot per row); null when their rows are dependent. */
export function eliminate(ties: Tie[], P: number): TieSet | null {
  const R = ties.map((t) => Float64Array.from(t.c));
  const pivots: number[] = [];
  for (let i = 0; i < R.length; i++) {
    const row = R[i]!;
    let scale = 0;
    for (let u = 0; u < P; u++) scale = Math.max(scale, Math.abs(ties[i]!.c[u]!));
    let p = -1;
    for (let u = 0; u < P; u++) if (!pivots.includes(u) && (p < 0 || Math.abs(row[u]!) > Math.abs(row[p]!))) p = u;
    if (p < 0 || !(Math.abs(row[p]!) > 1e-10 * scale)) return null;
    const v = row[p]!;
    for (let u = 0; u < P; u++) row[u] = row[u]! / v;
    for (let j = 0; j < R.length; j++) {
      if (j === i || R[j]![p] === 0) continue;
      const f = R[j]![p]!;
      for (let u = 0; u < P; u++) R[j]![u] = R[j]![u]! - f * row[u]!;
    }
    pivots.push(p);
  }
  const M = R.map((row) => {
    const m = new Float64Array(P);
    for (let u = 0; u < P; u++) if (!pivots.includes(u)) m[u] = -row[u]!;
    return m;
  });
  return { ties, pivots, M };
}

/** Where a step first leaves the top-K region, the scores moving linearly from `now` (t = 0) to `end` (t = 1). */
export interface Crossing {
  /** the fraction of the step, in (0, 1] */
  t: number;
  /** the margin s_active − s_inactive at t = 0, and its rate of fall per unit t */
  margin: number;
  rate: number;
  /** the score of the active expert at t = 0 (the margin's scale) */
  scale: number;
}

/**
 * The first point along a step where some sample's active set changes: an active expert's score met by
 * an inactive one's (the ranking scores are linear in θ). The samples in `skip` (held ties') are left out.
 * Null when no active set changes before t = 1.
 */
export function firstCrossing(
  now: Float64Array,
  end: Float64Array,
  mask: Uint8Array,
  k: number,
  skip: readonly number[],
): Crossing | null {
  let best: Crossing | null = null;
  for (let i = 0, o = 0; o < mask.length; i++, o += k) {
    if (skip.includes(i)) continue;
    for (let a = 0; a < k; a++) {
      if (!mask[o + a]) continue;
      for (let b = 0; b < k; b++) {
        if (mask[o + b]) continue;
        const margin = now[o + a]! - now[o + b]!;
        const rate = margin - (end[o + a]! - end[o + b]!);
        if (!(rate > 0)) continue;
        const t = margin / rate;
        if (t <= 1 && (!best || t < best.t)) best = { t, margin, rate, scale: Math.abs(now[o + a]!) };
      }
    }
  }
  return best;
}

/** Tᵀg and TᵀHT: the gradient and Hessian over the coordinates left (pivot rows and columns zero: held). */
export function reduceByTies(
  g: Float64Array,
  H: Float64Array,
  P: number,
  set: TieSet,
): { g: Float64Array; H: Float64Array } {
  const { pivots, M } = set;
  const free = new Uint8Array(P).fill(1);
  for (const p of pivots) free[p] = 0;
  const gr = new Float64Array(P);
  const A = new Float64Array(P * P); // H T
  for (let a = 0; a < P; a++)
    for (let v = 0; v < P; v++) {
      if (!free[v]) continue;
      let s = H[a * P + v]!;
      for (let i = 0; i < pivots.length; i++) s += H[a * P + pivots[i]!]! * M[i]![v]!;
      A[a * P + v] = s;
    }
  const Hr = new Float64Array(P * P);
  for (let u = 0; u < P; u++) {
    if (!free[u]) continue;
    let s = g[u]!;
    for (let i = 0; i < pivots.length; i++) s += M[i]![u]! * g[pivots[i]!]!;
    gr[u] = s;
    for (let v = 0; v < P; v++) {
      if (!free[v]) continue;
      let h = A[u * P + v]!;
      for (let i = 0; i < pivots.length; i++) h += M[i]![u]! * A[pivots[i]! * P + v]!;
      Hr[u * P + v] = h;
    }
  }
  return { g: gr, H: Hr };
}

/** Sets the pivot coordinates' steps from the others' (every tie's margin unchanged to first order). */
export function expandStep(step: Float64Array, set: TieSet): void {
  const { pivots, M } = set;
  for (let i = 0; i < pivots.length; i++) {
    let s = 0;
    for (let u = 0; u < step.length; u++) if (!pivots.includes(u)) s += M[i]![u]! * step[u]!;
    step[pivots[i]!] = s;
  }
}

/** The ties' multipliers: λ minimising ‖g − Σ λ_i c_i‖ (λ_i > 0: L rises into the piece away from tie i). */
export function tieMultipliers(g: Float64Array, ties: Tie[]): Float64Array {
  const r = ties.length;
  const A = new Float64Array(r * r);
  const b = new Float64Array(r);
  const dot = (x: Float64Array, y: Float64Array): number => {
    let s = 0;
    for (let u = 0; u < x.length; u++) s += x[u]! * y[u]!;
    return s;
  };
  for (let i = 0; i < r; i++) {
    b[i] = dot(ties[i]!.c, g);
    for (let j = 0; j < r; j++) A[i * r + j] = dot(ties[i]!.c, ties[j]!.c);
  }
  return solveSmall(A, b, r);
}

/**
 * Solves the r × r system A x = b (LU with partial pivoting, ml-matrix). A singular A — two ties at samples
 * so close that their normals agree to 1e-8 made the Gram matrix of tieMultipliers one — gets the least-squares
 * solution of least norm (SVD) instead of an exception that failed the whole fit.
 */
export function solveSmall(A: Float64Array, b: Float64Array, r: number): Float64Array {
  const rows = Array.from({ length: r }, (_, i) => Array.from(A.subarray(i * r, i * r + r)));
  const M = new Matrix(rows);
  const rhs = Matrix.columnVector(Array.from(b));
  const lu = new LuDecomposition(M);
  const x = lu.isSingular() ? new SingularValueDecomposition(M, { autoTranspose: true }).solve(rhs) : lu.solve(rhs);
  return Float64Array.from(x.getColumn(0));
}

/** The scale of a tie's margin under rounding: Σ |terms| of both scores. */
export function tieScale(model: Model, X: Float64Array, tie: Tie): number {
  const d = model.d;
  const slope = onSlope(model);
  let s = 1;
  for (const j of [tie.active, tie.inactive]) {
    if (!slope) s += Math.abs(model.beta0[j]!);
    for (let a = 0; a < d; a++) s += Math.abs(model.beta1[j * d + a]! * X[tie.sample * d + a]!);
  }
  return s;
}
