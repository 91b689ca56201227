/**
 * The results store of a sweep directory:
 *   spec.json      the normalised spec and its provenance (written once, atomically)
 *   results.jsonl  one CellRecord per line, append-only
 *   summary.json, summary.txt, rates.csv, curves.csv, plot.html, plot.png, plot.svg   the analysis (rewritten atomically)
 *
 * Crash safety: each finished cell is one `appendFileSync(JSON.stringify(record) + "\n")` followed
 * by fsync, so a run killed at any moment (kill -9 included) leaves complete lines plus at most one
 * torn last line (no trailing newline). Readers drop that line; --resume truncates it away.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { formatJSON, writeFileAtomic } from '../io/index.js';
import { describeJsonError } from '../models/json-error.js';
import { isRecord } from '../models/validate.js';
import { cellKey, type Shard } from './plan.js';
import { validateSpec } from './spec.js';
import type { CellRecord, ExperimentSpec } from './types.js';

export const SPEC_FILE = 'spec.json';
export const RESULTS_FILE = 'results.jsonl';
export const SUMMARY_FILE = 'summary.json';
export const TABLE_FILE = 'summary.txt';
export const RATES_CSV_FILE = 'rates.csv';
export const CURVES_CSV_FILE = 'curves.csv';
export const PLOT_HTML_FILE = 'plot.html';
export const PLOT_PNG_FILE = 'plot.png';
export const PLOT_SVG_FILE = 'plot.svg';
/** corrupt lines moved out of results.jsonl by --resume --skip-corrupt */
export const CORRUPT_FILE = 'results.corrupt.jsonl';

export const RUN_FORMAT = 'gmoe-sweep';
export const RUN_VERSION = 1;

/** What made a run: versions, machine, commit, and the initialisation scheme in words. */
export interface RunProvenance {
  gmoe: string;
  node: string;
  platform: string;
  commit?: string;
  /** the init scheme in words, e.g. "near-truth (THEORY §6), noise shrinking ∝ n^-0.083, scale 1" */
  init: string;
  /** ISO time the directory was created */
  created: string;
}

/** Contents of spec.json. */
export interface RunMeta {
  format: typeof RUN_FORMAT;
  version: typeof RUN_VERSION;
  spec: ExperimentSpec;
  /** the share this directory runs; absent for a whole run or a merge */
  shard?: Shard;
  /** for a merge: the directories merged */
  mergedFrom?: string[];
  /** cells taken from earlier runs (`--reuse`): each directory, how many, and the commit that computed them */
  reusedFrom?: { dir: string; cells: number; commit?: string }[];
  provenance: RunProvenance;
}

/** An error about a sweep directory's files (bad spec.json, corrupt results). */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Writes spec.json atomically. */
export function writeRunMeta(dir: string, meta: RunMeta): void {
  writeFileAtomic(join(dir, SPEC_FILE), `${formatJSON(meta)}\n`);
}

/**
 * Reads and checks spec.json of a sweep directory (the spec is re-validated).
 * @throws StoreError naming the file when it is missing, not JSON, or not a gmoe sweep
 */
export function readRunMeta(dir: string): RunMeta {
  const path = join(dir, SPEC_FILE);
  if (!existsSync(path)) throw new StoreError(`${dir} is not a sweep directory: no ${SPEC_FILE}`);
  let json: unknown;
  const text = readFileSync(path, 'utf8');
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new StoreError(`${path}: not valid JSON: ${describeJsonError(text, e)}`);
  }
  if (!isRecord(json) || json.format !== RUN_FORMAT)
    throw new StoreError(
      `${path}: format must be "${RUN_FORMAT}". Value: ${isRecord(json) ? String(json.format) : typeof json}`,
    );
  if (json.version !== RUN_VERSION)
    throw new StoreError(`${path}: version must be ${RUN_VERSION}. Value: ${String(json.version)}`);
  let spec: ExperimentSpec;
  try {
    spec = validateSpec(json.spec);
  } catch (e) {
    throw new StoreError(`${path}: spec.${e instanceof Error ? e.message : String(e)}`);
  }
  return { ...(json as unknown as RunMeta), spec };
}

