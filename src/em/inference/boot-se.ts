/**
 * Parametric-bootstrap standard errors (mixtools' boot.se): B times, y* is drawn from the fitted model
 * at the observed x (conditional on the design), the model is refitted on y* with the fit's options,
 * its experts are aligned to the original's (boot-align.ts) and its gate normalised; the errors are the
 * standard deviations of the refitted parameters, with percentile intervals. Where the observed
 * information is singular or nearly so (over-specified fits, a gate close to a step, small n) these
 * still exist and say how far the estimates move.
 *
 * Starts: each refit starts from the original estimate only (as boot.se does) — cheap (the refit is
 * near its optimum from the first iteration), and the refit then stays on the original's labelling
 * almost always. `starts: 'estimate+fit'` also runs the fit's own data-driven starts and keeps the
 * better of the two: (restarts + 1) times the cost, for fits whose optimum a draw may move far.
 * Every draw and fit is seeded from (master seed, b): results do not depend on order or workers.
 */
import { fail, validateModel } from '../../models/validate.js';
import { validateDataset } from '../../models/dataset-io.js';
import { getGate } from '../../models/gates/index.js';
import { cloneModel, hasTau, type Dataset, type Model } from '../../models/types.js';
import { quantileSorted } from '../../math/quantile.js';
import { deriveSeed } from '../../random/seed.js';
import { drawResponse, tryFit } from '../boot-draw.js';
import { normalizeGate } from '../gates/layout.js';
import type { FitOptions, FitResult } from '../types.js';
import { alignExperts, alignScales } from './boot-align.js';
import { packParams, paramLayout, type ParamLayout } from './params.js';
import { flatTauActivation, parameterRows, referenceNote, type StandardErrorRow } from './se.js';

/** Fewest bootstrap samples: below 20 neither an SD nor a 95 % percentile interval means much. */
export const BOOT_SE_MIN = 20;
export const BOOT_SE_LEVEL = 0.95;

/** The seed roles under (master, b): the draw of y*, the refit from the estimate, the data-driven refit. */
const ROLE = { draw: 0, estimate: 1, search: 2 } as const;

/** The refit options: a fit's, without what names its starts or watches it (the bootstrap sets those). */
export type RefitOptions = Omit<FitOptions, 'gate' | 'k' | 'onIteration' | 'diagnostics'>;

export interface BootSeOptions {
  /** bootstrap samples, integer ≥ BOOT_SE_MIN */
  B: number;
  /** master seed (default: the fit's seed, else 1) */
  seed?: number;
  /** coverage of the percentile intervals (default 0.95) */
  level?: number;
  /** 'estimate' (default): each refit starts from the original estimate only; 'estimate+fit': also from the fit's own starts */
  starts?: 'estimate' | 'estimate+fit';
  /** refit options (default: a FitResult's resolved options, else fitMoE's defaults); init and restarts serve 'estimate+fit' only */
  fit?: RefitOptions;
  /** called after each bootstrap sample */
  onProgress?: (p: { done: number; total: number; failed: number }) => void;
}

export interface BootSeRow extends StandardErrorRow {
  /** the bootstrap SD (null when fixed, or with fewer than 2 samples) */
  se: number | null;
  /** mean of the bootstrap estimates (its distance from `estimate` is the bootstrap's bias estimate) */
  mean: number | null;
  /** the percentile interval at `level` */
  lower: number | null;
  upper: number | null;
}

export interface BootstrapStandardErrors {
  method: 'parametric-bootstrap';
  B: number;
  seed: number;
  level: number;
  starts: 'estimate' | 'estimate+fit';
  n: number;
  /** samples whose refit ended (used), and those left out (the refit threw or ended non-finite) */
  used: number;
  failed: number;
  /** used refits that stopped without converging */
  unconverged: number;
  /** used refits whose experts came back in another order (aligned before the statistics) */
  relabelled: number;
  /** one per parameter, with the names and order of the observed-information rows (se.ts) */
  rows: BootSeRow[];
  notes: string[];
  /** the aligned estimates of each used sample, in row order, in order of b */
  samples: number[][];
}

/** The master seed's child for one role of bootstrap sample b. */
export function bootSeSeed(master: number, b: number, role: keyof typeof ROLE): number {
  return deriveSeed(master, b, ROLE[role]);
}

/** A fit's resolved options as refit options (defaults already filled in: the refits run the same). */
function resolvedRefit(fit: FitResult): RefitOptions {
  const {
    gate: _g,
    k: _k,
    init: _i,
    restarts,
    seed: _s,
    switchTol,
    bounds,
    prefit,
    restartsMax,
    ...rest
  } = fit.options;
  return {
    ...rest,
    restarts,
    ...(switchTol !== null ? { switchTol } : {}),
    ...(bounds ? { bounds } : {}),
    ...(prefit !== undefined ? { prefit } : {}),
    ...(restartsMax !== undefined ? { restartsMax } : {}),
  };
}

