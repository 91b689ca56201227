/**
 * The compact text table printed at the end of a sweep (and by `gmoe report`).
 */
import type { LawComparison, MetricSummary, Summary } from '../types.js';
import { readsMedian } from './curve.js';
import { ciText, fixed, populationText, predictionText } from './format.js';
import { verdictText } from './verdict.js';
import { formatPlan, type PlanFormatOptions } from './planner.js';
import { formatStarts } from './starts.js';
import { groupNotes } from './notes.js';

type Counts = Summary['cells'];

function countsText(c: Counts): string {
  return `${c.total} cells: ${c.ok} ok, ${c.failed} failed, ${c.notConverged} not converged (kept in the statistics)`;
}

/** "1/log n ×3.2 (91%)": the preferred law, how many times larger the other's RSS is, bootstrap agreement. */
export function lawText(law: LawComparison | undefined): string {
  if (!law) return '';
  const times = law.preferred === 'power' ? 1 / law.ratio : law.ratio;
  const t = !Number.isFinite(times)
    ? '×∞'
    : times < 10
      ? `×${times.toPrecision(3)}`
      : times < 1000
        ? `×${Math.round(times)}`
        : `×${times.toExponential(0).replace('e+', 'e')}`;
  const f = law.bootstrapPreferInvLog;
  const agree =
    f === undefined || !Number.isFinite(f) ? '' : ` (${Math.round(100 * (law.preferred === 'power' ? 1 - f : f))}%)`;
  return `${law.preferred === 'power' ? 'power' : '1/log n'} ${t}${agree}`;
}

function valuesText(m: MetricSummary): string {
  const used = m.points.reduce((s, p) => s + p.count, 0);
  const missing = m.points.reduce((s, p) => s + (p.missing ?? 0), 0);
  const nc = m.points.reduce((s, p) => s + (p.notConverged ?? 0), 0);
  return `${used}${missing > 0 ? ` +${missing} missing` : ''}${nc > 0 ? ` (${nc} n.c.)` : ''}`;
}

/**
 * Formats a summary as an aligned text table: one row per metric with the mean-curve slope
 * and its interval, the median-curve slope, the prediction and verdict, the slope with the
 * smallest n dropped, and the law comparison where made; above it the cell counts (failed and
 * not converged), below it failure messages, the planner's answer for the inconclusive rows and notes.
 * @param options.maxNotes most note lines to print (default 12)
 * @param options.plan measured seconds per unit of work and workers, to print the plan's CPU times
 */
export function formatSummaryTable(
  summary: Summary,
  options: { maxNotes?: number; plan?: PlanFormatOptions } = {},
): string {
  const lines: string[] = [];
  lines.push(`${summary.spec} — ${countsText(summary.cells)}`);
  if (summary.population) lines.push(populationText(summary.population));
  if (summary.cellsByModel) {
    for (const [label, c] of Object.entries(summary.cellsByModel)) lines.push(`  ${label}: ${countsText(c)}`);
  }
  const level = Math.round(100 * (summary.bootstrap?.level ?? 0.95));
  const B = summary.bootstrap?.B;
  lines.push(
    `Slopes of log(value) on log(n) over the per-n means (and medians); ${level}% bootstrap interval over replications${B !== undefined ? ` (B = ${B})` : ''}.`,
  );
  const anyLaw = summary.metrics.some((m) => m.law);
  const header = ['metric', `mean slope [${level}% CI]`, 'median', 'predicted', 'verdict', 'w/o smallest n', 'values'];
  if (anyLaw) header.push('power vs a+c/log n');
  const rows = summary.metrics.map((m) => {
    const row = [
      m.metric,
      `${fixed(m.mean.slope)} ${ciText(m.mean.ci)}`,
      // the interval too where the verdict reads the median curve
      readsMedian(m.prediction) ? `${fixed(m.median.slope)} ${ciText(m.median.ci)}` : fixed(m.median.slope),
      predictionText(m.prediction),
      verdictText(m),
      fixed(m.mean.slopeDroppingSmallest),
      valuesText(m),
    ];
    if (anyLaw) row.push(lawText(m.law));
    return row;
  });
  lines.push(...ruledTable(header, rows));
  if (anyLaw) {
    lines.push(
      'power vs a+c/log n: the law with the smaller RSS of log(mean), how many times smaller, and (in brackets) the share of bootstrap resamples agreeing.',
    );
  }
  if (summary.metrics.some((m) => m.verdict !== undefined)) {
    lines.push(
      'verdict: confirmed — the prediction in the interval and every competing law of THEORY.md §5 outside; inconclusive — a competitor (named) is in it too;',
      '  contradicted — the prediction outside it (1/log n: a clean power law); by construction — the estimator fixes the value (not evidence).',
    );
  }
  if (summary.metrics.some((m) => readsMedian(m.prediction))) {
    lines.push(
      "(median): the verdict reads the median curve and its interval (heavy-tailed metrics, see the spec's theory).",
    );
  }
  lines.push(
    'values: replications in the statistics (n.c.: of which not converged; missing: ok cells without a finite value).',
  );
  lines.push(...formatStarts(summary));
  if (summary.failures && summary.failures.length > 0) {
    lines.push('Failed cells:');
    for (const f of summary.failures.slice(0, 5)) lines.push(`  ${f.count}× ${f.error}`);
    if (summary.failures.length > 5) lines.push(`  … ${summary.failures.length - 5} more messages in summary.json`);
  }
  const open = summary.metrics.filter((m) => m.verdict === 'inconclusive').map((m) => m.metric);
  if (summary.plan && open.length > 0) {
    lines.push(...formatPlan(summary.plan, { ...options.plan, metrics: open }));
    if (summary.plan.figure)
      lines.push(
        '  to run it: `gmoe plan <this run> --write-spec FILE`, then `gmoe sweep FILE --reuse <this run>` (its cells here are taken, not rerun)',
      );
  }
  const notes = groupNotes(summary.metrics);
  const maxNotes = options.maxNotes ?? 12;
  if (notes.length > 0) {
    lines.push('Notes:');
    lines.push(...notes.slice(0, maxNotes));
    if (notes.length > maxNotes) lines.push(`  … ${notes.length - maxNotes} more in summary.json`);
  }
  return lines.join('\n');
}

/** A text table: the header, a rule of dashes, the rows; columns left-aligned, two spaces apart. */
export function ruledTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const fmt = (r: readonly string[]) =>
    r
      .map((c, j) => c.padEnd(widths[j]!))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}
