/**
 * The top-K kernels of cpu/topk-gate.ts (d = 1, k = 3) against a plain reference written here:
 * the models' topKMask for the active set (bit-identical masks, ties included) and a masked
 * log-sum-exp with Math.exp / Math.log for log π, π, Q and the observed log-likelihood.
 * Tolerances are rounding bounds: a few ulps of the row's largest logit per entry, n·u times the
 * sum of the terms' magnitudes for sums over rows.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/em/index.js';
import { topKMask } from '../../src/models/gates/index.js';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';

const U = 2 ** -53;

function topkModel(K: number, selectOn: 'logit' | 'slope', seed: number, tie: boolean): Model {
  const rng = createRng(seed);
  const beta0 = Float64Array.from({ length: 3 }, () => rng.normal());
  const beta1 = Float64Array.from({ length: 3 }, () => 3 * rng.normal());
  beta0[2] = 0;
  beta1[2] = 0;
  // experts 0 and 1 with the same gate: every row ties between them (lower index wins)
  if (tie) {
    beta0[1] = beta0[0]!;
    beta1[1] = beta1[0]!;
  }
  return {
    gate: { kind: 'topk', K, selectOn },
    k: 3,
    d: 1,
    beta0,
    beta1,
    a: Float64Array.from({ length: 3 }, () => 3 * rng.normal()),
    b: Float64Array.from({ length: 3 }, () => 2 * rng.normal()),
    nu: Float64Array.from({ length: 3 }, () => 0.05 + 0.2 * rng.uniform()),
    tau: 1,
  };
}

function sample(m: Model, n: number, seed: number) {
  const rng = createRng(seed);
  const X = Float64Array.from({ length: n }, () => 2 * rng.normal());
  // a few rows at x = 0 (slope scores all 0: a three-way tie)
  for (let i = 0; i < n; i += 97) X[i] = 0;
  const y = Float64Array.from({ length: n }, (_, i) => {
    const j = Math.floor(3 * rng.uniform());
    return m.b[j]! + m.a[j]! * X[i]! + Math.sqrt(m.nu[j]!) * rng.normal();
  });
  const resp = new Float64Array(3 * n);
  for (let t = 0; t < resp.length; t++) resp[t] = rng.uniform();
  return { X, y, resp };
}

/** Reference: scores → topKMask → masked softmax with Math.exp/log; Q over resp (active entries). */
function reference(m: Model, X: Float64Array, n: number, resp: Float64Array, fixedMask?: Uint8Array) {
  const sc = new Float64Array(3 * n);
  const mask = new Uint8Array(3 * n);
  const logPi = new Float64Array(3 * n),
    pi = new Float64Array(3 * n),
    scale = new Float64Array(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < 3; j++)
      sc[3 * i + j] =
        m.gate.kind === 'topk' && m.gate.selectOn === 'slope' ? m.beta1[j]! * X[i]! : m.beta0[j]! + m.beta1[j]! * X[i]!;
  if (fixedMask) mask.set(fixedMask);
  else topKMask(sc, n, 3, m.gate.kind === 'topk' ? m.gate.K : 3, mask);
  let q = 0,
    qAbs = 0;
  for (let i = 0; i < n; i++) {
    const v = [0, 1, 2].map((j) => m.beta0[j]! + m.beta1[j]! * X[i]!);
    let mx = -Infinity;
    for (let j = 0; j < 3; j++) if (mask[3 * i + j]) mx = Math.max(mx, v[j]!);
    let s = 0;
    for (let j = 0; j < 3; j++) if (mask[3 * i + j]) s += Math.exp(v[j]! - mx);
    for (let j = 0; j < 3; j++) {
      const o = 3 * i + j;
      scale[i] = Math.max(scale[i]!, Math.abs(v[j]!), 1);
      logPi[o] = mask[o] ? v[j]! - mx - Math.log(s) : -Infinity;
      pi[o] = mask[o] ? Math.exp(v[j]! - mx) / s : 0;
      if (mask[o]) {
        q += resp[o]! * logPi[o]!;
        qAbs += Math.abs(resp[o]! * logPi[o]!) + resp[o]! * scale[i]!;
      }
    }
  }
  return { mask, logPi, pi, scale, q, qAbs };
}

function refLogLik(m: Model, X: Float64Array, y: Float64Array, n: number, logPi: Float64Array) {
  let total = 0,
    abs = 0;
  for (let i = 0; i < n; i++) {
    const v = [0, 1, 2].map((j) => {
      const r = y[i]! - (m.b[j]! + m.a[j]! * X[i]!);
      return logPi[3 * i + j]! - 0.5 * Math.log(2 * Math.PI * m.nu[j]!) - (r * r) / (2 * m.nu[j]!);
    });
    const mx = Math.max(...v);
    const t = mx + Math.log(v.reduce((s, u) => s + Math.exp(u - mx), 0));
    total += t;
    abs += Math.abs(t) + v.reduce((s, u) => s + (u > -Infinity ? Math.abs(u) : 0), 0);
  }
  return { total, abs };
}

