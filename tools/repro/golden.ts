/**
 * Golden summaries of the reproducibility run (repro/golden/<preset>.json): the numbers of a
 * preset's quick sweep that must not move unexplained.
 *
 * A golden holds, per metric, the per-n statistics (mean, median, q05, q95, counts) and the
 * fitted slopes (mean curve with its interval, median curve, smallest n dropped), the cell
 * counts, the n-grid and the seeds. `hash` is a SHA-256 (first 12 hex digits) of the
 * canonical JSON of exactly those numbers — not of the provenance — so a golden edited by hand
 * is caught, and CHANGELOG.md can be required to name every golden's hash (see
 * {@link changelogMissing}): new numbers → new hash → a CHANGELOG line saying why they moved.
 */
import { createHash } from 'node:crypto';
import { canonicalJSON } from '../../src/experiments/spec.js';
import type { ExperimentSpec, Summary } from '../../src/experiments/types.js';

export const GOLDEN_FORMAT = 'gmoe-repro-golden';
export const GOLDEN_VERSION = 1;
/** Relative tolerance on losses and slopes (issue 7). */
export const GOLDEN_RTOL = 1e-9;
/** Hex digits of the SHA-256 kept as a golden's hash. */
export const HASH_DIGITS = 12;

/** The numbers of one metric. Non-finite values are stored as null (JSON has no NaN). */
export interface GoldenMetric {
  metric: string;
  /** sample sizes with at least one value, ascending */
  n: number[];
  /** values per n in the statistics */
  count: number[];
  /** failed cells per n */
  failed: number[];
  /** ok cells per n whose fit did not converge */
  notConverged: number[];
  mean: (number | null)[];
  median: (number | null)[];
  q05: (number | null)[];
  q95: (number | null)[];
  slope: number | null;
  ci: [number | null, number | null];
  medianSlope: number | null;
  slopeDroppingSmallest: number | null;
  /** power law vs a + c/log n, where the summary compared them */
  law?: { preferred: string; ratio: number | null; bootstrapPreferInvLog: number | null };
}

/** What the hash covers. */
export interface GoldenNumbers {
  preset: string;
  spec: { n: number[]; replications: number; seed: number; models: string[] };
  bootstrap: { B: number; seed: number; level: number };
  cells: Summary['cells'];
  metrics: GoldenMetric[];
}

export interface Golden extends GoldenNumbers {
  format: typeof GOLDEN_FORMAT;
  version: typeof GOLDEN_VERSION;
  /** first {@link HASH_DIGITS} hex digits of SHA-256(canonical JSON of the numbers) */
  hash: string;
  /** what made these numbers (not hashed: the same numbers from another machine keep the hash) */
  provenance: Record<string, string>;
}

const num = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/**
 * The golden numbers of a summary.
 * @param spec the normalised spec the summary came from (its n-grid, replications and seed)
 * @throws Error when the summary has no bootstrap settings (summaries from `summarise` always do)
 */
export function goldenNumbers(summary: Summary, spec: ExperimentSpec): GoldenNumbers {
  if (!summary.bootstrap) throw new Error(`summary of ${summary.spec} has no bootstrap settings`);
  if (!Array.isArray(spec.n)) throw new Error(`spec.n of ${spec.name} must be normalised to a list (validateSpec)`);
  return {
    preset: summary.spec,
    spec: { n: [...spec.n], replications: spec.replications, seed: spec.seed, models: spec.models.map((m) => m.label) },
    bootstrap: { ...summary.bootstrap },
    cells: { total: summary.cells.total, ok: summary.cells.ok, failed: summary.cells.failed, notConverged: summary.cells.notConverged },
    metrics: summary.metrics.map((m) => {
      const g: GoldenMetric = {
        metric: m.metric,
        n: m.points.map((p) => p.n),
        count: m.points.map((p) => p.count),
        failed: m.points.map((p) => p.failed ?? 0),
        notConverged: m.points.map((p) => p.notConverged ?? 0),
        mean: m.points.map((p) => num(p.mean)),
        median: m.points.map((p) => num(p.median)),
        q05: m.points.map((p) => num(p.q05)),
        q95: m.points.map((p) => num(p.q95)),
        slope: num(m.mean.slope),
        ci: [num(m.mean.ci[0]), num(m.mean.ci[1])],
        medianSlope: num(m.median.slope),
        slopeDroppingSmallest: num(m.mean.slopeDroppingSmallest),
      };
      if (m.law) g.law = { preferred: m.law.preferred, ratio: num(m.law.ratio), bootstrapPreferInvLog: num(m.law.bootstrapPreferInvLog) };
      return g;
    }),
  };
}

