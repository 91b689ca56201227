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
 *   to β1*_j + t1; see cells.ts). The infimum over t1 of the loss with cells(t1) is searched by
 *   alternating cells → optimal (t0, t1) → cells from several starts: the t1 aligning each fitted
 *   atom exactly with each true atom, and the t1 optimal for the cells on (a, b, ν) alone. Every
 *   value considered is consistent (its cells are the cells at its t1); the smallest wins. The
 *   start set moves with a translation of the fit, so the result is invariant to it.
 * - `loss: "auto"` uses the D2 formula (identical to D1 on cells of at most one atom) and reports
 *   kind "D2" when some cell has two or more atoms, "D1" otherwise. Under D2, cell assignments
 *   that need r̄(m ≥ 4) are left out of the search; if every assignment reached needs one, the
 *   unknown-r̄ error is thrown.
 */
import { getGate } from '../models/gates/index.js';
import { hasTau, type Model } from '../models/types.js';
import { validateModel, ValidationError } from '../models/validate.js';
import { logsumexp } from '../math/logsumexp.js';
import { assignCells, cellMembers } from './cells.js';
import { minimizeConvex } from './convex.js';
import { cellExponents, exponentTable, UnknownRBarError, type CellExponents, type ExponentTable } from './exponents.js';
import { minimizeT1, optimalScale, type T1Term } from './translation.js';

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

/** One cell assignment with everything that does not depend on (c, t1). */
interface Assignment {
  assign: Int32Array;
  key: string;
  members: number[][];
  exps: CellExponents[];
  /** W_j (normalised fitted weights) */
  W: Float64Array;
  /** Σ_{i∈A_j} w_i (‖Δa‖^ea + |Δb|^eb + |Δν|^eν) */
  fixed: Float64Array;
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
  const g = m.gate;
  return g.kind === 'activation' ? `activation(${g.activation}, bias ${g.bias})` : g.kind;
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
  const lossOpt = options.loss ?? 'auto';
  if (!(LOSS_KINDS as readonly string[]).includes(lossOpt)) throw new Error(`loss must be one of ${LOSS_KINDS.join(', ')}. Value: ${String(lossOpt)}`);
  for (const key of ['translation', 'normalizeWeights'] as const) {
    const v = options[key];
    if (v !== undefined && typeof v !== 'boolean') throw new Error(`${key} must be true or false. Value: ${String(v)}`);
  }
  const table = exponentTable(truth.gate.kind, options.exponents);
  const formula: LossKind = lossOpt === 'D1' ? 'D1' : 'D2';

  const { d } = fit;
  const kStar = truth.k;
  let K = kStar;
  let topKActive = false;
  const topKOpt = options.topK ?? (truth.gate.kind === 'topk' ? truth.gate.K : false);
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

  const build = (assign: Int32Array): Assignment => {
    const members = cellMembers(assign, kStar);
    const exps: CellExponents[] = [];
    const W = new Float64Array(kStar);
    const fixed = new Float64Array(kStar);
    for (let j = 0; j < kStar; j++) {
      const cell = members[j]!;
      let e: CellExponents;
      try {
        e = cellExponents(table, cell.length, formula);
      } catch (err) {
        if (err instanceof UnknownRBarError) throw new UnknownRBarError(err.cellSize, j);
        throw err;
      }
      exps.push(e);
      for (const i of cell) {
        W[j] = W[j]! + w[i]!;
        const da = norm(fit.a, i * d, truth.a, j * d, d);
        const db = Math.abs(fit.b[i]! - truth.b[j]!);
        const dn = Math.abs(fit.nu[i]! - truth.nu[j]!);
        fixed[j] = fixed[j]! + w[i]! * (Math.pow(da, e.a) + Math.pow(db, e.b) + Math.pow(dn, e.nu));
      }
    }
    return { assign, key: assign.join(','), members, exps, W, fixed };
  };

