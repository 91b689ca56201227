/**
 * Top-K gate M-step (THEORY.md §6). Q jumps where the active set S_K(x) changes; with S_K held
 * fixed it can be unbounded (an expert with no responsibility inside an active set can be pushed
 * away for ever), and with K = 1 it is constant (π = 1 on the one active expert). So:
 *   A. cell-constrained Newton (1 < K < k): hold S_K fixed (the mask of the current parameters)
 *      and take at most CELL_STEPS Newton steps on the softmax over the active experts, each one
 *      confined to the cell of parameters where no sample's active set changes (every active–
 *      inactive selection-score gap keeps ≥ 1 − CELL_FRACTION of its value: a small QP solved by
 *      a primal active-set method, see createCellNewton) and to a trust region relative to the
 *      parameters' size, with step halving on Q. Inside the cell Q is the true Q, so every step
 *      is an EM step; the observed log-likelihood (S_K recomputed) is checked once at the end
 *      (against the old gate with the new experts, which the E-step's Q did not see: a refused
 *      step is halved up to CELL_BACKTRACKS times along the cell's segment).
 *      Why the cell: an over-specified fit of a truth that switches hard (topk1 with k = 3, K = 2)
 *      has its likelihood supremum at infinity — the gate sharpens the switch for ever, inside the
 *      gap between two samples. On that exponential tail a Newton step lowers the far side's logits
 *      by about one unit, mostly as an intercept shift that moves the switch across samples: the
 *      unconstrained fixed-S_K step was refused or halved to nothing, and its absolute trust
 *      region (2 against parameters near 1e4) did the rest (5000 EM iterations without converging
 *      at n = 2000). Confined to the cell, the step sharpens the switch in place.
 *   B. dense surrogate, after A (and alone when A is unavailable: K = 1 or K = k): responsibilities
 *      r̃ of the gate so far with the mask removed (a plain softmax gate), Newton on the dense Q(r̃)
 *      (TOPK_STEPS steps each changing no parameter by more than TOPK_MAX_STEP), recompute S_K, and
 *      accept only a strict increase of the observed log-likelihood over the best gate so far,
 *      halving up to 10 times. After an A step that gained more than EXPLORE_GAIN per sample, B
 *      only explores: B_STEPS_AFTER_A steps and the full step alone. B is what moves a switch
 *      across samples (the mask hides from A's responsibilities which expert a sample beyond a
 *      switch belongs to); run in full when A stalls, it keeps a stalled A from ending the run
 *      where B would still move. Strictness matters:
 *      top-1 is invariant to scaling (β0, β1) → c(β0, β1), and accepting ties would let the
 *      surrogate drift the scale without bound.
 *   C. switch search, K = 1 selecting on the full logit: sample i has expert j iff β0_j > t_ij, so
 *      the observed log-likelihood is piecewise constant in each free β0_j; it is maximised exactly
 *      over each in turn (sorted thresholds, cumulative gains) and kept on a strict increase. A and
 *      B cannot move a boundary across the few samples a start put on the wrong side: at n = 1e5
 *      four such samples within 3e-5 of the switch cost 575 nats and biased ν.
 * The log-likelihood trace therefore never decreases across accepted steps.
 */
import { getGate } from '../../models/gates/index.js';
import { cloneModel, type Model } from '../../models/types.js';
import { ridgeDamping } from '../optim/damping.js';
import { newtonWorkspace } from '../optim/driver.js';
import { swapGateBuffers, type Workspace } from '../workspace.js';
import type { Backend } from '../backend/types.js';
import { copyGateParams, packGate, unpackGate, type GateLayoutInfo } from './layout.js';
import { GateQObjective } from './objective.js';
import { runGateNewton } from './run.js';
import { boxProjection, gateBox } from '../bounds.js';
import { emptyInfo, type GateMStepContext, type GateMStepFactory, type GateMStepInfo } from './types.js';
import { createCellNewton, MAX_BACKTRACKS, TOPK_MAX_STEP } from './topk-cell.js';
import { createSwitchSearch } from './topk-switch.js';
import { gateWarn } from './warn.js';

export { TOPK_MAX_STEP } from './topk-cell.js';

/** Newton steps per candidate and EM iteration (fewer than gateMaxSteps: the sub-problems may be unbounded). */
export const TOPK_STEPS = 5;
/** Newton steps of the dense surrogate B after A has already moved the gate (B then only explores). */
const B_STEPS_AFTER_A = 1;
/**
 * Cell-constrained Newton steps per EM iteration: on the exponential tail of a sharpening switch
 * each step gains about one logit unit, and two per iteration cost less in all than five
 * (measured: n = 2000, seeds 1–5, the same log-likelihoods, ~30% fewer passes over the data).
 */
