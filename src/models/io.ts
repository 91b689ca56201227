/**
 * Model files: JSON with a format tag and a version.
 *
 *   { "format": "gmoe-model", "version": 1,
 *     "gate": { "kind": "topk", "K": 1, "selectOn": "logit" },
 *     "k": 2, "d": 1,
 *     "gating": { "beta0": [-8, 0], "beta1": [[25], [0]], "tau": 1 },
 *     "experts": { "a": [[-20], [20]], "b": [15, -5], "nu": [0.09, 0.16] } }
 *
 * `gating.tau` exists only for the temperature and activation gates. Extra top-level fields
 * (e.g. a fit result's "fit" block) are kept by the writer and ignored by the loader; unknown
 * fields inside gate, gating and experts are rejected (they are typos, not data).
 * Numbers are written by JSON.stringify (shortest round-trip form): reading a file back gives
 * the identical doubles.
 */
import { existsSync } from 'node:fs';
import { formatJSON, readTextFile, writeFileAtomic } from '../io/index.js';
import { listTruthPresets, truthPreset } from './presets.js';
import { hasTau, type GateSpec, type Model } from './types.js';
import { getGate } from './gates/index.js';
import { ValidationError, checkPositiveInteger, fail, isRecord, parseGateSpec, rejectUnknownKeys, validateModel } from './validate.js';

export { validateModel } from './validate.js';

/** The `format` tag of a model file. */
export const MODEL_FORMAT = 'gmoe-model';
/** The model file version this code reads and writes. */
export const MODEL_VERSION = 1;

const CORE_KEYS = ['format', 'version', 'gate', 'k', 'd', 'gating', 'experts'] as const;

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, 'must be a finite number', v);
  return v;
}

/** Reads `len` finite numbers into out[offset..]; `lenName` is "k" or "d" for the messages. */
function vector(v: unknown, len: number, field: string, lenName: string, out: Float64Array, offset = 0): void {
  const entries = `${lenName} = ${len} ${len === 1 ? 'number' : 'numbers'}`;
  if (!Array.isArray(v)) fail(field, `must be an array of ${entries}`, v);
  if (v.length !== len) fail(field, `must have ${entries}, not ${v.length}`, v);
  for (let t = 0; t < len; t++) out[offset + t] = finite(v[t], `${field}[${t}]`);
}

function matrix(v: unknown, k: number, d: number, field: string): Float64Array {
  if (!Array.isArray(v)) fail(field, `must be an array of k = ${k} rows of d = ${d} numbers`, v);
  if (v.length !== k) fail(field, `must have k = ${k} rows, not ${v.length}`, v);
  const out = new Float64Array(k * d);
  for (let j = 0; j < k; j++) vector(v[j], d, `${field}[${j}]`, 'd', out, j * d);
  return out;
}

/**
 * Builds a {@link Model} from a parsed model file, checking everything (format, version, gate and
 * its options, k, d, shapes, finiteness, ν > 0, τ > 0).
 * @param json the parsed JSON (e.g. `JSON.parse(text)`)
 * @throws ValidationError naming the field path and value, e.g. `experts.nu[1] must be > 0 (a variance). Value: -1`
 * @example parseModel(JSON.parse(readFileSync('truth.json', 'utf8')))
 */
