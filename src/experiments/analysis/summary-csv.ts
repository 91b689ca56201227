/**
 * A sweep's summary as two tidy CSV files, for R, pandas or a spreadsheet:
 *
 *   rates.csv    one row per metric and curve (mean, median): the fitted slope, its interval, the
 *                prediction and — on the curve the verdict reads — the verdict
 *   curves.csv   one row per metric and n: the per-n statistics the figure draws
 *
 * Numbers are written as String(x) (shortest round-trip form), so the files read back to the bits of
 * summary.json; a value that does not exist is an empty field.
 */
import { stringify } from 'csv-stringify/sync';
import { csvNumber } from '../../models/dataset-io.js';
import type { MetricSummary, Summary } from '../types.js';
import { readsMedian } from './curve.js';
import { parseMetric } from './metrics.js';

/** A number as the analysis CSVs write it: shortest round-trip form, "" when it does not exist. */
export const csvValue = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '' : csvNumber(x));
const num = csvValue;

/** Rows (the header first) as CSV text: RFC 4180 quoting, \n line ends. */
export function csvText(rows: readonly (readonly string[])[]): string {
  return stringify(rows as string[][], { record_delimiter: 'unix' });
}

/** The model label and the metric's own name (a one-model spec's metrics carry no label: `lone` is its). */
function split(m: MetricSummary, labels: readonly string[], lone: string): [string, string] {
  const p = parseMetric(m.metric, labels);
  return [p.model ?? lone, p.base];
}

/** The fitted models' labels, from the summary's per-model counts (absent for a one-model spec). */
function labelsOf(s: Summary): string[] {
  return Object.keys(s.cellsByModel ?? {});
}

/**
 * rates.csv: metric × curve (mean, median), with the prediction and, on the curve it reads, the verdict.
 * `lone`: the model label of a one-model spec, whose metric names carry none.
 */
export function ratesCsv(s: Summary, lone = ''): string {
  const labels = labelsOf(s);
  const rows: string[][] = [
    [
      'model',
      'metric',
      'curve',
      'slope',
      'ci_low',
      'ci_high',
      'intercept',
      'n_values',
      'slope_without_smallest_n',
      'predicted',
      'verdict',
      'verdict_detail',
      'note',
    ],
  ];
  for (const m of s.metrics) {
    const [model, metric] = split(m, labels, lone);
    const p = m.prediction;
    const predicted = p === undefined ? '' : 'law' in p ? p.law : csvNumber(p.exponent);
    for (const curve of ['mean', 'median'] as const) {
      const f = m[curve];
      const read = p !== undefined && readsMedian(p) === (curve === 'median');
      rows.push([
        model,
        metric,
        curve,
        num(f.slope),
        num(f.ci?.[0]),
        num(f.ci?.[1]),
        num(f.intercept),
        f.nValues === undefined ? '' : String(f.nValues),
        num(f.slopeDroppingSmallest),
        predicted,
        read ? (m.verdict ?? '') : '',
        read ? (m.verdictDetail ?? '') : '',
        read ? (p?.note ?? '') : '',
      ]);
    }
  }
  return csvText(rows);
}

/** curves.csv: metric × n, the statistics of each point (count, mean, median, quantiles, failures; `lone` as above). */
export function curvesCsv(s: Summary, lone = ''): string {
  const labels = labelsOf(s);
  const rows: string[][] = [
    [
      'model',
      'metric',
      'n',
      'count',
      'mean',
      'median',
      'q05',
      'q25',
      'q75',
      'q95',
      'failed',
      'not_converged',
      'missing',
    ],
  ];
  for (const m of s.metrics) {
    const [model, metric] = split(m, labels, lone);
    for (const pt of m.points)
      rows.push([
        model,
        metric,
        String(pt.n),
        String(pt.count),
        num(pt.mean),
        num(pt.median),
        num(pt.q05),
        num(pt.q25),
        num(pt.q75),
        num(pt.q95),
        String(pt.failed ?? 0),
        String(pt.notConverged ?? 0),
        String(pt.missing ?? 0),
      ]);
  }
  return csvText(rows);
}
