/**
 * Minimisers for convex (possibly non-smooth) functions of a few variables over a box, optionally
 * cut by linear constraints. Used for the translation infimum of the Voronoi losses, whose
 * objectives are sums of weighted norms ‖u − t‖^e (e ≥ 1): convex, with kinks at the anchors u,
 * and whose Voronoi cells are polyhedra in the translation t1.
 *
 * Method: the box is mapped to [0, 1]^q (q free coordinates). One free variable: the constraints
 * shrink the interval, then bisection on the sign of the subgradient, down to floating-point
 * resolution. Two or more: the central-cut ellipsoid method — feasibility cuts at infeasible
 * centres, subgradient cuts at feasible ones — which converges on any convex function (no
 * smoothness needed, unlike coordinate search or Nelder–Mead, which can stall at a kink) and
 * certifies its result: f(x_k) − sqrt(g_kᵀ P_k g_k) is a lower bound on the constrained minimum.
 */

/** f(x), with a subgradient written into g (same length as x). */
export type ConvexObjective = (x: Float64Array, g: Float64Array) => number;

/** The half-space normal·x ≥ rhs. */
export interface LinearConstraint {
  normal: ArrayLike<number>;
  rhs: number;
}

export interface ConvexMinimum {
  /** the best feasible point found (NaN entries when none was found) */
  x: Float64Array;
  /** f(x) (Infinity when no feasible point was found) */
  f: number;
  /** certified bound on f(x) − min f (0 when a zero subgradient was hit); NaN when not certified */
  gap: number;
  /** objective evaluations */
  evaluations: number;
  /** false when the box and the constraints leave no point (within rounding) */
  feasible: boolean;
}

export interface ConvexOptions {
  /**
   * stop once the certified gap is below tol. Default: one variable is bisected down to
   * floating-point resolution (tol 0); p ≥ 2 stop at 1e-13 · max(|f| at the first feasible point, tiny).
   */
  tol?: number;
  /** iteration cap (default 200 for one variable, 600·q² for q ≥ 2 free variables) */
  maxEvaluations?: number;
  /** linear constraints normal·x ≥ rhs (normals of length p) */
  constraints?: readonly LinearConstraint[];
}

/** Relative slack under which a constraint counts as met (rounding at a shared boundary). */
const FEAS_TOL = 1e-12;

/**
 * Minimises a convex function over the box [lo, hi] intersected with optional linear constraints.
 * Without constraints the box should contain an unconstrained minimiser (then the result is the
 * global minimum). Coordinates with lo = hi are held fixed.
 * @param fg objective and subgradient
 * @param lo lower corner (length p)
 * @param hi upper corner (length p), hi ≥ lo
 * @throws Error when the box is not finite, hi < lo, a constraint has the wrong length, or f is NaN
 * @example
 * // weighted median of 1, 2, 10 with weights 1, 1, 3
 * minimizeConvex((x, g) => { ... }, [1], [10]).x[0] // 10
 */
export function minimizeConvex(
  fg: ConvexObjective,
  lo: ArrayLike<number>,
  hi: ArrayLike<number>,
  options: ConvexOptions = {},
): ConvexMinimum {
  const p = lo.length;
  if (hi.length !== p)
    throw new Error(`minimizeConvex: lo and hi must have the same length. Value: ${p} and ${hi.length}`);
  const free: number[] = [];
  for (let l = 0; l < p; l++) {
    if (!Number.isFinite(lo[l]!) || !Number.isFinite(hi[l]!) || !(hi[l]! >= lo[l]!)) {
      throw new Error(
        `minimizeConvex: box must be finite with hi ≥ lo. Value: [${lo[l]}, ${hi[l]}] in coordinate ${l}`,
      );
    }
    if (hi[l]! > lo[l]!) free.push(l);
  }
  const q = free.length;
  const width = new Float64Array(q);
  for (let s = 0; s < q; s++) width[s] = hi[free[s]!]! - lo[free[s]!]!;
  const cons = zConstraints(options.constraints ?? [], lo, free, width);
  const search = new ZSearch(fg, lo, free, width);

  if (q === 0) {
    for (let h = 0; h < cons.count; h++) if (cons.rz[h]! > cons.slack[h]!) return search.infeasible();
    const f = search.evaluate();
    return { x: search.best, f, gap: 0, evaluations: search.evaluations, feasible: true };
  }
  return q === 1 ? bisect(search, cons, options) : ellipsoid(search, cons, options);
}

/** Constraints in z coordinates: nz·z ≥ rz, with a rounding slack scaled to each constraint. */
interface ZConstraints {
  count: number;
  nz: Float64Array;
  rz: Float64Array;
  slack: Float64Array;
}

