/**
 * Strategy A of the top-K gate M-step (see topk.ts): Newton on Q with S_K held fixed, each step
 * confined to the cell of parameters where no sample's active set changes (a small QP solved by a
 * primal active-set method) and to a trust region relative to the parameters' size.
 */
import type { Dataset, Model } from '../../models/types.js';
import { maximize, type Damping, type NewtonWorkspace } from '../optim/driver.js';
import { cholesky, choleskySolve, ridgeSolve } from '../optim/linalg.js';
import type { Workspace } from '../workspace.js';
import { packGate, type GateLayoutInfo } from './layout.js';
import type { GateQObjective } from './objective.js';

/** Halvings of a refused step (B's line search, A's Q steps). */
export const MAX_BACKTRACKS = 10;
/** Trust region of the candidates' Newton steps. */
export const TOPK_MAX_STEP = 2;
/** Fraction of an active–inactive score gap a cell-constrained step may use up. */
const CELL_FRACTION = 0.9;
/**
 * Trust region of the cell-constrained steps, relative to the largest gate parameter (at least
 * TOPK_MAX_STEP): a switch that sharpens for ever needs steps that grow with the parameters, but
 * not so fast that the gate hardens before the experts settle (4 instead of 0.25 ended some
 * seeds' fits a few nats lower).
 */
const CELL_RADIUS = 0.25;

/**
 * Ratio test of the cell-constrained step over all samples: the largest α ≤ 1 such that for every
 * sample i, active j and inactive l, the score gap at θ + δk + α·pd stays ≥ (1 − f)·(gap at θ)
 * (≥ 0 for a tie). Scores are linear: coefficients B (θ), K (δk), P (direction) per expert, β0
 * parts k, β1 parts k × d. Constraints already in the working set (wI/wJ/wL, w entries) are
 * skipped. The blocking (i, j, l) goes to blk when α < 1. Module level: see cpu.ts on closures.
 */
function ratioRows(
  k: number,
  d: number,
  n: number,
  X: Float64Array,
  mask: Uint8Array,
  B0: Float64Array,
  B1: Float64Array,
  P0: Float64Array,
  P1: Float64Array,
  K0: Float64Array,
  K1: Float64Array,
  f: number,
  wI: Int32Array,
  wJ: Int32Array,
  wL: Int32Array,
  w: number,
  sc: Float64Array,
  blk: Int32Array,
): number {
  let best = 1;
  for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
    for (let j = 0; j < k; j++) {
      let sg = B0[j]!,
        sp = P0[j]!,
        sk = K0[j]!;
      for (let a = 0; a < d; a++) {
        const xa = X[xo + a]!;
        sg += B1[j * d + a]! * xa;
        sp += P1[j * d + a]! * xa;
        sk += K1[j * d + a]! * xa;
      }
      sc[3 * j] = sg;
      sc[3 * j + 1] = sp;
      sc[3 * j + 2] = sk;
    }
    for (let j = 0; j < k; j++) {
      if (!mask[o + j]) continue;
      for (let l = 0; l < k; l++) {
        if (mask[o + l]) continue;
        const ap = sc[3 * j + 1]! - sc[3 * l + 1]!;
        if (!(ap < 0)) continue;
        const g0 = sc[3 * j]! - sc[3 * l]!;
        const gk = g0 + (sc[3 * j + 2]! - sc[3 * l + 2]!);
        const floor = g0 > 0 ? (1 - f) * g0 : 0;
        const al = Math.max(0, gk - floor) / -ap;
        if (al < best) {
          let inW = false;
          for (let c = 0; c < w; c++) if (wI[c] === i && wJ[c] === j && wL[c] === l) inW = true;
          if (!inW) {
            best = al;
            blk[0] = i;
            blk[1] = j;
            blk[2] = l;
          }
        }
      }
    }
  }
  return best;
}

/** Step fraction at which a gap (gap at θ, dq its change at δk, ap its rate along the direction) hits its floor; 2 when it does not shrink. */
function pairAlpha(gap: number, dq: number, ap: number, f: number): number {
  if (!(ap < 0)) return 2;
  const floor = gap > 0 ? (1 - f) * gap : 0;
  return Math.max(0, gap + dq - floor) / -ap;
}

