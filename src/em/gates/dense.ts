/**
 * Temperature and activation (dense-to-sparse) gate M-step, three ways:
 *
 * - Identity activation (the temperature gate, or activation 'identity'): with the bias outside
 *   s_j = β1_j·x/τ + β0_j is a softmax gate in (β0, β1/τ) and Q is flat along (β1, τ) → (cβ1, cτ); with
 *   it inside s_j = (β1_j·x + β0_j)/τ is one in (β0/τ, β1/τ), flat along (β0, β1, τ) → c(β0, β1, τ). So
 *   maximising over (β0, β1) with τ held loses nothing: the softmax M-step (exact Hessian, concave)
 *   runs on a proxy softmax model with slopes β1/τ (and intercepts β0/τ inside), and τ keeps its value.
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
import { getGate, scaledLinearBias, scalingOrbit } from '../../models/gates/index.js';
import { cloneModel, type Model } from '../../models/types.js';
import type { Backend } from '../backend/types.js';
import { denseKernelCode } from '../backend/cpu/activation-gate.js';
import { denseGradCode, type DenseGateKernels } from '../backend/cpu/activation-grad.js';
import { exactHessianDamping, ridgeDamping } from '../optim/damping.js';
import { newtonWorkspace, type NewtonObjective } from '../optim/driver.js';
import { gateLayout } from './layout.js';
import { GateQObjective } from './objective.js';
import { runGateNewton, type GateNewtonSpec } from './run.js';
import { boundedSoftmaxMStep } from './softmax.js';
import { boxProjection, gateBox, projectToBounds } from '../bounds.js';
import { emptyInfo, type GateMStep, type GateMStepContext, type GateMStepFactory } from './types.js';
import { softmaxProxyModel, writeProxyGate } from './softmax-proxy.js';

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
 * An M-step stops once the gain its next step predicts is ≤ REL_STOP × the gain it has made so far:
 * chasing the rest costs trial passes that the next EM iteration spends better (measured on the
 * temp-tanh / temp-sigmoid k = 3 fits, n = 2000: 0.01 spent the whole trial budget on most M-steps
 * of a degenerate sigmoid fit (2.9 s against 0.7 s), 0.001 thrashed everywhere; 0.1 moved an
 * over-specified fit elsewhere along its flat ridge).
 */
const REL_STOP = 0.05;

export const denseMStep: GateMStepFactory = (f) => {
  const bias = scaledLinearBias(f.model.gate);
  if (bias !== null) return proxySoftmaxMStep(f, bias === 'inside');
  const ext = f.backend as Backend & DenseGateKernels;
  if (typeof ext.denseGradHess === 'function' && denseKernelCode(f.model) >= 0)
    return exactNewtonMStep(f, ext as Backend & Required<DenseGateKernels>);
  return fisherMStep(f);
};

/**
 * Identity activation: the softmax M-step on (β0, β1/τ) — on (β0/τ, β1/τ) with the bias inside —, τ held
 * (see module doc).
 */
function proxySoftmaxMStep(
  { backend, data, model, ws, bounds }: Parameters<GateMStepFactory>[0],
  inside: boolean,
): GateMStep {
  const proxy = softmaxProxyModel(model);
  const layout = gateLayout(proxy.gate, model.k, model.d, 'fixed');
  // |β1| ≤ B on the model is |β1/τ| ≤ B/τ on the proxy (τ held); inside, |β0| ≤ B0 is |β0/τ| ≤ B0/τ
  let tauNow = model.tau;
  const proxyBounds = bounds ? { ...bounds, tau: undefined } : undefined;
  const inner = boundedSoftmaxMStep(
    { backend, data, model: proxy, ws, layout, ...(proxyBounds ? { bounds: proxyBounds } : {}) },
    () => tauNow,
    inside ? () => tauNow : () => 1,
  );
  const result = { params: model, info: emptyInfo() };
  return {
    kind: model.gate.kind,
    step(ctx) {
      const m = ctx.model;
      const tau = m.tau;
      tauNow = tau;
      writeProxyGate(m, proxy, inside);
      const r = inner.step({ ...ctx, model: proxy, layout });
      if (inside) for (let j = 0; j < m.k; j++) m.beta0[j] = proxy.beta0[j]! * tau;
      else m.beta0.set(proxy.beta0);
      for (let t = 0; t < m.beta1.length; t++) m.beta1[t] = proxy.beta1[t]! * tau;
      // (B/τ)·τ can round one ulp past B
      if (bounds?.beta1 !== undefined) projectToBounds(m, { beta1: bounds.beta1 }, false);
      if (inside && bounds?.beta0 !== undefined) projectToBounds(m, { beta0: bounds.beta0 }, false);
      Object.assign(result.info, r.info);
      result.params = m;
      return result;
    },
  };
}

