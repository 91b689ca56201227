import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, activation, activationByCode, isActivation } from '../../src/math/activations.js';

// away from relu's kink at 0
const POINTS = [-6, -2.5, -1.3, -0.4, -0.05, 0.07, 0.35, 0.9, 2.7, 8];
const H = 1e-5;

describe('activation descriptors', () => {
  for (const name of ACTIVATIONS) {
    const a = activation(name);
    it(`${name}: σ′ and σ″ match central finite differences; d1At(σ(u), u) is σ′(u) bit for bit`, () => {
      for (const u of POINTS) {
        const fd1 = (a.sigma(u + H) - a.sigma(u - H)) / (2 * H);
        const fd2 = (a.d1(u + H) - a.d1(u - H)) / (2 * H);
        expect(Math.abs(a.d1(u) - fd1), `σ′(${u})`).toBeLessThan(1e-8 * (1 + Math.abs(fd1)));
        expect(Math.abs(a.d2(u) - fd2), `σ″(${u})`).toBeLessThan(1e-7 * (1 + Math.abs(fd2)));
        if (a.d1At) expect(Object.is(a.d1At(a.sigma(u), u), a.d1(u)), `d1At(${u})`).toBe(true);
      }
    });
    it(`${name}: its properties are what σ does`, () => {
      for (const u of POINTS) {
        if (a.linear) expect(a.sigma(u)).toBe(u);
        if (a.positivelyHomogeneous) expect(a.sigma(2.5 * u)).toBeCloseTo(2.5 * a.sigma(u), 12);
      }
      if (!a.linear) expect(POINTS.some((u) => a.sigma(u) !== u)).toBe(true);
      if (!a.positivelyHomogeneous)
        expect(POINTS.some((u) => Math.abs(a.sigma(2.5 * u) - 2.5 * a.sigma(u)) > 1e-6)).toBe(true);
      expect(isActivation(name)).toBe(true);
      if (a.code >= 0) expect(activationByCode(a.code)).toBe(a);
    });
  }
  it('kernel codes are unique; unknown names are refused naming the known ones', () => {
    const codes = ACTIVATIONS.map((n) => activation(n).code).filter((c) => c >= 0);
    expect(new Set(codes).size).toBe(codes.length);
    expect(isActivation('cube')).toBe(false);
    expect(() => activation('cube' as never)).toThrow(/activation must be one of tanh, sigmoid, .*\. Value: cube/);
  });
});
