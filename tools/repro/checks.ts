/**
 * Theory checks of the reproducibility run: each preset's quick summary against the rates of
 * THEORY.md §5, by rules that are data (one list per preset, each rule with its reason).
 *
 * Rules (the slope is the OLS slope of log(mean) on log(n), its interval the summary's 95%
 * percentile bootstrap over replications):
 * - `rate` (a polynomial prediction n^e): fails when the row is contradicted, e outside the interval
 *   widened by the rule's margin δ on both sides (δ = 0 unless the rule states one and why); a
 *   `headline` row of an `exact` preset also fails unless its verdict is `confirmed` (the prediction
 *   in the interval and every competing law of analysis/verdict.ts outside it).
 * - rows the estimator fixes (verdict `by construction`) are shown, never checked.
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
import { cleanPowerLawOf } from '../../src/experiments/analysis/verdict.js';
import type { MetricSummary, Prediction, Summary } from '../../src/experiments/types.js';

export { CLEAN_SHARE } from '../../src/experiments/analysis/verdict.js';

export interface MetricRule {
  metric: string;
  kind: 'rate' | 'no-power' | 'info';
  /** `rate` only: the interval is widened by this much on both sides (≥ 0) */
  margin?: number;
  /** why: required for a margin and for `info` */
  reason?: string;
  /** a headline row of the preset (see rules.ts) */
  headline?: boolean;
}

export interface PresetRules {
  preset: string;
  /** exact-specified: every headline row must be `confirmed` */
  exact?: boolean;
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
  /** the summary's rate verdict (analysis/verdict.ts) */
  verdict?: NonNullable<MetricSummary['verdict']>;
  /** inconclusive: the competitors the interval holds */
  cannotExclude?: number[];
  /** contradicted: faster or slower than predicted */
  direction?: 'faster' | 'slower';
  /** a headline row of its preset */
  headline?: boolean;
}

/**
 * Whether a summary's metric shows a clean power law (see the module doc; analysis/verdict.ts).
 * @returns why / why not, in words
 */
export function cleanPowerLaw(m: MetricSummary): { clean: boolean; why: string } {
  return cleanPowerLawOf(m.law, m.mean.ci, m.points.filter((p) => p.mean > 0)[0]?.n);
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
    out.push(rule ? checkMetric(preset, m, rule, rules.exact ?? false) : infoRow(preset, m, 'no rule: informational'));
  }
  for (const r of rules.rules) {
    if (!seen.has(r.metric) && r.kind !== 'info') {
      out.push({ preset, metric: r.metric, kind: r.kind, status: 'fail', predicted: '—', detail: 'the summary has no such metric (was it renamed or not recorded?)' });
    }
  }
  return out;
}

function verdictOf(
  m: MetricSummary,
  rule?: MetricRule,
): Pick<CheckResult, 'verdict' | 'cannotExclude' | 'direction' | 'headline'> {
  return {
    ...(m.verdict ? { verdict: m.verdict } : {}),
    ...(m.cannotExclude ? { cannotExclude: m.cannotExclude } : {}),
    ...(m.direction ? { direction: m.direction } : {}),
    ...(rule?.headline ? { headline: true } : {}),
  };
}

function infoRow(preset: string, m: MetricSummary, reason: string, rule?: MetricRule): CheckResult {
  const c = verdictFit(m);
  return { preset, metric: m.metric, kind: 'info', status: 'info', predicted: predicted(m.prediction), slope: c.slope, ci: c.ci, detail: m.verdictDetail ?? 'informational', reason, ...verdictOf(m, rule) };
}

/**
 * One rule's check. A row the estimator fixes (`by construction`) is shown, never checked. A rate
 * row fails when contradicted (its prediction outside the interval, widened by the rule's margin),
 * and, in an exact-specified preset, when it is a headline row that is not `confirmed`.
 */
function checkMetric(preset: string, m: MetricSummary, rule: MetricRule, exact: boolean): CheckResult {
  if (rule.kind === 'info') return infoRow(preset, m, rule.reason!, rule);
  if (m.verdict === 'by construction') return infoRow(preset, m, 'by construction: not evidence', rule);
  const curve = verdictFit(m);
  const base = { preset, metric: m.metric, kind: rule.kind, predicted: predicted(m.prediction), slope: curve.slope, ci: curve.ci, ...verdictOf(m, rule) } as const;
  const p = m.prediction;
  const headlineFails = (what: string): CheckResult | undefined =>
    rule.headline && exact && m.verdict !== 'confirmed' ? { ...base, status: 'fail', detail: `headline row not confirmed: ${what}` } : undefined;
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
    const detail = m.verdictDetail && inCi ? `${where}; ${m.verdict}${m.cannotExclude ? `: ${m.cannotExclude.map((c) => exponentText(c)).join(', ')} in it too` : ''}` : where;
    if (!ok) return { ...base, ...withMargin, status: 'fail', detail: `contradicted: ${where}` };
    return headlineFails(detail) ?? { ...base, ...withMargin, ...(inCi ? {} : { verdict: 'inconclusive' as const }), status: 'pass', detail };
  }
  if (!p || !('law' in p)) return { ...base, status: 'fail', detail: `the rule expects no polynomial rate; the spec predicts ${predicted(p)}` };
  const c = cleanPowerLaw(m);
  if (c.clean) return { ...base, status: 'fail', detail: `contradicted: clean power law: ${c.why}`, ...(rule.reason ? { reason: rule.reason } : {}) };
  return headlineFails(c.why) ?? { ...base, status: 'pass', detail: c.why, ...(rule.reason ? { reason: rule.reason } : {}) };
}

/** "demy-exact: theory check D1 failed: -1/2 outside the 95% interval [-0.40, -0.31]" */
export function failureMessage(r: CheckResult): string {
  const what = r.kind === 'cells' ? 'cell check' : `${r.headline ? 'headline' : 'theory'} check ${r.metric} (${r.kind === 'rate' ? `rate ${r.predicted}` : 'no clean power law'})`;
  return `${r.preset}: ${what} failed: ${r.detail}`;
}