/** ratioRows for d = 1, k = 3 (scores in registers, the same arithmetic; a row whose tightest pair is already in the working set is skipped whole). */
function ratioRows1k3(
  n: number,
  X: Float64Array,
  mask: Uint8Array,
  B0: Float64Array,
  B1: Float64Array,
  P0: Float64Array,
  P1: Float64Array,
  K0: Float64Array,
  K1: Float64Array,
  f: number,
  wI: Int32Array,
  wJ: Int32Array,
  wL: Int32Array,
  w: number,
  blk: Int32Array,
): number {
  const gb0 = B0[0]!,
    gb1 = B0[1]!,
    gb2 = B0[2]!,
    gs0 = B1[0]!,
    gs1 = B1[1]!,
    gs2 = B1[2]!;
  const pb0 = P0[0]!,
    pb1 = P0[1]!,
    pb2 = P0[2]!,
    ps0 = P1[0]!,
    ps1 = P1[1]!,
    ps2 = P1[2]!;
  const kb0 = K0[0]!,
    kb1 = K0[1]!,
    kb2 = K0[2]!,
    ks0 = K1[0]!,
    ks1 = K1[1]!,
    ks2 = K1[2]!;
  let best = 1;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const m0 = mask[o]!,
      m1 = mask[o + 1]!,
      m2 = mask[o + 2]!;
    // rows where every expert is active or none is have no constraint
    const na = m0 + m1 + m2;
    if (na === 0 || na === 3) continue;
    const x = X[i]!;
    const g0 = gb0 + gs0 * x,
      g1 = gb1 + gs1 * x,
      g2 = gb2 + gs2 * x;
    const p0 = pb0 + ps0 * x,
      p1 = pb1 + ps1 * x,
      p2 = pb2 + ps2 * x;
    const q0 = kb0 + ks0 * x,
      q1 = kb1 + ks1 * x,
      q2 = kb2 + ks2 * x;
    // the six ordered pairs (active j, inactive l)
    let al = 2,
      aj = -1,
      alx = -1,
      t: number;
    if (m0 && !m1 && (t = pairAlpha(g0 - g1, q0 - q1, p0 - p1, f)) < al) {
      al = t;
      aj = 0;
      alx = 1;
    }
    if (m0 && !m2 && (t = pairAlpha(g0 - g2, q0 - q2, p0 - p2, f)) < al) {
      al = t;
      aj = 0;
      alx = 2;
    }
    if (m1 && !m0 && (t = pairAlpha(g1 - g0, q1 - q0, p1 - p0, f)) < al) {
      al = t;
      aj = 1;
      alx = 0;
    }
    if (m1 && !m2 && (t = pairAlpha(g1 - g2, q1 - q2, p1 - p2, f)) < al) {
      al = t;
      aj = 1;
      alx = 2;
    }
    if (m2 && !m0 && (t = pairAlpha(g2 - g0, q2 - q0, p2 - p0, f)) < al) {
      al = t;
      aj = 2;
      alx = 0;
    }
    if (m2 && !m1 && (t = pairAlpha(g2 - g1, q2 - q1, p2 - p1, f)) < al) {
      al = t;
      aj = 2;
      alx = 1;
    }
    if (al < best) {
      let inW = false;
      for (let c = 0; c < w; c++) if (wI[c] === i && wJ[c] === aj && wL[c] === alx) inW = true;
      if (!inW) {
        best = al;
        blk[0] = i;
        blk[1] = aj;
        blk[2] = alx;
      }
    }
  }
  return best;
}

/** What a cell-constrained Newton runner works on: the M-step's objective, scratch and θ buffer. */
export interface CellEnv {
  layout: GateLayoutInfo;
  data: Dataset;
  /** ws.mask: the active sets held fixed */
  ws: Workspace;
  obj: GateQObjective;
  nws: NewtonWorkspace;
  /** θ scratch shared with the M-step */
  theta: Float64Array;
  selectOn: 'slope' | 'logit';
}

/**
 * A: Newton on Q with S_K held fixed, each step confined to the cell of parameters where S_K(x_i)
 * is unchanged for every sample (so Q there is the true Q, and any gain is an EM gain): the step
 * solves max gᵀδ − ½δᵀCδ subject to, for every sample i, active j and inactive l, the selection
 * score gap s_j − s_l staying ≥ (1 − CELL_FRACTION) of its current value (a primal active-set QP;
 * the blocking samples are those next to a switch). Without the cell, the Newton step of an
 * over-specified fit whose truth switches hard moves the switch across samples and is refused,
 * while the step that sharpens the switch in place is the one the likelihood wants.
 */
