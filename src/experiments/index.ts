// Public API of src/experiments.
export type * from './types.js';
export {
  summarise,
  ratesCsv,
  curvesCsv,
  formatSummaryTable,
  fitRates,
  compareLaws,
  fitInvLog,
  summarisePoint,
  quantileSorted,
  powerLawLabel,
  readFit,
  verdictFit,
  judgeRate,
  competitorsOf,
  verdictText,
  RATE_LADDER,
  planRates,
  formatPlan,
  secondsPerWork,
  decisiveSpec,
  slopeDifference,
  metricCells,
  modelView,
} from './analysis/index.js';
export type {
  SummariseOptions,
  RateFits,
  SlopeGroup,
  BootstrapOptions,
  InvLogFit,
  RateVerdict,
  VerdictWord,
  RatePlan,
  RowPlan,
  Design as SweepDesign,
  PlanOptions,
  PlanFormatOptions,
  DifferenceCell,
  DifferenceOptions,
  SlopeDifference,
} from './analysis/index.js';
export {
  buildFigure,
  writePlotHtml,
  plotHtml,
  renderPng,
  renderImages,
  figureToPng,
  figureToImages,
  figureToPngBase64,
  CHROMIUM_PATH,
  plotlyBundle,
  escapeHtml,
  scriptJson,
  selectFigure,
  lrtFigure,
  compareFigure,
  predictFigure,
} from './plot/index.js';
export type { Figure, FigureOptions, PlotHtmlOptions, PngOptions, PredictFigureInput } from './plot/index.js';
export { validateSpec, loadSpecFile, resolveNGrid, specTruths, specKey, metricPrefix, SpecError } from './spec.js';
export { presetSpec, listExperimentPresets, isExperimentPreset, type ExperimentPreset } from './presets.js';
export {
  planCells,
  cellSeed,
  dataSeed,
  initSeed,
  hellingerSeed,
  cellKey,
  parseShard,
  shardCells,
  sortRecords,
  type Cell,
  type Shard,
} from './plan.js';
export { createCellEvaluator, evaluateCell } from './cell.js';
export {
  runPool,
  failedRecord,
  DEFAULT_EVALUATOR,
  type CellEvaluator,
  type CellEvaluatorModule,
  type PoolOptions,
} from './pool.js';
export {
  runSweep,
  analyseRun,
  mergeRuns,
  loadRun,
  type SweepOptions,
  type SweepResult,
  type SweepProgress,
  type AnalyseResult,
  type AnalyseOptions,
  type PlotOutput,
} from './runner.js';
export { reuseCells, reusableCount, cellDefinition, type Reused, type ReusedFrom } from './reuse.js';
export {
  compareRuns,
  runComparisonTable,
  runComparisonCsv,
  type ComparedRun,
  type ComparedCell,
  type ComparedDelta,
  type ComparisonRow,
  type RunComparison,
} from './analysis/run-comparison.js';
export { runComparisonFigure, figureRows, MAX_COMPARE_PANELS } from './plot/run-comparison-figure.js';
export {
  readResults,
  readRunMeta,
  truncateTornLine,
  ResultsWriter,
  StoreError,
  recordFingerprint,
  SPEC_FILE,
  RESULTS_FILE,
  SUMMARY_FILE,
  type RunMeta,
  type RunProvenance,
  type ResultsRead,
  type ReadResultsOptions,
} from './store.js';
export {
  createProgressReporter,
  createCountReporter,
  type ProgressReporter,
  type CountProgress,
  type CountReporterOptions,
} from './progress.js';
