/**
 * results.jsonl records → Summary: per-n statistics of every metric, rate fits with
 * bootstrap intervals, the prediction beside them, and power law vs a + c/log(n).
 *
 * Nothing is dropped silently: failed cells (no metrics) are counted per model and per n;
 * non-converged cells stay in the statistics and are counted; values that are absent or not
 * finite in an ok cell are counted as `missing`; points a log fit cannot use are named in
 * the metric's warnings. The result depends on the records' content only, never on their
 * order (they are sorted by model, n, rep first), so merged shards summarise identically.
 */
import { packageInfo } from '../../io/package-info.js';
import { checkSeed } from '../../random/rng.js';
import { deriveSeed } from '../../random/seed.js';
import type {
  CellRecord,
  ExperimentSpec,
  LawComparison,
  MetricSummary,
  PointSummary,
  Prediction,
  Summary,
} from '../types.js';
import { readsMedian } from './curve.js';
import { compareLaws, LawPreferenceCounter } from './law.js';
import { compareMetrics, parseMetric, type MetricName } from './metrics.js';
import { fitRatesJoint, type RateFits, type SlopeGroup } from './slope.js';
import { judgeRate, type VerdictWord } from './verdict.js';
import { planRates } from './planner.js';
import { summariseStarts } from './starts.js';
import { scaledLinearBias } from '../../models/gates/index.js';
import { summarisePoint } from './stats.js';

export interface SummariseOptions {
  /** bootstrap resamples per metric (default 1000; 0 skips the intervals) */
  bootstrap?: number;
  /**
   * seed of the bootstrap (default: the spec's master seed). Each model derives its stream from
   * it, and all metrics of a model replay that stream: metrics with the same replication counts
   * are resampled by the same replications (a joint bootstrap).
   */
  seed?: number;
  /** interval level (default 0.95) */
  level?: number;
  /**
   * Which metrics get the power-law vs a + c/log(n) comparison: "predicted" — those whose
   * prediction is 1/log n; "all"; "none"; "auto" (default) — all metrics when any prediction
   * of the spec is 1/log n (the temperature presets, where the contrast is the point), else none.
   */
  laws?: 'auto' | 'predicted' | 'all' | 'none';
  /** provenance to record (e.g. from spec.json); missing fields are filled from this process */
  provenance?: Partial<Summary['provenance']>;
}

type Counts = { total: number; ok: number; failed: number; notConverged: number };

/**
 * Summarises a sweep's cell records.
 * @param records the cells (any order; failed ones included)
 * @param spec the spec that produced them (labels, predictions, seed)
 * @throws Error naming the record and field when a record is malformed or a cell appears twice
 */
