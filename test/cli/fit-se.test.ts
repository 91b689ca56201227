/** `gmoe fit --se`: prints the standard-error table with its notes and writes it into the fit block. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { readModelFile } from '../../src/models/io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { standardErrors } from '../../src/em/inference/se.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-se');
const data = simulate(truthPreset('temp'), { n: 1500, seed: 2 });
beforeAll(() => writeDatasetCsv(join(dir, 'd.csv'), { n: data.n, d: data.d, X: data.X, y: data.y }));

describe('gmoe fit --se', () => {
  it('prints the table and the notes, and writes the errors the library gives at the written model', async () => {
    const r = await gmoe(
      [
        'fit',
        '--data',
        'd.csv',
        '--gate',
        'temperature',
        '--k',
        '2',
        '--init',
        'near-truth:temp',
        '--se',
        '--out',
        'f.json',
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /standard errors \(inverse observed information, n = 1500, status ok\):\nparameter +estimate +std\. error +z\n/,
    );
    expect(r.stdout).toMatch(/\ntau +[\d.]+ +fixed\n/);
    expect(r.stdout).toMatch(/note: τ held at its fitted value/);
    expect(r.stdout).toMatch(
      /note: reference expert 2 \(the last; index 1 in the names\): beta0\[1\], beta1\[1\]\[0\] fixed at 0/,
    );
    const json = JSON.parse(readFileSync(join(dir, 'f.json'), 'utf8'));
    const se = json.fit.standardErrors;
    expect(se.status).toBe('ok');
    const lib = standardErrors(readModelFile(join(dir, 'f.json')), data);
    expect(se.rows.map((row: { se: number | null }) => row.se)).toEqual(lib.rows.map((row) => row.se));
    const a0 = se.rows.find((row: { param: string }) => row.param === 'a[0][0]');
    expect(a0.se).toBeGreaterThan(0);
    expect(r.stdout).toContain(`a[0][0]`);
  });

  it('without --se: no table, no block', async () => {
    const r = await gmoe(['fit', '--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--out', 'g.json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/standard errors/);
    expect(JSON.parse(readFileSync(join(dir, 'g.json'), 'utf8')).fit.standardErrors).toBeUndefined();
  });
});
