/**
 * The Voronoi losses D1 and D2 of THEORY.md §4, with the translation infimum, the top-K loss,
 * the τ term and per-cell, per-parameter errors.
 *
 * For one assignment of fitted atoms to cells, the per-cell term of true atom j is
 *   T_j(c, t1) = Σ_{i∈A_j} w_i (‖β1_i − β1*_j − t1‖^e1 + ‖a_i − a*_j‖^ea + |b_i − b*_j|^eb + |ν_i − ν*_j|^eν)
 *                + |W_j − c·w*_j|,
 * with all exponents 1 for cells of one atom (and under D1), the gate's exponent table with r̄(m)
 * for cells of m ≥ 2 atoms under D2 (exponents.ts); an empty cell contributes |0 − c·w*_j|.
 * The loss is inf over (c = e^{t0}, t1) of Σ_j T_j — or of the sum of the K largest T_j (top-K) —
 * plus |τ − τ*| for gates with a temperature.
 *
 * Choices (documented, switchable through {@link LossOptions}):
 * - Translations are used only where both gates' symmetries() say so: t0 when translationBeta0
 *   holds (else c = 1), t1 when translationBeta1 holds (else t1 = 0).
 * - Weight normalisation (`normalizeWeights`, default on where t0 is a symmetry): the fitted weights
 *   exp(β0_i) are rescaled by s = Σ_j exp(β0*_j) / Σ_i exp(β0_i) — a translation of the fit's β0,
 *   invisible to its gate — before the formula. THEORY's infimum translates only the truth, so
 *   without this the loss would scale by e^{s0} when the fit's β0 are translated by s0; with it,
 *   the loss depends on the fitted model only, and a fit whose total weight equals the truth's
 *   (e.g. the truth itself) is left unchanged.
 * - Cells and translation: cells are computed in the frame of the translation (distance from β1_i
 *   to β1*_j + t1; see cells.ts), so the loss is inf over t1 of the loss with cells(t1). The cell
 *   of an atom changes only across hyperplanes in t1 (where it is equidistant from two true atoms),
 *   whose normals are differences β1*_j' − β1*_j: each assignment's region is a polyhedron, and the
 *   loss is minimised over each region's closure (at a shared boundary the region's own cells are
 *   kept — a tie). When those differences span at most two directions (always for d = 1, k* ≤ 3 or
 *   d = 2) every region is found — slabs between cuts, or a sweep over the arrangement of lines —
 *   and solved: the infimum is exact. Beyond that the regions are explored from starts (each fitted
 *   atom aligned with each true atom, and the optimum of the cells on (a, b, ν) alone) and across
 *   every boundary on which a region's minimum lies. Either way the search moves with a
 *   translation of the fit, so the result is invariant to it.
 * - `loss: "auto"` chooses by the number of experts: D1 when the fit has the truth's k (exact
 *   fit), D2 otherwise (over- or under-specified). It does not look at how the atoms fell into cells,
 *   so every fit of one experiment gets the same formula and their losses stay comparable.
 * - r̄(m ≥ 4) is unknown, but r̄(m) ≥ r̄(3) = 6 (a solution of r̄'s system for 3 atoms, plus an
 *   atom at 0, solves it for m). A region whose cells need r̄(m ≥ 4) gets a lower bound valid for any
 *   such r̄ (x^{f·r̄} ≥ max(0, x^{6f} − 1); dropped where 6f < 1); if that bound does not exceed the
 *   best value of the regions with known exponents, the loss depends on r̄ and the unknown-r̄ error is
 *   thrown. Far-off translations that pile atoms into one cell are thus ruled out, not fatal.
 */
import { getGate } from '../models/gates/index.js';
import { hasTau, type Model } from '../models/types.js';
import { validateModel, ValidationError } from '../models/validate.js';
import { logsumexp } from '../math/logsumexp.js';
import { assignCells, cellMembers } from './cells.js';
import { minimizeConvex, type LinearConstraint } from './convex.js';
import { cellExponents, exponentTable, rBar, UnknownRBarError, type ExponentRule, type ExponentTable } from './exponents.js';
import { addNormPower, minimizeT1, optimalScale, type T1Term } from './translation.js';

