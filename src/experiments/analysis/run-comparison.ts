/**
 * Several sweeps' rate rows side by side (`gmoe compare`): for each metric, each run's slope on the
 * curve its verdict reads (the medians where the prediction names them, else the means), its
 * interval and verdict — the question every "with and without" study asks (bounds or none, EM or
 * the hybrid, the quick size or the full one, more replications) — and, given the runs' cells, each later
 * run's slope minus the first's, with an interval that resamples the cells they share as pairs
 * (slope-difference.ts).
 *
 * Metrics are matched by (model label, metric): a one-model run's unlabelled `D2` is its model's, so a
 * decisive run of one gate lines up with the same gate's rows of a run of three.
 */
import { deriveSeed } from '../../random/seed.js';
import type { CellRecord, ExperimentSpec, MetricSummary, Prediction, Summary } from '../types.js';
import { readsMedian, verdictFit } from './curve.js';
import { ciText, fixed, predictionText } from './format.js';
import { compareMetrics, parseMetric } from './metrics.js';
import { slopeDifference, type SlopeDifference } from './slope-difference.js';
import { hash32, metricCells } from './summarise.js';
import { csvText, csvValue as num } from './summary-csv.js';
import { ruledTable } from './table.js';
import { verdictText } from './verdict.js';

/** One run to compare: its label, directory, spec and summary. */
export interface ComparedRun {
  label: string;
  dir: string;
  spec: ExperimentSpec;
  summary: Summary;
  /** the run's cells: with them each later run's slope gets its difference to the first's (slope-difference.ts) */
  records?: readonly CellRecord[];
}

/** One run's reading of one metric. */
export interface ComparedCell {
  /** the curve the verdict reads */
  curve: 'mean' | 'median';
  slope: number;
  ci: [number, number];
  intercept: number;
  verdict?: MetricSummary['verdict'];
  /** the verdict in words (`inconclusive (−1/4 in CI)`), or "" without a prediction */
  verdictText: string;
  /** the metric as the run summarised it (its points, for the figure) */
  metric: MetricSummary;
}

export interface ComparisonRow {
  /** `label:metric`, or the bare metric when every run fits one model of the same label */
  key: string;
  model?: string;
  base: string;
  /** the first run's prediction that has one */
  prediction?: Prediction;
  /** true when the runs predict this metric differently */
  predictionsDiffer: boolean;
  /** per run, in the runs' order; null where the run has no such metric */
  cells: (ComparedCell | null)[];
  /**
   * per run, its slope minus the first run's on the first run's curve, with the interval of a bootstrap that
   * resamples shared cells as pairs; null for the first run and where either run lacks the metric, its
   * cells or a slope
   */
  deltas: (ComparedDelta | null)[];
}

/** A run's slope against the first run's (see {@link ComparisonRow.deltas}). */
export interface ComparedDelta extends SlopeDifference {
  curve: 'mean' | 'median';
  /** the interval excludes 0 */
  differs: boolean;
}

export interface RunComparison {
  runs: {
    label: string;
    dir: string;
    spec: string;
    n: number[];
    replications?: number;
    cells: Summary['cells'];
    /** cells (n and seed) this run shares with the first run, when both came with their records */
    sharedWithFirst?: number;
  }[];
  rows: ComparisonRow[];
}

/** The model label of a run's metric: its prefix, or the run's one model. */
function modelOf(run: ComparedRun, metric: string): { model?: string; base: string } {
  const labels = run.spec.models.map((m) => m.label);
  const p = parseMetric(metric, labels);
  return { model: p.model ?? (labels.length === 1 ? labels[0] : undefined), base: p.base };
}

function cellOf(m: MetricSummary): ComparedCell {
  const f = verdictFit(m);
  return {
    curve: readsMedian(m.prediction) ? 'median' : 'mean',
    slope: f.slope,
    ci: f.ci,
    intercept: f.intercept,
    ...(m.verdict ? { verdict: m.verdict } : {}),
    verdictText: m.prediction ? verdictText(m) : '',
    metric: m,
  };
}

/**
 * The rows of several runs, metric by metric (every metric of any run, in the usual order; or only
 * `metrics`, named as the rows' keys).
 * @throws Error naming a metric of `metrics` that no run has, or with fewer than two runs
 */
