/**
 * Generic Newton-type maximiser with step halving, for smooth objectives whose curvature the
 * caller supplies (the exact negative Hessian for concave problems, or a positive semi-definite
 * Gauss–Newton / Fisher approximation for the rest — then it is Fisher scoring).
 *
 * Each step solves (C + λI) δ = g, where g is the gradient, C the curvature (≈ −Hessian) and
 * λ a ridge that is 0 unless C is singular or ill-conditioned (then it grows from
 * 1e-12·max diag C ×100 per attempt, and the result says so), or, with `damping: 'adaptive'`,
 * a Levenberg–Marquardt damping that grows ×10 when no halved step ascends and shrinks ×10
 * after each full step. The step θ + αδ is tried with α = 1, ½, ¼, … and accepted as soon as
 * the objective does not drop; `maxStep` first shortens a step whose largest component exceeds it.
 *
 * Stopping: converged when the predicted gain of the next step, gᵀδ/2, is ≤ tol·scale
 * (`scale` sets the unit, e.g. the number of samples, so that tol is a per-sample quantity);
 * otherwise after `maxSteps` steps, or when no step ascends (`noAscent`).
 */
import { choleskySolve, ridgeSolve, maxAbsDiag } from './linalg.js';

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

export interface NewtonOptions {
  /** maximum number of accepted steps (default 100) */
  maxSteps?: number;
  /** convergence threshold on the predicted gain per unit of `scale` (default 1e-12) */
  tol?: number;
  /** unit of the objective for `tol` (default 1) */
  scale?: number;
  /** halvings of a step before giving up on it (default 30; 3 with adaptive damping, which then raises λ) */
  maxHalvings?: number;
  /** 'none' (default): ridge only when C is not positive definite; 'adaptive': Levenberg–Marquardt damping */
  damping?: 'none' | 'adaptive';
  /** smallest acceptable conditioning estimate of C before a ridge is added (default 1e-13) */
  minRcond?: number;
  /** largest step per parameter: a longer Newton step is shortened to this ∞-norm (default Infinity) */
  maxStep?: number;
  /**
   * After a full step whose predicted gain was ≤ this × scale, check convergence with the new
   * gradient and the previous curvature's factor (obj.grad), before paying for a new curvature
   * (default 0: never). Sound when the curvature changes little over such a step (Newton near
   * its optimum); a check that fails costs one gradient pass.
   */
  cheapCheckBelow?: number;
  /**
   * Converged after a full step whose actual gain matched the quadratic model's prediction gᵀδ/2
   * to within tol·scale (default false): Q is locally quadratic there, so the step landed on the
   * maximiser up to higher-order terms, and no further pass is needed. For exact Hessians only.
   */
  stopOnModelAgreement?: boolean;
}

/** Scratch arrays for a p-parameter problem; allocate once, reuse across calls. */
export interface NewtonWorkspace {
  p: number;
  grad: Float64Array;
  curv: Float64Array;
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
  /** step halvings over all steps */
  halvings: number;
  /** predicted gain gᵀδ/2 at the last gradient evaluated */
  lastDecrement: number;
  converged: boolean;
  /** no halved step ascended (θ is the last accepted point) */
  noAscent: boolean;
  /** largest ridge added because C was singular or ill-conditioned (0 = none) */
  ridge: number;
  /** a gradient or curvature was not finite (θ is the last accepted point) */
  nonFinite: boolean;
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
  const p = obj.dim;
  if (theta.length !== p || ws.p !== p)
    throw new Error(`newtonMaximize: theta has length ${theta.length}, workspace ${ws.p}, objective ${p}`);
  const maxSteps = options.maxSteps ?? 100;
  const tol = options.tol ?? 1e-12;
  const scale = options.scale ?? 1;
  const adaptive = options.damping === 'adaptive';
  const maxHalvings = options.maxHalvings ?? (adaptive ? 3 : 30);
  const minRcond = options.minRcond ?? 1e-13;
  const maxStep = options.maxStep ?? Infinity;
  const cheapBelow = obj.grad ? (options.cheapCheckBelow ?? 0) : 0;
  const agreement = options.stopOnModelAgreement === true;
  const { grad, curv, factor, delta, trial } = ws;

  let value = value0;
  if (value === undefined) {
    value = obj.trial(theta);
    obj.accept();
  }
  const res: NewtonResult = {
    value,
    steps: 0,
    halvings: 0,
    lastDecrement: NaN,
    converged: false,
    noAscent: false,
    ridge: 0,
    nonFinite: false,
  };
  if (!Number.isFinite(value)) {
    res.nonFinite = true;
    return res;
  }
  if (p === 0) {
    res.converged = true;
    return res;
  }

  let lambda = 0; // LM damping, relative to max diag C
  let needGrad = true;
  while (res.steps < maxSteps) {
    if (needGrad) {
      obj.gradCurv(grad, curv);
      let finite = true;
      for (let t = 0; t < p; t++) if (!Number.isFinite(grad[t]!)) finite = false;
      for (let t = 0; t < p * p && finite; t++) if (!Number.isFinite(curv[t]!)) finite = false;
      if (!finite) {
        res.nonFinite = true;
        return res;
      }
      needGrad = false;
    }
    const damp = lambda * (maxAbsDiag(curv, p) || 1);
    const sol = ridgeSolve(curv, p, grad, delta, factor, { ridge0: damp, minRcond });
    if (sol.ridge > damp && sol.ridge > res.ridge) res.ridge = sol.ridge;
    if (!sol.ok) {
      res.nonFinite = true;
      return res;
    }
    let dec = 0;
    for (let t = 0; t < p; t++) dec += grad[t]! * delta[t]!;
    res.lastDecrement = dec / 2;
    if (!(dec / 2 > tol * scale)) {
      res.converged = true;
      return res;
    }

    // trust region in the ∞-norm: far from the optimum a Fisher-scoring step can be huge
    let alpha = 1;
    let norm = 0;
    for (let t = 0; t < p; t++) norm = Math.max(norm, Math.abs(delta[t]!));
    if (norm > maxStep) alpha = maxStep / norm;
    const fullAlpha = alpha;
    let accepted = false;
    let gain = 0;
    for (let h = 0; h <= maxHalvings; h++) {
      for (let t = 0; t < p; t++) trial[t] = theta[t]! + alpha * delta[t]!;
      const v = obj.trial(trial);
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
      // Levenberg–Marquardt: shorten and rotate the step towards the gradient, then retry
      if (adaptive && lambda < 1e6) {
        lambda = lambda === 0 ? 1e-6 : lambda * 10;
        continue;
      }
      res.noAscent = true;
      break;
    }
    res.steps++;
    needGrad = true;
    if (agreement && alpha === 1 && sol.ridge === 0 && Math.abs(gain - dec / 2) <= tol * scale) {
      res.lastDecrement = Math.abs(gain - dec / 2);
      res.converged = true;
      return res;
    }
    if (alpha === 1 && dec / 2 <= cheapBelow * scale && sol.ridge === 0) {
      // the factor of C still sits in ws.factor: δ' = C⁻¹ g' predicts the next gain
      obj.grad!(grad);
      choleskySolve(factor, p, grad, delta);
      let dec2 = 0;
      for (let t = 0; t < p; t++) dec2 += grad[t]! * delta[t]!;
      if (Number.isFinite(dec2) && dec2 / 2 <= tol * scale) {
        res.lastDecrement = dec2 / 2;
        res.converged = true;
        return res;
      }
    }
    if (adaptive && alpha === fullAlpha) lambda = lambda <= 1e-6 ? 0 : lambda / 10;
  }
  return res;
}
