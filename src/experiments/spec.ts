/**
 * Experiment specs: validation and normalisation. A spec arrives as untrusted JSON (a file or a
 * user object); {@link validateSpec} checks every field, names the offending one by its path
 * (`models[0].gate.K`, `theory["tanh:D1"].exponent`) and returns a normalised copy — the n-grid
 * expanded to a sorted list of distinct integers, defaults written out — which is what a sweep
 * stores in spec.json and compares on --resume and merge.
 */
import { describeJsonError } from '../models/json-error.js';
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { DESIGNS, type Design } from '../models/sample.js';
import { listTruthPresets, truthPreset } from '../models/presets.js';
import { modelToJSON, parseModel, readModelFile } from '../models/io.js';
import { ValidationError, fail, isRecord, parseGateSpec, rejectUnknownKeys } from '../models/validate.js';
import { MAX_SEED } from '../random/rng.js';
import type { Model } from '../models/types.js';
import type { ExperimentSpec, FittedModelSpec, InitSpec, NGrid, Prediction, RecordSpec } from './types.js';

/** A rejected experiment spec; `field` is the path of the offending entry. */
export class SpecError extends ValidationError {
  constructor(message: string, field: string, value?: unknown) {
    super(message, field, value);
    this.name = 'SpecError';
  }
}

const SPEC_KEYS = ['name', 'description', 'truth', 'design', 'models', 'n', 'replications', 'init', 'restarts', 'em', 'loss', 'theory', 'seed', 'record', 'quick'] as const;
const LABEL_RE = /^[A-Za-z0-9_.-]+$/;
/** Largest n a grid may hold: far beyond what a fit can take, small enough to stay an exact integer. */
const MAX_N = 1e9;
const METRIC_PARAMS = ['beta1', 'a', 'b', 'nu', 'beta0', 'tau'];
const METRIC_LOSSES = ['D1', 'D2', 'loss', 'hellinger'];

function posInt(v: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    fail(field, max < Number.MAX_SAFE_INTEGER ? `must be a positive integer ≤ ${max}` : 'must be a positive integer', v);
  }
  return v;
}

function posNumber(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) fail(field, 'must be a finite number > 0', v);
  return v;
}

function oneOf<T extends string>(v: unknown, options: readonly T[], field: string): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) fail(field, `must be one of ${options.join(', ')}`, v);
  return v as T;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') fail(field, 'must be true or false', v);
  return v;
}

/**
 * Expands an n-grid to the sorted list of distinct integer sample sizes it describes.
 * `{from, to, count, spacing}` gives `count` points from `from` to `to` (log or linear spacing),
 * each rounded to the nearest integer; duplicates after rounding are merged, so the list can be
 * shorter than `count` (e.g. a dense log grid at small n).
 * @throws SpecError naming `field` (default "n") and the value
 * @example resolveNGrid({ from: 100, to: 1e5, count: 4, spacing: 'log' }) // [100, 1000, 10000, 100000]
 */
export function resolveNGrid(grid: unknown, field = 'n'): number[] {
  let values: number[];
  if (Array.isArray(grid)) {
    if (grid.length === 0) fail(field, 'must list at least one sample size', grid);
    values = grid.map((v, t) => posInt(v, `${field}[${t}]`, MAX_N));
  } else if (isRecord(grid)) {
    rejectUnknownKeys(grid, ['from', 'to', 'count', 'spacing'], field, 'an n-grid');
    const from = posInt(grid.from, `${field}.from`, MAX_N);
    const to = posInt(grid.to, `${field}.to`, MAX_N);
    if (to < from) fail(`${field}.to`, `must be ≥ ${field}.from (${from})`, to);
    const count = posInt(grid.count, `${field}.count`, 100000);
    const spacing = oneOf(grid.spacing ?? 'log', ['log', 'linear'] as const, `${field}.spacing`);
    values = [];
    for (let t = 0; t < count; t++) {
      const f = count === 1 ? 0 : t / (count - 1);
      const v = spacing === 'log' ? Math.exp(Math.log(from) + f * (Math.log(to) - Math.log(from))) : from + f * (to - from);
      values.push(t === count - 1 ? to : Math.round(v)); // the end points exactly, whatever exp/log rounding does
    }
  } else {
    fail(field, 'must be a list of sample sizes or { from, to, count, spacing: "log" | "linear" }', grid);
  }
  return [...new Set(values)].sort((p, q) => p - q);
}

function checkTruth(v: unknown, field: string): { value: string | Record<string, unknown>; model: Model } {
  if (typeof v === 'string') {
    if (!listTruthPresets().some((p) => p.name === v)) {
      fail(field, `must be a truth preset (${listTruthPresets().map((p) => p.name).join(', ')}) or an inline model object`, v);
    }
    return { value: v, model: truthPreset(v) };
  }
  if (!isRecord(v)) fail(field, 'must be a truth preset name or an inline model object', v);
  try {
    const model = parseModel(v);
    // store the canonical form so that equal truths compare equal
    return { value: modelToJSON(model), model };
  } catch (e) {
    if (e instanceof ValidationError) throw new SpecError(`${field}.${e.message}`, `${field}.${e.field}`, e.value);
    throw e;
  }
}

