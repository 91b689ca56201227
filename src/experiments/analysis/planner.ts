/**
 * The planner: how large a sweep must be for a rate row to be decisive (THEORY.md §5).
 *
 * Width model: the slope is OLS of log(statistic) on log n, so its standard error is
 * σ/√(R·Sxx) with R replications per n and Sxx = Σ (ln n_i − mean)²; the per-replication spread σ
 * is read off the run's own bootstrap interval. A design (R, n range, number of n) is predicted
 * to give the half-width h·√(R₀·Sxx₀ / (R·Sxx)), h the run's half-width with R₀, Sxx₀. This
 * assumes σ does not change with n beyond the run's range (say so when the plan extrapolates).
 *
 * Cost model: a cell's work is n × EM iterations (summed over the spec's models), fitted as a
 * power of n over the run's cells, so that plans are a pure function of the records (summary.json
 * stays byte-identical between runs); seconds per unit of work are measured separately
 * ({@link secondsPerWork}) and only turn work into CPU time when printed.
 *
 * Decisive: half-width below half the distance from the prediction to its nearest competitor
 * (verdict.ts); for 1/log n, below the distance from the measured slope to the nearer of −1/8 and 0.
 */
import type { CellRecord, MetricSummary, Summary } from '../types.js';
import { resolveNGrid } from '../spec.js';
import { verdictFit } from './curve.js';
import { fixed, predictionText } from './format.js';
import { ols } from './slope.js';
import { decisiveHalfWidth } from './verdict.js';

/** A sweep design: a log-spaced n grid and replications per n. */
export interface Design {
  n: { from: number; to: number; count: number; spacing: 'log' };
  replications: number;
}

/** The planner's answer for one rate row. */
export interface RowPlan {
  metric: string;
  predicted: string;
  verdict?: string;
  /** the run's half-width of the verdict curve's interval */
  halfWidth: number;
  /** the half-width that decides the row */
  target: number;
  /** the cheapest decisive design among the candidates (absent when the row cannot be planned) */
  design?: Design;
  predictedHalfWidth?: number;
  /** work of the design: Σ over cells of n × EM iterations */
  work?: number;
  /** why there is no design, or what the plan assumes */
  note?: string;
}

export interface RatePlan {
  /** the run the plan extrapolates from */
  pilot: { n: number[]; replications: number; work: number };
  /** per-cell work model: work(n) = exp(intercept)·n^slope (all models of the spec together) */
  workModel: { intercept: number; slope: number };
  rows: RowPlan[];
  /** one design decisive for every planned row at once */
  figure?: { metrics: string[]; design: Design; work: number };
}

export interface PlanOptions {
  /** rows to plan (metric names); default every row with a prediction that is evidence */
  metrics?: string[];
  /** target half-width for every row instead of the decisive one (e.g. a test) */
  targetHalfWidth?: number;
  /** candidate n ranges: multiples of the run's largest n (default 1, 2, 5, 10) */
  toFactors?: number[];
  /** candidate numbers of n (default the run's, 5, 10, 20) */
  counts?: number[];
  /** fewest replications a design may have (default 5) */
  minReplications?: number;
}

const DEFAULT_TO = [1, 2, 5, 10];
const MAX_N = 1e7;

function sxx(ns: readonly number[]): number {
  const x = ns.map(Math.log);
  const m = x.reduce((s, v) => s + v, 0) / x.length;
  return x.reduce((s, v) => s + (v - m) * (v - m), 0);
}

/** The work of one cell (n × iterations, summed over models) per n, fitted as a power of n. */
export function fitWorkModel(records: readonly CellRecord[]): { intercept: number; slope: number; total: number } {
  const byN = new Map<number, { work: number; cells: Map<number, true> }>();
  let total = 0;
  for (const r of records) {
    if (r.status !== 'ok') continue;
    const w = r.n * Math.max(1, r.iterations);
    total += w;
    const e = byN.get(r.n) ?? { work: 0, cells: new Map() };
    e.work += w;
    e.cells.set(r.rep, true);
    byN.set(r.n, e);
  }
  const ns = [...byN.keys()].sort((a, b) => a - b);
  // per (n, rep): all models of the cell together
  const x = ns.map(Math.log);
  const y = ns.map((n) => Math.log(byN.get(n)!.work / byN.get(n)!.cells.size));
  if (ns.length === 1) return { intercept: y[0] - x[0], slope: 1, total };
  const line = ols(x, y);
  return Number.isFinite(line.slope)
    ? { intercept: line.intercept, slope: line.slope, total }
    : { intercept: 0, slope: 1, total };
}

