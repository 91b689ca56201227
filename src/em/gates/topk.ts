/**
 * Top-K gate M-step (THEORY.md §6). Q jumps where the active set S_K(x) changes; with S_K held
 * fixed it can be unbounded (an expert with no responsibility inside an active set can be pushed
 * away for ever), and with K = 1 it is constant (π = 1 on the one active expert). So:
 *   A. active set (K ≥ 2): hold S_K fixed (the mask of the current parameters), take at most
 *      TOPK_STEPS Newton steps on the softmax over the active experts, each changing no
 *      parameter by more than TOPK_MAX_STEP; recompute S_K and accept the new gate if the
 *      observed log-likelihood (experts already updated) is not below its value at the old gate,
 *      halving the step up to 10 times; if none qualifies, keep the old gate and record a
 *      refused step.
 *   B. dense surrogate, when A is unavailable (K = 1) or did not strictly increase the
 *      log-likelihood: responsibilities r̃ of the same parameters with the mask removed (a plain
 *      softmax gate), Newton on the dense Q(r̃) as in A, recompute S_K, and accept only a strict
 *      increase of the observed log-likelihood (halving up to 10 times). Strictness matters:
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
import { expertLogDensities } from '../../models/density.js';
import { cloneModel, type Model } from '../../models/types.js';
import { newtonWorkspace } from '../optim/newton.js';
import { swapGateBuffers, type Workspace } from '../workspace.js';
import { copyGateParams, packGate, unpackGate } from './layout.js';
import { GateQObjective } from './objective.js';
import { runGateNewton } from './run.js';
import { emptyInfo, type GateMStepContext, type GateMStepFactory } from './types.js';

const MAX_BACKTRACKS = 10;
/** Newton steps per candidate and EM iteration (fewer than gateMaxSteps: the sub-problems may be unbounded). */
export const TOPK_STEPS = 5;
/** Trust region of the candidates' Newton steps. */
export const TOPK_MAX_STEP = 2;

