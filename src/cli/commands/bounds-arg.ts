/**
 * The --bounds flag of `gmoe fit` and `gmoe sweep`: `beta1=B,beta0=B0,nu=MIN:MAX,tau=MIN:MAX`
 * (any subset, e.g. `beta1=50,nu=0.01:10`), checked by the fit option's own schema
 * (src/em/bounds.ts), so the messages name the flag's field and the value.
 */
import { parseBounds, type Bounds } from '../../em/bounds.js';
import { ValidationError } from '../../models/validate.js';
import { CliError } from '../errors.js';

/** The syntax, for --help. */
export const BOUNDS_SYNTAX = 'beta1=B,beta0=B0,nu=MIN:MAX,tau=MIN:MAX (any subset)';

/** A number, or the text as typed when it is not one (the message then shows it). */
const num = (s: string): number | string => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s);

/**
 * Parses --bounds.
 * @throws CliError naming the flag and the field, e.g. `--bounds beta1 must be a finite number > 0. Value: -1`
 */
export function parseBoundsArg(raw: string, flag = '--bounds'): Bounds {
  const obj: Record<string, unknown> = {};
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CliError(`${flag} must read ${BOUNDS_SYNTAX}. Value: ${raw}`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1);
    if (key in obj) throw new CliError(`${flag} gives ${key} twice. Value: ${raw}`);
    obj[key] =
      key === 'nu' || key === 'tau' ? (value.includes(':') ? value.split(':').map(num) : num(value)) : num(value);
  }
  try {
    return parseBounds(obj, flag);
  } catch (e) {
    if (e instanceof ValidationError) throw new CliError(e.message.replace(`${flag}.`, `${flag} `));
    throw e;
  }
}

/** The flag's text for a bounds value (the inverse of {@link parseBoundsArg}). */
export function formatBoundsArg(b: Bounds): string {
  const parts: string[] = [];
  if (b.beta1 !== undefined) parts.push(`beta1=${b.beta1}`);
  if (b.beta0 !== undefined) parts.push(`beta0=${b.beta0}`);
  if (b.nu) parts.push(`nu=${b.nu[0]}:${b.nu[1]}`);
  if (b.tau) parts.push(`tau=${b.tau[0]}:${b.tau[1]}`);
  return parts.join(',');
}
