/**
 * Datasets as CSV: header `x1,...,xd,y` (optionally a last column `z`, the latent expert index),
 * one sample per line. Numbers are written in JavaScript's shortest round-trip form (String(x)),
 * so reading a file back gives the identical doubles and the same data gives byte-identical files.
 */
import { readTextFile, writeFileAtomic } from '../io/index.js';
import type { Dataset } from './types.js';
import { ValidationError, fail, formatValue } from './validate.js';

/** A dataset read from CSV; `z` (0-based expert labels) when the file has a z column. */
export type CsvDataset = Dataset & { z?: Int32Array };

const columnName = (d: number, c: number): string => (c < d ? `x${c + 1}` : c === d ? 'y' : 'z');

/**
 * Checks a dataset: n ≥ 1 and d ≥ 1 integers, X a Float64Array of n × d (row-major), y of n,
 * every entry finite; `z`, when present, n integers ≥ 0.
 * @param what name used in messages (e.g. "data", "train.csv")
 * @throws ValidationError naming the row (0-based) and column, e.g.
 *   `data.X[3][0] (row 3, column x1) must be a finite number. Value: NaN`
 */
export function validateDataset(data: Dataset, what = 'data'): void {
  if (typeof data !== 'object' || data === null) fail(what, 'must be a dataset { n, d, X, y }', data);
  const { n, d, X, y } = data;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) fail(`${what}.n`, 'must be an integer ≥ 1', n);
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) fail(`${what}.d`, 'must be an integer ≥ 1', d);
  if (!(X instanceof Float64Array)) fail(`${what}.X`, `must be a Float64Array of n × d = ${n * d} (row-major)`, X);
  if (X.length !== n * d) fail(`${what}.X`, `must have length n × d = ${n} × ${d} = ${n * d}`, X.length);
  if (!(y instanceof Float64Array)) fail(`${what}.y`, `must be a Float64Array of n = ${n}`, y);
  if (y.length !== n) fail(`${what}.y`, `must have length n = ${n}`, y.length);
  for (let t = 0; t < n * d; t++) {
    if (!Number.isFinite(X[t]!)) {
      const i = Math.floor(t / d);
      const l = t % d;
      fail(`${what}.X[${i}][${l}]`, `(row ${i}, column x${l + 1}) must be a finite number`, X[t]);
    }
  }
  for (let i = 0; i < n; i++) if (!Number.isFinite(y[i]!)) fail(`${what}.y[${i}]`, `(row ${i}, column y) must be a finite number`, y[i]);
  const z = (data as CsvDataset).z;
  if (z !== undefined) {
    if (!(z instanceof Int32Array) || z.length !== n) fail(`${what}.z`, `must be an Int32Array of n = ${n}`, z);
    for (let i = 0; i < n; i++) if (z[i]! < 0) fail(`${what}.z[${i}]`, 'must be an expert index ≥ 0', z[i]);
  }
}

/** String(x), except that −0 keeps its sign ("-0" reads back as −0). */
function num(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/**
 * The CSV text of a dataset, in chunks of at most `rowsPerChunk` lines (no validation: see
 * {@link writeDatasetCsv}). Joining the chunks gives the file content.
 */
export function* datasetCsvChunks(data: Dataset, options: { z?: Int32Array; rowsPerChunk?: number } = {}): Generator<string> {
  const { z, rowsPerChunk = 8192 } = options;
  const { n, d, X, y } = data;
  const header = Array.from({ length: d }, (_, l) => `x${l + 1}`);
  header.push('y');
  if (z) header.push('z');
  yield `${header.join(',')}\n`;
  const row = new Array<string>(d + (z ? 2 : 1));
  let lines: string[] = [];
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < d; l++) row[l] = num(X[i * d + l]!);
    row[d] = num(y[i]!);
    if (z) row[d + 1] = String(z[i]!);
    lines.push(row.join(','));
    if (lines.length === rowsPerChunk) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
}

