/**
 * The two parametric bootstraps on worker threads (boot-pool.ts): `bootstrapLRTParallel` and
 * `bootstrapStandardErrorsParallel` return what `bootstrapLRT` and `bootstrapStandardErrors` return,
 * byte for byte, for any number of workers — every sample is seeded from (master seed, …, b) and the
 * results are tallied in order of b. Progress comes in completion order. `workers: 1` runs the
 * sequential function on the calling thread.
 */
import { availableParallelism } from 'node:os';
import { fail } from '../models/validate.js';
import type { Dataset, Model } from '../models/types.js';
import {
  BOOT_ALPHA,
  bootstrapLRT,
  checkBootOptions,
  observedFits,
  sequentialOutcome,
  tallyTest,
  type BootLrtOptions,
  type BootLrtResult,
  type BootTest,
  type LrtContext,
  type LrtSample,
} from './boot-lrt.js';
import { taskModule, withBootPool } from './boot-pool.js';
import {
  bootSeContext,
  bootstrapStandardErrors,
  summariseBootSe,
  type BootSeContext,
  type BootSeOptions,
  type BootSeSample,
  type BootstrapStandardErrors,
} from './inference/boot-se.js';
import type { FitOptions, FitResult } from './types.js';

export interface WorkersOption {
  /** worker threads (integer ≥ 1; default: all cores, os.availableParallelism()) */
  workers?: number;
}

const LRT_TASK = { module: taskModule('./boot-lrt'), name: 'lrtTask' };
const SE_TASK = { module: taskModule('./inference/boot-se'), name: 'bootSeTask' };

function checkWorkers(workers: number): void {
  if (!Number.isInteger(workers) || workers < 1) fail('workers', 'must be an integer ≥ 1', workers);
}

/**
 * Fit options a worker can receive: structured clone carries data, not functions. A Backend object
 * is refused (name one: 'cpu', 'gpu', 'auto'); onIteration and diagnostics watch one thread's fits.
 */
function plainFitOptions<T extends Partial<FitOptions>>(o: T): Omit<T, 'onIteration' | 'diagnostics'> {
  const { onIteration: _i, diagnostics: _d, ...rest } = o;
  if (rest.backend !== undefined && typeof rest.backend !== 'string')
    fail('backend', "must be a name ('cpu', 'gpu', 'auto') on worker threads, not a Backend object", '[Backend]');
  return rest;
}

/**
 * bootstrapLRT on worker threads: each test's B samples (2B fits) are spread over the workers.
 * The observed fits (those missing from `options.fits`) run on the calling thread first.
 * @throws ValidationError as bootstrapLRT, or on workers not a positive integer; Error when a worker
 *   cannot start or a sample throws outside its fits ("bootstrap sample b: …")
 * @example await bootstrapLRTParallel(data, { gate: { kind: 'softmax' }, ks: [1, 2, 3], B: 99, seed: 1, workers: 4 })
 */
export async function bootstrapLRTParallel(
  data: Dataset,
  options: BootLrtOptions & WorkersOption,
): Promise<BootLrtResult> {
  const { ks, B, alpha = BOOT_ALPHA, fits, onProgress, workers = availableParallelism(), ...rest } = options;
  checkBootOptions(ks, B, alpha);
  checkWorkers(workers);
  // one worker: the calling thread, already warm, saves a thread's start (≈ 1 s: loading and JIT)
  if (workers === 1)
    return bootstrapLRT(data, {
      ks,
      B,
      alpha,
      ...(fits ? { fits } : {}),
      ...(onProgress ? { onProgress } : {}),
      ...rest,
    });
  const seed = rest.seed ?? 1;
  const fitOpts = plainFitOptions(rest);
  const observed = observedFits(data, rest, fits);
  return withBootPool(LRT_TASK, workers, B, async (pool) => {
    const tests: BootTest[] = [];
    for (;;) {
      const out = sequentialOutcome(ks, tests);
      if (out) return { B, alpha, seed, ...out };
      const k0 = ks[tests.length]!;
      const [obs0, obs1] = [observed(k0), observed(k0 + 1)];
      const context: LrtContext = { data, model0: obs0.model, fitOpts, seed };
      let done = 0;
      let failed = 0;
      const samples = await pool.map<LrtSample | null>(context, B, (s) => {
        if (!s) failed++;
        onProgress?.({ k0, done: ++done, total: B, failed });
      });
      tests.push(tallyTest(obs0, obs1, samples, alpha));
    }
  });
}

/**
 * bootstrapStandardErrors on worker threads: the B refits spread over the workers.
 * @throws ValidationError as bootstrapStandardErrors, or on workers not a positive integer (or a
 *   Backend object in the refit options); Error when a worker cannot start or a sample throws
 * @example await bootstrapStandardErrorsParallel(data, fit, { B: 199, seed: 1, workers: 4 })
 */
export async function bootstrapStandardErrorsParallel(
  data: Dataset,
  source: FitResult | Model,
  options: BootSeOptions & WorkersOption,
): Promise<BootstrapStandardErrors> {
  const { workers = availableParallelism(), onProgress } = options;
  checkWorkers(workers);
  // (options.workers is not read there)
  if (workers === 1) return bootstrapStandardErrors(data, source, options);
  const { context, B, level } = bootSeContext(data, source, options);
  const sent: BootSeContext = { ...context, fit: plainFitOptions(context.fit) };
  return withBootPool(SE_TASK, workers, B, async (pool) => {
    let done = 0;
    let failed = 0;
    const all = await pool.map<BootSeSample | null>(sent, B, (s) => {
      if (!s) failed++;
      onProgress?.({ done: ++done, total: B, failed });
    });
    return summariseBootSe(context, level, all);
  });
}
