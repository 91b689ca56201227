/**
 * The one Newton / trust-region driver of the M-steps. Every smooth maximisation (the softmax,
 * top-K and dense gate M-steps, the top-K cell-constrained steps, the initial gate fit) runs this
 * loop; what differs between them is pluggable:
 *
 * - the **damping** ({@link Damping}): how a direction δ comes out of the gradient g and the
 *   curvature C ≈ −∇²Q (a ridge / Levenberg–Marquardt solve, an exact-Hessian trust region, a
 *   QP confined to a cell), how it reacts when no trial ascends (more damping and retry, or
 *   stop) and after an accepted step;
 * - the **projection** ({@link Projection}): every trial point is mapped into the feasible set
 *   (e.g. a box |β1|, |β0| ≤ B, ν ∈ [ν_min, ν_max]) before it is evaluated; absent, no work;
 * - the **line search and stopping tests** ({@link DriverOptions}): halvings per step, a trust
 *   region in the ∞-norm (absolute, or relative to ‖θ‖∞), step and trial budgets, the
 *   predicted-gain test, the generalised-EM early stop, model agreement, the cheap re-check.
 *
 * One iteration: derivatives at θ (when stale) → δ and its predicted gain dec (the quadratic
 * model's gain of the full step) → converged when dec ≤ tol·scale → trials θ' = P(θ + αδ), α the
 * trust-region length then halved, accepted as soon as Q(θ') ≥ Q(θ). Accepting only non-
 * decreasing trials makes every run monotone in Q, projection or not: a projected Newton step
 * with backtracking along the projection arc (Bertsekas 1982) is this loop with a projection
 * whose `hold` marks the bound coordinates the gradient pushes outward.
 */
import { choleskySolve } from './linalg.js';

/**
 * An objective positioned at a current point. The optimiser calls `trial(θ)` for candidate
 * points and `accept()` right after a trial it keeps, so the objective can keep the
 * per-sample work of the last trial (e.g. gate probabilities) instead of recomputing it.
 */
export interface NewtonObjective {
  /** number of parameters p */
  readonly dim: number;
  /** Objective value at θ (length p); −Infinity or NaN means infeasible. Must not change the current point. */
  trial(theta: Float64Array): number;
  /** The last trial point becomes the current point. */
  accept(): void;
  /** Gradient (length p) and curvature C ≈ −Hessian (p × p, row-major, symmetric PSD) at the current point. */
  gradCurv(grad: Float64Array, curv: Float64Array): void;
  /** Optional: the gradient alone at the current point, when it is much cheaper than gradCurv. */
  grad?(grad: Float64Array): void;
}

/** Scratch arrays for a p-parameter problem; allocate once, reuse across calls. */
export interface NewtonWorkspace {
  p: number;
  grad: Float64Array;
  curv: Float64Array;
  /** the damping's Cholesky factor of the system it solved (read by the cheap re-check) */
  factor: Float64Array;
  delta: Float64Array;
  trial: Float64Array;
}

export function newtonWorkspace(p: number): NewtonWorkspace {
  return {
    p,
    grad: new Float64Array(p),
    curv: new Float64Array(p * p),
    factor: new Float64Array(p * p),
    delta: new Float64Array(p),
    trial: new Float64Array(p),
  };
}

export interface NewtonResult {
  /** objective value at the returned θ */
  value: number;
  /** accepted steps */
  steps: number;
  /** step halvings (refused trials) over all steps */
  halvings: number;
  /** objective evaluations at trial points */
  trials: number;
  /** predicted gain of the last direction (or the model misfit of a step stopped by agreement) */
  lastDecrement: number;
  converged: boolean;
  /** no trial ascended and the damping gave up (θ is the last accepted point) */
  noAscent: boolean;
  /** largest ridge added because C was singular or ill-conditioned (0 = none) */
  ridge: number;
  /** a value, gradient or curvature was not finite, or no direction could be solved (θ is the last accepted point) */
  nonFinite: boolean;
  /** the projection mapped a whole trial step back onto θ: the constraints block this direction */
  blocked: boolean;
}

/** What the damping decides when no trial of a step ascended. */
export type RejectAction = 'retry' | 'converged' | 'noAscent';

/**
 * The pluggable direction and damping rule. Stateful: one instance per problem (a trust region's
 * radius may be carried from one M-step to the next).
 */