/** Measured CPU seconds per unit of work (n × iterations) over a run's ok cells; NaN when none. */
export function secondsPerWork(records: readonly CellRecord[]): number {
  let s = 0;
  let w = 0;
  for (const r of records) {
    if (r.status !== 'ok') continue;
    s += r.seconds;
    w += r.n * Math.max(1, r.iterations);
  }
  return w > 0 && s > 0 ? s / w : NaN;
}

interface Candidate {
  design: Omit<Design, 'replications'>;
  ns: number[];
  sxx: number;
  workPerRep: number;
}

function candidates(pilotN: readonly number[], options: PlanOptions, workAt: (n: number) => number): Candidate[] {
  const from = pilotN[0];
  const top = pilotN[pilotN.length - 1];
  const counts = [...new Set(options.counts ?? [pilotN.length, 5, 10, 20])].filter((c) => c >= 3).sort((a, b) => a - b);
  const out: Candidate[] = [];
  for (const f of options.toFactors ?? DEFAULT_TO) {
    const to = Math.min(MAX_N, Math.round(top * f));
    if (!(to > from)) continue;
    for (const count of counts) {
      const design = { n: { from, to, count, spacing: 'log' as const } };
      const ns = resolveNGrid(design.n);
      if (ns.length < 3) continue;
      out.push({ design, ns, sxx: sxx(ns), workPerRep: ns.reduce((s, n) => s + workAt(n), 0) });
    }
  }
  return out;
}

/** The row's inputs, or why it cannot be planned. */
function rowInput(
  m: MetricSummary,
  options: PlanOptions,
): { hw: number; target: number; slope: number } | { note: string } {
  const p = m.prediction;
  if (!p) return { note: 'no prediction' };
  if (m.verdict === 'by construction')
    return { note: 'by construction: the estimator fixes this value, more data cannot decide it' };
  const fit = verdictFit(m);
  const [lo, hi] = fit.ci;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) return { note: 'no interval to extrapolate from' };
  if (m.verdict === 'contradicted')
    return { note: 'contradicted: a larger sweep narrows the interval around a slope that excludes the prediction' };
  const target = options.targetHalfWidth ?? decisiveHalfWidth(p, fit.slope);
  if (!(target > 0))
    return {
      note:
        fit.slope >= 0
          ? `the slope ${fixed(fit.slope)} is at or above 0: no interval around it can show the curve falling`
          : `the slope ${fixed(fit.slope)} is at or below −1/8: no interval around it can exclude −1/8`,
    };
  return { hw: (hi - lo) / 2, target, slope: fit.slope };
}

/**
 * Plans decisive designs for a summary's rate rows from its own bootstrap intervals and the
 * records' work (see the module doc).
 * @throws Error when a metric named in options.metrics is not in the summary
 */