function checkInit(v: unknown): InitSpec {
  if (v === undefined) return { kind: 'near-truth', noise: 'shrinking', noiseScale: 1 };
  if (!isRecord(v)) fail('init', 'must be an object { kind, noise?, noiseScale?, tau? }', v);
  rejectUnknownKeys(v, ['kind', 'noise', 'noiseScale', 'tau'], 'init', 'init');
  const kind = oneOf(v.kind, ['near-truth', 'kmeans', 'random'] as const, 'init.kind');
  if (kind !== 'near-truth') {
    if (v.noise !== undefined) fail('init.noise', 'applies only to init.kind "near-truth"', v.noise);
    if (v.noiseScale !== undefined) fail('init.noiseScale', 'applies only to init.kind "near-truth"', v.noiseScale);
    if (v.tau !== undefined) fail('init.tau', 'applies only to init.kind "near-truth"', v.tau);
    return { kind };
  }
  const noise = oneOf(v.noise ?? 'shrinking', ['shrinking', 'fixed'] as const, 'init.noise');
  const noiseScale = v.noiseScale === undefined ? 1 : posNumber(v.noiseScale, 'init.noiseScale');
  const out: InitSpec = { kind, noise, noiseScale };
  if (v.tau !== undefined) out.tau = oneOf(v.tau, ['perturbed', 'truth'] as const, 'init.tau');
  return out;
}

/** Checks EM options at `path` ("em" or "models[t].em"). */
function checkEm(v: unknown, path = 'em'): ExperimentSpec['em'] {
  if (v === undefined) return {};
  if (!isRecord(v)) fail(path, 'must be an object { tol?, maxIter?, varianceFloor?, tauMode?, accelerate?, wasm? }', v);
  rejectUnknownKeys(v, ['tol', 'maxIter', 'varianceFloor', 'tauMode', 'accelerate', 'wasm'], path, 'em');
  const out: ExperimentSpec['em'] = {};
  if (v.tol !== undefined) out.tol = posNumber(v.tol, `${path}.tol`);
  if (v.maxIter !== undefined) out.maxIter = posInt(v.maxIter, `${path}.maxIter`);
  if (v.varianceFloor !== undefined) {
    if (typeof v.varianceFloor !== 'number' || !Number.isFinite(v.varianceFloor) || v.varianceFloor < 0) {
      fail(`${path}.varianceFloor`, 'must be a finite number ≥ 0', v.varianceFloor);
    }
    out.varianceFloor = v.varianceFloor;
  }
  if (v.tauMode !== undefined) out.tauMode = oneOf(v.tauMode, ['free', 'fixed'] as const, `${path}.tauMode`);
  if (v.accelerate !== undefined) out.accelerate = oneOf(v.accelerate, ['squarem', 'none'] as const, `${path}.accelerate`);
  if (v.wasm !== undefined) {
    if (typeof v.wasm !== 'boolean') fail(`${path}.wasm`, 'must be true or false', v.wasm);
    out.wasm = v.wasm;
  }
  return out;
}

function checkRecord(v: unknown): RecordSpec | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v)) fail('record', 'must be an object { losses?, hellinger?, hellingerPoints?, perParameter?, fitted? }', v);
  rejectUnknownKeys(v, ['losses', 'hellinger', 'hellingerPoints', 'perParameter', 'fitted'], 'record', 'record');
  const out: RecordSpec = {};
  if (v.losses !== undefined) out.losses = bool(v.losses, 'record.losses');
  if (v.hellinger !== undefined) out.hellinger = bool(v.hellinger, 'record.hellinger');
  if (v.hellingerPoints !== undefined) out.hellingerPoints = posInt(v.hellingerPoints, 'record.hellingerPoints', 1e7);
  if (v.perParameter !== undefined) out.perParameter = bool(v.perParameter, 'record.perParameter');
  if (v.fitted !== undefined) out.fitted = bool(v.fitted, 'record.fitted');
  return out;
}

