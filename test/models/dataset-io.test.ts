import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  datasetCsvChunks,
  parseDatasetCsv,
  readDatasetCsv,
  validateDataset,
  writeDatasetCsv,
} from '../../src/models/dataset-io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import type { Dataset } from '../../src/models/types.js';
import { ValidationError } from '../../src/models/validate.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('csv');

function expectBitwise(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(b.length).toBe(a.length);
  for (let t = 0; t < a.length; t++) if (!Object.is(a[t], b[t])) expect(b[t], `entry ${t}`).toBe(a[t]);
}

describe('dataset CSV: round trip', () => {
  it('simulated data reads back as the identical doubles; the same seed gives byte-identical files', () => {
    const m = truthPreset('d2');
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    writeDatasetCsv(a, simulate(m, { n: 2000, seed: 7 }));
    writeDatasetCsv(b, simulate(m, { n: 2000, seed: 7 }));
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const data = simulate(m, { n: 2000, seed: 7 });
    const back = readDatasetCsv(a);
    expect([back.n, back.d]).toEqual([2000, 2]);
    expectBitwise(data.X, back.X);
    expectBitwise(data.y, back.y);
    expect(back.z).toBeUndefined();
    expect(readFileSync(a, 'utf8').split('\n')[0]).toBe('x1,x2,y');
  });

  it('extreme doubles survive: −0, subnormals, the largest double, many digits', () => {
    const X = Float64Array.of(-0, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308, 0.1 + 0.2, 1e21);
    const y = Float64Array.of(1 / 3, -1e-7, 123456789012345680000, 0);
    const data: Dataset = { n: 4, d: 1, X: X.subarray(0, 4), y };
    const path = join(dir, 'extreme.csv');
    writeDatasetCsv(path, data);
    const back = readDatasetCsv(path);
    expectBitwise(data.X, back.X);
    expectBitwise(data.y, back.y);
  });

  it('an optional z column carries the latent labels', () => {
    const data = simulate(truthPreset('k3'), { n: 50, seed: 3 });
    const path = join(dir, 'z.csv');
    writeDatasetCsv(path, data, { z: data.z });
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe('x1,y,z');
    const back = readDatasetCsv(path);
    expect(back.z).toEqual(data.z);
  });

  it('chunked output equals the file, whatever the chunk size', () => {
    const data = simulate(truthPreset('demy'), { n: 101, seed: 9 });
    const path = join(dir, 'chunks.csv');
    writeDatasetCsv(path, data);
    const text = readFileSync(path, 'utf8');
    expect([...datasetCsvChunks(data, { rowsPerChunk: 7 })].join('')).toBe(text);
    expect([...datasetCsvChunks(data, { rowsPerChunk: 1000 })].join('')).toBe(text);
  });

  it('accepts CRLF line ends and a missing final newline', () => {
    const d = parseDatasetCsv('x1,y\r\n1,2\r\n3,4', 'crlf.csv');
    expect(Array.from(d.X)).toEqual([1, 3]);
    expect(Array.from(d.y)).toEqual([2, 4]);
  });
});

