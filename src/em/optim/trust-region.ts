/**
 * Trust-region maximisation of a smooth objective f(θ) from its exact gradient g and Hessian H
 * (dense P × P, P small: the free parameters of a fit). Each step maximises the quadratic model
 * q(s) = gᵀs + ½ sᵀHs over the ellipsoid ‖D s‖ ≤ Δ (D = diag scaling, MINPACK's running maximum of
 * √|H_ii|, so that Δ does not depend on the parameters' units), solved exactly through the
 * eigendecomposition of −D⁻¹HD⁻¹ (Moré–Sorensen's secular equation, hard case included): an
 * indefinite H is handled, the step then follows the most positive curvature to the boundary.
 * The step is accepted only when f increases and the ratio ρ = actual / predicted gain is above
 * ETA; the radius shrinks when ρ < 1/4 and grows when ρ > 3/4 on the boundary. Near a maximum
 * with −H positive definite the full Newton step is interior and accepted: quadratic convergence.
 *
 * Box constraints (variance floor as a bound on log ν, later parameter bounds): a coordinate at a
 * bound whose gradient points outside is held (its row and column dropped from the subproblem),
 * the step is then projected onto the box and its predicted gain recomputed.
 */
import { cholesky, choleskySolve } from './linalg.js';
import { symmetricEigen, type SymmetricEigen } from './sym-eig.js';

/** Smallest ratio actual / predicted gain for a step to be accepted. */
export const TR_ETA = 1e-4;

export interface TrustRegionStep {
  /** the step s (length P), already projected onto the box */
  step: Float64Array;
  /** predicted gain q(s) = gᵀs + ½ sᵀHs of the (projected) step */
  predicted: number;
  /** ‖D s‖ */
  norm: number;
  /** true when s is the interior Newton step (−H positive definite over the free coordinates) */
  newton: boolean;
}

export interface NewtonDecrement {
  /** ½ gᵀ(−H)⁻¹g over the free coordinates; NaN when −H is not positive definite there */
  decrement: number;
  /** ½ Σ g_i² / |H_ii| over the free coordinates (the gradient in the diagonal metric) */
  gradientMetric: number;
  /** −H positive definite over the free coordinates (Cholesky succeeds) */
  positiveDefinite: boolean;
}

export interface Box {
  /** lower bounds (−Infinity: none) */
  lower?: Float64Array;
  /** upper bounds (Infinity: none) */
  upper?: Float64Array;
  /** coordinates held where they are (1), e.g. those the objective does not depend on near θ */
  held?: Uint8Array;
}

/** Indices of the coordinates left free: not held, not at a bound whose gradient points outside the box. */
export function freeCoordinates(theta: Float64Array, g: Float64Array, box: Box): number[] {
  const free: number[] = [];
  for (let i = 0; i < theta.length; i++) {
    if (box.held?.[i]) continue;
    const atLower = box.lower !== undefined && theta[i]! <= box.lower[i]! && g[i]! <= 0;
    const atUpper = box.upper !== undefined && theta[i]! >= box.upper[i]! && g[i]! >= 0;
    if (!atLower && !atUpper) free.push(i);
  }
  return free;
}

/** −H over the free coordinates, scaled by D: B = −D⁻¹ H D⁻¹. */
function scaledNegHessian(H: Float64Array, P: number, free: number[], D: Float64Array): Float64Array {
  const m = free.length;
  const B = new Float64Array(m * m);
  for (let a = 0; a < m; a++)
    for (let b = 0; b < m; b++) B[a * m + b] = -H[free[a]! * P + free[b]!]! / (D[free[a]!]! * D[free[b]!]!);
  return B;
}

/**
 * The Newton decrement ½ gᵀ(−H)⁻¹g (the quadratic model's predicted gain of the full Newton step:
 * for a log-likelihood, the nats still to gain when the model is right) and the diagonal-metric
 * gradient ½ Σ g_i²/|H_ii|, over `free` (default all coordinates).
 */
