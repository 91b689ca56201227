/**
 * Validation by schema (zod): building blocks whose messages read like gmoe's checks, and
 * {@link parseWith}, which turns the first zod issue into a {@link ValidationError}
 * `<field path> <requirement>. Value: <value>` (e.g. `models[0].em.tol must be a finite number > 0. Value: -1`).
 * Cross-field rules (K ≤ k, n.to ≥ n.from, a truth's d) stay in code after the schema has passed.
 */
import { z } from 'zod';
import { ValidationError, formatValue } from './validate.js';

/** A finite number (zod rejects NaN and ±Infinity) for which `ok` holds; one message for every failure. */
export function numberWhere(requirement: string, ok: (v: number) => boolean) {
  return z.number({ error: requirement }).refine(ok, { error: requirement });
}

/** Any finite number. */
export const finiteNumber = (requirement = 'must be a finite number') => z.number({ error: requirement });
/** A finite number > 0. */
export const positiveNumber = () => numberWhere('must be a finite number > 0', (v) => v > 0);
/** A finite number ≥ 0. */
export const nonNegativeNumber = () => numberWhere('must be a finite number ≥ 0', (v) => v >= 0);
/** An integer ≥ `min` (any size: the caller bounds it where it must). */
export const integerAtLeast = (min: number) =>
  numberWhere(`must be an integer ≥ ${min}`, (v) => Number.isInteger(v) && v >= min);
/** An integer in [1, max]; the message names max only when one is given. */
export function positiveInteger(max?: number) {
  const requirement = max === undefined ? 'must be a positive integer' : `must be a positive integer ≤ ${max}`;
  return numberWhere(requirement, (v) => Number.isInteger(v) && v >= 1 && v <= (max ?? Number.MAX_SAFE_INTEGER));
}
/** An integer in [lo, hi]. */
export const integerIn = (lo: number, hi: number) =>
  numberWhere(`must be an integer in [${lo}, ${hi}]`, (v) => Number.isInteger(v) && v >= lo && v <= hi);
/** One of a list of strings. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });
/** true or false. */
export const bool = () => z.boolean({ error: 'must be true or false' });
/** Any string. */
export const text = () => z.string({ error: 'must be a string' });

/**
 * An object with exactly the fields of `shape`: a missing required field fails with its own message,
 * an unknown one reads `<path>.<key> is not a field of <what> (allowed: ...)` (typos such as `k` for `K`).
 * @param requirement the message when the value is not an object, e.g. 'must be an object { tol?, maxIter? }'
 */
export function strictObject<S extends z.ZodRawShape>(shape: S, what: string, requirement: string) {
  const allowed = Object.keys(shape).join(', ') || 'none';
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? `is not a field of ${what} (allowed: ${allowed})` : requirement,
  });
}

/** A copy without the fields that are undefined (zod keeps a field given as undefined). */
export function definedFields<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A field path as gmoe writes it: `models[0].gate.K` under `prefix`. */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path)
    out = typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${String(key)}`;
  return out;
}

/**
 * The issue to report: the first one, unless an unknown field sits in an object on its path (a typo
 * is reported before what it may have caused, as the checks did field by field).
 */
function reportedIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  const first = issues[0]!;
  let best = first;
  for (const iss of issues) {
    if (iss.code !== 'unrecognized_keys') continue;
    const onPath = iss.path.length <= first.path.length && iss.path.every((key, t) => key === first.path[t]);
    if (onPath && (best === first || iss.path.length < best.path.length)) best = iss;
  }
  return best;
}

/** The ValidationError for a zod issue, its path under `prefix` (or `root` for the value itself). */
export function issueError(iss: z.core.$ZodIssue, prefix = '', root = 'value'): ValidationError {
  if (iss.code === 'unrecognized_keys') {
    const key = iss.keys[0]!;
    const field = fieldPath(prefix, [...iss.path, key]);
    const input = (iss as { input?: unknown }).input;
    return new ValidationError(`${field} ${iss.message}`, field, (input as Record<string, unknown> | undefined)?.[key]);
  }
  const field = fieldPath(prefix, iss.path) || root;
  const value = (iss as { input?: unknown }).input;
  return new ValidationError(`${field} ${iss.message}. Value: ${formatValue(value)}`, field, value);
}

/**
 * Only the unknown-field check of an object schema: throws for a field of `value` that `schema` does
 * not know (checked first, as a typo explains what follows), and ignores every other issue.
 */
export function checkKeys(schema: z.core.$ZodType, value: unknown, prefix = '', root = 'value'): void {
  const r = z.safeParse(schema, value, { reportInput: true });
  const iss = r.success ? undefined : r.error.issues.find((i) => i.code === 'unrecognized_keys' && i.path.length === 0);
  if (iss) throw issueError(iss, prefix, root);
}

/**
 * Some fields of an object schema, each parsed on its own in the order given: for checks in code
 * that must come between fields (a cross-field rule, a gate that needs k), in the order users see.
 */
export function parseFields<S extends z.ZodRawShape, K extends keyof S & string>(
  schema: { shape: S },
  value: Record<string, unknown>,
  keys: readonly K[],
  prefix = '',
): { [P in K]: z.output<S[P]> } {
  const out = {} as { [P in K]: z.output<S[P]> };
  for (const key of keys) out[key] = parseWith(schema.shape[key], value[key], fieldPath(prefix, [key]));
  return out;
}

/**
 * Parses `value` with `schema`, or throws a ValidationError naming the field and the value.
 * @param prefix the path of `value` in its document (e.g. "em", `models[0].em`); "" for the root
 * @param root the name of the value itself when it is the root and fails as a whole (e.g. "spec")
 * @example parseWith(strictObject({ tol: positiveNumber() }, 'em', 'must be an object'), { tol: -1 }, 'em')
 *   // throws "em.tol must be a finite number > 0. Value: -1"
 */
export function parseWith<S extends z.core.$ZodType>(
  schema: S,
  value: unknown,
  prefix = '',
  root = 'value',
): z.output<S> {
  const r = z.safeParse(schema, value, { reportInput: true });
  if (r.success) return r.data;
  throw issueError(reportedIssue(r.error.issues), prefix, root);
}