function checkModels(v: unknown, defaultTruth: { value: string | Record<string, unknown>; model: Model }, init: InitSpec): FittedModelSpec[] {
  if (!Array.isArray(v) || v.length === 0) fail('models', 'must be a non-empty list of fitted models { label, gate, k, truth?, em? }', v);
  const labels = new Set<string>();
  return v.map((raw, t) => {
    const path = `models[${t}]`;
    if (!isRecord(raw)) fail(path, 'must be an object { label, gate, k, truth?, em? }', raw);
    rejectUnknownKeys(raw, ['label', 'gate', 'k', 'truth', 'em'], path, 'a fitted model');
    const label = raw.label;
    if (typeof label !== 'string' || !LABEL_RE.test(label)) fail(`${path}.label`, 'must be a non-empty name of letters, digits, "_", "." or "-"', label);
    if (labels.has(label)) fail(`${path}.label`, 'must be unique among models', label);
    labels.add(label);
    const k = posInt(raw.k, `${path}.k`, 64);
    if (isRecord(raw.gate) && raw.gate.kind === 'topk' && typeof raw.gate.K === 'number' && raw.gate.K > k) {
      fail(`${path}.gate.K`, `must be ≤ ${path}.k (${k})`, raw.gate.K);
    }
    const gate = parseGateSpec(raw.gate, k, `${path}.gate`);
    const truth = raw.truth === undefined ? defaultTruth : checkTruth(raw.truth, `${path}.truth`);
    if (truth.model.d !== defaultTruth.model.d) {
      fail(`${path}.truth`, `must have the same input dimension as truth (d = ${defaultTruth.model.d}); its d`, truth.model.d);
    }
    if (init.kind === 'near-truth' && k < truth.model.k) {
      fail(`${path}.k`, `must be ≥ the truth's k* = ${truth.model.k} for near-truth initialisation (every true atom gets a fitted atom)`, k);
    }
    const out: FittedModelSpec = { label, gate, k };
    if (raw.truth !== undefined) out.truth = truth.value;
    if (raw.em !== undefined) out.em = checkEm(raw.em, `${path}.em`);
    return out;
  });
}

function checkPrediction(v: unknown, field: string): Prediction {
  if (!isRecord(v)) fail(field, 'must be { exponent: number } or { law: "1/log n" }', v);
  if ('law' in v) {
    rejectUnknownKeys(v, ['law', 'note', 'statistic'], field, 'a prediction');
    if (v.law !== '1/log n') fail(`${field}.law`, 'must be "1/log n"', v.law);
    const p: Prediction = { law: '1/log n' };
    if (v.note !== undefined) p.note = checkNote(v.note, `${field}.note`);
    if (v.statistic !== undefined) p.statistic = oneOf(v.statistic, ['mean', 'median'] as const, `${field}.statistic`);
    return p;
  }
  rejectUnknownKeys(v, ['exponent', 'note', 'statistic'], field, 'a prediction');
  const e = v.exponent;
  if (typeof e !== 'number' || !Number.isFinite(e) || e > 0) fail(`${field}.exponent`, 'must be a finite number ≤ 0 (a rate n^exponent)', e);
  const p: Prediction = { exponent: e };
  if (v.note !== undefined) p.note = checkNote(v.note, `${field}.note`);
  if (v.statistic !== undefined) p.statistic = oneOf(v.statistic, ['mean', 'median'] as const, `${field}.statistic`);
  return p;
}

function checkNote(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(field, 'must be a string', v);
  return v;
}

/** Checks a metric name: a loss or `${param}|m=${m}`, prefixed `${label}:` exactly when there are several models. */
function checkMetricName(name: string, labels: string[], field: string): void {
  let base = name;
  if (labels.length > 1) {
    const colon = name.indexOf(':');
    const label = colon < 0 ? '' : name.slice(0, colon);
    if (!labels.includes(label)) fail(field, `must start with a model label and ":" (${labels.map((l) => `${l}:`).join(', ')}) since the spec fits several models`, name);
    base = name.slice(colon + 1);
  }
  const param = /^([A-Za-z0-9]+)\|m=([1-9][0-9]*)$/.exec(base);
  if (METRIC_LOSSES.includes(base) || (param && METRIC_PARAMS.includes(param[1]!))) return;
  fail(field, `must name a metric: ${METRIC_LOSSES.join(', ')} or "<param>|m=<cell size>" with param in ${METRIC_PARAMS.join(', ')}${labels.length > 1 ? ', after "<label>:"' : ''}`, name);
}

/**
 * Validates an experiment spec and returns its normalised form: n expanded to a sorted list of
 * distinct integers, init and gate defaults filled in, inline truths in canonical model-file form.
 * Nothing is read from or written to disk (see {@link loadSpecFile} for specs in files).
 * @param input parsed JSON or a user object
 * @throws SpecError (a ValidationError) naming the field path and value, e.g.
 *   `replications must be a positive integer. Value: 0`, `models[0].gate.K must be ≤ models[0].k (2). Value: 3`
 */
export function validateSpec(input: unknown): ExperimentSpec {
  try {
    return validateSpecUnsafe(input);
  } catch (e) {
    if (e instanceof ValidationError && !(e instanceof SpecError)) throw new SpecError(e.message, e.field, e.value);
    throw e;
  }
}

