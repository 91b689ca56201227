/**
 * Datasets as CSV: header `x1,...,xd,y` (optionally a last column `z`, the latent expert index),
 * one sample per line; any other CSV is read with its columns chosen by name. Numbers are written in JavaScript's shortest round-trip form (String(x)),
 * so reading a file back gives the identical doubles and the same data gives byte-identical files.
 */
import { checkColumnNames, parseCsvTable } from './csv-table.js';
import { readTextFile, writeFileAtomic } from '../io/index.js';
import type { Dataset } from './types.js';
import { ValidationError, fail, formatValue } from './validate.js';

/** A dataset read from CSV; `z` (0-based expert labels) when the file has a z column. */
export type CsvDataset = Dataset & { z?: Int32Array };

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
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(y[i]!)) fail(`${what}.y[${i}]`, `(row ${i}, column y) must be a finite number`, y[i]);
  const z = (data as CsvDataset).z;
  if (z !== undefined) {
    if (!(z instanceof Int32Array) || z.length !== n) fail(`${what}.z`, `must be an Int32Array of n = ${n}`, z);
    for (let i = 0; i < n; i++) if (z[i]! < 0) fail(`${what}.z[${i}]`, 'must be an expert index ≥ 0', z[i]);
  }
}

/** String(x), except that −0 keeps its sign ("-0" reads back as −0): a number as every gmoe CSV writes it. */
export function csvNumber(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/**
 * The CSV text of a dataset, in chunks of at most `rowsPerChunk` lines (no validation: see
 * {@link writeDatasetCsv}). Joining the chunks gives the file content.
 */
export function* datasetCsvChunks(
  data: Dataset,
  options: { z?: Int32Array; rowsPerChunk?: number } = {},
): Generator<string> {
  const { z, rowsPerChunk = 8192 } = options;
  const { n, d, X, y } = data;
  const header = Array.from({ length: d }, (_, l) => `x${l + 1}`);
  header.push('y');
  if (z) header.push('z');
  yield `${header.join(',')}\n`;
  const row = new Array<string>(d + (z ? 2 : 1));
  let lines: string[] = [];
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < d; l++) row[l] = csvNumber(X[i * d + l]!);
    row[d] = csvNumber(y[i]!);
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

/** Cells read as a missing value (R writes NA; spreadsheets leave the cell empty). */
const isMissing = (s: string): boolean => s === '' || s === 'NA';

/** Which columns to read, by name. */
export interface CsvColumnOptions {
  /** the response column (default: `y` of the x1..xd,y layout) */
  y?: string;
  /** the input columns, in order (default: every column but y, or x1..xd in the default layout) */
  x?: string[];
  /** drop rows with a missing value (NA or empty) in a chosen column, instead of refusing them */
  dropMissing?: boolean;
}

const COLUMN_OPTIONS = ['y', 'x', 'dropMissing'];

/** The column options as {@link CsvColumnOptions} has them: a typo (`dropmissing`) is refused, not ignored. */
function checkColumnOptions(o: unknown): void {
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    fail('options', 'must be an object { y?, x?, dropMissing? }', o);
  const r = o as Record<string, unknown>;
  for (const key of Object.keys(r))
    if (!COLUMN_OPTIONS.includes(key))
      fail(`options.${key}`, `is not an option (allowed: ${COLUMN_OPTIONS.join(', ')})`, r[key]);
  if (r.y !== undefined && typeof r.y !== 'string') fail('options.y', 'must be a column name', r.y);
  if (r.x !== undefined && !(Array.isArray(r.x) && r.x.every((c) => typeof c === 'string')))
    fail('options.x', 'must be an array of column names', r.x);
  if (r.dropMissing !== undefined && typeof r.dropMissing !== 'boolean')
    fail('options.dropMissing', 'must be true or false', r.dropMissing);
}

/** What was read: the dataset, the columns it came from, and how many rows were dropped. */
export type CsvRead = CsvDataset & { columns: { x: string[]; y: string }; dropped: number };

/** The x1..xd,y[,z] layout's d and whether it has z, or undefined when the header is not that layout. */
function defaultLayout(header: string[]): { d: number; hasZ: boolean } | undefined {
  const hasZ = header[header.length - 1] === 'z';
  const d = header.length - (hasZ ? 2 : 1);
  if (d < 1 || header[d] !== 'y') return undefined;
  for (let l = 0; l < d; l++) if (header[l] !== `x${l + 1}`) return undefined;
  return { d, hasZ };
}

/** Column indices of y, the x's and z from the options or the default layout. */
function chooseColumns(
  header: string[],
  opts: CsvColumnOptions,
  source: string,
): { x: number[]; y: number; z?: number; xByDefault?: boolean } {
  const list = header.map((h) => JSON.stringify(h)).join(',');
  const find = (name: string, what: string): number => {
    const c = header.indexOf(name);
    if (c < 0)
      throw new ValidationError(
        `${source}: no column ${formatValue(name)} for ${what}; the columns are ${list}`,
        what,
        name,
      );
    return c;
  };
  const layout = defaultLayout(header);
  if (opts.y === undefined && opts.x === undefined) {
    if (!layout) {
      const hint = 'choose them with --y COL and --x COL,COL,... (library: options y and x)';
      throw new ValidationError(
        `${source}: line 1: the columns are ${list}, not the layout x1,...,xd,y (optionally ,z): ${hint}`,
        'header',
        header.join(','),
      );
    }
    const x = Array.from({ length: layout.d }, (_, l) => l);
    return layout.hasZ ? { x, y: layout.d, z: layout.d + 1 } : { x, y: layout.d };
  }
  const y = find(opts.y ?? 'y', 'y');
  let x: number[];
  if (opts.x !== undefined) {
    if (opts.x.length === 0)
      throw new ValidationError(`${source}: x must name at least one column; the columns are ${list}`, 'x', opts.x);
    x = opts.x.map((name) => find(name, 'x'));
    const dup = opts.x.find((name, i) => opts.x!.indexOf(name) !== i);
    if (dup !== undefined) throw new ValidationError(`${source}: x names column ${formatValue(dup)} twice`, 'x', dup);
    if (x.includes(y))
      throw new ValidationError(`${source}: column ${formatValue(header[y])} cannot be both y and x`, 'x', header[y]);
  } else if (layout && y === layout.d) {
    x = Array.from({ length: layout.d }, (_, l) => l);
  } else {
    x = header.map((_, c) => c).filter((c) => c !== y);
    if (x.length === 0)
      throw new ValidationError(
        `${source}: no column left for x besides y ${formatValue(header[y])}`,
        'x',
        header.join(','),
      );
    return { x, y, xByDefault: true };
  }
  return { x, y };
}

/**
 * The number in a cell, or a ValidationError naming line, column and value (and `hint`, when given, after
 * a text cell: how to leave the column out).
 */
function cellNumber(s: string, line: number, name: string, source: string, hint = ''): number {
  if (!NUMBER.test(s)) {
    const why = /^[+-]?(nan|inf(inity)?)$/i.test(s) ? 'must be a finite number' : 'not a number';
    throw new ValidationError(
      `${source}: line ${line}, column ${name}: ${why}${why === 'not a number' ? hint : ''}. Value: ${formatValue(s)}`,
      `line ${line}, column ${name}`,
      s,
    );
  }
  const v = Number(s);
  if (!Number.isFinite(v))
    throw new ValidationError(
      `${source}: line ${line}, column ${name}: must be a finite number (overflows a double). Value: ${formatValue(s)}`,
      `line ${line}, column ${name}`,
      s,
    );
  return v;
}

/**
 * Parses a dataset from CSV text: RFC 4180 (quotes, CRLF), R's row names set aside (see csv-table.ts),
 * columns chosen by name (default: the x1..xd,y layout of {@link writeDatasetCsv}, with z when present).
 * Columns not chosen are not read (they may hold anything).
 * @param source name used in messages (usually the path)
 * @throws ValidationError naming the line (1-based, the header is line 1), the column and the value;
 *   a missing value (NA or empty) without `dropMissing`; a header that is not the default layout
 *   without y/x (the message lists the columns)
 */
export function parseDatasetCsv(text: string, source = 'data', options: CsvColumnOptions = {}): CsvRead {
  checkColumnOptions(options);
  const table = parseCsvTable(text, source);
  // without y and x every column is the layout's: its names are checked before the layout is
  if (options.y === undefined && options.x === undefined)
    checkColumnNames(
      table,
      table.header.map((_, c) => c),
      source,
    );
  const cols = chooseColumns(table.header, options, source);
  const r = readColumns(table, cols, options.dropMissing === true, source);
  const columns = { x: r.columns.x, y: r.columns.y! };
  const out = { n: r.n, d: r.d, X: r.X, y: r.y!, columns, dropped: r.dropped };
  return r.z ? { ...out, z: r.z } : out;
}

/** Options of {@link parseInputsCsv}: the column options and the model's d. */
export type InputsCsvOptions = CsvColumnOptions & {
  d: number;
  /** without `y`: the response column when the file has it (before a column `y`), e.g. the model's */
  yIfPresent?: string;
  /** `x` is the model's own columns (the error for a missing one says so and shows --x) */
  xFromModel?: boolean;
};

/** Inputs read for prediction: X, and y when the file has the response column. */
export interface CsvInputs {
  n: number;
  d: number;
  X: Float64Array;
  y?: Float64Array;
  columns: { x: string[]; y?: string };
  dropped: number;
}

/**
 * Parses the inputs of a prediction from CSV text: the x columns by name (default x1..xd for the
 * model's d), and the response when `options.y` names it, or else the column `options.yIfPresent` or
 * `y` when the file has one (optional: a file of new x has none). Same rules as {@link parseDatasetCsv} for numbers, missing values and messages.
 * @throws ValidationError naming the file, line and column (a missing x column lists the columns)
 */
export function parseInputsCsv(text: string, source: string, options: InputsCsvOptions): CsvInputs {
  const table = parseCsvTable(text, source);
  const { header } = table;
  const names = options.x ?? Array.from({ length: options.d }, (_, l) => `x${l + 1}`);
  const list = header.map((h) => JSON.stringify(h)).join(',');
  const find = (name: string, what: string): number => {
    const c = header.indexOf(name);
    if (c >= 0) return c;
    const hint =
      options.x === undefined || options.xFromModel === true
        ? ` (${options.xFromModel === true ? 'the model was fitted on that column; ' : ''}choose the x columns with --x COL,COL,...; library: option x)`
        : '';
    throw new ValidationError(
      `${source}: no column ${formatValue(name)} for ${what}; the columns are ${list}${hint}`,
      what,
      name,
    );
  };
  const x = names.map((name) => find(name, 'x'));
  const dup = names.find((name, i) => names.indexOf(name) !== i);
  if (dup !== undefined) throw new ValidationError(`${source}: x names column ${formatValue(dup)} twice`, 'x', dup);
  const optional = [options.yIfPresent, 'y'].find((c) => c !== undefined && header.includes(c));
  const y = options.y !== undefined ? find(options.y, 'y') : optional === undefined ? -1 : header.indexOf(optional);
  if (y >= 0 && x.includes(y))
    throw new ValidationError(`${source}: column ${formatValue(header[y])} cannot be both y and x`, 'x', header[y]);
  const r = readColumns(table, y >= 0 ? { x, y } : { x }, options.dropMissing === true, source);
  return { n: r.n, d: r.d, X: r.X, ...(r.y ? { y: r.y } : {}), columns: r.columns, dropped: r.dropped };
}

/** The chosen columns' numbers, rows with a missing value refused (or dropped). */
function readColumns(
  table: ReturnType<typeof parseCsvTable>,
  cols: { x: number[]; y?: number; z?: number; xByDefault?: boolean },
  dropMissing: boolean,
  source: string,
): CsvInputs & { z?: Int32Array } {
  const { header, rows, lines } = table;
  if (rows.length === 0) throw new ValidationError(`${source}: no data rows after the header`, source);
  const used = [...cols.x, ...(cols.y !== undefined ? [cols.y] : []), ...(cols.z !== undefined ? [cols.z] : [])];
  checkColumnNames(table, used, source);
  const keep: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const c = used.find((c) => isMissing(rows[i]![c]!));
    if (c === undefined) keep.push(i);
    else if (!dropMissing) {
      const s = rows[i]![c]!;
      throw new ValidationError(
        `${source}: line ${lines[i]}, column ${header[c]}: missing value (drop such rows with --drop-missing, library: dropMissing). Value: ${formatValue(s)}`,
        `line ${lines[i]}, column ${header[c]}`,
        s,
      );
    }
  }
  const n = keep.length;
  if (n === 0) throw new ValidationError(`${source}: no rows left: all ${rows.length} have a missing value`, source);
  const d = cols.x.length;
  // x taken by default as every column but y: a text column (an R factor) is one the user did not choose
  const xHint = cols.xByDefault
    ? ' (x defaults to every column but y: choose the inputs with --x COL,COL,..., library: option x)'
    : '';
  const X = new Float64Array(n * d);
  const y = cols.y !== undefined ? new Float64Array(n) : undefined;
  const z = cols.z !== undefined ? new Int32Array(n) : undefined;
  for (let r = 0; r < n; r++) {
    const i = keep[r]!;
    const cells = rows[i]!;
    const line = lines[i]!;
    for (let l = 0; l < d; l++) X[r * d + l] = cellNumber(cells[cols.x[l]!]!, line, header[cols.x[l]!]!, source, xHint);
    if (y) y[r] = cellNumber(cells[cols.y!]!, line, header[cols.y!]!, source);
    if (z) z[r] = cellIndex(cells[cols.z!]!, line, source);
  }
  const columns = { x: cols.x.map((c) => header[c]!), ...(cols.y !== undefined ? { y: header[cols.y]! } : {}) };
  return { n, d, X, ...(y ? { y } : {}), ...(z ? { z } : {}), columns, dropped: rows.length - n };
}

/** The expert index in a z cell, or a ValidationError naming line and value. */
function cellIndex(s: string, line: number, source: string): number {
  const v = Number(s);
  if (!NUMBER.test(s) || !Number.isInteger(v) || v < 0 || v > 2147483647) {
    throw new ValidationError(
      `${source}: line ${line}, column z: must be an expert index (integer ≥ 0). Value: ${formatValue(s)}`,
      `line ${line}, column z`,
      s,
    );
  }
  return v;
}

/** Reads the inputs of a prediction from a CSV file: see {@link parseInputsCsv}. */
export function readInputsCsv(path: string, options: InputsCsvOptions): CsvInputs {
  return parseInputsCsv(readTextFile(path, 'data file'), path, options);
}

/**
 * Reads a dataset CSV: see {@link parseDatasetCsv} (default layout `x1,...,xd,y`, optionally `,z`;
 * other files with `options.y` / `options.x` naming the columns).
 * @throws ValidationError naming the file, line and column of the first bad entry
 */
export function readDatasetCsv(path: string, options: CsvColumnOptions = {}): CsvRead {
  return parseDatasetCsv(readTextFile(path, 'data file'), path, options);
}
