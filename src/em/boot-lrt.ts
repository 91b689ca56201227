/**
 * The parametric-bootstrap likelihood-ratio test for the number of experts, sequential as mixtools'
 * boot.comp: H0 k0 experts against H1 k0 + 1 for k0 = k_min, k_min + 1, …, stopping at the first k0
 * not rejected. The null distribution of T = 2(ℓ̂_{k0+1} − ℓ̂_{k0}) is not χ² (H0 is on the boundary
 * of H1, where the extra expert's gate is switched off or two experts coincide), so it is drawn: y*
 * from the fitted k0 model at the observed x (conditional on the design, as for regression mixtures),
 * both models refitted on y* with the observed fits' options.
 * Every draw and fit is seeded from (master seed, k0, b): results do not depend on order or workers.
 */
import { fail } from '../models/validate.js';
import type { Dataset, Model } from '../models/types.js';
import { deriveSeed } from '../random/seed.js';
import { drawResponse, tryFit } from './boot-draw.js';
import { fitMoE } from './fit.js';
import { NESTING_TOL } from './select.js';
import type { FitOptions, FitResult } from './types.js';

/** Fewest bootstrap samples: with 19, p = 1/20 = 0.05 is the smallest p-value (an exact 5 % test). */
export const BOOT_MIN = 19;
export const BOOT_ALPHA = 0.05;

/** The seed roles under (master, k0, b): the draw of y*, then the fits of k0 and k0 + 1. */
const ROLE = { draw: 0, fit0: 1, fit1: 2 } as const;

export interface BootTest {
  /** H0: k0 experts; H1: k0 + 1 */
  k0: number;
  k1: number;
  /** the observed fits' log-likelihoods */
  logLik0: number;
  logLik1: number;
  /** 2(ℓ̂_{k0+1} − ℓ̂_{k0}), clamped at 0 */
  T: number;
  /** (1 + #{T*_b ≥ T}) / (B' + 1), B' the bootstrap samples whose fits both ended */
  p: number;
  /** bootstrap samples asked for */
  B: number;
  /** #{T*_b ≥ T} */
  exceed: number;
  /** samples where the k0 + 1 fit ended more than NESTING_TOL below the k0 fit (T*_b clamped to 0: a local optimum) */
  below: number;
  /** samples left out because a fit threw or ended at a non-finite log-likelihood */
  failed: number;
  /** bootstrap fits (of 2 B') that stopped without converging */
  unconverged: number;
  /** p ≤ alpha */
  rejected: boolean;
  /** T*_b of the samples kept, in order of b */
  Tstar: number[];
}

export interface BootLrtResult {
  B: number;
  alpha: number;
  seed: number;
  /** the pairs tested, in increasing k0 */
  tests: BootTest[];
  /** the first k0 not rejected; when every test rejected, the largest k (the test says at least that) */
  chosen: number;
  /** every test rejected: the true k may lie above the --k range */
  exhausted: boolean;
}

export interface BootProgress {
  k0: number;
  /** bootstrap samples done of this pair */
  done: number;
  total: number;
  failed: number;
}

export interface BootLrtOptions extends Omit<FitOptions, 'k'> {
  /** consecutive k, at least two */
  ks: number[];
  /** bootstrap samples per test, ≥ BOOT_MIN */
  B: number;
  /** level: H0 is rejected when p ≤ alpha (default 0.05) */
  alpha?: number;
  /** the observed fits by k (selectK's); a k missing is fitted with seed S + k − 1, as selectK does */
  fits?: ReadonlyMap<number, FitResult>;
  /** called after each bootstrap sample */
  onProgress?: (p: BootProgress) => void;
}

/** Monte Carlo p-value (1 + #{T*_b ≥ T}) / (B + 1): never 0, exact level α when α(B + 1) is an integer. */
export function bootPValue(T: number, Tstar: ArrayLike<number>): { p: number; exceed: number } {
  let exceed = 0;
  for (let b = 0; b < Tstar.length; b++) if (Tstar[b]! >= T) exceed++;
  return { p: (1 + exceed) / (Tstar.length + 1), exceed };
}

