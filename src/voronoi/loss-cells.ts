/**
 * voronoiLoss, step 2: one cell assignment — its per-cell exponents and the parts of its terms
 * that do not depend on (c, t1) — the terms T_j at (c, t1) with their gradient, and the region of
 * translations t1 in which the cells stay as assigned (a polyhedron).
 */
import { cellMembers } from './cells.js';
import type { LinearConstraint } from './convex.js';
import { cellExponents, rBar, UnknownRBarError, type ExponentRule } from './exponents.js';
import type { LossSetup } from './loss-options.js';
import type { T1Term } from './translation.js';

/** One cell assignment with everything that does not depend on (c, t1). */
export interface Assignment {
  assign: Int32Array;
  key: string;
  members: number[][];
  /** per cell: the β1 exponent (0: term dropped) and offset (1 only in a lower bound, see `unknown`) */
  e1: Float64Array;
  o1: Float64Array;
  /** W_j (normalised fitted weights) */
  W: Float64Array;
  /** Σ_{i∈A_j} w_i (‖Δa‖^ea + |Δb|^eb + |Δν|^eν) */
  fixed: Float64Array;
  /**
   * set when a cell needs r̄(m ≥ 4) under D2: the terms of such cells are then lower bounds valid
   * for every r̄(m) ≥ r̄(3) — a rule f·r̄ gives max(0, x^{6f} − 1) (dropped when 6f < 1)
   */
  unknown: UnknownRBarError | null;
}

/** The set-up plus what every assignment shares: the distances without β1 and the terms' buffers. */
export interface LossContext extends LossSetup {
  /** squared cell distance of atom i to true atom j without the β1 part: ‖Δa‖² + Δb² + Δν² (i·k* + j) */
  rest2: Float64Array;
  /** the per-cell terms of the last {@link evaluateTerms} */
  termsBuf: Float64Array;
  /** the order of the cells, largest term first under top-K */
  order: number[];
}

/** ‖v[off..off+d] − w[woff..woff+d] − shift‖ (no shift when absent: a β1 error takes the translation t1) */
export function norm(
  v: ArrayLike<number>,
  off: number,
  w: ArrayLike<number>,
  woff: number,
  d: number,
  shift?: ArrayLike<number>,
): number {
  let s = 0;
  for (let l = 0; l < d; l++) {
    const x = shift ? v[off + l]! - w[woff + l]! - shift[l]! : v[off + l]! - w[woff + l]!;
    s += x * x;
  }
  return Math.sqrt(s);
}

/** The context of a search: the set-up and the distances of every atom to every true atom without β1. */
export function createLossContext(setup: LossSetup): LossContext {
  const { fit, truth, d, kStar } = setup;
  const rest2 = new Float64Array(fit.k * kStar);
  for (let i = 0; i < fit.k; i++) {
    for (let j = 0; j < kStar; j++) {
      const da = norm(fit.a, i * d, truth.a, j * d, d);
      const db = fit.b[i]! - truth.b[j]!;
      const dn = fit.nu[i]! - truth.nu[j]!;
      rest2[i * kStar + j] = da * da + db * db + dn * dn;
    }
  }
  return { ...setup, rest2, termsBuf: new Float64Array(kStar), order: Array.from({ length: kStar }, (_, j) => j) };
}

/** x^e, or its lower bound for an unknown exponent e ≥ e0: max(0, x^e0 − 1) — [exponent, offset, used]. */
type PowerForm = [number, number, boolean];

// r̄(m) ≥ r̄(3) for m ≥ 4: a solution of the r̄ system for 3 atoms plus an atom at 0 solves it for 4
const R3 = rBar(3);
const lowerForm = (rule: ExponentRule): PowerForm => {
  if (typeof rule === 'number') return [rule, 0, true];
  const e0 = rule.r * R3;
  return e0 >= 1 ? [e0, 1, true] : [1, 0, false];
};
const power = (x: number, [e, o, used]: PowerForm) => (used ? Math.max(0, Math.pow(x, e) - o) : 0);