export type LossKind = 'D1' | 'D2';

export interface LossOptions {
  /** "D1", "D2" or "auto" (default): see the module doc */
  loss?: LossKind | 'auto';
  /** overrides of the gate's multi-atom exponent table (exponents.ts), e.g. { beta1: 2, b: { r: 1 } } */
  exponents?: Partial<ExponentTable>;
  /**
   * sum of the K largest per-cell terms: a number K ≥ 1, or false for the plain sum.
   * Default: the truth's K for a top-K truth, the plain sum otherwise.
   */
  topK?: number | false;
  /** take the translation infimum where the gates allow it (default true) */
  translation?: boolean;
  /** rescale the fitted weights to the truth's total weight where t0 is a symmetry (default true) */
  normalizeWeights?: boolean;
}

/** Per-parameter errors of one cell after the translation infimum (max over the cell's atoms). */
export interface CellErrors {
  /** max_i ‖β1_i − β1*_j − t1‖ */
  beta1: number;
  /** max_i ‖a_i − a*_j‖ */
  a: number;
  /** max_i |b_i − b*_j| */
  b: number;
  /** max_i |ν_i − ν*_j| */
  nu: number;
  /** |W_j − e^{t0} w*_j| (normalised fitted weights, see weightScale) */
  weight: number;
  /** |τ − τ*|, for gates with a temperature */
  tau?: number;
}

export interface CellResult {
  /** the true atom j (0-based) */
  true: number;
  /** the fitted atoms of its cell (0-based, ascending); empty when no fitted atom is nearest */
  fitted: number[];
  /** per-parameter errors; beta1, a, b, nu are NaN (null in JSON) for an empty cell */
  errors: CellErrors;
  /** the cell's term T_j in the loss */
  term: number;
}

export interface LossResult {
  loss: number;
  /** the formula applied (see LossOptions.loss) */
  kind: LossKind;
  /** true when the loss is the sum of the K largest per-cell terms */
  topK?: boolean;
  /** K of the top-K loss */
  K?: number;
  /** translation of the truth's β0 at the infimum, relative to the fit as given (−Infinity when not attained; 0 when not a symmetry) */
  t0: number;
  /** translation of the truth's β1 at the infimum (length d; zeros when not a symmetry) */
  t1: number[];
  /** one entry per true atom, in order */
  cells: CellResult[];
  /** |τ − τ*|^e, for gates with a temperature (included in loss) */
  tauTerm?: number;
  /** factor s applied to the fitted weights exp(β0_i) (1 without normalisation) */
  weightScale: number;
}

const LOSS_KINDS = ['D1', 'D2', 'auto'] as const;
const LOSS_OPTION_KEYS: readonly string[] = ['loss', 'exponents', 'topK', 'translation', 'normalizeWeights'];

/** One cell assignment with everything that does not depend on (c, t1). */
interface Assignment {
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

interface Candidate {
  asg: Assignment;
  c: number;
  t1: Float64Array;
  value: number;
}

function checkModel(m: Model, what: 'fit' | 'truth'): void {
  try {
    validateModel(m);
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`${what}: ${e.message}`, `${what}.${e.field}`, e.value);
    throw e;
  }
}

function gateFamily(m: Model): string {
  return getGate(m.gate).family(m.gate);
}

function norm(v: ArrayLike<number>, off: number, w: ArrayLike<number>, woff: number, d: number): number {
  let s = 0;
  for (let l = 0; l < d; l++) {
    const x = v[off + l]! - w[woff + l]!;
    s += x * x;
  }
  return Math.sqrt(s);
}

