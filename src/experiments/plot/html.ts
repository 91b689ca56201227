/**
 * Standalone HTML for a figure: plotly.js inlined, so the page opens offline, anywhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { escapeHtml, scriptJson } from './escape.js';
import type { Figure } from './figure.js';

let bundleCache: { path: string; text: string } | undefined;

/**
 * Path of the plotly.js browser bundle: plotly.js-dist-min's (≈ 4.7 MB, the same build as
 * plotly.js-dist's 11 MB unminified one, which is used when only that package is installed).
 * @throws Error when neither package is installed
 */
export function plotlyBundlePath(): string {
  const req = createRequire(import.meta.url);
  for (const name of ['plotly.js-dist-min', 'plotly.js-dist']) {
    let dir: string;
    try {
      dir = dirname(req.resolve(`${name}/package.json`));
    } catch {
      continue;
    }
    for (const f of ['plotly.min.js', 'plotly.js']) {
      const p = join(dir, f);
      if (existsSync(p)) return p;
    }
  }
  throw new Error('no plotly.js bundle found: install plotly.js-dist-min');
}

/** The plotly.js bundle's source, read once per process. */
export function plotlyBundle(): string {
  const path = plotlyBundlePath();
  if (bundleCache?.path !== path) bundleCache = { path, text: readFileSync(path, 'utf8') };
  return bundleCache.text;
}

export interface PlotHtmlOptions {
  /** preformatted text shown under the figure, e.g. the summary table */
  notes?: string;
}

/**
 * The HTML page of a figure, as a string (plotly.js inlined; no network access needed).
 * @param figure from buildFigure
 * @param title page title
 */
export function plotHtml(figure: Figure, title: string, options: PlotHtmlOptions = {}): string {
  const bundle = plotlyBundle().replace(/<\/script/gi, '<\\/script');
  const config = {
    displaylogo: false,
    responsive: false,
    toImageButtonOptions: { format: 'svg', filename: title.replace(/[^\w.-]+/g, '_') },
  };
  const notes = options.notes ? `<pre class="notes">${escapeHtml(options.notes)}</pre>\n` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="gmoe">
<title>${escapeHtml(title)}</title>
<style>
  body { margin: 16px; background: #ffffff; font-family: "DejaVu Sans", Arial, sans-serif; color: #222; }
  #plot { overflow-x: auto; }
  pre.notes { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; line-height: 1.35; overflow-x: auto; }
</style>
<script>${bundle}</script>
</head>
<body>
<div id="plot"></div>
${notes}<script>
  const figure = ${scriptJson(figure)};
  Plotly.newPlot('plot', figure.data, figure.layout, ${scriptJson(config)});
</script>
</body>
</html>
`;
}

/**
 * Writes the figure as a standalone HTML file, atomically (writeFileAtomic: temp file, then rename): a reader
 * never sees a half-written page.
 * @param path destination, e.g. results/…/plot.html
 * @throws Error `cannot write PATH: …` when the file cannot be written (the temp file is removed)
 */
export function writePlotHtml(path: string, figure: Figure, title: string, options: PlotHtmlOptions = {}): void {
  writeFileAtomic(path, plotHtml(figure, title, options));
}
