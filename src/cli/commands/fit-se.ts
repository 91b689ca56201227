/**
 * `gmoe fit --se [method]`: which standard errors (the inverse observed information, the parametric
 * bootstrap of src/em/inference/boot-se.ts, or both), and the bootstrap's run with its progress on stderr.
 */
import { bootstrapStandardErrorsParallel } from '../../em/boot-parallel.js';
import { BOOT_SE_MIN, type BootstrapStandardErrors, type RefitOptions } from '../../em/inference/index.js';
import type { FitResult } from '../../em/types.js';
import { ValidationError } from '../../models/validate.js';
import type { Dataset } from '../../models/types.js';
import { createCountReporter, type CountProgress } from '../../experiments/progress.js';
import { CliError } from '../errors.js';
import { parseWorkers } from './workers-arg.js';

/** The values --se takes after the flag. */
export const SE_SYNTAX = 'boot:B';
const MAX_B = 1_000_000;

export interface SeChoice {
  /** the observed-information errors */
  information: boolean;
  /** bootstrap samples, when the bootstrap is asked for */
  boot?: number;
}

/**
 * --se alone (commander gives true): the observed information, as before; "boot:B" the bootstrap;
 * "both:B" the two. Undefined without --se.
 */
export function parseSe(raw: boolean | string | undefined): SeChoice | undefined {
  if (raw === undefined || raw === false) return undefined;
  if (raw === true) return { information: true };
  const m = /^(boot|both):\s*(\d+)\s*$/.exec(raw);
  const B = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(B) || B < BOOT_SE_MIN || B > MAX_B)
    throw new CliError(
      `--se must be given alone (observed information), or ${SE_SYNTAX} / both:B with B an integer in [${BOOT_SE_MIN}, ${MAX_B}] (parametric bootstrap). Value: ${raw}`,
    );
  return { information: m[1] === 'both', boot: B };
}

/** `--workers`: the bootstrap's worker threads (all cores when absent); refused without a bootstrap. */
export function parseSeWorkers(raw: string | undefined, se: SeChoice | undefined): number {
  if (raw !== undefined && se?.boot === undefined)
    throw new CliError(
      `--workers needs --se ${SE_SYNTAX} or both:B (the bootstrap runs on worker threads). Value: ${raw}`,
    );
  return parseWorkers(raw);
}

/**
 * The bootstrap over the fit on `workers` threads, refitted with the fit's own options (seeded by its
 * --seed; the same result for any number of workers); a count of samples on stderr unless `progress`
 * is off (--no-progress).
 */
export async function runBootSe(
  data: Dataset,
  fit: FitResult,
  B: number,
  refit: RefitOptions,
  { progress, workers }: { progress: boolean; workers: number },
): Promise<BootstrapStandardErrors> {
  const t0 = performance.now();
  const reporter = progress
    ? createCountReporter<CountProgress>({
        title: 'gmoe fit: bootstrap standard errors',
        unit: 'samples',
        describe: (p) => (p.failed > 0 ? `${p.failed} failed` : ''),
      })
    : undefined;
  const onProgress = (p: { done: number; total: number; failed: number }) => {
    const elapsed = (performance.now() - t0) / 1000;
    reporter!.update({ ...p, elapsed, eta: (elapsed / p.done) * (p.total - p.done) });
  };
  try {
    return await bootstrapStandardErrorsParallel(data, fit, {
      B,
      workers,
      seed: fit.options.seed,
      fit: refit,
      ...(reporter ? { onProgress } : {}),
    });
  } catch (e) {
    if (e instanceof ValidationError) throw new CliError(e.message);
    throw e;
  } finally {
    reporter?.stop();
  }
}

/** The result as the model file holds it: the per-sample estimates stay out (B × parameters numbers). */
export function withoutSamples(r: BootstrapStandardErrors): Omit<BootstrapStandardErrors, 'samples'> {
  const { samples: _s, ...rest } = r;
  return rest;
}
