/**
 * The two steps every parametric bootstrap here repeats (the LRT of boot-lrt.ts, the standard errors
 * of inference/boot-se.ts): y* drawn from a fitted model at the observed x — conditional on the
 * design, as for regression mixtures — and a refit of y* that leaves the sample out instead of
 * stopping the whole run when it cannot end.
 */
import { sampleResponse } from '../models/sample.js';
import type { Dataset, Model } from '../models/types.js';
import { createRng } from '../random/rng.js';
import { fitMoE } from './fit.js';
import type { FitOptions, FitResult } from './types.js';

/** The data with y replaced by a draw from `model` at the same x, from one stream seeded by `seed`. */
export function drawResponse(data: Dataset, model: Model, seed: number): Dataset {
  const { y } = sampleResponse(model, data.X, data.n, createRng(seed));
  return { n: data.n, d: data.d, X: data.X, y };
}

/** fitMoE, or undefined when it throws (every start failed on this draw) or ends at a non-finite log-likelihood. */
export function tryFit(data: Dataset, options: FitOptions): FitResult | undefined {
  try {
    const fit = fitMoE(data, options);
    return Number.isFinite(fit.logLik) ? fit : undefined;
  } catch {
    return undefined;
  }
}
