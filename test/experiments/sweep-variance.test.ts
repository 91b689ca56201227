/** Sweeps with one variance shared by the experts: the spec's em.variance, `gmoe sweep --variance`. */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createCellEvaluator } from '../../src/experiments/cell.js';
import { planCells } from '../../src/experiments/plan.js';
import { runSweep } from '../../src/experiments/runner.js';
import { validateSpec } from '../../src/experiments/spec.js';
import { recordFingerprint } from '../../src/experiments/store.js';
import type { CellRecord } from '../../src/experiments/types.js';
import { specFromArgs } from '../../src/cli/commands/sweep.js';
import { tempDir } from '../helpers/temp-dir.js';

const BIN = fileURLToPath(new URL('../../bin/gmoe.js', import.meta.url));
const tmp = () => tempDir('sweep-variance');

// demy's experts have different variances (ν* = 0.09, 0.16): the equal-variance fit is misspecified
const base = {
  name: 'shared',
  truth: 'demy',
  models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
  n: [300],
  replications: 2,
  loss: 'D1',
  theory: { D1: { exponent: -0.5 } },
  record: { hellingerPoints: 200 },
  seed: 4,
};

function gmoe(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** results.jsonl's records, sorted, each without its `seconds`. */
function comparable(dir: string): string {
  return readFileSync(join(dir, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => recordFingerprint(JSON.parse(l) as CellRecord))
    .sort()
    .join('\n');
}

const json = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));

describe('em.variance in sweeps', () => {
  it('is free or equal, in the spec and per model; absent, the spec has no such field; a bad value names it', () => {
    expect(validateSpec({ ...base, em: { variance: 'equal' } }).em).toEqual({ variance: 'equal' });
    const own = validateSpec({ ...base, models: [{ ...base.models[0], em: { variance: 'equal' } }] });
    expect(own.models[0]!.em).toEqual({ variance: 'equal' });
    const free = validateSpec(base);
    expect(free.em).toEqual({});
    expect(JSON.stringify(free)).not.toMatch(/variance/);
    expect(() => validateSpec({ ...base, em: { variance: 'same' } })).toThrow(
      /^em\.variance must be one of free, equal\. Value: "same"/,
    );
    expect(() => validateSpec({ ...base, models: [{ ...base.models[0], em: { variance: 1 } }] })).toThrow(
      /^models\[0\]\.em\.variance must be one of free, equal\. Value: 1/,
    );
  });

  it("a prefit's sample count is checked against the shared variance's parameters (k − 1 fewer)", () => {
    // n = 300, softmax k = 2, d = 1: 8 free parameters, 7 with one variance; prefit 37 leaves 8 samples
    expect(() => validateSpec({ ...base, em: { prefit: 37 } })).toThrow(/^em\.prefit leaves 8 samples/);
    expect(validateSpec({ ...base, em: { prefit: 37, variance: 'equal' } }).em).toEqual({
      prefit: 37,
      variance: 'equal',
    });
  });

  it("a cell's fit shares one variance among the experts; a model's own em.variance overrides the spec's", () => {
    const spec = validateSpec({
      ...base,
      models: [
        { label: 'shared', gate: { kind: 'softmax' }, k: 2 },
        { label: 'own', gate: { kind: 'softmax' }, k: 2, em: { variance: 'free' } },
      ],
      theory: { 'shared:D1': { exponent: -0.5 } },
      em: { variance: 'equal' },
    });
    const evaluate = createCellEvaluator(spec);
    const [shared, own] = planCells(spec)
      .filter((c) => c.rep === 1)
      .map((c) => evaluate(c));
    expect([shared!.model, shared!.status, own!.model, own!.status]).toEqual(['shared', 'ok', 'own', 'ok']);
    const [s0, s1] = shared!.fitted!.nu;
    const [o0, o1] = own!.fitted!.nu;
    expect(s1).toBe(s0);
    expect(Math.abs(o1! - o0!)).toBeGreaterThan(0.02);
    // the same data and start: the constrained fit is another fit, of a lower likelihood
    expect(shared!.logLik).toBeLessThan(own!.logLik);
    expect(shared!.metrics['shared:D1']).not.toBe(own!.metrics['own:D1']);
  });

  it('1 and 2 workers give the same records; summary.json and the figure say the variance is shared', async () => {
    const spec = validateSpec({ ...base, em: { variance: 'equal' } });
    const root = tmp();
    const one = join(root, 'one');
    const two = join(root, 'two');
    await runSweep(spec, { outDir: one, workers: 1, plots: 'html' });
    await runSweep(spec, { outDir: two, workers: 2, plots: 'none' });
    expect(comparable(two)).toBe(comparable(one));
    const records = comparable(one)
      .split('\n')
      .map((l) => JSON.parse(l) as CellRecord);
    expect(records).toHaveLength(2);
    for (const r of records) {
      expect(r.status).toBe('ok');
      expect(new Set(r.fitted!.nu).size).toBe(1);
    }
    expect(json(one, 'spec.json').spec.em).toEqual({ variance: 'equal' });
    expect(json(one, 'summary.json').variance).toEqual({ softmax: 'equal' });
    expect(readFileSync(join(one, 'plot.html'), 'utf8')).toMatch(/one variance shared by the experts/);
  });
});

describe('gmoe sweep --variance', () => {
  it('sets em.variance of the spec (free: none); a bad value names the option', () => {
    expect(specFromArgs('demy-exact', { quick: true, variance: 'equal' }).em).toEqual({ variance: 'equal' });
    expect(specFromArgs('demy-exact', { quick: true, variance: 'free' })).toEqual(
      specFromArgs('demy-exact', { quick: true }),
    );
    expect(() => specFromArgs('demy-exact', { quick: true, variance: 'same' })).toThrow(
      '--variance must be one of free, equal. Value: same',
    );
  });

  it('writes em.variance into spec.json and the summary; without the flag neither has a variance', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ ...base, replications: 1 }));
    const args = ['sweep', 'tiny.json', '--workers', '1', '--no-png'];
    const [equal, free] = await Promise.all([
      gmoe([...args, '--variance', 'equal', '--out', 'equal'], dir),
      gmoe([...args, '--out', 'free'], dir),
    ]);
    expect([equal.code, free.code]).toEqual([0, 0]);
    expect(json(join(dir, 'equal'), 'spec.json').spec.em).toEqual({ variance: 'equal' });
    expect(json(join(dir, 'equal'), 'summary.json').variance).toEqual({ softmax: 'equal' });
    const rec = JSON.parse(readFileSync(join(dir, 'equal', 'results.jsonl'), 'utf8')) as CellRecord;
    expect(new Set(rec.fitted!.nu).size).toBe(1);
    expect(json(join(dir, 'free'), 'spec.json').spec.em).toEqual({});
    for (const file of ['spec.json', 'summary.json'])
      expect(readFileSync(join(dir, 'free', file), 'utf8')).not.toMatch(/"variance"/);
    expect(readFileSync(join(dir, 'free', 'plot.html'), 'utf8')).not.toMatch(/one variance shared/);
  });
});
