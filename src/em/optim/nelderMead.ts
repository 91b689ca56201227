/**
 * Nelder–Mead simplex search (maximisation) for small, non-smooth problems: the observed
 * log-likelihood of a top-K gate jumps where an active set changes, so gradients say nothing about
 * moving a switch across samples, while a simplex compares values only. Deterministic; standard
 * coefficients (reflection 1, expansion 2, contraction ½, shrink ½).
 */

export interface NelderMeadOptions {
  /** initial simplex: x0 plus steps[c] along each coordinate c */
  steps: Float64Array;
  /** stop after this many evaluations of f */
  maxEvals: number;
  /** stop when the simplex's values differ by at most this much */
  fTol: number;
}

export interface NelderMeadResult {
  x: Float64Array;
  f: number;
  evals: number;
}

/** Maximises f from x0 (see module doc); a non-finite value counts as −∞. */
export function nelderMead(
  f: (x: Float64Array) => number,
  x0: Float64Array,
  opts: NelderMeadOptions,
): NelderMeadResult {
  const p = x0.length;
  let evals = 0;
  const val = (x: Float64Array): number => {
    evals++;
    const v = f(x);
    return Number.isFinite(v) ? v : -Infinity;
  };
  const S: Float64Array[] = [x0.slice()];
  for (let c = 0; c < p; c++) {
    const x = x0.slice();
    x[c] = x[c]! + opts.steps[c]!;
    S.push(x);
  }
  const F = S.map(val);
  const cen = new Float64Array(p);
  // the point cen + t·(worst − cen)
  const along = (t: number): Float64Array => {
    const x = new Float64Array(p);
    for (let c = 0; c < p; c++) x[c] = cen[c]! + t * (S[p]![c]! - cen[c]!);
    return x;
  };
  const order = S.map((_, i) => i);
  while (evals < opts.maxEvals) {
    // best first; ties keep the earlier vertex first (deterministic)
    order.sort((a, b) => F[b]! - F[a]! || a - b);
    const Ss = order.map((i) => S[i]!);
    const Fs = order.map((i) => F[i]!);
    for (let i = 0; i <= p; i++) {
      S[i] = Ss[i]!;
      F[i] = Fs[i]!;
      order[i] = i;
    }
    if (F[0]! - F[p]! <= opts.fTol) break;
    cen.fill(0);
    for (let i = 0; i < p; i++) for (let c = 0; c < p; c++) cen[c] = cen[c]! + S[i]![c]! / p;
    const xr = along(-1);
    const fr = val(xr);
    if (fr > F[0]!) {
      const xe = along(-2);
      const fe = val(xe);
      S[p] = fe > fr ? xe : xr;
      F[p] = fe > fr ? fe : fr;
      continue;
    }
    if (fr > F[p - 1]!) {
      S[p] = xr;
      F[p] = fr;
      continue;
    }
    const xc = along(fr > F[p]! ? -0.5 : 0.5);
    const fc = val(xc);
    if (fc > Math.max(fr, F[p]!)) {
      S[p] = xc;
      F[p] = fc;
      continue;
    }
    for (let i = 1; i <= p; i++) {
      for (let c = 0; c < p; c++) S[i]![c] = S[0]![c]! + 0.5 * (S[i]![c]! - S[0]![c]!);
      F[i] = val(S[i]!);
    }
  }
  let b = 0;
  for (let i = 1; i <= p; i++) if (F[i]! > F[b]!) b = i;
  return { x: S[b]!, f: F[b]!, evals };
}