export function planRates(
  summary: Summary,
  records: readonly CellRecord[],
  options: PlanOptions = {},
): RatePlan | undefined {
  const wm = fitWorkModel(records);
  const workAt = (n: number) => Math.exp(wm.intercept + wm.slope * Math.log(n));
  const wanted = options.metrics;
  for (const w of wanted ?? []) {
    if (!summary.metrics.some((m) => m.metric === w))
      throw new Error(
        `--metric must name a metric of ${summary.spec} (${summary.metrics.map((m) => m.metric).join(', ')}). Value: ${w}`,
      );
  }
  const metrics = summary.metrics.filter((m) =>
    wanted ? wanted.includes(m.metric) : m.prediction !== undefined && m.verdict !== 'by construction',
  );
  const withPoints = metrics.find((m) => m.points.length >= 2);
  if (!withPoints) return undefined;
  const pilotN = withPoints.points.map((p) => p.n);
  const R0 = withPoints.points.reduce((s, p) => s + p.count, 0) / withPoints.points.length;
  const cands = candidates(pilotN, options, workAt);
  const minR = options.minReplications ?? 5;
  const extrapolates = (c: Candidate) => c.design.n.to > pilotN[pilotN.length - 1];
  const needR = (hw: number, target: number, rowSxx: number, c: Candidate) =>
    Math.max(minR, Math.ceil(((R0 * rowSxx) / c.sxx) * (hw / target) ** 2));
  const rows: RowPlan[] = [];
  const planned: { metric: string; hw: number; target: number; sxx: number }[] = [];
  for (const m of metrics) {
    const base = {
      metric: m.metric,
      predicted: predictionText(m.prediction),
      ...(m.verdict ? { verdict: m.verdict } : {}),
    };
    const inp = rowInput(m, options);
    const fit = verdictFit(m);
    const hw0 = (fit.ci[1] - fit.ci[0]) / 2;
    if ('note' in inp) {
      rows.push({ ...base, halfWidth: hw0, target: NaN, note: inp.note });
      continue;
    }
    // Sxx of the n the row's fit used (a curve may leave out n with a zero statistic)
    const used = m.points.filter((p) => (verdictFit(m) === m.median ? p.median : p.mean) > 0).map((p) => p.n);
    const rowSxx = sxx(used.length >= 2 ? used : pilotN);
    let best: { c: Candidate; R: number; work: number } | undefined;
    for (const c of cands) {
      const R = needR(inp.hw, inp.target, rowSxx, c);
      const work = R * c.workPerRep;
      if (!best || work < best.work) best = { c, R, work };
    }
    if (!best) {
      rows.push({
        ...base,
        halfWidth: inp.hw,
        target: inp.target,
        note: 'no candidate design (fewer than 3 sample sizes)',
      });
      continue;
    }
    planned.push({ metric: m.metric, hw: inp.hw, target: inp.target, sxx: rowSxx });
    rows.push({
      ...base,
      halfWidth: inp.hw,
      target: inp.target,
      design: { ...best.c.design, replications: best.R },
      predictedHalfWidth: inp.hw * Math.sqrt((R0 * rowSxx) / (best.R * best.c.sxx)),
      work: best.work,
      ...(extrapolates(best.c) ? { note: `extrapolates the spread beyond n = ${pilotN[pilotN.length - 1]}` } : {}),
    });
  }
  const plan: RatePlan = {
    pilot: { n: pilotN, replications: R0, work: wm.total },
    workModel: { intercept: wm.intercept, slope: wm.slope },
    rows,
  };
  if (planned.length > 0 && cands.length > 0) {
    let best: { c: Candidate; R: number; work: number } | undefined;
    for (const c of cands) {
      const R = Math.max(...planned.map((r) => needR(r.hw, r.target, r.sxx, c)));
      const work = R * c.workPerRep;
      if (!best || work < best.work) best = { c, R, work };
    }
    plan.figure = {
      metrics: planned.map((r) => r.metric),
      design: { ...best!.c.design, replications: best!.R },
      work: best!.work,
    };
  }
  return plan;
}

/** The best half-width a work budget buys for a planned row (over the candidate n grids). */
export function bestWithinBudget(
  row: RowPlan,
  plan: RatePlan,
  budgetWork: number,
  options: PlanOptions = {},
): { design: Design; predictedHalfWidth: number } | undefined {
  if (!row.design || !row.predictedHalfWidth) return undefined;
  const workAt = (n: number) => Math.exp(plan.workModel.intercept + plan.workModel.slope * Math.log(n));
  // the row's own σ: back out R0·Sxx0·hw0² from the planned design's prediction
  const k = row.predictedHalfWidth ** 2 * row.design.replications * sxx(resolveNGrid(row.design.n));
  let best: { design: Design; predictedHalfWidth: number } | undefined;
  for (const c of candidates(plan.pilot.n, options, workAt)) {
    const R = Math.floor(budgetWork / c.workPerRep);
    if (R < (options.minReplications ?? 5)) continue;
    const hw = Math.sqrt(k / (R * c.sxx));
    if (!best || hw < best.predictedHalfWidth)
      best = { design: { ...c.design, replications: R }, predictedHalfWidth: hw };
  }
  return best;
}

