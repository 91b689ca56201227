/**
 * The figure of a model's predictions (`gmoe predict --plot`). For d = 1: the data coloured by their
 * most probable expert, the conditional mean E[y|x], each expert's mean ± 2 sd drawn where its gate gives
 * it at least 1 % of the weight (one band per expert: a ±2 sd band of the mixture would cover the empty
 * gap between experts where the gate switches); below, the gate probabilities π_j(x). For d > 1 with
 * y: the observed y against the predicted mean, coloured the same way. With y, a panel on the right: the
 * histogram of the probability integral transform F(y|x), flat where the model holds.
 */
import { predictMoE, type MoEPrediction } from '../../models/predict.js';
import { predictiveCdf, predictiveInterval } from '../../models/predictive-quantile.js';
import type { Model } from '../../models/types.js';
import { ksUniform } from '../../math/kolmogorov.js';
import type { Figure } from './figure.js';
import { titledLayout } from './layout.js';

// Okabe–Ito, as the other figures; experts past eight reuse them
const EXPERT_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];
const colour = (j: number) => EXPERT_COLOURS[j % EXPERT_COLOURS.length]!;
/** grid points of the curves */
const GRID = 400;
/** an expert's line is drawn where its gate weight is at least this */
const SHOWN = 0.01;
/** at most this many data points drawn (every m-th row beyond): the page stays light */
export const MAX_POINTS = 20_000;

/** The points read: x (n × d), y when known, and their predictions. */
export interface PredictFigureInput {
  model: Model;
  n: number;
  X: Float64Array;
  y?: Float64Array;
  prediction: MoEPrediction;
  title: string;
  /** a second title line (default none) */
  subtitle?: string;
  /** the data's column names, for the axis titles (default x, y) */
  columns?: { x: string[]; y?: string };
  /** d = 1: also draw the central predictive interval of this level (quantiles of p(y|x)) */
  intervalLevel?: number;
  /** with y: F(y|x) per row when the caller has it (predictiveCdf; else computed here) */
  pit?: Float64Array;
}

/** An axis title for a column name: plotly's title text is HTML-like, so <, > and & are escaped. */
const axisName = (name: string | undefined, fallback: string): string =>
  (name ?? fallback).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** plotly `{ data, layout }`, or null when there is nothing to draw (d > 1 without y). */
export function predictFigure(input: PredictFigureInput): Figure | null {
  const figure = input.model.d === 1 ? curvesFigure(input) : input.y ? observedFigure(input) : null;
  if (figure && input.y) addPitPanel(figure, input.pit ?? predictiveCdf(input.prediction, input.model.nu, input.y));
  return figure;
}

/** bins of the PIT histogram */
const PIT_BINS = 20;

/**
 * The PIT's histogram (as a density: 1 where uniform) right of the panels, with the line at 1 and the
 * band where 95 % of a bin's heights fall when the model holds (binomial, each bin alone).
 */
