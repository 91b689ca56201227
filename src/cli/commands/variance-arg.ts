/**
 * `--variance` of `gmoe fit`, `gmoe select` and `gmoe sweep`: the experts' variances, `free` (each
 * expert its own ν_j) or `equal` (one ν shared by all; FitOptions.variance, flexmix's varFix = TRUE).
 */
import type { FitOptions } from '../../em/index.js';
import { CliError } from '../errors.js';

/** The fit's variance rule (FitOptions.variance). */
export type Variance = NonNullable<FitOptions['variance']>;

/** Whether a text is a variance rule. */
export function isVariance(v: string): v is Variance {
  return v === 'free' || v === 'equal';
}

/**
 * One rule from the command line.
 * @throws CliError `--variance must be one of free, equal. Value: same`
 */
export function parseVariance(raw: string, flag = '--variance'): Variance {
  if (!isVariance(raw)) throw new CliError(`${flag} must be one of free, equal. Value: ${raw}`);
  return raw;
}

/**
 * The fit option of a rule, as fits, files and specs carry it: `{ variance: 'equal' }` for a shared
 * variance, nothing for free ones (their options, files and spec.json keep their shape).
 */
export function equalVariance(variance: Variance): { variance?: 'equal' } {
  return variance === 'equal' ? { variance: 'equal' } : {};
}