describe('dataset CSV: bad input names the line and the column', () => {
  const cases: [string, string, RegExp][] = [
    ['NaN', 'x1,y\n1,2\n3,NaN\n', /^f.csv: line 3, column y: must be a finite number. Value: "NaN"$/],
    ['Infinity', 'x1,y\n-Infinity,2\n', /^f.csv: line 2, column x1: must be a finite number. Value: "-Infinity"$/],
    [
      'overflow',
      'x1,y\n1e999,2\n',
      /^f.csv: line 2, column x1: must be a finite number \(overflows a double\). Value: "1e999"$/,
    ],
    [
      'empty value',
      'x1,x2,y\n1,,2\n',
      /^f.csv: line 2, column x2: missing value \(drop such rows with --drop-missing, library: dropMissing\). Value: ""$/,
    ],
    ['NA', 'x1,y\n1,2\nNA,3\n', /^f.csv: line 3, column x1: missing value .*Value: "NA"$/],
    ['non-numeric', 'x1,y\n1,2\n1,abc\n', /^f.csv: line 3, column y: not a number. Value: "abc"$/],
    ['hex', 'x1,y\n0x10,2\n', /^f.csv: line 2, column x1: not a number. Value: "0x10"$/],
    ['too few columns', 'x1,x2,y\n1,2,3\n1,2\n', /^f.csv: line 3: expected 3 columns \(x1,x2,y\), found 2$/],
    ['too many columns', 'x1,y\n1,2\n1,2,3\n', /^f.csv: line 3: expected 2 columns \(x1,y\), found 3$/],
    ['unclosed quote', 'x1,y\n1,2\n"3,4\n', /^f.csv: line 3: malformed CSV \(Quote Not Closed\)$/],
    // the line the quote opened on, not the end of the file where the parser stopped
    ['unclosed quote mid-file', 'x1,y\n1,2\n"3,4\n5,6\n7,8\n', /^f.csv: line 3: malformed CSV \(Quote Not Closed\)$/],
    [
      'unclosed quote after a doubled one',
      'x1,y\n"1""",2\n5,"6\n7,8\n',
      /^f.csv: line 3: malformed CSV \(Quote Not Closed\)$/,
    ],
    ['text after a closing quote', 'x1,y\n1,"2"x\n', /^f.csv: line 2: malformed CSV \(Invalid Closing Quote\)$/],
    ['duplicate column names', 'x1,y,y\n1,2,3\n', /^f.csv: line 1: column name "y" appears twice$/],
    ['empty row inside', 'x1,y\n1,2\n\n3,4\n', /^f.csv: line 3: empty row$/],
    [
      'header without y',
      'x1,x2\n1,2\n',
      /^f.csv: line 1: the columns are "x1","x2", not the layout x1,...,xd,y \(optionally ,z\): choose them with --y COL and --x COL,COL,... \(library: options y and x\)$/,
    ],
    ['header out of order', 'x2,x1,y\n1,2,3\n', /^f.csv: line 1: the columns are "x2","x1","y", not the layout/],
    ['header in capitals', 'X1,Y\n1,2\n', /line 1: the columns are "X1","Y", not the layout/],
    ['header y only', 'y\n1\n', /line 1: the columns are "y", not the layout/],
    ['no header', '1,2\n3,4\n', /line 1: the columns are "1","2", not the layout/],
    ['empty file', '', /^f.csv: empty file/],
    ['header only', 'x1,y\n', /^f.csv: no data rows after the header$/],
    [
      'negative z',
      'x1,y,z\n1,2,-1\n',
      /^f.csv: line 2, column z: must be an expert index \(integer ≥ 0\). Value: "-1"$/,
    ],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      expect(() => parseDatasetCsv(text, 'f.csv')).toThrow(ValidationError);
      expect(() => parseDatasetCsv(text, 'f.csv')).toThrow(message);
    });
  }

  it('readDatasetCsv names the file, and a missing file', () => {
    const path = join(dir, 'nan.csv');
    writeFileSync(path, 'x1,y\n0.5,NaN\n');
    expect(() => readDatasetCsv(path)).toThrow(`${path}: line 2, column y: must be a finite number. Value: "NaN"`);
    expect(() => readDatasetCsv(join(dir, 'missing.csv'))).toThrow(/cannot read data file .*missing.csv/);
  });
});