/** "1000–20000 × 5 n × 40 reps" */
export function designText(d: Design): string {
  return `n ${d.n.from}–${d.n.to} (${d.n.count} log-spaced) × ${d.replications} reps`;
}

/** Seconds as "42 s", "3.1 min", "2.4 h", "3.2 days". */
export function durationText(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${(s / 60).toPrecision(2)} min`;
  if (s < 48 * 3600) return `${(s / 3600).toPrecision(2)} h`;
  return `${(s / 86400).toPrecision(2)} days`;
}

export interface PlanFormatOptions {
  /** measured seconds per unit of work ({@link secondsPerWork}); without it, work only */
  secondsPerWork?: number;
  /** worker threads for the wall-clock estimate (default 1) */
  workers?: number;
  /** wall-clock budget in seconds with `workers` workers: rows over it also get the best the budget buys */
  budgetSeconds?: number;
  /** only these rows (default all) */
  metrics?: string[];
}

/** CPU and wall time of a design's work: "CPU 3.1 h (1.6 h on 2 workers)". */
export function costText(work: number, o: PlanFormatOptions): string {
  const spw = o.secondsPerWork;
  if (spw === undefined || !Number.isFinite(spw)) return `work ${work.toExponential(2)} (n × iterations)`;
  const W = o.workers ?? 1;
  const cpu = work * spw;
  return `CPU ${durationText(cpu)} (${durationText(cpu / W)} on ${W} worker${W > 1 ? 's' : ''})`;
}

/** The plan as text lines, for the sweep table, `gmoe plan` and the repro report. */
export function formatPlan(plan: RatePlan, o: PlanFormatOptions = {}): string[] {
  const L: string[] = [];
  const rows = plan.rows.filter((r) => (o.metrics ? o.metrics.includes(r.metric) : true));
  L.push(
    `Planner (from this run: n ${plan.pilot.n[0]}–${plan.pilot.n[plan.pilot.n.length - 1]}, ${fixed(plan.pilot.replications, 1)} reps per n): the cheapest design whose predicted half-width decides each row`,
    "  (half-width ∝ 1/√(reps · Σ(ln n − mean)²) from the bootstrap interval; cost ∝ the cells' n × EM iterations, timed on this run)",
  );
  const W = o.workers ?? 1;
  const spw = o.secondsPerWork;
  const budgetWork =
    o.budgetSeconds !== undefined && spw !== undefined && Number.isFinite(spw)
      ? (o.budgetSeconds * W) / spw
      : undefined;
  for (const r of rows) {
    const head = `  ${r.metric} (${r.predicted}${r.verdict ? `, ${r.verdict}` : ''}): ±${fixed(r.halfWidth)}`;
    if (!r.design) {
      L.push(`${head} — ${r.note ?? 'not planned'}`);
      continue;
    }
    L.push(
      `${head} → ±${fixed(r.target, 3)}: ${designText(r.design)} (predicted ±${fixed(r.predictedHalfWidth!, 3)}), ${costText(r.work!, o)}${r.note ? `; ${r.note}` : ''}`,
    );
    if (budgetWork !== undefined && r.work! > budgetWork) {
      const b = bestWithinBudget(r, plan, budgetWork);
      L.push(
        `    over the budget; within it: ${b ? `${designText(b.design)} → ±${fixed(b.predictedHalfWidth, 3)}` : 'not even the smallest design'}`,
      );
    }
  }
  if (plan.figure) {
    L.push(
      `  whole figure (${plan.figure.metrics.length} rows): ${designText(plan.figure.design)}, ${costText(plan.figure.work, o)}`,
    );
    if (budgetWork !== undefined && plan.figure.work > budgetWork)
      L.push(`    over the budget of ${durationText(o.budgetSeconds!)} on ${W} worker${W > 1 ? 's' : ''}`);
  }
  return L;
}