/** 2(ℓ1 − ℓ0), clamped at 0: the larger model contains the smaller, so a negative value is a missed optimum. */
export function lrtStatistic(logLik0: number, logLik1: number): number {
  return Math.max(0, 2 * (logLik1 - logLik0));
}

/**
 * The sequential order of the tests: the outcome once `tests` (run in order from ks[0]) decide it —
 * after the first test not rejected, or after the last pair — else undefined (test ks[tests.length] next).
 */
export function sequentialOutcome(
  ks: number[],
  tests: BootTest[],
): { tests: BootTest[]; chosen: number; exhausted: boolean } | undefined {
  const last = tests[tests.length - 1];
  if (last && !last.rejected) return { tests, chosen: last.k0, exhausted: false };
  if (tests.length + 1 >= ks.length) return { tests, chosen: ks[ks.length - 1]!, exhausted: true };
  return undefined;
}

/**
 * Runs `test` for k0 = ks[0], ks[0] + 1, … up to the second-largest k and stops after the first test
 * whose p-value exceeds alpha.
 */
export function sequentialTests(
  ks: number[],
  _alpha: number,
  test: (k0: number) => BootTest,
): { tests: BootTest[]; chosen: number; exhausted: boolean } {
  const tests: BootTest[] = [];
  for (;;) {
    const out = sequentialOutcome(ks, tests);
    if (out) return out;
    tests.push(test(ks[tests.length]!));
  }
}

/** The seed of one role of bootstrap sample b of the test of k0. */
export function bootSeed(master: number, k0: number, b: number, role: keyof typeof ROLE): number {
  return deriveSeed(master, k0, b, ROLE[role]);
}

/** What a bootstrap sample keeps of its two refits; null when one did not end (the sample is left out). */
export interface LrtSample {
  logLik0: number;
  logLik1: number;
  /** refits (of the two) that stopped without converging */
  unconverged: number;
}

/** One bootstrap sample of the test of k0: y* from the fitted k0 model at the observed x, both models refitted. */
export function lrtSample(
  data: Dataset,
  model0: Model,
  b: number,
  fitOpts: Omit<FitOptions, 'k'>,
  seed: number,
): LrtSample | null {
  const k0 = model0.k;
  const star = drawResponse(data, model0, bootSeed(seed, k0, b, 'draw'));
  // a fit that cannot run on this draw leaves the sample out (counted as failed)
  const f0 = tryFit(star, { ...fitOpts, k: k0, seed: bootSeed(seed, k0, b, 'fit0') });
  const f1 = f0 && tryFit(star, { ...fitOpts, k: k0 + 1, seed: bootSeed(seed, k0, b, 'fit1') });
  if (!f0 || !f1) return null;
  return { logLik0: f0.logLik, logLik1: f1.logLik, unconverged: (f0.converged ? 0 : 1) + (f1.converged ? 0 : 1) };
}

/** What a worker needs for the samples of one test (boot-pool.ts sends it once per worker). */
export interface LrtContext {
  data: Dataset;
  model0: Model;
  fitOpts: Omit<FitOptions, 'k'>;
  seed: number;
}

/** The worker-side factory of the test's samples (a boot-pool task). */
export function lrtTask(c: LrtContext): (b: number) => LrtSample | null {
  return (b) => lrtSample(c.data, c.model0, b, c.fitOpts, c.seed);
}