const CELL_STEPS = 2;
/** Halvings of a cell step refused on the observed log-likelihood. */
const CELL_BACKTRACKS = 4;
/** A's gain per sample above which B only explores (see B in the module doc). */
const EXPLORE_GAIN = 1e-8;

export const topkMStep: GateMStepFactory = ({ backend, data, model, ws, layout, bounds }) => {
  // with bounds, A's and B's Newton steps are projected Newton (src/em/bounds.ts), B's line search
  // runs between two points of the box, C's switch search only looks inside it
  const box = bounds ? gateBox(layout, bounds) : null;
  const projection = box ? { projection: boxProjection(box) } : {};
  const obj = new GateQObjective(backend, layout, getGate(model.gate), data.X, data.n, ws, model, cloneModel(model));
  const p = layout.p;
  const theta = new Float64Array(p);
  const thetaOld = new Float64Array(p);
  const dir = new Float64Array(p);
  const thetaA = new Float64Array(p);
  const saved = cloneModel(model);
  const nws = newtonWorkspace(p);
  const result = { params: model, info: emptyInfo() };
  const sel = getGate(model.gate).selection?.(model.gate) ?? { K: 1, selectOn: 'slope' };
  const K = sel.K;
  const switchable = K === 1 && sel.selectOn === 'logit';
  const cell =
    K >= 2 && K < layout.k
      ? createCellNewton({ layout, data, ws, obj, nws, theta, selectOn: sel.selectOn, ...projection })
      : null;
  // B's Newton runs: fixed-size trust region, no step-budget warning (the sub-problem may be unbounded)
  const bSpec = {
    damping: ridgeDamping(),
    expectFlat: false,
    warnMaxSteps: false,
    driver: { maxStep: TOPK_MAX_STEP, ...projection },
  };
  const observed = (ctx: GateMStepContext, m: Model, th: Float64Array, w: Workspace): number =>
    observedAt(backend, layout, saved, ctx, m, th, w);
  const switchSearch = switchable
    ? createSwitchSearch({ layout, n: data.n, theta, observed, beta0Bound: bounds?.beta0 ?? Infinity })
    : null;

  const senv: SearchEnv = { p, theta, thetaOld, dir, saved, info: result.info, observed };

  return {
    kind: 'topk',
    step(ctx) {
      const { X, y, n } = ctx.data;
      const m = ctx.model;
      const w = ctx.ws;
      const info = result.info;
      result.params = m;
      const sub = { ...ctx, maxSteps: Math.min(ctx.maxSteps, TOPK_STEPS) };
      // the bar a new gate must clear: old gate, new experts
      const llRef = backend.logLik(m, X, y, n, w.logPi);
      copyGateParams(m, saved);
      packGate(layout, m, thetaOld);
      obj.cur = m;
      let steps = 0;
      let halvings = 0;
      let accepted = NaN;
      let refused = false;
      if (cell) {
        obj.resp = w.resp;
        obj.maskMode = 'fixed';
        const q0 = ctx.q0 !== undefined && !Number.isNaN(ctx.q0) ? ctx.q0 : obj.currentValue();
        const cinfo = { steps: 0, halvings: 0 };
        cell(m, Math.min(ctx.maxSteps, CELL_STEPS), q0, ctx.tol, cinfo);
        steps += cinfo.steps;
        halvings += cinfo.halvings;
        if (cinfo.steps > 0) {
          // the cell keeps S_K, so the current buffers hold the new gate; the observed log-likelihood
          // is checked with S_K recomputed (rounding at a score tie could still flip a sample)
          packGate(layout, m, theta);
          const ll = observed(ctx, m, theta, w);
          if (ll >= llRef) {
            swapGateBuffers(w, true);
            accepted = ll;
          } else {
            // the bar holds the new experts, which the E-step's Q did not see: shorter steps along the
            // (convex) cell's segment before giving up
            for (let t = 0; t < p; t++) dir[t] = theta[t]! - thetaOld[t]!;
            info.halvings = 0;
            accepted = searchAlong(senv, ctx, m, w, llRef, false, CELL_BACKTRACKS - 1, 0.5);
            halvings += info.halvings + 1;
            refused = Number.isNaN(accepted);
          }
        }
      }
      {
        // B: dense surrogate from the best gate so far (whose buffers are rebuilt below if B fails)
        const bar = Number.isNaN(accepted) ? llRef : accepted;
        const keepA = !Number.isNaN(accepted);
        // B only explores (one step, no halving) after an A step that gained; in full otherwise, so that
        // a stalled A cannot end the run where B would still have moved
        const explore = keepA && accepted - llRef > EXPLORE_GAIN * n;
        if (keepA) {
          copyGateParams(m, saved);
          packGate(layout, m, thetaOld);
          thetaA.set(thetaOld);
        } else copyGateParams(saved, m);
        backend.gateProbs(m, X, n, w.logPiT, w.piT, null, 'none');
        swapGateBuffers(w);
        backend.eStep(m, X, y, n, w.logPi, w.respT);
        obj.resp = w.respT;
        obj.maskMode = 'none';
        sub.q0 = NaN; // Q at the surrogate responsibilities is not the E-step's
        packGate(layout, m, theta);
        sub.maxSteps = explore ? Math.min(ctx.maxSteps, B_STEPS_AFTER_A) : Math.min(ctx.maxSteps, TOPK_STEPS);
        runGateNewton(sub, obj, theta, nws, info, bSpec);
        steps += info.steps;
        halvings += info.halvings;
        let accB = NaN;
        if (info.steps > 0) {
          for (let t = 0; t < p; t++) dir[t] = theta[t]! - thetaOld[t]!;
          info.halvings = 0;
          accB = searchAlong(senv, ctx, m, w, bar, true, explore ? 0 : MAX_BACKTRACKS);
          halvings += info.halvings;
        }
        if (Number.isNaN(accB) && keepA) {
          // back to A's gate (its buffers were overwritten by B; its log-likelihood is known)
          unpackGate(layout, thetaA, m);
          backend.gateProbs(m, X, n, w.logPiT, w.piT, w.maskT, 'compute');
          swapGateBuffers(w, true);
        }
        if (!Number.isNaN(accB)) accepted = accB;
      }
      if (switchSearch) {
        const accC = switchSearch(ctx, m, w, Number.isNaN(accepted) ? llRef : accepted);
        if (!Number.isNaN(accC)) {
          accepted = accC;
          steps++;
        }
      }
      info.steps = steps;
      info.halvings = halvings;
      info.Q = NaN; // the Q of either sub-problem does not describe the recomputed S_K
      info.refused = refused && Number.isNaN(accepted);
      if (Number.isNaN(accepted)) {
        copyGateParams(saved, m);
        info.logPiValid = false;
      } else {
        info.logPiValid = true;
      }
      if (info.refused) {
        gateWarn.topkRefused(ctx.warnings, ctx.iteration);
      }
      return result;
    },
  };
};

