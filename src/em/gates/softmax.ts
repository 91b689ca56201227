/**
 * Softmax gate M-step: Newton/IRLS on the soft-label multinomial logistic regression
 * Q(β) = Σ_ij r_ij log π_ij, concave once the reference expert is fixed; exact Hessian
 * −Σ_i π_ij(δ_jl − π_il) z_i z_iᵀ (z_i = (1, x_i)), warm-started from the current β, step
 * halving when Q drops, a ridge (and a warning) when the Hessian is singular (THEORY.md §6).
 */
import { getGate } from '../../models/gates/index.js';
import { cloneModel } from '../../models/types.js';
import { ridgeDamping } from '../optim/damping.js';
import { newtonWorkspace } from '../optim/driver.js';
import { GateQObjective } from './objective.js';
import { runGateNewton, type GateNewtonSpec } from './run.js';
import { boxProjection, gateBox } from '../bounds.js';
import { emptyInfo, type GateMStep, type GateMStepFactory } from './types.js';

/**
 * Convergence after a full Newton step: when its actual gain matched the quadratic prediction to
 * within gateTol per sample, it is done without another pass; otherwise, when the step was
 * predicted to gain ≤ 1e-6 per sample, the new gradient is checked against the old Hessian
 * before a new Hessian is built.
 */
const CHEAP_CHECK_BELOW = 1e-6;

export const softmaxMStep: GateMStepFactory = (f) => boundedSoftmaxMStep(f, () => 1);

/**
 * The softmax M-step, with the fit's bounds as the driver's projection (projected Newton,
 * src/em/bounds.ts); `beta1Scale()` and `beta0Scale()` divide the β1 and β0 bounds at each step (the
 * identity gate's proxy works on β1/τ, and on β0/τ with the bias inside, τ held: see dense.ts).
 */
export function boundedSoftmaxMStep(
  { backend, data, model, ws, layout, bounds }: Parameters<GateMStepFactory>[0],
  beta1Scale: () => number,
  beta0Scale: () => number = () => 1,
): GateMStep {
  const obj = new GateQObjective(backend, layout, getGate(model.gate), data.X, data.n, ws, model, cloneModel(model));
  const theta = new Float64Array(layout.p);
  const nws = newtonWorkspace(layout.p);
  const result = { params: model, info: emptyInfo() };
  const box = bounds ? gateBox(layout, bounds) : null;
  const spec: GateNewtonSpec = {
    damping: ridgeDamping(),
    expectFlat: false,
    driver: {
      cheapCheckBelow: CHEAP_CHECK_BELOW,
      stopOnModelAgreement: true,
      ...(box ? { projection: boxProjection(box) } : {}),
    },
  };
  let lastScale = 1;
  let lastScale0 = 1;
  return {
    kind: 'softmax',
    step(ctx) {
      obj.cur = ctx.model;
      obj.resp = ctx.ws.resp;
      obj.maskMode = 'none';
      const scale = beta1Scale();
      const scale0 = beta0Scale();
      if (box && (scale !== lastScale || scale0 !== lastScale0)) {
        spec.driver!.projection = boxProjection(gateBox(layout, bounds!, scale, scale0)!);
        lastScale = scale;
        lastScale0 = scale0;
      }
      runGateNewton(ctx, obj, theta, nws, result.info, spec);
      result.params = ctx.model;
      return result;
    },
  };
}
