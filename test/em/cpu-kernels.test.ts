/**
 * The CPU backend's specialised loops (d = 1, the unrolled k = 3 ones, the direct-exponential gate
 * rows, the E-step's one-log-per-256-rows likelihood, src/math's exp/log) against a plain
 * reference written here with Math.exp/Math.log and a row-maximum log-sum-exp, entry by entry.
 * Tolerances are rounding bounds: a few ulps per entry (|error| ≤ c·u·scale, u = 2^-53), and for
 * sums over n rows n·u times the sum of the terms' magnitudes.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend, gateLayout } from '../../src/em/index.js';
import { expertMoments } from '../../src/em/backend/types.js';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';

const U = 2 ** -53;
const E = new Float64Array(0);

function model(k: number, d: number, seed: number, slope = 3): Model {
  const rng = createRng(seed);
  const r = (len: number, s: number) => Float64Array.from({ length: len }, () => s * rng.normal());
  const beta0 = r(k, 1);
  beta0[k - 1] = 0;
  const beta1 = r(k * d, slope);
  beta1.fill(0, (k - 1) * d);
  return {
    gate: { kind: 'softmax' },
    k,
    d,
    beta0,
    beta1,
    a: r(k * d, 3),
    b: r(k, 2),
    nu: Float64Array.from({ length: k }, () => 0.05 + 0.2 * rng.uniform()),
    tau: 1,
  };
}

function data(n: number, d: number, m: Model, seed: number): { X: Float64Array; y: Float64Array } {
  const rng = createRng(seed);
  const X = Float64Array.from({ length: n * d }, () => 2 * rng.normal());
  // responses from a random expert, so that every expert owns some rows and others are far
  const y = Float64Array.from({ length: n }, (_, i) => {
    const j = Math.floor(rng.uniform() * m.k);
    let mu = m.b[j]!;
    for (let l = 0; l < d; l++) mu += m.a[j * d + l]! * X[i * d + l]!;
    return mu + Math.sqrt(m.nu[j]!) * rng.normal();
  });
  return { X, y };
}

/** Reference gate log-probabilities and probabilities (row maximum subtracted, Math.exp/log). */
function refGate(m: Model, X: Float64Array, n: number): { logPi: Float64Array; pi: Float64Array; A: Float64Array } {
  const { k, d } = m;
  const logPi = new Float64Array(n * k),
    pi = new Float64Array(n * k);
  // A_i = max_j |v_ij|: the scale of the roundings in v − max and v − lse
  const A = new Float64Array(n);
  const v = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      let s = m.beta0[j]!;
      for (let l = 0; l < d; l++) s += m.beta1[j * d + l]! * X[i * d + l]!;
      v[j] = s;
      mx = Math.max(mx, s);
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(v[j]! - mx);
    for (let j = 0; j < k; j++) {
      logPi[i * k + j] = v[j]! - mx - Math.log(s);
      pi[i * k + j] = Math.exp(v[j]! - mx) / s;
      A[i] = Math.max(A[i]!, Math.abs(v[j]!));
    }
  }
  return { logPi, pi, A };
}

/** Reference E-step from given log π: responsibilities, total log-likelihood and Σ|terms|. */
function refEStep(m: Model, X: Float64Array, y: Float64Array, n: number, logPi: Float64Array) {
  const { k, d } = m;
  const resp = new Float64Array(n * k),
    v = new Float64Array(k);
  // A_i: the largest magnitude among the terms of the row's log-densities (the rounding scale)
  const A = new Float64Array(n);
  let ll = 0,
    llAbs = 0,
    q = 0,
    qAbs = 0;
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      let mu = m.b[j]!;
      for (let l = 0; l < d; l++) mu += m.a[j * d + l]! * X[i * d + l]!;
      const r = y[i]! - mu;
      const c = -0.5 * (Math.log(2 * Math.PI) + Math.log(m.nu[j]!)),
        h = (0.5 / m.nu[j]!) * r * r;
      v[j] = logPi[i * k + j]! + c - h;
      mx = Math.max(mx, v[j]!);
      A[i] = Math.max(A[i]!, Math.abs(logPi[i * k + j]!) + Math.abs(c) + h);
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(v[j]! - mx);
    const lse = mx + Math.log(s);
    ll += lse;
    llAbs += Math.abs(lse);
    for (let j = 0; j < k; j++) {
      const r = Math.exp(v[j]! - mx) / s;
      resp[i * k + j] = r;
      q += r * logPi[i * k + j]!;
      qAbs += Math.abs(r * logPi[i * k + j]!);
    }
  }
  return { resp, A, ll, llAbs, q, qAbs };
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let t = 0; t < a.length; t++) m = Math.max(m, Math.abs(a[t]! - b[t]!));
  return m;
}

