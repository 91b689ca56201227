// Public API of src/experiments.
export type * from './types.js';
export { summarise, formatSummaryTable, fitRates, compareLaws, fitInvLog, summarisePoint, quantileSorted, powerLawLabel, readFit } from './analysis/index.js';
export type { SummariseOptions, RateFits, SlopeGroup, BootstrapOptions, InvLogFit } from './analysis/index.js';
export { buildFigure, writePlotHtml, plotHtml, renderPng, figureToPng, figureToPngBase64, CHROMIUM_PATH } from './plot/index.js';
export type { Figure, FigureOptions, PlotHtmlOptions, PngOptions } from './plot/index.js';
