/**
 * The figure of `gmoe compare`: one log-log panel per metric, each run in its own colour — the
 * statistic its verdict reads at each n (means, or medians where the prediction names them), the
 * 5–95 % band of its replications, and its fitted power law; each panel lists the runs' slopes,
 * intervals and verdicts in their colours, the prediction in its title.
 */
import type { ComparedDelta, RunComparison } from '../analysis/run-comparison.js';
import { ciText, fixed, predictionText } from '../analysis/format.js';
import { displayName, parseMetric } from '../analysis/metrics.js';
import { escapeMarkup } from './escape.js';
import { axisStyle, sizeTicks, type Figure } from './figure.js';
import { titledLayout } from './layout.js';

/** Okabe–Ito, in an order whose neighbours differ most. */
export const RUN_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
const SYMBOLS = ['circle', 'square', 'diamond', 'triangle-up', 'cross', 'x', 'star'];
/** Panels per row, and at most this many panels (the table holds every row). */
const COLUMNS = 2;
export const MAX_COMPARE_PANELS = 12;

/**
 * The rows a figure draws: all of them when there are few (or `--metric` chose them), else those that
 * at least two runs share and some run predicts — what a comparison is for — up to MAX_COMPARE_PANELS.
 */
export function figureRows(c: RunComparison): RunComparison['rows'] {
  if (c.rows.length <= MAX_COMPARE_PANELS) return c.rows;
  const shared = c.rows.filter((r) => r.cells.filter((x) => x !== null).length >= 2);
  const predicted = shared.filter((r) => r.prediction !== undefined);
  return (predicted.length > 0 ? predicted : shared.length > 0 ? shared : c.rows).slice(0, MAX_COMPARE_PANELS);
}

function rgba(hex: string, alpha: number): string {
  const v = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
}

type Row = RunComparison['rows'][number];
type Cell = NonNullable<Row['cells'][number]>;

/** A row's metric by name, its model first when labelled: "tanh · β₁ (weighted), m = 2". */
export function rowMetricName(row: Row): string {
  const pm = parseMetric(row.base);
  const weighted = pm.weighted && pm.param !== 'share_min' ? ' (weighted)' : '';
  return `${row.model ? `${row.model} · ` : ''}${displayName(pm)}${weighted}${pm.m !== undefined ? `, m = ${pm.m}` : ''}`;
}

/** A panel's title: the metric by name (its model first when labelled) and the prediction. */
function panelTitle(row: Row): string {
  const name = rowMetricName(row);
  const theory = row.prediction
    ? ` · theory ${predictionText(row.prediction)}${row.predictionsDiffer ? ' (runs differ)' : ''}`
    : '';
  return `<b>${escapeMarkup(name)}</b>${escapeMarkup(theory)}`;
}

/** One run's traces in one panel (band, statistic, fitted law) and the values its axis must show. */
function runTraces(
  cell: Cell,
  t: number,
  label: string,
  ax: string,
): { traces: Record<string, unknown>[]; values: number[] } {
  const colour = RUN_COLOURS[t % RUN_COLOURS.length]!;
  const stat = (q: Cell['metric']['points'][number]) => (cell.curve === 'median' ? q.median : q.mean);
  const pts = cell.metric.points.filter((q) => stat(q) > 0);
  const n = pts.map((q) => q.n);
  // the band where both quantiles can be drawn on a log axis (a weight matched exactly has q05 = 0)
  const band = cell.metric.points.filter((q) => q.q05 > 1e-12 * q.q95);
  const where = { xaxis: `x${ax}`, yaxis: `y${ax}` };
  const traces: Record<string, unknown>[] = [
    {
      type: 'scatter',
      mode: 'lines',
      x: [...band.map((q) => q.n), ...[...band].reverse().map((q) => q.n)],
      y: [...band.map((q) => q.q95), ...[...band].reverse().map((q) => q.q05)],
      fill: 'toself',
      fillcolor: rgba(colour, 0.12),
      line: { width: 0 },
      hoverinfo: 'skip',
      name: `${label}: 5–95 %`,
      ...where,
    },
    {
      type: 'scatter',
      mode: 'markers',
      x: n,
      y: pts.map(stat),
      name: `${label}: ${cell.curve}`,
      marker: { color: colour, size: 8, symbol: SYMBOLS[t % SYMBOLS.length], line: { color: colour, width: 1 } },
      ...where,
    },
  ];
  if (Number.isFinite(cell.slope) && n.length >= 2) {
    const ends = [n[0]!, n[n.length - 1]!];
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x: ends,
      y: ends.map((v) => Math.exp(cell.intercept) * v ** cell.slope),
      name: `${label}: fit`,
      line: { color: colour, width: 2 },
      hoverinfo: 'skip',
      ...where,
    });
  }
  return { traces, values: [...pts.map(stat), ...band.map((q) => q.q05), ...band.map((q) => q.q95)] };
}

