/**
 * The identity activation with the bias inside, s_j = (β1_j·x + β0_j)/τ: a softmax gate in
 * (β0/τ, β1/τ), flat along (β0, β1, τ) → c(β0, β1, τ). Its M-step is the softmax one on that proxy with
 * τ held (src/em/gates/dense.ts), so an EM run of it is an EM run of the softmax fit from the mapped
 * start — bounds included, divided by τ — up to the E-step's rounding.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE, type FitOptions } from '../../src/em/index.js';
import type { Bounds } from '../../src/em/bounds.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { cloneModel, type GateSpec, type Model } from '../../src/models/types.js';

const INSIDE: GateSpec = { kind: 'activation', activation: 'identity', bias: 'inside' };
const TAU = 2;

/** A start off the truth, written with the bias inside at τ = TAU, and the same density as a softmax. */
function starts(): { inside: Model; softmax: Model } {
  const t = truthPreset('temp');
  const softmax = cloneModel(t);
  softmax.gate = { kind: 'softmax' };
  softmax.beta0.set([-6.5, 0]);
  softmax.beta1.set([21, 0]);
  softmax.a.set([-18, 21]);
  softmax.b.set([14, -4]);
  softmax.nu.set([0.2, 0.1]);
  const inside = cloneModel(softmax);
  inside.gate = INSIDE;
  inside.tau = TAU;
  for (let j = 0; j < 2; j++) {
    inside.beta0[j] = softmax.beta0[j]! * TAU; // powers of two: the proxy's β0/τ, β1/τ are these bits
    inside.beta1[j] = softmax.beta1[j]! * TAU;
  }
  return { inside, softmax };
}

const data = simulate(truthPreset('temp'), { n: 2000, seed: 5 });

function pair(bounds?: { inside: Bounds; softmax: Bounds }) {
  const s = starts();
  const common: Omit<FitOptions, 'gate' | 'k'> = { accelerate: 'none', tol: 0, absTol: 0, maxIter: 40 };
  const inside = fitMoE(data, {
    ...common,
    gate: INSIDE,
    k: 2,
    init: { kind: 'model', model: s.inside },
    ...(bounds ? { bounds: bounds.inside } : {}),
  });
  const softmax = fitMoE(data, {
    ...common,
    gate: { kind: 'softmax' },
    k: 2,
    init: { kind: 'model', model: s.softmax },
    ...(bounds ? { bounds: bounds.softmax } : {}),
  });
  return { inside, softmax };
}

function expectSamePath(a: ReturnType<typeof pair>['inside'], b: ReturnType<typeof pair>['softmax']): void {
  // the same path until one of them stops at its fixed point, where rounding decides the iteration
  const common = Math.min(a.trace.length, b.trace.length);
  expect(common).toBeGreaterThan(5);
  for (let t = 0; t < common; t++)
    expect(Math.abs(a.trace[t]! - b.trace[t]!)).toBeLessThan(1e-12 * Math.abs(b.trace[t]!));
  expect(a.model.tau).toBe(TAU); // held
  for (let j = 0; j < 2; j++) {
    expect(a.model.beta0[j]! / TAU).toBeCloseTo(b.model.beta0[j]!, 7);
    expect(a.model.beta1[j]! / TAU).toBeCloseTo(b.model.beta1[j]!, 7);
    expect(a.model.a[j]).toBeCloseTo(b.model.a[j]!, 7);
    expect(a.model.nu[j]).toBeCloseTo(b.model.nu[j]!, 9);
  }
}