export function createCellNewton(env: CellEnv) {
  const { layout, data, ws, obj, nws, theta, selectOn } = env;
  const p = layout.p;
  const { wI, wJ, wL, wB, mu, du, dq, dk, pd, ratio, eqp } = createCellConstraints(layout, data, ws, selectOn);

  /** The cell-constrained direction: the Newton step, then the QP over the cell from δ = 0 (into ws.delta). */
  function direction(w: NewtonWorkspace): number | false {
    const { grad, curv, factor } = w;
    const sol = ridgeSolve(curv, p, grad, du, factor, { minRcond: 1e-13 });
    if (!sol.ok) return false;
    const m = obj.cur;
    // primal active set from δ = 0
    dk.fill(0);
    let w0 = 0;
    let done = false;
    for (let it = 0; it < 4 * p + 4 && !done; it++) {
      // p working constraints pin δk (a vertex of the cell): nowhere else to go this step
      if (w0 === p || !eqp(factor, w0, dq)) break;
      for (let t = 0; t < p; t++) pd[t] = dq[t]! - dk[t]!;
      const al = ratio(m, CELL_FRACTION, w0);
      for (let t = 0; t < p; t++) dk[t] = dk[t]! + al * pd[t]!;
      if (al < 1) {
        w0++;
        continue;
      }
      // at the EQP optimum: drop the most negative multiplier, if any
      let worst = -1;
      for (let c = 0; c < w0; c++) if (mu[c]! < 0 && (worst < 0 || mu[c]! < mu[worst]!)) worst = c;
      if (worst < 0) {
        done = true;
        break;
      }
      for (let c = worst; c < w0 - 1; c++) {
        wI[c] = wI[c + 1]!;
        wJ[c] = wJ[c + 1]!;
        wL[c] = wL[c + 1]!;
        wB[c] = wB[c + 1]!;
      }
      w0--;
    }
    w.delta.set(dk);
    // predicted gain of the model at δk
    let lin = 0,
      quad = 0;
    for (let r = 0; r < p; r++) {
      lin += grad[r]! * dk[r]!;
      let cr = 0;
      for (let t = 0; t < p; t++) cr += curv[r * p + t]! * dk[t]!;
      quad += dk[r]! * cr;
    }
    return lin - 0.5 * quad;
  }
  const damping: Damping = {
    direction,
    undamped: () => false,
    rejected: () => 'noAscent',
  };

  /**
   * Runs up to `steps` cell-constrained Newton steps from the model's gate (current buffers =
   * its fixed-mask probabilities, `value` = Q there): the driver with the cell's direction, a
   * trust region relative to the parameters' size and MAX_BACKTRACKS halvings. Leaves the model
   * and current buffers at the result; returns its Q (≥ value) and counts into info.
   */
  return function run(
    m: Model,
    steps: number,
    value: number,
    tol: number,
    info: { steps: number; halvings: number },
  ): number {
    packGate(layout, m, theta);
    const r = maximize(
      obj,
      theta,
      damping,
      {
        maxSteps: steps,
        tol,
        scale: data.n,
        maxHalvings: MAX_BACKTRACKS,
        maxStep: TOPK_MAX_STEP,
        relativeStep: CELL_RADIUS,
        checkFinite: false,
      },
      nws,
      value,
    );
    info.steps += r.steps;
    info.halvings += r.halvings;
    return r.value;
  };
}

/**
 * The cell's working set of active–inactive score-gap constraints, the ratio test and the
 * equality-constrained QP (EQP) of the primal active-set method, with their scratch.
 */
