/**
 * Temperature and activation (dense-to-sparse) gate M-step, three ways:
 *
 * - Identity activation (the temperature gate, or activation 'identity' with bias outside):
 *   s_j = β1_j·x/τ + β0_j is a softmax gate in (β0, β1/τ), and Q is flat along (β1, τ) → (cβ1, cτ),
 *   so maximising over (β0, β1) with τ held loses nothing: the softmax M-step (exact Hessian, concave)
 *   runs on a proxy softmax model with slopes β1/τ, and τ keeps its value.
 * - Otherwise, on a backend with {@link DenseGateKernels} (the CPU backend, d = 1, tanh/sigmoid, bias
 *   outside): Newton steps on the exact Hessian of Q (one fused pass gives the gradient, the Fisher
 *   curvature and the exact one), damped as a trust region — (−∇²Q + μI)δ = ∇Q, μ raised until the
 *   matrix is safely positive definite, then adapted to the ratio of actual to predicted gain and
 *   carried over to the next EM iteration. Near a maximum μ = 0 and Newton converges quadratically
 *   (one or two passes per EM iteration once EM is close) where Fisher scoring converged linearly and,
 *   near the optimum of an over-specified fit, thrashed (up to 66 gate passes per EM iteration).
 *   Generalised EM only needs Q to increase: an M-step stops after DENSE_TRIALS trial passes, or
 *   once its next step predicts less than REL_STOP of what it has already gained.
 * - Otherwise: Fisher-scoring Newton steps (Gauss–Newton curvature Σ_i J_iᵀ(diag π − ππᵀ)J_i,
 *   through Gate.logitDerivs) with Levenberg–Marquardt damping and backtracking.
 *
 * Parameters are (β0, β1, log τ) — log τ keeps τ > 0; with tauMode 'fixed' τ is not a parameter.
 * Each step changes no parameter by more than DENSE_MAX_STEP (far from the optimum a
 * Fisher-scoring step can send τ to 0 or ∞).
 */
import { getGate, isScaledLinear } from '../../models/gates/index.js';
import { cloneModel, type Model } from '../../models/types.js';
import type { Backend } from '../backend/types.js';
import { denseKernelCode } from '../backend/cpu/activation-gate.js';
import type { DenseGateKernels } from '../backend/cpu/activation-grad.js';
import { cholesky, choleskySolve, maxAbsDiag, ridgeSolve } from '../optim/linalg.js';
import { newtonWorkspace } from '../optim/newton.js';
import { gateLayout, packGate } from './layout.js';
import { GateQObjective } from './objective.js';
import { runGateNewton } from './run.js';
import { boundedSoftmaxMStep } from './softmax.js';
import { BoxedObjective, gateBox, heldCoordinates, projectTheta, projectToBounds, reduceHeld } from '../bounds.js';
import { gateWarn } from './warn.js';
import {
  emptyInfo,
  type GateMStep,
  type GateMStepContext,
  type GateMStepFactory,
  type GateMStepInfo,
} from './types.js';

/** Trust region: no parameter (β0, β1 or log τ) moves by more than this in one Newton step. */
export const DENSE_MAX_STEP = 2;
/**
 * Newton steps per EM iteration (at most gateMaxSteps): Q can have long, nearly flat valleys, and
 * a partial M-step that increases Q is all generalised EM needs — the next iteration goes on.
 */
export const DENSE_STEPS = 20;
/** Trial passes (gate probabilities at a candidate point) per M-step of the exact-Hessian path. */
export const DENSE_TRIALS = 12;
/**
 * Conditioning (min/max squared Cholesky pivot) below which −∇²Q + μI is not trusted and μ grows:
 * a nearly singular Hessian gives a huge step along its flat direction, which the trust region
 * clips and Q then refuses — a wasted pass per step at 1e-10 (measured), none at 1e-6.
 */