/** The exponents and the (c, t1)-free parts of the terms of one cell assignment. */
export function buildAssignment(ctx: LossContext, assign: Int32Array): Assignment {
  const { fit, truth, d, kStar, table, formula, w } = ctx;
  const members = cellMembers(assign, kStar);
  const e1 = new Float64Array(kStar);
  const o1 = new Float64Array(kStar);
  const W = new Float64Array(kStar);
  const fixed = new Float64Array(kStar);
  let unknown: UnknownRBarError | null = null;
  for (let j = 0; j < kStar; j++) {
    const cell = members[j]!;
    let forms: PowerForm[];
    try {
      const e = cellExponents(table, cell.length, formula);
      forms = [
        [e.beta1, 0, true],
        [e.a, 0, true],
        [e.b, 0, true],
        [e.nu, 0, true],
      ];
    } catch (err) {
      if (!(err instanceof UnknownRBarError)) throw err;
      unknown ??= new UnknownRBarError(err.cellSize, j);
      forms = [lowerForm(table.beta1), lowerForm(table.a), lowerForm(table.b), lowerForm(table.nu)];
    }
    const [fb1, fa, fb, fn] = forms as [PowerForm, PowerForm, PowerForm, PowerForm];
    e1[j] = fb1[0];
    o1[j] = fb1[1];
    if (!fb1[2]) e1[j] = 0; // marks a dropped β1 term
    for (const i of cell) {
      W[j] = W[j]! + w[i]!;
      const da = norm(fit.a, i * d, truth.a, j * d, d);
      const db = Math.abs(fit.b[i]! - truth.b[j]!);
      const dn = Math.abs(fit.nu[i]! - truth.nu[j]!);
      fixed[j] = fixed[j]! + w[i]! * (power(da, fa) + power(db, fb) + power(dn, fn));
    }
  }
  return { assign, key: assign.join(','), members, e1, o1, W, fixed, unknown };
}

/**
 * The per-cell terms at (c, t1) into ctx.termsBuf; returns the loss (top-K or plain sum, no τ term).
 * With `g`, also its gradient: in c at g[gc] (gc ≥ 0) and in t1 at g[gt..] (gt ≥ 0).
 */
export function evaluateTerms(
  ctx: LossContext,
  asg: Assignment,
  c: number,
  t1: Float64Array,
  g: Float64Array | null,
  gc: number,
  gt: number,
): number {
  const { fit, truth, d, kStar, K, topKActive, w, wStar, termsBuf, order } = ctx;
  for (let j = 0; j < kStar; j++) {
    let t = asg.fixed[j]! + Math.abs(asg.W[j]! - c * wStar[j]!);
    const e1 = asg.e1[j]!;
    const o1 = asg.o1[j]!;
    if (e1 > 0) {
      for (const i of asg.members[j]!) {
        let r2 = 0;
        for (let l = 0; l < d; l++) {
          const v = fit.beta1[i * d + l]! - truth.beta1[j * d + l]! - t1[l]!;
          r2 += v * v;
        }
        t += w[i]! * Math.max(0, Math.pow(Math.sqrt(r2), e1) - o1);
      }
    }
    termsBuf[j] = t;
  }
  // largest term first, ties to the smaller j
  if (topKActive && K < kStar) order.sort((x, y) => termsBuf[y]! - termsBuf[x]! || x - y);
  else for (let j = 0; j < kStar; j++) order[j] = j;
  let total = 0;
  if (g) g.fill(0);
  for (let s = 0; s < K; s++) {
    const j = order[s]!;
    total += termsBuf[j]!;
    if (!g) continue;
    if (gc >= 0) g[gc] = g[gc]! - wStar[j]! * Math.sign(asg.W[j]! - c * wStar[j]!);
    if (gt >= 0) {
      const e1 = asg.e1[j]!;
      if (e1 > 0) {
        for (const i of asg.members[j]!) {
          // anchor β1_i − β1*_j against t1: max(0, ‖anchor − t1‖^e1 − o)
          addNormPowerShifted(fit.beta1, i * d, truth.beta1, j * d, t1, d, w[i]!, e1, asg.o1[j]!, g, gt);
        }
      }
    }
  }
  return total;
}