function zConstraints(
  cons: readonly LinearConstraint[],
  lo: ArrayLike<number>,
  free: number[],
  width: Float64Array,
): ZConstraints {
  const p = lo.length;
  const q = free.length;
  const nz = new Float64Array(cons.length * q);
  const rz = new Float64Array(cons.length);
  const slack = new Float64Array(cons.length);
  cons.forEach((c, h) => {
    if (c.normal.length !== p)
      throw new Error(`minimizeConvex: constraints[${h}].normal must have length ${p}. Value: ${c.normal.length}`);
    let r = c.rhs;
    let scale = Math.abs(c.rhs);
    for (let l = 0; l < p; l++) {
      r -= c.normal[l]! * lo[l]!;
      scale += Math.abs(c.normal[l]! * lo[l]!);
    }
    for (let s = 0; s < q; s++) {
      nz[h * q + s] = c.normal[free[s]!]! * width[s]!;
      scale += Math.abs(nz[h * q + s]!);
    }
    rz[h] = r;
    slack[h] = FEAS_TOL * scale;
  });
  return { count: cons.length, nz, rz, slack };
}

/** The objective in z ∈ [0, 1]^q (the free coordinates of the box), keeping the best point seen. */
class ZSearch {
  readonly q: number;
  readonly x: Float64Array;
  readonly g: Float64Array;
  readonly best: Float64Array;
  fBest = Infinity;
  evaluations = 0;
  /** the current point, and the z-subgradient of the last evaluation */
  readonly z: Float64Array;
  readonly gz: Float64Array;

  constructor(
    private readonly fg: ConvexObjective,
    private readonly lo: ArrayLike<number>,
    private readonly free: number[],
    private readonly width: Float64Array,
  ) {
    const p = lo.length;
    this.q = free.length;
    this.x = Float64Array.from(lo);
    this.g = new Float64Array(p);
    this.best = new Float64Array(p).fill(NaN);
    this.z = new Float64Array(this.q).fill(0.5);
    this.gz = new Float64Array(this.q);
  }

  /** f at z; leaves the z-subgradient in gz */
  evaluate(): number {
    const { q, x, g, z, gz, free, width, lo } = this;
    for (let s = 0; s < q; s++) x[free[s]!] = lo[free[s]!]! + width[s]! * z[s]!;
    const f = this.fg(x, g);
    this.evaluations++;
    if (Number.isNaN(f)) throw new Error(`minimizeConvex: objective returned NaN at x = [${Array.from(x).join(', ')}]`);
    for (let s = 0; s < q; s++) gz[s] = g[free[s]!]! * width[s]!;
    if (f < this.fBest) {
      this.fBest = f;
      this.best.set(x);
    }
    return f;
  }

  infeasible(): ConvexMinimum {
    return { x: this.best, f: Infinity, gap: NaN, evaluations: this.evaluations, feasible: false };
  }
}

/** One free variable: the constraints are bounds on z; bisection on the subgradient's sign. */
function bisect(search: ZSearch, cons: ZConstraints, options: ConvexOptions): ConvexMinimum {
  const { nz, rz, slack } = cons;
  const { z, gz } = search;
  let a = 0;
  let b = 1;
  for (let h = 0; h < cons.count; h++) {
    const n = nz[h]!;
    if (n > 0) a = Math.max(a, (rz[h]! - slack[h]!) / n);
    else if (n < 0) b = Math.min(b, (rz[h]! - slack[h]!) / n);
    else if (rz[h]! > slack[h]!) return search.infeasible();
  }
  if (a > b) return search.infeasible();
  // bisection is cheap: run it to floating-point resolution, so that x is accurate too
  const tol = options.tol ?? 0;
  const maxEval = options.maxEvaluations ?? 200;
  z[0] = 0.5 * (a + b);
  let f = search.evaluate();
  let lower = -Infinity;
  let gap = NaN;
  for (;;) {
    const gv = gz[0]!;
    const zc = z[0]!;
    if (gv === 0) {
      gap = 0;
      break;
    }
    // the minimiser lies in [a, b], where the support line at zc bounds f from below
    lower = Math.max(lower, f + Math.min(gv * (a - zc), gv * (b - zc)));
    if (gv > 0) b = zc;
    else a = zc;
    gap = search.fBest - lower;
    // with tol 0, rounding can make the gap ≤ 0 long before x is resolved
    if ((tol > 0 && gap <= tol) || search.evaluations >= maxEval || !(b - a > 0)) break;
    z[0] = 0.5 * (a + b);
    if (z[0] === a || z[0] === b) {
      // interval at floating-point resolution: its ends are the last candidates
      for (const e of [a, b]) {
        z[0] = e;
        search.evaluate();
      }
      break;
    }
    f = search.evaluate();
  }
  return { x: search.best, f: search.fBest, gap, evaluations: search.evaluations, feasible: true };
}

