/**
 * The activation gates' fast Hessian (src/em/inference/hessian-activation.ts) equals the reference
 * logLikDerivatives (src/em/inference/hessian.ts) to 1e-10 relative — value, gradient and every Hessian
 * entry — on seeded random models (σ = identity, tanh, sigmoid, gelu, relu, softplus; bias inside and
 * outside; k = 2..4, d = 1, 2; τ free and fixed; log and natural scales; small variances, steep gates),
 * and its gradient and Hessian match central differences of L on one case.
 */
import { describe, expect, it } from 'vitest';
import { activationLogLikDerivatives } from '../../src/em/inference/hessian-activation.js';
import { logLikDerivatives } from '../../src/em/inference/hessian.js';
import { packParams, paramLayout, unpackParams } from '../../src/em/inference/params.js';
import { normalizeGate } from '../../src/em/gates/layout.js';
import { logLikelihood } from '../../src/models/density.js';
import { cloneModel, type Dataset, type GateSpec, type Model } from '../../src/models/types.js';
import { CASES, randomCase, relDiff } from './hessian-cases.js';

const TEMPERATURE: GateSpec = { kind: 'temperature' };
const act = (a: 'tanh' | 'sigmoid' | 'gelu' | 'relu' | 'softplus', bias: 'inside' | 'outside'): GateSpec => ({
  kind: 'activation',
  activation: a,
  bias,
});

const GATES: Array<[string, GateSpec]> = [
  ['temperature', TEMPERATURE],
  ['tanh outside', act('tanh', 'outside')],
  ['tanh inside', act('tanh', 'inside')],
  ['sigmoid outside', act('sigmoid', 'outside')],
  ['sigmoid inside', act('sigmoid', 'inside')],
];
const SHAPES: Array<[number, number]> = [
  [2, 1],
  [3, 1],
  [4, 1],
  [2, 2],
  [3, 2],
  [4, 2],
];

describe('activationLogLikDerivatives equals the reference', () => {
  let seed = 100;
  for (const [gname, gate] of GATES)
    for (const [k, d] of SHAPES)
      for (const [cname, c] of CASES)
        for (const tauMode of ['free', 'fixed'] as const) {
          const s = seed++;
          it(`${gname}, k = ${k}, d = ${d}, ${cname}, τ ${tauMode}`, () => {
            const { m, data } = randomCase(gate, k, d, 257, s, c);
            // natural scales on some cases, so both sides of toLogScales are exercised
            const scale = s % 3 === 0 ? 'natural' : 'log';
            const L = paramLayout(gate, k, d, { tauMode, tauScale: scale, nuScale: scale });
            normalizeGate(L.gate, m);
            const ref = logLikDerivatives(L, m, data);
            const fast = activationLogLikDerivatives(L, m, data);
            expect(fast).not.toBeNull();
            expect(Math.abs(fast!.logLik - ref.logLik) / Math.abs(ref.logLik)).toBeLessThan(1e-12);
            expect(relDiff(ref.gradient, fast!.gradient)).toBeLessThan(1e-10);
            expect(relDiff(ref.hessian!, fast!.hessian!)).toBeLessThan(1e-10);
            // and entry by entry, relative to the entry's row and column scale
            const P = L.P;
            const H0 = ref.hessian!;
            const H1 = fast!.hessian!;
            const diag = (t: number) => Math.abs(H0[t * P + t]!);
            for (let u = 0; u < P; u++)
              for (let v = 0; v < P; v++) {
                const sc = Math.max(Math.sqrt(diag(u) * diag(v)), Math.abs(H0[u * P + v]!), 1e-300);
                expect(Math.abs(H1[u * P + v]! - H0[u * P + v]!) / sc, `${L.labels[u]}, ${L.labels[v]}`).toBeLessThan(
                  1e-9,
                );
              }
          });
        }

  for (const a of ['gelu', 'relu', 'softplus'] as const)
    for (const bias of ['outside', 'inside'] as const)
      it(`${a} ${bias}, k = 3, d = 2`, () => {
        const gate = act(a, bias);
        const { m, data } = randomCase(gate, 3, 2, 200, 7, { nuMin: 0.05, slope: 2 });
        const L = paramLayout(gate, 3, 2);
        normalizeGate(L.gate, m);
        const ref = logLikDerivatives(L, m, data);
        const fast = activationLogLikDerivatives(L, m, data)!;
        expect(Math.abs(fast.logLik - ref.logLik) / Math.abs(ref.logLik)).toBeLessThan(1e-12);
        expect(relDiff(ref.gradient, fast.gradient)).toBeLessThan(1e-10);
        expect(relDiff(ref.hessian!, fast.hessian!)).toBeLessThan(1e-10);
      });

  it('null for the linear gates and for a layout of another k; throws on data of another d', () => {
    const { m, data } = randomCase({ kind: 'softmax' }, 3, 1, 20, 1, { nuMin: 0.3, slope: 1 });
    expect(activationLogLikDerivatives(paramLayout(m.gate, 3, 1), m, data)).toBeNull();
    const topk: Model = { ...m, gate: { kind: 'topk', K: 2, selectOn: 'slope' } };
    expect(activationLogLikDerivatives(paramLayout(topk.gate, 3, 1), topk, data)).toBeNull();
    const t: Model = { ...m, gate: TEMPERATURE };
    expect(activationLogLikDerivatives(paramLayout(TEMPERATURE, 2, 1), t, data)).toBeNull();
    const data2: Dataset = { n: 10, d: 2, X: new Float64Array(20), y: new Float64Array(10) };
    expect(() => activationLogLikDerivatives(paramLayout(TEMPERATURE, 3, 1), t, data2)).toThrow(/data\.d/);
  });

  it("null where a sum is not finite (a NaN parameter: the reference's r = 0 would hide it in L)", () => {
    const gate = act('tanh', 'outside');
    const { m, data } = randomCase(gate, 2, 1, 30, 3, { nuMin: 0.3, slope: 1 });
    m.b[0] = NaN;
    expect(activationLogLikDerivatives(paramLayout(gate, 2, 1), m, data)).toBeNull();
  });
});

