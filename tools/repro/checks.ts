/**
 * Theory checks of the reproducibility run: each preset's quick summary against the rates of
 * THEORY.md §5, by rules that are data (one list per preset, each rule with its reason).
 *
 * Rules (the slope is the OLS slope of log(mean) on log(n), its interval the summary's 95%
 * percentile bootstrap over replications):
 * - `rate` (a polynomial prediction n^e): passes when e lies in the interval widened by the
 *   rule's margin δ on both sides, lo − δ ≤ e ≤ hi + δ. δ = 0 unless the rule states one and why
 *   (the slowest over-specified rates, whose curves are still bending at quick sizes).
 * - `no-power` (no polynomial rate: the temperature / identity gate): fails when the data show a
 *   *clean power law*, which is all three of
 *     (a) the power law fits the mean curve better than a + c/log n (smaller RSS of log(mean));
 *     (b) it does so in at least {@link CLEAN_SHARE} of the bootstrap resamples;
 *     (c) the whole slope interval lies below −1/ln(n_min), i.e. the curve falls faster than any
 *         a + c/log n (a, c ≥ 0) can at any n of the grid: that law's local log-log slope is
 *         −(c/ln n)/(ln n·(a + c/ln n)) ≥ −1/ln n ≥ −1/ln(n_min).
 *   A curve that is flat, bends like 1/log n, or whose power-law preference is fragile passes.
 * - `info`: shown with its slope and prediction, no verdict (reason stated).
 * Besides the metric rules every preset must have no failed cell (a crash of a fit or a loss).
 * Metrics of a summary that no rule names are shown as informational.
 */
import { verdictFit } from '../../src/experiments/analysis/curve.js';
import { exponentText, fixed, predictionText } from '../../src/experiments/analysis/format.js';
import type { MetricSummary, Prediction, Summary } from '../../src/experiments/types.js';

/** Share of bootstrap resamples that must prefer the power law for it to count as clean. */
export const CLEAN_SHARE = 0.95;

export interface MetricRule {
  metric: string;
  kind: 'rate' | 'no-power' | 'info';
  /** `rate` only: the interval is widened by this much on both sides (≥ 0) */
  margin?: number;
  /** why: required for a margin and for `info` */
  reason?: string;
}

export interface PresetRules {
  preset: string;
  rules: MetricRule[];
}

/** Result of one check (or one informational row). */
export interface CheckResult {
  preset: string;
  /** metric name, or "cells" for the failed-cell check */
  metric: string;
  kind: MetricRule['kind'] | 'cells';
  status: 'pass' | 'fail' | 'info';
  /** the predicted exponent as text ("-1/2"), "1/log n", or "—" */
  predicted: string;
  slope?: number;
  ci?: [number, number];
  /** the rule's margin, when it has one */
  margin?: number;
  /** one line: what was compared and how it came out */
  detail: string;
  /** the rule's reason (margins, informational rows) */
  reason?: string;
}

/**
 * Whether a summary's metric shows a clean power law (see the module doc).
 * @returns why / why not, in words
 */
export function cleanPowerLaw(m: MetricSummary): { clean: boolean; why: string } {
  const law = m.law;
  if (!law) return { clean: true, why: 'no power vs a + c/log n comparison in the summary (cannot rule out a power law)' };
  const [lo, hi] = m.mean.ci;
  const nMin = m.points.filter((p) => p.mean > 0)[0]?.n;
  const share = law.bootstrapPreferInvLog === undefined || !Number.isFinite(law.bootstrapPreferInvLog) ? NaN : 1 - law.bootstrapPreferInvLog;
  if (law.preferred !== 'power') return { clean: false, why: `a + c/log n fits better (RSS ratio power/invlog ${fixed(law.ratio, 2)})` };
  if (!(share >= CLEAN_SHARE)) {
    return { clean: false, why: `power law preferred, but only in ${Number.isFinite(share) ? `${Math.round(100 * share)}%` : 'no'} of the bootstrap resamples (clean: ≥ ${Math.round(100 * CLEAN_SHARE)}%)` };
  }
  if (nMin === undefined || !Number.isFinite(lo) || !Number.isFinite(hi)) return { clean: true, why: 'power law preferred and no slope interval to show it is slow' };
  const steepest = -1 / Math.log(nMin);
  if (hi >= steepest) {
    return { clean: false, why: `power law preferred in ${Math.round(100 * share)}% of resamples, but the slope interval reaches ${fixed(steepest, 3)} = −1/ln ${nMin}, a slope a + c/log n can have` };
  }
  return { clean: true, why: `power law preferred in ${Math.round(100 * share)}% of resamples and the whole slope interval ${ciText(m.mean.ci)} is below −1/ln ${nMin} = ${fixed(steepest, 3)}` };
}