export function summarise(records: CellRecord[], spec: ExperimentSpec, options: SummariseOptions = {}): Summary {
  const B = options.bootstrap ?? 1000;
  const level = options.level ?? 0.95;
  const seed = checkSeed(options.seed ?? spec.seed, options.seed === undefined ? 'spec.seed' : 'options.seed');
  if (!Number.isInteger(B) || B < 0) throw new Error(`options.bootstrap must be a non-negative integer. Value: ${B}`);
  if (!(level > 0 && level < 1)) throw new Error(`options.level must be in (0, 1). Value: ${level}`);
  const lawsMode = options.laws ?? 'auto';

  records.forEach(checkRecord);
  const labels = spec.models.map((m) => m.label);
  const multi = spec.models.length > 1;
  const modelRank = (l: string) => (labels.indexOf(l) >= 0 ? labels.indexOf(l) : labels.length);
  const sorted = [...records].sort(
    (a, b) =>
      modelRank(a.model) - modelRank(b.model) ||
      (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) ||
      a.n - b.n ||
      a.rep - b.rep,
  );
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1];
    const r = sorted[i];
    if (p.model === r.model && p.n === r.n && p.rep === r.rep) {
      throw new Error(`records hold the cell (model "${r.model}", n = ${r.n}, rep = ${r.rep}) twice`);
    }
  }
  const { allLabels, keyOf, owners: ownerOf } = metricNaming(spec, sorted);

  const cells = count(sorted);
  const byModel: Record<string, Counts> = {};
  for (const l of allLabels) {
    const rs = sorted.filter((r) => r.model === l);
    if (rs.length > 0) byModel[l] = count(rs);
  }
  const failures = new Map<string, number>();
  for (const r of sorted)
    if (r.status === 'failed')
      failures.set(r.error ?? '(no message)', (failures.get(r.error ?? '(no message)') ?? 0) + 1);

  const names = new Set<string>(ownerOf.keys());
  // an unprefixed prediction in a multi-model spec applies to every model
  for (const k of Object.keys(spec.theory)) {
    if (multi && parseMetric(k, allLabels).model === undefined) for (const l of labels) names.add(`${l}:${k}`);
    else names.add(k);
  }
  const parsed = [...names].map((n) => parseMetric(n, allLabels)).sort((a, b) => compareMetrics(a, b, allLabels));

  const anyLawPrediction = Object.values(spec.theory).some((p) => 'law' in p);
  const wantsLaw = (p: Prediction | undefined) =>
    lawsMode === 'all' ||
    (lawsMode === 'auto' && anyLawPrediction) ||
    (lawsMode === 'predicted' && p !== undefined && 'law' in p);

  const prepared = parsed.map((pm) => {
    const owner = ownerOf.get(pm.name) ?? pm.model ?? labels[0];
    const rs = sorted.filter((r) => r.model === owner);
    const prediction = spec.theory[pm.name] ?? (pm.model !== undefined ? spec.theory[pm.base] : undefined);
    const prep = prepareMetric(pm, owner, rs, (r) => valueOf(r, pm, keyOf), prediction, wantsLaw(prediction));
    const fixedBy = fixedByEstimator(spec, { ...pm, model: pm.model ?? owner });
    return fixedBy ? { ...prep, byConstruction: fixedBy } : prep;
  });
  // One bootstrap stream per model, replayed by all its metrics: metrics with the same values
  // per n get the same intervals. Metrics with equal counts per n share one pass (same draws).
  const buckets = new Map<string, Prepared[]>();
  for (const p of prepared) {
    const key = `${p.owner}\u0000${p.groups.map((g) => `${g.n}:${g.values.length}`).join(',')}`;
    const b = buckets.get(key);
    if (b) b.push(p);
    else buckets.set(key, [p]);
  }
  const rates = new Map<Prepared, RateFits>();
  for (const bucket of buckets.values()) {
    const fits = fitRatesJoint(
      bucket.map((p) => ({
        groups: p.groups,
        onResample: p.counter ? (curve: Float64Array) => p.counter!.add(curve) : undefined,
      })),
      { B, level, seed: deriveSeed(seed, hash32(bucket[0].owner)) },
    );
    bucket.forEach((p, k) => rates.set(p, fits[k]));
  }
  const metrics = prepared.map((p) => finishMetric(p, rates.get(p)!));

  const summary: Summary = {
    spec: spec.name,
    cells,
    ...(multi || allLabels.length > 1 ? { cellsByModel: byModel } : {}),
    ...(failures.size > 0
      ? {
          failures: [...failures]
            .map(([error, c]) => ({ error, count: c }))
            .sort((a, b) => b.count - a.count || (a.error < b.error ? -1 : 1)),
        }
      : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    replications: spec.replications,
    init: spec.init,
    ...prefitOf(spec),
    ...varianceOf(spec),
    ...startsOf(sorted, allLabels),
    bootstrap: { B, seed, level },
    metrics,
    provenance: { ...defaultProvenance(), ...options.provenance },
  };
  if (B > 0) {
    const plan = planRates(summary, sorted);
    if (plan) {
      // before provenance, so that the numbers come first in summary.json
      const { provenance, ...rest } = summary;
      return { ...rest, plan, provenance };
    }
  }
  return summary;
}