export interface Damping {
  /** Start of a run at value Q(θ0). */
  begin?(value0: number): void;
  /**
   * Writes the direction into ws.delta from ws.grad, ws.curv at the current point θ and returns
   * its predicted gain (the stopping quantity, gᵀδ/2 for a Newton step), or false when no
   * direction could be solved. May raise res.ridge.
   */
  direction(ws: NewtonWorkspace, res: NewtonResult, theta: Float64Array): number | false;
  /** Gain the quadratic model predicts for a step α·δ (default: the direction's predicted gain). */
  predict?(alpha: number): number;
  /** The last direction was the undamped Newton step (C itself was factorised, into ws.factor). */
  undamped(): boolean;
  /** No trial of the step ascended; `pred` is the prediction of the last one tried. */
  rejected(pred: number): RejectAction;
  /** After an accepted step of length α (fullAlpha: the trust region's length, before halvings). */
  accepted?(alpha: number, fullAlpha: number, gain: number, pred: number): void;
}

/**
 * A feasible set for θ. `project` maps a point onto it in place (it must leave feasible points
 * unchanged, bit for bit, and return false for them). `hold`, when given, is called before each
 * direction: it marks (1 in `held`) the coordinates to keep fixed for this step — for a box, those
 * at a bound whose gradient points outward — and returns how many; the driver then solves the
 * reduced system (their gradient entries 0, their rows and columns of C those of the identity).
 */
export interface Projection {
  project(theta: Float64Array): boolean;
  hold?(theta: Float64Array, grad: Float64Array, held: Uint8Array): number;
}

export interface DriverOptions {
  /** maximum number of accepted steps (default 100) */
  maxSteps?: number;
  /** maximum number of trial evaluations (default Infinity) */
  maxTrials?: number;
  /** convergence threshold on the predicted gain per unit of `scale` (default 1e-12) */
  tol?: number;
  /** unit of the objective for `tol` (default 1) */
  scale?: number;
  /** halvings of a refused step before the damping decides (default 30) */
  maxHalvings?: number;
  /** largest step per parameter: a longer step is shortened to this ∞-norm (default Infinity) */
  maxStep?: number;
  /** when > 0 the ∞-norm radius is max(maxStep, relativeStep·‖θ‖∞) (default 0) */
  relativeStep?: number;
  /**
   * Generalised EM: stop (not converged) once the predicted gain is ≤ this × the gain the run has
   * made so far (default 0: never).
   */
  relStop?: number;
  /** check the gradient and curvature for non-finite entries (default true) */
  checkFinite?: boolean;
  /**
   * After a full undamped step whose predicted gain was ≤ this × scale, check convergence with the
   * new gradient and the previous curvature's factor (obj.grad), before paying for a new curvature
   * (default 0: never). Sound when the curvature changes little over such a step (Newton near
   * its optimum); a check that fails costs one gradient pass.
   */
  cheapCheckBelow?: number;
  /**
   * Converged after a full undamped step whose actual gain matched the quadratic model's
   * prediction to within tol·scale (default false): Q is locally quadratic there, so the step
   * landed on the maximiser up to higher-order terms. For exact Hessians only.
   */
  stopOnModelAgreement?: boolean;
  /** feasible set of θ (default: none, no cost) */
  projection?: Projection;
}

function allFinite(a: Float64Array, len: number): boolean {
  for (let t = 0; t < len; t++) if (!Number.isFinite(a[t]!)) return false;
  return true;
}

/**
 * Maximises `obj` from θ (updated in place to the result) with the given damping. `value0` is the
 * objective at the initial θ when the caller already knows it (the objective must then already be
 * positioned there); otherwise θ is evaluated and accepted first.
 * @throws when θ's length differs from obj.dim or the workspace size
 */
