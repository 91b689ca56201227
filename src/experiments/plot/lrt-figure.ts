/**
 * The figure of `gmoe select --boot`: per tested pair, the histogram of the bootstrap T*_b with the
 * observed T marked (a dashed line, or an arrow at the right edge when T lies far beyond every T*).
 */
import type { BootLrtResult } from '../../em/boot-lrt.js';
import type { Figure } from './figure.js';
import { titledLayout } from './layout.js';

const AXIS = { showgrid: true, gridcolor: '#e5e5e5', zeroline: false, showline: true, linecolor: '#444', mirror: true };
// Okabe–Ito, as the select figure
const BAR = '#0072B2';
const MARK = '#D55E00';
/** T beyond this multiple of the largest T* is drawn as an arrow: the histogram would shrink to one bar. */
const FAR = 3;

/** plotly `{ data, layout }` of a {@link BootLrtResult}. */
export function lrtFigure(lrt: BootLrtResult, title: string): Figure {
  const m = lrt.tests.length;
  const gap = 0.08;
  const w = (1 - gap * (m - 1)) / m;
  const data: Record<string, unknown>[] = [];
  const shapes: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {};
  lrt.tests.forEach((t, i) => {
    const ax = i === 0 ? '' : String(i + 1);
    const top = Math.max(...t.Tstar, 0);
    const far = t.T > FAR * top;
    // far: room on the right for the arrow's label, clear of the bars
    const xmax = (far ? top * 1.45 : Math.max(top, t.T) * 1.08) || 1;
    data.push({
      type: 'histogram',
      x: t.Tstar,
      nbinsx: 20,
      marker: { color: BAR, line: { color: 'white', width: 1 } },
      showlegend: false,
      xaxis: `x${ax}`,
      yaxis: `y${ax}`,
    });
    const x0 = i * (w + gap);
    layout[`xaxis${ax}`] = {
      ...AXIS,
      domain: [x0, x0 + w],
      range: [0, xmax],
      title: { text: `T* (k = ${t.k0} vs ${t.k1})` },
    };
    layout[`yaxis${ax}`] = { ...AXIS, anchor: `x${ax}`, title: { text: i === 0 ? 'bootstrap samples' : '' } };
    const verdict = `T = ${t.T.toFixed(2)}, p = ${t.p.toPrecision(3)}${t.rejected ? ' (rejected)' : ''}`;
    if (far)
      annotations.push({
        xref: `x${ax} domain`,
        yref: `y${ax} domain`,
        x: 1,
        y: 0.85,
        ax: -90,
        ay: 0,
        showarrow: true,
        arrowhead: 2,
        arrowwidth: 2,
        arrowcolor: MARK,
        bgcolor: 'white',
        font: { color: MARK },
        align: 'right',
        text: `T = ${t.T.toFixed(1)}<br>off the axis`,
      });
    else
      shapes.push({
        type: 'line',
        xref: `x${ax}`,
        yref: `y${ax} domain`,
        x0: t.T,
        x1: t.T,
        y0: 0,
        y1: 1,
        line: { color: MARK, width: 2, dash: 'dash' },
      });
    annotations.push({
      xref: `x${ax} domain`,
      yref: `y${ax} domain`,
      x: 0.5,
      y: 1.02,
      yanchor: 'bottom',
      showarrow: false,
      text: verdict,
    });
  });
  const choice = lrt.exhausted ? `k ≥ ${lrt.chosen}` : `k = ${lrt.chosen}`;
  return {
    data,
    layout: {
      ...titledLayout({
        width: Math.max(600, 480 * m),
        height: 460,
        title,
        subtitle: `the test chooses ${choice} · B = ${lrt.B}, alpha = ${lrt.alpha} · dashed: the observed T`,
        margin: { l: 80, r: 30, t: 135, b: 70 },
      }),
      ...layout,
      shapes,
      annotations,
      bargap: 0.05,
    },
  };
}
