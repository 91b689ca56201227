/** Shared driver of the Newton-type gate M-steps: runs the optimiser and turns its report into info and warnings. */
import { newtonMaximize, type NewtonOptions, type NewtonWorkspace } from '../optim/newton.js';
import { BoxedObjective } from '../bounds.js';
import type { GateQObjective } from './objective.js';
import type { GateMStepContext, GateMStepInfo } from './types.js';
import { packGate } from './layout.js';
import { gateWarn } from './warn.js';

/**
 * Maximises the objective from the model's current gate parameters (θ scratch of length p).
 * Writes the result into ctx.model and fills `info`.
 * @param maxStep largest change of any parameter per Newton step (trust region for non-concave Q)
 * @param warnMaxSteps warn when the step budget runs out (not for sub-problems that may be unbounded)
 * @param cheapCheckBelow see NewtonOptions.cheapCheckBelow (exact-Hessian gates only)
 * @param stopOnModelAgreement see NewtonOptions.stopOnModelAgreement (exact-Hessian gates only)
 * @param expectFlat the curvature is singular by construction (the (β1, τ) scaling symmetry with τ free): no ridge warning
 */
export function runGateNewton(
  ctx: GateMStepContext,
  obj: GateQObjective | BoxedObjective<GateQObjective>,
  theta: Float64Array,
  nws: NewtonWorkspace,
  info: GateMStepInfo,
  damping: NewtonOptions['damping'],
  expectFlat: boolean,
  maxStep = Infinity,
  warnMaxSteps = true,
  cheapCheckBelow = 0,
  stopOnModelAgreement = false,
): void {
  const { layout, data, warnings, iteration } = ctx;
  packGate(layout, ctx.model, theta);
  if (obj instanceof BoxedObjective) obj.setPoint(theta);
  const q0 = ctx.q0 !== undefined && !Number.isNaN(ctx.q0) ? ctx.q0 : obj.currentValue();
  // a float32 backend cannot resolve gains of Q below its rounding noise (0 for Float64 backends)
  const qNoise = ctx.backend.gateQResolution?.() ?? 0;
  const r = newtonMaximize(
    obj,
    theta,
    {
      maxSteps: ctx.maxSteps,
      tol: Math.max(ctx.tol, qNoise / data.n),
      scale: data.n,
      damping,
      maxStep,
      cheapCheckBelow,
      stopOnModelAgreement,
    },
    nws,
    q0,
  );
  info.steps = r.steps;
  info.halvings = r.halvings;
  info.converged = r.converged;
  info.ridge = r.ridge;
  info.Q = r.value;
  info.refused = false;
  info.logPiValid = true;
  if (r.ridge > 0 && !expectFlat) {
    gateWarn.ridge(warnings, r.ridge, iteration);
  }
  if (r.nonFinite) {
    gateWarn.nonFinite(warnings, iteration);
  }
  // a failed ascent at rounding level is not worth a warning
  if (r.noAscent && r.lastDecrement > Math.max(1e-9 * data.n, qNoise)) {
    gateWarn.noAscent(warnings, r.lastDecrement, iteration);
  }
  if (warnMaxSteps && !r.converged && !r.noAscent && !r.nonFinite && r.steps >= ctx.maxSteps) {
    gateWarn.maxSteps(warnings, ctx.maxSteps, iteration);
  }
}