export function newtonDecrement(g: Float64Array, H: Float64Array, P: number, free?: number[]): NewtonDecrement {
  const idx = free ?? Array.from({ length: P }, (_, i) => i);
  const m = idx.length;
  const D = new Float64Array(P).fill(1);
  let gradientMetric = 0;
  for (const i of idx) {
    const h = Math.abs(H[i * P + i]!);
    D[i] = h > 0 ? Math.sqrt(h) : 1;
    gradientMetric += h > 0 ? (0.5 * g[i]! * g[i]!) / h : g[i] === 0 ? 0 : Infinity;
  }
  const B = scaledNegHessian(H, P, idx, D);
  const Lf = new Float64Array(m * m);
  if (m > 0 && cholesky(B, m, Lf) === 0) return { decrement: NaN, gradientMetric, positiveDefinite: false };
  const gs = new Float64Array(m);
  for (let a = 0; a < m; a++) gs[a] = g[idx[a]!]! / D[idx[a]!]!;
  const x = new Float64Array(m);
  if (m > 0) choleskySolve(Lf, m, gs, x);
  let dec = 0;
  for (let a = 0; a < m; a++) dec += gs[a]! * x[a]!;
  return { decrement: 0.5 * dec, gradientMetric, positiveDefinite: true };
}

/** q(s) = gᵀs + ½ sᵀHs. */
export function quadraticGain(g: Float64Array, H: Float64Array, P: number, s: Float64Array): number {
  let lin = 0;
  let quad = 0;
  for (let a = 0; a < P; a++) {
    const sa = s[a]!;
    if (sa === 0) continue;
    lin += g[a]! * sa;
    let row = 0;
    for (let b = 0; b < P; b++) row += H[a * P + b]! * s[b]!;
    quad += sa * row;
  }
  return lin + 0.5 * quad;
}

/**
 * argmax of c·u − ½ uᵀ diag(λ) u over ‖u‖ ≤ Δ in the eigenbasis (c = Vᵀ g̃, λ ascending):
 * the multiplier μ ≥ max(0, −λ_min) with ‖u(μ)‖ = Δ, u_i(μ) = c_i / (λ_i + μ), or μ = 0 inside.
 * Returns u in the eigenbasis; in the hard case (c ⟂ the smallest eigenspace) u(−λ_min) is
 * completed to the boundary along the smallest eigenvector.
 */
function secular(c: Float64Array, lambda: Float64Array, radius: number): { u: Float64Array; mu: number } {
  const m = c.length;
  const u = new Float64Array(m);
  const lmin = lambda[0]!;
  const norm2 = (mu: number) => {
    let s = 0;
    for (let i = 0; i < m; i++) {
      const den = lambda[i]! + mu;
      if (den <= 0) {
        if (c[i] !== 0) return Infinity;
        continue;
      }
      s += (c[i]! / den) ** 2;
    }
    return s;
  };
  const fill = (mu: number) => {
    for (let i = 0; i < m; i++) {
      const den = lambda[i]! + mu;
      u[i] = den > 0 ? c[i]! / den : 0;
    }
  };
  if (lmin > 0 && norm2(0) <= radius * radius) {
    fill(0);
    return { u, mu: 0 };
  }
  let cn = 0;
  for (let i = 0; i < m; i++) cn += c[i]! * c[i]!;
  cn = Math.sqrt(cn);
  let lo = Math.max(0, -lmin);
  // hard case: ‖u(−λ_min)‖ < Δ with c ⟂ the smallest eigenspace: go to the boundary along it
  const scaleLam = Math.max(Math.abs(lambda[m - 1]!), Math.abs(lmin), 1e-300);
  if (lmin <= 0 && norm2(lo * (1 + 1e-15) + 1e-15 * scaleLam) < radius * radius) {
    const muH = -lmin;
    for (let i = 0; i < m; i++) {
      const den = lambda[i]! + muH;
      u[i] = den > 1e-12 * scaleLam ? c[i]! / den : 0;
    }
    let s2 = 0;
    for (let i = 0; i < m; i++) s2 += u[i]! * u[i]!;
    u[0] = u[0]! + Math.sqrt(Math.max(radius * radius - s2, 0)) * (c[0]! >= 0 ? 1 : -1);
    return { u, mu: muH };
  }
  let hi = lo + cn / radius + 1e-300;
  // safeguarded Newton on φ(μ) = 1/‖u(μ)‖ − 1/Δ (increasing, concave), inside [lo, hi]
  let mu = hi;
  for (let it = 0; it < 200; it++) {
    const n2 = norm2(mu);
    const nrm = Math.sqrt(n2);
    if (Math.abs(nrm - radius) <= 1e-12 * radius) break;
    if (nrm > radius) lo = mu;
    else hi = mu;
    // φ'(μ) = (Σ c_i²/(λ_i+μ)³) / ‖u‖³
    let d3 = 0;
    for (let i = 0; i < m; i++) {
      const den = lambda[i]! + mu;
      if (den > 0) d3 += (c[i]! * c[i]!) / (den * den * den);
    }
    const phi = 1 / nrm - 1 / radius;
    let next = Number.isFinite(nrm) && d3 > 0 ? mu - phi / (d3 / (nrm * nrm * nrm)) : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next === mu || hi - lo <= 1e-15 * Math.max(hi, 1e-300)) break;
    mu = next;
  }
  fill(mu);
  return { u, mu };
}

