/**
 * Temperature and activation (dense-to-sparse) gate M-step: Q is not concave and, for positively
 * homogeneous σ with τ free, flat along (β1, τ) → (cβ1, cτ). Fisher-scoring Newton steps
 * (Gauss–Newton curvature Σ_i J_iᵀ(diag π − ππᵀ)J_i, through Gate.logitDerivs) with
 * Levenberg–Marquardt damping and backtracking, on (β0, β1, log τ) — log τ keeps τ > 0;
 * with tauMode 'fixed' τ is not a parameter. Each step changes no parameter by more than
 * DENSE_MAX_STEP (far from the optimum a Fisher-scoring step can send τ to 0 or ∞).
 */
import { getGate } from '../../models/gates/index.js';
import { cloneModel } from '../../models/types.js';
import { newtonWorkspace } from '../optim/newton.js';
import { GateQObjective } from './objective.js';
import { runGateNewton } from './run.js';
import { emptyInfo, type GateMStepFactory } from './types.js';

/** Trust region: no parameter (β0, β1 or log τ) moves by more than this in one Newton step. */
export const DENSE_MAX_STEP = 2;
/**
 * Newton steps per EM iteration (at most gateMaxSteps): Q can have long, nearly flat valleys, and
 * a partial M-step that increases Q is all generalised EM needs — the next iteration goes on.
 */
export const DENSE_STEPS = 20;

export const denseMStep: GateMStepFactory = ({ backend, data, model, ws, layout }) => {
  const gate = getGate(model.gate);
  const obj = new GateQObjective(backend, layout, gate, data.X, data.n, ws, model, cloneModel(model));
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
      runGateNewton({ ...ctx, maxSteps: Math.min(ctx.maxSteps, DENSE_STEPS) }, obj, theta, nws, result.info, 'adaptive', expectFlat, DENSE_MAX_STEP, false);
      result.params = ctx.model;
      return result;
    },
  };
};