function ciText(ci: [number, number]): string {
  return `[${fixed(ci[0], 3)}, ${fixed(ci[1], 3)}]`;
}

function predicted(p: Prediction | undefined): string {
  return predictionText(p);
}

/**
 * Checks a preset's summary against its rules.
 * @returns one result per rule, the failed-cell check, and an `info` row per unruled metric, in
 *   the summary's metric order (the cells check first)
 * @throws Error when a rule's metric or margin is malformed (a bug in the rule table, not a result)
 */
export function checkSummary(summary: Summary, rules: PresetRules): CheckResult[] {
  const preset = rules.preset;
  const out: CheckResult[] = [];
  const failed = summary.cells.failed;
  out.push({
    preset,
    metric: 'cells',
    kind: 'cells',
    status: failed === 0 ? 'pass' : 'fail',
    predicted: '—',
    detail: failed === 0 ? `all ${summary.cells.total} cells ok (${summary.cells.notConverged} not converged, kept)` : `${failed} of ${summary.cells.total} cells failed: ${summary.failures?.[0]?.error ?? '(no message)'}`,
  });
  const byName = new Map(rules.rules.map((r) => [r.metric, r]));
  for (const r of rules.rules) {
    if ((r.margin !== undefined && !(r.margin >= 0)) || (r.margin !== undefined && r.kind !== 'rate')) {
      throw new Error(`repro rules ${preset}: ${r.metric}.margin must be a number ≥ 0 on a rate rule. Value: ${r.margin}`);
    }
    if ((r.kind === 'info' || (r.margin ?? 0) > 0) && !r.reason) throw new Error(`repro rules ${preset}: ${r.metric} needs a reason (margin or informational)`);
  }
  const seen = new Set<string>();
  for (const m of summary.metrics) {
    const rule = byName.get(m.metric);
    seen.add(m.metric);
    out.push(rule ? checkMetric(preset, m, rule) : infoRow(preset, m, 'no rule: informational'));
  }
  for (const r of rules.rules) {
    if (!seen.has(r.metric) && r.kind !== 'info') {
      out.push({ preset, metric: r.metric, kind: r.kind, status: 'fail', predicted: '—', detail: 'the summary has no such metric (was it renamed or not recorded?)' });
    }
  }
  return out;
}

function infoRow(preset: string, m: MetricSummary, reason: string): CheckResult {
  const c = verdictFit(m);
  return { preset, metric: m.metric, kind: 'info', status: 'info', predicted: predicted(m.prediction), slope: c.slope, ci: c.ci, detail: 'informational', reason };
}

function checkMetric(preset: string, m: MetricSummary, rule: MetricRule): CheckResult {
  if (rule.kind === 'info') return infoRow(preset, m, rule.reason!);
  const curve = verdictFit(m);
  const base = { preset, metric: m.metric, kind: rule.kind, predicted: predicted(m.prediction), slope: curve.slope, ci: curve.ci } as const;
  const p = m.prediction;
  if (rule.kind === 'rate') {
    if (!p || !('exponent' in p)) return { ...base, status: 'fail', detail: `the rule expects a polynomial prediction; the spec predicts ${predicted(p)}` };
    const margin = rule.margin ?? 0;
    const [lo, hi] = curve.ci;
    const withMargin = margin > 0 ? { margin, reason: rule.reason } : {};
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { ...base, ...withMargin, status: 'fail', detail: 'no slope interval (too few sample sizes with a positive mean?)' };
    const e = p.exponent;
    const inCi = lo <= e && e <= hi;
    const ok = lo - margin <= e && e <= hi + margin;
    const where = `${exponentText(e)} ${inCi ? 'in' : ok ? `within margin ${margin} of` : margin > 0 ? `outside (margin ${margin})` : 'outside'} the 95% interval ${ciText(curve.ci)}${curve === m.median ? ' of the median curve' : ''}`;
    return { ...base, ...withMargin, status: ok ? 'pass' : 'fail', detail: where };
  }
  if (!p || !('law' in p)) return { ...base, status: 'fail', detail: `the rule expects no polynomial rate; the spec predicts ${predicted(p)}` };
  const c = cleanPowerLaw(m);
  return { ...base, status: c.clean ? 'fail' : 'pass', detail: c.clean ? `clean power law: ${c.why}` : c.why, ...(rule.reason ? { reason: rule.reason } : {}) };
}

/** "demy-exact: theory check D1 failed: -1/2 outside the 95% interval [-0.40, -0.31]" */
export function failureMessage(r: CheckResult): string {
  const what = r.kind === 'cells' ? 'cell check' : `theory check ${r.metric} (${r.kind === 'rate' ? `rate ${r.predicted}` : 'no clean power law'})`;
  return `${r.preset}: ${what} failed: ${r.detail}`;
}