/** A run's line under a panel: its slope, interval and verdict in its colour. */
function runLine(cell: Cell, t: number, label: string): string {
  const colour = RUN_COLOURS[t % RUN_COLOURS.length]!;
  const verdict = cell.verdictText ? ` · ${cell.verdictText}` : '';
  const text = `${label}: slope ${fixed(cell.slope, 2, '−')} ${ciText(cell.ci, '−')}${cell.curve === 'median' ? ' (median)' : ''}${verdict}`;
  return `<span style="color:${colour}">${escapeMarkup(text)}</span>`;
}

/** A later run's difference to the first under a panel: in its colour, marked where it excludes 0. */
function deltaLine(d: ComparedDelta, t: number, label: string, first: string): string {
  const colour = RUN_COLOURS[t % RUN_COLOURS.length]!;
  const sign = d.difference > 0 ? '+' : '';
  const text = `Δ ${label} − ${first}: ${sign}${fixed(d.difference, 2, '−')} ${ciText(d.ci, '−')}${d.curve === 'median' ? ' (median)' : ''}${d.differs ? ' (differ)' : ''}`;
  return `<span style="color:${colour}">${escapeMarkup(text)}</span>`;
}

/**
 * plotly `{ data, layout }` of a comparison (the rows of {@link figureRows}): panels in a grid of
 * COLUMNS, each with its title above and the runs' lines below.
 * @param title the figure's title
 */
export function runComparisonFigure(c: RunComparison, title: string): Figure {
  const rows = figureRows(c);
  const allN = rows.flatMap((r) => r.cells.flatMap((x) => (x ? x.metric.points.map((q) => q.n) : [])));
  const nExtent: [number, number] = [Math.min(...allN), Math.max(...allN)];
  const cols = Math.min(COLUMNS, rows.length);
  const gridRows = Math.ceil(rows.length / cols);
  const deltaRuns = c.runs.filter((_, t) => rows.some((r) => r.deltas[t])).length;
  const [panelH, textH, gap, top, bottom] = [300, 18 * (c.runs.length + deltaRuns) + 40, 40, 120, 20];
  const height = top + bottom + gridRows * (panelH + textH + gap);
  const width = 80 + cols * 560;
  const plotH = height - top - bottom;
  const subtitle = c.runs
    .map(
      (r, t) =>
        `<span style="color:${RUN_COLOURS[t % RUN_COLOURS.length]}">■</span> ${escapeMarkup(`${r.label}: ${r.spec}`)}`,
    )
    .join(' · ');
  const data: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    ...titledLayout({ width, height, title, subtitle, margin: { l: 70, r: 20, t: top, b: bottom } }),
    showlegend: false,
    annotations,
  };
  rows.forEach((row, p) => {
    const ax = p === 0 ? '' : String(p + 1);
    const [col, gr] = [p % cols, Math.floor(p / cols)];
    const y1 = 1 - (gr * (panelH + textH + gap) + gap) / plotH;
    const y0 = y1 - panelH / plotH;
    const x0 = (col + 0.08) / cols;
    const x1 = (col + 0.97) / cols;
    const values: number[] = [];
    const lines: string[] = [];
    row.cells.forEach((cell, t) => {
      if (!cell) return;
      const r = runTraces(cell, t, c.runs[t]!.label, ax);
      data.push(...r.traces);
      values.push(...r.values);
      lines.push(runLine(cell, t, c.runs[t]!.label));
    });
    row.deltas.forEach((d, t) => {
      if (d) lines.push(deltaLine(d, t, c.runs[t]!.label, c.runs[0]!.label));
    });
    const pos = values.filter((v) => v > 0 && Number.isFinite(v));
    const extent: [number, number] | undefined = pos.length > 0 ? [Math.min(...pos), Math.max(...pos)] : undefined;
    layout[`xaxis${ax}`] = {
      ...axisStyle(nExtent),
      ...sizeTicks(allN),
      domain: [x0, x1],
      anchor: `y${ax}`,
      title: { text: 'sample size n', font: { size: 12 } },
    };
    layout[`yaxis${ax}`] = { ...axisStyle(extent), domain: [y0, y1], anchor: `x${ax}` };
    const text = { xref: 'paper', yref: 'paper', x: x0, xanchor: 'left', showarrow: false, align: 'left' };
    annotations.push({ ...text, text: panelTitle(row), y: y1, yanchor: 'bottom', font: { size: 13 } });
    annotations.push({ ...text, text: lines.join('<br>'), y: y0 - 45 / plotH, yanchor: 'top', font: { size: 12 } });
  });
  return { data, layout };
}
