/**
 * The layout of the softmax gate's Hessian moment sums (operation 'hessian', src/em/backend/cpu/hessian.ts):
 * a pure module, so that the SIMD generators (src/em/backend/simd/gen) can read it without the registry.
 */
/** Offsets of the sum blocks of a (k, d) call (in doubles) and their total. */
export interface HessSumsLayout {
  m: number;
  /** monomials φ_a φ_b, a ≤ b: m(m+1)/2 */
  nm: number;
  gg: number;
  ge: number;
  ee: number;
  gn: number;
  en: number;
  gradG: number;
  gradE: number;
  nn: number;
  gradN: number;
  ll: number;
  total: number;
}

export function hessSumsLayout(k: number, d: number): HessSumsLayout {
  const m = d + 1;
  const nm = (m * (m + 1)) / 2;
  const tri = (k * (k + 1)) / 2;
  const gg = 0;
  const ge = gg + tri * nm;
  const ee = ge + k * k * nm;
  const gn = ee + tri * nm;
  const en = gn + k * k * m;
  const gradG = en + k * k * m;
  const gradE = gradG + k * m;
  const nn = gradE + k * m;
  const gradN = nn + tri;
  const ll = gradN + k;
  return { m, nm, gg, ge, ee, gn, en, gradG, gradE, nn, gradN, ll, total: ll + 1 };
}
