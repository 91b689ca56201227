/**
 * Which per-n curve a metric's verdict reads: the means, unless its prediction names the medians
 * (`statistic: "median"`, for heavy-tailed metrics). One place for the summary, the table, the
 * figures and the repro checks, so that they always show the interval the verdict came from.
 */
import type { MetricSummary, Prediction, SlopeFit } from '../types.js';

/** The prediction's verdict reads the median curve. */
export function readsMedian(p: Prediction | undefined): boolean {
  return p?.statistic === 'median';
}

/** The slope fit (mean or median curve) the metric's verdict reads. */
export function verdictFit(m: MetricSummary): SlopeFit {
  return readsMedian(m.prediction) ? m.median : m.mean;
}