export function maximize(
  obj: NewtonObjective,
  theta: Float64Array,
  damping: Damping,
  options: DriverOptions = {},
  ws: NewtonWorkspace = newtonWorkspace(obj.dim),
  value0?: number,
): NewtonResult {
  const p = obj.dim;
  if (theta.length !== p || ws.p !== p)
    throw new Error(`maximize: theta has length ${theta.length}, workspace ${ws.p}, objective ${p}`);
  const maxSteps = options.maxSteps ?? 100;
  const maxTrials = options.maxTrials ?? Infinity;
  const tol = options.tol ?? 1e-12;
  const scale = options.scale ?? 1;
  const maxHalvings = options.maxHalvings ?? 30;
  const maxStep = options.maxStep ?? Infinity;
  const relativeStep = options.relativeStep ?? 0;
  const relStop = options.relStop ?? 0;
  const checkFinite = options.checkFinite ?? true;
  const cheapBelow = obj.grad ? (options.cheapCheckBelow ?? 0) : 0;
  const agreement = options.stopOnModelAgreement === true;
  const proj = options.projection;
  const held = proj?.hold ? new Uint8Array(p) : null;
  const { grad, curv, factor, delta, trial } = ws;

  let value = value0;
  if (value === undefined) {
    value = obj.trial(theta);
    obj.accept();
  }
  damping.begin?.(value);
  const start = value;
  const res: NewtonResult = {
    value,
    steps: 0,
    halvings: 0,
    trials: 0,
    lastDecrement: NaN,
    converged: false,
    noAscent: false,
    ridge: 0,
    nonFinite: false,
    blocked: false,
  };
  if (!Number.isFinite(value)) {
    res.nonFinite = true;
    return res;
  }
  if (p === 0) {
    res.converged = true;
    return res;
  }

  let needGrad = true;
  while (res.steps < maxSteps && res.trials < maxTrials) {
    if (needGrad) {
      obj.gradCurv(grad, curv);
      if (checkFinite && (!allFinite(grad, p) || !allFinite(curv, p * p))) {
        res.nonFinite = true;
        return res;
      }
      if (held) holdCoordinates(proj!, theta, grad, curv, held, p);
      needGrad = false;
    }
    const dec = damping.direction(ws, res, theta);
    if (dec === false) {
      res.nonFinite = true;
      return res;
    }
    res.lastDecrement = dec;
    if (!(dec > tol * scale)) {
      res.converged = true;
      return res;
    }
    if (relStop > 0 && dec <= relStop * (value - start)) return res;

    // trust region in the ∞-norm: far from the optimum a Fisher-scoring step can be huge
    let alpha = 1;
    let norm = 0;
    let radius = maxStep;
    if (relativeStep > 0) {
      let tn = 0;
      for (let t = 0; t < p; t++) {
        norm = Math.max(norm, Math.abs(delta[t]!));
        tn = Math.max(tn, Math.abs(theta[t]!));
      }
      radius = Math.max(maxStep, relativeStep * tn);
    } else for (let t = 0; t < p; t++) norm = Math.max(norm, Math.abs(delta[t]!));
    if (norm > radius) alpha = radius / norm;
    const fullAlpha = alpha;
    let accepted = false;
    let projected = false;
    let gain = 0;
    let pred = dec;
    for (let h = 0; h <= maxHalvings; h++) {
      for (let t = 0; t < p; t++) trial[t] = theta[t]! + alpha * delta[t]!;
      if (proj && proj.project(trial)) {
        projected = true;
        if (h === 0 && sameVector(trial, theta, p)) {
          res.blocked = true;
          return res;
        }
      }
      if (damping.predict) pred = damping.predict(alpha);
      const v = obj.trial(trial);
      res.trials++;
      if (v >= value) {
        gain = v - value;
        obj.accept();
        theta.set(trial);
        value = v;
        res.value = v;
        accepted = true;
        break;
      }
      res.halvings++;
      alpha *= 0.5;
    }
    if (!accepted) {
      const action = damping.rejected(pred);
      if (action === 'retry') continue;
      if (action === 'converged') res.converged = true;
      else res.noAscent = true;
      return res;
    }
    res.steps++;
    needGrad = true;
    const full = alpha === 1 && !projected && damping.undamped();
    if (agreement && full && Math.abs(gain - pred) <= tol * scale) {
      res.lastDecrement = Math.abs(gain - pred);
      res.converged = true;
      return res;
    }
    if (full && dec <= cheapBelow * scale && cheapCheck(obj, ws, p, tol * scale, res)) return res;
    damping.accepted?.(alpha, fullAlpha, gain, pred);
  }
  return res;
}

/**
 * The factor of C still sits in ws.factor: δ' = C⁻¹ g' predicts the next gain from the new
 * gradient alone. True (and res marked converged) when it is below the threshold.
 */
function cheapCheck(obj: NewtonObjective, ws: NewtonWorkspace, p: number, thr: number, res: NewtonResult): boolean {
  const { grad, delta, factor } = ws;
  obj.grad!(grad);
  choleskySolve(factor, p, grad, delta);
  let dec2 = 0;
  for (let t = 0; t < p; t++) dec2 += grad[t]! * delta[t]!;
  if (Number.isFinite(dec2) && dec2 / 2 <= thr) {
    res.lastDecrement = dec2 / 2;
    res.converged = true;
    return true;
  }
  return false;
}

/** Reduced system of a projected Newton step: held coordinates get g = 0 and the identity's row and column in C. */
function holdCoordinates(
  proj: Projection,
  theta: Float64Array,
  grad: Float64Array,
  curv: Float64Array,
  held: Uint8Array,
  p: number,
): void {
  held.fill(0);
  if (proj.hold!(theta, grad, held) === 0) return;
  for (let r = 0; r < p; r++) {
    if (!held[r]) continue;
    grad[r] = 0;
    for (let c = 0; c < p; c++) {
      curv[r * p + c] = r === c ? 1 : 0;
      curv[c * p + r] = r === c ? 1 : 0;
    }
  }
}

function sameVector(a: Float64Array, b: Float64Array, p: number): boolean {
  for (let t = 0; t < p; t++) if (a[t] !== b[t]) return false;
  return true;
}
