/**
 * Plausible mistakes of a script calling the library, each refused in one line that names the field,
 * where they returned NaN silently or failed deep inside ("Cannot read properties of undefined").
 */
import { describe, expect, it } from 'vitest';
import {
  conditionalMean,
  deriveSeed,
  expertMeans,
  fitMoE,
  gateProbs,
  logGateProbs,
  logLikelihood,
  modelFromParams,
  modelToParams,
  pointwiseLogLikelihood,
  predictMoE,
  simulate,
  standardErrors,
  truthPreset,
  type Model,
} from '../../src/index.js';

const truth = truthPreset('demy');
const data = simulate(truth, { n: 300, seed: 3 });
const withNaN = (v: Float64Array, at: number) => Float64Array.from(v, (x, i) => (i === at ? NaN : x));
const oneLine = (f: () => unknown, pattern: RegExp) => {
  expect(f).toThrow(pattern);
  try {
    f();
  } catch (e) {
    expect((e as Error).message).not.toContain('\n');
  }
};

describe('predictMoE', () => {
  it('refuses a NaN in X or y, naming the row', () => {
    oneLine(
      () => predictMoE(truth, Float64Array.of(0.1, NaN), 2),
      /^X\[1\]\[0\] must be a finite number\. Value: NaN$/,
    );
    oneLine(() => predictMoE(truth, Float64Array.of(0.1, 0.2), 2, Float64Array.of(1, NaN)), /^y\[1\] must be a finite/);
  });
  it('refuses an invalid model and X that is not a Float64Array', () => {
    const bad: Model = { ...truth, nu: Float64Array.of(-1, 1) };
    oneLine(() => predictMoE(bad, Float64Array.of(0.1), 1), /^model: experts\.nu\[0\] must be > 0/);
    oneLine(() => predictMoE(truth, [0.1, 0.2] as unknown as Float64Array, 2), /^X must be a Float64Array/);
  });
});