function createCellConstraints(layout: GateLayoutInfo, data: Dataset, ws: Workspace, selectOn: 'slope' | 'logit') {
  const p = layout.p;
  const { k, d } = layout;
  const slopeOnly = selectOn === 'slope';
  const wI = new Int32Array(p);
  const wJ = new Int32Array(p);
  const wL = new Int32Array(p);
  const wB = new Float64Array(p);
  const U = new Float64Array(p * p); // C⁻¹ a_c, one row per working constraint
  const A = new Float64Array(p * p); // a_c, one row per working constraint
  const M = new Float64Array(p * p);
  const Mf = new Float64Array(p * p);
  const mu = new Float64Array(p);
  const rhs = new Float64Array(p);
  const du = new Float64Array(p);
  const dq = new Float64Array(p);
  const dk = new Float64Array(p);
  const pd = new Float64Array(p);
  const tmp = new Float64Array(p);
  // per-expert score coefficients at θ (B), along the direction (P) and of the QP iterate δk (K)
  const B0 = new Float64Array(k),
    P0 = new Float64Array(k),
    K0 = new Float64Array(k);
  const B1 = new Float64Array(k * d),
    P1 = new Float64Array(k * d),
    K1 = new Float64Array(k * d);
  const sc3 = new Float64Array(3 * k);
  const blk = new Int32Array(3);

  /** a_c for sample i, active j, inactive l into out (length p). */
  function constraintRow(i: number, j: number, l: number, out: Float64Array): void {
    out.fill(0);
    const xo = i * d;
    for (let side = 0; side < 2; side++) {
      const e = side === 0 ? j : l;
      const sg = side === 0 ? 1 : -1;
      if (!slopeOnly && layout.b0Index[e]! >= 0) out[layout.b0Index[e]!] = sg;
      const b1 = layout.b1Index[e]!;
      if (b1 >= 0) for (let a = 0; a < d; a++) out[b1 + a] = sg * data.X[xo + a]!;
    }
  }
  /**
   * Ratio test: the largest α ≤ 1 such that δk + α·pd keeps every active–inactive score gap at
   * ≥ (1 − f) of its value at θ (gap(θ + δ) = gap(θ) + a·δ). Returns α and writes the blocking
   * constraint into the working set slot `slot` when α < 1.
   */
  function ratio(m: Model, f: number, slot: number): number {
    for (let j = 0; j < k; j++) {
      const i0 = layout.b0Index[j]!;
      B0[j] = slopeOnly ? 0 : m.beta0[j]!;
      P0[j] = slopeOnly || i0 < 0 ? 0 : pd[i0]!;
      K0[j] = slopeOnly || i0 < 0 ? 0 : dk[i0]!;
      const i1 = layout.b1Index[j]!;
      for (let a = 0; a < d; a++) {
        B1[j * d + a] = m.beta1[j * d + a]!;
        P1[j * d + a] = i1 < 0 ? 0 : pd[i1 + a]!;
        K1[j * d + a] = i1 < 0 ? 0 : dk[i1 + a]!;
      }
    }
    const best =
      k === 3 && d === 1
        ? ratioRows1k3(data.n, data.X, ws.mask, B0, B1, P0, P1, K0, K1, f, wI, wJ, wL, slot, blk)
        : ratioRows(k, d, data.n, data.X, ws.mask, B0, B1, P0, P1, K0, K1, f, wI, wJ, wL, slot, sc3, blk);
    if (best < 1) {
      const bi = blk[0]!,
        bj = blk[1]!,
        bl = blk[2]!;
      wI[slot] = bi;
      wJ[slot] = bj;
      wL[slot] = bl;
      // target a·δ = floor − gap(θ)
      let g0 = B0[bj]! - B0[bl]!;
      for (let a = 0; a < d; a++) g0 += (B1[bj * d + a]! - B1[bl * d + a]!) * data.X[bi * d + a]!;
      wB[slot] = g0 > 0 ? -f * g0 : -g0;
    }
    return best;
  }
  /** EQP over the working set (w rows): δ = δu + Σ μ_c C⁻¹a_c with A_W δ = b_W. False when singular. */
  function eqp(factor: Float64Array, w: number, out: Float64Array): boolean {
    out.set(du);
    if (w === 0) return true;
    for (let c = 0; c < w; c++) {
      constraintRow(wI[c]!, wJ[c]!, wL[c]!, tmp);
      A.set(tmp, c * p);
      choleskySolve(factor, p, tmp, tmp);
      U.set(tmp, c * p);
    }
    for (let r = 0; r < w; r++) {
      let s = wB[r]!;
      for (let t = 0; t < p; t++) s -= A[r * p + t]! * du[t]!;
      rhs[r] = s;
      for (let c = 0; c < w; c++) {
        let v = 0;
        for (let t = 0; t < p; t++) v += A[r * p + t]! * U[c * p + t]!;
        M[r * w + c] = v;
      }
    }
    if (!(cholesky(M, w, Mf, 0) > 1e-14)) return false;
    choleskySolve(Mf, w, rhs, mu);
    for (let c = 0; c < w; c++) for (let t = 0; t < p; t++) out[t] = out[t]! + mu[c]! * U[c * p + t]!;
    return true;
  }

  return { wI, wJ, wL, wB, mu, du, dq, dk, pd, ratio, eqp };
}
