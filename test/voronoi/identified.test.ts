/** The temperature gate's identified slope β1/τ: what the data identify, with β1 and τ apart free to drift. */
import { describe, expect, it } from 'vitest';
import { truthPreset } from '../../src/models/presets.js';
import { cloneModel, type Model } from '../../src/models/types.js';
import { asSoftmaxRatio, identifiedSlope, identifiedSlopeErrors, voronoiLoss } from '../../src/voronoi/index.js';
import { permute } from './helpers.js';

const temp = truthPreset('temp');
/** The model along the flat direction (β1, τ) → (cβ1, cτ): the same conditional density. */
const scaled = (m: Model, c: number): Model => {
  const out = cloneModel(m);
  for (let t = 0; t < out.beta1.length; t++) out.beta1[t] = m.beta1[t]! * c;
  out.tau = m.tau * c;
  return out;
};

describe('identifiedSlopeErrors', () => {
  it('zero at the truth and all along its flat direction, where the β1 and τ errors are not', () => {
    expect(identifiedSlopeErrors(temp, temp, 'D1')).toEqual([
      { m: 1, error: 0 },
      { m: 1, error: 0 },
    ]);
    const far = scaled(temp, 1.5); // c = 3/2: β1/τ to the bit
    expect(identifiedSlopeErrors(far, temp, 'D1').map((c) => c.error)).toEqual([0, 0]);
    const plain = voronoiLoss(far, temp, { loss: 'D1' });
    expect(plain.cells.map((c) => c.errors.beta1)).toEqual([12.5, 0]);
    expect(plain.cells[0]!.errors.tau).toBe(0.5);
  });

  it("the error of β1/τ itself, after the softmax loss's translation; invariant to relabelling", () => {
    const fit = cloneModel(temp);
    fit.beta1[0] = 26; // β1/τ: 26 against 25
    fit.tau = 2; // now 13 against 25: off by 12
    const errs = identifiedSlopeErrors(fit, temp, 'D1');
    // the gap between the experts' slopes is what a translation cannot remove: 13 − 0 against 25 − 0
    expect(errs.map((c) => c.m)).toEqual([1, 1]);
    const r = voronoiLoss(asSoftmaxRatio(fit), asSoftmaxRatio(temp), { loss: 'D1' });
    expect(errs.map((c) => c.error)).toEqual(r.cells.map((c) => c.errors.beta1));
    expect(Math.max(...errs.map((c) => c.error))).toBeGreaterThan(5);
    const swapped = identifiedSlopeErrors(permute(fit, [1, 0]), temp, 'D1');
    expect(swapped).toEqual(errs);
  });

  it('over-specified: a split atom is one cell of m = 2', () => {
    const fit: Model = {
      ...cloneModel(temp),
      k: 3,
      beta0: Float64Array.of(-8 - Math.log(2), -8 - Math.log(2), 0),
      beta1: Float64Array.of(25.5, 24.5, 0),
      a: Float64Array.of(-20, -20, 20),
      b: Float64Array.of(15, 15, -5),
      nu: Float64Array.of(0.09, 0.09, 0.16),
    };
    const errs = identifiedSlopeErrors(fit, temp, 'D2');
    expect(errs.map((c) => c.m).sort()).toEqual([1, 2]);
    expect(errs.find((c) => c.m === 2)!.error).toBeCloseTo(0.5, 12);
    // weighted as D2 weights it: two halves at 0.5 each give 0.5 whatever the exponent; a lighter far atom counts less
    expect(identifiedSlope(fit, temp, 'D2').weighted).toEqual([{ m: 2, error: expect.closeTo(0.5, 12) }]);
    const light = cloneModel(fit);
    light.beta1[1] = 22; // 3 off, ...
    light.beta0[1] = -8 - Math.log(20); // ... on 1/21 of the pair's weight
    light.beta0[0] = -8 - Math.log(20 / 19);
    const w = identifiedSlope(light, temp, 'D2');
    expect(w.cells.find((c) => c.m === 2)!.error).toBeGreaterThan(2);
    expect(w.weighted[0]!.error).toBeLessThan(w.cells.find((c) => c.m === 2)!.error / 2);
  });

  it('refuses a gate whose slope is identified on its own (tanh)', () => {
    expect(() => asSoftmaxRatio(truthPreset('temp-tanh'))).toThrow(
      /must be a softmax over τ \(the identity activation, bias outside or inside\)/,
    );
  });
});

describe('identifiedSlope, bias inside: (β0, β1, τ) → c(β0, β1, τ)', () => {
  /** temp written with the bias inside: (β1·x + β0)/τ at τ = 1 is the same density. */
  const inside = (): Model => ({
    ...cloneModel(temp),
    gate: { kind: 'activation', activation: 'identity', bias: 'inside' },
  });
  const scaledAll = (m: Model, c: number): Model => {
    const out = scaled(m, c);
    for (let j = 0; j < out.beta0.length; j++) out.beta0[j] = m.beta0[j]! * c;
    return out;
  };

  it('the ratio model divides β0 by τ too; the intercepts are zero along the flat direction, β0 itself is not', () => {
    const far = scaledAll(inside(), 1.5); // β0/τ, β1/τ to the bit
    const r = asSoftmaxRatio(far);
    expect(Array.from(r.beta0)).toEqual([-8, 0]);
    expect(Array.from(r.beta1)).toEqual([25, 0]);
    const id = identifiedSlope(far, inside(), 'D1');
    expect(id.cells.map((c) => c.error)).toEqual([0, 0]);
    expect(id.intercepts!.map((c) => c.error)).toEqual([0, 0]);
    // against the temperature truth (bias outside) too: the same softmax
    expect(identifiedSlope(far, temp, 'D1').intercepts!.map((c) => c.error)).toEqual([0, 0]);
    // the plain loss reads exp(β0) as the weights: −12 against −8 is an error
    const plain = voronoiLoss(far, inside(), { loss: 'D1' });
    expect(Math.max(...plain.cells.map((c) => c.errors.weight))).toBeGreaterThan(1e-4);
  });

  it("the intercepts' error is the softmax loss's weight error of β0/τ; none with the bias outside", () => {
    const fit = inside();
    fit.beta0[0] = -6; // β0/τ = −6 against −8
    const id = identifiedSlope(fit, inside(), 'D1');
    const r = voronoiLoss(asSoftmaxRatio(fit), asSoftmaxRatio(inside()), { loss: 'D1' });
    expect(id.intercepts!.map((c) => c.error)).toEqual(r.cells.map((c) => c.errors.weight));
    expect(Math.max(...id.intercepts!.map((c) => c.error))).toBeGreaterThan(1e-3);
    expect(identifiedSlope(scaled(temp, 1.5), temp, 'D1').intercepts).toBeUndefined();
  });
});