export function compareRuns(runs: readonly ComparedRun[], metrics?: readonly string[]): RunComparison {
  if (runs.length < 2) throw new Error(`compare needs at least two runs. Value: ${runs.length}`);
  // runs of one model each line up by bare metric name, whatever their models' labels (two models of one
  // run, as `gmoe compare DIR:A DIR:B` views them); the rows name the model only when it is the same in all
  const bare = runs.every((r) => r.spec.models.length === 1);
  const oneLabel = bare && new Set(runs.map((r) => r.spec.models[0]!.label)).size === 1;
  const byKey = new Map<string, ComparisonRow>();
  runs.forEach((run, t) => {
    for (const m of run.summary.metrics) {
      const { model, base } = modelOf(run, m.metric);
      const key = bare || model === undefined ? base : `${model}:${base}`;
      let row = byKey.get(key);
      if (!row) {
        row = {
          key,
          ...(model !== undefined && (!bare || oneLabel) ? { model } : {}),
          base,
          predictionsDiffer: false,
          cells: runs.map(() => null),
          deltas: runs.map(() => null),
        };
        byKey.set(key, row);
      }
      row.cells[t] = cellOf(m);
      if (m.prediction) {
        if (!row.prediction) row.prediction = m.prediction;
        else if (predictionText(row.prediction) !== predictionText(m.prediction)) row.predictionsDiffer = true;
      }
    }
  });
  const labels = [...new Set(runs.flatMap((r) => r.spec.models.map((m) => m.label)))];
  let rows = [...byKey.values()].sort((a, b) =>
    compareMetrics(parseMetric(a.key, labels), parseMetric(b.key, labels), labels),
  );
  if (metrics && metrics.length > 0) {
    const missing = metrics.filter((k) => !byKey.has(k));
    if (missing.length > 0)
      throw new Error(
        `--metric must name a metric of the runs (${[...byKey.keys()].slice(0, 12).join(', ')}${byKey.size > 12 ? ', …' : ''}). Value: ${missing[0]}`,
      );
    rows = metrics.map((k) => byKey.get(k)!);
  }
  for (const row of rows) row.deltas = deltasOf(runs, row);
  const shared = sharedCells(runs);
  return {
    runs: runs.map((r, t) => ({
      label: r.label,
      dir: r.dir,
      spec: r.summary.spec,
      n: nValues(r.summary),
      ...(r.summary.replications !== undefined ? { replications: r.summary.replications } : {}),
      cells: r.summary.cells,
      ...(t > 0 && shared[t] !== undefined ? { sharedWithFirst: shared[t] } : {}),
    })),
    rows,
  };
}

/** Bootstrap resamples of a difference (as a summary's intervals). */
const DELTA_B = 1000;

/** Each later run's slope minus the first's, on the first run's curve (see ComparisonRow.deltas). */
function deltasOf(runs: readonly ComparedRun[], row: ComparisonRow): (ComparedDelta | null)[] {
  const first = row.cells[0];
  const base = runs[0]!;
  const baseCells = first && base.records ? metricCells(base.records, base.spec, first.metric.metric) : null;
  return runs.map((run, t) => {
    const cell = row.cells[t];
    if (t === 0 || !first || !cell || !baseCells || !run.records) return null;
    const curve = first.curve;
    const d = slopeDifference(
      baseCells,
      metricCells(run.records, run.spec, cell.metric.metric),
      // one stream per row and run pair, whatever the other rows
      { curve, B: DELTA_B, seed: deriveSeed(1, hash32(row.key), t) },
    );
    return d ? { ...d, curve, differs: d.ci[0] > 0 || d.ci[1] < 0 } : null;
  });
}

/** Per run, the (n, seed) cells it shares with the first run (undefined without records). */
function sharedCells(runs: readonly ComparedRun[]): (number | undefined)[] {
  const key = (r: CellRecord) => `${r.n}:${r.seed}`;
  const base = runs[0]!.records ? new Set(runs[0]!.records.map(key)) : null;
  return runs.map((run) => {
    if (!base || !run.records) return undefined;
    return new Set(run.records.map(key).filter((k) => base.has(k))).size;
  });
}

