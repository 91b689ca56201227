/**
 * The one-sample Kolmogorov–Smirnov test against U(0, 1) (`gmoe predict`'s calibration check of the
 * probability integral transform F(y | x)): the statistic D_n = sup |F_n(u) − u| and its asymptotic
 * p-value P(K > (√n + 0.12 + 0.11/√n) D_n), Stephens' (1970) small-sample correction of Kolmogorov's
 * limit, accurate to about 0.01 in p for n ≥ 5 (Numerical Recipes, probks).
 */

/**
 * P(K > λ) for Kolmogorov's limit distribution: 2 Σ_{j ≥ 1} (−1)^{j−1} e^{−2 j² λ²} for λ ≥ 1, else
 * 1 − (√(2π)/λ) Σ_{j ≥ 1} e^{−(2j − 1)² π² / (8 λ²)} (the same function; each series converges fast on its
 * side, the first slowly near 0).
 */
export function kolmogorovSurvival(lambda: number): number {
  if (Number.isNaN(lambda)) return NaN;
  if (lambda <= 0) return 1;
  if (lambda < 1) {
    let s = 0;
    for (let j = 1; j <= 20; j++) s += Math.exp((-((2 * j - 1) ** 2) * Math.PI ** 2) / (8 * lambda * lambda));
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * s));
  }
  let s = 0;
  for (let j = 1; j <= 100; j++) {
    const t = Math.exp(-2 * j * j * lambda * lambda);
    s += j % 2 === 1 ? t : -t;
    if (t < 1e-17 * s) break;
  }
  return Math.min(1, Math.max(0, 2 * s));
}

/** The Kolmogorov–Smirnov test of a sample against U(0, 1). */
export interface KsResult {
  n: number;
  /** sup_u |F_n(u) − u| */
  statistic: number;
  /** asymptotic, with Stephens' correction (see the module doc) */
  pValue: number;
}

/**
 * The one-sample KS test of `u` against U(0, 1).
 * @throws Error when u is empty or has a value outside [0, 1] (NaN included), naming its index
 */
export function ksUniform(u: ArrayLike<number>): KsResult {
  const n = u.length;
  if (n === 0) throw new Error('ksUniform: the sample is empty');
  for (let i = 0; i < n; i++)
    if (!(u[i]! >= 0 && u[i]! <= 1)) throw new Error(`ksUniform: u[${i}] must be in [0, 1]. Value: ${u[i]}`);
  const s = Float64Array.from(u).sort();
  let d = 0;
  for (let i = 0; i < n; i++) d = Math.max(d, (i + 1) / n - s[i]!, s[i]! - i / n);
  const rn = Math.sqrt(n);
  return { n, statistic: d, pValue: kolmogorovSurvival((rn + 0.12 + 0.11 / rn) * d) };
}
