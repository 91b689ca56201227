/**
 * Summary → plotly figure spec ({ data, layout }): log-log metric vs n, one panel per metric
 * group (losses; per-parameter errors per Voronoi cell size; one column per fitted model in
 * multi-model specs). Each metric shows its replication spread (5–95% band), per-n means (●)
 * and medians (○), the power law fitted to the means labelled with its interval, the theory's
 * reference slope (dashed, through the geometric centre of the means) and, where the law
 * comparison was made, the fitted a + c/log n curve (dotted).
 *
 * The layout is computed in pixels (panel sizes, a legend under each panel) and expressed in
 * paper fractions, so the figure looks the same in the HTML page and in the PNG.
 */
import { compareMetrics, displayName, parseMetric, type MetricName } from '../analysis/metrics.js';
import { readsMedian } from '../analysis/curve.js';
import { exponentText, populationText, powerLawLabelHtml } from '../analysis/format.js';
import { verdictText } from '../analysis/verdict.js';
import { startsSubtitle } from '../analysis/starts.js';
import type { MetricSummary, PointSummary, Summary } from '../types.js';
import { escapeMarkup } from './escape.js';

/** A plotly figure: traces and layout, plain JSON. */
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

export interface FigureOptions {
  /** only these metrics (names as in the summary); default all */
  metrics?: string[];
  /** the figure's title (default: "<spec>: convergence rates") */
  title?: string;
  /** how to draw the replication spread: a 5–95% band (default) or error bars on the means */
  spread?: 'band' | 'errorbars';
  /** plot-area size of one panel in px (default 440 × 320) */
  panelWidth?: number;
  panelHeight?: number;
}

/** Colour-blind-safe (Okabe–Ito) colours, one per loss / parameter so panels agree. */
const COLOR: Record<string, string> = {
  D1: '#0072B2',
  D2: '#D55E00',
  loss: '#009E73',
  hellinger: '#CC79A7',
  beta1: '#0072B2',
  a: '#D55E00',
  b: '#009E73',
  nu: '#CC79A7',
  beta0: '#E69F00',
  tau: '#56B4E9',
  beta1tau: '#882255',
  beta0tau: '#999933',
  share_min: '#000000',
};
const EXTRA = ['#000000', '#882255', '#44AA99', '#999933', '#6699CC'];
const FONT = 'DejaVu Sans, Arial, sans-serif';

interface Panel {
  key: string;
  model?: string;
  kind: MetricName['kind'];
  m?: number;
  weighted?: boolean;
  metrics: PanelMetric[];
}

interface PanelMetric {
  ms: MetricSummary;
  pm: MetricName;
  alias: string[];
  /** the name of a later metric whose fitted line covers this one's: drawn wide beneath it, and said so */
  under?: string;
}

function groupTitle(p: Panel): string {
  const what =
    p.kind === 'loss'
      ? 'Losses'
      : p.kind === 'param'
        ? p.m === 1
          ? 'Parameter errors, single-atom cells'
          : p.weighted
            ? `Weighted errors, ${p.m}-atom cells (D₂'s form)`
            : `Parameter errors, ${p.m}-atom cells`
        : 'Other metrics';
  return p.model !== undefined ? `${p.model} gate · ${what}` : what;
}