describe('identity activation, bias inside', () => {
  it('EM is the softmax EM in (β0/τ, β1/τ) with τ held: the same log-likelihood path, no ridge warnings', () => {
    const { inside, softmax } = pair();
    expectSamePath(inside, softmax);
    expect(inside.warnings.filter((w) => /singular|ill-conditioned|ridge/.test(w))).toEqual([]);
    // it climbed: a check that cannot pass on a fit that stayed at its start
    expect(inside.trace.at(-1)! - inside.trace[0]!).toBeGreaterThan(100);
  });

  it('bounds on β0 and β1 are the softmax bounds divided by τ', () => {
    // the maximiser has β0/τ ≈ −8, β1/τ ≈ 25: β0's bound binds in the first case, β1's in the second
    for (const [b0, b1] of [
      [4, 100],
      [100, 16],
    ] as const) {
      const { inside, softmax } = pair({
        inside: { beta0: b0, beta1: b1 },
        softmax: { beta0: b0 / TAU, beta1: b1 / TAU },
      });
      expectSamePath(inside, softmax);
      if (b0 < 100) expect(inside.model.beta0[0]).toBeCloseTo(-b0, 9);
      else expect(inside.model.beta1[0]).toBeCloseTo(b1, 9);
    }
  });

  it('the hybrid ends where a temperature-gate fit of the same data ends', () => {
    const t = truthPreset('temp');
    const opts = { k: 2, optimizer: 'hybrid' as const, init: { kind: 'near-truth' as const, truth: t }, seed: 3 };
    const temp = fitMoE(data, { ...opts, gate: { kind: 'temperature' } });
    const inside = fitMoE(data, { ...opts, gate: INSIDE });
    expect(inside.stopReason).toBe('newton-decrement');
    expect(inside.logLik).toBeCloseTo(temp.logLik, 6);
    // each says along which orbit it is not identified, and nothing else
    expect(temp.warnings).toEqual([
      expect.stringMatching(/^the gate is invariant under \(β1, τ\) → \(cβ1, cτ\) and τ is free/),
    ]);
    expect(inside.warnings).toEqual([
      expect.stringMatching(/^the gate is invariant under \(β0, β1, τ\) → c\(β0, β1, τ\) and τ is free/),
    ]);
  });

  it('relu with the bias inside, positively homogeneous: the same orbit named, no ridge warning for its flatness', () => {
    const relu: GateSpec = { kind: 'activation', activation: 'relu', bias: 'inside' };
    const x = simulate(truthPreset('temp-tanh'), { n: 3000, seed: 2 });
    const fit = fitMoE(x, { gate: relu, k: 2, seed: 1 });
    expect(fit.warnings.filter((w) => /invariant under|ridge/.test(w))).toEqual([
      expect.stringMatching(/^the gate is invariant under \(β0, β1, τ\) → c\(β0, β1, τ\) and τ is free/),
    ]);
    // τ fixed: no orbit to warn of
    const fixed = fitMoE(x, { gate: relu, k: 2, seed: 1, tauMode: 'fixed' });
    expect(fixed.warnings.filter((w) => /invariant under/.test(w))).toEqual([]);
  });

  it("over-specified near-truth start: a split atom's copies share its weight, β0 − τ·log m (the truth's density)", () => {
    const truth = starts().inside; // τ = 2, the bias inside
    const x = simulate(truth, { n: 500, seed: 9 });
    const at = (m: Model) => fitMoE(x, { gate: INSIDE, k: m.k, maxIter: 0, init: { kind: 'model', model: m } }).logLik;
    const start = fitMoE(x, {
      gate: INSIDE,
      k: 3,
      maxIter: 0,
      init: { kind: 'near-truth', truth, noiseScale: 0, assign: 'ordered', tau: 'truth' },
    });
    // fitted (0, 1, 2) ← true (0, 1, 1): the copies of atom 1 get β0 − 2·log 2, then the reference (last) goes to 0
    expect(start.model.beta0[0]).toBeCloseTo(truth.beta0[0]! + TAU * Math.log(2), 12);
    expect(start.logLik).toBeCloseTo(at(truth), 9);
    // copied weights double the split atom's share: another density
    const copied = fitMoE(x, {
      gate: INSIDE,
      k: 3,
      maxIter: 0,
      init: { kind: 'near-truth', truth, noiseScale: 0, assign: 'ordered', tau: 'truth', splitWeights: 'copy' },
    });
    expect(Math.abs(copied.logLik - at(truth))).toBeGreaterThan(1);
  });
});
