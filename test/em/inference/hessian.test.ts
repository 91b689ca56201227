/**
 * The observed log-likelihood's analytic gradient matches central differences of L, and its exact
 * Hessian matches central differences of the gradient, for every gate (k = 2, 3; d = 1, 2; log and
 * natural scales); the gradient vanishes at a converged EM fit.
 */
import { describe, expect, it } from 'vitest';
import { logLikDerivatives } from '../../../src/em/inference/hessian.js';
import { logLikObjective } from '../../../src/em/inference/objective.js';
import { packParams, paramLayout, unpackParams, type ParamLayout } from '../../../src/em/inference/params.js';
import { normalizeGate } from '../../../src/em/gates/layout.js';
import { fitMoE } from '../../../src/em/index.js';
import { logLikelihood } from '../../../src/models/density.js';
import { simulate } from '../../../src/models/sample.js';
import { truthPreset } from '../../../src/models/presets.js';
import { cloneModel, type GateSpec, type Model } from '../../../src/models/types.js';
import { createRng } from '../../../src/random/rng.js';

function randomModel(gate: GateSpec, k: number, d: number, seed: number): Model {
  const rng = createRng(seed);
  const r = (s: number) => Float64Array.from({ length: s }, () => rng.normal());
  return {
    gate,
    k,
    d,
    beta0: r(k),
    beta1: r(k * d),
    a: r(k * d),
    b: r(k),
    nu: Float64Array.from({ length: k }, () => 0.5 + rng.uniform()),
    tau: 0.7 + rng.uniform(),
  };
}

function randomData(n: number, d: number, seed: number) {
  const rng = createRng(seed);
  return {
    n,
    d,
    X: Float64Array.from({ length: n * d }, () => rng.normal()),
    y: Float64Array.from({ length: n }, () => 1.5 * rng.normal()),
  };
}

const GATES: Array<[string, GateSpec]> = [
  ['softmax', { kind: 'softmax' }],
  ['top-2 by slope', { kind: 'topk', K: 2, selectOn: 'slope' }],
  ['top-1 by logit', { kind: 'topk', K: 1, selectOn: 'logit' }],
  ['temperature', { kind: 'temperature' }],
  ['tanh outside', { kind: 'activation', activation: 'tanh', bias: 'outside' }],
  ['sigmoid outside', { kind: 'activation', activation: 'sigmoid', bias: 'outside' }],
  ['gelu outside', { kind: 'activation', activation: 'gelu', bias: 'outside' }],
  ['relu outside', { kind: 'activation', activation: 'relu', bias: 'outside' }],
  ['tanh inside', { kind: 'activation', activation: 'tanh', bias: 'inside' }],
  ['gelu inside', { kind: 'activation', activation: 'gelu', bias: 'inside' }],
];

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  return m;
}

function check(L: ParamLayout, m0: Model, data: ReturnType<typeof randomData>): void {
  const theta = packParams(L, m0);
  const at = (th: Float64Array) => unpackParams(L, th, cloneModel(m0));
  const D = logLikDerivatives(L, m0, data);
  expect(D.logLik).toBeCloseTo(logLikelihood(m0, data), 9);
  const P = L.P;
  const h = 1e-5;
  const fdG = new Float64Array(P);
  const fdH = new Float64Array(P * P);
  for (let t = 0; t < P; t++) {
    const up = Float64Array.from(theta);
    up[t] = up[t]! + h;
    const dn = Float64Array.from(theta);
    dn[t] = dn[t]! - h;
    fdG[t] = (logLikelihood(at(up), data) - logLikelihood(at(dn), data)) / (2 * h);
    const gu = logLikDerivatives(L, at(up), data, false).gradient;
    const gd = logLikDerivatives(L, at(dn), data, false).gradient;
    for (let s = 0; s < P; s++) fdH[s * P + t] = (gu[s]! - gd[s]!) / (2 * h);
  }
  const gScale = Math.max(1, maxAbs(D.gradient));
  for (let t = 0; t < P; t++)
    expect(Math.abs(D.gradient[t]! - fdG[t]!) / gScale, `gradient ${L.labels[t]}`).toBeLessThan(1e-6);
  const hScale = Math.max(1, maxAbs(D.hessian!));
  for (let s = 0; s < P; s++) {
    for (let t = 0; t < P; t++) {
      expect(
        Math.abs(D.hessian![s * P + t]! - fdH[s * P + t]!) / hScale,
        `Hessian ${L.labels[s]}, ${L.labels[t]}`,
      ).toBeLessThan(1e-6);
    }
  }
}