export const topkMStep: GateMStepFactory = ({ backend, data, model, ws, layout }) => {
  const obj = new GateQObjective(backend, layout, getGate(model.gate), data.X, data.n, ws, model, cloneModel(model));
  const p = layout.p;
  const theta = new Float64Array(p);
  const thetaOld = new Float64Array(p);
  const dir = new Float64Array(p);
  const saved = cloneModel(model);
  const nws = newtonWorkspace(p);
  const result = { params: model, info: emptyInfo() };
  const K = model.gate.kind === 'topk' ? model.gate.K : 1;
  const switchable = K === 1 && model.gate.kind === 'topk' && model.gate.selectOn === 'logit';
  const nn = data.n;
  const dens = switchable ? new Float64Array(nn * layout.k) : null;
  const sc = switchable ? new Float64Array(nn * layout.k) : null;
  const thr = switchable ? new Float64Array(nn) : null;
  const gain = switchable ? new Float64Array(nn) : null;
  const order = switchable ? new Uint32Array(nn) : null;

  /**
   * C: exact maximisation of the observed log-likelihood over each free β0_j in turn (K = 1, logit
   * selection). On a strict increase over llBar the model and the current buffers hold the new gate.
   */
  function switchSearch(ctx: GateMStepContext, m: Model, w: Workspace, llBar: number): number {
    const { X, y, n } = ctx.data;
    const k = layout.k;
    const before = cloneModel(m);
    expertLogDensities(m, X, y, n, dens!);
    getGate(m.gate).logits(m, X, n, sc!);
    let moved = false;
    for (let j = 0; j < k; j++) {
      if (layout.b0Index[j]! < 0) continue;
      const b0 = m.beta0[j]!;
      for (let i = 0, o = 0; i < n; i++, o += k) {
        let best = -1;
        for (let l = 0; l < k; l++) if (l !== j && (best < 0 || sc![o + l]! > sc![o + best]!)) best = l;
        thr![i] = sc![o + best]! - (sc![o + j]! - b0); // j is selected iff β0_j > thr_i
        gain![i] = dens![o + j]! - dens![o + best]!;
        order![i] = i;
      }
      order!.sort((a, b) => thr![a]! - thr![b]!);
      // gain of the set {samples with thr < β0}, for β0 just above the r-th smallest threshold
      let cum = 0;
      let cur = 0;
      let bestGain = -Infinity;
      let bestR = -1;
      for (let r = 0; r < n; r++) {
        const i = order![r]!;
        cum += gain![i]!;
        if (thr![i]! < b0) cur = cum;
        // keep at least one sample on each side of the switch
        if (r < n - 1 && thr![order![r + 1]!]! > thr![i]! && cum > bestGain) { bestGain = cum; bestR = r; }
      }
      if (bestR < 0 || !(bestGain > cur + 1e-9 * (1 + Math.abs(cur)))) continue;
      const nb0 = 0.5 * (thr![order![bestR]!]! + thr![order![bestR + 1]!]!);
      const shift = nb0 - b0;
      m.beta0[j] = nb0;
      for (let i = 0, o = 0; i < n; i++, o += k) sc![o + j] = sc![o + j]! + shift;
      moved = true;
    }
    if (moved) {
      packGate(layout, m, theta);
      const ll = observed(ctx, m, theta, w);
      if (ll > llBar) {
        swapGateBuffers(w, true);
        return ll;
      }
    }
    copyGateParams(before, m);
    return NaN;
  }

  /** Observed log-likelihood at gate θ (S_K recomputed), into the trial buffers. */
  function observed(ctx: GateMStepContext, m: Model, th: Float64Array, w: Workspace): number {
    copyGateParams(saved, m);
    unpackGate(layout, th, m);
    backend.gateProbs(m, ctx.data.X, ctx.data.n, w.logPiT, w.piT, w.maskT, 'compute');
    return backend.logLik(m, ctx.data.X, ctx.data.y, ctx.data.n, w.logPiT);
  }

  /**
   * Line search from the old gate along dir: the first α = 1, ½, … whose observed log-likelihood
   * clears the bar (strictly when `strict`). On success the model and the current buffers hold it.
   */
  function search(ctx: GateMStepContext, m: Model, w: Workspace, llRef: number, strict: boolean): number {
    let alpha = 1;
    for (let bt = 0; bt <= MAX_BACKTRACKS; bt++) {
      for (let t = 0; t < p; t++) theta[t] = thetaOld[t]! + alpha * dir[t]!;
      const ll = observed(ctx, m, theta, w);
      if (strict ? ll > llRef : ll >= llRef) {
        swapGateBuffers(w, true);
        return ll;
      }
      result.info.halvings++;
      alpha *= 0.5;
    }
    copyGateParams(saved, m);
    return NaN;
  }

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
      if (K >= 2 && K < layout.k) {
        obj.resp = w.resp;
        obj.maskMode = 'fixed';
        runGateNewton(sub, obj, theta, nws, info, 'none', false, TOPK_MAX_STEP, false);
        steps += info.steps; halvings += info.halvings;
        if (info.steps > 0) {
          for (let t = 0; t < p; t++) dir[t] = theta[t]! - thetaOld[t]!;
          info.halvings = 0;
          accepted = search(ctx, m, w, llRef, false);
          halvings += info.halvings;
          refused = Number.isNaN(accepted);
        }
      }
      if (!(accepted > llRef)) {
        // B: dense surrogate from the old gate (the buffers of an accepted A are rebuilt below if B fails)
        const keepA = !Number.isNaN(accepted);
        const thetaA = keepA ? Float64Array.from(theta) : null;
        copyGateParams(saved, m);
        backend.gateProbs(m, X, n, w.logPiT, w.piT, null, 'none');
        swapGateBuffers(w);
        backend.eStep(m, X, y, n, w.logPi, w.respT);
        obj.resp = w.respT;
        obj.maskMode = 'none';
        sub.q0 = NaN; // Q at the surrogate responsibilities is not the E-step's
        packGate(layout, m, theta);
        runGateNewton(sub, obj, theta, nws, info, 'none', false, TOPK_MAX_STEP, false);
        steps += info.steps; halvings += info.halvings;
        let accB = NaN;
        if (info.steps > 0) {
          for (let t = 0; t < p; t++) dir[t] = theta[t]! - thetaOld[t]!;
          info.halvings = 0;
          accB = search(ctx, m, w, llRef, true);
          halvings += info.halvings;
        }
        if (Number.isNaN(accB) && keepA) {
          // back to A's gate (its buffers were overwritten by B)
          observed(ctx, m, thetaA!, w);
          swapGateBuffers(w, true);
        }
        if (!Number.isNaN(accB)) accepted = accB;
      }
      if (switchable) {
        const accC = switchSearch(ctx, m, w, Number.isNaN(accepted) ? llRef : accepted);
        if (!Number.isNaN(accC)) { accepted = accC; steps++; }
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
        ctx.warnings.add('topk-refused', `top-K gate M-step: refused a gate step that lowered the observed log-likelihood (kept the previous gate; iteration ${ctx.iteration})`, ctx.iteration);
      }
      return result;
    },
  };
};
