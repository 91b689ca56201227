/** Shared driver of the Newton-type gate M-steps: runs the optimiser and turns its report into info and warnings. */
import {
  maximize,
  type Damping,
  type DriverOptions,
  type NewtonObjective,
  type NewtonWorkspace,
} from '../optim/driver.js';
import type { GateQObjective } from './objective.js';
import type { GateMStepContext, GateMStepInfo } from './types.js';
import { packGate } from './layout.js';
import { gateWarn } from './warn.js';

/** How a gate M-step runs the driver (beyond ctx's step budget and tolerance). */
export interface GateNewtonSpec {
  damping: Damping;
  /** the curvature is singular by construction (a scaling orbit with τ free, scalingOrbit): no ridge warning */
  expectFlat: boolean;
  /** warn when the step budget runs out (not for sub-problems that may be unbounded; default true) */
  warnMaxSteps?: boolean;
  /** driver options: maxStep (trust region for non-concave Q), maxHalvings, maxTrials, relStop, cheapCheckBelow, stopOnModelAgreement, projection */
  driver?: Omit<DriverOptions, 'maxSteps' | 'tol' | 'scale'>;
  /** the objective the driver sees, when it is not `obj` itself (e.g. other derivatives at the same points) */
  objective?: NewtonObjective;
}

/**
 * Maximises the objective from the model's current gate parameters (θ scratch of length p).
 * Writes the result into ctx.model and fills `info`.
 */
export function runGateNewton(
  ctx: GateMStepContext,
  obj: GateQObjective,
  theta: Float64Array,
  nws: NewtonWorkspace,
  info: GateMStepInfo,
  spec: GateNewtonSpec,
): void {
  const { layout, data, warnings, iteration } = ctx;
  packGate(layout, ctx.model, theta);
  const q0 = ctx.q0 !== undefined && !Number.isNaN(ctx.q0) ? ctx.q0 : obj.currentValue();
  // a float32 backend cannot resolve gains of Q below its rounding noise (0 for Float64 backends)
  const qNoise = ctx.backend.gateQResolution?.() ?? 0;
  const r = maximize(
    spec.objective ?? obj,
    theta,
    spec.damping,
    { ...spec.driver, maxSteps: ctx.maxSteps, tol: Math.max(ctx.tol, qNoise / data.n), scale: data.n },
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
  if (r.ridge > 0 && !spec.expectFlat) {
    gateWarn.ridge(warnings, r.ridge, iteration);
  }
  if (r.nonFinite) {
    gateWarn.nonFinite(warnings, iteration);
  }
  // a failed ascent at rounding level is not worth a warning
  if (r.noAscent && r.lastDecrement > Math.max(1e-9 * data.n, qNoise)) {
    gateWarn.noAscent(warnings, r.lastDecrement, iteration);
  }
  const warnMaxSteps = spec.warnMaxSteps ?? true;
  if (warnMaxSteps && !r.converged && !r.noAscent && !r.nonFinite && r.steps >= ctx.maxSteps) {
    gateWarn.maxSteps(warnings, ctx.maxSteps, iteration);
  }
}