/** The β1 terms of an assignment as functions of t1: w_i max(0, ‖(β1_i − β1*_j) − t1‖^e1 − o). */
export function anchorsOf(ctx: LossContext, asg: Assignment): T1Term[] {
  const { fit, truth, d, kStar, w } = ctx;
  const terms: T1Term[] = [];
  for (let j = 0; j < kStar; j++) {
    if (asg.e1[j] === 0) continue;
    for (const i of asg.members[j]!) {
      const anchor = new Float64Array(d);
      for (let l = 0; l < d; l++) anchor[l] = fit.beta1[i * d + l]! - truth.beta1[j * d + l]!;
      terms.push({ anchor, coef: w[i]!, exponent: asg.e1[j]!, offset: asg.o1[j]! });
    }
  }
  return terms;
}

/** ‖β1_i − β1*_j‖² */
export function anchor2(ctx: LossContext, i: number, j: number): number {
  const { fit, truth, d } = ctx;
  let s2 = 0;
  for (let l = 0; l < d; l++) s2 += (fit.beta1[i * d + l]! - truth.beta1[j * d + l]!) ** 2;
  return s2;
}

/**
 * The cell region of an assignment as half-spaces in t1: atom i stays nearer to its true atom A
 * than to any j' — ‖u_iA − t‖² + R_iA ≤ ‖u_ij' − t‖² + R_ij' with u_ij = β1_i − β1*_j, i.e.
 * 2(β1*_j' − β1*_A)·t ≥ ‖u_iA‖² − ‖u_ij'‖² + R_iA − R_ij' (linear in t: cells are polyhedra).
 */
export function regionOf(ctx: LossContext, asg: Assignment): LinearConstraint[] {
  const { fit, truth, d, kStar, rest2 } = ctx;
  const out: LinearConstraint[] = [];
  for (let i = 0; i < fit.k; i++) {
    const A = asg.assign[i]!;
    for (let jp = 0; jp < kStar; jp++) {
      if (jp === A) continue;
      const normal = new Float64Array(d);
      let any = false;
      for (let l = 0; l < d; l++) {
        normal[l] = 2 * (truth.beta1[jp * d + l]! - truth.beta1[A * d + l]!);
        if (normal[l] !== 0) any = true;
      }
      if (!any) continue; // the choice between A and j' does not depend on t1
      out.push({
        normal,
        rhs: anchor2(ctx, i, A) - anchor2(ctx, i, jp) + rest2[i * kStar + A]! - rest2[i * kStar + jp]!,
      });
    }
  }
  return out;
}

/** addNormPower with the anchor β1_i − β1*_j formed on the fly (no allocation). */
function addNormPowerShifted(
  b1: Float64Array,
  io: number,
  b1s: Float64Array,
  jo: number,
  t1: Float64Array,
  d: number,
  coef: number,
  e: number,
  o: number,
  g: Float64Array,
  gOff: number,
): void {
  let r2 = 0;
  for (let l = 0; l < d; l++) {
    const v = b1[io + l]! - b1s[jo + l]! - t1[l]!;
    r2 += v * v;
  }
  if (r2 === 0 || coef === 0) return;
  const re = Math.pow(Math.sqrt(r2), e);
  if (re <= o) return;
  const s = (coef * e * re) / r2;
  for (let l = 0; l < d; l++) g[gOff + l] = g[gOff + l]! - s * (b1[io + l]! - b1s[jo + l]! - t1[l]!);
}