function validateSpecUnsafe(v: unknown): ExperimentSpec {
  if (!isRecord(v)) fail('spec', 'must be a JSON object', v);
  rejectUnknownKeys(v, SPEC_KEYS, '', 'an experiment spec');
  const name = v.name;
  if (typeof name !== 'string' || !LABEL_RE.test(name)) fail('name', 'must be a non-empty name of letters, digits, "_", "." or "-"', name);
  const truth = checkTruth(v.truth, 'truth');
  const design = oneOf<Design>(v.design ?? 'uniform', DESIGNS, 'design');
  if (design === 'grid' && truth.model.d !== 1) fail('design', `"grid" needs d = 1 (the truth has d = ${truth.model.d})`, design);
  const init = checkInit(v.init);
  const models = checkModels(v.models, truth, init);
  const n = resolveNGrid(v.n, 'n');
  const replications = posInt(v.replications, 'replications', 1e6);
  const restarts = v.restarts === undefined ? 1 : posInt(v.restarts, 'restarts', 1000);
  const em = checkEm(v.em);
  const loss = oneOf(v.loss ?? 'auto', ['D1', 'D2', 'auto'] as const, 'loss');
  const seed = v.seed === undefined ? 1 : v.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 1 || seed > MAX_SEED) fail('seed', `must be an integer in [1, ${MAX_SEED}]`, seed);
  const theory: Record<string, Prediction> = {};
  if (v.theory !== undefined) {
    if (!isRecord(v.theory)) fail('theory', 'must be an object mapping metric names to predictions', v.theory);
    const labels = models.map((m) => m.label);
    for (const [metric, p] of Object.entries(v.theory)) {
      const field = `theory[${JSON.stringify(metric)}]`;
      checkMetricName(metric, labels, field);
      theory[metric] = checkPrediction(p, field);
    }
  }
  const out: ExperimentSpec = { name, truth: truth.value, design, models, n, replications, init, restarts, em, loss, theory, seed };
  if (v.description !== undefined) out.description = checkNote(v.description, 'description');
  const record = checkRecord(v.record);
  if (record) out.record = record;
  if (v.quick !== undefined) out.quick = bool(v.quick, 'quick');
  return out;
}

/**
 * Reads and validates a spec file. Truths given as paths (relative to the spec file) are read and
 * inlined, so the normalised spec — and the spec.json a sweep writes — stands on its own.
 * @throws SpecError whose message starts with the path, e.g. `exp.json: replications must be ...`
 */
export function loadSpecFile(path: string): ExperimentSpec {
  let json: unknown;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SpecError(`${path}: cannot read the spec (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`, '', undefined);
  }
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SpecError(`${path}: cannot read the spec: not valid JSON: ${describeJsonError(text, e)}`, '', undefined);
  }
  try {
    if (isRecord(json)) {
      const base = dirname(resolvePath(path));
      const inline = (t: unknown, field: string): unknown => {
        if (typeof t !== 'string' || listTruthPresets().some((p) => p.name === t)) return t;
        try {
          return modelToJSON(readModelFile(resolvePath(base, t)));
        } catch (e) {
          throw new SpecError(`${field} must be a truth preset or a model file: ${e instanceof Error ? e.message : String(e)}`, field, t);
        }
      };
      json = { ...json, truth: inline(json.truth, 'truth') };
      const models = (json as Record<string, unknown>).models;
      if (Array.isArray(models)) {
        (json as Record<string, unknown>).models = models.map((m, t) => (isRecord(m) && m.truth !== undefined ? { ...m, truth: inline(m.truth, `models[${t}].truth`) } : m));
      }
    }
    return validateSpec(json);
  } catch (e) {
    if (e instanceof ValidationError) throw new SpecError(`${path}: ${e.message}`, e.field, e.value);
    throw e;
  }
}

/**
 * The truth model of each fitted model of a (normalised) spec, in spec order.
 * @throws SpecError if a truth is invalid (cannot happen for a spec from {@link validateSpec})
 */
export function specTruths(spec: ExperimentSpec): Model[] {
  const base = checkTruth(spec.truth, 'truth').model;
  return spec.models.map((m, t) => (m.truth === undefined ? base : checkTruth(m.truth, `models[${t}].truth`).model));
}

/** The metric name prefix of a fitted model: `${label}:` when the spec fits several models, else "". */
export function metricPrefix(spec: ExperimentSpec, label: string): string {
  return spec.models.length > 1 ? `${label}:` : '';
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((e) => (e === undefined ? 'null' : canonicalJSON(e))).join(',')}]`;
  if (isRecord(v)) {
    const keys = Object.keys(v).filter((key) => v[key] !== undefined).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJSON(v[key])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Canonical text of a normalised spec, used to decide whether two runs ran the same spec. */
export function specKey(spec: ExperimentSpec): string {
  return canonicalJSON(spec);
}