/**
 * The Voronoi loss between a fitted model and the truth (THEORY.md §4; choices in the module doc).
 * @param fit fitted model (any k ≥ 1)
 * @param truth true model, same d and gate family
 * @returns the loss, the formula used, the translation at the infimum and the cells with their errors
 * @throws ValidationError for an invalid model (field named, prefixed `fit:` or `truth:`)
 * @throws Error for a different d or gate family, or bad options (field named)
 * @throws UnknownRBarError when D2 needs r̄(m) for a cell of m ≥ 4 atoms
 * @example voronoiLoss(truthPreset('demy'), truthPreset('demy')).loss // 0
 */
export function voronoiLoss(fit: Model, truth: Model, options: LossOptions = {}): LossResult {
  checkModel(fit, 'fit');
  checkModel(truth, 'truth');
  if (fit.d !== truth.d) throw new Error(`fit and truth must have the same input dimension d. Value: fit d = ${fit.d}, truth d = ${truth.d}`);
  if (gateFamily(fit) !== gateFamily(truth)) {
    throw new Error(`fit and truth must have the same gate family. Value: fit gate ${gateFamily(fit)}, truth gate ${gateFamily(truth)}`);
  }
  for (const key of Object.keys(options)) {
    if (!LOSS_OPTION_KEYS.includes(key)) throw new Error(`options.${key} is not an option of voronoiLoss (allowed: ${LOSS_OPTION_KEYS.join(', ')})`);
  }
  const lossOpt = options.loss ?? 'auto';
  if (!(LOSS_KINDS as readonly string[]).includes(lossOpt)) throw new Error(`loss must be one of ${LOSS_KINDS.join(', ')}. Value: ${String(lossOpt)}`);
  for (const key of ['translation', 'normalizeWeights'] as const) {
    const v = options[key];
    if (v !== undefined && typeof v !== 'boolean') throw new Error(`${key} must be true or false. Value: ${String(v)}`);
  }
  const table = exponentTable(truth.gate.kind, options.exponents);
  const formula: LossKind = lossOpt === 'auto' ? (fit.k === truth.k ? 'D1' : 'D2') : lossOpt;

  const { d } = fit;
  const kStar = truth.k;
  let K = kStar;
  let topKActive = false;
  const topKOpt = options.topK ?? getGate(truth.gate).lossTopK(truth.gate);
  if (topKOpt !== false) {
    if (typeof topKOpt !== 'number' || !Number.isInteger(topKOpt) || topKOpt < 1) throw new Error(`topK must be an integer ≥ 1 or false. Value: ${String(topKOpt)}`);
    topKActive = true;
    K = Math.min(topKOpt, kStar);
  }

  const symFit = getGate(fit.gate).symmetries(fit.gate);
  const symTruth = getGate(truth.gate).symmetries(truth.gate);
  const translate = options.translation ?? true;
  const useT0 = translate && symFit.translationBeta0 && symTruth.translationBeta0;
  const useT1 = translate && symFit.translationBeta1 && symTruth.translationBeta1;
  if (useT1 && formula === 'D2') {
    for (const m of [2, 3]) {
      const e = cellExponents(table, m, 'D2').beta1;
      if (!(e >= 1)) throw new Error(`exponents.beta1 must give exponents ≥ 1 (convexity of the infimum over t1). Value: ${e} for cells of ${m} atoms`);
    }
  }
  const normalize = (options.normalizeWeights ?? true) && useT0;
  const logS = normalize ? logsumexp(truth.beta0) - logsumexp(fit.beta0) : 0;
  const w = new Float64Array(fit.k);
  for (let i = 0; i < fit.k; i++) w[i] = Math.exp(fit.beta0[i]! + logS);
  const wStar = new Float64Array(kStar);
  for (let j = 0; j < kStar; j++) wStar[j] = Math.exp(truth.beta0[j]!);
  for (const [v, what] of [[w, 'fit'], [wStar, 'truth']] as const) {
    for (let t = 0; t < v.length; t++) {
      if (!Number.isFinite(v[t]!)) throw new Error(`${what}: mixing weight exp(gating.beta0[${t}]) overflows. Value: ${what === 'fit' ? fit.beta0[t] : truth.beta0[t]}`);
    }
  }

  // x^e, or its lower bound for an unknown exponent e ≥ e0: max(0, x^e0 − 1) — [exponent, offset, used].
  // r̄(m) ≥ r̄(3) for m ≥ 4: a solution of the r̄ system for 3 atoms plus an atom at 0 solves it for 4
  const R3 = rBar(3);
  const lowerForm = (rule: ExponentRule): [number, number, boolean] => {
    if (typeof rule === 'number') return [rule, 0, true];
    const e0 = rule.r * R3;
    return e0 >= 1 ? [e0, 1, true] : [1, 0, false];
  };
  const power = (x: number, [e, o, used]: [number, number, boolean]) => (used ? Math.max(0, Math.pow(x, e) - o) : 0);
  const build = (assign: Int32Array): Assignment => {
    const members = cellMembers(assign, kStar);
    const e1 = new Float64Array(kStar);
    const o1 = new Float64Array(kStar);
    const W = new Float64Array(kStar);
    const fixed = new Float64Array(kStar);
    let unknown: UnknownRBarError | null = null;
    for (let j = 0; j < kStar; j++) {
      const cell = members[j]!;
      let forms: [number, number, boolean][];
      try {
        const e = cellExponents(table, cell.length, formula);
        forms = [[e.beta1, 0, true], [e.a, 0, true], [e.b, 0, true], [e.nu, 0, true]];
      } catch (err) {
        if (!(err instanceof UnknownRBarError)) throw err;
        unknown ??= new UnknownRBarError(err.cellSize, j);
        forms = [lowerForm(table.beta1), lowerForm(table.a), lowerForm(table.b), lowerForm(table.nu)];
      }
      const [fb1, fa, fb, fn] = forms as [[number, number, boolean], [number, number, boolean], [number, number, boolean], [number, number, boolean]];
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
  };

  const termsBuf = new Float64Array(kStar);
  const order = Array.from({ length: kStar }, (_, j) => j);
  // largest term first, ties to the smaller j
  const byTermDesc = (x: number, y: number) => termsBuf[y]! - termsBuf[x]! || x - y;
  // per-cell terms at (c, t1) into termsBuf; returns the loss (top-K or plain sum, no τ term)
  const evaluate = (asg: Assignment, c: number, t1: Float64Array, g: Float64Array | null, gc: number, gt: number): number => {
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
    if (topKActive && K < kStar) order.sort(byTermDesc);
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
  };

  const anchorsOf = (asg: Assignment): T1Term[] => {
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
  };

  // squared cell distance of atom i to true atom j without the β1 part: ‖Δa‖² + Δb² + Δν²
  const rest2 = new Float64Array(fit.k * kStar);
  for (let i = 0; i < fit.k; i++) {
    for (let j = 0; j < kStar; j++) {
      const da = norm(fit.a, i * d, truth.a, j * d, d);
      const db = fit.b[i]! - truth.b[j]!;
      const dn = fit.nu[i]! - truth.nu[j]!;
      rest2[i * kStar + j] = da * da + db * db + dn * dn;
    }
  }
  const anchor2 = (i: number, j: number) => {
    let s2 = 0;
    for (let l = 0; l < d; l++) s2 += (fit.beta1[i * d + l]! - truth.beta1[j * d + l]!) ** 2;
    return s2;
  };
  /**
   * The cell region of an assignment as half-spaces in t1: atom i stays nearer to its true atom A
   * than to any j' — ‖u_iA − t‖² + R_iA ≤ ‖u_ij' − t‖² + R_ij' with u_ij = β1_i − β1*_j, i.e.
   * 2(β1*_j' − β1*_A)·t ≥ ‖u_iA‖² − ‖u_ij'‖² + R_iA − R_ij' (linear in t: cells are polyhedra).
   */
  const regionOf = (asg: Assignment): LinearConstraint[] => {
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
        out.push({ normal, rhs: anchor2(i, A) - anchor2(i, jp) + rest2[i * kStar + A]! - rest2[i * kStar + jp]! });
      }
    }
    return out;
  };

  const zeros = new Float64Array(d);
  /**
   * Minimum of the loss over (c, t1) with the cells held at `asg`, t1 restricted to the closure of
   * the cells' region (`start` is a point of it). Returns null for an empty region.
   */
  const solveRegion = (asg: Assignment, start: Float64Array): Candidate | null => {
    const cMed = useT0 ? optimalScale(asg.W, wStar).c : 1;
    const plain = !topKActive || K >= kStar;
    const terms = anchorsOf(asg);
    // sublevel box: every term w_i(‖u_i − t‖^e − o) is at most the loss, so a minimiser lies within
    // (F(start)/w_i + o)^(1/e) of every anchor
    let F0 = 0;
    if (plain) for (const term of terms) F0 += addNormPower(term.anchor, 0, start, 0, d, term.coef, term.exponent, null, 0, term.offset);
    else F0 = evaluate(asg, cMed, start, null, -1, -1);
    if (plain && F0 === 0) return { asg, c: cMed, t1: Float64Array.from(start), value: evaluate(asg, cMed, start, null, -1, -1) };
    const tLo = Float64Array.from(start);
    const tHi = Float64Array.from(start);
    const boxLo = new Float64Array(d).fill(-Infinity);
    const boxHi = new Float64Array(d).fill(Infinity);
    for (const term of terms) {
      if (!(term.coef > 0)) continue;
      const rho = Math.pow(F0 / term.coef + (term.offset ?? 0), 1 / term.exponent);
      for (let l = 0; l < d; l++) {
        boxLo[l] = Math.max(boxLo[l]!, term.anchor[l]! - rho);
        boxHi[l] = Math.min(boxHi[l]!, term.anchor[l]! + rho);
      }
    }
    for (let l = 0; l < d; l++) {
      // the start lies in the box up to rounding
      if (Number.isFinite(boxLo[l]!)) tLo[l] = Math.min(tLo[l]!, boxLo[l]!);
      if (Number.isFinite(boxHi[l]!)) tHi[l] = Math.max(tHi[l]!, boxHi[l]!);
    }
    const region = regionOf(asg);
    if (plain) {
      const res = minimizeConvex((t, g) => {
        g.fill(0);
        let f = 0;
        for (const term of terms) f += addNormPower(term.anchor, 0, t, 0, d, term.coef, term.exponent, g, 0, term.offset);
        return f;
      }, tLo, tHi, { constraints: region });
      if (!res.feasible) return null;
      return { asg, c: cMed, t1: res.x, value: evaluate(asg, cMed, res.x, null, -1, -1) };
    }
    // top-K: c and t1 are coupled through the choice of the K largest terms; jointly convex
    const nc = useT0 ? 1 : 0;
    const lo = new Float64Array(nc + d);
    const hi = new Float64Array(nc + d);
    if (useT0) {
      // clamping c into [min, max] of W_j/w*_j brings every |W_j − c w*_j| down
      lo[0] = Infinity;
      hi[0] = -Infinity;
      for (let j = 0; j < kStar; j++) {
        const r = asg.W[j]! / wStar[j]!;
        lo[0] = Math.min(lo[0]!, r);
        hi[0] = Math.max(hi[0]!, r);
      }
    }
    lo.set(tLo, nc);
    hi.set(tHi, nc);
    const lifted = region.map((h) => {
      const normal = new Float64Array(nc + d);
      normal.set(h.normal as Float64Array, nc);
      return { normal, rhs: h.rhs };
    });
    const t1buf = new Float64Array(d);
    const res = minimizeConvex((x, g) => {
      for (let l = 0; l < d; l++) t1buf[l] = x[nc + l]!;
      return evaluate(asg, useT0 ? x[0]! : 1, t1buf, g, useT0 ? 0 : -1, nc);
    }, lo, hi, { constraints: lifted });
    if (!res.feasible) return null;
    const c = useT0 ? res.x[0]! : 1;
    const t1 = Float64Array.from(res.x.subarray(nc));
    return { asg, c, t1, value: evaluate(asg, c, t1, null, -1, -1) };
  };
  /** optimal c at t1 = 0 (no translation in β1) */
  const solveFixed = (asg: Assignment): Candidate => {
    if (!topKActive || K >= kStar) {
      const c = useT0 ? optimalScale(asg.W, wStar).c : 1;
      return { asg, c, t1: Float64Array.from(zeros), value: evaluate(asg, c, zeros, null, -1, -1) };
    }
    if (!useT0) return { asg, c: 1, t1: Float64Array.from(zeros), value: evaluate(asg, 1, zeros, null, -1, -1) };
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < kStar; j++) {
      lo = Math.min(lo, asg.W[j]! / wStar[j]!);
      hi = Math.max(hi, asg.W[j]! / wStar[j]!);
    }
    const res = minimizeConvex((x, g) => evaluate(asg, x[0]!, zeros, g, 0, -1), [lo], [hi]);
    return { asg, c: res.x[0]!, t1: Float64Array.from(zeros), value: res.f };
  };

  let best: Candidate | null = null;
  // the smallest lower bound over regions whose cells need an unknown r̄
  let bestUnknown: Candidate | null = null;
  const consider = (cand: Candidate | null) => {
    if (!cand) return;
    if (cand.asg.unknown) {
      if (!bestUnknown || cand.value < bestUnknown.value) bestUnknown = cand;
      return;
    }
    // a later candidate must be better beyond rounding, so equal optima keep the first one found
    if (!best || cand.value < best.value - 1e-12 * Math.abs(best.value)) best = cand;
  };
    const seen = new Set<string>();
  /** solves the region of the cells at t (once per assignment) */
  const visit = (t: Float64Array): Candidate | null => {
    const assign = assignCells(fit, truth, t);
    const key = assign.join(',');
    if (seen.has(key)) return null;
    seen.add(key);
    const asg = build(assign);
    const cand = solveRegion(asg, t);
    consider(cand);
    return cand;
  };

  if (!useT1) {
    consider(solveFixed(build(assignCells(fit, truth, zeros))));
  } else {
    // the cells change only across hyperplanes whose normals are differences of the true β1*_j
    const dirs: Float64Array[] = [];
    for (let j = 1; j < kStar; j++) {
      const v = new Float64Array(d);
      for (let l = 0; l < d; l++) v[l] = truth.beta1[j * d + l]! - truth.beta1[l]!;
      dirs.push(v);
    }
    const basis = orthonormalBasis(dirs, d);
    // the lines (hyperplanes) where an atom is equidistant from two true atoms, in basis coordinates:
    // α·σ = r with σ_k = b_k·t (their normals lie in the span of the basis)
    const lines: { alpha: Float64Array; r: number }[] = [];
    for (let i = 0; i < fit.k; i++) {
      for (let j = 0; j < kStar; j++) {
        for (let jp = j + 1; jp < kStar; jp++) {
          const alpha = new Float64Array(basis.length);
          let any = false;
          basis.forEach((b, q) => {
            for (let l = 0; l < d; l++) alpha[q] = alpha[q]! + 2 * (truth.beta1[jp * d + l]! - truth.beta1[j * d + l]!) * b[l]!;
            if (alpha[q] !== 0) any = true;
          });
          if (any) lines.push({ alpha, r: anchor2(i, j) - anchor2(i, jp) + rest2[i * kStar + j]! - rest2[i * kStar + jp]! });
        }
      }
    }
    const point = (sigma: number[]) => {
      const t = new Float64Array(d);
      basis.forEach((b, q) => {
        for (let l = 0; l < d; l++) t[l] = t[l]! + sigma[q]! * b[l]!;
      });
      return t;
    };
    if (basis.length === 0) {
      visit(Float64Array.from(zeros));
    } else if (basis.length === 1) {
      // rank 1 (always for d = 1 or k* = 2): the regions are slabs between consecutive cuts;
      // solving every slab gives the exact infimum
      for (const sv of between(lines.map((h) => h.r / h.alpha[0]!))) visit(point([sv]));
    } else if (basis.length === 2) {
      // rank 2: sweep σ1. Between consecutive vertices (and vertical lines) no two lines cross, so
      // one vertical line per strip meets every region of the strip, in the order of the lines;
      // every region has a strip inside its σ1-extent, so all regions are reached: exact again
      const vertical = (h: { alpha: Float64Array }) => Math.abs(h.alpha[1]!) <= 1e-12 * Math.abs(h.alpha[0]!);
      const xs: number[] = [];
      for (const h of lines) if (vertical(h)) xs.push(h.r / h.alpha[0]!);
      for (let u = 0; u < lines.length; u++) {
        for (let v = u + 1; v < lines.length; v++) {
          const [p1, p2] = [lines[u]!, lines[v]!];
          const det = p1.alpha[0]! * p2.alpha[1]! - p1.alpha[1]! * p2.alpha[0]!;
          const scale = Math.hypot(p1.alpha[0]!, p1.alpha[1]!) * Math.hypot(p2.alpha[0]!, p2.alpha[1]!);
          if (Math.abs(det) <= 1e-12 * scale) continue; // parallel
          xs.push((p1.r * p2.alpha[1]! - p2.r * p1.alpha[1]!) / det);
        }
      }
      const slanted = lines.filter((h) => !vertical(h));
      for (const m of between(xs)) {
        for (const y of between(slanted.map((h) => (h.r - h.alpha[0]! * m) / h.alpha[1]!))) visit(point([m, y]));
      }
    } else {
      // rank ≥ 2: explore the regions reached from the starts (each atom aligned with each true
      // atom, and the optimum of the cells on (a, b, ν)), then across every cell boundary on which a
      // region's minimum lies (a local search over the arrangement of regions)
      const queue: Float64Array[] = [];
      queue.push(minimizeT1(anchorsOf(build(assignCells(fit, truth, undefined, false))), d).t1);
      for (let i = 0; i < fit.k; i++) {
        for (let j = 0; j < kStar; j++) {
          const t = new Float64Array(d);
          for (let l = 0; l < d; l++) t[l] = fit.beta1[i * d + l]! - truth.beta1[j * d + l]!;
          queue.push(t);
        }
      }
      const MAX_REGIONS = 400;
      while (queue.length > 0 && seen.size < MAX_REGIONS) {
        const cand = visit(queue.shift()!);
        if (!cand) continue;
        let tn = 0;
        for (let l = 0; l < d; l++) tn += cand.t1[l]! ** 2;
        const eps = 1e-7 * (1 + Math.sqrt(tn));
        for (const h of regionOf(cand.asg)) {
          let nt = 0;
          let nn = 0;
          for (let l = 0; l < d; l++) {
            nt += h.normal[l]! * cand.t1[l]!;
            nn += h.normal[l]! ** 2;
          }
          const len = Math.sqrt(nn);
          if (nt - h.rhs > 1e-9 * (Math.abs(h.rhs) + len * Math.sqrt(tn) + 1)) continue; // not on this boundary
          queue.push(Float64Array.from(cand.t1, (tl, l) => tl - (eps * h.normal[l]!) / len));
        }
      }
    }
  }
  // a region needing r̄(m ≥ 4) decides the loss unless even its lower bound exceeds the best defined value
  // (closures assign best and bestUnknown: re-read them with their declared types)
  const undecided = bestUnknown as Candidate | null;
  const found = best as Candidate | null;
  if (undecided && (!found || undecided.value < found.value * (1 + 1e-9))) throw undecided.asg.unknown!;
  if (!found) throw new Error('voronoiLoss: no cell assignment could be evaluated');
  const chosen: Candidate = found;

  // final terms and errors at the chosen (c, t1)
  const { asg, c, t1 } = chosen;
  let loss = evaluate(asg, c, t1, null, -1, -1);
  const tauErr = hasTau(truth.gate) ? Math.abs(fit.tau - truth.tau) : undefined;
  let tauTerm: number | undefined;
  if (tauErr !== undefined) {
    tauTerm = Math.pow(tauErr, table.tau);
    loss += tauTerm;
  }
  if (!Number.isFinite(loss)) throw new Error(`voronoiLoss: the loss is not finite (${loss}); check the models' parameter scales`);
  const cells: CellResult[] = [];
  for (let j = 0; j < kStar; j++) {
    const fitted = asg.members[j]!;
    const empty = fitted.length === 0;
    let eb1 = empty ? NaN : 0;
    let ea = empty ? NaN : 0;
    let eb = empty ? NaN : 0;
    let en = empty ? NaN : 0;
    for (const i of fitted) {
      let r2 = 0;
      for (let l = 0; l < d; l++) {
        const v = fit.beta1[i * d + l]! - truth.beta1[j * d + l]! - t1[l]!;
        r2 += v * v;
      }
      eb1 = Math.max(eb1, Math.sqrt(r2));
      ea = Math.max(ea, norm(fit.a, i * d, truth.a, j * d, d));
      eb = Math.max(eb, Math.abs(fit.b[i]! - truth.b[j]!));
      en = Math.max(en, Math.abs(fit.nu[i]! - truth.nu[j]!));
    }
    const errors: CellErrors = { beta1: eb1, a: ea, b: eb, nu: en, weight: Math.abs(asg.W[j]! - c * wStar[j]!) };
    if (tauErr !== undefined) errors.tau = tauErr;
    cells.push({ true: j, fitted: [...fitted], errors, term: termsBuf[j]! });
  }
  // key order is the order of the CLI's JSON
  const result: LossResult = {
    loss,
    kind: formula,
    ...(topKActive ? { topK: true, K } : {}),
    t0: useT0 ? Math.log(c) - logS : 0,
    t1: Array.from(t1),
    cells,
    ...(tauTerm !== undefined ? { tauTerm } : {}),
    weightScale: Math.exp(logS),
  };
  return result;
}

