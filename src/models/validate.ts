/**
 * Validation of models and gate specifications. Every check names the field by its path in the
 * model file format (`gate.K`, `gating.beta1[1][0]`, `experts.nu[1]`) and the offending value, so
 * that bad input stops here with a readable message instead of turning into a NaN later.
 */
import { ACTIVATIONS } from '../math/activations.js';
import { GATE_KINDS, hasTau, type GateSpec, type Model } from './types.js';

/** A rejected model, gate or dataset: `field` is the path of the offending entry. */
export class ValidationError extends Error {
  constructor(message: string, readonly field: string, readonly value?: unknown) {
    super(message);
    this.name = 'ValidationError';
  }
}

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
export function rejectUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string, what: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      const field = path ? `${path}.${key}` : key;
      const options = allowed.length ? allowed.join(', ') : 'none';
      throw new ValidationError(`${field} is not a field of ${what} (allowed: ${options})`, field, obj[key]);
    }
  }
}

/**
 * Checks a gate specification for a model with k experts and returns a normalised copy
 * (defaults filled in: topk selectOn "slope", activation bias "outside").
 * Accepts untrusted input (parsed JSON or a user object).
 * @param raw the gate object
 * @param k number of experts (bounds K)
 * @param path field path used in messages
 * @throws ValidationError naming the field, e.g. `gate.K must be an integer in [1, 2] (k = 2). Value: 3`
 */
export function parseGateSpec(raw: unknown, k: number, path = 'gate'): GateSpec {
  if (!isRecord(raw)) fail(path, 'must be an object with a "kind" field', raw);
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(GATE_KINDS as readonly string[]).includes(kind)) {
    fail(`${path}.kind`, `must be one of ${GATE_KINDS.join(', ')}`, kind);
  }
  switch (kind as GateSpec['kind']) {
    case 'softmax':
      rejectUnknownKeys(raw, ['kind'], path, 'the softmax gate');
      return { kind: 'softmax' };
    case 'temperature':
      rejectUnknownKeys(raw, ['kind'], path, 'the temperature gate');
      return { kind: 'temperature' };
    case 'topk': {
      rejectUnknownKeys(raw, ['kind', 'K', 'selectOn'], path, 'the topk gate');
      const K = raw.K;
      if (typeof K !== 'number' || !Number.isInteger(K) || K < 1 || K > k) {
        fail(`${path}.K`, `must be an integer in [1, ${k}] (k = ${k})`, K);
      }
      const selectOn = raw.selectOn ?? 'slope';
      if (selectOn !== 'slope' && selectOn !== 'logit') fail(`${path}.selectOn`, 'must be one of slope, logit', selectOn);
      return { kind: 'topk', K, selectOn };
    }
    case 'activation': {
      rejectUnknownKeys(raw, ['kind', 'activation', 'bias'], path, 'the activation gate');
      const activation = raw.activation;
      if (typeof activation !== 'string' || !(ACTIVATIONS as readonly string[]).includes(activation)) {
        fail(`${path}.activation`, `must be one of ${ACTIVATIONS.join(', ')}`, activation);
      }
      const bias = raw.bias ?? 'outside';
      if (bias !== 'outside' && bias !== 'inside') fail(`${path}.bias`, 'must be one of outside, inside', bias);
      return { kind: 'activation', activation: activation as (typeof ACTIVATIONS)[number], bias };
    }
  }
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
 * Fields are named as in the model file (`gating.beta1[j][l]`, `experts.nu[j]`, `gating.tau`).
 * @throws ValidationError naming the first offending field and its value
 */
export function validateModel(m: Model): void {
  if (!isRecord(m)) fail('model', 'must be an object', m);
  const k = checkPositiveInteger(m.k, 'k');
  const d = checkPositiveInteger(m.d, 'd');
  const gate = parseGateSpec(m.gate, k, 'gate');
  // the normalised spec must be what the model carries: a missing selectOn/bias would read as undefined later
  if (gate.kind === 'topk' && m.gate.kind === 'topk' && m.gate.selectOn !== gate.selectOn) fail('gate.selectOn', 'must be one of slope, logit', m.gate.selectOn);
  if (gate.kind === 'activation' && m.gate.kind === 'activation' && m.gate.bias !== gate.bias) fail('gate.bias', 'must be one of outside, inside', m.gate.bias);
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
  if (hasTau(gate)) {
    if (typeof m.tau !== 'number' || !Number.isFinite(m.tau) || !(m.tau > 0)) fail('gating.tau', 'must be a finite number > 0', m.tau);
  }
}
