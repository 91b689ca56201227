/**
 * Log-sum-exp of `len` entries of `x` starting at `offset`, with the maximum subtracted
 * first so that logits of ±1000 neither overflow nor underflow.
 * Entries equal to −Infinity contribute 0; an all −Infinity row returns −Infinity;
 * any NaN propagates to NaN.
 */
export function logsumexp(x: ArrayLike<number>, offset = 0, len = x.length - offset): number {
  let m = -Infinity;
  for (let j = 0; j < len; j++) {
    const v = x[offset + j]!;
    if (v !== v) return NaN;
    if (v > m) m = v;
  }
  if (m === -Infinity) return -Infinity;
  if (m === Infinity) return Infinity;
  let s = 0;
  for (let j = 0; j < len; j++) s += Math.exp(x[offset + j]! - m);
  return m + Math.log(s);
}
