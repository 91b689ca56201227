/**
 * One cell of a sweep: simulate n samples from the truth (data seed), fit the spec's model by EM
 * (init seed; near-truth noise shrinking or fixed as the spec says), and measure it against the
 * truth: the main loss, D1 / D2, the Hellinger distance, per-parameter errors grouped by Voronoi
 * cell size. A fit or loss that throws makes a "failed" record, never a crash of the sweep.
 *
 * Metric names (types.ts): "loss" (the spec's loss as computed — the top-K loss for top-K gates),
 * "D1", "D2" (the plain sums over cells), "hellinger", and `${param}|m=${m}` for param in beta1,
 * a, b, nu, beta0 (|W_j − w*_j|), tau, beta1tau (the identified β1/τ of the temperature gate: its
 * softmax-ratio loss's cells), valued by the max over cells of size m; all prefixed
 * `${label}:` when the spec fits several models.
 */
import { fitMoE } from '../em/fit.js';
import { startCpuClock } from '../io/cpu-clock.js';
import type { FitOptions, FitResult, InitOption } from '../em/types.js';
import { simulate } from '../models/sample.js';
import { modelToParams, type Model } from '../models/types.js';
import { hellinger } from '../voronoi/hellinger.js';
import { voronoiLoss, type LossResult } from '../voronoi/loss.js';
import { weightedCellErrors } from '../voronoi/weighted-errors.js';
import { identifiedSlope } from '../voronoi/identified.js';
import { isScaledLinear } from '../models/gates/index.js';
import { dataSeed, hellingerSeed, initSeed, type Cell } from './plan.js';
import { failedRecord, type CellEvaluator } from './pool.js';
import { metricPrefix, specTruths } from './spec.js';
import type { CellRecord, CellStarts, ExperimentSpec } from './types.js';

/** Default Monte Carlo points in X for the Hellinger distance. */
export const HELLINGER_POINTS = 2000;
/** At most this many distinct warnings are kept per cell. */
const MAX_WARNINGS = 20;

/** The cell evaluator of a spec (truths resolved once). Used by the worker threads. */
export function createCellEvaluator(spec: ExperimentSpec): CellEvaluator {
  const truths = specTruths(spec);
  return (cell) => evaluateCell(spec, truths[cell.model]!, cell);
}

function initOption(spec: ExperimentSpec, truth: Model): InitOption {
  const init = spec.init;
  if (init.kind === 'near-truth') {
    const out: InitOption = {
      kind: 'near-truth',
      truth,
      noise: init.noise ?? 'shrinking',
      noiseScale: init.noiseScale ?? 1,
    };
    if (init.tau !== undefined) out.tau = init.tau;
    if (init.assign !== undefined) out.assign = init.assign;
    return out;
  }
  return { kind: init.kind };
}

/** Per-parameter errors of the loss's cells: `${param}|m=${m}` → max over cells of size m. */
function parameterErrors(loss: LossResult, put: (name: string, v: number) => void, warn: (w: string) => void): void {
  for (const c of loss.cells) {
    const m = c.fitted.length;
    if (m === 0) {
      warn(`true atom ${c.true} has no fitted atom in its Voronoi cell`);
      continue;
    }
    const e = c.errors;
    const values: [string, number | undefined][] = [
      ['beta1', e.beta1],
      ['a', e.a],
      ['b', e.b],
      ['nu', e.nu],
      ['beta0', e.weight],
      ['tau', e.tau],
    ];
    for (const [param, v] of values) if (v !== undefined) put(`${param}|m=${m}`, v);
  }
}

/** The weighted errors of the cells of m ≥ 2 atoms (record.weighted): `${param}_w|m=${m}` and `share_min|m=${m}`. */
function weightedErrors(fit: Model, truth: Model, loss: LossResult, put: (name: string, v: number) => void): void {
  for (const c of weightedCellErrors(fit, truth, loss)) {
    for (const p of ['beta1', 'a', 'b', 'nu'] as const) put(`${p}_w|m=${c.m}`, c[p]);
    put(`share_min|m=${c.m}`, c.minShare);
  }
}

