/** `gmoe fit --bounds` and `gmoe sweep --bounds` end to end. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDatasetCsv } from '../../src/models/dataset-io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { parseBoundsArg, formatBoundsArg } from '../../src/cli/commands/bounds-arg.js';
import { specFromArgs } from '../../src/cli/commands/sweep.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-bounds');
beforeAll(() => {
  const data = simulate(truthPreset('demy'), { n: 1500, seed: 4 });
  writeDatasetCsv(join(dir, 'd.csv'), { n: data.n, d: data.d, X: data.X, y: data.y });
});

const FIT = ['fit', '--data', 'd.csv', '--gate', 'softmax', '--k', '2', '--init', 'near-truth:demy'];

describe('--bounds', () => {
  it('gmoe fit: fits inside the box, records it and says it ended on a bound', async () => {
    const r = await gmoe([...FIT, '--bounds', 'beta1=10,nu=0.05:1', '--out', 'b.json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'));
    expect(json.fit.options.bounds).toEqual({ beta1: 10, nu: [0.05, 1] });
    const beta1 = (json.gating.beta1 as number[][]).flat();
    expect(Math.max(...beta1.map(Math.abs))).toBe(10);
    for (const v of json.experts.nu as number[]) expect(v >= 0.05 && v <= 1).toBe(true);
    expect(r.stderr).toMatch(/warning: ended on its bounds \(\|β1\| ≤ 10, ν ∈ \[0\.05, 1\]\): beta1\[0\]\[0\] = 10/);
  });

  it('gmoe fit: a bad --bounds is one line naming the field and the value, exit 2, nothing written', async () => {
    for (const [arg, msg] of [
      ['beta1=-1', 'gmoe: --bounds beta1 must be a finite number > 0. Value: -1'],
      ['nu=2:1', 'gmoe: --bounds nu must be [min, max] with 0 < min ≤ max (finite numbers). Value: [2,1]'],
      ['tau=x:1', 'gmoe: --bounds tau[0] must be a finite number > 0. Value: "x"'],
      ['beta=1', 'gmoe: --bounds beta is not a field of bounds (allowed: beta1, beta0, nu, tau)'],
      ['beta1', 'gmoe: --bounds must read beta1=B,beta0=B0,nu=MIN:MAX,tau=MIN:MAX (any subset). Value: beta1'],
    ] as const) {
      const r = await gmoe([...FIT, '--bounds', arg, '--out', 'bad.json'], dir);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(msg);
      expect(existsSync(join(dir, 'bad.json'))).toBe(false);
    }
  });

  it('gmoe sweep --bounds sets em.bounds of the spec (and --help shows the syntax)', async () => {
    const spec = specFromArgs('demy-over', { quick: true, bounds: 'beta1=50,beta0=20,nu=0.01:10' });
    expect(spec.em).toEqual({
      optimizer: 'hybrid',
      maxIter: 3000,
      bounds: { beta1: 50, beta0: 20, nu: [0.01, 10] },
    });
    expect(specFromArgs('demy-over', { quick: true }).em).toEqual({ optimizer: 'hybrid', maxIter: 3000 });
    expect(() => specFromArgs('demy-over', { quick: true, bounds: 'beta0=0' })).toThrow(
      '--bounds beta0 must be a finite number > 0. Value: 0',
    );
    const b = parseBoundsArg('tau=0.5:2,beta0=3');
    expect(parseBoundsArg(formatBoundsArg(b))).toEqual(b);
    const help = await gmoe(['sweep', '--help'], dir);
    expect(help.stdout).toMatch(/--bounds <spec>/);
  });
});