/**
 * The trust-region state of one maximisation: the scaling D and the radius Δ, with the step and
 * the ratio test. Used by {@link maximizeTrustRegion} and by the hybrid EM (src/em/hybrid.ts),
 * whose loop owns the objective evaluations and the stopping rule.
 */
export class TrustRegion {
  radius: number;
  readonly maxRadius: number;
  readonly D: Float64Array;
  /** the eigendecomposition's buffers, reused while the number of free coordinates stays the same */
  private eig: SymmetricEigen | undefined;

  constructor(
    readonly P: number,
    opts: { radius?: number; maxRadius?: number } = {},
  ) {
    this.radius = opts.radius ?? NaN; // NaN: the first step's full Newton length (or 1)
    this.maxRadius = opts.maxRadius ?? 1e6;
    this.D = new Float64Array(P);
  }

  /** The step maximising the quadratic model within the region, projected onto the box. */
  propose(theta: Float64Array, g: Float64Array, H: Float64Array, box: Box = {}): TrustRegionStep {
    const P = this.P;
    const D = this.D;
    for (let i = 0; i < P; i++) {
      const h = Math.sqrt(Math.abs(H[i * P + i]!));
      if (h > D[i]!) D[i] = h;
    }
    let dmax = 0;
    for (let i = 0; i < P; i++) dmax = Math.max(dmax, D[i]!);
    for (let i = 0; i < P; i++) if (!(D[i]! > 1e-12 * dmax)) D[i] = Math.max(1e-12 * dmax, 1e-300);
    const free = freeCoordinates(theta, g, box);
    const m = free.length;
    const step = new Float64Array(P);
    if (m === 0) return { step, predicted: 0, norm: 0, newton: true };
    const B = scaledNegHessian(H, P, free, D);
    const eig = symmetricEigen(B, m, this.eig);
    this.eig = eig;
    const lam = Array.from(eig.values);
    const order = lam.map((_, i) => i).sort((a, b) => lam[a]! - lam[b]!);
    const V = eig.vectors; // V[q * m + a]: component a of eigenvector q
    const lambda = new Float64Array(order.map((i) => lam[i]!));
    const c = new Float64Array(m);
    for (let q = 0; q < m; q++) {
      let s = 0;
      const row = order[q]! * m;
      for (let a = 0; a < m; a++) s += V[row + a]! * (g[free[a]!]! / D[free[a]!]!);
      c[q] = s;
    }
    if (Number.isNaN(this.radius)) {
      // first step: the full Newton step when −H is positive definite, else unit length
      let n2 = 0;
      for (let q = 0; q < m; q++) n2 += (c[q]! / lambda[q]!) ** 2;
      this.radius = lambda[0]! > 0 && Number.isFinite(n2) && n2 > 0 ? Math.min(Math.sqrt(n2), this.maxRadius) : 1;
    }
    const { u, mu } = secular(c, lambda, this.radius);
    for (let a = 0; a < m; a++) {
      let s = 0;
      for (let q = 0; q < m; q++) s += V[order[q]! * m + a]! * u[q]!;
      step[free[a]!] = s / D[free[a]!]!;
    }
    // projection onto the box
    for (let i = 0; i < P; i++) {
      const t = theta[i]! + step[i]!;
      if (box.lower && t < box.lower[i]!) step[i] = box.lower[i]! - theta[i]!;
      if (box.upper && t > box.upper[i]!) step[i] = box.upper[i]! - theta[i]!;
    }
    let norm = 0;
    for (let i = 0; i < P; i++) norm += (D[i]! * step[i]!) ** 2;
    return { step, predicted: quadraticGain(g, H, P, step), norm: Math.sqrt(norm), newton: mu === 0 && lambda[0]! > 0 };
  }