/** The test of obs0 against obs1 from its samples, in order of b. */
export function tallyTest(obs0: FitResult, obs1: FitResult, samples: (LrtSample | null)[], alpha: number): BootTest {
  const k0 = obs0.model.k;
  const T = lrtStatistic(obs0.logLik, obs1.logLik);
  const Tstar: number[] = [];
  let below = 0;
  let failed = 0;
  let unconverged = 0;
  for (const s of samples) {
    if (!s) failed++;
    else {
      if (s.logLik1 < s.logLik0 - NESTING_TOL) below++;
      unconverged += s.unconverged;
      Tstar.push(lrtStatistic(s.logLik0, s.logLik1));
    }
  }
  const { p, exceed } = bootPValue(T, Tstar);
  const logs = { logLik0: obs0.logLik, logLik1: obs1.logLik };
  const counts = { B: samples.length, exceed, below, failed, unconverged };
  return { k0, k1: k0 + 1, ...logs, T, p, ...counts, rejected: p <= alpha, Tstar };
}

function bootTest(
  data: Dataset,
  obs0: FitResult,
  obs1: FitResult,
  opts: { B: number; alpha: number; seed: number; fitOpts: Omit<FitOptions, 'k'> },
  onProgress?: (p: BootProgress) => void,
): BootTest {
  const samples: (LrtSample | null)[] = [];
  let failed = 0;
  for (let b = 0; b < opts.B; b++) {
    const s = lrtSample(data, obs0.model, b, opts.fitOpts, opts.seed);
    samples.push(s);
    if (!s) failed++;
    onProgress?.({ k0: obs0.model.k, done: b + 1, total: opts.B, failed });
  }
  return tallyTest(obs0, obs1, samples, opts.alpha);
}

/** The observed fit of each k: `fits`' where given, else fitted (once) with seed S + k − 1, as selectK does. */
export function observedFits(
  data: Dataset,
  fitOpts: Omit<FitOptions, 'k'>,
  fits?: ReadonlyMap<number, FitResult>,
): (k: number) => FitResult {
  const seed = fitOpts.seed ?? 1;
  const made = new Map(fits);
  return (k) => {
    if (!made.has(k)) made.set(k, fitMoE(data, { ...fitOpts, k, seed: seed + k - 1 }));
    return made.get(k)!;
  };
}

/** Checks B, alpha and the k of a bootstrap test. */
export function checkBootOptions(ks: number[], B: number, alpha: number): void {
  if (!Number.isInteger(B) || B < BOOT_MIN) fail('B', `must be an integer ≥ ${BOOT_MIN}`, B);
  if (!(alpha > 0 && alpha < 1)) fail('alpha', 'must lie in (0, 1)', alpha);
  if (1 / (B + 1) > alpha)
    fail('B', `must be at least ${Math.ceil(1 / alpha) - 1} at alpha = ${alpha}: the smallest p-value is 1/(B + 1)`, B);
  if (!Array.isArray(ks) || ks.length < 2) fail('ks', 'must hold at least two consecutive k for the test', ks);
  for (let i = 1; i < ks.length; i++)
    if (ks[i] !== ks[i - 1]! + 1) fail('ks', 'must be consecutive (a range a..b) for the test', ks);
}

/**
 * The sequential bootstrap test over `options.ks` (consecutive, increasing). The observed fits are
 * `options.fits` where given (pass selectK's so the test and the criteria compare the same fits).
 * Cost: 2B fits per test, sequential (about 2B times a select of the two k).
 * @throws ValidationError on B < BOOT_MIN, alpha outside (0, 1), alpha below 1/(B + 1), or k not consecutive
 * @example bootstrapLRT(data, { gate: { kind: 'softmax' }, ks: [1, 2, 3], B: 99, seed: 1 })
 */
export function bootstrapLRT(data: Dataset, options: BootLrtOptions): BootLrtResult {
  const { ks, B, alpha = BOOT_ALPHA, fits, onProgress, ...fitOpts } = options;
  checkBootOptions(ks, B, alpha);
  const seed = fitOpts.seed ?? 1;
  const observed = observedFits(data, fitOpts, fits);
  const run = sequentialTests(ks, alpha, (k0) =>
    bootTest(data, observed(k0), observed(k0 + 1), { B, alpha, seed, fitOpts }, onProgress),
  );
  return { B, alpha, seed, ...run };
}
