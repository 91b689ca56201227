/** `gmoe select --boot B [--alpha A]`: the bootstrap likelihood-ratio test end to end. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-select-boot');
beforeAll(() => writeDatasetCsv(join(dir, 'd.csv'), simulate(truthPreset('demy'), { n: 300, seed: 2 })));

const base = ['select', '--data', 'd.csv', '--gate', 'softmax', '--restarts', '1', '--init', 'kmeans', '--no-png'];
const read = (out: string, f: string) => readFileSync(join(dir, out, f), 'utf8');

describe('gmoe select --boot', () => {
  it('the tests in the table, select.json, lrt.csv and on stderr; same seed ⇒ same bytes, another seed ⇒ other T*', async () => {
    const args = [...base, '--k', '1..3', '--boot', '19', '--seed', '4'];
    const [a, b, c] = await Promise.all([
      gmoe([...args, '--out', 'a'], dir),
      gmoe([...args, '--out', 'b'], dir),
      gmoe([...base, '--k', '1..3', '--boot', '19', '--seed', '5', '--out', 'c'], dir),
    ]);
    for (const res of [a, b, c]) expect(res.code, res.stderr).toBe(0);
    const lines = a.stdout.split('\n');
    const head = lines.indexOf('bootstrap likelihood-ratio test, k0 against k0 + 1:');
    expect(head).toBeGreaterThan(0);
    expect(lines[head + 1]).toMatch(/^test\s+T\s+p\s+T\*≥T\s+B\s+failed\s+below\s+H0$/);
    expect(lines[head + 2]).toMatch(/^1 vs 2\s+\d+\.\d{3}\s+0\.0500\s+0\s+19\s+0\s+0\s+rejected$/);
    expect(lines[head + 3]).toMatch(/^2 vs 3\s+\d+\.\d{3}\s+0\.\d{4}\s+\d+\s+19\s+\d+\s+\d+\s+not rejected$/);
    expect(lines[head + 4]).toBe('bootstrap LRT (B = 19, alpha = 0.05) chooses k = 2; BIC chooses k = 2');
    expect(a.stdout).toMatch(
      /wrote a\/select\.json, a\/select\.csv, a\/lrt\.csv, a\/fit\.json, a\/select\.html, a\/lrt\.html\n/,
    );
    expect(read('a', 'lrt.html')).toContain('Plotly.newPlot(');
    expect(a.stderr).toMatch(/^gmoe select: bootstrap k = 1 vs 2: 19\/19 samples \(100%\)/m);
    expect(a.stderr).toMatch(/^gmoe select: k = 1 vs 2: T = \d+\.\d{3}, p = 0\.0500 \(0 of 19 T\* ≥ T\): rejected$/m);
    expect(a.stderr).toMatch(
      /^gmoe select: bootstrap LRT \(B = 19, alpha = 0\.05\) chooses k = 2; BIC chooses k = 2$/m,
    );

    const json = JSON.parse(read('a', 'select.json'));
    expect(json.lrt).toMatchObject({ B: 19, alpha: 0.05, seed: 4, chosen: 2, exhausted: false });
    expect(json.lrt.tests.map((t: { k0: number }) => t.k0)).toEqual([1, 2]);
    expect(json.lrt.tests[0].Tstar).toHaveLength(19);
    expect(json.lrt.tests[0].logLik1).toBeCloseTo(json.rows[1].logLik, 6);
    const csv = read('a', 'lrt.csv').trim().split('\n');
    expect(csv[0]).toBe('k0,k1,logLik0,logLik1,T,p,B,exceed,failed,below,unconverged,alpha,rejected,chosen');
    expect(csv[1]!.split(',').slice(5, 9)).toEqual(['0.05', '19', '0', '0']);
    expect(csv[2]!.split(',')[4]).toBe(String(json.lrt.tests[1].T));

    for (const f of ['select.json', 'lrt.csv']) expect(read('b', f)).toBe(read('a', f));
    const other = JSON.parse(read('c', 'select.json'));
    expect(other.lrt.tests[0].Tstar).not.toEqual(json.lrt.tests[0].Tstar);
  }, 300_000);

  it('without --boot: no lrt in select.json and no lrt.csv', async () => {
    const res = await gmoe([...base, '--k', '1..2', '--out', 'plain'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(read('plain', 'select.json'))).not.toHaveProperty('lrt');
    expect(existsSync(join(dir, 'plain', 'lrt.csv'))).toBe(false);
    expect(res.stderr).not.toContain('bootstrap');
  }, 300_000);

  it('bad --boot / --alpha: exit 2, one line naming the flag, before any fit', async () => {
    const cases: [string[], RegExp][] = [
      [['--k', '1..2', '--boot', '18'], /^gmoe: --boot must be an integer in \[19, 1000000\]\. Value: 18$/],
      [['--k', '1..2', '--boot', '99.5'], /^gmoe: --boot must be an integer in \[19, 1000000\]\. Value: 99\.5$/],
      [['--k', '1..2', '--boot', '19', '--alpha', '0'], /^gmoe: --alpha must be a number in \(0, 1\)\. Value: 0$/],
      [['--k', '1..2', '--boot', '19', '--alpha', '1'], /^gmoe: --alpha must be a number in \(0, 1\)\. Value: 1$/],
      [['--k', '1..2', '--boot', '19', '--alpha', 'x'], /^gmoe: --alpha must be a number in \(0, 1\)\. Value: x$/],
      [
        ['--k', '1..2', '--boot', '19', '--alpha', '0.01'],
        /^gmoe: --boot must be at least 99 at --alpha 0\.01 \(the smallest p-value is 1\/\(B \+ 1\)\)\. Value: 19$/,
      ],
      [['--k', '1..2', '--alpha', '0.1'], /^gmoe: --alpha needs --boot \(the bootstrap test\)\. Value: 0\.1$/],
      [
        ['--k', '2', '--boot', '19'],
        /^gmoe: --boot needs at least two consecutive k \(a range such as 1\.\.4\)\. Value: --k 2$/,
      ],
      [['--k', '1,3', '--boot', '19'], /^gmoe: --boot needs at least two consecutive k .*Value: --k 1,3$/],
    ];
    const results = await Promise.all(cases.map(([args]) => gmoe([...base, ...args, '--out', 'bad'], dir)));
    results.forEach((res, i) => {
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr.trim()).toMatch(cases[i]![1]);
    });
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  }, 300_000);
});
