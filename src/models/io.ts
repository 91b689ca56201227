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
import { describeJsonError } from './json-error.js';
import { listTruthPresets, truthPreset } from './presets.js';
import { hasTau, type GateSpec, type Model } from './types.js';
import { getGate } from './gates/index.js';
import { z } from 'zod';
import { finiteNumber, integerAtLeast, parseWith, strictObject } from './schema.js';
import { ValidationError, fail, isRecord, parseGateSpec, validateModel } from './validate.js';

export { validateModel } from './validate.js';

/** The `format` tag of a model file. */
export const MODEL_FORMAT = 'gmoe-model';
/** The model file version this code reads and writes. */
export const MODEL_VERSION = 1;

const CORE_KEYS = ['format', 'version', 'gate', 'k', 'd', 'gating', 'experts'] as const;

/** format, version, k and d; other top-level fields are kept by the writer and ignored here. */
const HEADER_SCHEMA = z.object(
  {
    format: z.literal(MODEL_FORMAT, { error: `must be "${MODEL_FORMAT}"` }),
    version: z.literal(MODEL_VERSION, { error: `must be ${MODEL_VERSION} (the version this gmoe reads)` }),
    k: integerAtLeast(1),
    d: integerAtLeast(1),
    gate: z.unknown().optional(),
  },
  { error: 'must be a JSON object' },
);

/** An array of `len` entries: its length is checked before its entries. */
function sized<T extends z.ZodType>(len: number, notArray: string, wrongLength: (n: number) => string, entry: T) {
  return z
    .array(z.unknown(), { error: notArray })
    .length(len, { error: (iss) => wrongLength((iss.input as unknown[]).length) })
    .pipe(z.array(entry));
}

/** `len` finite numbers; `lenName` is "k" or "d" for the messages. */
function vectorSchema(len: number, lenName: string) {
  const entries = `${lenName} = ${len} ${len === 1 ? 'number' : 'numbers'}`;
  return sized(len, `must be an array of ${entries}`, (n) => `must have ${entries}, not ${n}`, finiteNumber());
}

/** k rows of d finite numbers. */
function matrixSchema(k: number, d: number) {
  return sized(
    k,
    `must be an array of k = ${k} rows of d = ${d} numbers`,
    (n) => `must have k = ${k} rows, not ${n}`,
    vectorSchema(d, 'd'),
  );
}

/** The gating and experts blocks: objects with exactly their fields (values are checked field by field after). */
function blocksSchema(gate: GateSpec) {
  const field = z.unknown().optional();
  const gating: z.ZodRawShape = hasTau(gate)
    ? { beta0: field, beta1: field, tau: field }
    : { beta0: field, beta1: field };
  return z.object({
    gating: strictObject(gating, `gating for the ${gate.kind} gate`, 'must be an object with beta0 and beta1'),
    experts: strictObject({ a: field, b: field, nu: field }, 'experts', 'must be an object with a, b and nu'),
  });
}

/** A flat copy of `v` for a Float64Array. */
const floats = (v: number[] | number[][]) => Float64Array.from(v.flat());

/**
 * Builds a {@link Model} from a parsed model file, checking everything (format, version, gate and
 * its options, k, d, shapes, finiteness, ν > 0, τ > 0).
 * @param json the parsed JSON (e.g. `JSON.parse(text)`)
 * @throws ValidationError naming the field path and value, e.g. `experts.nu[1] must be > 0 (a variance). Value: -1`
 * @example parseModel(JSON.parse(readFileSync('truth.json', 'utf8')))
 */
export function parseModel(json: unknown): Model {
  if (!isRecord(json)) fail('model', 'must be a JSON object', json);
  const { k, d } = parseWith(HEADER_SCHEMA, json, '', 'model');
  const gate = parseGateSpec(json.gate, k, 'gate');
  parseWith(blocksSchema(gate), json);
  const { gating, experts } = json as { gating: Record<string, unknown>; experts: Record<string, unknown> };
  const beta0 = floats(parseWith(vectorSchema(k, 'k'), gating.beta0, 'gating.beta0'));
  const beta1 = floats(parseWith(matrixSchema(k, d), gating.beta1, 'gating.beta1'));
  const a = floats(parseWith(matrixSchema(k, d), experts.a, 'experts.a'));
  const b = floats(parseWith(vectorSchema(k, 'k'), experts.b, 'experts.b'));
  const nu = floats(parseWith(vectorSchema(k, 'k'), experts.nu, 'experts.nu'));
  let tau = 1;
  if (hasTau(gate)) {
    const requirement = (iss: { input?: unknown }) =>
      iss.input === undefined
        ? `is required for the ${gate.kind} gate: a finite number > 0`
        : 'must be a finite number';
    tau = parseWith(z.number({ error: requirement }), gating.tau, 'gating.tau');
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
  const rows = (v: Float64Array) =>
    Array.from({ length: m.k }, (_, j) => Array.from(v.subarray(j * m.d, (j + 1) * m.d)));
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
      if ((CORE_KEYS as readonly string[]).includes(key))
        throw new ValidationError(
          `extra field "${key}" would overwrite a core field of the model file`,
          `extra.${key}`,
          v,
        );
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
    throw new ValidationError(`${path}: not valid JSON: ${describeJsonError(text, e)}`, '', undefined);
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
    const names = listTruthPresets()
      .map((p) => p.name)
      .join(', ');
    throw new ValidationError(
      `${what} must be a truth preset (${names}) or a path to a model file. Value: ${arg} (no such preset or file)`,
      what,
      arg,
    );
  }
  return readModelFile(arg);
}