/** One bootstrap sample: the better refit of y*, or undefined when none ended. */
function refit(
  star: Dataset,
  model: Model,
  b: number,
  o: { seed: number; starts: 'estimate' | 'estimate+fit'; fit: RefitOptions },
): FitResult | undefined {
  const { init, restarts, restartsMax, prefit, seed: _s, ...same } = o.fit;
  const base = { ...same, gate: model.gate, k: model.k };
  const fromEstimate = tryFit(star, {
    ...base,
    init: { kind: 'model', model },
    seed: bootSeSeed(o.seed, b, 'estimate'),
  });
  if (o.starts === 'estimate') return fromEstimate;
  const search = tryFit(star, {
    ...base,
    ...(init ? { init } : {}),
    ...(restarts !== undefined ? { restarts } : {}),
    ...(restartsMax !== undefined ? { restartsMax } : {}),
    ...(prefit !== undefined ? { prefit } : {}),
    seed: bootSeSeed(o.seed, b, 'search'),
  });
  // ties go to the start from the estimate (its labels are the original's)
  if (!search) return fromEstimate;
  return !fromEstimate || search.logLik > fromEstimate.logLik ? search : fromEstimate;
}

/** The bootstrap's (β1, τ) moved along the flat direction to the original τ, so that β1 is comparable. */
function toTau(m: Model, tau: number): void {
  const c = tau / m.tau;
  for (let t = 0; t < m.beta1.length; t++) m.beta1[t] = m.beta1[t]! * c;
  // with the bias inside σ the flat direction is c(β0, β1, τ)
  if (getGate(m.gate).symmetries(m.gate).scalingWithBias) for (let j = 0; j < m.k; j++) m.beta0[j] = m.beta0[j]! * c;
  m.tau = tau;
}

/** SD (denominator B' − 1), mean and percentile interval of each row over the samples. */
function summarise(rows: ReturnType<typeof parameterRows>, samples: number[][], level: number): BootSeRow[] {
  const m = samples.length;
  return rows.map(({ index, ...row }, r) => {
    if (index < 0 || m < 2) return { ...row, se: null, mean: null, lower: null, upper: null };
    const v = samples.map((s) => s[r]!).sort((x, y) => x - y);
    let mean = 0;
    for (const x of v) mean += x / m;
    let ss = 0;
    for (const x of v) ss += (x - mean) ** 2;
    const a = (1 - level) / 2;
    return {
      ...row,
      se: Math.sqrt(ss / (m - 1)),
      mean,
      lower: quantileSorted(v, a),
      upper: quantileSorted(v, 1 - a),
    };
  });
}

function checkOptions(B: number, level: number): void {
  if (!Number.isInteger(B) || B < BOOT_SE_MIN) fail('B', `must be an integer ≥ ${BOOT_SE_MIN}`, B);
  if (!(level > 0 && level < 1)) fail('level', 'must lie in (0, 1)', level);
}

/** The plain-language statements of the result. */
function describe(r: Omit<BootstrapStandardErrors, 'notes' | 'rows' | 'samples'>, L: ParamLayout, flat: boolean) {
  const notes: string[] = [];
  // every aligned bootstrap fit is normalised as the estimate is
  const ref = referenceNote(L);
  if (ref) notes.push(ref);
  notes.push(
    r.starts === 'estimate'
      ? 'each bootstrap fit started from the estimate only (as mixtools boot.se); its experts aligned to the estimate before the statistics'
      : "each bootstrap fit started from the estimate and from the fit's own starts, the better kept; its experts aligned to the estimate before the statistics",
  );
  if (flat)
    notes.push(
      'τ held at its fitted value: the likelihood is flat along (β1, τ) → (cβ1, cτ); each bootstrap fit was moved along it to this τ, so the β1 errors are those at this τ',
    );
  if (r.relabelled > 0)
    notes.push(`${r.relabelled} of ${r.used} bootstrap fits returned the experts in another order (aligned)`);
  if (r.failed > 0) notes.push(`${r.failed} of ${r.B} bootstrap samples left out: the refit did not end`);
  if (r.unconverged > 0) notes.push(`${r.unconverged} of ${r.used} bootstrap fits stopped without converging`);
  if (r.used < 2) notes.push(`only ${r.used} bootstrap fit(s) ended: no standard errors`);
  return notes;
}

/** What the samples share, derived from the model and refit options alone (so a worker derives the same). */
interface BootSeSetup {
  /** the normalised model the samples are drawn from and aligned to */
  model: Model;
  L: ParamLayout;
  flat: boolean;
  scales: ReturnType<typeof alignScales>;
}

