/**
 * Bad input to the library's entry points is a ValidationError naming the field (what the CLI turns into exit 2),
 * not a TypeError or RangeError from deep inside, nor a plain Error without a field.
 */
import { describe, expect, it } from 'vitest';
import * as gmoe from '../src/index.js';

const truth = gmoe.truthPreset('demy');
const data = gmoe.simulate(truth, { n: 200, seed: 1 });

describe('library input errors', () => {
  const cases: [string, () => unknown, string, RegExp][] = [
    [
      'simulate without options',
      () => gmoe.simulate(truth, undefined as never),
      'options',
      /^options must be an object/,
    ],
    [
      'simulate n = 0',
      () => gmoe.simulate(truth, { n: 0, seed: 1 }),
      'n',
      /^n must be an integer in \[1, \d+\]\. Value: 0$/,
    ],
    ['simulate n = 1e12', () => gmoe.simulate(truth, { n: 1e12, seed: 1 }), 'n', /^n must be an integer in \[1, /],
    ['simulate seed 0', () => gmoe.simulate(truth, { n: 5, seed: 0 }), 'seed', /^seed must be an integer in \[1, /],
    [
      'simulate design',
      () => gmoe.simulate(truth, { n: 5, seed: 1, design: 'grud' as never }),
      'design',
      /^design must be one of/,
    ],
    [
      'fitMoE seed −1',
      () => gmoe.fitMoE(data, { gate: { kind: 'softmax' }, k: 2, seed: -1 }),
      'seed',
      /^seed must be an integer/,
    ],
    ['predictMoE given a Dataset', () => gmoe.predictMoE(truth, data as never, 200), 'X', /^X must be a Float64Array/],
    [
      'logLikelihood, X too short',
      () => gmoe.logLikelihood(truth, { ...data, X: data.X.subarray(0, 10) }),
      'data.X',
      /^data\.X must have length/,
    ],
    [
      'voronoiLoss given a string',
      () => gmoe.voronoiLoss(truth, truth, 'D2' as never),
      'options',
      /^options must be an object such as \{ loss: 'D2' \}\. Value: "D2"$/,
    ],
    [
      // the arguments swapped (a k = 3 fit as the truth): the fit's weights are shifted to the truth's total, and
      // the message says the exponent that overflowed (it said exp(−8) overflows)
      'voronoiLoss, a fit weight beyond Float64 after the shift',
      () =>
        gmoe.voronoiLoss(
          truth,
          gmoe.modelFromParams(
            { kind: 'softmax' },
            { beta0: [-8, 800, 0], beta1: [[1], [2], [0]], a: [[1], [2], [3]], b: [0, 1, 2], nu: [1, 1, 1] },
          ),
        ),
      'fit',
      /^fit: mixing weight exp\(gating\.beta0\[0\] \+ shift\) overflows\. Value: -? ?\d.* \+ 79\d\.99\d+ \(the shift to the truth's total weight\)$/,
    ],
    ['truthPreset unknown', () => gmoe.truthPreset('foo'), 'name', /^truthPreset: name must be one of demy, /],
  ];
  for (const [what, call, field, message] of cases)
    it(what, () => {
      let caught: unknown;
      try {
        call();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(gmoe.ValidationError);
      expect((caught as gmoe.ValidationError).field).toBe(field);
      expect((caught as Error).message).toMatch(message);
    });
});