/** Result of reading results.jsonl. */
export interface ResultsRead {
  records: CellRecord[];
  /** bytes of complete lines (the file is valid up to here) */
  validBytes: number;
  /** bytes of a torn last line (0 when the file ends with a newline) */
  tornBytes: number;
  /** corrupt complete lines skipped (only with `skipCorrupt`): 1-based line number, reason, text */
  skipped: { line: number; reason: string; text: string }[];
}

export interface ReadResultsOptions {
  /** skip corrupt complete lines (listed in `skipped`) instead of refusing the file */
  skipCorrupt?: boolean;
  /**
   * the cells the directory's spec (and shard) plans, as cellKey(label, n, rep): a record of another cell
   * is a corrupt line (an edited or foreign line would otherwise enter the summary unnoticed)
   */
  planned?: ReadonlySet<string>;
}

function checkRecord(v: unknown, where: string): CellRecord {
  const bad = (what: string) => new StoreError(`${where}: ${what}`);
  if (!isRecord(v)) throw bad('not a cell record (a JSON object)');
  if (typeof v.model !== 'string') throw bad(`model must be a string. Value: ${String(v.model)}`);
  for (const [f, min] of [
    ['n', 1],
    ['rep', 0],
  ] as const) {
    if (typeof v[f] !== 'number' || !Number.isInteger(v[f]) || (v[f] as number) < min)
      throw bad(`${f} must be an integer ≥ ${min}. Value: ${String(v[f])}`);
  }
  if (v.status !== 'ok' && v.status !== 'failed')
    throw bad(`status must be "ok" or "failed". Value: ${String(v.status)}`);
  if (!isRecord(v.metrics)) throw bad('metrics must be an object');
  return v as unknown as CellRecord;
}

/** The one-line advice appended to a refusal of a corrupt line. */
export const SKIP_CORRUPT_HINT = 'only the last line may be torn (rerun with --skip-corrupt to skip corrupt lines)';

/**
 * Reads results.jsonl. A last line without its newline is a write cut short by a crash: it is
 * reported in `tornBytes` and dropped. A missing file reads as no records.
 * @throws StoreError naming the file and line for a corrupt complete line (unless `skipCorrupt`)
 */
export function readResults(path: string, options: ReadResultsOptions = {}): ResultsRead {
  if (!existsSync(path)) return { records: [], validBytes: 0, tornBytes: 0, skipped: [] };
  const buf = readFileSync(path);
  const end = buf.lastIndexOf(0x0a) + 1; // complete lines end at the last newline
  const text = buf.subarray(0, end).toString('utf8');
  const records: CellRecord[] = [];
  const skipped: ResultsRead['skipped'] = [];
  const lineOf = new Map<string, number>();
  const lines = text.split('\n');
  for (let t = 0; t < lines.length; t++) {
    const line = lines[t]!;
    if (line.trim() === '') continue;
    try {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (e) {
        throw new StoreError(`${path}:${t + 1}: corrupt line (${describeJsonError(line, e).replace(/^line 1, /, '')})`);
      }
      const r = checkRecord(json, `${path}:${t + 1}`);
      const key = cellKey(r.model, r.n, r.rep);
      const refuse = (why: string) =>
        new StoreError(`${path}:${t + 1}: the cell (model ${r.model}, n = ${r.n}, rep = ${r.rep}) ${why}`);
      if (options.planned && !options.planned.has(key)) throw refuse('is not one that spec.json plans');
      const first = lineOf.get(key);
      if (first !== undefined) throw refuse(`again (first on line ${first})`);
      lineOf.set(key, t + 1);
      records.push(r);
    } catch (e) {
      if (!options.skipCorrupt || !(e instanceof StoreError)) {
        throw e instanceof StoreError ? new StoreError(`${e.message}; ${SKIP_CORRUPT_HINT}`) : e;
      }
      skipped.push({ line: t + 1, reason: e.message, text: line });
    }
  }
  return { records, validBytes: end, tornBytes: buf.length - end, skipped };
}

/** "skipped 2 corrupt lines of F (lines 4, 9)" — the notice of a read with skipCorrupt. */
export function skippedNotice(path: string, read: ResultsRead): string | undefined {
  const n = read.skipped.length;
  if (n === 0) return undefined;
  const at = read.skipped
    .slice(0, 10)
    .map((s) => s.line)
    .join(', ');
  return `skipped ${n} corrupt line${n === 1 ? '' : 's'} of ${path} (line${n === 1 ? '' : 's'} ${at}${n > 10 ? ', ...' : ''})`;
}

