import { describe, expect, it } from 'vitest';
import { cellExponents, EXPONENT_TABLES, exponentTable, rBar, UnknownRBarError } from '../../src/voronoi/index.js';

describe('r̄', () => {
  it('is 1, 4, 6 for cells of 1, 2, 3 atoms', () => {
    expect([1, 2, 3].map(rBar)).toEqual([1, 4, 6]);
  });

  it('is reported unknown for 4 or more atoms, never invented', () => {
    for (const m of [4, 5, 10]) {
      expect(() => rBar(m)).toThrow(UnknownRBarError);
      expect(() => rBar(m)).toThrow(new RegExp(`r̄\\(${m}\\) is unknown`));
    }
    expect(() => rBar(0)).toThrow(/m must be an integer ≥ 1\. Value: 0/);
    expect(() => rBar(2.5)).toThrow(/Value: 2.5/);
  });
});

describe('exponent tables', () => {
  it('softmax: D1 form for one atom, (r̄, r̄/2, r̄, r̄/2) on (β1, a, b, ν) for m ≥ 2', () => {
    const t = EXPONENT_TABLES.softmax;
    expect(cellExponents(t, 1, 'D2')).toEqual({ beta1: 1, a: 1, b: 1, nu: 1 });
    expect(cellExponents(t, 2, 'D2')).toEqual({ beta1: 4, a: 2, b: 4, nu: 2 });
    expect(cellExponents(t, 3, 'D2')).toEqual({ beta1: 6, a: 3, b: 6, nu: 3 });
    expect(cellExponents(t, 3, 'D1')).toEqual({ beta1: 1, a: 1, b: 1, nu: 1 });
    expect(() => cellExponents(t, 4, 'D2')).toThrow(UnknownRBarError);
    expect(cellExponents(t, 4, 'D1').beta1).toBe(1);
    expect(t.tau).toBe(1);
  });

  it('activation: (2, 2, r̄, r̄/2) on (β1, a, b, ν) [U]', () => {
    expect(cellExponents(EXPONENT_TABLES.activation, 2, 'D2')).toEqual({ beta1: 2, a: 2, b: 4, nu: 2 });
    expect(cellExponents(EXPONENT_TABLES.activation, 3, 'D2')).toEqual({ beta1: 2, a: 2, b: 6, nu: 3 });
  });

  it('takes overrides as data and checks them', () => {
    const t = exponentTable('softmax', { a: 1, nu: { r: 1 }, tau: 2 });
    expect(cellExponents(t, 2, 'D2')).toEqual({ beta1: 4, a: 1, b: 4, nu: 4 });
    expect(t.tau).toBe(2);
    expect(EXPONENT_TABLES.softmax.a).toEqual({ r: 0.5 }); // defaults untouched
    expect(() => exponentTable('softmax', { a: 0 })).toThrow(/exponents\.a must be a finite number > 0\. Value: 0/);
    expect(() => exponentTable('softmax', { b: { r: -1 } })).toThrow(/exponents\.b must be a number > 0 or \{ r: f \}/);
    expect(() => exponentTable('softmax', { nu: { r: 0 } })).toThrow(
      /exponents\.nu must be a number > 0 or \{ r: f \}/,
    );
    expect(() => exponentTable('softmax', { tau: 0 })).toThrow(/exponents\.tau must be a finite number > 0\. Value: 0/);
    expect(() => exponentTable('softmax', { tau: NaN })).toThrow(/exponents\.tau must be a finite number > 0/);
    expect(() => exponentTable('softmax', { rho: 1 } as never)).toThrow(/exponents\.rho is not an exponent/);
  });
});