const EXACT_MIN_RCOND = 1e-6;
const MIN_RCOND = 1e-13;
/**
 * An M-step stops once the gain its next step predicts is ≤ REL_STOP × the gain it has made so far:
 * chasing the rest costs trial passes that the next EM iteration spends better (measured on the
 * temp-tanh / temp-sigmoid k = 3 fits, n = 2000: 0.01 spent the whole trial budget on most M-steps
 * of a degenerate sigmoid fit (2.9 s against 0.7 s), 0.001 thrashed everywhere; 0.1 moved an
 * over-specified fit elsewhere along its flat ridge).
 */
const REL_STOP = 0.05;
/** Range and factors of the exact-Hessian path's damping μ (relative to the curvature's largest diagonal entry). */
const MU_MIN = 1e-8;
const MU_MAX = 1e8;
/** a large μ left by the previous M-step (e.g. at a rounding-level optimum) is cut to this */
const MU_START_MAX = 1e-2;
const MU_UP = 4;
const MU_REJECT = 10;

/** True when the gate's logits are linear in (β0, β1/τ): the identity activation with the bias outside. */
function identityGate(m: Model): boolean {
  return isScaledLinear(m.gate);
}

export const denseMStep: GateMStepFactory = (f) => {
  if (identityGate(f.model)) return proxySoftmaxMStep(f);
  const ext = f.backend as Backend & DenseGateKernels;
  if (typeof ext.denseGradHess === 'function' && denseKernelCode(f.model) >= 0)
    return exactNewtonMStep(f, ext as Backend & Required<DenseGateKernels>);
  return fisherMStep(f);
};

/** Identity activation: the softmax M-step on (β0, β1/τ), τ held (see module doc). */
const proxySoftmaxMStep: GateMStepFactory = ({ backend, data, model, ws, bounds }) => {
  const proxy = cloneModel(model);
  proxy.gate = { kind: 'softmax' };
  proxy.tau = 1;
  const layout = gateLayout(proxy.gate, model.k, model.d, 'fixed');
  // |β1| ≤ B on the model is |β1/τ| ≤ B/τ on the proxy (τ held)
  let tauNow = model.tau;
  const proxyBounds = bounds ? { ...bounds, tau: undefined } : undefined;
  const inner = boundedSoftmaxMStep({ backend, data, model: proxy, ws, layout, bounds: proxyBounds }, () => tauNow);
  const result = { params: model, info: emptyInfo() };
  return {
    kind: model.gate.kind,
    step(ctx) {
      const m = ctx.model;
      const tau = m.tau;
      tauNow = tau;
      const it = 1 / tau;
      proxy.beta0.set(m.beta0);
      for (let t = 0; t < m.beta1.length; t++) proxy.beta1[t] = m.beta1[t]! * it;
      const r = inner.step({ ...ctx, model: proxy, layout });
      m.beta0.set(proxy.beta0);
      for (let t = 0; t < m.beta1.length; t++) m.beta1[t] = proxy.beta1[t]! * tau;
      // (B/τ)·τ can round one ulp past B
      if (bounds) projectToBounds(m, { beta1: bounds.beta1 }, false);
      Object.assign(result.info, r.info);
      result.params = m;
      return result;
    },
  };
};

/** Today's Fisher-scoring path (any backend, any activation and bias). */
const fisherMStep: GateMStepFactory = ({ backend, data, model, ws, layout, bounds }) => {
  const gate = getGate(model.gate);
  const obj = new GateQObjective(backend, layout, gate, data.X, data.n, ws, model, cloneModel(model));
  const box = bounds ? gateBox(layout, bounds) : null;
  const target = box ? new BoxedObjective(obj, box) : obj;
  const theta = new Float64Array(layout.p);
  const nws = newtonWorkspace(layout.p);
  const result = { params: model, info: emptyInfo() };
  const expectFlat = gate.symmetries(model.gate).scaling && layout.tauIndex >= 0;
  return {
    kind: model.gate.kind,
    step(ctx) {
      obj.cur = ctx.model;
      obj.resp = ctx.ws.resp;
      obj.maskMode = 'none';
      runGateNewton(
        { ...ctx, maxSteps: Math.min(ctx.maxSteps, DENSE_STEPS) },
        target,
        theta,
        nws,
        result.info,
        'adaptive',
        expectFlat,
        DENSE_MAX_STEP,
        false,
      );
      result.params = ctx.model;
      return result;
    },
  };
};