function addPitPanel(figure: Figure, pit: Float64Array): void {
  const n = pit.length;
  const counts = new Array<number>(PIT_BINS).fill(0);
  for (const u of pit) counts[Math.min(PIT_BINS - 1, Math.floor(u * PIT_BINS))]++;
  const w = 1 / PIT_BINS;
  const half = (1.96 * Math.sqrt((w * (1 - w)) / n)) / w;
  const axes = { xaxis: 'x9', yaxis: 'y9' };
  const edges = [0, 1];
  figure.data.push(
    {
      type: 'bar',
      name: 'pit = F(y|x): histogram',
      x: counts.map((_, b) => (b + 0.5) * w),
      y: counts.map((c) => c / (n * w)),
      width: w * 0.95,
      marker: { color: '#999999' },
      showlegend: false,
      hovertemplate: 'F(y|x) in [%{x}±0.025]: density %{y:.3f}<extra></extra>',
      ...axes,
    },
    {
      type: 'scatter',
      mode: 'lines',
      x: edges,
      y: [1, 1],
      line: { color: '#000', width: 1.5 },
      showlegend: false,
      hoverinfo: 'skip',
      ...axes,
    },
    {
      type: 'scatter',
      mode: 'lines',
      name: 'pit: 95 % band of a bin where the model holds',
      x: [...edges, null, ...edges],
      y: [1 - half, 1 - half, null, 1 + half, 1 + half],
      line: { color: '#000', width: 1, dash: 'dot' },
      connectgaps: false,
      showlegend: false,
      hoverinfo: 'skip',
      ...axes,
    },
  );
  const layout = figure.layout as Record<string, unknown> & { xaxis: Record<string, unknown>; width: number };
  layout.width = Math.round(layout.width * 1.3);
  layout.xaxis = { ...layout.xaxis, domain: [0, 0.74] };
  const top = (layout.yaxis as { domain?: number[] }).domain ?? [0, 1];
  const { pValue } = ksUniform(pit);
  const p = pValue < 1e-4 ? '< 1e-4' : `= ${Number(pValue.toPrecision(3))}`;
  const notes = (layout.annotations as Record<string, unknown>[] | undefined) ?? [];
  layout.annotations = [
    ...notes,
    {
      xref: 'paper',
      yref: 'paper',
      x: 0.81,
      y: top[1]!,
      xanchor: 'left',
      yanchor: 'bottom',
      align: 'left',
      showarrow: false,
      text: `<b>calibration</b>: KS test p ${p}`,
      font: { size: 13 },
    },
  ];
  Object.assign(layout, {
    xaxis9: {
      ...AXIS,
      domain: [0.81, 1],
      range: [0, 1],
      anchor: 'y9',
      title: {
        text: `pit = F(y|x)<br><span style="font-size:11px">dotted: a bin's 95 % range if the model holds</span>`,
      },
    },
    yaxis9: {
      ...AXIS,
      domain: top,
      anchor: 'x9',
      rangemode: 'tozero',
      title: { text: 'density (1: calibrated)' },
    },
  });
}

const AXIS = { showgrid: true, gridcolor: '#e5e5e5', zeroline: false, showline: true, linecolor: '#444', mirror: true };

function layoutOf(input: PredictFigureInput, height: number, legendY: number): Record<string, unknown> {
  const { title, subtitle = '' } = input;
  return {
    ...titledLayout({ width: 1000, height, title, subtitle, margin: { l: 80, r: 30, t: 100, b: 170 } }),
    // below the panels: inside, it hid the data of one corner or another
    legend: { orientation: 'h', x: 0, xanchor: 'left', y: legendY, yanchor: 'top' },
  };
}

/** The data points coloured by most probable expert (one trace per expert, for the legend). */
function pointTraces(input: PredictFigureInput, xs: (i: number) => number, axes: object): Record<string, unknown>[] {
  const { y, prediction: p, model } = input;
  if (!y) return [];
  const traces: Record<string, unknown>[] = [];
  const step = Math.ceil(input.n / MAX_POINTS);
  for (let j = -1; j < model.k; j++) {
    const idx: number[] = [];
    for (let i = 0; i < input.n; i += step) if (p.expert![i] === j) idx.push(i);
    if (idx.length === 0) continue;
    traces.push({
      type: 'scatter',
      mode: 'markers',
      name: j < 0 ? 'zero density' : `data, most probably expert ${j + 1}`,
      x: idx.map(xs),
      y: idx.map((i) => y[i]!),
      marker: { color: j < 0 ? '#888888' : colour(j), size: 4, opacity: 0.45 },
      ...axes,
    });
  }
  return traces;
}

/** '#RRGGBB' at opacity a, as plotly's rgba() */
const rgba = (hex: string, a: number): string =>
  `rgba(${parseInt(hex.slice(1, 3), 16)},${parseInt(hex.slice(3, 5), 16)},${parseInt(hex.slice(5, 7), 16)},${a})`;

/**
 * Expert j's μ_j ± 2√ν_j over the grid points where π_j ≥ SHOWN: one closed shape per run of such points
 * (plotly closes each segment between nulls on its own).
 */
