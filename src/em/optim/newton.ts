/**
 * Generic Newton-type maximiser with step halving, for smooth objectives whose curvature the
 * caller supplies (the exact negative Hessian for concave problems, or a positive semi-definite
 * Gauss–Newton / Fisher approximation for the rest — then it is Fisher scoring): the driver
 * (driver.ts) with the ridge / Levenberg–Marquardt damping (damping.ts).
 *
 * Each step solves (C + λI) δ = g, where g is the gradient, C the curvature (≈ −Hessian) and
 * λ a ridge that is 0 unless C is singular or ill-conditioned, or, with `damping: 'adaptive'`,
 * a Levenberg–Marquardt damping. The step θ + αδ is tried with α = 1, ½, ¼, … and accepted as soon
 * as the objective does not drop; `maxStep` first shortens a step whose largest component exceeds it.
 *
 * Stopping: converged when the predicted gain of the next step, gᵀδ/2, is ≤ tol·scale
 * (`scale` sets the unit, e.g. the number of samples, so that tol is a per-sample quantity);
 * otherwise after `maxSteps` steps, or when no step ascends (`noAscent`).
 */
import { ridgeDamping } from './damping.js';
import {
  maximize,
  newtonWorkspace,
  type DriverOptions,
  type NewtonObjective,
  type NewtonResult,
  type NewtonWorkspace,
} from './driver.js';

export { newtonWorkspace, type NewtonObjective, type NewtonResult, type NewtonWorkspace } from './driver.js';

export interface NewtonOptions extends Omit<DriverOptions, 'maxHalvings'> {
  /** halvings of a step before giving up on it (default 30; 3 with adaptive damping, which then raises λ) */
  maxHalvings?: number;
  /** 'none' (default): ridge only when C is not positive definite; 'adaptive': Levenberg–Marquardt damping */
  damping?: 'none' | 'adaptive';
  /** smallest acceptable conditioning estimate of C before a ridge is added (default 1e-13) */
  minRcond?: number;
}

/** The driver options of a Newton run (the damping's own options left out). */
export function newtonDriverOptions(options: NewtonOptions): DriverOptions {
  const { damping, minRcond, ...rest } = options;
  void minRcond;
  return { ...rest, maxHalvings: options.maxHalvings ?? (damping === 'adaptive' ? 3 : 30) };
}

/**
 * Maximises `obj` from θ (updated in place to the result). `value0` is the objective at the
 * initial θ when the caller already knows it (the objective must then already be positioned
 * there); otherwise θ is evaluated and accepted first.
 * @throws when θ's length differs from obj.dim or the workspace size
 */
export function newtonMaximize(
  obj: NewtonObjective,
  theta: Float64Array,
  options: NewtonOptions = {},
  ws: NewtonWorkspace = newtonWorkspace(obj.dim),
  value0?: number,
): NewtonResult {
  const damping = ridgeDamping({ adaptive: options.damping === 'adaptive', minRcond: options.minRcond });
  return maximize(obj, theta, damping, newtonDriverOptions(options), ws, value0);
}
