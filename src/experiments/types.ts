/**
 * Shared data shapes of the experiment harness: the spec a sweep runs, one record per
 * finished (n, replication) cell, and the analysed summary. Plain JSON-able objects.
 *
 * Metric names (keys of CellRecord.metrics, Summary.metrics, ExperimentSpec.theory):
 * - losses: "D1", "D2", "loss" (the spec's main loss as computed, e.g. the top-K loss), "hellinger"
 * - per-parameter errors, grouped by Voronoi cell size m: `${param}|m=${m}` with param in
 *   beta1, a, b, nu, beta0 (mixing weight error |W_j − w*_j|), tau; the value is the max over
 *   cells of that size of the per-cell error max_{i in A_j} ‖Δparam_ij‖;
 * - with `record.weighted`, for m ≥ 2: `${param}_w|m=${m}` (param in beta1, a, b, nu), the per-cell power
 *   mean (Σ_i (w_i / W_j) ‖Δparam_ij‖^e)^{1/e} with D2's exponent e, and `share_min|m=${m}`, the
 *   smallest w_i / W_j; each the max over cells of that size (src/voronoi/weighted-errors.ts).
 */
import type { Bounds } from '../em/bounds.js';
import type { Design } from '../models/sample.js';
import type { GateSpec, ModelParams } from '../models/types.js';

/**
 * What the theory predicts for one metric: a power law n^exponent, or no polynomial rate.
 * `statistic`: which curve over replications the verdict reads, the per-n means (default) or
 * medians — the median for heavy-tailed metrics (over-specified fits, where a few replications
 * land on spurious optima many decades above the rest and decide the mean).
 */
import type { RatePlan } from './analysis/planner.js';

export type Prediction =
  | { exponent: number; note?: string; statistic?: 'mean' | 'median' }
  | { law: '1/log n'; note?: string; statistic?: 'mean' | 'median' };

/** The n-grid: an explicit list, or `count` points from `from` to `to` (log or linear spacing). */
export type NGrid = number[] | { from: number; to: number; count: number; spacing: 'log' | 'linear' };

export interface InitSpec {
  /** near-truth: the authors' scheme (THEORY.md §6); kmeans on (x, y); random partition */
  kind: 'near-truth' | 'kmeans' | 'random';
  /** near-truth noise: "shrinking" (sd ∝ n^-0.083, the authors') or "fixed" (sd at n = 1 scale) */
  noise?: 'shrinking' | 'fixed';
  /** multiplies the authors' noise sds (default 1) */
  noiseScale?: number;
  /** near-truth start of a free τ: "perturbed" (default, τ*·exp(sd·z)) or "truth" (see fitMoE's NearTruthInit.tau) */
  tau?: 'perturbed' | 'truth';
  /**
   * near-truth assignment of fitted to true atoms: "random" (default, the authors'), "ordered", or a list, fitted
   * atom i on true atom assign[i] (0-based; every true atom used, the last the reference), e.g. [0, 0, 1] to split
   * the first true atom in every start (fitMoE's NearTruthInit.assign)
   */
  assign?: 'random' | 'ordered' | number[];
}

/** A gate of the fitted model, and a name for it when one spec compares several gates. */
export interface FittedModelSpec {
  /** label used in metric names and plots when `models` has more than one entry, e.g. "identity", "tanh" */
  label: string;
  gate: GateSpec;
  /** number of fitted experts */
  k: number;
  /** the truth this fitted model is compared with (preset name or inline model object); defaults to the spec's truth */
  truth?: string | Record<string, unknown>;
  /** EM options for this model only, over the spec's `em` (e.g. plain EM for one gate of several) */
  em?: ExperimentSpec['em'];
}

