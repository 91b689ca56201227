/**
 * Minimisers for convex (possibly non-smooth) functions of a few variables, given a subgradient
 * and a box known to contain a minimiser. Used for the translation infimum of the Voronoi losses,
 * whose objectives are sums of weighted norms ‖u − t‖^e (e ≥ 1): convex, with kinks at the anchors u.
 *
 * Method: the box is mapped to [0, 1]^p; one free variable is bisected on the sign of the
 * subgradient; two or more use the central-cut ellipsoid method, which converges on any convex
 * function (no smoothness needed, unlike coordinate search or Nelder–Mead, which can stall at a
 * kink) and certifies its result: f(x_k) − sqrt(g_kᵀ P_k g_k) is a lower bound on the minimum.
 */

/** f(x), with a subgradient written into g (same length as x). */
export type ConvexObjective = (x: Float64Array, g: Float64Array) => number;

export interface ConvexMinimum {
  /** the best point found */
  x: Float64Array;
  /** f(x) */
  f: number;
  /** certified bound on f(x) − min f (0 when a zero subgradient was hit); NaN when not certified */
  gap: number;
  /** objective evaluations */
  evaluations: number;
}

export interface ConvexOptions {
  /**
   * stop once the certified gap is below tol. Default: one variable is bisected down to
   * floating-point resolution (tol 0); p ≥ 2 stop at 1e-13 · max(|f| at the box centre, tiny).
   */
  tol?: number;
  /** evaluation cap (default 200 for one variable, 400·p² for p ≥ 2) */
  maxEvaluations?: number;
}

/**
 * Minimises a convex function over R^p, given a box [lo, hi] that contains a minimiser.
 * Coordinates with lo = hi are held fixed.
 * @param fg objective and subgradient
 * @param lo lower corner (length p)
 * @param hi upper corner (length p), hi ≥ lo
 * @throws Error when the box is not finite or hi < lo
 * @example
 * // weighted median of 1, 2, 10 with weights 1, 1, 3
 * minimizeConvex((x, g) => { ... }, [1], [10]).x[0] // 10
 */
export function minimizeConvex(fg: ConvexObjective, lo: ArrayLike<number>, hi: ArrayLike<number>, options: ConvexOptions = {}): ConvexMinimum {
  const p = lo.length;
  if (hi.length !== p) throw new Error(`minimizeConvex: lo and hi must have the same length. Value: ${p} and ${hi.length}`);
  const free: number[] = [];
  for (let l = 0; l < p; l++) {
    if (!Number.isFinite(lo[l]!) || !Number.isFinite(hi[l]!) || !(hi[l]! >= lo[l]!)) {
      throw new Error(`minimizeConvex: box must be finite with hi ≥ lo. Value: [${lo[l]}, ${hi[l]}] in coordinate ${l}`);
    }
    if (hi[l]! > lo[l]!) free.push(l);
  }
  const q = free.length;
  const x = Float64Array.from(lo);
  const g = new Float64Array(p);
  const width = new Float64Array(q);
  for (let s = 0; s < q; s++) width[s] = hi[free[s]!]! - lo[free[s]!]!;
  // z in [0, 1]^q ↦ x
  const place = (z: Float64Array) => {
    for (let s = 0; s < q; s++) x[free[s]!] = lo[free[s]!]! + width[s]! * z[s]!;
  };
  const best = Float64Array.from(lo);
  let fBest = Infinity;
  let evaluations = 0;
  const z = new Float64Array(q).fill(0.5);
  const gz = new Float64Array(q);
  // evaluates at z; returns f and leaves the z-subgradient in gz
  const evaluate = (): number => {
    place(z);
    const f = fg(x, g);
    evaluations++;
    if (Number.isNaN(f)) throw new Error(`minimizeConvex: objective returned NaN at x = [${Array.from(x).join(', ')}]`);
    for (let s = 0; s < q; s++) gz[s] = g[free[s]!]! * width[s]!;
    if (f < fBest) {
      fBest = f;
      best.set(x);
    }
    return f;
  };

  if (q === 0) {
    const f = fg(x, g);
    return { x, f, gap: 0, evaluations: 1 };
  }
  const f0 = evaluate();
  let gap = NaN;

  if (q === 1) {
    // bisection is cheap: run it to floating-point resolution, so that x is accurate too
    const tol = options.tol ?? 0;
    const maxEval = options.maxEvaluations ?? 200;
    let a = 0;
    let b = 1;
    let lower = -Infinity;
    let f = f0;
    for (;;) {
      const gv = gz[0]!;
      const zc = z[0]!;
      if (gv === 0) { gap = 0; break; }
      // the minimiser lies in [a, b], where the support line at zc bounds f from below
      lower = Math.max(lower, f + Math.min(gv * (a - zc), gv * (b - zc)));
      if (gv > 0) b = zc; else a = zc;
      gap = fBest - lower;
      // with tol 0, rounding can make the gap ≤ 0 long before x is resolved
      if ((tol > 0 && gap <= tol) || evaluations >= maxEval || !(b - a > 0)) break;
      z[0] = 0.5 * (a + b);
      if (z[0] === a || z[0] === b) break; // interval at floating-point resolution
      f = evaluate();
    }
    return { x: best, f: fBest, gap, evaluations };
  }

  // central-cut ellipsoid { y : (y − z)ᵀ P⁻¹ (y − z) ≤ 1 }, starting from the ball around [0, 1]^q
  const tol = options.tol ?? 1e-13 * Math.max(Math.abs(f0), 1e-300);
  const maxEval = options.maxEvaluations ?? 400 * q * q;
  const P = new Float64Array(q * q);
  for (let s = 0; s < q; s++) P[s * q + s] = q / 4;
  const Pg = new Float64Array(q);
  const expand = (q * q) / (q * q - 1);
  let lower = -Infinity;
  let f = f0;
  for (;;) {
    let gPg = 0;
    for (let s = 0; s < q; s++) {
      let v = 0;
      for (let r = 0; r < q; r++) v += P[s * q + r]! * gz[r]!;
      Pg[s] = v;
      gPg += gz[s]! * v;
    }
    if (gPg === 0) { gap = 0; break; }
    if (!(gPg > 0) || !Number.isFinite(gPg)) break; // P lost definiteness to rounding: keep the best point
    const gamma = Math.sqrt(gPg);
    lower = Math.max(lower, f - gamma);
    gap = fBest - lower;
    if (gap <= tol || evaluations >= maxEval) break;
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
    f = evaluate();
  }
  return { x: best, f: fBest, gap, evaluations };
}