export function parseModel(json: unknown): Model {
  if (!isRecord(json)) fail('model', 'must be a JSON object', json);
  if (json.format !== MODEL_FORMAT) fail('format', `must be "${MODEL_FORMAT}"`, json.format);
  if (json.version !== MODEL_VERSION) fail('version', `must be ${MODEL_VERSION} (the version this gmoe reads)`, json.version);
  const k = checkPositiveInteger(json.k, 'k');
  const d = checkPositiveInteger(json.d, 'd');
  const gate = parseGateSpec(json.gate, k, 'gate');
  const gating = json.gating;
  if (!isRecord(gating)) fail('gating', 'must be an object with beta0 and beta1', gating);
  const withTau = hasTau(gate);
  rejectUnknownKeys(gating, withTau ? ['beta0', 'beta1', 'tau'] : ['beta0', 'beta1'], 'gating', `gating for the ${gate.kind} gate`);
  const experts = json.experts;
  if (!isRecord(experts)) fail('experts', 'must be an object with a, b and nu', experts);
  rejectUnknownKeys(experts, ['a', 'b', 'nu'], 'experts', 'experts');

  const beta0 = new Float64Array(k);
  vector(gating.beta0, k, 'gating.beta0', 'k', beta0);
  const beta1 = matrix(gating.beta1, k, d, 'gating.beta1');
  const a = matrix(experts.a, k, d, 'experts.a');
  const b = new Float64Array(k);
  vector(experts.b, k, 'experts.b', 'k', b);
  const nu = new Float64Array(k);
  vector(experts.nu, k, 'experts.nu', 'k', nu);
  let tau = 1;
  if (withTau) {
    if (gating.tau === undefined) fail('gating.tau', `is required for the ${gate.kind} gate: a finite number > 0`, undefined);
    tau = finite(gating.tau, 'gating.tau');
  }
  const m: Model = { gate, k, d, beta0, beta1, a, b, nu, tau };
  validateModel(m); // ν > 0, τ > 0
  return m;
}

function gateToJSON(g: GateSpec): Record<string, unknown> {
  return getGate(g).toJSON(g);
}

/**
 * The model-file object of a model (validated first), with optional extra top-level fields.
 * @param extra extra top-level fields (e.g. `{ fit: {...} }`); may not reuse a core key
 * @throws ValidationError when the model is invalid or `extra` reuses a core key
 */
export function modelToJSON(m: Model, extra?: object): Record<string, unknown> {
  validateModel(m);
  const rows = (v: Float64Array) => Array.from({ length: m.k }, (_, j) => Array.from(v.subarray(j * m.d, (j + 1) * m.d)));
  const gating: Record<string, unknown> = { beta0: Array.from(m.beta0), beta1: rows(m.beta1) };
  if (hasTau(m.gate)) gating.tau = m.tau;
  const out: Record<string, unknown> = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    gate: gateToJSON(m.gate),
    k: m.k,
    d: m.d,
    gating,
    experts: { a: rows(m.a), b: Array.from(m.b), nu: Array.from(m.nu) },
  };
  if (extra !== undefined) {
    if (!isRecord(extra)) fail('extra', 'must be a plain object of extra top-level fields', extra);
    for (const [key, v] of Object.entries(extra)) {
      if ((CORE_KEYS as readonly string[]).includes(key)) throw new ValidationError(`extra field "${key}" would overwrite a core field of the model file`, `extra.${key}`, v);
      out[key] = v;
    }
  }
  return out;
}

/**
 * Writes a model file atomically (validated first: nothing is written for an invalid model).
 * @param extra extra top-level fields, see {@link modelToJSON}
 * @throws ValidationError for an invalid model; Error naming the path when it cannot be written
 */
export function writeModelFile(path: string, m: Model, extra?: object): void {
  writeFileAtomic(path, `${formatJSON(modelToJSON(m, extra))}\n`);
}

/**
 * Reads and validates a model file.
 * @throws ValidationError / Error whose message starts with the path, e.g.
 *   `fit.json: experts.nu[1] must be > 0 (a variance). Value: -1`
 */
export function readModelFile(path: string): Model {
  const text = readTextFile(path, 'model file');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`${path}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, '', undefined);
  }
  try {
    return parseModel(json);
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`${path}: ${e.message}`, e.field, e.value);
    throw e;
  }
}

/**
 * A model from a command-line style argument: a truth preset name (`demy`, `topk1`, ...) or a
 * path to a model file. A preset name wins over a file of the same name (write `./demy` for the file).
 * @param what the option name used in the error message (e.g. "truth", "fit")
 * @throws Error listing the presets when `arg` is neither a preset nor an existing file
 */
export function resolveModel(arg: string, what = 'model'): Model {
  if (typeof arg !== 'string' || arg === '') fail(what, 'must be a truth preset name or a path to a model file', arg);
  if (listTruthPresets().some((p) => p.name === arg)) return truthPreset(arg);
  if (!existsSync(arg)) {
    const names = listTruthPresets().map((p) => p.name).join(', ');
    throw new ValidationError(`${what} must be a truth preset (${names}) or a path to a model file. Value: ${arg} (no such preset or file)`, what, arg);
  }
  return readModelFile(arg);
}