function setupOf(data: Dataset, modelIn: Model, fit: RefitOptions): BootSeSetup {
  const tauMode = hasTau(modelIn.gate) ? (fit.tauMode ?? 'free') : 'fixed';
  const flat = flatTauActivation(modelIn, tauMode) !== null;
  const L = paramLayout(modelIn.gate, modelIn.k, modelIn.d, {
    tauMode: flat ? 'fixed' : tauMode,
    tauScale: 'natural',
    nuScale: 'natural',
  });
  const model = cloneModel(modelIn);
  normalizeGate(L.gate, model);
  return { model, L, flat, scales: alignScales(model, data) };
}

/** What a bootstrap sample keeps: its aligned estimates in row order; null when the refit did not end. */
export interface BootSeSample {
  values: number[];
  relabelled: boolean;
  converged: boolean;
}

/** What a worker needs (boot-pool.ts sends it once per worker): the setup is derived from it there. */
export interface BootSeContext {
  data: Dataset;
  /** the fitted model, as given (not normalised) */
  model: Model;
  fit: RefitOptions;
  seed: number;
  starts: 'estimate' | 'estimate+fit';
}

function sampleOf(c: BootSeContext, setup: BootSeSetup, b: number): BootSeSample | null {
  const { model, L, flat, scales } = setup;
  const star = drawResponse(c.data, model, bootSeSeed(c.seed, b, 'draw'));
  const f = refit(star, model, b, c);
  if (!f) return null;
  const aligned = alignExperts(model, f.model, c.data, L.gate, scales);
  if (flat) toTau(aligned.model, model.tau);
  const values = parameterRows(L, aligned.model, packParams(L, aligned.model), flat).map((r) => r.estimate);
  return { values, relabelled: aligned.relabelled, converged: f.converged };
}

/** The worker-side factory of the samples (a boot-pool task). */
export function bootSeTask(c: BootSeContext): (b: number) => BootSeSample | null {
  const setup = setupOf(c.data, c.model, c.fit);
  return (b) => sampleOf(c, setup, b);
}

/** The checked inputs of a bootstrap: the context of its samples, B and the level. */
export function bootSeContext(
  data: Dataset,
  source: FitResult | Model,
  options: BootSeOptions,
): { context: BootSeContext; B: number; level: number } {
  const fitResult = 'model' in source && 'logLik' in source ? source : undefined;
  const model = fitResult ? fitResult.model : (source as Model);
  validateModel(model, 'model');
  validateDataset(data, 'data');
  if (data.d !== model.d) fail('data.d', `must equal the model's d = ${model.d}`, data.d);
  const { B, level = BOOT_SE_LEVEL, starts = 'estimate' } = options;
  checkOptions(B, level);
  const seed = options.seed ?? fitResult?.options.seed ?? 1;
  const fit: RefitOptions = { ...(fitResult ? resolvedRefit(fitResult) : {}), ...options.fit };
  return { context: { data, model, fit, seed, starts }, B, level };
}

/** The result from the samples, in order of b. */
export function summariseBootSe(
  c: BootSeContext,
  level: number,
  all: (BootSeSample | null)[],
): BootstrapStandardErrors {
  const { model, L, flat } = setupOf(c.data, c.model, c.fit);
  const used = all.filter((s): s is BootSeSample => s !== null);
  const samples = used.map((s) => s.values);
  const head = {
    method: 'parametric-bootstrap' as const,
    B: all.length,
    seed: c.seed,
    level,
    starts: c.starts,
    n: c.data.n,
  };
  const counts = {
    used: used.length,
    failed: all.length - used.length,
    unconverged: used.filter((s) => !s.converged).length,
    relabelled: used.filter((s) => s.relabelled).length,
  };
  const rows = summarise(parameterRows(L, model, packParams(L, model), flat), samples, level);
  return { ...head, ...counts, rows, notes: describe({ ...head, ...counts }, L, flat), samples };
}

/**
 * Parametric-bootstrap standard errors and percentile intervals of a fitted model's parameters, row
 * for row as `standardErrors` gives them (the sigma rows are the SDs of √ν*, not the delta method).
 * Cost: B refits, sequential (with starts 'estimate', about B times one converged fit's last iterations);
 * `bootstrapStandardErrorsParallel` (em/boot-parallel.ts) runs them on worker threads, same result.
 * @param source a FitResult (its model and resolved options) or a fitted model
 * @throws ValidationError on B < BOOT_SE_MIN, a level outside (0, 1), or data whose d differs from the model's
 * @example bootstrapStandardErrors(data, fitMoE(data, { gate: { kind: 'softmax' }, k: 2 }), { B: 199, seed: 1 })
 */
export function bootstrapStandardErrors(
  data: Dataset,
  source: FitResult | Model,
  options: BootSeOptions,
): BootstrapStandardErrors {
  const { context, B, level } = bootSeContext(data, source, options);
  const sample = bootSeTask(context);
  const all: (BootSeSample | null)[] = [];
  let failed = 0;
  for (let b = 0; b < B; b++) {
    const s = sample(b);
    all.push(s);
    if (!s) failed++;
    options.onProgress?.({ done: b + 1, total: B, failed });
  }
  return summariseBootSe(context, level, all);
}
