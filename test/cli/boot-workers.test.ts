/** `--workers W` of `gmoe select --boot B` and `gmoe fit --se boot:B`: the same files for any W; bad W refused. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-boot-workers');
beforeAll(() => writeDatasetCsv(join(dir, 'd.csv'), simulate(truthPreset('demy'), { n: 300, seed: 2 })));

const read = (f: string) => readFileSync(join(dir, f), 'utf8');
const select = ['select', '--data', 'd.csv', '--gate', 'softmax', '--restarts', '1', '--init', 'kmeans', '--no-png'];
const fit = ['fit', '--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--restarts', '2', '--no-progress'];
const bootBlock = (f: string) => JSON.stringify(JSON.parse(read(f)).fit.bootstrapStandardErrors);

describe('--workers of the bootstraps', () => {
  it('select --boot: select.json and lrt.csv identical with --workers 1 and 2', async () => {
    const args = [...select, '--k', '1..3', '--boot', '19', '--seed', '4'];
    const one = await gmoe([...args, '--workers', '1', '--out', 's1'], dir);
    const two = await gmoe([...args, '--workers', '2', '--out', 's2'], dir);
    for (const res of [one, two]) expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(read('s1/select.json')).lrt.tests).toHaveLength(2);
    for (const f of ['select.json', 'lrt.csv']) expect(read(`s2/${f}`)).toBe(read(`s1/${f}`));
    expect(two.stderr).toMatch(/^gmoe select: bootstrap k = 2 vs 3: 19\/19 samples \(100%\)/m);
  }, 120_000);

  it('fit --se boot:B: the bootstrap block identical with --workers 1 and 2', async () => {
    const one = await gmoe([...fit, '--se', 'boot:24', '--workers', '1', '--out', 'f1.json'], dir);
    const two = await gmoe([...fit, '--se', 'boot:24', '--workers', '2', '--out', 'f2.json'], dir);
    for (const res of [one, two]) expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(read('f1.json')).fit.bootstrapStandardErrors.used).toBe(24);
    expect(bootBlock('f2.json')).toBe(bootBlock('f1.json'));
    // the printed table too, less the line naming the output file
    const table = (s: string) => s.slice(s.indexOf('standard errors'));
    expect(table(two.stdout)).toBe(table(one.stdout));
  }, 120_000);

  it('bad --workers, or --workers without a bootstrap: exit 2, one line naming the flag, before any fit', async () => {
    const cases: [string[], RegExp][] = [
      [
        [...select, '--k', '1..2', '--boot', '19', '--workers', '0'],
        /^gmoe: --workers must be an integer in \[1, 1024\]\. Value: 0$/,
      ],
      [
        [...select, '--k', '1..2', '--boot', '19', '--workers', 'x'],
        /^gmoe: --workers must be an integer in \[1, 1024\]\. Value: x$/,
      ],
      [[...select, '--k', '1..2', '--workers', '2'], /^gmoe: --workers needs --boot .*Value: 2$/],
      [
        [...fit, '--se', 'boot:20', '--workers', '1.5'],
        /^gmoe: --workers must be an integer in \[1, 1024\]\. Value: 1\.5$/,
      ],
      [[...fit, '--se', '--workers', '2'], /^gmoe: --workers needs --se boot:B or both:B .*Value: 2$/],
    ];
    const runs = await Promise.all(cases.map(([args], i) => gmoe([...args, '--out', `bad${i}`], dir)));
    runs.forEach((res, i) => {
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr.trim()).toMatch(cases[i]![1]);
      expect(existsSync(join(dir, `bad${i}`))).toBe(false);
    });
  }, 120_000);
});