describe('CPU backend loops against a plain reference', () => {
  const cases: [number, number, number][] = [
    [3, 1, 1],
    [3, 1, 2],
    [2, 1, 3],
    [4, 1, 4],
    [3, 2, 5],
  ];
  for (const [k, d, seed] of cases) {
    it(`k = ${k}, d = ${d}: gate, E-step, moments, gradient and curvature agree to rounding`, () => {
      const n = 3000;
      // slope 3 on x ~ N(0, 4) keeps logits moderate; seed 2 uses slopes of ~400 so that many rows
      // (|logit| > 350) take the shifted path and some probabilities underflow to exactly 0
      const m = model(k, d, seed, seed === 2 ? 400 : 3);
      const { X, y } = data(n, d, m, seed + 10);
      const be = createCpuBackend();
      const logPi = new Float64Array(n * k),
        pi = new Float64Array(n * k),
        resp = new Float64Array(n * k);
      be.gateProbs(m, X, n, logPi, pi, null, 'none');
      const ref = refGate(m, X, n);
      // log π = v − lse: a few roundings at the scale of the logits
      let scale = 1;
      for (let t = 0; t < n * k; t++) scale = Math.max(scale, Math.abs(ref.logPi[t]!));
      expect(maxAbsDiff(logPi, ref.logPi)).toBeLessThanOrEqual(8 * U * scale);
      for (let t = 0; t < n * k; t++) {
        const r = ref.pi[t]!;
        const bound = 16 * U * r * (1 + 2 * ref.A[Math.floor(t / k)]!);
        // e^u below e^-708 is 0, not subnormal; above it, relative accuracy
        if (r < 1e-300) expect(pi[t] === 0 || pi[t]! >= 3e-308 / k).toBe(true);
        else expect(Math.abs(pi[t]! - r)).toBeLessThanOrEqual(bound);
      }
      if (seed === 2) expect(pi.some((p) => p === 0)).toBe(true);

      const stats = { q: NaN };
      const ll = be.eStep(m, X, y, n, logPi, resp, stats);
      const re = refEStep(m, X, y, n, logPi);
      for (let t = 0; t < n * k; t++) {
        const r = re.resp[t]!;
        if (r < 1e-300) expect(resp[t] === 0 || resp[t]! >= 3e-308 / k).toBe(true);
        else expect(Math.abs(resp[t]! - r)).toBeLessThanOrEqual(16 * U * r * (1 + 2 * re.A[Math.floor(t / k)]!));
      }
      expect(Math.abs(ll - re.ll)).toBeLessThanOrEqual(n * U * re.llAbs + 1e-9);
      expect(Math.abs(stats.q - re.q)).toBeLessThanOrEqual(n * U * re.qAbs + 1e-9);
      // a term below e^-708 of the row's largest is exactly 0 (e^-708/k is the smallest nonzero value)
      for (const r of resp) expect(r === 0 || r >= 3e-308 / k).toBe(true);

      // Q from the gate pass at the same gate equals Σ r log π
      const qg = be.gateProbs(m, X, n, logPi, pi, null, 'none', resp);
      expect(Math.abs(qg - stats.q)).toBeLessThanOrEqual(n * U * re.qAbs + 1e-9);

      // moments around the previous means (shifted one-pass) against two-pass sums
      const mom = expertMoments(k, d);
      be.expertMoments(X, y, n, d, k, resp, mom); // first call: no shifts
      mom.xbar[0] = mom.xbar[0]! + 0.01; // previous means near, not at, the new ones
      be.expertMoments(X, y, n, d, k, resp, mom);
      for (let j = 0; j < k; j++) {
        let N = 0,
          sx = 0,
          sy = 0;
        for (let i = 0; i < n; i++) {
          const r = resp[i * k + j]!;
          N += r;
          sx += r * X[i * d]!;
          sy += r * y[i]!;
        }
        const xb = sx / N,
          yb = sy / N;
        let sxx = 0,
          sxy = 0,
          syy = 0,
          mag = 0;
        for (let i = 0; i < n; i++) {
          const r = resp[i * k + j]!,
            dx = X[i * d]! - xb,
            dy = y[i]! - yb;
          sxx += r * dx * dx;
          sxy += r * dx * dy;
          syy += r * dy * dy;
          mag += r * (dx * dx + dy * dy + Math.abs(dx * dy));
        }
        expect(Math.abs(mom.N[j]! - N)).toBeLessThanOrEqual(n * U * N);
        expect(Math.abs(mom.Sxx[j * d * d]! - sxx)).toBeLessThanOrEqual(4 * n * U * mag);
        expect(Math.abs(mom.Sxy[j * d]! - sxy)).toBeLessThanOrEqual(4 * n * U * mag);
        expect(Math.abs(mom.Syy[j]! - syy)).toBeLessThanOrEqual(4 * n * U * mag);
      }

      // gradient and curvature of Q (softmax: Σ_i (r_ij − R_i π_ij) z_i and Σ_i R_i π_ij(δ_jl − π_il) z_i z_iᵀ)
      const L = gateLayout({ kind: 'softmax' }, k, d, 'free');
      const grad = new Float64Array(L.p),
        curv = new Float64Array(L.p * L.p);
      be.gateGradCurv(L, X, n, resp, pi, E, E, E, 1, grad, curv);
      const g = new Float64Array(L.p),
        C = new Float64Array(L.p * L.p),
        z = new Float64Array(d + 1);
      let gmag = 0;
      for (let i = 0; i < n; i++) {
        let R = 0;
        for (let j = 0; j < k; j++) R += resp[i * k + j]!;
        z[0] = 1;
        for (let l = 0; l < d; l++) z[l + 1] = X[i * d + l]!;
        for (let j = 0; j < k - 1; j++) {
          const G = resp[i * k + j]! - R * pi[i * k + j]!;
          for (let a = 0; a <= d; a++) g[j * (d + 1) + a] = g[j * (d + 1) + a]! + G * z[a]!;
          for (let l = 0; l < k - 1; l++) {
            const c = R * pi[i * k + j]! * ((j === l ? 1 : 0) - pi[i * k + l]!);
            for (let a = 0; a <= d; a++)
              for (let b = 0; b <= d; b++) {
                const t = (j * (d + 1) + a) * L.p + l * (d + 1) + b;
                C[t] = C[t]! + c * z[a]! * z[b]!;
              }
          }
        }
        for (let a = 0; a <= d; a++) gmag += (1 + Math.abs(z[a]!)) ** 2;
      }
      expect(maxAbsDiff(grad, g)).toBeLessThanOrEqual(4 * n * U * gmag);
      expect(maxAbsDiff(curv, C)).toBeLessThanOrEqual(4 * n * U * gmag);
    });
  }

  it('propagates NaN and reports a sample with no finite density as −Infinity', () => {
    const n = 600;
    const m = model(3, 1, 7);
    const { X, y } = data(n, 1, m, 8);
    const be = createCpuBackend();
    const logPi = new Float64Array(n * 3),
      pi = new Float64Array(n * 3),
      resp = new Float64Array(n * 3);
    be.gateProbs(m, X, n, logPi, pi, null, 'none');
    const yBad = Float64Array.from(y);
    yBad[417] = 1e200; // (y − μ)² overflows: density 0 under every expert
    expect(be.eStep(m, X, yBad, n, logPi, resp)).toBe(-Infinity);
    expect(Number.isNaN(resp[417 * 3])).toBe(true);
    expect(Number.isFinite(resp[416 * 3]!)).toBe(true);
    const mNaN: Model = { ...m, beta0: Float64Array.from(m.beta0) };
    mNaN.beta0[1] = NaN;
    expect(be.gateProbs(mNaN, X, n, logPi, pi, null, 'none', resp)).toBeNaN();
    expect(logPi.every((v) => Number.isNaN(v))).toBe(true);
    be.gateProbs(m, X, n, logPi, pi, null, 'none');
    const aNaN: Model = { ...m, a: Float64Array.from(m.a) };
    aNaN.a[2] = NaN;
    expect(be.eStep(aNaN, X, y, n, logPi, resp)).toBeNaN();
  });

  it('is deterministic: the same inputs give the same bits', () => {
    const n = 2000;
    const m = model(3, 1, 9);
    const { X, y } = data(n, 1, m, 10);
    const run = () => {
      const be = createCpuBackend();
      const logPi = new Float64Array(n * 3),
        pi = new Float64Array(n * 3),
        resp = new Float64Array(n * 3);
      be.gateProbs(m, X, n, logPi, pi, null, 'none');
      const ll = be.eStep(m, X, y, n, logPi, resp);
      return { ll, logPi, resp };
    };
    const a = run(),
      b = run();
    expect(a.ll).toBe(b.ll);
    expect(Buffer.from(a.logPi.buffer).equals(Buffer.from(b.logPi.buffer))).toBe(true);
    expect(Buffer.from(a.resp.buffer).equals(Buffer.from(b.resp.buffer))).toBe(true);
  });
});
