/**
 * parameterCount equals the rank of the Jacobian of the per-sample log-likelihood over all raw
 * parameters (what the likelihood can identify), and the criteria follow flexmix's formulas
 * (values printed by flexmix 2.3-18 on NregFix).
 */
import { describe, expect, it } from 'vitest';
import { SingularValueDecomposition, Matrix } from 'ml-matrix';
import { parameterCount, informationCriteria, modelCriteria } from '../../../src/em/inference/criteria.js';
import { gateLayout } from '../../../src/em/gates/layout.js';
import { pointwiseLogLikelihood, responsibilities } from '../../../src/models/density.js';
import { hasTau, cloneModel, type GateSpec, type Model } from '../../../src/models/types.js';
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

/** The raw parameter arrays of a model, with τ last when `withTau`. */
function rawRefs(m: Model, withTau: boolean): Array<[Float64Array | null, number]> {
  const out: Array<[Float64Array | null, number]> = [];
  for (const v of [m.beta0, m.beta1, m.a, m.b, m.nu]) for (let t = 0; t < v.length; t++) out.push([v, t]);
  if (withTau) out.push([null, 0]);
  return out;
}

/** Numerical rank of the n × P Jacobian of log p(y_i | x_i) by central differences. */
function jacobianRank(m0: Model, tauFree: boolean, n: number, seed: number): number {
  const rng = createRng(seed);
  const d = m0.d;
  const X = Float64Array.from({ length: n * d }, () => rng.normal());
  const y = Float64Array.from({ length: n }, () => 2 * rng.normal());
  const data = { n, d, X, y };
  const refs = rawRefs(m0, hasTau(m0.gate) && tauFree);
  const J = new Matrix(n, refs.length);
  const h = 1e-5;
  refs.forEach(([arr, t], c) => {
    const eval_ = (delta: number) => {
      const m = cloneModel(m0);
      if (arr === null) m.tau += delta;
      else {
        const key = (['beta0', 'beta1', 'a', 'b', 'nu'] as const).find((f) => m0[f] === arr)!;
        m[key][t] = m[key][t]! + delta;
      }
      return pointwiseLogLikelihood(m, data);
    };
    const up = eval_(h);
    const dn = eval_(-h);
    for (let i = 0; i < n; i++) J.set(i, c, (up[i]! - dn[i]!) / (2 * h));
  });
  const s = new SingularValueDecomposition(J, { computeLeftSingularVectors: false, computeRightSingularVectors: false })
    .diagonal;
  return s.filter((v) => v > 1e-6 * s[0]!).length;
}