  const termsBuf = new Float64Array(kStar);
  const order = Array.from({ length: kStar }, (_, j) => j);
  // per-cell terms at (c, t1) into termsBuf; returns the loss (top-K or plain sum, no τ term)
  const evaluate = (asg: Assignment, c: number, t1: Float64Array, g: Float64Array | null, gc: number, gt: number): number => {
    for (let j = 0; j < kStar; j++) {
      let t = asg.fixed[j]! + Math.abs(asg.W[j]! - c * wStar[j]!);
      const e1 = asg.exps[j]!.beta1;
      for (const i of asg.members[j]!) {
        let r2 = 0;
        for (let l = 0; l < d; l++) {
          const v = fit.beta1[i * d + l]! - truth.beta1[j * d + l]! - t1[l]!;
          r2 += v * v;
        }
        t += w[i]! * Math.pow(Math.sqrt(r2), e1);
      }
      termsBuf[j] = t;
    }
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
        const e1 = asg.exps[j]!.beta1;
        for (const i of asg.members[j]!) {
          // anchor β1_i − β1*_j against t1: ‖anchor − t1‖^e1
          addNormPowerShifted(fit.beta1, i * d, truth.beta1, j * d, t1, d, w[i]!, e1, g, gt);
        }
      }
    }
    return total;
  };

  const anchorsOf = (asg: Assignment): T1Term[] => {
    const terms: T1Term[] = [];
    for (let j = 0; j < kStar; j++) {
      for (const i of asg.members[j]!) {
        const anchor = new Float64Array(d);
        for (let l = 0; l < d; l++) anchor[l] = fit.beta1[i * d + l]! - truth.beta1[j * d + l]!;
        terms.push({ anchor, coef: w[i]!, exponent: asg.exps[j]!.beta1 });
      }
    }
    return terms;
  };

  const zeros = new Float64Array(d);
  /** optimal (c, t1) for an assignment; with fixedT1 only c is optimised */
  const optimize = (asg: Assignment, fixedT1?: Float64Array): Candidate => {
    if (!topKActive || K >= kStar) {
      const c = useT0 ? optimalScale(asg.W, wStar).c : 1;
      const t1 = fixedT1 ? Float64Array.from(fixedT1) : useT1 ? minimizeT1(anchorsOf(asg), d).t1 : Float64Array.from(zeros);
      return { asg, c, t1, value: evaluate(asg, c, t1, null, -1, -1) };
    }
    // top-K: c and t1 are coupled through the choice of the K largest terms; jointly convex
    const nc = useT0 ? 1 : 0;
    const p = nc + d;
    const lo = new Float64Array(p);
    const hi = new Float64Array(p);
    if (useT0) {
      lo[0] = Infinity;
      hi[0] = -Infinity;
      for (let j = 0; j < kStar; j++) {
        const r = asg.W[j]! / wStar[j]!;
        lo[0] = Math.min(lo[0]!, r);
        hi[0] = Math.max(hi[0]!, r);
      }
    }
    const base = fixedT1 ?? (useT1 ? null : zeros);
    if (base) {
      for (let l = 0; l < d; l++) lo[nc + l] = hi[nc + l] = base[l]!;
    } else {
      lo.fill(Infinity, nc);
      hi.fill(-Infinity, nc);
      for (const term of anchorsOf(asg)) {
        for (let l = 0; l < d; l++) {
          lo[nc + l] = Math.min(lo[nc + l]!, term.anchor[l]!);
          hi[nc + l] = Math.max(hi[nc + l]!, term.anchor[l]!);
        }
      }
    }
    const t1buf = new Float64Array(d);
    const res = minimizeConvex((x, g) => {
      for (let l = 0; l < d; l++) t1buf[l] = x[nc + l]!;
      return evaluate(asg, useT0 ? x[0]! : 1, t1buf, g, useT0 ? 0 : -1, base ? -1 : nc);
    }, lo, hi);
    const c = useT0 ? res.x[0]! : 1;
    const t1 = Float64Array.from(res.x.subarray(nc));
    return { asg, c, t1, value: evaluate(asg, c, t1, null, -1, -1) };
  };

  let best: Candidate | null = null;
  let rBarError: UnknownRBarError | null = null;
  const consider = (cand: Candidate) => {
    // a later candidate must be better beyond rounding, so equal optima keep the first one found
    if (!best || cand.value < best.value - 1e-12 * Math.abs(best.value)) best = cand;
  };
  const tryBuild = (assign: Int32Array): Assignment | null => {
    try {
      return build(assign);
    } catch (err) {
      if (err instanceof UnknownRBarError) { rBarError ??= err; return null; }
      throw err;
    }
  };

  if (!useT1) {
    const asg = tryBuild(assignCells(fit, truth, zeros));
    if (asg) consider(optimize(asg));
  } else {
    const starts: Float64Array[] = [];
    const asg0 = tryBuild(assignCells(fit, truth, undefined, false));
    if (asg0) starts.push(optimize(asg0).t1);
    for (let i = 0; i < fit.k; i++) {
      for (let j = 0; j < kStar; j++) {
        const t = new Float64Array(d);
        for (let l = 0; l < d; l++) t[l] = fit.beta1[i * d + l]! - truth.beta1[j * d + l]!;
        starts.push(t);
      }
    }
    const optimized = new Set<string>();
    const MAX_ROUNDS = 20;
    for (const start of starts) {
      let t1 = start;
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const asg = tryBuild(assignCells(fit, truth, t1));
        if (!asg) break;
        if (optimized.has(asg.key) || round === MAX_ROUNDS - 1) {
          consider(optimize(asg, t1));
          break;
        }
        optimized.add(asg.key);
        const opt = optimize(asg);
        const next = assignCells(fit, truth, opt.t1);
        if (next.join(',') === asg.key) {
          consider(opt);
          break;
        }
        t1 = opt.t1;
      }
    }
  }
  if (!best) throw rBarError ?? new Error('voronoiLoss: no cell assignment could be evaluated');
  const chosen: Candidate = best;

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
  const multi = asg.members.some((cell) => cell.length >= 2);
  // key order is the order of the CLI's JSON
  const result: LossResult = {
    loss,
    kind: lossOpt === 'auto' ? (multi ? 'D2' : 'D1') : lossOpt,
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
function addNormPowerShifted(b1: Float64Array, io: number, b1s: Float64Array, jo: number, t1: Float64Array, d: number, coef: number, e: number, g: Float64Array, gOff: number): void {
  let r2 = 0;
  for (let l = 0; l < d; l++) {
    const v = b1[io + l]! - b1s[jo + l]! - t1[l]!;
    r2 += v * v;
  }
  if (r2 === 0 || coef === 0) return;
  const r = Math.sqrt(r2);
  const s = (coef * e * Math.pow(r, e - 1)) / r;
  for (let l = 0; l < d; l++) g[gOff + l] = g[gOff + l]! - s * (b1[io + l]! - b1s[jo + l]! - t1[l]!);
}
