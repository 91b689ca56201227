import { describe, expect, it } from 'vitest';
import { simulate, truthPreset, gateProbs } from '../../src/index.js';

describe('smoke', () => {
  it('simulates from demy with rows of π summing to 1', () => {
    const m = truthPreset('demy');
    const d = simulate(m, { n: 50, seed: 1 });
    const p = gateProbs(m, d.X, d.n);
    for (let i = 0; i < d.n; i++) expect(p[2 * i]! + p[2 * i + 1]!).toBeCloseTo(1, 12);
  });
});