/** label → `pick` of each model's em options as its fits take them (its own over the spec's), where defined. */
function byModel<T>(
  spec: ExperimentSpec,
  pick: (em: ExperimentSpec['em']) => T | undefined,
): Record<string, T> | undefined {
  const pairs = spec.models.flatMap((fm) => {
    const v = pick({ ...spec.em, ...fm.em });
    return v === undefined ? [] : [[fm.label, v] as const];
  });
  return pairs.length > 0 ? Object.fromEntries(pairs) : undefined;
}

/** The models whose starts were prefitted (their em.prefit, or the spec's), for the figure to say so. */
function prefitOf(spec: ExperimentSpec): { prefit?: Record<string, number> } {
  const prefit = byModel(spec, (em) => em.prefit);
  return prefit ? { prefit } : {};
}

/** The models fitted with one variance shared by their experts (em.variance 'equal'), for the figure to say so. */
function varianceOf(spec: ExperimentSpec): { variance?: Record<string, 'equal'> } {
  const variance = byModel(spec, (em) => (em.variance === 'equal' ? ('equal' as const) : undefined));
  return variance ? { variance } : {};
}

/** How the cells' starts ended, per model ({@link summariseStarts}); nothing when no cell ran several. */
function startsOf(records: CellRecord[], labels: string[]): { starts?: Summary['starts'] } {
  const starts = summariseStarts(records, labels);
  return starts ? { starts } : {};
}

function valueOf(r: CellRecord, pm: MetricName, keyOf: (r: CellRecord, k: string) => string): unknown {
  if (pm.name in r.metrics) return r.metrics[pm.name];
  // the runner may store multi-model metrics unprefixed (the record says its model)
  if (pm.model === r.model && keyOf(r, pm.base) === pm.name) return r.metrics[pm.base];
  return undefined;
}

/** How a run's records name their metrics, as its summary reads them. */
interface MetricNaming {
  /** the spec's model labels; with them, any other model a record names (by name) */
  labels: string[];
  allLabels: string[];
  /** a record's metric key as summarised: multi-model specs prefix the model label when the runner did not */
  keyOf: (r: CellRecord, k: string) => string;
  /** each summarised name's model: the first in allLabels whose ok records hold it */
  owners: Map<string, string>;
}

function metricNaming(spec: ExperimentSpec, records: readonly CellRecord[]): MetricNaming {
  const labels = spec.models.map((m) => m.label);
  const multi = spec.models.length > 1;
  const others = [...new Set(records.map((r) => r.model))].filter((l) => !labels.includes(l)).sort();
  const allLabels = [...labels, ...others];
  const keyOf = (r: CellRecord, k: string) => (multi && !k.startsWith(`${r.model}:`) ? `${r.model}:${k}` : k);
  const rank = new Map(allLabels.map((l, i) => [l, i]));
  const owners = new Map<string, string>();
  for (const r of records) {
    if (r.status !== 'ok') continue;
    for (const k of Object.keys(r.metrics)) {
      const key = keyOf(r, k);
      const o = owners.get(key);
      if (o === undefined || rank.get(r.model)! < rank.get(o)!) owners.set(key, r.model);
    }
  }
  return { labels, allLabels, keyOf, owners };
}

/**
 * The cells' finite readings of one metric (named as the summary names it), as its summary reads them:
 * the ok records of the model that owns the metric, with their n and seed (for `gmoe compare`'s
 * differences, slope-difference.ts).
 */
export function metricCells(
  records: readonly CellRecord[],
  spec: ExperimentSpec,
  metric: string,
): { n: number; seed: number; value: number }[] {
  const { labels, allLabels, keyOf, owners } = metricNaming(spec, records);
  const pm = parseMetric(metric, allLabels);
  const owner = owners.get(metric) ?? pm.model ?? labels[0];
  return records.flatMap((r) => {
    if (r.model !== owner || r.status !== 'ok') return [];
    const v = valueOf(r, pm, keyOf);
    return typeof v === 'number' && Number.isFinite(v) ? [{ n: r.n, seed: r.seed, value: v }] : [];
  });
}