describe('parameterCount', () => {
  const gates: Array<[string, GateSpec]> = [
    ['softmax', { kind: 'softmax' }],
    ['temperature', { kind: 'temperature' }],
    ['tanh outside', { kind: 'activation', activation: 'tanh', bias: 'outside' }],
    ['sigmoid outside', { kind: 'activation', activation: 'sigmoid', bias: 'outside' }],
    ['gelu outside', { kind: 'activation', activation: 'gelu', bias: 'outside' }],
    ['relu outside', { kind: 'activation', activation: 'relu', bias: 'outside' }],
    ['identity inside', { kind: 'activation', activation: 'identity', bias: 'inside' }],
    ['tanh inside', { kind: 'activation', activation: 'tanh', bias: 'inside' }],
    ['relu inside', { kind: 'activation', activation: 'relu', bias: 'inside' }],
    ['top-2 of 3', { kind: 'topk', K: 2, selectOn: 'slope' }],
  ];
  for (const [name, gate] of gates) {
    for (const tauMode of ['free', 'fixed'] as const) {
      if (!hasTau(gate) && tauMode === 'fixed') continue;
      for (const [k, d] of [
        [1, 1],
        [2, 1],
        [3, 2],
      ] as const) {
        if (gate.kind === 'topk' && k < 3) continue;
        // relu(β1 x) with d = 1 is β1·relu(±x): experts whose slopes share a sign share one feature, a rank loss of the draw
        if (gate.kind === 'activation' && gate.activation === 'relu' && d === 1) continue;
        it(`${name}, τ ${tauMode}, k = ${k}, d = ${d}: the Jacobian's rank`, () => {
          const m = randomModel(gate, k, d, 7 * k + d);
          expect(parameterCount(gate, k, d, tauMode).total).toBe(jacobianRank(m, tauMode === 'free', 150, 3));
        });
      }
    }
  }

  it('free counts what the fit optimises: the gate layout plus the experts (τ of the identity gate included)', () => {
    for (const [, gate] of gates)
      for (const tauMode of ['free', 'fixed'] as const)
        for (const [k, d] of [
          [1, 1],
          [2, 1],
          [3, 2],
        ] as const) {
          const c = parameterCount(gate, k, d, tauMode);
          expect(c.free.gate).toBe(gateLayout(gate, k, d, tauMode).p);
          expect(c.free.total).toBe(c.free.gate + k * (d + 2));
        }
    // the temperature gate's flat (β1, τ) direction: optimised, not identified
    const t = parameterCount({ kind: 'temperature' }, 2, 1, 'free');
    expect(t.free.gate).toBe(3);
    expect(t.gate).toBe(2);
  });

  it("softmax k = 2, d = 1 is flexmix's df = 8 (FLXMRglm + FLXPmultinom on NregFix)", () => {
    expect(parameterCount({ kind: 'softmax' }, 2, 1).total).toBe(8);
  });

  it('top-1 by slope: β0 drops out, β1 up to scale; by logit: like the softmax', () => {
    expect(parameterCount({ kind: 'topk', K: 1, selectOn: 'slope' }, 3, 2).gate).toBe(3);
    expect(parameterCount({ kind: 'topk', K: 1, selectOn: 'logit' }, 3, 2).gate).toBe(6);
    expect(parameterCount({ kind: 'topk', K: 1, selectOn: 'slope' }, 2, 1).gate).toBe(0);
  });

  it('states its conventions and refuses a bad k', () => {
    const c = parameterCount({ kind: 'temperature' }, 3, 1);
    expect(c.conventions.join(' ')).toMatch(/flat \(β1, τ\)/);
    expect(() => parameterCount({ kind: 'softmax' }, 0, 1)).toThrow(/k.*0/);
  });
});

describe('informationCriteria', () => {
  it("reproduces flexmix's AIC and BIC from its logLik and df (NregFix, k = 2)", () => {
    // flexmix: logLik −619.4506 (df = 8), AIC 1254.901, BIC 1281.288, n = 200
    const resp = new Float64Array(400).fill(0.5);
    const c = informationCriteria(-619.4506, 8, 200, resp, 2);
    expect(c.aic).toBeCloseTo(1254.901, 3);
    expect(c.bic).toBeCloseTo(1281.288, 3);
  });

  it("ICL is flexmix's hard form; the entropy form lies above it; both equal BIC for hard responsibilities", () => {
    const m = randomModel({ kind: 'softmax' }, 3, 1, 5);
    const rng = createRng(9);
    const n = 100;
    const data = {
      n,
      d: 1,
      X: Float64Array.from({ length: n }, () => rng.normal()),
      y: Float64Array.from({ length: n }, () => rng.normal()),
    };
    const c = modelCriteria(m, data);
    const { resp } = responsibilities(m, data);
    let hard = 0;
    for (let i = 0; i < n; i++) hard += Math.log(Math.max(resp[3 * i]!, resp[3 * i + 1]!, resp[3 * i + 2]!));
    expect(c.icl).toBeCloseTo(c.bic - 2 * hard, 9);
    expect(c.classificationLogLik).toBeCloseTo(c.logLik + hard, 9);
    expect(c.iclEntropy).toBeGreaterThan(c.icl);
    expect(c.df).toBe(3 * 3 + 2 * 2);
    const oneHot = Float64Array.from({ length: 2 * n }, (_, t) => (t % 2 === Math.floor(t / 2) % 2 ? 1 : 0));
    const h = informationCriteria(-10, 3, n, oneHot, 2);
    expect(h.icl).toBe(h.bic);
    expect(h.iclEntropy).toBe(h.bic);
  });

  it('refuses a non-finite log-likelihood', () => {
    expect(() => informationCriteria(NaN, 3, 10, new Float64Array(20), 2)).toThrow(/logLik/);
  });
});