describe('dataset CSV: any CSV, columns by name', () => {
  // what R's write.csv(data.frame(yn, x, grp)) writes: quoted header, an unnamed row-name column, CRLF on Windows
  const rCsv =
    '"","yn","x","grp"\r\n"1",0.5,1.25,"a"\r\n"2",-1e-04,2,"b, c"\r\n"3",NA,3,"d"\r\n"4",2.5,"4","e ""q"""\r\n';

  it('reads an R write.csv file with row names: y and x by name, NA reported or dropped', () => {
    expect(() => parseDatasetCsv(rCsv, 'r.csv', { y: 'yn', x: ['x'] })).toThrow(
      /^r.csv: line 4, column yn: missing value .*Value: "NA"$/,
    );
    const d = parseDatasetCsv(rCsv, 'r.csv', { y: 'yn', x: ['x'], dropMissing: true });
    expect([d.n, d.d, d.dropped]).toEqual([3, 1, 1]);
    expect(Array.from(d.X)).toEqual([1.25, 2, 4]);
    expect(Array.from(d.y)).toEqual([0.5, -1e-4, 2.5]);
    expect(d.columns).toEqual({ x: ['x'], y: 'yn' });
  });

  it('a missing value in a column that is not chosen does not matter; a text column is never read', () => {
    const d = parseDatasetCsv('"","yn","x","w"\n"1",1,2,NA\n"2",3,4,5\n', 'r.csv', { y: 'yn', x: ['x'] });
    expect([d.n, d.dropped]).toEqual([2, 0]);
  });

  it("a column that is not chosen may lack a name or repeat one (a spreadsheet's trailing comma); a chosen one may not", () => {
    const trailing = 'x,y,\n0.1,1,\n0.2,3,\n';
    expect(Array.from(parseDatasetCsv(trailing, 't.csv', { y: 'y', x: ['x'] }).y)).toEqual([1, 3]);
    // x by default is every column but y: the unnamed one too
    expect(() => parseDatasetCsv(trailing, 't.csv', { y: 'y' })).toThrow(
      /^t\.csv: line 1: column 3 has no name\. Value: "x,y,"$/,
    );
    const twice = 'x,y,g,g\n0.1,1,a,b\n0.2,3,c,d\n';
    expect(parseDatasetCsv(twice, 'g.csv', { y: 'y', x: ['x'] }).n).toBe(2);
    expect(() => parseDatasetCsv(twice, 'g.csv', { y: 'y', x: ['g'] })).toThrow(
      /^g\.csv: line 1: column name "g" appears twice$/,
    );
  });

  it('the column options are checked: a typo is refused, not ignored; a wrong type names the option', () => {
    const text = 'x,y\n0.1,1\n0.2,3\n';
    expect(() => parseDatasetCsv(text, 'f.csv', { y: 'y', dropmissing: true } as never)).toThrow(
      /^options\.dropmissing is not an option \(allowed: y, x, dropMissing\)\. Value: true$/,
    );
    expect(() => parseDatasetCsv(text, 'f.csv', { y: 'y', x: 'x' } as never)).toThrow(
      /^options\.x must be an array of column names\. Value: "x"$/,
    );
    expect(() => parseDatasetCsv(text, 'f.csv', { y: 1 } as never)).toThrow(/^options\.y must be a column name/);
  });

  it("a ';'- or tab-separated file is said to be one (R's write.csv2, a spreadsheet's export)", () => {
    expect(() => parseDatasetCsv('x1;y\n0,5;1,2\n', 's.csv')).toThrow(
      /^s\.csv: line 1: the file looks ';'-separated \(header "x1;y"\); gmoe reads comma-separated CSV with a decimal point/,
    );
    expect(() => parseDatasetCsv('x1\ty\n0.5\t1\n', 't.csv', { y: 'y' })).toThrow(
      /^t\.csv: line 1: the file looks tab-separated/,
    );
  });

  it('write.table style row names (header one cell shorter) and x defaulting to every other column', () => {
    const d = parseDatasetCsv('a,b,y\nr1,1,2,3\nr2,4,5,6\n', 't.csv', { y: 'y' });
    expect(d.columns).toEqual({ x: ['a', 'b'], y: 'y' });
    expect(Array.from(d.X)).toEqual([1, 2, 4, 5]);
    expect(Array.from(d.y)).toEqual([3, 6]);
  });

  it('x in the order given; a quoted field with a line break shifts the line numbers', () => {
    const text = 'note,b,a,y\n"two\nlines",1,2,3\nz,4,5,x\n';
    expect(() => parseDatasetCsv(text, 'q.csv', { y: 'a', x: ['y', 'b'] })).toThrow(
      /^q.csv: line 4, column y: not a number. Value: "x"$/,
    );
    const ok = parseDatasetCsv('note,b,a,y\n"two\nlines",1,2,3\nz,4,5,6\n', 'q.csv', { y: 'a', x: ['y', 'b'] });
    expect(Array.from(ok.X)).toEqual([3, 1, 6, 4]);
    expect(Array.from(ok.y)).toEqual([2, 5]);
  });

  it('errors name the column and list the columns', () => {
    expect(() => parseDatasetCsv(rCsv, 'r.csv', { y: 'Y' })).toThrow(
      /^r.csv: no column "Y" for y; the columns are "yn","x","grp"$/,
    );
    expect(() => parseDatasetCsv(rCsv, 'r.csv', { y: 'yn', x: ['x', 'w'] })).toThrow(
      /^r.csv: no column "w" for x; the columns are "yn","x","grp"$/,
    );
    expect(() => parseDatasetCsv(rCsv, 'r.csv', { y: 'yn', x: ['yn'] })).toThrow(/cannot be both y and x/);
    expect(() => parseDatasetCsv(rCsv, 'r.csv', { y: 'yn', x: ['x', 'x'] })).toThrow(/x names column "x" twice/);
    expect(() => parseDatasetCsv(rCsv, 'r.csv', { y: 'yn', x: ['grp'], dropMissing: true })).toThrow(
      /^r.csv: line 2, column grp: not a number. Value: "a"$/,
    );
    expect(() => parseDatasetCsv('y,x\nNA,1\n1,\n', 'm.csv', { y: 'y', dropMissing: true })).toThrow(
      /^m.csv: no rows left: all 2 have a missing value$/,
    );
  });

  it('a text column taken into x by default (only --y given) says how to choose the inputs', () => {
    // R's write.csv of data.frame(yn, x, grp): with --y alone, x defaults to x and grp, a factor
    expect(() => parseDatasetCsv(rCsv, 'r.csv', { y: 'yn', dropMissing: true })).toThrow(
      /^r.csv: line 2, column grp: not a number \(x defaults to every column but y: choose the inputs with --x COL,COL,\.\.\., library: option x\)\. Value: "a"$/,
    );
    // x named: the plain message (the user chose that column)
    expect(() => parseDatasetCsv(rCsv, 'r.csv', { y: 'yn', x: ['x', 'grp'], dropMissing: true })).toThrow(
      /^r.csv: line 2, column grp: not a number. Value: "a"$/,
    );
    expect(parseDatasetCsv(rCsv, 'r.csv', { y: 'yn', x: ['x'], dropMissing: true }).n).toBe(3);
  });

  it('the default layout still reads with y named explicitly (x = x1..xd, z left out)', () => {
    const d = parseDatasetCsv('x1,x2,y,z\n1,2,3,0\n', 'f.csv', { y: 'y' });
    expect(d.columns).toEqual({ x: ['x1', 'x2'], y: 'y' });
    expect(d.z).toBeUndefined();
  });
});

