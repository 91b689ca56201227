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
import { runGateNewton } from './run.js';
import { emptyInfo, type GateMStepFactory } from './types.js';

/**
 * Convergence after a full Newton step: when its actual gain matched the quadratic prediction to
 * within gateTol per sample, it is done without another pass; otherwise, when the step was
 * predicted to gain ≤ 1e-6 per sample, the new gradient is checked against the old Hessian
 * before a new Hessian is built.
 */
const CHEAP_CHECK_BELOW = 1e-6;

export const softmaxMStep: GateMStepFactory = ({ backend, data, model, ws, layout }) => {
  const obj = new GateQObjective(backend, layout, getGate(model.gate), data.X, data.n, ws, model, cloneModel(model));
  const theta = new Float64Array(layout.p);
  const nws = newtonWorkspace(layout.p);
  const result = { params: model, info: emptyInfo() };
  const spec = {
    damping: ridgeDamping(),
    expectFlat: false,
    driver: { cheapCheckBelow: CHEAP_CHECK_BELOW, stopOnModelAgreement: true },
  };
  return {
    kind: 'softmax',
    step(ctx) {
      obj.cur = ctx.model;
      obj.resp = ctx.ws.resp;
      obj.maskMode = 'none';
      runGateNewton(ctx, obj, theta, nws, result.info, spec);
      result.params = ctx.model;
      return result;
    },
  };
};