function expertBand(g: MoEPrediction, nu: number, xs: number[], j: number, axes: object): Record<string, unknown> {
  const { k } = g;
  const half = 2 * Math.sqrt(nu);
  const bx: (number | null)[] = [];
  const by: (number | null)[] = [];
  for (let t = 0; t < xs.length;) {
    if (!(g.gate[t * k + j]! >= SHOWN)) {
      t++;
      continue;
    }
    let e = t;
    while (e < xs.length && g.gate[e * k + j]! >= SHOWN) e++;
    const seg = Array.from({ length: e - t }, (_, u) => t + u);
    if (bx.length > 0) (bx.push(null), by.push(null));
    for (const u of seg) (bx.push(xs[u]!), by.push(g.expertMean[u * k + j]! + half));
    for (const u of seg.reverse()) (bx.push(xs[u]!), by.push(g.expertMean[u * k + j]! - half));
    t = e;
  }
  return {
    type: 'scatter',
    mode: 'lines',
    name: `expert ${j + 1} ± 2 sd`,
    legendgroup: `expert${j}`,
    showlegend: false,
    x: bx,
    y: by,
    fill: 'toself',
    fillcolor: rgba(colour(j), 0.12),
    line: { width: 0 },
    hoverinfo: 'skip',
    ...axes,
  };
}

function curvesFigure(input: PredictFigureInput): Figure {
  const { model, X, n } = input;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, X[i]!);
    hi = Math.max(hi, X[i]!);
  }
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  const gx = Float64Array.from({ length: GRID }, (_, t) => lo + ((hi - lo) * t) / (GRID - 1));
  const g = predictMoE(model, gx, GRID);
  const k = model.k;
  const top = { xaxis: 'x', yaxis: 'y' };
  const bottom = { xaxis: 'x', yaxis: 'y2' };
  const data: Record<string, unknown>[] = pointTraces(input, (i) => X[i]!, top);
  const xs = Array.from(gx);
  for (let j = 0; j < k; j++) data.push(expertBand(g, model.nu[j]!, xs, j, top));
  data.push({
    type: 'scatter',
    mode: 'lines',
    name: 'E[y|x]',
    x: xs,
    y: Array.from(g.mean),
    line: { color: '#000', width: 2.5 },
    ...top,
  });
  const level = input.intervalLevel;
  if (level !== undefined) {
    const { lower, upper } = predictiveInterval(g, model.nu, level);
    // one trace, two lines: a null between them
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: `${Number((100 * level).toPrecision(6))} % predictive interval`,
      x: [...xs, null, ...xs],
      y: [...lower, null, ...upper],
      line: { color: '#000', width: 1.2, dash: 'dot' },
      connectgaps: false,
      ...top,
    });
  }
  for (let j = 0; j < k; j++) {
    const shown = xs.map((_, t) => (g.gate[t * k + j]! >= SHOWN ? g.expertMean[t * k + j]! : null));
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: `expert ${j + 1}: mean ± 2 sd (where π ≥ ${SHOWN})`,
      legendgroup: `expert${j}`,
      x: xs,
      y: shown,
      line: { color: colour(j), width: 2, dash: 'dash' },
      connectgaps: false,
      ...top,
    });
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: `π${j + 1}(x)`,
      showlegend: false,
      x: xs,
      y: xs.map((_, t) => g.gate[t * k + j]!),
      line: { color: colour(j), width: 2 },
      ...bottom,
    });
  }
  const layout = layoutOf(input, 820, -0.13);
  Object.assign(layout, {
    xaxis: { ...AXIS, title: { text: axisName(input.columns?.x[0], 'x') }, anchor: 'y2' },
    yaxis: { ...AXIS, domain: [0.36, 1], title: { text: axisName(input.columns?.y, 'y') } },
    yaxis2: { ...AXIS, domain: [0, 0.26], range: [-0.03, 1.03], title: { text: 'gate π<sub>j</sub>(x)' } },
  });
  return { data, layout };
}

function observedFigure(input: PredictFigureInput): Figure {
  const { prediction: p, y } = input;
  const data = pointTraces(input, (i) => p.mean[i]!, { xaxis: 'x', yaxis: 'y' });
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < input.n; i++) {
    lo = Math.min(lo, y![i]!, p.mean[i]!);
    hi = Math.max(hi, y![i]!, p.mean[i]!);
  }
  data.push({
    type: 'scatter',
    mode: 'lines',
    name: 'y = E[y|x]',
    x: [lo, hi],
    y: [lo, hi],
    line: { color: '#000', width: 1.5, dash: 'dot' },
  });
  const layout = layoutOf(input, 720, -0.17);
  Object.assign(layout, {
    xaxis: { ...AXIS, title: { text: 'predicted mean E[y|x]' } },
    yaxis: { ...AXIS, title: { text: `observed ${axisName(input.columns?.y, 'y')}` } },
  });
  return { data, layout };
}
