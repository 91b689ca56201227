/** Small helpers the gate descriptors parse their specs with (messages as models/validate.ts's). */
import { ValidationError, fail } from '../validate.js';
import type { GateParseContext } from './gate.js';

/** Rejects keys of a raw spec outside `allowed` (catches typos such as `selecton` or `k` for `K`). */
export function rejectUnknownFields(
  raw: Record<string, unknown>,
  allowed: readonly string[],
  ctx: GateParseContext,
  what: string,
): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      const field = ctx.field(key);
      throw new ValidationError(`${field} is not a field of ${what} (allowed: ${allowed.join(', ')})`, field, raw[key]);
    }
  }
}

/** An optional string field among `allowed`, `fallback` when missing (no fallback in strict mode). */
export function choiceField<T extends string>(
  raw: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
  fallback: T,
  ctx: GateParseContext,
): T {
  const v = raw[key] ?? (ctx.strict ? undefined : fallback);
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    fail(ctx.field(key), `must be one of ${allowed.join(', ')}`, v);
  return v as T;
}

/** A command-line number argument as a number when it reads as one, else the string (for the message). */
export function cliNumber(arg: string): number | string {
  const v = arg.trim() === '' ? NaN : Number(arg);
  return Number.isFinite(v) ? v : arg;
}