/**
 * Writes a dataset as CSV atomically (validated first: nothing is written for bad data).
 * @param options.z latent expert labels to add as a last column `z` (length n)
 * @throws ValidationError for bad data; Error naming the path when it cannot be written
 */
export function writeDatasetCsv(path: string, data: Dataset, options: { z?: Int32Array } = {}): void {
  const z = options.z;
  validateDataset(z === undefined ? data : ({ ...data, z } as CsvDataset), 'data');
  writeFileAtomic(path, datasetCsvChunks(data, { z }));
}

// decimal numbers only: no hex, no "Infinity", no empty field (Number('') would be 0)
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses CSV text in the format of {@link writeDatasetCsv}.
 * @param source name used in messages (usually the path)
 * @throws ValidationError naming the line (1-based, the header is line 1) and the column
 */
export function parseDatasetCsv(text: string, source = 'data'): CsvDataset {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r?\n/);
  // one trailing newline (or several) is allowed; empty lines inside are not
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new ValidationError(`${source}: empty file (expected a header x1,...,xd,y)`, source);
  const head = lines[0]!.split(',').map((s) => s.trim());
  const hasZ = head[head.length - 1] === 'z';
  const d = head.length - (hasZ ? 2 : 1);
  const expected = [...Array.from({ length: Math.max(d, 1) }, (_, l) => `x${l + 1}`), 'y', ...(hasZ ? ['z'] : [])];
  if (d < 1 || head.length !== expected.length || head.some((h, c) => h !== expected[c])) {
    throw new ValidationError(`${source}: line 1: header must be x1,...,xd,y (optionally ,z), e.g. ${expected.join(',')}. Value: ${formatValue(lines[0])}`, 'header', lines[0]);
  }
  const n = lines.length - 1;
  if (n < 1) throw new ValidationError(`${source}: no data rows after the header`, source);
  const cols = head.length;
  const X = new Float64Array(n * d);
  const y = new Float64Array(n);
  const z = hasZ ? new Int32Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const line = lines[i + 1]!;
    const lineNo = i + 2;
    if (line.trim() === '') throw new ValidationError(`${source}: line ${lineNo}: empty row`, `line ${lineNo}`);
    const cells = line.split(',');
    if (cells.length !== cols) {
      throw new ValidationError(`${source}: line ${lineNo}: expected ${cols} columns (${head.join(',')}), found ${cells.length}`, `line ${lineNo}`, line);
    }
    for (let c = 0; c < cols; c++) {
      const s = cells[c]!.trim();
      const name = columnName(d, c);
      if (!NUMBER.test(s)) {
        const why = s === '' ? 'empty value' : /^[+-]?(nan|inf(inity)?)$/i.test(s) ? 'must be a finite number' : 'not a number';
        throw new ValidationError(`${source}: line ${lineNo}, column ${name}: ${why}. Value: ${formatValue(s)}`, `line ${lineNo}, column ${name}`, s);
      }
      const v = Number(s);
      if (!Number.isFinite(v)) throw new ValidationError(`${source}: line ${lineNo}, column ${name}: must be a finite number (overflows a double). Value: ${formatValue(s)}`, `line ${lineNo}, column ${name}`, s);
      if (c < d) X[i * d + c] = v;
      else if (c === d) y[i] = v;
      else {
        if (!Number.isInteger(v) || v < 0 || v > 2147483647) {
          throw new ValidationError(`${source}: line ${lineNo}, column z: must be an expert index (integer ≥ 0). Value: ${formatValue(s)}`, `line ${lineNo}, column z`, s);
        }
        z![i] = v;
      }
    }
  }
  return z ? { n, d, X, y, z } : { n, d, X, y };
}

/**
 * Reads a dataset CSV (header `x1,...,xd,y`, optionally `,z`).
 * @throws ValidationError naming the file, line and column of the first bad entry
 */
export function readDatasetCsv(path: string): CsvDataset {
  return parseDatasetCsv(readTextFile(path, 'data file'), path);
}
