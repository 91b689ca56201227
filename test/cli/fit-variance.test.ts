/** `gmoe fit --variance equal` and `gmoe select --variance equal`: one variance shared by the experts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-variance');
beforeAll(() => {
  const data = simulate(truthPreset('demy'), { n: 1500, seed: 3 });
  writeDatasetCsv(join(dir, 'd.csv'), { n: data.n, d: data.d, X: data.X, y: data.y });
});

const FIT = ['fit', '--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--no-progress'];
const SELECT = ['select', '--data', 'd.csv', '--gate', 'softmax', '--k', '1,2'];

describe('--variance equal', () => {
  it('fits one variance, says so in the errors and records it in the fit block', async () => {
    const r = await gmoe([...FIT, '--variance', 'equal', '--se', '--out', 'f.json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('gate softmax, k = 2, one variance shared by all experts\n');
    expect(r.stdout).toContain('one variance shared by all experts (--variance equal)');
    const f = JSON.parse(readFileSync(join(dir, 'f.json'), 'utf8'));
    expect(f.fit.options.variance).toBe('equal');
    // the criteria count one variance: gate 2 + experts k(d + 1) + 1 = 5
    expect(f.fit.criteria.df).toBe(7);
    expect(f.fit.criteria.bic).toBeCloseTo(-2 * f.fit.logLik + 7 * Math.log(1500), 6);
    expect(r.stdout).toMatch(
      /criteria \(flexmix's definitions, smaller is better\): df 7, AIC [0-9.]+, BIC [0-9.]+, ICL/,
    );
    expect(f.experts.nu[0]).toBe(f.experts.nu[1]);
    const nuRows = f.fit.standardErrors.rows.filter((row: { param: string }) => row.param.startsWith('nu['));
    expect(nuRows).toHaveLength(2);
    expect(nuRows[0].se).toBe(nuRows[1].se);
  }, 60_000);

  it('a free fit writes no variance field', async () => {
    const r = await gmoe([...FIT, '--out', 'g.json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'g.json'), 'utf8')).fit.options).not.toHaveProperty('variance');
  }, 60_000);

  it('refuses a bad value in one line, writing nothing', async () => {
    const bad = await gmoe([...FIT, '--variance', 'same', '--out', 'h.json'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--variance must be one of free, equal\. Value: same/);
    expect(() => readFileSync(join(dir, 'h.json'))).toThrow();
  }, 60_000);

  it('runs with --optimizer hybrid, one variance to the end', async () => {
    const r = await gmoe([...FIT, '--variance', 'equal', '--optimizer', 'hybrid', '--out', 'y.json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(readFileSync(join(dir, 'y.json'), 'utf8'));
    expect(f.fit.stopReason).toBe('newton-decrement');
    expect(f.experts.nu[0]).toBe(f.experts.nu[1]);
  }, 60_000);

  it('gmoe select counts one variance (df k(d + 1) + 1 + gate)', async () => {
    const r = await gmoe([...SELECT, '--variance', 'equal', '--out', 'sel'], dir);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, 'sel', 'select.json'), 'utf8'));
    expect(s.variance).toBe('equal');
    expect(s.rows.map((row: { df: number }) => row.df)).toEqual([3, 7]);
  }, 120_000);

  it('gmoe select --variance free,equal compares the two as models, per gate', async () => {
    const r = await gmoe([...SELECT, '--variance', 'free,equal', '--out', 'cmp'], dir);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(readFileSync(join(dir, 'cmp', 'compare.json'), 'utf8'));
    expect(c.variances).toEqual(['free', 'equal']);
    expect(c.rows.map((row: { gate: string; df: number }) => `${row.gate}: ${row.df}`)).toEqual([
      'softmax, variance free: 3',
      'softmax, variance free: 8',
      'softmax, variance equal: 3',
      'softmax, variance equal: 7',
    ]);
    const eq = JSON.parse(readFileSync(join(dir, 'cmp', 'softmax-variance-equal', 'select.json'), 'utf8'));
    expect(eq.variance).toBe('equal');
    const bad = await gmoe(
      ['select', '--data', 'd.csv', '--gate', 'softmax', '--k', '1,2', '--variance', 'free,free'],
      dir,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--variance lists a rule twice\. Value: free,free/);
  }, 120_000);
});