const cases: [string, number, 'logit' | 'slope', boolean][] = [
  ['top-2 on the logit', 2, 'logit', false],
  ['top-2 on the logit, tied experts', 2, 'logit', true],
  ['top-2 on the slope', 2, 'slope', false],
  ['top-1 on the logit', 1, 'logit', false],
  ['top-1 on the slope, tied experts', 1, 'slope', true],
  ['top-3 (all active)', 3, 'logit', false],
];

describe('top-K kernels (d = 1, k = 3) against the reference', () => {
  const n = 1500;
  it.each(cases)(
    '%s: mask bit-identical, log π / π / Q / log-likelihood within rounding',
    (_name, K, selectOn, tie) => {
      const be = createCpuBackend();
      for (const seed of [1, 2]) {
        const m = topkModel(K, selectOn, 10 * seed + K, tie);
        const { X, y, resp } = sample(m, n, seed);
        const ref = reference(m, X, n, resp);
        const logPi = new Float64Array(3 * n),
          pi = new Float64Array(3 * n),
          mask = new Uint8Array(3 * n).fill(7);
        const q = be.gateProbs(m, X, n, logPi, pi, mask, 'compute', resp);
        expect(Array.from(mask)).toEqual(Array.from(ref.mask));
        let inactive = 0;
        for (let t = 0; t < 3 * n; t++) {
          const i = Math.floor(t / 3);
          if (!ref.mask[t]) {
            inactive++;
            expect(logPi[t]).toBe(-Infinity);
            expect(pi[t]).toBe(0);
            continue;
          }
          expect(Math.abs(logPi[t]! - ref.logPi[t]!)).toBeLessThanOrEqual(8 * U * ref.scale[i]!);
          expect(Math.abs(pi[t]! - ref.pi[t]!)).toBeLessThanOrEqual(8 * U * ref.scale[i]! * Math.max(pi[t]!, U));
        }
        expect(inactive).toBe((3 - K) * n);
        // Q = Σ r log π: resp puts mass on inactive experts too, so compute with resp masked
        const rm = Float64Array.from(resp, (r, t) => (ref.mask[t] ? r : 0));
        const refM = reference(m, X, n, rm);
        const q2 = be.gateProbs(m, X, n, logPi, pi, mask, 'compute', rm);
        expect(Math.abs(q2 - refM.q)).toBeLessThanOrEqual(4 * n * U * refM.qAbs);
        if (K < 3) expect(q).toBe(-Infinity); // resp > 0 on an inactive expert
        // the same through 'fixed' with the computed mask: the same bits
        const logPiF = new Float64Array(3 * n),
          piF = new Float64Array(3 * n);
        be.gateProbs(m, X, n, logPiF, piF, mask, 'fixed');
        expect(Array.from(logPiF)).toEqual(Array.from(logPi));
        expect(Array.from(piF)).toEqual(Array.from(pi));
        // observed log-likelihood
        const ll = be.logLik(m, X, y, n, logPi);
        const rl = refLogLik(m, X, y, n, logPi);
        expect(Math.abs(ll - rl.total)).toBeLessThanOrEqual(8 * n * U * rl.abs);
        expect(Math.abs(ll - rl.total)).toBeLessThanOrEqual(1e-12 * Math.abs(rl.total));
      }
    },
  );

  it("'fixed' normalises over a given mask that is not the model's own ranking", () => {
    const be = createCpuBackend();
    const m = topkModel(2, 'logit', 5, false);
    const { X, resp } = sample(m, n, 5);
    const rng = createRng(9);
    const given = new Uint8Array(3 * n);
    // one random expert off per row
    for (let i = 0; i < n; i++) {
      const off = Math.floor(3 * rng.uniform());
      for (let j = 0; j < 3; j++) given[3 * i + j] = j === off ? 0 : 1;
    }
    const rm = Float64Array.from(resp, (r, t) => (given[t] ? r : 0));
    const ref = reference(m, X, n, rm, given);
    const logPi = new Float64Array(3 * n),
      pi = new Float64Array(3 * n),
      mask = Uint8Array.from(given);
    const q = be.gateProbs(m, X, n, logPi, pi, mask, 'fixed', rm);
    expect(Array.from(mask)).toEqual(Array.from(given));
    for (let t = 0; t < 3 * n; t++) {
      if (!given[t]) {
        expect(logPi[t]).toBe(-Infinity);
        continue;
      }
      expect(Math.abs(logPi[t]! - ref.logPi[t]!)).toBeLessThanOrEqual(8 * U * ref.scale[Math.floor(t / 3)]!);
    }
    expect(Math.abs(q - ref.q)).toBeLessThanOrEqual(4 * n * U * ref.qAbs);
  });

  it('log-likelihood: a sample with zero density under every active expert gives −Infinity, NaN stays NaN', () => {
    const be = createCpuBackend();
    const m = topkModel(2, 'logit', 3, false);
    const { X, y } = sample(m, 300, 3);
    const logPi = new Float64Array(900),
      pi = new Float64Array(900),
      mask = new Uint8Array(900);
    be.gateProbs(m, X, 300, logPi, pi, mask, 'compute');
    const y2 = Float64Array.from(y);
    y2[7] = 1e200;
    expect(be.logLik(m, X, y2, 300, logPi)).toBe(-Infinity);
    y2[7] = NaN;
    expect(be.logLik(m, X, y2, 300, logPi)).toBeNaN();
  });
});