/** Exact-Hessian Newton with a Fisher-scoring fallback (see module doc). */
function exactNewtonMStep(
  { backend, data, model, ws, layout, bounds }: Parameters<GateMStepFactory>[0],
  ext: Backend & Required<DenseGateKernels>,
): GateMStep {
  // projected Newton (src/em/bounds.ts): held coordinates reduced out of the system, trials projected
  const box = bounds ? gateBox(layout, bounds) : null;
  const held = new Uint8Array(layout.p);
  const gate = getGate(model.gate);
  const obj = new GateQObjective(backend, layout, gate, data.X, data.n, ws, model, cloneModel(model));
  const p = layout.p;
  const theta = new Float64Array(p);
  const trial = new Float64Array(p);
  const grad = new Float64Array(p);
  const fisher = new Float64Array(p * p);
  const hess = new Float64Array(p * p);
  const factor = new Float64Array(p * p);
  const delta = new Float64Array(p);
  const result = { params: model, info: emptyInfo() };
  const expectFlat = gate.symmetries(model.gate).scaling && layout.tauIndex >= 0;
  // trust-region damping μ, kept across EM iterations
  let mu = 0;
  return {
    kind: model.gate.kind,
    step(ctx) {
      obj.cur = ctx.model;
      obj.resp = ctx.ws.resp;
      obj.maskMode = 'none';
      runExact(ctx, result.info);
      result.params = ctx.model;
      return result;
    },
  };

  function runExact(ctx: GateMStepContext, info: GateMStepInfo): void {
    const {
      data: { X, n },
      warnings,
      iteration,
    } = ctx;
    const maxSteps = Math.min(ctx.maxSteps, DENSE_STEPS);
    const qNoise = ctx.backend.gateQResolution?.() ?? 0;
    const tolN = Math.max(ctx.tol, qNoise / n) * n;
    packGate(layout, ctx.model, theta);
    let value = ctx.q0 !== undefined && !Number.isNaN(ctx.q0) ? ctx.q0 : obj.currentValue();
    const q0 = value;
    // rounding noise of Q, a sum of n·k terms
    const qRound = 64 * Number.EPSILON * (Math.abs(value) + n);
    // a large μ left by the previous M-step (e.g. at a rounding-level optimum) must not slow this one
    if (mu > MU_START_MAX) mu = MU_START_MAX;
    Object.assign(info, emptyInfo());
    info.Q = value;
    info.logPiValid = true;
    if (!Number.isFinite(value)) {
      warnNonFinite();
      return;
    }
    if (p === 0) {
      info.converged = true;
      return;
    }
    let trials = 0;
    let lastDec = NaN;
    let noAscent = false;
    let needGrad = true;
    while (info.steps < maxSteps && trials < DENSE_TRIALS) {
      if (needGrad) {
        ext.denseGradHess(ctx.model, layout, X, n, ctx.ws.resp, ctx.ws.pi, grad, fisher, hess);
        if (!allFinite(grad, p) || !allFinite(hess, p * p)) {
          warnNonFinite();
          return;
        }
        if (box) {
          heldCoordinates(box, theta, grad, held);
          reduceHeld(held, p, grad, fisher, hess);
        }
        needGrad = false;
      }
      // (H + μ·s·I) δ = g, μ raised until the factorisation is well conditioned (H: exact −∇²Q)
      const scale = Math.max(maxAbsDiag(fisher, p), maxAbsDiag(hess, p)) || 1;
      let rc = cholesky(hess, p, factor, mu * scale);
      while (rc < EXACT_MIN_RCOND && mu < MU_MAX) {
        mu = mu === 0 ? MU_MIN : mu * MU_UP;
        rc = cholesky(hess, p, factor, mu * scale);
      }
      if (rc >= EXACT_MIN_RCOND) {
        choleskySolve(factor, p, grad, delta);
      } else {
        // not even a large ridge made H usable: a gradient-like step on the Fisher curvature
        const sol = ridgeSolve(fisher, p, grad, delta, factor, { ridge0: mu * scale, minRcond: MIN_RCOND });
        if (!sol.ok) {
          warnNonFinite();
          return;
        }
        if (sol.ridge > mu * scale && sol.ridge > info.ridge) info.ridge = sol.ridge;
        mu = MU_MAX / MU_UP;
      }
      let dec = 0;
      for (let t = 0; t < p; t++) dec += grad[t]! * delta[t]!;
      dec /= 2;
      lastDec = dec;
      // the Newton decrement (μ = 0), or a damped one (which a tiny gradient also makes tiny)
      if (!(dec > tolN)) {
        info.converged = true;
        break;
      }
      // generalised EM: once the gain still predicted is small against what this M-step has gained, the next E-step goes on
      if (dec <= REL_STOP * (value - q0)) break;
      let alpha = 1;
      let norm = 0;
      for (let t = 0; t < p; t++) norm = Math.max(norm, Math.abs(delta[t]!));
      if (norm > DENSE_MAX_STEP) alpha = DENSE_MAX_STEP / norm;
      // gain predicted by the exact quadratic model: α gᵀδ − α²/2 δᵀHδ
      let quad = 0;
      for (let r = 0; r < p; r++) {
        let hs = 0;
        for (let c = 0; c < p; c++) hs += hess[r * p + c]! * delta[c]!;
        quad += delta[r]! * hs;
      }
      const pred = alpha * 2 * dec - 0.5 * alpha * alpha * quad;
      for (let t = 0; t < p; t++) trial[t] = theta[t]! + alpha * delta[t]!;
      if (box) projectTheta(box, trial);
      const v = obj.trial(trial);
      trials++;
      if (!(v >= value)) {
        info.halvings++;
        // a predicted gain within Q's rounding noise: converged as far as Float64 can tell
        if (pred <= qRound) {
          info.converged = true;
          break;
        }
        if (mu >= MU_MAX) {
          noAscent = true;
          break;
        }
        mu = mu === 0 ? MU_MIN : mu * MU_REJECT;
        continue;
      }
      const gain = v - value;
      obj.accept();
      theta.set(trial);
      value = v;
      info.steps++;
      needGrad = true;
      // a full undamped step whose gain matched the quadratic model landed on the maximiser (to higher order)
      if (mu === 0 && alpha === 1 && Math.abs(gain - pred) <= tolN) {
        info.converged = true;
        lastDec = Math.abs(gain - pred);
        break;
      }
      // trust-region update of μ from the gain ratio
      const rho = pred > 0 ? gain / pred : 0;
      if (rho < 0.25) mu = mu === 0 ? MU_MIN : mu * MU_UP;
      else if (rho > 0.75 && alpha === 1) mu = mu <= MU_MIN ? 0 : mu / MU_UP;
    }
    // accept() has already written each accepted point into ctx.model
    info.Q = value;
    if (info.ridge > 0 && !expectFlat) {
      gateWarn.ridge(warnings, info.ridge, iteration);
    }
    if (noAscent && lastDec > Math.max(1e-9 * n, qNoise)) {
      gateWarn.noAscent(warnings, lastDec, iteration);
    }

    function warnNonFinite(): void {
      gateWarn.nonFinite(warnings, iteration);
    }
  }
}

function allFinite(a: Float64Array, len: number): boolean {
  for (let t = 0; t < len; t++) if (!Number.isFinite(a[t]!)) return false;
  return true;
}