/**
 * Drops a torn last line from results.jsonl (for --resume), so new lines start on a fresh line.
 * @returns the number of bytes removed
 */
export function truncateTornLine(path: string, options: ReadResultsOptions = {}): number {
  if (!existsSync(path)) return 0;
  const { validBytes, tornBytes } = readResults(path, options);
  if (tornBytes > 0) truncateSync(path, validBytes);
  return tornBytes;
}

/**
 * For --resume --skip-corrupt: moves the corrupt lines of results.jsonl to results.corrupt.jsonl
 * (appended, kept for inspection) and rewrites results.jsonl atomically without them, so that
 * their cells run again and later readers need no flag.
 * @returns the corrupt lines moved
 */
export function quarantineCorrupt(path: string, planned?: ReadonlySet<string>): ResultsRead['skipped'] {
  const read = readResults(path, { skipCorrupt: true, planned });
  if (read.skipped.length === 0) return [];
  const side = join(dirname(path), CORRUPT_FILE);
  appendFileSync(side, read.skipped.map((s) => `${s.text}\n`).join(''));
  writeResultsAtomic(path, read.records);
  return read.skipped;
}

/** An I/O failure of the results file (disk full, read-only, permission): the message is one line. */
export class ResultsIOError extends StoreError {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ResultsIOError';
  }
}

function ioReason(e: unknown): { code: string | undefined; why: string } {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOSPC'
      ? 'no space left on the device (ENOSPC)'
      : code === 'EDQUOT'
        ? 'disk quota exceeded (EDQUOT)'
        : code === 'EACCES' || code === 'EPERM'
          ? `permission denied (${code})`
          : code === 'EROFS'
            ? 'read-only file system (EROFS)'
            : e instanceof Error
              ? e.message.split('\n')[0]!
              : String(e);
  return { code, why };
}

/** Appends cell records to results.jsonl, one complete, fsynced line each. */
export class ResultsWriter {
  private fd: number | undefined;

  /** @throws ResultsIOError when the file cannot be opened for appending */
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'a');
    } catch (e) {
      const { code, why } = ioReason(e);
      throw new ResultsIOError(`cannot open ${path} for appending: ${why}`, code);
    }
  }

  /**
   * Appends one record as a single write of `JSON.stringify(record) + "\n"`, then fsync.
   * @throws ResultsIOError (disk full, read-only, ...): the lines before stay intact; a partly
   *   written line is a torn last line, which readers drop and --resume truncates
   */
  append(record: CellRecord): void {
    if (this.fd === undefined) throw new Error(`${this.path}: writer is closed`);
    try {
      appendFileSync(this.fd, `${JSON.stringify(record)}\n`);
      fsyncSync(this.fd);
    } catch (e) {
      const { code, why } = ioReason(e);
      throw new ResultsIOError(`cannot append to ${this.path}: ${why}`, code);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

// temp files of the atomic writes (models/io.ts writeFileAtomic, plot/html.ts, plot/png.ts), by writer pid
const TEMP_FILE =
  /^(?:\.(?:summary\.json|summary\.txt|rates\.csv|curves\.csv|spec\.json|results\.jsonl)\.(\d+)\.\d+\.tmp|plot\.(?:html|png|svg)\.tmp-(\d+))$/;

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files that a process killed mid-write (SIGTERM during the summary or PNG step)
 * left in a sweep directory; files of a writer still alive are kept.
 * @returns the names removed
 */
export function removeStaleTemps(dir: string): string[] {
  const removed: string[] = [];
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const m = TEMP_FILE.exec(name);
    if (!m || pidAlive(Number(m[1] ?? m[2]))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** Writes a whole results.jsonl atomically (merge, tests). */
export function writeResultsAtomic(path: string, records: readonly CellRecord[]): void {
  writeFileAtomic(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/** A record as text without its timing field, for comparing runs (`seconds` is the only field that varies). */
export function recordFingerprint(r: CellRecord): string {
  const { seconds: _seconds, ...rest } = r;
  return JSON.stringify(rest);
}
