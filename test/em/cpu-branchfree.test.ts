/**
 * The branch-free parts of the CPU backend's unrolled d = 1 loops (k = 2, 3) against the plain
 * paths: the E-step's row shift (a+b+|a−b|)/2 instead of Math.max, Q summed over every term
 * instead of skipping r = 0, and the experts' moments adding rows with r = 0 instead of skipping
 * them. The plain path is the generic d = 1 E-step (exact maximum, a branch per term), reached
 * with one more expert whose gate probability is exactly 0 (log π = −∞), which leaves the
 * responsibilities, the log-likelihood and Q of the others unchanged.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/em/index.js';
import { expertMoments } from '../../src/em/backend/types.js';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';

const REL = 1e-12;

/** Experts far apart, with one very narrow expert (ν = 1e-10): many responsibilities are exactly 0 and log-densities reach −1e10. */
function setup(k: number, seed: number) {
  const rng = createRng(seed);
  const n = 4000;
  const m: Model = {
    gate: { kind: 'softmax' },
    k,
    d: 1,
    beta0: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : rng.normal())),
    beta1: Float64Array.from({ length: k }, (_, j) => (j === k - 1 ? 0 : 3 * rng.normal())),
    a: Float64Array.from({ length: k }, (_, j) => 20 * (j - 1) + rng.normal()),
    b: Float64Array.from({ length: k }, () => 5 * rng.normal()),
    nu: Float64Array.from({ length: k }, (_, j) => (j === 0 ? 1e-10 : 0.05 + 0.1 * rng.uniform())),
    tau: 1,
  };
  const X = Float64Array.from({ length: n }, () => 2 * rng.normal());
  const y = Float64Array.from({ length: n }, (_, i) => {
    const j = Math.floor(rng.uniform() * k);
    return m.b[j]! + m.a[j]! * X[i]! + Math.sqrt(m.nu[j]!) * rng.normal();
  });
  return { m, n, X, y };
}

/** The same model with one more expert whose gate probability is 0 (its log π column is −∞). */
function withDeadExpert(m: Model): Model {
  const k = m.k + 1;
  const ext = (v: Float64Array, x: number) => Float64Array.from({ length: k }, (_, j) => (j < m.k ? v[j]! : x));
  return { ...m, k, beta0: ext(m.beta0, 0), beta1: ext(m.beta1, 0), a: ext(m.a, 1), b: ext(m.b, 0), nu: ext(m.nu, 1) };
}

