/**
 * The driver's damping rules (see driver.ts): how a direction comes out of g and C, and how the
 * damping reacts to refused and accepted steps.
 *
 * - {@link ridgeDamping}: (C + λI) δ = g with C a PSD curvature (Fisher / Gauss–Newton, or an exact
 *   concave Hessian). λ is 0 unless C is singular or ill-conditioned (then it grows from
 *   1e-12·max diag C ×100 per attempt, and the result says so), or, adaptive, a Levenberg–Marquardt
 *   damping that grows ×10 when no halved step ascends and shrinks ×10 after each full step.
 * - {@link exactHessianDamping}: Newton on an exact, possibly indefinite −∇²Q (in C) damped as a
 *   trust region — (−∇²Q + μ·s·I)δ = ∇Q, μ raised until the matrix is safely positive definite, then
 *   adapted to the ratio of actual to predicted gain and carried over to the next run; when no μ
 *   makes it usable, a step on a PSD fallback curvature (the Fisher matrix).
 */
import { cholesky, choleskySolve, maxAbsDiag, ridgeSolve } from './linalg.js';
import type { Damping, NewtonWorkspace, NewtonResult, RejectAction } from './driver.js';

/** gᵀδ over p entries. */
function dot(g: Float64Array, d: Float64Array, p: number): number {
  let s = 0;
  for (let t = 0; t < p; t++) s += g[t]! * d[t]!;
  return s;
}

export interface RidgeDampingOptions {
  /** Levenberg–Marquardt damping (default false: ridge only when C is not positive definite) */
  adaptive?: boolean;
  /** smallest acceptable conditioning estimate of C before a ridge is added (default 1e-13) */
  minRcond?: number;
}

/** The ridge / Levenberg–Marquardt rule (see module doc). */
export function ridgeDamping(options: RidgeDampingOptions = {}): Damping {
  const adaptive = options.adaptive === true;
  const minRcond = options.minRcond ?? 1e-13;
  let lambda = 0; // LM damping, relative to max diag C
  let ridge = 0;
  return {
    begin() {
      lambda = 0;
    },
    direction(ws: NewtonWorkspace, res: NewtonResult): number | false {
      const { p, curv, grad, delta, factor } = ws;
      const damp = lambda * (maxAbsDiag(curv, p) || 1);
      const sol = ridgeSolve(curv, p, grad, delta, factor, { ridge0: damp, minRcond });
      if (sol.ridge > damp && sol.ridge > res.ridge) res.ridge = sol.ridge;
      ridge = sol.ridge;
      if (!sol.ok) return false;
      return dot(grad, delta, p) / 2;
    },
    undamped: () => ridge === 0,
    rejected(): RejectAction {
      // Levenberg–Marquardt: shorten and rotate the step towards the gradient, then retry
      if (adaptive && lambda < 1e6) {
        lambda = lambda === 0 ? 1e-6 : lambda * 10;
        return 'retry';
      }
      return 'noAscent';
    },
    accepted(alpha: number, fullAlpha: number) {
      if (adaptive && alpha === fullAlpha) lambda = lambda <= 1e-6 ? 0 : lambda / 10;
    },
  };
}

/**
 * Conditioning (min/max squared Cholesky pivot) below which −∇²Q + μI is not trusted and μ grows:
 * a nearly singular Hessian gives a huge step along its flat direction, which the trust region
 * clips and Q then refuses — a wasted pass per step at 1e-10 (measured), none at 1e-6.
 */
const EXACT_MIN_RCOND = 1e-6;
/** conditioning below which the fallback curvature gets a ridge */
const FALLBACK_MIN_RCOND = 1e-13;
/** Range and factors of μ (relative to the larger of the two curvatures' largest diagonal entries). */
const MU_MIN = 1e-8;
const MU_MAX = 1e8;
/** a large μ left by the previous run (e.g. at a rounding-level optimum) is cut to this */
const MU_START_MAX = 1e-2;
const MU_UP = 4;
const MU_REJECT = 10;

/**
 * The exact-Hessian trust-region rule (see module doc). ws.curv holds the exact −∇²Q and `fallback`
 * (filled by the same derivative pass) a PSD curvature. `n` sets Q's rounding noise: a refused
 * step whose predicted gain is within it counts as converged.
 */
export function exactHessianDamping(fallback: Float64Array, n: number): Damping {
  // trust-region damping μ, kept across runs
  let mu = 0;
  let qRound = 0;
  let dec = 0;
  let ws: NewtonWorkspace | null = null;
  return {
    begin(value0: number) {
      // rounding noise of Q, a sum of n·k terms
      qRound = 64 * Number.EPSILON * (Math.abs(value0) + n);
      // a large μ left by the previous run must not slow this one
      if (mu > MU_START_MAX) mu = MU_START_MAX;
    },
    direction(w: NewtonWorkspace, res: NewtonResult): number | false {
      ws = w;
      const { p, curv: hess, grad, delta, factor } = w;
      // (H + μ·s·I) δ = g, μ raised until the factorisation is well conditioned (H: exact −∇²Q)
      const scale = Math.max(maxAbsDiag(fallback, p), maxAbsDiag(hess, p)) || 1;
      let rc = cholesky(hess, p, factor, mu * scale);
      while (rc < EXACT_MIN_RCOND && mu < MU_MAX) {
        mu = mu === 0 ? MU_MIN : mu * MU_UP;
        rc = cholesky(hess, p, factor, mu * scale);
      }
      if (rc >= EXACT_MIN_RCOND) {
        choleskySolve(factor, p, grad, delta);
      } else {
        // not even a large ridge made H usable: a gradient-like step on the fallback curvature
        const sol = ridgeSolve(fallback, p, grad, delta, factor, { ridge0: mu * scale, minRcond: FALLBACK_MIN_RCOND });
        if (!sol.ok) return false;
        if (sol.ridge > mu * scale && sol.ridge > res.ridge) res.ridge = sol.ridge;
        mu = MU_MAX / MU_UP;
      }
      dec = dot(grad, delta, p);
      dec /= 2;
      // the Newton decrement (μ = 0), or a damped one (which a tiny gradient also makes tiny)
      return dec;
    },
    predict(alpha: number): number {
      // gain predicted by the exact quadratic model: α gᵀδ − α²/2 δᵀHδ
      const { p, curv: hess, delta } = ws!;
      let quad = 0;
      for (let r = 0; r < p; r++) {
        let hs = 0;
        for (let c = 0; c < p; c++) hs += hess[r * p + c]! * delta[c]!;
        quad += delta[r]! * hs;
      }
      return alpha * 2 * dec - 0.5 * alpha * alpha * quad;
    },
    undamped: () => mu === 0,
    rejected(pred: number): RejectAction {
      // a predicted gain within Q's rounding noise: converged as far as Float64 can tell
      if (pred <= qRound) return 'converged';
      if (mu >= MU_MAX) return 'noAscent';
      mu = mu === 0 ? MU_MIN : mu * MU_REJECT;
      return 'retry';
    },
    accepted(alpha: number, _fullAlpha: number, gain: number, pred: number) {
      // trust-region update of μ from the gain ratio
      const rho = pred > 0 ? gain / pred : 0;
      if (rho < 0.25) mu = mu === 0 ? MU_MIN : mu * MU_UP;
      else if (rho > 0.75 && alpha === 1) mu = mu <= MU_MIN ? 0 : mu / MU_UP;
    },
  };
}
