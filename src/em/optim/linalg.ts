/**
 * Small dense linear algebra for the M-steps: symmetric positive-definite solves of p × p
 * systems (p = a gate's or an expert's free parameters), row-major Float64Arrays, in place,
 * no allocation. Hand-rolled because the systems are tiny and solved thousands of times per fit.
 */

/** Makes the p × p matrix A exactly symmetric: A ← (A + Aᵀ)/2. */
export function symmetrize(A: Float64Array, p: number): void {
  for (let r = 0; r < p; r++) {
    for (let c = r + 1; c < p; c++) {
      const v = 0.5 * (A[r * p + c]! + A[c * p + r]!);
      A[r * p + c] = v;
      A[c * p + r] = v;
    }
  }
}

/** In place on the upper triangle of the p × p row-major A: A ← A − c·w wᵀ (rows where c·w_r = 0 are skipped). */
export function subtractOuterUpper(A: Float64Array, p: number, c: number, w: Float64Array): void {
  for (let r = 0; r < p; r++) {
    const cr = c * w[r]!;
    if (cr === 0) continue;
    const ro = r * p;
    for (let t = r; t < p; t++) A[ro + t] = A[ro + t]! - cr * w[t]!;
  }
}

/** Copies the upper triangle of the p × p row-major A onto its lower triangle (exactly symmetric). */
export function mirrorUpper(A: Float64Array, p: number): void {
  for (let r = 0; r < p; r++) for (let t = r + 1; t < p; t++) A[t * p + r] = A[r * p + t]!;
}

/**
 * Cholesky factorisation A = L Lᵀ of a symmetric p × p matrix (only the lower triangle of A is
 * read), with `ridge` added to its diagonal on the fly (A itself is never modified).
 * Writes L into the lower triangle of `L` (upper triangle zeroed).
 * @returns the ratio min_i L_ii² / max_i L_ii² (a cheap conditioning estimate, in (0, 1]),
 *   or 0 when A is not numerically positive definite (a pivot ≤ 0 or not finite).
 */
export function cholesky(A: Float64Array, p: number, L: Float64Array, ridge = 0): number {
  let minPiv = Infinity;
  let maxPiv = 0;
  for (let r = 0; r < p; r++) {
    for (let c = 0; c <= r; c++) {
      let s = r === c ? A[r * p + c]! + ridge : A[r * p + c]!;
      for (let t = 0; t < c; t++) s -= L[r * p + t]! * L[c * p + t]!;
      if (r === c) {
        if (!(s > 0) || !Number.isFinite(s)) return 0;
        if (s < minPiv) minPiv = s;
        if (s > maxPiv) maxPiv = s;
        L[r * p + r] = Math.sqrt(s);
      } else {
        L[r * p + c] = s / L[c * p + c]!;
      }
    }
    for (let c = r + 1; c < p; c++) L[r * p + c] = 0;
  }
  return p === 0 ? 1 : minPiv / maxPiv;
}

/** Solves L Lᵀ x = b given the Cholesky factor L (p × p); x may alias b. */
export function choleskySolve(L: Float64Array, p: number, b: Float64Array, x: Float64Array): void {
  // forward: L z = b
  for (let r = 0; r < p; r++) {
    let s = b[r]!;
    for (let t = 0; t < r; t++) s -= L[r * p + t]! * x[t]!;
    x[r] = s / L[r * p + r]!;
  }
  // backward: Lᵀ x = z
  for (let r = p - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let t = r + 1; t < p; t++) s -= L[t * p + r]! * x[t]!;
    x[r] = s / L[r * p + r]!;
  }
}

/** Largest absolute diagonal entry of a p × p matrix. */
export function maxAbsDiag(A: Float64Array, p: number): number {
  let m = 0;
  for (let r = 0; r < p; r++) m = Math.max(m, Math.abs(A[r * p + r]!));
  return m;
}

export interface RidgeSolveResult {
  /** ridge added to the diagonal (0 when none was needed) */
  ridge: number;
  /** conditioning estimate of the matrix actually factorised (see {@link cholesky}) */
  rcond: number;
  /** false when no ridge up to `maxRidge`·max|diag| made the matrix positive definite */
  ok: boolean;
}

/**
 * Solves (A + ridge·I) x = b for a symmetric positive semi-definite p × p matrix A, starting
 * with `ridge0` and, when the factorisation fails or its conditioning estimate falls below
 * `minRcond`, retrying with a ridge of 1e-12·max|diag A| growing ×100 per attempt.
 * A and b are not modified; `work` (p × p) receives the factor.
 */
export function ridgeSolve(
  A: Float64Array,
  p: number,
  b: Float64Array,
  x: Float64Array,
  work: Float64Array,
  options: { ridge0?: number; minRcond?: number } = {},
): RidgeSolveResult {
  const minRcond = options.minRcond ?? 1e-14;
  const scale = maxAbsDiag(A, p) || 1;
  let ridge = options.ridge0 ?? 0;
  for (let attempt = 0; attempt < 12; attempt++) {
    const rcond = cholesky(A, p, work, ridge);
    if (rcond >= minRcond) {
      choleskySolve(work, p, b, x);
      return { ridge, rcond, ok: true };
    }
    ridge = ridge === 0 || ridge < 1e-12 * scale ? 1e-12 * scale : ridge * 100;
  }
  x.fill(0, 0, p);
  return { ridge, rcond: 0, ok: false };
}
