/**
 * The translation infimum of the Voronoi losses (THEORY.md §4). The truth's gates are translated
 * by (t0, t1): w*_j → exp(β0*_j + t0) = c·w*_j and β1*_j → β1*_j + t1.
 * - t0 enters only through Σ_j |W_j − c w*_j|, minimised in closed form by a weighted median of
 *   W_j / w*_j with weights w*_j ({@link optimalScale}).
 * - t1 enters Σ_j Σ_{i∈A_j} w_i ‖β1_i − β1*_j − t1‖^{e_ij}, convex for exponents ≥ 1; it is minimised
 *   numerically ({@link minimizeT1}) over the box spanned by the anchors β1_i − β1*_j, which
 *   contains a minimiser (clamping t1 to that box moves it closer to every anchor).
 */
import { minimizeConvex } from './convex.js';

/**
 * The scale c = exp(t0) ≥ 0 minimising Σ_j |W_j − c·wStar_j|: the weighted median of the ratios
 * W_j / wStar_j with weights wStar_j. When a whole interval of c is optimal, its lower end is
 * returned unless that is 0 (then the upper end). c = 0 (t0 = −∞) is returned only when the
 * cells with W_j = 0 carry more than half the truth's weight: the infimum is then not attained.
 * @param W fitted cell weights W_j ≥ 0 (length k*)
 * @param wStar true weights w*_j > 0 (length k*)
 * @returns c, t0 = log c, and the minimum value
 * @throws Error when a weight is negative, not finite, or wStar_j ≤ 0
 * @example optimalScale([1.5, 2.5], [1, 3]) // { c: 5/6, t0: log(5/6), value: 2/3 }
 */
export function optimalScale(W: ArrayLike<number>, wStar: ArrayLike<number>): { c: number; t0: number; value: number } {
  const k = wStar.length;
  if (W.length !== k)
    throw new Error(`optimalScale: W and wStar must have the same length. Value: ${W.length} and ${k}`);
  const order: number[] = [];
  let total = 0;
  for (let j = 0; j < k; j++) {
    if (!(W[j]! >= 0) || !Number.isFinite(W[j]!))
      throw new Error(`W[${j}] must be a finite number ≥ 0. Value: ${W[j]}`);
    if (!(wStar[j]! > 0) || !Number.isFinite(wStar[j]!))
      throw new Error(`wStar[${j}] must be a finite number > 0. Value: ${wStar[j]}`);
    order.push(j);
    total += wStar[j]!;
  }
  const ratio = (j: number) => W[j]! / wStar[j]!;
  order.sort((x, y) => ratio(x) - ratio(y) || x - y);
  let cum = 0;
  let c = 0;
  for (let s = 0; s < k; s++) {
    const j = order[s]!;
    cum += wStar[j]!;
    if (cum >= total / 2) {
      c = ratio(j);
      // exact tie: every c up to the next ratio is optimal; prefer a positive one
      if (c === 0 && cum === total / 2 && s + 1 < k) c = ratio(order[s + 1]!);
      break;
    }
  }
  let value = 0;
  for (let j = 0; j < k; j++) value += Math.abs(W[j]! - c * wStar[j]!);
  return { c, t0: Math.log(c), value };
}

/**
 * One term coef·max(0, ‖anchor − t1‖^exponent − offset) of the t1 objective; anchors are
 * β1_i − β1*_j (length d). offset defaults to 0 (the loss's own terms); with offset 1 the term is a
 * lower bound of ‖·‖^e' for every e' ≥ exponent, used where the exponent r̄(m) is unknown.
 */
export interface T1Term {
  anchor: Float64Array;
  coef: number;
  exponent: number;
  offset?: number;
}

/**
 * Adds coef·max(0, ‖u − t‖^e − o) to a running sum and its subgradient
 * −coef·e·‖u − t‖^{e−2}(u − t) to g (0 where ‖u − t‖^e ≤ o). `u` is read at uOff (length d).
 * @returns the term's value
 */
export function addNormPower(
  u: ArrayLike<number>,
  uOff: number,
  t: ArrayLike<number>,
  tOff: number,
  d: number,
  coef: number,
  e: number,
  g: Float64Array | null,
  gOff: number,
  o = 0,
): number {
  let r2 = 0;
  for (let l = 0; l < d; l++) {
    const v = u[uOff + l]! - t[tOff + l]!;
    r2 += v * v;
  }
  if (r2 === 0 || coef === 0) return 0;
  const r = Math.sqrt(r2);
  const re = Math.pow(r, e);
  if (re <= o) return 0;
  const val = coef * (re - o);
  if (g) {
    const s = (coef * e * re) / r2;
    for (let l = 0; l < d; l++) g[gOff + l] = g[gOff + l]! - s * (u[uOff + l]! - t[tOff + l]!);
  }
  return val;
}

/**
 * argmin over t1 ∈ R^d of Σ_terms coef·max(0, ‖anchor − t1‖^exponent − offset) (exponents ≥ 1: convex).
 * @returns the minimiser and the minimum (t1 = 0 and value 0 for no terms)
 * @throws Error for an exponent < 1 (the problem would not be convex)
 */
export function minimizeT1(terms: readonly T1Term[], d: number): { t1: Float64Array; value: number } {
  if (terms.length === 0) return { t1: new Float64Array(d), value: 0 };
  const lo = new Float64Array(d).fill(Infinity);
  const hi = new Float64Array(d).fill(-Infinity);
  for (const term of terms) {
    if (!(term.exponent >= 1))
      throw new Error(`the β1 exponent must be ≥ 1 for the translation infimum (convexity). Value: ${term.exponent}`);
    for (let l = 0; l < d; l++) {
      lo[l] = Math.min(lo[l]!, term.anchor[l]!);
      hi[l] = Math.max(hi[l]!, term.anchor[l]!);
    }
  }
  const res = minimizeConvex(
    (t, g) => {
      g.fill(0);
      let f = 0;
      for (const term of terms)
        f += addNormPower(term.anchor, 0, t, 0, d, term.coef, term.exponent, g, 0, term.offset ?? 0);
      return f;
    },
    lo,
    hi,
  );
  return { t1: res.x, value: res.f };
}
