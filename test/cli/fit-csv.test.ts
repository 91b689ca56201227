/** `gmoe fit` on a CSV that R wrote (row names, quoted header, NA, other column names), end to end. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { fitMoE } from '../../src/em/index.js';
import { DEFAULT_STARTS } from '../../src/cli/commands/fit.js';
import { gmoe } from './run-gmoe.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('cli-fit-csv');
const truth = truthPreset('demy');
const data = simulate(truth, { n: 600, seed: 2 });

/** The file write.csv(data.frame(yn = y, x = x, grp = ...)) writes, with one NA in yn on row 5. */
function rCsv(): string {
  const lines = ['"","yn","x","grp"'];
  for (let i = 0; i < data.n; i++) lines.push(`"${i + 1}",${i === 4 ? 'NA' : data.y[i]},${data.X[i]},"g${i % 3}"`);
  return `${lines.join('\r\n')}\r\n`;
}

beforeAll(() => writeFileSync(join(dir, 'r.csv'), rCsv()));

describe('gmoe fit --y --x --drop-missing', () => {
  it('an NA is refused with line, column and value; --drop-missing fits the other rows like the library', async () => {
    const base = ['fit', '--data', 'r.csv', '--y', 'yn', '--x', 'x', '--gate', 'softmax', '--k', '2', '--seed', '4'];
    const bad = await gmoe([...base, '--out', 'bad.json'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'gmoe: r.csv: line 6, column yn: missing value (drop such rows with --drop-missing, library: dropMissing). Value: "NA"\n',
    );
    expect(existsSync(join(dir, 'bad.json'))).toBe(false);
    const r = await gmoe([...base, '--drop-missing', '--out', 'f.json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('r.csv: y = yn, x = x; dropped 1 row(s) with a missing value, 599 left');
    const json = JSON.parse(readFileSync(join(dir, 'f.json'), 'utf8'));
    expect(json.fit.n).toBe(599);
    expect(json.fit.options.columns).toEqual({ x: ['x'], y: 'yn' });
    const keep = Array.from({ length: data.n }, (_, i) => i).filter((i) => i !== 4);
    const X = Float64Array.from(keep, (i) => data.X[i]!);
    const y = Float64Array.from(keep, (i) => data.y[i]!);
    // gmoe fit's defaults: --init auto with DEFAULT_STARTS starts
    const lib = fitMoE(
      { n: 599, d: 1, X, y },
      { gate: { kind: 'softmax' }, k: 2, init: { kind: 'auto' }, restarts: DEFAULT_STARTS, seed: 4 },
    );
    expect(json.fit.logLik).toBe(lib.logLik);
  });

  it('a file without the x1..xd,y layout and no --y lists its columns and the flags', async () => {
    const r = await gmoe(['fit', '--data', 'r.csv', '--gate', 'softmax', '--k', '2', '--out', 'g.json'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'gmoe: r.csv: line 1: the columns are "yn","x","grp", not the layout x1,...,xd,y (optionally ,z): choose them with --y COL and --x COL,COL,... (library: options y and x)\n',
    );
    const u = await gmoe(
      ['fit', '--data', 'r.csv', '--y', 'yn', '--x', 'x,w', '--gate', 'softmax', '--k', '2', '--out', 'g.json'],
      dir,
    );
    expect(u.code).toBe(2);
    expect(u.stderr).toBe('gmoe: r.csv: no column "w" for x; the columns are "yn","x","grp"\n');
  });
  it('a constant, a linearly dependent or a constant y column is refused by its name (fit and select)', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `"${i + 1}",${data.y[i]},${data.X[i]},5,${2 * data.X[i]! + 1},7`);
    writeFileSync(join(dir, 'cols.csv'), `"","yn","dose","c","dose2","r"\n${rows.join('\n')}\n`);
    const args = (y: string, x: string, cmd = 'fit'): string[] => [
      cmd,
      ...['--data', 'cols.csv', '--y', y, '--x', x, '--gate', 'softmax', '--k', cmd === 'fit' ? '2' : '1..2'],
      ...['--out', cmd === 'fit' ? 'never.json' : 'never'],
    ];
    const runs = await Promise.all([
      gmoe(args('yn', 'dose,c'), dir),
      gmoe(args('yn', 'dose,dose2'), dir),
      gmoe(args('r', 'dose'), dir),
      gmoe(args('yn', 'c,dose', 'select'), dir),
    ]);
    expect(runs.map((r) => [r.code, r.stderr])).toEqual([
      [
        2,
        'gmoe: cols.csv: x column "c" is constant (every value 5): the gate and expert slopes on it are not identifiable; leave it out of --x\n',
      ],
      [
        2,
        'gmoe: cols.csv: the x columns "dose","dose2" are linearly dependent (one is a linear combination of the others, up to rounding): leave one out of --x\n',
      ],
      [2, 'gmoe: cols.csv: y column "r" is constant (every value 7): the likelihood is unbounded\n'],
      [
        2,
        'gmoe: cols.csv: x column "c" is constant (every value 5): the gate and expert slopes on it are not identifiable; leave it out of --x\n',
      ],
    ]);
    expect(existsSync(join(dir, 'never.json')) || existsSync(join(dir, 'never'))).toBe(false);
  });
});
