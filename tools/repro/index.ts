// Public API of tools/repro (not part of the gmoe library): the reproducibility run (npm run repro), its theory checks and goldens.
export { runRepro, checkGoldens, readGolden, updateReadmeTable, readmeTable, REPRO_DIR, GOLDEN_DIR, FIGURES_DIR, WORK_DIR, CHANGELOG, README_BEGIN, README_END } from './run.js';
export type { ReproOptions, ReproResult } from './run.js';
export { checkSummary, cleanPowerLaw, failureMessage, CLEAN_SHARE } from './checks.js';
export type { MetricRule, PresetRules, CheckResult } from './checks.js';
export { REPRO_RULES, rulesFor } from './rules.js';
export {
  goldenNumbers, hashNumbers, makeGolden, parseGolden, compareGolden, closeEnough, formatDifference, changelogMissing,
  GOLDEN_FORMAT, GOLDEN_VERSION, GOLDEN_RTOL, HASH_DIGITS,
} from './golden.js';
export type { Golden, GoldenNumbers, GoldenMetric, GoldenDifference } from './golden.js';
export { formatReport, checksTable } from './report.js';
export type { PresetReport, RegressionResult, ReportInput, ReportProvenance } from './report.js';