/** The sample sizes a summary's metrics were measured at. */
function nValues(s: Summary): number[] {
  return [...new Set(s.metrics.flatMap((m) => m.points.map((p) => p.n)))].sort((a, b) => a - b);
}

const slopeText = (c: ComparedCell | null): string =>
  c === null ? '—' : `${fixed(c.slope)} ${ciText(c.ci)}${c.curve === 'median' ? ' (median)' : ''}`;

const signed = (x: number): string => (x > 0 ? `+${fixed(x)}` : fixed(x));

const deltaText = (d: ComparedDelta | null): string =>
  d === null
    ? '—'
    : `${signed(d.difference)} ${ciText(d.ci)}${d.curve === 'median' ? ' (median)' : ''}${d.differs ? ' *' : ''}`;

/** The comparison as text: one line per run, then the table (metric, prediction, each run's slope and verdict). */
export function runComparisonTable(c: RunComparison): string {
  const first = c.runs[0]!.label;
  const lines = c.runs.map((r) => {
    const n = r.n.length > 0 ? `n ${r.n[0]}–${r.n[r.n.length - 1]} (${r.n.length})` : 'no n';
    const reps = r.replications !== undefined ? ` × ${r.replications} reps` : '';
    const shared = r.sharedWithFirst !== undefined ? `; ${r.sharedWithFirst} cells shared with ${first}` : '';
    return `${r.label}: ${r.spec} (${r.dir}) — ${n}${reps}; ${r.cells.ok} ok, ${r.cells.failed} failed, ${r.cells.notConverged} not converged${shared}`;
  });
  const withDeltas = c.rows.some((row) => row.deltas.some((d) => d !== null));
  const head = [
    'metric',
    'predicted',
    ...c.runs.flatMap((r, t) => [r.label, 'verdict', ...(withDeltas && t > 0 ? [`Δ vs ${first}`] : [])]),
  ];
  const body = c.rows.map((row) => [
    row.key,
    `${predictionText(row.prediction)}${row.predictionsDiffer ? ' (runs differ)' : ''}`,
    ...row.cells.flatMap((cell, t) => [
      slopeText(cell),
      cell?.verdictText ?? '',
      ...(withDeltas && t > 0 ? [deltaText(row.deltas[t] ?? null)] : []),
    ]),
  ]);
  lines.push('', ...ruledTable(head, body));
  lines.push(
    'slope [95% bootstrap interval] of log(value) on log(n), on the curve each verdict reads (means; medians where marked)',
  );
  if (withDeltas)
    lines.push(
      `Δ: the run's slope minus ${first}'s on ${first}'s curve, [95% bootstrap interval] resampling the cells both runs hold (same n and seed) as pairs and the others within their run; * the interval excludes 0`,
    );
  return `${lines.join('\n')}\n`;
}

/** The comparison as tidy CSV: one row per (metric, run). */
export function runComparisonCsv(c: RunComparison): string {
  const rows: string[][] = [
    [
      'metric',
      'model',
      'run',
      'curve',
      'slope',
      'ci_low',
      'ci_high',
      'intercept',
      'predicted',
      'verdict',
      'verdict_text',
      'delta',
      'delta_ci_low',
      'delta_ci_high',
      'delta_curve',
      'delta_shared_cells',
    ],
  ];
  for (const row of c.rows)
    row.cells.forEach((cell, t) => {
      if (!cell) return;
      rows.push([
        row.base,
        row.model ?? '',
        c.runs[t]!.label,
        cell.curve,
        num(cell.slope),
        num(cell.ci[0]),
        num(cell.ci[1]),
        num(cell.intercept),
        cell.metric.prediction ? predictionText(cell.metric.prediction) : '',
        cell.verdict ?? '',
        cell.verdictText,
        ...deltaCsv(row.deltas[t] ?? null),
      ]);
    });
  return csvText(rows);
}

function deltaCsv(d: ComparedDelta | null): string[] {
  return d === null ? ['', '', '', '', ''] : [num(d.difference), num(d.ci[0]), num(d.ci[1]), d.curve, String(d.shared)];
}