/**
 * The most violated constraint at z, box sides included, by distance in z: −1 for none, h ≥ 0 for
 * constraint h, −(s + 1)·2 (− 1) for the lower (upper) side of coordinate s; null when a constraint
 * with a zero normal is violated (nothing is feasible).
 */
function mostViolated(z: Float64Array, cons: ZConstraints): number | null {
  const q = z.length;
  const { nz, rz, slack } = cons;
  let worst = -1;
  let worstViol = 0;
  for (let s = 0; s < q; s++) {
    if (z[s]! < 0 && -z[s]! > worstViol) {
      worstViol = -z[s]!;
      worst = -(s + 1) * 2;
    }
    if (z[s]! > 1 && z[s]! - 1 > worstViol) {
      worstViol = z[s]! - 1;
      worst = -(s + 1) * 2 - 1;
    }
  }
  for (let h = 0; h < cons.count; h++) {
    let v = rz[h]!;
    let nn = 0;
    for (let s = 0; s < q; s++) {
      v -= nz[h * q + s]! * z[s]!;
      nn += nz[h * q + s]! ** 2;
    }
    if (v > slack[h]! && nn > 0 && v / Math.sqrt(nn) > worstViol) {
      worstViol = v / Math.sqrt(nn);
      worst = h;
    } else if (v > slack[h]! && nn === 0) return null;
  }
  return worst;
}

/**
 * Two or more free variables: the central-cut ellipsoid { y : (y − z)ᵀ P⁻¹ (y − z) ≤ 1 }, starting
 * from the ball around [0, 1]^q; feasibility cuts at infeasible centres, subgradient cuts at feasible ones.
 */
function ellipsoid(search: ZSearch, cons: ZConstraints, options: ConvexOptions): ConvexMinimum {
  const { q, z, gz } = search;
  const maxIter = options.maxEvaluations ?? 600 * q * q;
  let tol = options.tol ?? NaN;
  const P = new Float64Array(q * q);
  for (let s = 0; s < q; s++) P[s * q + s] = q / 4;
  const Pg = new Float64Array(q);
  const cut = new Float64Array(q);
  const expand = (q * q) / (q * q - 1);
  let lower = -Infinity;
  let gap = NaN;
  for (let iter = 0; iter < maxIter; iter++) {
    const worst = mostViolated(z, cons);
    if (worst === null) return search.infeasible();
    let f = NaN;
    if (worst === -1) {
      f = search.evaluate();
      if (Number.isNaN(tol)) tol = 1e-13 * Math.max(Math.abs(f), 1e-300);
      cut.set(gz);
    } else if (worst >= 0) {
      // keep { y : nz·y ≥ nz·z }, which holds every feasible point
      for (let s = 0; s < q; s++) cut[s] = -cons.nz[worst * q + s]!;
    } else {
      const s = Math.floor((-worst - 2) / 2);
      cut.fill(0);
      cut[s] = (-worst - 2) % 2 === 0 ? -1 : 1;
    }
    let gPg = 0;
    for (let s = 0; s < q; s++) {
      let v = 0;
      for (let r = 0; r < q; r++) v += P[s * q + r]! * cut[r]!;
      Pg[s] = v;
      gPg += cut[s]! * v;
    }
    if (gPg === 0) {
      if (worst === -1) gap = 0;
      break;
    }
    if (!(gPg > 0) || !Number.isFinite(gPg)) break; // P lost definiteness to rounding: keep the best point
    const gamma = Math.sqrt(gPg);
    if (worst === -1) {
      lower = Math.max(lower, f - gamma);
      gap = search.fBest - lower;
      if (gap <= tol) break;
    }
    for (let s = 0; s < q; s++) {
      Pg[s] = Pg[s]! / gamma;
      z[s] = z[s]! - Pg[s]! / (q + 1);
    }
    const c = 2 / (q + 1);
    for (let s = 0; s < q; s++) {
      for (let r = s; r < q; r++) {
        const v = expand * (P[s * q + r]! - c * Pg[s]! * Pg[r]!);
        P[s * q + r] = v;
        P[r * q + s] = v;
      }
    }
  }
  if (search.fBest === Infinity) return search.infeasible();
  return { x: search.best, f: search.fBest, gap, evaluations: search.evaluations, feasible: true };
}