/** The hash of golden numbers: first {@link HASH_DIGITS} hex digits of SHA-256 of their canonical JSON. */
export function hashNumbers(numbers: GoldenNumbers): string {
  const { preset, spec, bootstrap, cells, metrics } = numbers;
  return createHash('sha256').update(canonicalJSON({ preset, spec, bootstrap, cells, metrics })).digest('hex').slice(0, HASH_DIGITS);
}

/** A golden file's content: the numbers, their hash and the provenance. */
export function makeGolden(numbers: GoldenNumbers, provenance: Record<string, string>): Golden {
  return { format: GOLDEN_FORMAT, version: GOLDEN_VERSION, hash: hashNumbers(numbers), ...numbers, provenance: { ...provenance } };
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks the shape of a parsed golden file and that its hash matches its numbers.
 * @param what the file, for messages
 * @throws Error naming the file and the field
 */
export function parseGolden(json: unknown, what: string): Golden {
  const bad = (field: string, expected: string, v: unknown) => new Error(`${what}: ${field} must be ${expected}. Value: ${JSON.stringify(v)}`);
  if (!isObj(json)) throw bad('(top level)', 'an object', json);
  if (json.format !== GOLDEN_FORMAT) throw bad('format', `"${GOLDEN_FORMAT}"`, json.format);
  if (json.version !== GOLDEN_VERSION) throw bad('version', String(GOLDEN_VERSION), json.version);
  if (typeof json.preset !== 'string') throw bad('preset', 'a string', json.preset);
  if (typeof json.hash !== 'string' || !/^[0-9a-f]+$/.test(json.hash)) throw bad('hash', 'hex digits', json.hash);
  if (!isObj(json.spec) || !Array.isArray(json.spec.n)) throw bad('spec.n', 'a list of sample sizes', isObj(json.spec) ? json.spec.n : json.spec);
  if (!isObj(json.cells)) throw bad('cells', 'an object', json.cells);
  if (!isObj(json.bootstrap)) throw bad('bootstrap', 'an object', json.bootstrap);
  if (!Array.isArray(json.metrics)) throw bad('metrics', 'a list', json.metrics);
  json.metrics.forEach((m, i) => {
    if (!isObj(m) || typeof m.metric !== 'string') throw bad(`metrics[${i}].metric`, 'a string', isObj(m) ? m.metric : m);
    for (const f of ['n', 'count', 'mean', 'median', 'q05', 'q95']) {
      if (!Array.isArray(m[f])) throw bad(`metrics[${i}].${f}`, 'a list', m[f]);
    }
    if (!Array.isArray(m.ci) || m.ci.length !== 2) throw bad(`metrics[${i}].ci`, 'a pair', m.ci);
  });
  const g = json as unknown as Golden;
  const h = hashNumbers(g);
  if (h !== g.hash) {
    throw new Error(`${what}: hash ${g.hash} does not match its numbers (they hash to ${h}): goldens are written by \`npm run repro -- --update\`, not by hand`);
  }
  return g;
}

/** One difference between a golden and a new result. */
export interface GoldenDifference {
  /** where, e.g. "D1 mean at n = 500", "cells.failed", "beta1|m=2 slope" */
  where: string;
  golden: unknown;
  actual: unknown;
  /** relative difference, for numbers */
  rel?: number;
}

/** Whether two stored numbers agree within `rtol` (relative; nulls agree only with nulls). */
export function closeEnough(a: number | null, b: number | null, rtol: number): boolean {
  if (a === null || b === null) return a === b;
  if (a === b) return true;
  return Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b));
}

function relDiff(a: number | null, b: number | null): number | undefined {
  if (a === null || b === null) return undefined;
  const s = Math.max(Math.abs(a), Math.abs(b));
  return s === 0 ? 0 : Math.abs(a - b) / s;
}