/**
 * Observed log-likelihood at gate θ (S_K recomputed; the other parameters from `saved`), into the
 * trial buffers (written: an accepted trial's become the current ones); one pass where the backend has
 * it (the same bits).
 */
function observedAt(
  backend: Backend,
  layout: GateLayoutInfo,
  saved: Model,
  ctx: GateMStepContext,
  m: Model,
  th: Float64Array,
  w: Workspace,
): number {
  copyGateParams(saved, m);
  unpackGate(layout, th, m);
  const { X, y, n } = ctx.data;
  const fused = backend.topkLogLik?.(m, X, y, n, w.logPiT, w.piT, w.maskT, true);
  if (fused !== undefined) return fused;
  backend.gateProbs(m, X, n, w.logPiT, w.piT, w.maskT, 'compute');
  return backend.logLik(m, X, y, n, w.logPiT);
}

/** What the line search of topkMStep works on: θ scratch, the old gate, the direction, the saved model. */
interface SearchEnv {
  p: number;
  theta: Float64Array;
  thetaOld: Float64Array;
  dir: Float64Array;
  saved: Model;
  info: GateMStepInfo;
  /** observed log-likelihood at gate θ (S_K recomputed), into the trial buffers */
  observed(ctx: GateMStepContext, m: Model, th: Float64Array, w: Workspace): number;
}

/**
 * Line search from the old gate along dir: the first α = α0, α0/2, … whose observed log-likelihood
 * clears the bar (strictly when `strict`). On success the model and the current buffers hold it;
 * otherwise the saved gate is restored and NaN returned. Halvings are counted into env.info.
 */
function searchAlong(
  env: SearchEnv,
  ctx: GateMStepContext,
  m: Model,
  w: Workspace,
  llRef: number,
  strict: boolean,
  maxBt = MAX_BACKTRACKS,
  alpha0 = 1,
): number {
  const { p, theta, thetaOld, dir } = env;
  let alpha = alpha0;
  for (let bt = 0; bt <= maxBt; bt++) {
    for (let t = 0; t < p; t++) theta[t] = thetaOld[t]! + alpha * dir[t]!;
    const ll = env.observed(ctx, m, theta, w);
    if (strict ? ll > llRef : ll >= llRef) {
      swapGateBuffers(w, true);
      return ll;
    }
    env.info.halvings++;
    alpha *= 0.5;
  }
  copyGateParams(env.saved, m);
  return NaN;
}