export interface ExperimentSpec {
  /** spec name (preset name for presets) */
  name: string;
  description?: string;
  /** truth preset name (src/models/presets.ts) or inline model file object */
  truth: string | Record<string, unknown>;
  design: Design;
  /** fitted model(s); with several, every cell fits each of them on its own data */
  models: FittedModelSpec[];
  n: NGrid;
  replications: number;
  init: InitSpec;
  /** restarts per fit (best log-likelihood kept) */
  restarts: number;
  em: {
    tol?: number;
    maxIter?: number;
    varianceFloor?: number;
    tauMode?: 'free' | 'fixed';
    accelerate?: 'squarem' | 'none';
    wasm?: boolean;
    /** the theorems' compact parameter space [U] (FitOptions.bounds); absent: unbounded */
    bounds?: Bounds;
    /** FitOptions.optimizer: 'em' (default) or 'hybrid' (EM, then trust-region Newton; docs/fitting.md) */
    optimizer?: 'em' | 'hybrid';
    /** the hybrid's stopping rule and thresholds (FitOptions.stopRule, decrementTol, switchTol) */
    stopRule?: 'decrement' | 'tol';
    decrementTol?: number;
    switchTol?: number;
    /** FitOptions.prefit: each start fitted first on every prefit-th sample */
    prefit?: number;
    /** FitOptions.restartsMax: more starts (up to this many) while the best optimum is one start's alone */
    restartsMax?: number;
    /**
     * FitOptions.variance: 'free' (each expert its own ν_j, the default) or 'equal' (one ν shared by all
     * experts); absent = free, and the spec is written without it
     */
    variance?: 'free' | 'equal';
  };
  /** which loss is the main one */
  loss: 'D1' | 'D2' | 'auto';
  /** predictions per metric name; metric names of multi-model specs are prefixed `${label}:` */
  theory: Record<string, Prediction>;
  /** master seed: every cell's seed is deriveSeed(seed, n, rep) */
  seed: number;
  /** what each cell records besides the main loss (default: everything applicable) */
  record?: RecordSpec;
  /** true for a preset's `--quick` size */
  quick?: boolean;
}

/** Optional metrics of a cell. */
export interface RecordSpec {
  /** record D1 (always computable) and, for over-specified fits, D2 (default true) */
  losses?: boolean;
  /** record the Hellinger density distance (default true) */
  hellinger?: boolean;
  /** Monte Carlo points in X for the Hellinger distance (default 2000) */
  hellingerPoints?: number;
  /** record per-parameter errors `${param}|m=${m}` (default true) */
  perParameter?: boolean;
  /**
   * also record, for cells of m ≥ 2 atoms, the errors weighted by the atoms' shares of their cell's
   * weight in D2's form, `${param}_w|m=${m}` (param in beta1, a, b, nu), and the smallest share
   * `share_min|m=${m}` (src/voronoi/weighted-errors.ts; default false)
   */
  weighted?: boolean;
  /** store the fitted parameters in each record (default true) */
  fitted?: boolean;
}

/** One finished (n, replication) cell, as one line of results.jsonl. */
export interface CellRecord {
  n: number;
  rep: number;
  /** deriveSeed(spec.seed, n, rep) */
  seed: number;
  /** label of the fitted model (FittedModelSpec.label) */
  model: string;
  status: 'ok' | 'failed';
  /** reason when status is "failed" */
  error?: string;
  /** metric name → value (see module doc) */
  metrics: Record<string, number>;
  logLik: number;
  iterations: number;
  converged: boolean;
  /** the fitter's stop reason, e.g. "converged", "maxIter", "degenerate" */
  stopReason?: string;
  warnings: string[];
  /**
   * CPU seconds of the worker thread that evaluated the cell (Linux; wall seconds where the OS
   * reports no per-thread CPU time); the only field that differs between identical runs
   */
  seconds: number;
  /** fitted parameters (model file parameters) */
  fitted?: ModelParams;
  /** how the fit's starts ended, when it ran several (the best of them is the cell's fit) */
  starts?: CellStarts;
}

/**
 * How the starts of a cell's fit ended (restarts > 1), by FitResult.optima: final log-likelihoods
 * within OPTIMUM_TOL nats of each other are one optimum (src/em/endings.ts), dominated starts none.
 */
export interface CellStarts {
  /** starts run */
  count: number;
  /** starts that ended at the best optimum */
  atBest: number;
  /** nats from the best optimum down to the next one some start ended at (absent when none did) */
  gap?: number;
}

/** The starts of one fitted model's cells (ok cells whose fit ran several starts). */
export interface StartsSummary {
  /** cells counted */
  cells: number;
  /** starts per cell (the most any counted cell ran) */
  restarts: number;
  /** the fewest starts a counted cell ran, where fewer than `restarts` (restartsMax added starts to some) */
  fewest?: number;
  /** cells whose best optimum one start alone reached */
  single: number;
  /** median over those cells of the gap from the best optimum down to the next */
  medianGap?: number;
}