/**
 * Compares new golden numbers with a committed golden: the same spec, seeds and cell counts
 * exactly; the same metrics at the same n with the same counts; every per-n statistic, slope
 * and interval end within relative `rtol`; the preferred law of each comparison exactly.
 * @returns the differences (empty when they agree), in a stable order
 */
export function compareGolden(golden: GoldenNumbers, actual: GoldenNumbers, rtol = GOLDEN_RTOL): GoldenDifference[] {
  const out: GoldenDifference[] = [];
  const exact = (where: string, g: unknown, a: unknown) => {
    if (canonicalJSON(g) !== canonicalJSON(a)) out.push({ where, golden: g, actual: a });
  };
  const close = (where: string, g: number | null, a: number | null) => {
    if (!closeEnough(g, a, rtol)) {
      const d: GoldenDifference = { where, golden: g, actual: a };
      const r = relDiff(g, a);
      if (r !== undefined) d.rel = r;
      out.push(d);
    }
  };
  exact('preset', golden.preset, actual.preset);
  exact('spec', golden.spec, actual.spec);
  exact('bootstrap', golden.bootstrap, actual.bootstrap);
  for (const k of ['total', 'ok', 'failed', 'notConverged'] as const) exact(`cells.${k}`, golden.cells[k], actual.cells[k]);
  const gm = new Map(golden.metrics.map((m) => [m.metric, m]));
  const am = new Map(actual.metrics.map((m) => [m.metric, m]));
  for (const name of gm.keys()) if (!am.has(name)) out.push({ where: `metric ${name}`, golden: 'present', actual: 'absent' });
  for (const name of am.keys()) if (!gm.has(name)) out.push({ where: `metric ${name}`, golden: 'absent', actual: 'present' });
  for (const [name, g] of gm) {
    const a = am.get(name);
    if (!a) continue;
    if (canonicalJSON(g.n) !== canonicalJSON(a.n)) {
      out.push({ where: `${name} sample sizes`, golden: g.n, actual: a.n });
      continue;
    }
    g.n.forEach((n, i) => {
      for (const f of ['count', 'failed', 'notConverged'] as const) exact(`${name} ${f} at n = ${n}`, g[f]?.[i], a[f]?.[i]);
      for (const f of ['mean', 'median', 'q05', 'q95'] as const) close(`${name} ${f} at n = ${n}`, g[f][i] ?? null, a[f][i] ?? null);
    });
    close(`${name} slope`, g.slope, a.slope);
    close(`${name} slope interval low end`, g.ci[0], a.ci[0]);
    close(`${name} slope interval high end`, g.ci[1], a.ci[1]);
    close(`${name} median slope`, g.medianSlope, a.medianSlope);
    close(`${name} slope without the smallest n`, g.slopeDroppingSmallest, a.slopeDroppingSmallest);
    if (g.law || a.law) {
      exact(`${name} preferred law`, g.law?.preferred, a.law?.preferred);
      if (g.law && a.law) {
        close(`${name} law RSS ratio`, g.law.ratio, a.law.ratio);
        close(`${name} law bootstrap share`, g.law.bootstrapPreferInvLog, a.law.bootstrapPreferInvLog);
      }
    }
  }
  return out;
}

/** A difference as one line: `D1 mean at n = 500: 0.0849 → 0.0851 (relative 2.4e-3)`. */
export function formatDifference(d: GoldenDifference): string {
  const v = (x: unknown) => (typeof x === 'number' ? String(x) : JSON.stringify(x));
  return `${d.where}: golden ${v(d.golden)}, now ${v(d.actual)}${d.rel !== undefined ? ` (relative ${d.rel.toExponential(1)})` : ''}`;
}

/**
 * The golden hashes CHANGELOG.md does not mention (as text anywhere in it).
 * @param changelog the content of CHANGELOG.md
 */
export function changelogMissing(goldens: readonly Pick<Golden, 'preset' | 'hash'>[], changelog: string): Pick<Golden, 'preset' | 'hash'>[] {
  return goldens.filter((g) => !changelog.includes(g.hash));
}
