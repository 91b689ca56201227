// Public API of src/experiments/plot: figure spec, standalone HTML, PNG rendering.
export { buildFigure, type Figure, type FigureOptions } from './figure.js';
export { writePlotHtml, plotHtml, plotlyBundlePath, plotlyBundle, type PlotHtmlOptions } from './html.js';
export {
  renderPng,
  renderImages,
  figureToPng,
  figureToImages,
  figureToPngBase64,
  CHROMIUM_PATH,
  CHROMIUM_ARGS,
  HIDE_SYSTEM_CHROMIUM_ENV,
  type PngOptions,
  type ImageFormat,
} from './png.js';
export { escapeHtml, escapeMarkup, scriptJson } from './escape.js';
export { selectFigure, compareFigure } from './select-figure.js';
export { lrtFigure } from './lrt-figure.js';
export { predictFigure, type PredictFigureInput } from './predict-figure.js';