  /**
   * The ratio test of a proposed step whose actual gain was `actual` (NaN or −Infinity: refused);
   * updates the radius. `refuse` forces a refusal (e.g. the step left the top-K region).
   * @returns true when the step is accepted
   */
  judge(step: TrustRegionStep, actual: number, refuse = false): boolean {
    const rho = step.predicted > 0 ? actual / step.predicted : -Infinity;
    const ok = !refuse && Number.isFinite(actual) && actual > 0 && rho >= TR_ETA;
    if (!ok || rho < 0.25) this.radius = 0.25 * Math.min(this.radius, step.norm > 0 ? step.norm : this.radius);
    else if (rho > 0.75 && step.norm >= 0.99 * this.radius) this.radius = Math.min(2 * this.radius, this.maxRadius);
    return ok;
  }
}

export interface MaximizeOptions extends Box {
  /** stop when the Newton decrement and the diagonal-metric gradient are both below it (default 1e-10) */
  decrementTol?: number;
  /** maximum accepted steps (default 200) */
  maxIter?: number;
  /** consecutive refused steps before giving up (default 60: the radius has shrunk by 4^60) */
  maxRefusals?: number;
  /** initial radius in the scaled metric (default: the first full Newton step's, or 1) */
  radius?: number;
}

export interface MaximizeResult {
  theta: Float64Array;
  value: number;
  /** accepted steps */
  iterations: number;
  stopReason: 'newton-decrement' | 'max-iterations' | 'no-progress';
  /** Newton decrement at each accepted point (NaN where −H was not positive definite), the start first */
  decrements: number[];
  /** gradient norm (Euclidean) at each accepted point, the start first */
  gradientNorms: number[];
  positiveDefinite: boolean;
}

/**
 * Maximises f from θ0 by trust-region Newton steps (the generic loop; the hybrid EM runs its own).
 * @param f value (−Infinity or NaN: infeasible) and, at accepted points, gradient and Hessian
 */
export function maximizeTrustRegion(
  f: {
    value(theta: Float64Array): number;
    derivatives(theta: Float64Array): { value: number; gradient: Float64Array; hessian: Float64Array };
  },
  theta0: Float64Array,
  opts: MaximizeOptions = {},
): MaximizeResult {
  const P = theta0.length;
  const tol = opts.decrementTol ?? 1e-10;
  const maxIter = opts.maxIter ?? 200;
  const maxRefusals = opts.maxRefusals ?? 60;
  const box: Box = {};
  if (opts.lower) box.lower = opts.lower;
  if (opts.upper) box.upper = opts.upper;
  const tr = new TrustRegion(P, opts.radius !== undefined ? { radius: opts.radius } : {});
  let theta = Float64Array.from(theta0);
  let d = f.derivatives(theta);
  const decrements: number[] = [];
  const gradientNorms: number[] = [];
  let iterations = 0;
  let refusals = 0;
  for (;;) {
    const nd = newtonDecrement(d.gradient, d.hessian, P, freeCoordinates(theta, d.gradient, box));
    decrements.push(nd.positiveDefinite ? nd.decrement : NaN);
    gradientNorms.push(Math.hypot(...d.gradient));
    if (nd.positiveDefinite && nd.decrement <= tol && nd.gradientMetric <= tol)
      return {
        theta,
        value: d.value,
        iterations,
        stopReason: 'newton-decrement',
        decrements,
        gradientNorms,
        positiveDefinite: true,
      };
    if (iterations >= maxIter)
      return {
        theta,
        value: d.value,
        iterations,
        stopReason: 'max-iterations',
        decrements,
        gradientNorms,
        positiveDefinite: nd.positiveDefinite,
      };
    for (;;) {
      const s = tr.propose(theta, d.gradient, d.hessian, box);
      const trial = theta.map((v, i) => v + s.step[i]!);
      const fv = f.value(trial);
      if (tr.judge(s, fv - d.value)) {
        theta = trial;
        d = f.derivatives(theta);
        iterations++;
        refusals = 0;
        break;
      }
      if (++refusals >= maxRefusals)
        return {
          theta,
          value: d.value,
          iterations,
          stopReason: 'no-progress',
          decrements,
          gradientNorms,
          positiveDefinite: nd.positiveDefinite,
        };
    }
  }
}