interface Prepared {
  pm: MetricName;
  owner: string;
  prediction?: Prediction;
  points: PointSummary[];
  groups: SlopeGroup[];
  warnings: string[];
  /** n of the positive means, for the law comparison */
  positiveN: number[];
  counter?: LawPreferenceCounter;
  /** why the estimator fixes this metric (verdict "by construction") */
  byConstruction?: string;
}

/** Per-n statistics of one metric over its model's records (sorted by n), and the fit's inputs. */
function prepareMetric(
  pm: MetricName,
  owner: string,
  records: CellRecord[],
  value: (r: CellRecord) => unknown,
  prediction: Prediction | undefined,
  wantsLaw: boolean,
): Prepared {
  const warnings: string[] = [];
  const points: PointSummary[] = [];
  const groups: SlopeGroup[] = [];
  const ns = [...new Set(records.map((r) => r.n))].sort((a, b) => a - b);
  let i = 0;
  for (const n of ns) {
    const vals: number[] = [];
    let failed = 0;
    let notConverged = 0;
    let missing = 0;
    for (; i < records.length && records[i].n === n; i++) {
      const r = records[i];
      if (r.status !== 'ok') {
        failed++;
        continue;
      }
      const v = value(r);
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        missing++;
        continue;
      }
      vals.push(v);
      if (!r.converged) notConverged++;
    }
    if (vals.length === 0) {
      warnings.push(`no value at n = ${n} (${failed} failed, ${missing} ok cells without a finite value)`);
      continue;
    }
    points.push({ ...summarisePoint(n, vals), failed, notConverged, missing });
    groups.push({ n, values: Float64Array.from(vals) });
  }
  if (records.length === 0 || points.length === 0) warnings.push('no cell recorded this metric');
  const missingTotal = points.reduce((s, p) => s + (p.missing ?? 0), 0);
  if (missingTotal > 0)
    warnings.push(`${missingTotal} ok cells have no finite value of this metric (counted as missing)`);
  // the law comparison runs on the mean curve over the n the mean fit uses, on the same resamples
  const positiveN = groups.filter((_, j) => points[j].mean > 0).map((g) => g.n);
  const counter = wantsLaw && positiveN.length >= 3 ? new LawPreferenceCounter(positiveN) : undefined;
  if (wantsLaw && !counter)
    warnings.push(`law comparison needs 3 sample sizes with a positive mean; has ${positiveN.length}`);
  return { pm, owner, prediction, points, groups, warnings, positiveN, counter };
}

