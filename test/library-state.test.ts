/**
 * The library holds no state a script can change by accident: its exported constants are frozen, so
 * assigning to one (FIT_DEFAULTS.maxIter = 1 in a notebook cell) throws instead of changing every later
 * fit in the process.
 */
import { describe, expect, it } from 'vitest';
import * as gmoe from '../src/index.js';

describe('exported constants', () => {
  it('every exported plain object or array is frozen', () => {
    const open = Object.entries(gmoe)
      .filter(
        ([, v]) =>
          Array.isArray(v) || (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype),
      )
      .filter(([, v]) => !Object.isFrozen(v))
      .map(([name]) => name);
    expect(open).toEqual([]);
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