describe('CPU backend: branch-free row shift, Q and moments (d = 1)', () => {
  for (const [k, seed] of [
    [3, 1],
    [3, 2],
    [2, 3],
  ] as const) {
    it(`k = ${k}: the E-step agrees with the exact-maximum path to ${REL} relative`, () => {
      const { m, n, X, y } = setup(k, seed);
      const be = createCpuBackend();
      const logPi = new Float64Array(n * k),
        pi = new Float64Array(n * k),
        resp = new Float64Array(n * k);
      be.gateProbs(m, X, n, logPi, pi, null, 'none');
      const stats = { q: NaN };
      const ll = be.eStep(m, X, y, n, logPi, resp, stats);

      const m4 = withDeadExpert(m);
      const k4 = k + 1;
      const logPi4 = new Float64Array(n * k4),
        resp4 = new Float64Array(n * k4);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < k; j++) logPi4[i * k4 + j] = logPi[i * k + j]!;
        logPi4[i * k4 + k] = -Infinity;
      }
      const stats4 = { q: NaN };
      const ll4 = be.eStep(m4, X, y, n, logPi4, resp4, stats4);

      let zeros = 0;
      for (let i = 0; i < n; i++) {
        expect(resp4[i * k4 + k]).toBe(0);
        for (let j = 0; j < k; j++) {
          const r = resp[i * k + j]!,
            r4 = resp4[i * k4 + j]!;
          if (r4 === 0) zeros++;
          // e^u with u < −708 is 0 in both; the shifts differ by rounding only
          if (r4 < 1e-290) expect(r === 0 || r < 1e-290).toBe(true);
          else expect(Math.abs(r - r4)).toBeLessThanOrEqual(REL * r4);
        }
      }
      expect(zeros).toBeGreaterThan(n / 10); // the data do exercise exact zeros
      expect(Math.abs(ll - ll4)).toBeLessThanOrEqual(REL * Math.abs(ll4));
      expect(Math.abs(stats.q - stats4.q)).toBeLessThanOrEqual(REL * Math.abs(stats4.q));
    });

    it(`k = ${k}: Q of the gate pass is Σ r log π over r ≠ 0, bit for bit, and the moments ignore r = 0 rows`, () => {
      const { m, n, X, y } = setup(k, seed);
      const be = createCpuBackend();
      const logPi = new Float64Array(n * k),
        pi = new Float64Array(n * k),
        resp = new Float64Array(n * k);
      be.gateProbs(m, X, n, logPi, pi, null, 'none');
      be.eStep(m, X, y, n, logPi, resp);
      const q = be.gateProbs(m, X, n, logPi, pi, null, 'none', resp);
      let qRef = 0;
      for (let t = 0; t < n * k; t++) if (resp[t] !== 0) qRef += resp[t]! * logPi[t]!;
      expect(q).toBe(qRef);

      // moments: previous means NaN (never produced by a fit, but must not leak into 0·NaN) give the fresh result
      const fresh = expertMoments(k, 1);
      be.expertMoments(X, y, n, 1, k, resp, fresh);
      const poisoned = expertMoments(k, 1);
      poisoned.xbar.fill(NaN);
      poisoned.ybar.fill(NaN);
      poisoned.shifted = true;
      be.expertMoments(X, y, n, 1, k, resp, poisoned);
      for (const key of ['N', 'xbar', 'ybar', 'Sxx', 'Sxy', 'Syy'] as const)
        expect(Array.from(poisoned[key])).toEqual(Array.from(fresh[key]));

      // the shifted one-pass sums against two-pass sums over the rows with r ≠ 0 only
      fresh.xbar[0] = fresh.xbar[0]! + 0.01;
      be.expertMoments(X, y, n, 1, k, resp, fresh);
      for (let j = 0; j < k; j++) {
        let N = 0,
          sx = 0,
          sy = 0;
        for (let i = 0; i < n; i++) {
          const r = resp[i * k + j]!;
          if (r === 0) continue;
          N += r;
          sx += r * X[i]!;
          sy += r * y[i]!;
        }
        const xb = sx / N,
          yb = sy / N;
        let sxx = 0,
          sxy = 0,
          syy = 0;
        for (let i = 0; i < n; i++) {
          const r = resp[i * k + j]!;
          if (r === 0) continue;
          const dx = X[i]! - xb,
            dy = y[i]! - yb;
          sxx += r * dx * dx;
          sxy += r * dx * dy;
          syy += r * dy * dy;
        }
        expect(Math.abs(fresh.N[j]! - N)).toBeLessThanOrEqual(REL * N);
        expect(Math.abs(fresh.xbar[j]! - xb)).toBeLessThanOrEqual(REL * (Math.abs(xb) + Math.sqrt(sxx / N)));
        expect(Math.abs(fresh.ybar[j]! - yb)).toBeLessThanOrEqual(REL * (Math.abs(yb) + Math.sqrt(syy / N)));
        expect(Math.abs(fresh.Sxx[j]! - sxx)).toBeLessThanOrEqual(REL * sxx);
        expect(Math.abs(fresh.Syy[j]! - syy)).toBeLessThanOrEqual(REL * syy);
        expect(Math.abs(fresh.Sxy[j]! - sxy)).toBeLessThanOrEqual(REL * Math.sqrt(sxx * syy));
      }
    });
  }

  it('a row whose log-densities differ by more than 2^53 (−1e20 beside −1000) takes the exact maximum', () => {
    // expert 0 very narrow and far, expert 1 wide: in a + b the −1000 is absorbed by −1e20, and the
    // branch-free shift would be 0, losing the only term that is not negligible (e^-1000 → 0)
    const m: Model = {
      gate: { kind: 'softmax' },
      k: 3,
      d: 1,
      beta0: new Float64Array(3),
      beta1: new Float64Array(3),
      a: new Float64Array(3),
      b: Float64Array.from([0, 135500, -3]),
      nu: Float64Array.from([1e-10, 1e4, 0.1]),
      tau: 1,
    };
    const n = 4;
    const X = new Float64Array(n),
      y = Float64Array.from([140000, 140000, 135500, -3]);
    const be = createCpuBackend();
    const logPi = new Float64Array(n * 3).fill(Math.log(1 / 3)),
      resp = new Float64Array(n * 3);
    const ll = be.eStep(m, X, y, n, logPi, resp);
    const m4 = withDeadExpert(m);
    const logPi4 = new Float64Array(n * 4),
      resp4 = new Float64Array(n * 4);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 3; j++) logPi4[i * 4 + j] = logPi[i * 3 + j]!;
      logPi4[i * 4 + 3] = -Infinity;
    }
    const ll4 = be.eStep(m4, X, y, n, logPi4, resp4);
    expect(resp[1]).toBe(1); // expert 1 owns the far rows
    expect(Number.isFinite(ll)).toBe(true);
    expect(Math.abs(ll - ll4)).toBeLessThanOrEqual(REL * Math.abs(ll4));
    for (let i = 0; i < n; i++)
      for (let j = 0; j < 3; j++)
        expect(Math.abs(resp[i * 3 + j]! - resp4[i * 4 + j]!)).toBeLessThanOrEqual(REL * resp4[i * 4 + j]!);
  });

  it('a row with an expert of gate probability 0 takes the exact path: that expert gets r = 0, Q and the log-likelihood stay finite', () => {
    const { m, n, X, y } = setup(3, 4);
    const be = createCpuBackend();
    const logPi = new Float64Array(n * 3),
      pi = new Float64Array(n * 3),
      resp = new Float64Array(n * 3);
    be.gateProbs(m, X, n, logPi, pi, null, 'none');
    for (let i = 0; i < n; i += 7) logPi[i * 3 + 1] = -Infinity; // as a top-K mask would
    const stats = { q: NaN };
    const ll = be.eStep(m, X, y, n, logPi, resp, stats);
    expect(Number.isFinite(ll)).toBe(true);
    expect(Number.isFinite(stats.q)).toBe(true);
    for (let i = 0; i < n; i += 7) {
      expect(resp[i * 3 + 1]).toBe(0);
      expect(Math.abs(resp[i * 3]! + resp[i * 3 + 2]! - 1)).toBeLessThanOrEqual(4e-16);
    }
  });
});