/** addNormPower with the anchor β1_i − β1*_j formed on the fly (no allocation). */
function addNormPowerShifted(b1: Float64Array, io: number, b1s: Float64Array, jo: number, t1: Float64Array, d: number, coef: number, e: number, o: number, g: Float64Array, gOff: number): void {
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

/** Points strictly between consecutive distinct values of `cuts`, and one beyond each end (0 for none). */
function between(cuts: number[]): number[] {
  const c = cuts.filter((v) => Number.isFinite(v)).sort((x, y) => x - y);
  if (c.length === 0) return [0];
  const span = c[c.length - 1]! - c[0]! + 1;
  const out = [c[0]! - span];
  for (let s = 1; s < c.length; s++) if (c[s]! > c[s - 1]!) out.push(0.5 * (c[s - 1]! + c[s]!));
  out.push(c[c.length - 1]! + span);
  return out;
}

/** Orthonormal basis of the span of `vs` (Gram–Schmidt; directions below 1e-12 of their length dropped). */
function orthonormalBasis(vs: Float64Array[], d: number): Float64Array[] {
  const basis: Float64Array[] = [];
  for (const v0 of vs) {
    const v = Float64Array.from(v0);
    let n0 = 0;
    for (let l = 0; l < d; l++) n0 += v[l]! ** 2;
    if (n0 === 0) continue;
    for (const b of basis) {
      let dot = 0;
      for (let l = 0; l < d; l++) dot += v[l]! * b[l]!;
      for (let l = 0; l < d; l++) v[l] = v[l]! - dot * b[l]!;
    }
    let n = 0;
    for (let l = 0; l < d; l++) n += v[l]! ** 2;
    if (n <= 1e-24 * n0) continue;
    const s = 1 / Math.sqrt(n);
    basis.push(Float64Array.from(v, (x) => x * s));
  }
  return basis;
}