function finishMetric(p: Prepared, rates: RateFits): MetricSummary {
  const { pm, points, prediction, counter, positiveN } = p;
  const warnings = [...p.warnings, ...rates.warnings];
  let law: LawComparison | undefined;
  if (counter) {
    law = compareLaws(
      positiveN,
      points.filter((q) => q.mean > 0).map((q) => q.mean),
    );
    if (counter.total > 0) law.bootstrapPreferInvLog = counter.fraction();
  }
  const out: MetricSummary = { metric: pm.name, points, mean: rates.mean, median: rates.median };
  if (prediction) out.prediction = prediction;
  if (law) out.law = law;
  const reading = readFit(
    prediction,
    (readsMedian(prediction) ? rates.median : rates.mean).ci,
    law,
    rates.nMean[0],
    p.byConstruction,
    rates.mean.ci,
  );
  if (reading.consistent !== undefined) out.consistent = reading.consistent;
  if (reading.verdict !== undefined) out.verdict = reading.verdict;
  if (reading.cannotExclude !== undefined) out.cannotExclude = reading.cannotExclude;
  if (reading.direction !== undefined) out.direction = reading.direction;
  if (reading.detail !== undefined) out.verdictDetail = reading.detail;
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

/**
 * Reading of a fit against its prediction: the verdict of verdict.ts (confirmed / inconclusive /
 * contradicted / by construction), and `consistent` — the prediction is not contradicted.
 * @param ci the interval of the curve the verdict reads
 * @param nMin smallest n of the mean fit (for the 1/log n slope range)
 * @param byConstruction why the estimator fixes this value, if it does
 */
export function readFit(
  prediction: Prediction | undefined,
  ci: [number, number],
  law: LawComparison | undefined,
  nMin: number | undefined,
  byConstruction?: string,
  meanCi?: [number, number],
): Reading {
  const v = judgeRate(prediction, ci, { law, nMin, byConstruction, meanCi });
  if (!v) return {};
  const out: Reading = { verdict: v.verdict, detail: v.detail };
  if (v.verdict !== 'by construction' && v.verdict !== 'no interval') out.consistent = v.verdict !== 'contradicted';
  if (v.cannotExclude) out.cannotExclude = v.cannotExclude;
  if (v.direction) out.direction = v.direction;
  return out;
}

/** How a row reads its prediction (readFit). */
interface Reading {
  verdict?: VerdictWord;
  consistent?: boolean;
  cannotExclude?: number[];
  direction?: 'faster' | 'slower';
  detail?: string;
}

/**
 * Why the estimator fixes a metric's value, or undefined: the identity (temperature) gate's M-step
 * holds τ at its start (Q is flat along (β1, τ) → (cβ1, cτ), with the bias inside along (β0, β1, τ) →
 * c(β0, β1, τ): src/em/gates/dense.ts), so the errors of β1 and τ — and of β0's weight with the bias
 * inside — show where the start put them along that direction, not the data (THEORY.md §5).
 */
export function fixedByEstimator(spec: ExperimentSpec, pm: MetricName): string | undefined {
  if (pm.param !== 'beta1' && pm.param !== 'tau' && pm.param !== 'beta0') return undefined;
  const model =
    spec.models.find((m) => m.label === pm.model) ?? (spec.models.length === 1 ? spec.models[0] : undefined);
  const g = model?.gate;
  if (!g) return undefined;
  const bias = scaledLinearBias(g);
  if (bias === 'outside' && pm.param !== 'beta0')
    return `fixed by the estimator: the identity gate's M-step holds τ at its start (Q is flat along (β1, τ) → (cβ1, cτ)), so this error shows the start, not n`;
  if (bias === 'inside')
    return `fixed by the estimator: the identity gate's M-step holds τ at its start (with the bias inside Q is flat along (β0, β1, τ) → c(β0, β1, τ)), so this error shows the start, not n`;
  return undefined;
}

function count(rs: CellRecord[]): Counts {
  let ok = 0;
  let failed = 0;
  let notConverged = 0;
  for (const r of rs) {
    if (r.status === 'ok') {
      ok++;
      if (!r.converged) notConverged++;
    } else failed++;
  }
  return { total: rs.length, ok, failed, notConverged };
}

function checkRecord(r: CellRecord, i: number): void {
  const f = (field: string, what: string, v: unknown) =>
    new Error(`records[${i}].${field} must be ${what}. Value: ${JSON.stringify(v)}`);
  if (r === null || typeof r !== 'object')
    throw new Error(`records[${i}] must be an object. Value: ${JSON.stringify(r)}`);
  if (typeof r.n !== 'number' || !Number.isInteger(r.n) || r.n < 2) throw f('n', 'an integer ≥ 2', r.n);
  if (typeof r.rep !== 'number' || !Number.isInteger(r.rep) || r.rep < 0)
    throw f('rep', 'a non-negative integer', r.rep);
  if (typeof r.model !== 'string') throw f('model', 'a string', r.model);
  if (r.status !== 'ok' && r.status !== 'failed') throw f('status', '"ok" or "failed"', r.status);
  if (r.status === 'ok') {
    if (r.metrics === null || typeof r.metrics !== 'object' || Array.isArray(r.metrics))
      throw f('metrics', 'an object', r.metrics);
    if (typeof r.converged !== 'boolean') throw f('converged', 'a boolean', r.converged);
  }
}

/** FNV-1a of a string, as a non-negative integer for deriveSeed. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** gmoe version (package.json), Node version and platform of this process. */
export function defaultProvenance(): Summary['provenance'] {
  return { gmoe: packageInfo().version, node: process.version, platform: `${process.platform}-${process.arch}` };
}
