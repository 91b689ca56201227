/**
 * Validation of models and gate specifications. Every check names the field by its path in the
 * model file format (`gate.K`, `gating.beta1[1][0]`, `experts.nu[1]`) and the offending value, so
 * that bad input stops here with a readable message instead of turning into a NaN later.
 */
import { findGate, gateKinds, getGate } from './gates/index.js';
import type { GateSpec, Model } from './types.js';

export { ValidationError } from './validation-error.js';
import { ValidationError } from './validation-error.js';

/** Short rendering of an offending value for an error message. */
export function formatValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (ArrayBuffer.isView(v)) return `${v.constructor.name} of length ${(v as unknown as { length: number }).length}`;
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Throws a {@link ValidationError} reading `${field} ${requirement}. Value: ${value}`.
 * @example fail('experts.nu[1]', 'must be > 0', -1) // "experts.nu[1] must be > 0. Value: -1"
 */
export function fail(field: string, requirement: string, value: unknown): never {
  throw new ValidationError(`${field} ${requirement}. Value: ${formatValue(value)}`, field, value);
}

/** True for a plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** Rejects keys of `obj` outside `allowed` (catches typos such as `selecton` or `k` for `K`). */
export function rejectUnknownKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  what: string,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      const field = path ? `${path}.${key}` : key;
      const options = allowed.length ? allowed.join(', ') : 'none';
      throw new ValidationError(`${field} is not a field of ${what} (allowed: ${options})`, field, obj[key]);
    }
  }
}

/** How {@link parseGateSpec} names things: strict (no defaults), `k`'s name, the fields' names. */
export interface GateParseOptions {
  /** no defaults filled in: a missing optional field is an error (default false) */
  strict?: boolean;
  /** the name of k in messages (default "k") */
  kName?: string;
  /** the message name of a field of the spec (default `${path}.${key}`) */
  field?: (key: string) => string;
}

/**
 * Checks a gate specification for a model with k experts and returns a normalised copy
 * (defaults filled in: topk selectOn "slope", activation bias "outside"). The gate's descriptor
 * parses it: model files, fit options and the CLI's `--gate` all come through here.
 * Accepts untrusted input (parsed JSON or a user object).
 * @param raw the gate object
 * @param k number of experts (bounds K)
 * @param path field path used in messages
 * @throws ValidationError naming the field, e.g. `gate.K must be an integer in [1, 2] (k = 2). Value: 3`
 */
export function parseGateSpec(raw: unknown, k: number, path = 'gate', options: GateParseOptions = {}): GateSpec {
  if (!isRecord(raw)) fail(path, 'must be an object with a "kind" field', raw);
  const gate = findGate(raw.kind);
  if (!gate) fail(`${path}.kind`, `must be one of ${gateKinds().join(', ')}`, raw.kind);
  const field = options.field ?? ((key: string) => `${path}.${key}`);
  return gate.parse(raw, { k, kName: options.kName ?? 'k', field, strict: options.strict ?? false });
}

/** Checks that `v` is an integer ≥ 1. */
export function checkPositiveInteger(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(field, 'must be an integer ≥ 1', v);
  return v;
}

function checkVector(v: unknown, len: number, field: string, what: string): Float64Array {
  if (!(v instanceof Float64Array)) fail(field, `must be a Float64Array of length ${len} (${what})`, v);
  if (v.length !== len) fail(field, `must have length ${len} (${what})`, v.length);
  return v;
}

/**
 * Checks an in-memory {@link Model}: gate spec, k ≥ 1, d ≥ 1, array shapes (k, k × d), every
 * parameter finite, ν > 0, and τ > 0 finite where the gate has one.
 * Fields are named as in the model file (`gating.beta1[j][l]`, `experts.nu[j]`, `gating.tau`), after
 * `what: ` when given (`fit: experts.nu[1] must be > 0 ...`).
 * @throws ValidationError naming the first offending field and its value
 */
export function validateModel(m: Model, what?: string): void {
  if (what === undefined) return checkModel(m);
  try {
    checkModel(m);
  } catch (e) {
    // which model, where a call takes several (fit and truth, init.truth)
    if (e instanceof ValidationError) throw new ValidationError(`${what}: ${e.message}`, `${what}.${e.field}`, e.value);
    throw e;
  }
}

function checkModel(m: Model): void {
  if (!isRecord(m)) fail('model', 'must be an object', m);
  const k = checkPositiveInteger(m.k, 'k');
  const d = checkPositiveInteger(m.d, 'd');
  // strict: the model must carry its normalised spec (a missing selectOn/bias would read as undefined later)
  const gate = parseGateSpec(m.gate, k, 'gate', { strict: true });
  const vectors: [unknown, number, string, string][] = [
    [m.beta0, k, 'gating.beta0', 'k'],
    [m.beta1, k * d, 'gating.beta1', 'k × d, row-major'],
    [m.a, k * d, 'experts.a', 'k × d, row-major'],
    [m.b, k, 'experts.b', 'k'],
    [m.nu, k, 'experts.nu', 'k'],
  ];
  for (const [v, len, field, what] of vectors) {
    const arr = checkVector(v, len, field, what);
    const matrix = len === k * d && (field === 'gating.beta1' || field === 'experts.a');
    for (let t = 0; t < len; t++) {
      const x = arr[t]!;
      if (!Number.isFinite(x)) {
        const at = matrix ? `${field}[${Math.floor(t / d)}][${t % d}]` : `${field}[${t}]`;
        fail(at, 'must be a finite number', x);
      }
    }
  }
  for (let j = 0; j < k; j++) if (!(m.nu[j]! > 0)) fail(`experts.nu[${j}]`, 'must be > 0 (a variance)', m.nu[j]);
  if (getGate(gate).hasTau) {
    if (typeof m.tau !== 'number' || !Number.isFinite(m.tau) || !(m.tau > 0))
      fail('gating.tau', 'must be a finite number > 0', m.tau);
  }
}