describe('validateDataset', () => {
  const ok = (): Dataset => ({ n: 2, d: 2, X: Float64Array.of(0, 1, 2, 3), y: Float64Array.of(4, 5) });

  it('accepts a good dataset and rejects NaN, Infinity and wrong shapes by row and column', () => {
    expect(() => validateDataset(ok())).not.toThrow();
    const nan = ok();
    nan.X[3] = NaN;
    expect(() => validateDataset(nan)).toThrow(
      /^data.X\[1\]\[1\] \(row 1, column x2\) must be a finite number. Value: NaN$/,
    );
    const inf = ok();
    inf.y[0] = -Infinity;
    expect(() => validateDataset(inf, 'train')).toThrow(
      /^train.y\[0\] \(row 0, column y\) must be a finite number. Value: -Infinity$/,
    );
    expect(() => validateDataset({ ...ok(), X: new Float64Array(3) })).toThrow(
      /data.X must have length n × d = 2 × 2 = 4. Value: 3/,
    );
    expect(() => validateDataset({ ...ok(), y: new Float64Array(3) })).toThrow(
      /data.y must have length n = 2. Value: 3/,
    );
    expect(() => validateDataset({ ...ok(), n: 0 })).toThrow(/data.n must be an integer ≥ 1. Value: 0/);
    expect(() => validateDataset({ ...ok(), X: [0, 1, 2, 3] as unknown as Float64Array })).toThrow(
      /data.X must be a Float64Array/,
    );
  });

  it('writeDatasetCsv writes nothing for bad data', () => {
    const sub = mkdtempSync(join(dir, 'bad-'));
    const bad = ok();
    bad.y[1] = NaN;
    expect(() => writeDatasetCsv(join(sub, 'bad.csv'), bad)).toThrow(
      /data.y\[1\] \(row 1, column y\) must be a finite number/,
    );
    expect(readdirSync(sub)).toEqual([]);
  });
});
