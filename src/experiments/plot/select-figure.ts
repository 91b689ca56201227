/**
 * The figure of a choice of k (`gmoe select`): AIC, BIC and ICL against k, each criterion's minimum
 * ringed, the chosen k marked by a dotted line; the log-likelihood in a second panel.
 */
import type { SelectResult } from '../../em/select.js';
import type { Figure } from './figure.js';
import { titledLayout } from './layout.js';

// Okabe–Ito colours, as the sweep figures
const COLOURS = { aic: '#D55E00', bic: '#0072B2', icl: '#009E73', logLik: '#000000' } as const;

/** plotly `{ data, layout }` of a {@link SelectResult}. */
export function selectFigure(result: SelectResult, title: string): Figure {
  const ks = result.rows.map((r) => r.k);
  const data: Record<string, unknown>[] = [];
  for (const key of ['aic', 'bic', 'icl'] as const) {
    const name = key.toUpperCase();
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: `${name} (min at k = ${result.best[key]})`,
      x: ks,
      y: result.rows.map((r) => r[key]),
      line: { color: COLOURS[key], width: 2 },
      marker: { color: COLOURS[key], size: 8 },
      xaxis: 'x',
      yaxis: 'y',
    });
    const best = result.rows.find((r) => r.k === result.best[key])!;
    data.push({
      type: 'scatter',
      mode: 'markers',
      showlegend: false,
      hoverinfo: 'skip',
      x: [best.k],
      y: [best[key]],
      marker: { color: 'rgba(0,0,0,0)', size: 18, line: { color: COLOURS[key], width: 2 } },
      xaxis: 'x',
      yaxis: 'y',
    });
  }
  data.push({
    type: 'scatter',
    mode: 'lines+markers',
    name: 'log-likelihood',
    x: ks,
    y: result.rows.map((r) => r.logLik),
    line: { color: COLOURS.logLik, width: 2 },
    marker: { color: COLOURS.logLik, size: 7, symbol: result.rows.map((r) => (r.converged ? 'circle' : 'x')) },
    xaxis: 'x2',
    yaxis: 'y2',
  });
  const shape = (xref: string, yref: string) => ({
    type: 'line',
    xref,
    yref: `${yref} domain`,
    x0: result.chosen,
    x1: result.chosen,
    y0: 0,
    y1: 1,
    line: { color: '#555555', width: 1.5, dash: 'dot' },
  });
  const tick = {
    tickmode: 'array',
    tickvals: ks,
    showgrid: true,
    gridcolor: '#e5e5e5',
    zeroline: false,
    showline: true,
    linecolor: '#444',
    mirror: true,
  };
  const note = result.rows.some((r) => !r.converged) ? ' · × = not converged' : '';
  return {
    data,
    layout: {
      ...titledLayout({
        width: 1100,
        height: 520,
        title,
        subtitle: `chosen k = ${result.chosen} by ${result.criterion.toUpperCase()} · n = ${result.n}, d = ${result.d}${note}`,
        margin: { l: 80, r: 30, t: 100, b: 70 },
      }),
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { ...tick, domain: [0, 0.56], title: { text: 'number of experts k' } },
      yaxis: { ...tick, tickmode: 'auto', title: { text: 'criterion (smaller is better)' } },
      xaxis2: { ...tick, domain: [0.68, 1], title: { text: 'number of experts k' } },
      yaxis2: { ...tick, tickmode: 'auto', anchor: 'x2', title: { text: 'log-likelihood' } },
      shapes: [shape('x', 'y'), shape('x2', 'y2')],
      legend: { x: 0.02, y: -0.2, orientation: 'h' },
    },
  };
}