function rgba(hex: string, alpha: number): string {
  const v = parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255},${alpha})`;
}

/** Means and medians equal at every n: the spec's "loss" is often D1 or D2 itself. */
function sameCurve(a: MetricSummary, b: MetricSummary): boolean {
  if (a.points.length !== b.points.length || a.points.length === 0) return false;
  const close = (x: number, y: number) => Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y));
  return a.points.every(
    (p, i) => p.n === b.points[i].n && close(p.mean, b.points[i].mean) && close(p.median, b.points[i].median),
  );
}

function labelsOf(summary: Summary): string[] {
  return Object.keys(summary.cellsByModel ?? {});
}

function panelsOf(summary: Summary, only?: string[]): Panel[] {
  const labels = labelsOf(summary);
  const panels: Panel[] = [];
  const byKey = new Map<string, Panel>();
  const items = summary.metrics
    .filter((m) => (only ? only.includes(m.metric) : true))
    .map((ms) => ({ ms, pm: parseMetric(ms.metric, labels) }))
    .sort((a, b) => compareMetrics(a.pm, b.pm, labels));
  for (const { ms, pm } of items) {
    if (ms.points.length === 0) continue;
    const key = `${pm.model ?? ''}|${pm.kind}|${pm.m ?? ''}${pm.weighted ? '|w' : ''}`;
    let p = byKey.get(key);
    if (!p) {
      p = { key, model: pm.model, kind: pm.kind, m: pm.m, ...(pm.weighted ? { weighted: true } : {}), metrics: [] };
      byKey.set(key, p);
      panels.push(p);
    }
    const twin = pm.kind === 'loss' ? p.metrics.find((x) => sameCurve(x.ms, ms)) : undefined;
    if (twin) twin.alias.push(displayName(pm));
    else p.metrics.push({ ms, pm, alias: [] });
  }
  for (const p of panels) markCovered(p.metrics);
  return panels;
}

/** Fitted lines within this ratio of each other at both ends would hide the one drawn first. */
const COVER_RATIO = 1.1;

/**
 * Near-equal curves that are not the same metric (top-K's loss and D2 differ by ≈ 2 %) draw their
 * fitted lines on top of each other: mark the one drawn first, so it is drawn wide beneath the other.
 */
function markCovered(metrics: PanelMetric[]): void {
  const lines = metrics.map((m) => fitLine(m.ms));
  const close = (u: number, v: number) => Math.abs(Math.log(u / v)) <= Math.log(COVER_RATIO);
  lines.forEach((a, j) => {
    if (!a) return;
    const i = lines.findIndex(
      (b, i) =>
        i < j &&
        metrics[i]!.under === undefined &&
        b !== undefined &&
        b.n0 === a.n0 &&
        b.n1 === a.n1 &&
        close(a.y0, b.y0) &&
        close(a.y1, b.y1),
    );
    if (i >= 0) metrics[i]!.under = shownName(metrics[j]!);
  });
}

/** A metric's name as figures show it, with the names of the metrics it stands for ("D₂ = loss"). */
function shownName({ pm, alias }: Pick<PanelMetric, 'pm' | 'alias'>): string {
  return [displayName(pm), ...alias].join(' = ');
}

/** A fitted power law as the figure draws it: its ends (n0, y0), (n1, y1), and the points the fit used. */
interface FitLine {
  fit: MetricSummary['mean'];
  /** the sample sizes with a positive statistic and its value there */
  fitted: { n: number; v: number }[];
  n0: number;
  n1: number;
  y0: number;
  y1: number;
}

/** The fitted power law the verdict reads (the medians for heavy-tailed metrics), or none. */
function fitLine(ms: MetricSummary): FitLine | undefined {
  const onMedian = readsMedian(ms.prediction);
  const fit = onMedian ? ms.median : ms.mean;
  const fitted = ms.points.map((p) => ({ n: p.n, v: onMedian ? p.median : p.mean })).filter((p) => p.v > 0);
  if (!Number.isFinite(fit.slope) || fitted.length < 2) return undefined;
  const n0 = fitted[0]!.n;
  const n1 = fitted[fitted.length - 1]!.n;
  const at = (v: number) => Math.exp(fit.intercept + fit.slope * Math.log(v));
  return { fit, fitted, n0, n1, y0: at(n0), y1: at(n1) };
}

/** Subtitle items: what the figure is made of, including the failed / non-converged counts. */
function subtitleItems(summary: Summary, metrics: MetricSummary[]): string[] {
  const c = summary.cells;
  const init = summary.init
    ? `init: ${summary.init.kind}${summary.init.kind === 'near-truth' ? ` (${summary.init.noise ?? 'shrinking'} noise${summary.init.noiseScale !== undefined && summary.init.noiseScale !== 1 ? ` ×${summary.init.noiseScale}` : ''}${Array.isArray(summary.init.assign) ? `, fitted atoms on true (${summary.init.assign.join(', ')})` : ''})` : ''}`
    : '';
  const level = Math.round(100 * (summary.bootstrap?.level ?? 0.95));
  // starts fitted on a subsample first find other maxima than the preset's (docs/experiments.md): say so
  const models = summary.cellsByModel ? Object.keys(summary.cellsByModel).length : 1;
  const pre = Object.entries(summary.prefit ?? {});
  const prefit =
    pre.length === 0
      ? ''
      : new Set(pre.map(([, m]) => m)).size === 1 && pre.length === models
        ? `starts prefitted on 1 sample in ${pre[0]![1]}`
        : `starts prefitted: ${pre.map(([label, m]) => `${label} on 1 sample in ${m}`).join(', ')}`;
  // a shared variance is a constrained model (misspecified where the truth's variances differ): say so
  const equal = Object.keys(summary.variance ?? {});
  const variance =
    equal.length === 0
      ? ''
      : `one variance shared by the experts${equal.length === models ? '' : ` (${equal.join(', ')})`}`;
  return [
    summary.replications !== undefined ? `${summary.replications} replications per n` : '',
    `${c.total} cells: ${c.failed} failed, ${c.notConverged} not converged (kept)`,
    init,
    prefit,
    variance,
    summary.population ? populationText(summary.population) : '',
    startsSubtitle(summary),
    '\n',
    '● mean  ○ median',
    'band: 5–95% of replications',
    `— power law fitted to the means (or the medians where marked), slope [${level}% bootstrap CI]`,
    metrics.some((m) => m.prediction && 'exponent' in m.prediction)
      ? "- - theory slope, through the means' centre"
      : '',
    metrics.some(showInvLog) ? '··· a + c/log n fitted to the means' : '',
  ].filter((s) => s !== '');
}

/** Greedy wrap of items joined by " · " into lines of about `chars` characters ("\n" forces a break). */
function wrapItems(items: string[], chars: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const it of items) {
    if (it === '\n') {
      if (cur) lines.push(cur);
      cur = '';
      continue;
    }
    const next = cur ? `${cur} · ${it}` : it;
    if (cur && next.length > chars) {
      lines.push(cur);
      cur = it;
    } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** Grid places of the panels: multi-model specs put models in columns and metric groups in rows. */
function gridOf(
  panels: Panel[],
  multi: boolean,
): { place: Map<Panel, { row: number; col: number }>; nRows: number; nCols: number } {
  const place = new Map<Panel, { row: number; col: number }>();
  let nRows: number;
  let nCols: number;
  if (multi) {
    const models = [...new Set(panels.map((p) => p.model ?? ''))];
    const group = (p: Panel) => `${p.kind}|${p.m ?? ''}${p.weighted ? '|w' : ''}`;
    const kinds = [...new Set(panels.map(group))];
    // rows by what they hold, whichever model has them: a group only one model has (a 3-atom cell met
    // once) goes below the shared ones, not above them because its model's label sorts first
    const kindOrder = (k: string) => ({ ...panels.find((p) => group(p) === k)!.metrics[0].pm, model: undefined });
    kinds.sort((a, b) => compareMetrics(kindOrder(a), kindOrder(b), []) || 0);
    for (const p of panels) place.set(p, { row: kinds.indexOf(group(p)), col: models.indexOf(p.model ?? '') });
    nRows = kinds.length;
    nCols = models.length;
  } else {
    nCols = panels.length <= 3 ? Math.max(1, panels.length) : panels.length === 4 ? 2 : 3;
    nRows = Math.max(1, Math.ceil(panels.length / nCols));
    panels.forEach((p, i) => place.set(p, { row: Math.floor(i / nCols), col: i % nCols }));
  }
  return { place, nRows, nCols };
}

/** The figure's title and subtitle lines, left-aligned at paper x `x0` (py: px from the top → paper y). */
function headerAnnotations(
  title: string,
  sub: string[],
  x0: number,
  py: (y: number) => number,
): Record<string, unknown>[] {
  return [
    {
      text: `<b>${escapeMarkup(title)}</b>`,
      x: x0,
      y: py(14),
      xref: 'paper',
      yref: 'paper',
      xanchor: 'left',
      yanchor: 'top',
      showarrow: false,
      font: { size: 19 },
    },
    ...sub.map((t, i) => ({
      text: escapeMarkup(t),
      x: x0,
      y: py(46 + 20 * i),
      xref: 'paper',
      yref: 'paper',
      xanchor: 'left',
      yanchor: 'top',
      showarrow: false,
      font: { size: 12, color: '#555555' },
    })),
  ];
}

/**
 * Builds the plotly figure of a summary.
 * @returns { data, layout } for Plotly.newPlot; layout.width/height are the intended size in px
 */
export function buildFigure(summary: Summary, options: FigureOptions = {}): Figure {
  const PW = options.panelWidth ?? 440;
  const PH = options.panelHeight ?? 320;
  const spread = options.spread ?? 'band';
  const panels = panelsOf(summary, options.metrics);
  const labels = labelsOf(summary);
  const multi = labels.length > 1 && panels.some((p) => p.model !== undefined);

  const { place, nRows, nCols } = gridOf(panels, multi);

  const L = 84; // y tick labels and title
  const GAP = 100;
  const R = 40;
  // a column is as wide as its panels' legends, so that no legend runs into the next column
  const colW: number[] = [];
  for (let c = 0; c < nCols; c++) {
    const ps = panels.filter((p) => place.get(p)!.col === c);
    const textW = Math.max(0, ...ps.flatMap((p) => p.metrics.flatMap((m) => legendEntry(m).lines.map(textWidth))));
    colW.push(Math.max(PW, textW + LEGEND_SYMBOL - GAP + 24));
  }
  const colLeft = colW.map((_, c) => L + colW.slice(0, c).reduce((s, w) => s + w + GAP, 0));
  const width0 = colLeft[nCols - 1] + colW[nCols - 1] + R;
  const sub = wrapItems(
    subtitleItems(
      summary,
      panels.flatMap((p) => p.metrics.map((x) => x.ms)),
    ),
    Math.floor((width0 - 40) / 6.8),
  );
  const HEADER = 52 + 20 * sub.length;
  const TITLE = 30; // panel title above the plot area
  const AXIS = 58; // x tick labels and title below it
  const ENTRY = 19;
  const width = width0;
  const legendH = (row: number) =>
    Math.max(
      0,
      ...panels
        .filter((p) => place.get(p)!.row === row)
        .map((p) => p.metrics.reduce((s, m) => s + legendEntry(m).lines.length, 0) * ENTRY + 8),
    );
  const rowTop: number[] = [];
  let y = HEADER;
  for (let r = 0; r < nRows; r++) {
    rowTop.push(y);
    y += TITLE + PH + AXIS + legendH(r) + 26;
  }
  const height = Math.max(y, HEADER + 200);
  const px = (x: number) => x / width;
  const py = (yy: number) => 1 - yy / height;

  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    width,
    height,
    margin: { l: 0, r: 0, t: 0, b: 0, pad: 0 },
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
    font: { family: FONT, size: 13, color: '#222222' },
    hovermode: 'closest',
    showlegend: true,
  };
  const annotations: Record<string, unknown>[] = [];
  const title = options.title ?? `${summary.spec}: convergence rates`;
  annotations.push(...headerAnnotations(title, sub, px(L - 60), py));

  const rowRange = (row: number): [number, number] => {
    const ex = panels.filter((q) => place.get(q)!.row === row).map((q) => extentOf(q).y);
    return [Math.min(...ex.map((e) => e[0])), Math.max(...ex.map((e) => e[1]))];
  };
  panels.forEach((p, i) => {
    const { row, col } = place.get(p)!;
    const ax = i === 0 ? '' : String(i + 1);
    const left = colLeft[col];
    const top = rowTop[row] + TITLE;
    const legendId = i === 0 ? 'legend' : `legend${i + 1}`;
    const firstInRow = panels.findIndex((q) => place.get(q)!.row === row);
    const yTitle = p.kind === 'loss' ? 'loss' : p.kind === 'param' ? 'parameter error' : 'value';
    const yRange = multi ? rowRange(row) : extentOf(p).y;
    layout[`xaxis${ax}`] = {
      ...axisStyle(extentOf(p).x),
      ...designTicks(p),
      domain: [px(left), px(left + PW)],
      anchor: `y${ax}`,
      title: { text: 'sample size n', standoff: 6 },
    };
    layout[`yaxis${ax}`] = {
      ...axisStyle(yRange),
      domain: [py(top + PH), py(top)],
      anchor: `x${ax}`,
      title: { text: yTitle, standoff: 4 },
      ...(multi && firstInRow !== i ? { matches: `y${firstInRow === 0 ? '' : firstInRow + 1}` } : {}),
    };
    layout[legendId] = {
      x: px(left - 4),
      y: py(top + PH + AXIS),
      xanchor: 'left',
      yanchor: 'top',
      xref: 'paper',
      yref: 'paper',
      orientation: 'v',
      bgcolor: 'rgba(255,255,255,0)',
      font: { size: 12 },
      tracegroupgap: 0,
      itemwidth: 40,
    };
    annotations.push({
      text: `<b>${escapeMarkup(groupTitle(p))}</b>`,
      x: px(left),
      y: py(top - 6),
      xref: 'paper',
      yref: 'paper',
      xanchor: 'left',
      yanchor: 'bottom',
      showarrow: false,
      font: { size: 14 },
    });
    p.metrics.forEach((m, j) => {
      const color = COLOR[m.pm.kind === 'param' ? (m.pm.param ?? '') : m.pm.base] ?? EXTRA[j % EXTRA.length];
      data.push(...metricTraces(m, color, ax, legendId, spread));
    });
  });
  layout.annotations = annotations;
  return { data, layout };
}

/** The smallest weight share: drawn among its cell's weighted errors, but no error itself. */
function isShare(pm: MetricName): boolean {
  return pm.param === 'share_min';
}

/**
 * Whether a metric's replication spread is drawn: not for the share, whose lower 5 % reach 1e-12 and would
 * squeeze its panel's errors into a few decades (its table row keeps the numbers).
 */
function drawsSpread(pm: MetricName): boolean {
  return !isShare(pm);
}

/**
 * A metric's median (ring) and mean (dot) markers: the share's are small open diamonds, since white-filled rings
 * drawn after its panel's errors hid the errors it lies among.
 */
function markerStyles(pm: MetricName, color: string): { median: object; mean: object } {
  if (isShare(pm))
    return {
      median: { color: rgba(color, 0), size: 6, symbol: 'diamond-open', line: { color, width: 1.2 } },
      mean: { color, size: 3.5, symbol: 'diamond', line: { width: 0 } },
    };
  return {
    median: { color: '#ffffff', size: 8.5, symbol: 'circle', line: { color, width: 1.6 } },
    mean: { color, size: 5.5, symbol: 'circle', line: { width: 0 } },
  };
}

/** The data's extent in a panel: n, and the values drawn (spread, means, medians). */
function extentOf(p: Panel): { x: [number, number]; y: [number, number] } {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const { ms, pm } of p.metrics) {
    for (const q of ms.points) {
      x0 = Math.min(x0, q.n);
      x1 = Math.max(x1, q.n);
      for (const v of drawsSpread(pm) ? [q.q05, q.q95, q.mean, q.median] : [q.mean, q.median]) {
        if (v > 0 && Number.isFinite(v)) {
          y0 = Math.min(y0, v);
          y1 = Math.max(y1, v);
        }
      }
    }
  }
  return { x: [x0, x1], y: [y0, y1] };
}

/** How many integer powers of ten lie in [lo, hi] (0 without a positive extent). */
function powersInside(extent?: [number, number]): number {
  return extent && extent[0] > 0 && Number.isFinite(extent[1])
    ? Math.floor(Math.log10(extent[1])) - Math.ceil(Math.log10(extent[0])) + 1
    : 0;
}

/**
 * With fewer than two powers of ten on the n axis, plotly labels it itself (1000, 1500, …, 5500, turned), which
 * crowds it: label the design's sizes instead, thinned so that neighbours keep ≥ 12 % of the axis between them.
 */
export function designTicks(p: Pick<Panel, 'metrics'>): Record<string, unknown> {
  return sizeTicks(p.metrics.flatMap(({ ms }) => ms.points.map((q) => q.n)));
}

/** {@link designTicks} for a list of sample sizes (any order, repeats allowed). */
export function sizeTicks(sizes: readonly number[]): Record<string, unknown> {
  const ns = [...new Set(sizes)].sort((a, b) => a - b);
  if (ns.length === 0 || powersInside([ns[0], ns[ns.length - 1]]) >= 2) return {};
  const gap = 0.12 * Math.max(Math.log10(ns[ns.length - 1] / ns[0]), 0.3);
  const kept: number[] = [];
  for (const n of ns) if (kept.length === 0 || Math.log10(n / kept[kept.length - 1]) >= gap) kept.push(n);
  return { tickmode: 'array', tickvals: kept, ticktext: kept.map(String), tickangle: 0 };
}

/** At most this many labelled powers of ten on a log axis (a panel is ≈ 300 px high). */
export const MAX_DECADE_LABELS = 8;

/**
 * Log axis style. When the data span at least two powers of ten, only those are labelled
 * (with unlabelled minor ticks between): the 2 and 5 labels plotly adds otherwise crowd a
 * small panel. Over more than MAX_DECADE_LABELS decades (a runaway gate's β1 errors of 10⁸ beside
 * weights matched to 10⁻¹⁵) every m-th power is labelled and the minor ticks mark the others.
 */
export function axisStyle(extent?: [number, number]): Record<string, unknown> {
  const decades = powersInside(extent);
  const step = Math.max(1, Math.ceil(decades / MAX_DECADE_LABELS));
  return {
    ...(decades >= 2 ? { dtick: step } : {}),
    type: 'log',
    automargin: false,
    exponentformat: 'power',
    showline: true,
    mirror: true,
    linecolor: '#444444',
    linewidth: 1,
    ticks: 'outside',
    ticklen: 5,
    tickcolor: '#444444',
    showgrid: true,
    gridcolor: '#e6e6e6',
    zeroline: false,
    minor: {
      ticks: 'outside',
      ticklen: 3,
      tickcolor: '#888888',
      showgrid: false,
      ...(decades >= 2 ? { dtick: step > 1 ? 1 : 'D1' } : {}),
    },
    title: { font: { size: 13 } },
  };
}

/** The traces of one metric in one panel (band, means, medians, fit, theory, 1/log n). */
function metricTraces(
  m: PanelMetric,
  color: string,
  ax: string,
  legend: string,
  spread: 'band' | 'errorbars',
): Record<string, unknown>[] {
  const { ms, pm, alias } = m;
  const out: Record<string, unknown>[] = [];
  const xa = `x${ax}`;
  const ya = `y${ax}`;
  const pts = ms.points;
  const n = pts.map((p) => p.n);
  // a log axis cannot show 0, nor should it stretch to a rounding residue of 0 (a translated β1 error of 1e-16
  // beside errors near 1 squeezed its panel into a sliver): values below 1e-12 of the metric's largest are 0
  const top = Math.max(0, ...pts.map((p) => p.q95), ...pts.map((p) => p.mean));
  const pos = (v: number) => (v > 1e-12 * top ? v : null);
  const name = shownName(m);
  // a value the estimator fixes is shown greyed: not evidence
  const common = {
    xaxis: xa,
    yaxis: ya,
    legend,
    legendgroup: `${legend}:${ms.metric}`,
    ...(ms.verdict === 'by construction' ? { opacity: 0.4 } : {}),
  };
  if (spread === 'band' && drawsSpread(m.pm)) {
    out.push({
      ...common,
      type: 'scatter',
      mode: 'lines',
      x: [...n, ...[...n].reverse()],
      y: [...pts.map((p) => pos(p.q95)), ...[...pts].reverse().map((p) => pos(p.q05))],
      fill: 'toself',
      fillcolor: rgba(color, 0.13),
      line: { width: 0, color: rgba(color, 0) },
      hoverinfo: 'skip',
      showlegend: false,
      name: `${name} 5–95%`,
    });
  }
  const hover = (stat: string) =>
    `${escapeMarkup(name)} ${stat}<br>n = %{x}<br>%{y:.4g}<br>%{customdata[0]} values, %{customdata[1]} not converged, %{customdata[2]} failed<extra></extra>`;
  const custom = pts.map((p) => [p.count, p.notConverged ?? 0, p.failed ?? 0]);
  const marker = markerStyles(pm, color);
  // medians (rings) first, so a mean (dot) equal to its median shows inside the ring
  out.push({
    ...common,
    type: 'scatter',
    mode: 'markers',
    x: n,
    y: pts.map((p) => pos(p.median)),
    marker: marker.median,
    customdata: custom,
    hovertemplate: hover('median'),
    showlegend: false,
    name: `${name} median`,
  });

  out.push({
    ...common,
    type: 'scatter',
    mode: 'markers',
    x: n,
    y: pts.map((p) => pos(p.mean)),
    marker: marker.mean,
    ...(spread === 'errorbars' && drawsSpread(m.pm)
      ? {
          error_y: {
            type: 'data',
            symmetric: false,
            array: pts.map((p) => Math.max(0, p.q95 - p.mean)),
            arrayminus: pts.map((p) => Math.max(0, p.mean - p.q05)),
            color: rgba(color, 0.6),
            thickness: 1,
            width: 2,
          },
        }
      : {}),
    customdata: custom,
    hovertemplate: hover('mean'),
    showlegend: false,
    name: `${name} mean`,
  });
  // the line of the curve the verdict reads: the medians for heavy-tailed metrics
  const line = fitLine(ms);
  if (line) {
    const { fit, fitted, n0, n1 } = line;
    const entry = legendEntry(m);
    out.push({
      ...common,
      type: 'scatter',
      mode: 'lines',
      x: [n0, n1],
      y: [line.y0, line.y1],
      // a covered line is drawn wide beneath the one over it, so both colours show
      line: { color, width: m.under === undefined ? 2.2 : 6.5 },
      name: entry.html,
      hovertemplate: `${escapeMarkup(name)}: ${powerLawLabelHtml(fit)}<extra></extra>`,
      showlegend: true,
    });
    const pred = ms.prediction;
    if (pred && 'exponent' in pred) {
      // anchored through the geometric centre of the means the fit used
      const lx = fitted.reduce((s, p) => s + Math.log(p.n), 0) / fitted.length;
      const ly = fitted.reduce((s, p) => s + Math.log(p.v), 0) / fitted.length;
      const e = pred.exponent;
      out.push({
        ...common,
        type: 'scatter',
        mode: 'lines',
        x: [n0, n1],
        y: [n0, n1].map((v) => Math.exp(ly + e * (Math.log(v) - lx))),
        line: { color, width: 1.4, dash: 'dash' },
        opacity: 0.75,
        name: `${name} theory: n<sup>${exponentText(e, '−')}</sup>`,
        hovertemplate: `${escapeMarkup(name)} theory: n<sup>${exponentText(e, '−')}</sup><extra></extra>`,
        showlegend: false,
      });
    }
    if (showInvLog(ms) && ms.law) {
      const { a, c } = ms.law.invLog;
      const K = 60;
      const xs: number[] = [];
      for (let k = 0; k <= K; k++) xs.push(Math.exp(Math.log(n0) + ((Math.log(n1) - Math.log(n0)) * k) / K));
      out.push({
        ...common,
        type: 'scatter',
        mode: 'lines',
        x: xs,
        y: xs.map((v) => a + c / Math.log(v)),
        line: { color, width: 1.6, dash: 'dot' },
        name: `${name}: ${fmtG(a)} + ${fmtG(c)}/log n`,
        hovertemplate: `${escapeMarkup(name)}: ${fmtG(a)} + ${fmtG(c)}/log n<extra></extra>`,
        showlegend: false,
      });
    }
  }
  return out;
}

/** The a + c/log n curve is drawn where it is the prediction or fits better: elsewhere it is clutter. */
function showInvLog(ms: MetricSummary): boolean {
  return (
    ms.law !== undefined && ((ms.prediction !== undefined && 'law' in ms.prediction) || ms.law.preferred === '1/log n')
  );
}

function fmtG(x: number): string {
  return x === 0
    ? '0'
    : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4
      ? String(Number(x.toPrecision(2)))
      : x.toExponential(1);
}

/** Width of the legend's symbol and its gap to the text, px. */
const LEGEND_SYMBOL = 46;
/** Longest legend line, in characters, before the theory and verdict go to a line of their own. */
const LINE_CHARS = 64;

const VERDICT_COLOR: Record<string, string> = {
  confirmed: '#117733',
  inconclusive: '#A05A00',
  contradicted: '#CC3311',
  'by construction': '#888888',
  'no interval': '#888888',
};

/** The verdict word, coloured: "inconclusive (−1/4 in CI)". */
function verdictMark(ms: MetricSummary): string {
  const v = ms.verdict;
  if (!v) return '';
  const text = verdictText(ms, '−');
  const c = VERDICT_COLOR[v] ?? '#222222';
  return v === 'confirmed' || v === 'contradicted'
    ? `<b><span style="color:${c}">${text}</span></b>`
    : `<span style="color:${c}">${text}</span>`;
}

/**
 * The legend entry of a metric's fit: "name: c·n^s [lo, hi] · theory −1/2 · confirmed", the theory
 * and verdict on a second line when the first would be long, the law comparison on a line of its
 * own. `lines` are the plain-text lines (for the layout's widths).
 */
function legendEntry(m: PanelMetric): { html: string; lines: string[] } {
  const { ms, under } = m;
  const onMedian = readsMedian(ms.prediction);
  const fit = onMedian ? ms.median : ms.mean;
  const name = escapeMarkup(shownName(m));
  const head = `${name}${onMedian ? ' (median)' : ''}: ${powerLawLabelHtml(fit)}`;
  const pred = ms.prediction;
  const theory =
    pred && 'exponent' in pred
      ? `theory ${exponentText(pred.exponent, '−')}`
      : pred && 'law' in pred
        ? 'theory 1/log n'
        : '';
  const tail = [theory, verdictMark(ms)].filter((t) => t !== '').join(' · ');
  const law = lawNote(ms);
  const html: string[] = [];
  const within = Math.round(100 * (COVER_RATIO - 1));
  const cover = under === undefined ? '' : `\u2003\u2003wide line: under ${escapeMarkup(under)}'s (within ${within} %)`;
  if (tail && plain(`${head} · ${tail}`).length <= LINE_CHARS) html.push(`${head} · ${tail}`);
  else html.push(head, ...(tail ? [`\u2003\u2003${tail}`] : []));
  if (law) html.push(`\u2003\u2003${law}`);
  if (cover) html.push(cover);
  const grey = ms.verdict === 'by construction';
  const joined = html.join('<br>');
  return { html: grey ? `<span style="color:#888888">${joined}</span>` : joined, lines: html.map(plain) };
}

