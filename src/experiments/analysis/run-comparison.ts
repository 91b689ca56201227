/**
 * Several sweeps' rate rows side by side (`gmoe compare`): for each metric, each run's slope on the
 * curve its verdict reads (the medians where the prediction names them, else the means), its
 * interval and verdict — the question every "with and without" study asks (bounds or none, EM or
 * the hybrid, the quick size or the full one, more replications).
 *
 * Metrics are matched by (model label, metric): a one-model run's unlabelled `D2` is its model's, so a
 * decisive run of one gate lines up with the same gate's rows of a run of three.
 */
import type { ExperimentSpec, MetricSummary, Prediction, Summary } from '../types.js';
import { readsMedian, verdictFit } from './curve.js';
import { ciText, fixed, predictionText } from './format.js';
import { compareMetrics, parseMetric } from './metrics.js';
import { csvText, csvValue as num } from './summary-csv.js';
import { ruledTable } from './table.js';
import { verdictText } from './verdict.js';

/** One run to compare: its label, directory, spec and summary. */
export interface ComparedRun {
  label: string;
  dir: string;
  spec: ExperimentSpec;
  summary: Summary;
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
}

export interface RunComparison {
  runs: { label: string; dir: string; spec: string; n: number[]; replications?: number; cells: Summary['cells'] }[];
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
  const oneLabel = new Set(runs.map((r) => (r.spec.models.length === 1 ? r.spec.models[0]!.label : '\u0000')));
  const bare = oneLabel.size === 1 && !oneLabel.has('\u0000');
  const byKey = new Map<string, ComparisonRow>();
  runs.forEach((run, t) => {
    for (const m of run.summary.metrics) {
      const { model, base } = modelOf(run, m.metric);
      const key = bare || model === undefined ? base : `${model}:${base}`;
      let row = byKey.get(key);
      if (!row) {
        row = {
          key,
          ...(model !== undefined ? { model } : {}),
          base,
          predictionsDiffer: false,
          cells: runs.map(() => null),
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
  return {
    runs: runs.map((r) => ({
      label: r.label,
      dir: r.dir,
      spec: r.summary.spec,
      n: nValues(r.summary),
      ...(r.summary.replications !== undefined ? { replications: r.summary.replications } : {}),
      cells: r.summary.cells,
    })),
    rows,
  };
}

/** The sample sizes a summary's metrics were measured at. */
function nValues(s: Summary): number[] {
  return [...new Set(s.metrics.flatMap((m) => m.points.map((p) => p.n)))].sort((a, b) => a - b);
}

const slopeText = (c: ComparedCell | null): string =>
  c === null ? '—' : `${fixed(c.slope)} ${ciText(c.ci)}${c.curve === 'median' ? ' (median)' : ''}`;

/** The comparison as text: one line per run, then the table (metric, prediction, each run's slope and verdict). */
export function runComparisonTable(c: RunComparison): string {
  const lines = c.runs.map((r) => {
    const n = r.n.length > 0 ? `n ${r.n[0]}–${r.n[r.n.length - 1]} (${r.n.length})` : 'no n';
    const reps = r.replications !== undefined ? ` × ${r.replications} reps` : '';
    return `${r.label}: ${r.spec} (${r.dir}) — ${n}${reps}; ${r.cells.ok} ok, ${r.cells.failed} failed, ${r.cells.notConverged} not converged`;
  });
  const head = ['metric', 'predicted', ...c.runs.flatMap((r) => [r.label, 'verdict'])];
  const body = c.rows.map((row) => [
    row.key,
    `${predictionText(row.prediction)}${row.predictionsDiffer ? ' (runs differ)' : ''}`,
    ...row.cells.flatMap((cell) => [slopeText(cell), cell?.verdictText ?? '']),
  ]);
  lines.push('', ...ruledTable(head, body));
  lines.push(
    'slope [95% bootstrap interval] of log(value) on log(n), on the curve each verdict reads (means; medians where marked)',
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
      ]);
    });
  return csvText(rows);
}