/** How a fit's starts ended: how many reached its best optimum, and how far below it the next one lies. */
export function cellStarts(fit: Pick<FitResult, 'restartResults' | 'optima'>): CellStarts {
  const [best, next] = fit.optima;
  const out: CellStarts = { count: fit.restartResults.length, atBest: best?.count ?? 0 };
  if (best && next) out.gap = best.logLik - next.logLik;
  return out;
}

/**
 * Evaluates one cell.
 * @param truth the truth of the cell's fitted model (spec order: specTruths(spec)[cell.model])
 */
export function evaluateCell(spec: ExperimentSpec, truth: Model, cell: Cell): CellRecord {
  const seconds = startCpuClock().elapsed;
  const fm = spec.models[cell.model];
  if (!fm || fm.label !== cell.label) throw new Error(`cell model ${cell.model} (${cell.label}) is not in the spec`);
  const prefix = metricPrefix(spec, fm.label);
  const rec = spec.record ?? {};
  const warnings: string[] = [];
  const warn = (w: string) => {
    if (warnings.length < MAX_WARNINGS && !warnings.includes(w)) warnings.push(w);
  };
  const metrics: Record<string, number> = {};
  const put = (name: string, v: number) => {
    if (!Number.isFinite(v)) {
      warn(`metric ${name} is not finite (${v}): not recorded`);
      return;
    }
    const key = prefix + name;
    metrics[key] = key in metrics ? Math.max(metrics[key]!, v) : v;
  };

  const data = simulate(truth, { n: cell.n, seed: dataSeed(cell.seed), design: spec.design });
  const options: FitOptions = {
    gate: fm.gate,
    k: fm.k,
    init: initOption(spec, truth),
    restarts: spec.restarts,
    seed: initSeed(cell.seed),
    ...spec.em,
    ...fm.em,
  };
  let fit: FitResult;
  try {
    fit = fitMoE({ n: data.n, d: data.d, X: data.X, y: data.y }, options);
  } catch (e) {
    return failedRecord(cell, `fit: ${e instanceof Error ? e.message : String(e)}`, seconds());
  }
  for (const w of fit.warnings) warn(w);

  try {
    const main = voronoiLoss(fit.model, truth, { loss: spec.loss });
    put('loss', main.loss);
    if (rec.losses !== false) {
      const plain = (kind: 'D1' | 'D2') =>
        kind === main.kind && !main.topK ? main.loss : voronoiLoss(fit.model, truth, { loss: kind, topK: false }).loss;
      put(main.kind, plain(main.kind));
      const other = main.kind === 'D1' ? (fm.k > truth.k ? 'D2' : undefined) : 'D1';
      if (other) {
        try {
          put(other, plain(other));
        } catch (e) {
          warn(`${other} not computed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    if (rec.perParameter !== false) {
      parameterErrors(main, put, warn);
      // the temperature gate's identified slope β1/τ, beside its β1 and τ (THEORY.md §5)
      if (isScaledLinear(fm.gate) && isScaledLinear(truth.gate)) {
        const id = identifiedSlope(fit.model, truth, main.kind);
        for (const c of id.cells) put(`beta1tau|m=${c.m}`, c.error);
        for (const c of id.intercepts ?? []) put(`beta0tau|m=${c.m}`, c.error);
        if (rec.weighted === true) for (const c of id.weighted) put(`beta1tau_w|m=${c.m}`, c.error);
      }
    }
    if (rec.weighted === true) weightedErrors(fit.model, truth, main, put);
  } catch (e) {
    return failedRecord(cell, `loss: ${e instanceof Error ? e.message : String(e)}`, seconds());
  }
  if (rec.hellinger !== false) {
    put(
      'hellinger',
      hellinger(fit.model, truth, {
        n: rec.hellingerPoints ?? HELLINGER_POINTS,
        design: spec.design,
        seed: hellingerSeed(cell.seed),
      }),
    );
  }

  const record: CellRecord = {
    n: cell.n,
    rep: cell.rep,
    seed: cell.seed,
    model: fm.label,
    status: 'ok',
    metrics,
    logLik: Number.isFinite(fit.logLik) ? fit.logLik : (null as unknown as number),
    iterations: fit.iterations,
    converged: fit.converged,
    stopReason: fit.stopReason,
    warnings,
    seconds: seconds(),
  };
  if (fit.restartResults.length > 1) record.starts = cellStarts(fit);
  if (rec.fitted !== false) record.fitted = modelToParams(fit.model);
  return record;
}