/** Legend markup as the text it shows (tags and entities out). */
function plain(html: string): string {
  return html
    .replace(/<sup>(.*?)<\/sup>/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/&[a-z#0-9]+;/g, 'x');
}

/** Estimated width in px of legend text at 12 px DejaVu Sans (about 7.3 px a character). */
function textWidth(text: string): number {
  return 7.3 * text.length;
}

/** The law comparison, a line of the legend entry of the fit. */
function lawNote(ms: MetricSummary): string {
  const parts: string[] = [];
  if (showInvLog(ms) && ms.law) {
    const r = ms.law.ratio;
    const times = ms.law.preferred === 'power' ? 1 / r : r;
    const t = Number.isFinite(times)
      ? times < 10
        ? times.toPrecision(3)
        : times < 1000
          ? String(Math.round(times))
          : times.toExponential(0)
      : '∞';
    const f = ms.law.bootstrapPreferInvLog;
    const agree =
      f !== undefined && Number.isFinite(f)
        ? `, ${Math.round(100 * (ms.law.preferred === 'power' ? 1 - f : f))}% of resamples`
        : '';
    parts.push(`${ms.law.preferred === 'power' ? 'power law' : '1/log n'} fits better (RSS ×${t}${agree})`);
  }
  return parts.join(', ');
}
