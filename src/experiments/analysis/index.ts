// Public API of src/experiments/analysis: per-n statistics, rate fits, law comparison, summary table.
export { quantileSorted, meanOf, medianSorted, medianInPlace, selectInPlace, summarisePoint } from './stats.js';
export {
  ols,
  fitRates,
  fitRatesJoint,
  type JointMetric,
  type Line,
  type SlopeGroup,
  type BootstrapOptions,
  type RateFits,
} from './slope.js';
export { fitInvLog, compareLaws, InvLogFitter, LawPreferenceCounter, type InvLogFit } from './law.js';
export { parseMetric, compareMetrics, displayName, LOSS_ORDER, PARAM_ORDER, type MetricName } from './metrics.js';
export { fixed, sig2, exponentText, predictionText, ciText, powerLawLabel, powerLawLabelHtml } from './format.js';
export { ratesCsv, curvesCsv } from './summary-csv.js';
export {
  summarise,
  readFit,
  fixedByEstimator,
  defaultProvenance,
  metricCells,
  type SummariseOptions,
} from './summarise.js';
export { modelView } from './model-view.js';
export {
  slopeDifference,
  type DifferenceCell,
  type DifferenceOptions,
  type SlopeDifference,
} from './slope-difference.js';
export {
  judgeRate,
  competitorsOf,
  decisiveHalfWidth,
  cleanPowerLawOf,
  verdictText,
  RATE_LADDER,
  INVLOG_COMPETITORS,
  CLEAN_SHARE,
  type RateVerdict,
  type VerdictWord,
} from './verdict.js';
export { formatSummaryTable, lawText } from './table.js';
export { readsMedian, verdictFit } from './curve.js';
export {
  planRates,
  formatPlan,
  secondsPerWork,
  fitWorkModel,
  bestWithinBudget,
  designText,
  durationText,
  costText,
  type RatePlan,
  type RowPlan,
  type Design,
  type PlanOptions,
  type PlanFormatOptions,
} from './planner.js';
export { decisiveSpec, type DecisiveSpec } from './decisive-spec.js';