/** Statistics of one metric at one n. */
export interface PointSummary {
  n: number;
  count: number;
  mean: number;
  median: number;
  q05: number;
  q25: number;
  q75: number;
  q95: number;
  /** cells of this model at this n that failed (no metrics; not in the statistics) */
  failed?: number;
  /** cells among `count` whose fit did not converge (kept in the statistics) */
  notConverged?: number;
  /** ok cells at this n without a finite value of this metric (absent, NaN or null) */
  missing?: number;
}

/** A fitted power law log(value) = log(c) + slope·log(n), with a bootstrap interval for the slope. */
export interface SlopeFit {
  slope: number;
  intercept: number;
  /** 95% bootstrap interval [lo, hi] over replications */
  ci: [number, number];
  /** the slope with the smallest n dropped (stability check) */
  slopeDroppingSmallest: number;
  /** bootstrap interval of `slopeDroppingSmallest`, same level as `ci` */
  ciDroppingSmallest?: [number, number];
  /** number of sample sizes in the fit (those with a positive statistic) */
  nValues?: number;
}

/** Power law vs a + c/log(n), compared by residual sum of squares on the mean curve. */
export interface LawComparison {
  preferred: 'power' | '1/log n';
  rssPower: number;
  rssInvLog: number;
  /** rssPower / rssInvLog (>1 means 1/log n fits better) */
  ratio: number;
  invLog: { a: number; c: number };
  /** fraction of bootstrap resamples in which a + c/log(n) fits better */
  bootstrapPreferInvLog?: number;
}

export interface MetricSummary {
  metric: string;
  points: PointSummary[];
  mean: SlopeFit;
  median: SlopeFit;
  prediction?: Prediction;
  /**
   * the prediction is not contradicted: the verdict's interval contains the predicted exponent; for
   * 1/log n predictions, the curve shows no clean power law (see analysis/verdict.ts)
   */
  consistent?: boolean;
  law?: LawComparison;
  /**
   * the rate verdict (analysis/verdict.ts): "confirmed" (the prediction in the interval, every
   * competing law outside), "inconclusive", "contradicted", "by construction" (the estimator fixes
   * the value: never evidence), or "no interval"
   */
  verdict?: 'confirmed' | 'inconclusive' | 'contradicted' | 'by construction' | 'no interval';
  /** inconclusive: the competing exponents the interval cannot exclude */
  cannotExclude?: number[];
  /** contradicted against a power law: the curve falls faster or slower than predicted */
  direction?: 'faster' | 'slower';
  /** the verdict in one line */
  verdictDetail?: string;
  /** points or resamples left out of the fits, and why */
  warnings?: string[];
}

/** Which fits a summary keeps (population.ts): their cell sizes, and how many of how many records. */
export interface Population {
  /** fitted atoms per true atom, in the truth's order */
  cells: number[];
  /** records kept */
  kept: number;
  /** records read (failed ones included: they have no cells) */
  of: number;
}

export interface Summary {
  spec: string;
  cells: { total: number; ok: number; failed: number; notConverged: number };
  /** the same counts per fitted model label (multi-model specs) */
  cellsByModel?: Record<string, { total: number; ok: number; failed: number; notConverged: number }>;
  /** failure messages with how many cells gave each (most frequent first) */
  failures?: { error: string; count: number }[];
  description?: string;
  replications?: number;
  /** the initialisation the figures used (THEORY.md §6: say whether the noise shrinks) */
  init?: InitSpec;
  /** fitted model label → m, for the models whose starts were prefitted on 1 sample in m (em.prefit) */
  prefit?: Record<string, number>;
  /** fitted model label → 'equal', for the models fitted with one variance shared by their experts (em.variance) */
  variance?: Record<string, 'equal'>;
  /** set when the summary keeps only the fits with these Voronoi cell sizes (`gmoe report --cells`; population.ts) */
  population?: Population;
  /**
   * fitted model label → how its cells' starts ended (only for fits of several starts): a cell's fit is
   * the best of its starts' local maxima, so cells where one start alone reached it may move with more starts
   */
  starts?: Record<string, StartsSummary>;
  /** how the intervals were made */
  bootstrap?: { B: number; seed: number; level: number };
  metrics: MetricSummary[];
  /** the planner's decisive designs (analysis/planner.ts), from this run's intervals and work */
  plan?: RatePlan;
  /** what made these numbers */
  provenance: { gmoe: string; node: string; platform: string; commit?: string };
}
