import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  SpecError,
  loadSpecFile,
  resolveNGrid,
  specKey,
  specTruths,
  validateSpec,
} from '../../src/experiments/spec.js';
import { isExperimentPreset, listExperimentPresets, presetSpec } from '../../src/experiments/presets.js';
import { runSweep } from '../../src/experiments/runner.js';
import { modelToJSON, truthPreset } from '../../src/models/index.js';
import { tempDir } from '../helpers/temp-dir.js';

const base = () => ({
  name: 'tiny',
  truth: 'demy',
  models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
  n: [100, 200],
  replications: 2,
  theory: { D1: { exponent: -0.5 } },
  seed: 3,
});

/** The message of the error thrown by validateSpec on `mutate(base())`. */
function rejection(mutate: (s: Record<string, any>) => void): string {
  const s: Record<string, any> = base();
  mutate(s);
  try {
    validateSpec(s);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as Error).message;
  }
  throw new Error('spec was accepted');
}

describe('validateSpec', () => {
  it('normalises a minimal spec: defaults written out, n sorted', () => {
    const s = validateSpec({ ...base(), n: [200, 100, 200] });
    expect(s.n).toEqual([100, 200]);
    expect(s.design).toBe('uniform');
    expect(s.init).toEqual({ kind: 'near-truth', noise: 'shrinking', noiseScale: 1 });
    expect(s.restarts).toBe(1);
    expect(s.loss).toBe('auto');
    expect(s.em).toEqual({});
    // normalising twice changes nothing
    expect(specKey(validateSpec(s))).toBe(specKey(s));
  });

  it('rejects bad fields naming the field path and value', () => {
    expect(rejection((s) => (s.replications = 0))).toBe('replications must be a positive integer ≤ 1000000. Value: 0');
    expect(rejection((s) => (s.models[0].gate = { kind: 'topk', K: 3, selectOn: 'logit' }))).toBe(
      'models[0].gate.K must be ≤ models[0].k (2). Value: 3',
    );
    expect(rejection((s) => (s.models[0].gate = { kind: 'topk', K: 1, selectOn: 'both' }))).toMatch(
      /^models\[0\]\.gate\.selectOn must be one of slope, logit\. Value: "both"/,
    );
    expect(rejection((s) => (s.models[0].gate = { kind: 'banana' }))).toMatch(
      /^models\[0\]\.gate\.kind must be one of/,
    );
    expect(rejection((s) => (s.models[0].k = 1))).toMatch(/^models\[0\]\.k must be ≥ the truth's k\* = 2/);
    // a gate of another family than its truth's: every cell's loss would fail
    expect(rejection((s) => (s.models[0].gate = { kind: 'temperature' }))).toBe(
      'models[0].gate must be of its truth\'s gate family (softmax: the Voronoi loss compares atoms of one family); its family. Value: "temperature"',
    );
    expect(
      rejection((s) => {
        s.models[0].gate = { kind: 'activation', activation: 'identity', bias: 'inside' };
        s.models[0].truth = 'temp';
      }),
    ).toMatch(
      /^models\[0\]\.gate must be of its truth's gate family \(temperature: .*Value: "activation\(identity, bias inside\)"$/,
    );
    expect(rejection((s) => (s.n = [100, -5]))).toMatch(/^n\[1\] must be a positive integer/);
    expect(rejection((s) => (s.n = { from: 1000, to: 100, count: 3 }))).toBe(
      'n.to must be ≥ n.from (1000). Value: 100',
    );
    expect(rejection((s) => (s.n = { from: 10, to: 100, count: 3, spacing: 'cubic' }))).toMatch(
      /^n\.spacing must be one of log, linear/,
    );
    expect(rejection((s) => (s.truth = 'nope'))).toMatch(/^truth must be a truth preset \(demy, /);
    expect(rejection((s) => (s.seed = 0))).toMatch(/^seed must be an integer in \[1, 4294967295\]\. Value: 0/);
    expect(rejection((s) => (s.init = { kind: 'near-truth', noise: 'loud' }))).toMatch(
      /^init\.noise must be one of shrinking, fixed/,
    );
    expect(rejection((s) => (s.init = { kind: 'kmeans', noise: 'fixed' }))).toMatch(/^init\.noise applies only/);
    expect(rejection((s) => (s.init = { kind: 'kmeans', assign: [0, 1] }))).toMatch(/^init\.assign applies only/);
    // the base spec fits k = 2 to demy (k* = 2): an assignment must list 2 atoms ending on the reference
    expect(rejection((s) => (s.init = { kind: 'near-truth', assign: [0, 0, 1] }))).toMatch(
      /^init\.assign must list one true atom per fitted expert \(k = 2\)/,
    );
    expect(rejection((s) => (s.init = { kind: 'near-truth', assign: [1, 0] }))).toMatch(
      /^init\.assign must end with the reference, true atom 1/,
    );
    expect(validateSpec({ ...base(), init: { kind: 'near-truth', assign: [0, 1] } }).init.assign).toEqual([0, 1]);
    expect(rejection((s) => (s.em = { tol: -1 }))).toBe('em.tol must be a finite number > 0. Value: -1');
    expect(rejection((s) => (s.theory = { D1: { exponent: 0.5 } }))).toMatch(
      /^theory\["D1"\]\.exponent must be a finite number ≤ 0/,
    );
    expect(rejection((s) => (s.theory = { D3: { exponent: -0.5 } }))).toMatch(/^theory\["D3"\] must name a metric/);
    expect(rejection((s) => (s.theory = { 'x_w|m=2': { exponent: -0.5 } }))).toMatch(
      /^theory\["x_w\|m=2"\] must name a metric/,
    );
    expect(rejection((s) => (s.record = { weighted: 'yes' } as never))).toMatch(/^record\.weighted/);
    expect(rejection((s) => (s.theory = { 'b_w|m=2': { exponent: -0.125 } }))).toMatch(
      /^theory\["b_w\|m=2"\] names a weighted error, recorded only with "record": \{"weighted": true\}/,
    );
    expect(rejection((s) => (s.theory = { D1: { exponent: -0.5, statistic: 'mode' } as never }))).toMatch(
      /^theory\["D1"\]\.statistic must be one of mean, median/,
    );
    expect(rejection((s) => (s.em = { accelerate: 'fast' } as never))).toMatch(
      /^em\.accelerate must be one of squarem, none/,
    );
    expect(rejection((s) => (s.models[0].em = { accelerate: 'fast' }))).toMatch(
      /^models\[0\]\.em\.accelerate must be one of squarem, none/,
    );
    expect(rejection((s) => (s.em = { wasm: 1 } as never))).toMatch(/^em\.wasm must be true or false/);
    expect(rejection((s) => (s.models[0].em = { maxIters: 3 }))).toMatch(/^models\[0\]\.em\.maxIters is not a field/);
    expect(rejection((s) => (s.init = { kind: 'near-truth', tau: 'exact' }))).toMatch(
      /^init\.tau must be one of perturbed, truth/,
    );
    expect(rejection((s) => (s.init = { kind: 'kmeans', tau: 'truth' }))).toMatch(/^init\.tau applies only/);
    expect(rejection((s) => (s.theory = { 'beta1|m=2': { law: '1/n' } }))).toMatch(
      /^theory\["beta1\|m=2"\]\.law must be "1\/log n"/,
    );
    expect(rejection((s) => (s.replicatons = 3))).toMatch(/^replicatons is not a field of an experiment spec/);
    expect(rejection((s) => s.models.push({ ...s.models[0] }))).toMatch(/^models\[1\]\.label must be unique/);
    expect(rejection((s) => (s.design = 'grid') && (s.truth = 'd2'))).toMatch(/^design "grid" needs d = 1/);
  });

  it('a prefit that leaves no more samples than free parameters at the smallest n is refused up front', () => {
    // n = 100, softmax k = 2, d = 1: 8 free parameters; prefit 12 leaves 8, 11 leaves 9
    expect(rejection((s) => (s.em = { prefit: 12 }))).toBe(
      'em.prefit leaves 8 samples per start at the smallest n (100): it must leave more than the 8 free parameters. Value: 12',
    );
    expect(validateSpec({ ...base(), em: { prefit: 11 } }).em?.prefit).toBe(11);
    expect(
      rejection((s) => {
        s.models.push({ label: 'big', gate: { kind: 'softmax' }, k: 3, em: { prefit: 10 } });
        s.theory = { 'D1|softmax': { exponent: -0.5 } };
      }),
    ).toBe(
      'models[1].em.prefit leaves 10 samples per start at the smallest n (100): it must leave more than the 13 free parameters of big. Value: 10',
    );
  });

  it("an n no larger than a model's free parameters is refused up front (every fit there would fail)", () => {
    // softmax k = 2, d = 1: 8 free parameters
    expect(rejection((s) => (s.n = [8, 100]))).toBe(
      'n must exceed the 8 free parameters (every fit at n = 8 would fail). Value: 8',
    );
    expect(validateSpec({ ...base(), n: [9, 100] }).n).toEqual([9, 100]);
    expect(
      rejection((s) => {
        s.n = [12, 100];
        s.models.push({ label: 'big', gate: { kind: 'softmax' }, k: 3 });
        s.theory = { 'D1|softmax': { exponent: -0.5 } };
      }),
    ).toBe('n must exceed the 13 free parameters of big (every fit at n = 12 would fail). Value: 12');
  });

  it('checks inline truths with their field path', () => {
    const bad = modelToJSON(truthPreset('demy')) as any;
    bad.experts.nu[1] = -1;
    expect(rejection((s) => (s.truth = bad))).toMatch(/^truth\.experts\.nu\[1\] must be > 0/);
    const ok = validateSpec({ ...base(), truth: modelToJSON(truthPreset('demy')) });
    expect(specTruths(ok)[0]!.b).toEqual(truthPreset('demy').b);
  });

  it('multi-model specs need labelled metric names', () => {
    const two = (theory: object) => ({
      ...base(),
      models: [
        { label: 'identity', gate: { kind: 'temperature' }, k: 2, truth: 'temp' },
        { label: 'tanh', gate: { kind: 'activation', activation: 'tanh' }, k: 2, truth: 'temp-tanh' },
      ],
      theory,
    });
    expect(() => validateSpec(two({ D1: { exponent: -0.5 } }))).toThrow(
      /^theory\["D1"\] must start with a model label and ":"/,
    );
    const s = validateSpec(two({ 'tanh:D1': { exponent: -0.5 }, 'identity:beta1|m=1': { law: '1/log n' } }));
    expect(s.models[1]!.gate).toEqual({ kind: 'activation', activation: 'tanh', bias: 'outside' });
    expect(specTruths(s).map((m) => m.gate.kind)).toEqual(['temperature', 'activation']);
  });
});

describe('resolveNGrid', () => {
  it('expands log and linear grids to sorted distinct integers with exact end points', () => {
    expect(resolveNGrid({ from: 100, to: 100000, count: 4, spacing: 'log' })).toEqual([100, 1000, 10000, 100000]);
    expect(resolveNGrid({ from: 10, to: 20, count: 3, spacing: 'linear' })).toEqual([10, 15, 20]);
    // rounding merges duplicates: 10 log points in [1, 3] can hold only 1, 2, 3
    expect(resolveNGrid({ from: 1, to: 3, count: 10, spacing: 'log' })).toEqual([1, 2, 3]);
    const g = resolveNGrid({ from: 100, to: 100000, count: 200, spacing: 'log' });
    expect(g[0]).toBe(100);
    expect(g.at(-1)).toBe(100000);
    expect(g.length).toBeGreaterThan(190);
    expect(g.every((v, t) => Number.isInteger(v) && (t === 0 || v > g[t - 1]!))).toBe(true);
  });
});

describe('presets', () => {
  it('every preset validates at both sizes and quick is smaller', () => {
    const names = listExperimentPresets().map((p) => p.name);
    expect(names).toEqual(['demy-exact', 'demy-over', 'topk-exact', 'topk-over', 'temp-exact', 'temp-over']);
    for (const name of names) {
      expect(isExperimentPreset(name)).toBe(true);
      const full = presetSpec(name);
      const quick = presetSpec(name, { quick: true });
      expect(quick.quick).toBe(true);
      const cells = (s: typeof full) => (s.n as number[]).length * s.replications * s.models.length;
      expect(cells(quick)).toBeLessThan(cells(full) / 20);
      expect(Object.keys(full.theory).length).toBeGreaterThan(3);
      // each size's description says its own number of starts
      for (const s of [full, quick]) {
        const says = /best of (\d+) starts|(1) start\b/.exec(s.description ?? '');
        if (s.restarts > 1 || says) expect([name, Number(says?.[1] ?? says?.[2])]).toEqual([name, s.restarts]);
      }
    }
    expect(presetSpec('temp-over', { quick: true }).description).toMatch(/, 1 start$/);
    // the paper's sizes [DEMY]: 200 sample sizes in [1e2, 1e5], 40 replications; over: [1e4, 1e5], 5 starts
    const exact = presetSpec('demy-exact');
    expect([exact.replications, (exact.n as number[])[0], (exact.n as number[]).at(-1)]).toEqual([40, 100, 100000]);
    const over = presetSpec('demy-over');
    expect([over.models[0]!.k, over.restarts, (over.n as number[])[0]]).toEqual([3, 5, 10000]);
    expect(over.theory['beta1|m=2']).toMatchObject({ exponent: -1 / 8 });
    expect(over.theory['a|m=2']).toMatchObject({ exponent: -1 / 4 });
    const temp = presetSpec('temp-exact');
    expect(temp.models.map((m) => [m.label, m.truth])).toEqual([
      ['identity', 'temp'],
      ['tanh', 'temp-tanh'],
      ['sigmoid', 'temp-sigmoid'],
    ]);
    expect(temp.theory['identity:D1']).toMatchObject({ law: '1/log n' });
    expect(temp.theory['tanh:D1']).toMatchObject({ exponent: -0.5 });
    expect(presetSpec('topk-over').models[0]!.gate).toEqual({ kind: 'topk', K: 2, selectOn: 'logit' });
    expect(() => presetSpec('demy')).toThrow(/^preset must be one of demy-exact, /);
  });
});

describe('spec files', () => {
  it('inlines a truth given as a path relative to the spec file', () => {
    const dir = tempDir('spec');
    writeFileSync(join(dir, 'truth.json'), JSON.stringify(modelToJSON(truthPreset('k3'))));
    writeFileSync(
      join(dir, 'exp.json'),
      JSON.stringify({ ...base(), truth: 'truth.json', models: [{ label: 'm', gate: { kind: 'softmax' }, k: 3 }] }),
    );
    const s = loadSpecFile(join(dir, 'exp.json'));
    expect(typeof s.truth).toBe('object');
    expect(specTruths(s)[0]!.k).toBe(3);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...base(), replications: 'many' }));
    expect(() => loadSpecFile(join(dir, 'bad.json'))).toThrow(/bad\.json: replications must be a positive integer/);
  });

  it('a rejected spec writes nothing', async () => {
    const dir = join(tempDir('spec'), 'out');
    await expect(runSweep({ ...base(), replications: -1 }, { outDir: dir, workers: 1 })).rejects.toThrow(
      /^replications must be/,
    );
    expect(existsSync(dir)).toBe(false);
  });
});

describe('the specs of docs/specs', () => {
  const specDir = join(dirname(fileURLToPath(import.meta.url)), '../../docs/specs');
  const files = readdirSync(specDir).filter((f) => f.endsWith('.json'));
  it('exist', () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) it(`${f} validates`, () => expect(loadSpecFile(join(specDir, f)).name).toBeTruthy());
});
