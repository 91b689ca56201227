/**
 * The library holds no state a script can change by accident: its exported constants are frozen, so
 * assigning to one (FIT_DEFAULTS.maxIter = 1 in a notebook cell) throws instead of changing every later
 * fit in the process.
 */
import { describe, expect, it } from 'vitest';
import * as gmoe from '../src/index.js';

describe('exported constants', () => {
  it('every exported plain object or array is frozen, all the way down', () => {
    const plain = (v: unknown): v is object =>
      Array.isArray(v) || (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype);
    // the paths of the plain objects and arrays below `v` (itself included) that are not frozen
    const open = (v: unknown, path: string): string[] =>
      !plain(v)
        ? []
        : [
            ...(Object.isFrozen(v) ? [] : [path]),
            ...Object.entries(v).flatMap(([key, w]) => open(w, `${path}.${key}`)),
          ];
    expect(Object.entries(gmoe).flatMap(([name, v]) => open(v, name))).toEqual([]);
    // EXPONENT_TABLES.softmax.beta1 once changed every later loss
    expect(() => {
      (gmoe.EXPONENT_TABLES.softmax.beta1 as { r: number }).r = 2;
    }).toThrow(TypeError);
  });

  it('assigning to FIT_DEFAULTS throws, and a fit after it is the fit before it', () => {
    const data = gmoe.simulate(gmoe.truthPreset('demy'), { n: 400, seed: 1 });
    const before = gmoe.fitMoE(data, { gate: { kind: 'softmax' }, k: 2, seed: 1 });
    expect(() => {
      (gmoe.FIT_DEFAULTS as { maxIter: number }).maxIter = 1;
    }).toThrow(TypeError);
    const after = gmoe.fitMoE(data, { gate: { kind: 'softmax' }, k: 2, seed: 1 });
    expect(after.iterations).toBe(before.iterations);
    expect(after.logLik).toBe(before.logLik);
  });
});
