/**
 * The figure of a choice of k (`gmoe select`): AIC, BIC and ICL against k, each criterion's minimum
 * ringed, the chosen k marked by a dotted line; the log-likelihood in a second panel.
 */
import type { SelectCriterion, SelectResult } from '../../em/select.js';
import type { Figure } from './figure.js';
import { titledLayout } from './layout.js';

const AXIS = { showgrid: true, gridcolor: '#e5e5e5', zeroline: false, showline: true, linecolor: '#444', mirror: true };

// Okabe–Ito colours, as the sweep figures
const COLOURS = { aic: '#D55E00', bic: '#0072B2', icl: '#009E73', logLik: '#000000' } as const;

/** A marker on the first panel at (k, value): a criterion's minimum ringed or starred. */
function markTrace(k: number, value: number, marker: object): Record<string, unknown> {
  return {
    type: 'scatter',
    mode: 'markers',
    showlegend: false,
    hoverinfo: 'skip',
    x: [k],
    y: [value],
    marker,
    xaxis: 'x',
    yaxis: 'y',
  };
}

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
    data.push(
      markTrace(best.k, best[key], { color: 'rgba(0,0,0,0)', size: 18, line: { color: COLOURS[key], width: 2 } }),
    );
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
  const tick = { ...AXIS, tickmode: 'array', tickvals: ks };
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

// one colour per gate (Okabe–Ito, after the criteria's)
const GATE_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
// and a dash and a marker each: gates whose criteria nearly agree draw on top of each other
const GATE_DASHES = ['solid', 'dash', 'dot', 'dashdot'];
const GATE_SYMBOLS = ['circle', 'square', 'diamond', 'triangle-up', 'cross'];

/**
 * plotly `{ data, layout }` of several gates' selections (`gmoe select --gate A,B`): the chosen
 * criterion against k, one line per gate, each gate's minimum ringed and the overall choice starred;
 * the log-likelihoods in a second panel.
 */
export function compareFigure(
  results: { gate: string; result: SelectResult }[],
  cmp: { criterion: SelectCriterion; chosen: { gate: string; k: number } },
  title: string,
): Figure {
  const key = cmp.criterion;
  const data: Record<string, unknown>[] = [];
  results.forEach(({ gate, result }, g) => {
    const colour = GATE_COLOURS[g % GATE_COLOURS.length]!;
    const ks = result.rows.map((r) => r.k);
    const line = { color: colour, width: 2, dash: GATE_DASHES[g % GATE_DASHES.length] };
    const symbol = GATE_SYMBOLS[g % GATE_SYMBOLS.length]!;
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: `${gate} (min at k = ${result.best[key]})`,
      x: ks,
      y: result.rows.map((r) => r[key]),
      line,
      marker: { color: colour, size: 9, symbol },
    });
    const best = result.rows.find((r) => r.k === result.best[key])!;
    const star = gate === cmp.chosen.gate;
    data.push(
      markTrace(
        best.k,
        best[key],
        star
          ? { color: colour, size: 20, symbol: 'star', line: { color: '#000', width: 1 } }
          : { color: 'rgba(0,0,0,0)', size: 18, line: { color: colour, width: 2 } },
      ),
    );
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      showlegend: false,
      name: `${gate}: log-likelihood`,
      x: ks,
      y: result.rows.map((r) => r.logLik),
      line,
      marker: { color: colour, size: 8, symbol: result.rows.map((r) => (r.converged ? symbol : 'x')) },
      xaxis: 'x2',
      yaxis: 'y2',
    });
  });
  const ks = [...new Set(results.flatMap(({ result }) => result.rows.map((r) => r.k)))].sort((a, b) => a - b);
  const axis = { ...AXIS, tickmode: 'array', tickvals: ks };
  const n = results[0]!.result.n;
  const d = results[0]!.result.d;
  const name = key.toUpperCase();
  return {
    data,
    layout: {
      ...titledLayout({
        width: 1100,
        height: 560,
        title,
        subtitle: `chosen: gate ${cmp.chosen.gate}, k = ${cmp.chosen.k} by ${name} (★) · n = ${n}, d = ${d}`,
        margin: { l: 80, r: 30, t: 100, b: 110 },
      }),
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { ...axis, domain: [0, 0.56], title: { text: 'number of experts k' } },
      yaxis: { ...AXIS, title: { text: `${name} (smaller is better)` } },
      xaxis2: { ...axis, domain: [0.68, 1], title: { text: 'number of experts k' } },
      yaxis2: { ...AXIS, anchor: 'x2', title: { text: 'log-likelihood' } },
      legend: { x: 0, y: -0.2, orientation: 'h' },
    },
  };
}
