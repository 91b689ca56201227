/**
 * The differences of `gmoe compare` at a glance (compare-delta.*): one row per metric, each later run's
 * slope minus the first run's as a point with its bootstrap interval, in the run's colour, against a line
 * at 0 — filled where the interval excludes 0, open where it does not.
 */
import type { RunComparison } from '../analysis/run-comparison.js';
import { ciText, fixed } from '../analysis/format.js';
import { escapeMarkup } from './escape.js';
import type { Figure } from './figure.js';
import { titledLayout } from './layout.js';
import { RUN_COLOURS, rowMetricName } from './run-comparison-figure.js';

/** A row's name on the axis: the metric by name, the curve when medians. */
function rowName(row: RunComparison['rows'][number], curve: 'mean' | 'median'): string {
  return `${rowMetricName(row)}${curve === 'median' ? ' (median)' : ''}`;
}

/**
 * The x range: 0 and every point and interval but those whose interval is more than 4× as wide as the median
 * one (a metric whose slope is barely measured would squeeze the others into a line): those are cut at the
 * frame, a point beyond it drawn on the frame as an arrow with its value.
 */
function xRange(ds: readonly { difference: number; ci: [number, number] }[]): [number, number] {
  const widths = ds
    .map((d) => d.ci[1] - d.ci[0])
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const median = widths.length > 0 ? widths[widths.length >> 1]! : Infinity;
  const ends = ds.flatMap((d) => {
    const w = d.ci[1] - d.ci[0];
    return Number.isFinite(w) && w > 4 * median ? [] : [d.difference, ...d.ci];
  });
  const lo = Math.min(0, ...ends.filter(Number.isFinite));
  const hi = Math.max(0, ...ends.filter(Number.isFinite));
  const pad = 0.06 * (hi - lo || 1);
  return [lo - pad, hi + pad];
}

/**
 * plotly `{ data, layout }` of the comparison's differences, or null when no row has one (no later run
 * shares a metric with the first, or the runs came without their cells).
 */
export function deltaFigure(c: RunComparison, title: string): Figure | null {
  const rows = c.rows.filter((r) => r.deltas.some((d) => d !== null));
  if (rows.length === 0) return null;
  const first = c.runs[0]!.label;
  // top to bottom in the table's order
  const names = rows.map((r) => rowName(r, r.deltas.find((d) => d !== null)!.curve)).reverse();
  const data: Record<string, unknown>[] = [];
  const later = c.runs.length - 1;
  const range = xRange(rows.flatMap((r) => r.deltas.filter((d) => d !== null)));
  const clamp = (x: number) => Math.min(Math.max(x, range[0]), range[1]);
  c.runs.forEach((run, t) => {
    if (t === 0) return;
    const colour = RUN_COLOURS[t % RUN_COLOURS.length]!;
    const pts = rows.flatMap((r, i) => {
      const d = r.deltas[t];
      return d ? [{ d, y: rows.length - 1 - i }] : [];
    });
    // several later runs side by side within a row, the first on top (as in the legend)
    const offset = later > 1 ? (0.5 - (t - 1) / (later - 1)) * 0.4 : 0;
    const ci = (k: 0 | 1) => pts.map(({ d }) => (Number.isFinite(d.ci[k]) ? Math.abs(d.ci[k] - d.difference) : 0));
    const beyond = pts.map(({ d }) => (d.difference < range[0] ? -1 : d.difference > range[1] ? 1 : 0));
    data.push({
      type: 'scatter',
      mode: 'markers+text',
      // an arrow on the frame is drawn whole
      cliponaxis: false,
      name: `${run.label} − ${first}`,
      x: pts.map(({ d }) => clamp(d.difference)),
      y: pts.map(({ y }) => y + offset),
      error_x: {
        type: 'data',
        symmetric: false,
        array: ci(1),
        arrayminus: ci(0),
        color: colour,
        thickness: 1.5,
        width: 4,
      },
      marker: {
        color: pts.map(({ d }) => (d.differs ? colour : 'white')),
        line: { color: colour, width: 2 },
        size: 10,
        symbol: beyond.map((b) => (b < 0 ? 'triangle-left' : b > 0 ? 'triangle-right' : 'circle')),
      },
      // a point beyond the frame says its value beside the arrow
      text: pts.map(({ d }, i) => (beyond[i] !== 0 ? fixed(d.difference, 2, '−') : '')),
      textposition: beyond.map((b) => (b < 0 ? 'middle right' : 'middle left')),
      textfont: { color: colour, size: 12 },
      customdata: pts.map(({ d }) =>
        escapeMarkup(
          `${fixed(d.difference, 2, '−')} ${ciText(d.ci, '−')}${d.differs ? ' (differ)' : ''}; ${d.shared} cells paired`,
        ),
      ),
      hovertemplate: '%{customdata}<extra></extra>',
    });
  });
  const height = 170 + 34 * rows.length + (later > 1 ? 45 : 0);
  const layout: Record<string, unknown> = {
    ...titledLayout({
      width: 900,
      height,
      title,
      subtitle: escapeMarkup(
        `${later === 1 ? `${c.runs[1]!.label}'s` : "each run's"} slope minus ${first}'s, 95 % bootstrap interval (shared cells resampled as pairs); filled: excludes 0`,
      ),
      // several later runs: their legend above the plot
      margin: { l: 340, r: 30, t: later > 1 ? 145 : 100, b: 60 },
    }),
    showlegend: later > 1,
    legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1.01, yanchor: 'bottom' },
    xaxis: {
      range,
      title: { text: 'Δ slope (an interval cut at the frame runs beyond it)', font: { size: 13 } },
      zeroline: true,
      zerolinecolor: '#444444',
      zerolinewidth: 1.5,
      showgrid: true,
      gridcolor: '#e6e6e6',
      showline: true,
      mirror: true,
      linecolor: '#444444',
      ticks: 'outside',
    },
    yaxis: {
      tickmode: 'array',
      tickvals: names.map((_, i) => i),
      ticktext: names.map(escapeMarkup),
      range: [-0.6, names.length - 0.4],
      zeroline: false,
      // invisible ticks keep the labels clear of an arrow drawn on the frame
      ticks: 'outside',
      ticklen: 12,
      tickcolor: 'rgba(0, 0, 0, 0)',
      showgrid: true,
      gridcolor: '#f0f0f0',
      showline: true,
      mirror: true,
      linecolor: '#444444',
    },
  };
  return { data, layout };
}