describe('gate probabilities and expert means', () => {
  it('refuse an n that does not match X (they read past its end: NaN rows)', () => {
    const X = Float64Array.of(0.1, 0.2);
    for (const f of [gateProbs, logGateProbs, expertMeans, conditionalMean])
      oneLine(() => f(truth, X, 5), /^X must have length n × d = 5 × 1 = 5 \(the model's d = 1\)\. Value: 2$/);
    expect(Array.from(conditionalMean(truth, X, 2)).every(Number.isFinite)).toBe(true);
  });
});

describe('logLikelihood', () => {
  it('refuses a NaN in the data or an invalid model, naming it (was NaN or −Infinity)', () => {
    oneLine(
      () => logLikelihood(truth, { ...data, y: withNaN(data.y, 4) }),
      /^data\.y\[4\] \(row 4, column y\) must be a finite/,
    );
    oneLine(() => pointwiseLogLikelihood(truth, { ...data, X: withNaN(data.X, 2) }), /^data\.X\[2\]\[0\]/);
    oneLine(() => logLikelihood({ ...truth, nu: Float64Array.of(0, 1) }, data), /^model: experts\.nu\[0\] must be > 0/);
    oneLine(() => logLikelihood(truth, { ...data, d: 2 }), /^data\.d must equal the model's d = 1\. Value: 2$/);
    expect(Number.isFinite(logLikelihood(truth, data))).toBe(true);
  });
});

describe('standardErrors', () => {
  it('refuses data of the wrong shape or with a NaN, naming the field', () => {
    oneLine(
      () => standardErrors(truth, { n: 5, d: 1, X: new Float64Array(2), y: new Float64Array(5) }),
      /data\.X must have length/,
    );
    oneLine(
      () => standardErrors(truth, { ...data, y: withNaN(data.y, 0) }),
      /data\.y\[0\] \(row 0, column y\) must be a finite/,
    );
    oneLine(
      () => standardErrors({ ...truth, a: withNaN(truth.a, 0) }, data),
      /^model: experts\.a\[0\]\[0\] must be a finite/,
    );
  });
});

describe('modelFromParams', () => {
  const p = { beta0: [0, 0], beta1: [[1], [0]], a: [[1], [2]], b: [0, 0], nu: [1, 1] };
  it('builds a model whose arrays agree with its k and d', () => {
    expect(modelFromParams({ kind: 'softmax' }, p)).toMatchObject({ k: 2, d: 1 });
  });
  it("fills the gate spec's defaults as fitMoE does, so simulate and predictMoE take the model", () => {
    const m = modelFromParams({ kind: 'topk', K: 1 }, p);
    expect(m.gate).toEqual({ kind: 'topk', K: 1, selectOn: 'slope' });
    expect(simulate(m, { n: 5, seed: 1 }).n).toBe(5);
    const act = modelFromParams({ kind: 'activation', activation: 'tanh' }, { ...p, tau: 1 });
    expect(act.gate).toEqual({ kind: 'activation', activation: 'tanh', bias: 'outside' });
    expect(Number.isFinite(predictMoE(act, Float64Array.of(0.5), 1).mean[0]!)).toBe(true);
    oneLine(() => modelFromParams({ kind: 'topk', K: 3 }, p), /^gate\.K must be an integer in \[1, 2\]/);
  });
  it('refuses arrays that disagree with k (beta0) or d (beta1[0]), naming the array', () => {
    oneLine(
      () => modelFromParams({ kind: 'softmax' }, { ...p, beta0: [0] }),
      /^modelFromParams: b must have length k = 1/,
    );
    oneLine(
      () => modelFromParams({ kind: 'softmax' }, { ...p, a: [[1], [2], [3]] }),
      /^modelFromParams: a must have k = 2 rows/,
    );
    oneLine(
      () => modelFromParams({ kind: 'softmax' }, { ...p, beta1: [[1, 2], [0]] }),
      /^modelFromParams: beta1\[1\] must have length d = 2/,
    );
    oneLine(
      () => modelFromParams({ kind: 'softmax' }, { ...p, nu: [1] }),
      /^modelFromParams: nu must have length k = 2/,
    );
  });
});

describe("fitMoE's init models", () => {
  const gate = { kind: 'softmax' } as const;
  it('name the init field: init.truth, init.model', () => {
    const noTruth = { kind: 'near-truth' } as unknown as { kind: 'near-truth'; truth: Model };
    oneLine(
      () => fitMoE(data, { gate, k: 2, init: noTruth }),
      /^init\.truth: model must be an object\. Value: missing$/,
    );
    const model = { ...truth, a: withNaN(truth.a, 0) };
    oneLine(() => fitMoE(data, { gate, k: 2, init: { kind: 'model', model } }), /^init\.model: experts\.a\[0\]\[0\]/);
  });
});

describe('deriveSeed', () => {
  it('refuses a master seed that is not an integer in [0, 2^32 − 1] (>>> 0 made NaN seed 0)', () => {
    for (const bad of [NaN, 1.5, -1, 2 ** 32, '7' as unknown as number])
      oneLine(() => deriveSeed(bad, 1), /^deriveSeed: master must be an integer in \[0, 4294967295\]/);
    expect(deriveSeed(0, 1)).toBeGreaterThan(0);
    expect(deriveSeed(2 ** 32 - 1, 1)).toBeGreaterThan(0);
  });
});

describe('truthPreset', () => {
  it('names the presets and points a file path to resolveModel (it said "or a model file", which it cannot read)', () => {
    oneLine(() => truthPreset('nope'), /^truthPreset: name must be one of demy, .*resolveModel.*Value: nope$/);
    expect(() => truthPreset('results/fit.json')).toThrow(/resolveModel takes a preset name or a model file/);
  });
});

describe('gate specs in TypeScript', () => {
  it("take selectOn and bias as optional, as the docs and fitMoE's parser do (npm run typecheck compiles this)", () => {
    const fit = fitMoE(data, { gate: { kind: 'topk', K: 1 }, k: 2, seed: 1 });
    expect(fit.model.gate).toEqual({ kind: 'topk', K: 1, selectOn: 'slope' });
    const act = modelFromParams({ kind: 'activation', activation: 'tanh' }, { ...modelToParams(truth), tau: 1 });
    expect(act.gate).toEqual({ kind: 'activation', activation: 'tanh', bias: 'outside' });
  });
});
