import { describe, expect, it } from 'vitest';
import { EXP_FAST_MAX, EXP_FAST_MIN, expCore, expFast } from '../../src/math/exp.js';
import { logCore, logFast } from '../../src/math/log.js';
import { createRng } from '../../src/random/rng.js';

const f = new Float64Array(2);
const bits = new BigInt64Array(f.buffer);
/** Distance in units in the last place between two finite doubles of the same sign. */
function ulps(a: number, b: number): number {
  f[0] = a;
  f[1] = b;
  const d = bits[0]! - bits[1]!;
  return Number(d < 0n ? -d : d);
}

/**
 * Both functions are measured at ≤ 0.51 ulp (exp) and ≤ 0.96 ulp (log) from a 160-bit reference
 * (docs/performance.md); Math.exp and Math.log (fdlibm) are < 1 ulp. Two faithful results can
 * then differ by at most 1 ulp: a wrong table entry, coefficient or range reduction shows up as
 * larger differences over these arguments (every table index and binade is hit many times).
 */
describe('expFast', () => {
  it('is within 1 ulp of Math.exp on 2·10^6 seeded arguments over the fast range, and mostly identical', () => {
    const rng = createRng(20261126);
    let worst = 0;
    let differ = 0;
    const N = 2_000_000;
    for (let t = 0; t < N; t++) {
      const kind = t & 3;
      // the whole range, the softmax range, tiny arguments, the reduced range |r| ≤ ln2/256
      const x =
        kind === 0
          ? EXP_FAST_MIN + (EXP_FAST_MAX - EXP_FAST_MIN) * rng.uniform()
          : kind === 1
            ? -40 * rng.uniform()
            : kind === 2
              ? (rng.uniform() - 0.5) * 2 ** (-60 * rng.uniform())
              : (rng.uniform() - 0.5) * 0.0055;
      const u = ulps(expFast(x), Math.exp(x));
      if (u > worst) worst = u;
      if (u > 0) differ++;
    }
    expect(worst).toBeLessThanOrEqual(1);
    // a 0.51-ulp function and a < 1-ulp one round differently only near ties: measured 7%
    expect(differ / N).toBeLessThan(0.15);
  });

  it('is exact where the result is exact, and Math.exp outside its fast range', () => {
    expect(expFast(0)).toBe(1);
    expect(expCore(0)).toBe(1);
    expect(expFast(-0)).toBe(1);
    expect(expFast(1e-300)).toBe(1);
    expect(expFast(-1e-300)).toBe(1);
    expect(expFast(5e-17)).toBe(1); // e^u rounds to 1 for |u| < 2^-53
    expect(expFast(-Infinity)).toBe(0);
    expect(expFast(Infinity)).toBe(Infinity);
    expect(expFast(NaN)).toBeNaN();
    expect(expFast(710)).toBe(Infinity);
    for (const x of [-707.5, -708, -745, -746, -1000, 709.5]) expect(expFast(x)).toBe(Math.exp(x));
    // the ends of the fast range are still within 1 ulp (normal results, no overflow)
    expect(ulps(expFast(EXP_FAST_MIN), Math.exp(EXP_FAST_MIN))).toBeLessThanOrEqual(1);
    expect(ulps(expFast(EXP_FAST_MAX), Math.exp(EXP_FAST_MAX))).toBeLessThanOrEqual(1);
  });

  it('is monotone across the table boundaries (no step between neighbouring entries)', () => {
    const step = Math.LN2 / 128;
    for (let j = -300; j <= 300; j++) {
      const x = j * step;
      expect(expFast(x + 1e-12)).toBeGreaterThan(expFast(x - 1e-12));
      expect(expFast(x + 1e-12)).toBeGreaterThanOrEqual(expFast(x));
    }
  });
});

describe('logFast', () => {
  it('is within 1 ulp of Math.log on 2·10^6 seeded arguments, and exact in relative terms near 1', () => {
    const rng = createRng(11262026);
    let worst = 0;
    let differ = 0;
    const N = 2_000_000;
    for (let t = 0; t < N; t++) {
      const kind = t & 3;
      // the row sums of a softmax (1..k), every binade, just around 1, around each table point
      const x =
        kind === 0
          ? 1 + 7 * rng.uniform()
          : kind === 1
            ? Math.exp((rng.uniform() - 0.5) * 1410)
            : kind === 2
              ? 1 + (rng.uniform() - 0.5) * 2 ** (-52 * rng.uniform())
              : (1 + Math.floor(128 * rng.uniform()) / 128 + (rng.uniform() - 0.5) / 256) *
                2 ** Math.floor(20 * (rng.uniform() - 0.5));
      const u = ulps(logFast(x), Math.log(x));
      if (u > worst) worst = u;
      if (u > 0) differ++;
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(differ / N).toBeLessThan(0.25);
  });

  it('handles the special values as Math.log does', () => {
    expect(logFast(1)).toBe(0);
    expect(logCore(1)).toBe(0);
    expect(logFast(2)).toBe(Math.LN2);
    expect(logFast(1 + 2 ** -52)).toBe(Math.log(1 + 2 ** -52));
    expect(logFast(1 - 2 ** -53)).toBe(Math.log(1 - 2 ** -53));
    expect(logFast(0)).toBe(-Infinity);
    expect(logFast(-0)).toBe(-Infinity);
    expect(logFast(-1)).toBeNaN();
    expect(logFast(NaN)).toBeNaN();
    expect(logFast(Infinity)).toBe(Infinity);
    for (const x of [5e-324, 1e-310, Number.MAX_VALUE, 2 ** 1023]) expect(logFast(x)).toBe(Math.log(x));
    // the ends of the fast range
    for (const x of [2 ** -1022, 2 ** 1023 * (1 - 2 ** -53), 2 ** 1022 * (2 - 2 ** -9)]) {
      expect(ulps(logFast(x), Math.log(x))).toBeLessThanOrEqual(1);
    }
  });
});
