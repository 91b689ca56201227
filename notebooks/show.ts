/**
 * Display glue for the gmoe notebooks (tslab): plotly figures shown inline — interactive in a live
 * Jupyter session, with a static PNG fallback so an executed notebook also reads on GitHub or when
 * untrusted — and small HTML tables. Everything numerical comes from the library ('..' = the
 * package's main export); this file only turns its figures and numbers into notebook outputs.
 */
import * as tslab from 'tslab';
import * as gmoe from '..';

export interface ShowOptions {
  /** static image size in CSS px (default: the figure's layout width / height) */
  width?: number;
  height?: number;
  /** render the static PNG fallback (default true) */
  png?: boolean;
}

let bundleSent = false;
let figureCount = 0;

const { escapeHtml, scriptJson } = gmoe;

/** plotly.js for the page (plotly.js-dist-min's bundle, ~4.7 MB), inlined once per notebook. */
async function plotlyForPage(): Promise<string> {
  const code = gmoe.plotlyBundle();
  return code.replace(/<\/script/gi, '<\\/script');
}

/**
 * Shows a plotly figure: first the static PNG (what GitHub and untrusted notebooks display), then the
 * interactive figure, whose script hides the PNG just above it once plotly has drawn. The plotly.js
 * bundle goes into the first figure's output only; later figures wait for window.Plotly.
 * @param figure plotly `{ data, layout }` (e.g. from gmoe.buildFigure)
 */
export async function showFigure(figure: gmoe.Figure, options: ShowOptions = {}): Promise<void> {
  if (options.png !== false) {
    try {
      const png = await gmoe.figureToPng(figure, { width: options.width, height: options.height, scale: 1 });
      tslab.display.png(png);
    } catch (e) {
      tslab.display.text(`(no static image: ${e instanceof Error ? e.message : String(e)})`);
    }
  }
  const id = `gmoe-figure-${process.pid}-${Date.now().toString(36)}-${figureCount++}`;
  let html = '';
  if (!bundleSent) {
    html += `<script>if (!window.Plotly) {\n${await plotlyForPage()}\n}</script>\n`;
    bundleSent = true;
  }
  const config = { displaylogo: false, responsive: true };
  html += `<div id="${id}"></div>
<script>
(function () {
  var id = ${scriptJson(id)}, fig = ${scriptJson(figure)}, config = ${scriptJson(config)};
  function hideStatic() {
    var el = document.getElementById(id);
    var out = el && el.closest('.jp-OutputArea-child, .output_area');
    var prev = out && out.previousElementSibling;
    if (prev && prev.querySelector('img')) prev.style.display = 'none';
  }
  function draw(tries) {
    if (window.Plotly) window.Plotly.newPlot(id, fig.data, fig.layout, config).then(hideStatic);
    else if (tries < 200) setTimeout(function () { draw(tries + 1); }, 50);
  }
  draw(0);
})();
</script>`;
  tslab.display.html(html);
}

/** A number for a table: 4 significant digits, exponent notation when very small or large. */
export function fmt(v: number | undefined, digits = 4): string {
  if (v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e6 ? v.toExponential(digits - 1) : String(Number(v.toPrecision(digits)));
}

/**
 * Shows a small table as HTML (renders in Jupyter and on GitHub). Numbers are formatted with
 * {@link fmt}; strings are shown as they are (HTML-escaped).
 */
export function showTable(header: string[], rows: (string | number | undefined)[][], caption?: string): void {
  const cell = (v: string | number | undefined, tag: 'td' | 'th') =>
    `<${tag} style="text-align:${typeof v === 'number' ? 'right' : 'left'}">${escapeHtml(typeof v === 'number' ? fmt(v) : v ?? '')}</${tag}>`;
  const cap = caption ? `<caption style="caption-side:top;text-align:left">${escapeHtml(caption)}</caption>` : '';
  const head = `<tr>${header.map((h) => cell(h, 'th')).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((v) => cell(v, 'td')).join('')}</tr>`).join('\n');
  tslab.display.html(`<table>${cap}<thead>${head}</thead><tbody>${body}</tbody></table>`);
}

/**
 * A progress callback for gmoe.runSweep: one line, updated in place (at most once a second), with
 * the cells done, the time so far and the runner's estimate of the time left.
 */
export function sweepProgress(label: string): (p: gmoe.SweepProgress) => void {
  const line = tslab.newDisplay();
  let shown = 0;
  return (p) => {
    const now = Date.now();
    if (p.done < p.total && now - shown < 1000) return;
    shown = now;
    const left = p.done < p.total && p.eta !== undefined ? `, about ${Math.ceil(p.eta)} s left` : '';
    const failed = p.failed ? `, ${p.failed} failed` : '';
    line.text(`${label}: ${p.done}/${p.total} cells in ${Math.round(p.elapsed)} s${left}${failed}`);
  };
}

/** Shows preformatted text (e.g. gmoe.formatSummaryTable) in a monospace block. */
export function showText(text: string): void {
  tslab.display.html(`<pre style="font-size:12px;line-height:1.35">${escapeHtml(text)}</pre>`);
}