/**
 * Today's Fisher-scoring path (any backend, any activation and bias). Where the backend's
 * {@link DenseGateKernels} take the gate (d ≥ 2, tanh / sigmoid, bias outside: the generic SIMD sums),
 * they give the gradient and the Fisher curvature in one pass instead of Gate.logitDerivs + gateGradCurv
 * (the same matrix, other rounding).
 */
const fisherMStep: GateMStepFactory = ({ backend, data, model, ws, layout, bounds }) => {
  const box = bounds ? gateBox(layout, bounds) : null;
  const gate = getGate(model.gate);
  const obj = new GateQObjective(backend, layout, gate, data.X, data.n, ws, model, cloneModel(model));
  const theta = new Float64Array(layout.p);
  const nws = newtonWorkspace(layout.p);
  const result = { params: model, info: emptyInfo() };
  const ext = backend as Backend & DenseGateKernels;
  let cur: GateMStepContext | null = null;
  const fused: NewtonObjective | null =
    typeof ext.denseGradHess === 'function' && denseGradCode(model) >= 0
      ? {
          dim: layout.p,
          trial: (t) => obj.trial(t),
          accept: () => obj.accept(),
          gradCurv(grad, curv) {
            const c = cur!;
            ext.denseGradHess!(c.model, layout, c.data.X, c.data.n, c.ws.resp, c.ws.pi, grad, curv, null);
          },
          grad(grad) {
            const c = cur!;
            ext.denseGradHess!(c.model, layout, c.data.X, c.data.n, c.ws.resp, c.ws.pi, grad, null, null);
          },
        }
      : null;
  const spec: GateNewtonSpec = {
    damping: ridgeDamping({ adaptive: true }),
    expectFlat: scalingOrbit(model.gate) !== null && layout.tauIndex >= 0,
    warnMaxSteps: false,
    ...(fused ? { objective: fused } : {}),
    driver: { maxStep: DENSE_MAX_STEP, maxHalvings: 3, ...(box ? { projection: boxProjection(box) } : {}) },
  };
  return {
    kind: model.gate.kind,
    step(ctx) {
      cur = ctx;
      obj.cur = ctx.model;
      obj.resp = ctx.ws.resp;
      obj.maskMode = 'none';
      runGateNewton({ ...ctx, maxSteps: Math.min(ctx.maxSteps, DENSE_STEPS) }, obj, theta, nws, result.info, spec);
      result.params = ctx.model;
      return result;
    },
  };
};

/**
 * Exact-Hessian Newton with a Fisher-scoring fallback (see module doc): the driver with the
 * exact-Hessian trust-region damping, one trial per step, the generalised-EM early stop.
 */
function exactNewtonMStep(
  { backend, data, model, ws, layout, bounds }: Parameters<GateMStepFactory>[0],
  ext: Backend & Required<DenseGateKernels>,
): GateMStep {
  const box = bounds ? gateBox(layout, bounds) : null;
  const gate = getGate(model.gate);
  const obj = new GateQObjective(backend, layout, gate, data.X, data.n, ws, model, cloneModel(model));
  const p = layout.p;
  const theta = new Float64Array(p);
  const fisher = new Float64Array(p * p);
  const nws = newtonWorkspace(p);
  const result = { params: model, info: emptyInfo() };
  let cur: GateMStepContext | null = null;
  // one fused pass: the gradient, the Fisher curvature (fallback) and the exact −∇²Q (the driver's C)
  const exact: NewtonObjective = {
    dim: p,
    trial: (t) => obj.trial(t),
    accept: () => obj.accept(),
    gradCurv(grad, hess) {
      const ctx = cur!;
      ext.denseGradHess(ctx.model, layout, ctx.data.X, ctx.data.n, ctx.ws.resp, ctx.ws.pi, grad, fisher, hess);
    },
  };
  const spec: GateNewtonSpec = {
    // trust-region damping μ, kept across EM iterations
    damping: exactHessianDamping(fisher, data.n),
    expectFlat: scalingOrbit(model.gate) !== null && layout.tauIndex >= 0,
    warnMaxSteps: false,
    objective: exact,
    driver: {
      maxStep: DENSE_MAX_STEP,
      maxHalvings: 0,
      maxTrials: DENSE_TRIALS,
      relStop: REL_STOP,
      stopOnModelAgreement: true,
      ...(box ? { projection: boxProjection(box) } : {}),
    },
  };
  return {
    kind: model.gate.kind,
    step(ctx) {
      cur = ctx;
      obj.cur = ctx.model;
      obj.resp = ctx.ws.resp;
      obj.maskMode = 'none';
      runGateNewton({ ...ctx, maxSteps: Math.min(ctx.maxSteps, DENSE_STEPS) }, obj, theta, nws, result.info, spec);
      result.params = ctx.model;
      return result;
    },
  };
}