describe('activationLogLikDerivatives against finite differences', () => {
  it('tanh inside, k = 3, d = 2, τ free: gradient and Hessian match central differences of L', () => {
    const gate = act('tanh', 'inside');
    const { m, data } = randomCase(gate, 3, 2, 150, 42, { nuMin: 0.2, slope: 1.5 });
    const L = paramLayout(gate, 3, 2);
    normalizeGate(L.gate, m);
    const theta = packParams(L, m);
    const at = (th: Float64Array) => unpackParams(L, th, cloneModel(m));
    const D = activationLogLikDerivatives(L, m, data)!;
    expect(D.logLik).toBeCloseTo(logLikelihood(m, data), 9);
    const P = L.P;
    const h = 1e-4;
    const f = (th: Float64Array) => logLikelihood(at(th), data);
    const shift = (pairs: Array<[number, number]>) => {
      const th = Float64Array.from(theta);
      for (const [t, v] of pairs) th[t] = th[t]! + v;
      return th;
    };
    let gScale = 1,
      hScale = 1;
    for (let t = 0; t < P; t++) gScale = Math.max(gScale, Math.abs(D.gradient[t]!));
    for (const v of D.hessian!) hScale = Math.max(hScale, Math.abs(v));
    for (let s = 0; s < P; s++) {
      const fd = (f(shift([[s, h]])) - f(shift([[s, -h]]))) / (2 * h);
      expect(Math.abs(fd - D.gradient[s]!) / gScale, `gradient ${L.labels[s]}`).toBeLessThan(1e-6);
      for (let t = s; t < P; t++) {
        // the four-point mixed central difference of L
        const fdH =
          (f(
            shift([
              [s, h],
              [t, h],
            ]),
          ) -
            f(
              shift([
                [s, h],
                [t, -h],
              ]),
            ) -
            f(
              shift([
                [s, -h],
                [t, h],
              ]),
            ) +
            f(
              shift([
                [s, -h],
                [t, -h],
              ]),
            )) /
          (4 * h * h);
        expect(Math.abs(fdH - D.hessian![s * P + t]!) / hScale, `Hessian ${L.labels[s]}, ${L.labels[t]}`).toBeLessThan(
          1e-5,
        );
      }
    }
  });
});
