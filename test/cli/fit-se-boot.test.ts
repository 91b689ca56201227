/** `gmoe fit --se boot:B | both:B`: the bootstrap table and fit block, the progress, bad values refused. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bootstrapStandardErrors } from '../../src/em/inference/boot-se.js';
import { standardErrors } from '../../src/em/inference/se.js';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { readModelFile } from '../../src/models/io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-bootse');
const sim = simulate(truthPreset('demy'), { n: 1000, seed: 4 });
const data = { n: sim.n, d: sim.d, X: sim.X, y: sim.y };
beforeAll(() => writeDatasetCsv(join(dir, 'd.csv'), data));

const fit = (se: string[], out: string, more: string[] = []) =>
  gmoe(
    ['fit', '--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--restarts', '2', ...se, ...more, '--out', out],
    dir,
  );

describe('gmoe fit --se boot:B', () => {
  it('prints the bootstrap table and writes the block the library gives at the written model', async () => {
    const r = await fit(['--se', 'boot:39'], 'b.json', ['--seed', '7']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /standard errors \(parametric bootstrap, B = 39: 39 used, 0 failed, \d+ relabelled; n = 1000; percentile interval\):\nparameter +estimate +std\. error +z +2\.5 % +97\.5 %\n/,
    );
    expect(r.stdout).toMatch(/\nbeta0\[1\] +0 +fixed\n/);
    expect(r.stdout).not.toMatch(/inverse observed information/);
    // progress off a terminal: the last count line
    expect(r.stderr).toMatch(/gmoe fit: bootstrap standard errors: 39\/39 samples/);
    const block = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')).fit;
    expect(block.standardErrors).toBeUndefined();
    const boot = block.bootstrapStandardErrors;
    expect(boot).toMatchObject({ method: 'parametric-bootstrap', B: 39, seed: 7, used: 39, failed: 0, level: 0.95 });
    expect(boot.samples).toBeUndefined();
    const lib = bootstrapStandardErrors(data, readModelFile(join(dir, 'b.json')), { B: 39, seed: 7 });
    expect(boot.rows.map((row: { param: string }) => row.param)).toEqual(lib.rows.map((row) => row.param));
    const se = boot.rows.map((row: { se: number | null }) => row.se);
    se.forEach((v: number | null, i: number) =>
      v === null ? expect(lib.rows[i]!.se).toBeNull() : expect(v).toBeCloseTo(lib.rows[i]!.se!, 10),
    );
  });

  it('both:B: the two columns side by side, both blocks; --no-progress: nothing on stderr about it', async () => {
    const r = await fit(['--se', 'both:20'], 'c.json', ['--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\nparameter +estimate +information +bootstrap +boot\/info +2\.5 % +97\.5 %\n/);
    expect(r.stderr).not.toMatch(/bootstrap/);
    const block = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')).fit;
    expect(block.bootstrapStandardErrors.B).toBe(20);
    const info = standardErrors(readModelFile(join(dir, 'c.json')), data);
    expect(block.standardErrors.rows.map((row: { se: number | null }) => row.se)).toEqual(
      info.rows.map((row) => row.se),
    );
  });

  it.each(['boot:19', 'boot:abc', 'boot', 'both:2.5', 'hessian'])(
    'refuses --se %s with exit 2, naming the flag',
    async (v) => {
      const r = await fit(['--se', v], 'bad.json');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--se must be given alone .*B an integer in \\[20, 1000000\\].*Value: ${v}`));
      expect(r.stdout).toBe('');
    },
  );
});