describe('logLikDerivatives against finite differences', () => {
  for (const [name, gate] of GATES) {
    for (const [k, d] of [
      [2, 1],
      [3, 1],
      [2, 2],
      [3, 2],
    ] as const) {
      for (const scale of ['log', 'natural'] as const) {
        if (scale === 'natural' && (k !== 3 || d !== 2)) continue;
        it(`${name}, k = ${k}, d = ${d}, ${scale} τ and ν`, () => {
          const m = randomModel(gate, k, d, 31 * k + d);
          const L = paramLayout(gate, k, d, { tauScale: scale, nuScale: scale });
          normalizeGate(L.gate, m);
          check(L, m, randomData(120, d, 5 + k + d));
        });
      }
    }
  }

  it('τ fixed: no τ entry, the same derivatives elsewhere', () => {
    const gate: GateSpec = { kind: 'activation', activation: 'tanh', bias: 'outside' };
    const m = randomModel(gate, 3, 1, 4);
    const Lf = paramLayout(gate, 3, 1, { tauMode: 'fixed' });
    const L = paramLayout(gate, 3, 1);
    normalizeGate(L.gate, m);
    expect(Lf.P).toBe(L.P - 1);
    expect(L.labels).toContain('log tau');
    expect(Lf.labels).not.toContain('log tau');
    const data = randomData(80, 1, 2);
    check(Lf, m, data);
  });

  it('pack and unpack are inverse; labels name every entry once', () => {
    const gate: GateSpec = { kind: 'temperature' };
    const m = randomModel(gate, 3, 2, 8);
    const L = paramLayout(gate, 3, 2);
    normalizeGate(L.gate, m);
    const back = unpackParams(L, packParams(L, m), cloneModel(m));
    expect(back).toEqual(m);
    expect(new Set(L.labels).size).toBe(L.P);
    expect(L.labels.slice(L.expertOffset, L.expertOffset + 4)).toEqual(['a[0][0]', 'a[0][1]', 'b[0]', 'log nu[0]']);
  });
});

describe('logLikObjective', () => {
  it('is L and its derivatives as functions of θ, the fixed entries from the base model', () => {
    const gate: GateSpec = { kind: 'activation', activation: 'tanh', bias: 'outside' };
    const m = randomModel(gate, 3, 2, 12);
    const L = paramLayout(gate, 3, 2);
    normalizeGate(L.gate, m);
    const data = randomData(60, 2, 4);
    const f = logLikObjective(L, m, data);
    const theta = packParams(L, m);
    theta[0] = theta[0]! + 0.3;
    const moved = f.model(theta);
    expect(moved.beta0[0]).toBeCloseTo(m.beta0[0]! + 0.3, 14);
    expect(moved.beta0[2]).toBe(0);
    expect(f.value(theta)).toBe(logLikelihood(moved, data));
    const D = f.derivatives(theta);
    expect(D.logLik).toBeCloseTo(f.value(theta), 9);
    expect(Array.from(D.hessian!)).toEqual(Array.from(logLikDerivatives(L, moved, data).hessian!));
  });
});

describe('at a converged fit', () => {
  // temp-tanh with τ free stops at n = 1500 with 4e-6 nats still to gain (EM crawls along τ): τ fixed here
  for (const [name, tauMode] of [
    ['demy', 'free'],
    ['temp-tanh', 'fixed'],
  ] as const) {
    it(`${name} (τ ${tauMode}): the gradient vanishes (Newton decrement < 1e-8 nats) and the Hessian is negative definite`, () => {
      const truth = truthPreset(name);
      const gate = truth.gate;
      const data = simulate(truth, { n: 1500, seed: 11 });
      const fit = fitMoE(data, {
        gate,
        k: 2,
        tauMode,
        init: { kind: 'model', model: truth },
        tol: 1e-14,
        absTol: 0,
        maxIter: 20000,
      });
      const L = paramLayout(gate, 2, 1, { tauMode });
      const D = logLikDerivatives(L, fit.model, data);
      const dec = newtonDecrement(D.gradient, D.hessian!, L.P);
      expect(dec).toBeGreaterThanOrEqual(0);
      expect(dec).toBeLessThan(1e-8);
      const far = logLikDerivatives(L, truth, data);
      expect(maxAbs(far.gradient)).toBeGreaterThan(1e3 * maxAbs(D.gradient)); // the check can fail: the truth is not the MLE
    });
  }
});

/** ½ gᵀ(−H)⁻¹g, and −1 when −H has a non-positive pivot (Cholesky). */
function newtonDecrement(g: Float64Array, H: Float64Array, P: number): number {
  const Lc = new Float64Array(P * P);
  for (let s = 0; s < P; s++) {
    for (let t = 0; t <= s; t++) {
      let v = -H[s * P + t]!;
      for (let q = 0; q < t; q++) v -= Lc[s * P + q]! * Lc[t * P + q]!;
      if (s === t) {
        if (v <= 0) return -1;
        Lc[s * P + s] = Math.sqrt(v);
      } else Lc[s * P + t] = v / Lc[t * P + t]!;
    }
  }
  let dec = 0;
  const w = new Float64Array(P);
  for (let s = 0; s < P; s++) {
    let v = g[s]!;
    for (let q = 0; q < s; q++) v -= Lc[s * P + q]! * w[q]!;
    w[s] = v / Lc[s * P + s]!;
    dec += w[s]! * w[s]!;
  }
  return 0.5 * dec;
}
