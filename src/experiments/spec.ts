/**
 * Experiment specs: validation and normalisation. A spec arrives as untrusted JSON (a file or a
 * user object); {@link validateSpec} checks every field, names the offending one by its path
 * (`models[0].gate.K`, `theory["tanh:D1"].exponent`) and returns a normalised copy — the n-grid
 * expanded to a sorted list of distinct integers, defaults written out — which is what a sweep
 * stores in spec.json and compares on --resume and merge.
 */
import { parameterCount } from '../models/gates/count.js';
import { describeJsonError } from '../models/json-error.js';
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { DESIGNS, type Design } from '../models/sample.js';
import { listTruthPresets, truthPreset } from '../models/presets.js';
import { modelToJSON, parseModel, readModelFile } from '../models/io.js';
import { z } from 'zod';
import {
  bool,
  checkKeys,
  definedFields,
  integerAtLeast,
  integerIn,
  nonNegativeNumber,
  numberWhere,
  oneOf,
  parseFields,
  parseWith,
  positiveInteger,
  positiveNumber,
  strictObject,
  text,
} from '../models/schema.js';
import { ValidationError, fail, isRecord, parseGateSpec } from '../models/validate.js';
import { findGate, gateFamily } from '../models/gates/index.js';
import { MAX_SEED } from '../random/rng.js';
import type { Model } from '../models/types.js';
import { assignmentProblem } from '../em/init/nearTruth.js';
import { parseMetric } from './analysis/metrics.js';
import { parseBounds } from '../em/bounds.js';
import type { ExperimentSpec, FittedModelSpec, InitSpec, NGrid, Prediction, RecordSpec } from './types.js';

/** A rejected experiment spec; `field` is the path of the offending entry. */
export class SpecError extends ValidationError {
  constructor(message: string, field: string, value?: unknown) {
    super(message, field, value);
    this.name = 'SpecError';
  }
}

const LABEL_RE = /^[A-Za-z0-9_.-]+$/;
/** Largest n a grid may hold: far beyond what a fit can take, small enough to stay an exact integer. */
const MAX_N = 1e9;
const METRIC_PARAMS = [
  'beta1',
  'a',
  'b',
  'nu',
  'beta0',
  'tau',
  'beta1tau',
  'beta1tau_w',
  'beta0tau',
  'beta1_w',
  'a_w',
  'b_w',
  'nu_w',
  'share_min',
];
const METRIC_LOSSES = ['D1', 'D2', 'loss', 'hellinger'];

const NAME_RULE = 'must be a non-empty name of letters, digits, "_", "." or "-"';
const name = () => z.string({ error: NAME_RULE }).regex(LABEL_RE, { error: NAME_RULE });

/** The spec's own scalar fields; truth, init, models, n, em, theory and record are checked after, in that order. */
const SPEC_SCHEMA = strictObject(
  {
    name: name(),
    description: text().optional(),
    truth: z.unknown().optional(),
    design: oneOf(DESIGNS).nullish(),
    models: z.unknown().optional(),
    n: z.unknown().optional(),
    replications: positiveInteger(1e6),
    init: z.unknown().optional(),
    restarts: positiveInteger(1000).optional(),
    em: z.unknown().optional(),
    loss: oneOf(['D1', 'D2', 'auto']).nullish(),
    theory: z.unknown().optional(),
    seed: integerIn(1, MAX_SEED).optional(),
    record: z.unknown().optional(),
    quick: bool().optional(),
  },
  'an experiment spec',
  'must be a JSON object',
);

const N_GRID_RULE = 'must be a list of sample sizes or { from, to, count, spacing: "log" | "linear" }';
const N_GRID_SCHEMA = strictObject(
  {
    from: positiveInteger(MAX_N),
    to: positiveInteger(MAX_N),
    count: positiveInteger(100000),
    spacing: oneOf(['log', 'linear']).nullish(),
  },
  'an n-grid',
  N_GRID_RULE,
);
const N_LIST_SCHEMA = z.array(positiveInteger(MAX_N)).min(1, { error: 'must list at least one sample size' });

const EM_RULE =
  'must be an object { tol?, maxIter?, varianceFloor?, tauMode?, accelerate?, wasm?, bounds?, optimizer?, stopRule?, decrementTol?, switchTol?, dropDominated?, prefit?, restartsMax?, variance? }';
const EM_SCHEMA = strictObject(
  {
    tol: positiveNumber().optional(),
    maxIter: positiveInteger().optional(),
    varianceFloor: nonNegativeNumber().optional(),
    tauMode: oneOf(['free', 'fixed']).optional(),
    accelerate: oneOf(['squarem', 'none']).optional(),
    wasm: bool().optional(),
    bounds: z.unknown().optional(),
    optimizer: oneOf(['em', 'hybrid']).optional(),
    stopRule: oneOf(['decrement', 'tol']).optional(),
    decrementTol: positiveNumber().optional(),
    switchTol: nonNegativeNumber().optional(),
    dropDominated: bool().optional(),
    prefit: integerAtLeast(2).optional(),
    restartsMax: positiveInteger(1000).optional(),
    variance: oneOf(['free', 'equal']).optional(),
  },
  'em',
  EM_RULE,
);

const INIT_RULE = 'must be an object { kind, noise?, noiseScale?, tau?, assign? }';
const NEAR_TRUTH_ONLY = { error: 'applies only to init.kind "near-truth"' };
const INIT_KIND = strictObject(
  {
    kind: oneOf(['near-truth', 'kmeans', 'random']),
    noise: z.unknown().optional(),
    noiseScale: z.unknown().optional(),
    tau: z.unknown().optional(),
    assign: z.unknown().optional(),
  },
  'init',
  INIT_RULE,
);
const NEAR_TRUTH_SCHEMA = strictObject(
  {
    kind: z.literal('near-truth'),
    noise: oneOf(['shrinking', 'fixed']).nullish(),
    noiseScale: positiveNumber().optional(),
    tau: oneOf(['perturbed', 'truth']).optional(),
    assign: z.union([oneOf(['random', 'ordered']), z.array(z.number().int().min(0))]).optional(),
  },
  'init',
  INIT_RULE,
);
const OTHER_INIT_SCHEMA = strictObject(
  {
    kind: oneOf(['kmeans', 'random']),
    noise: z.undefined(NEAR_TRUTH_ONLY).optional(),
    noiseScale: z.undefined(NEAR_TRUTH_ONLY).optional(),
    tau: z.undefined(NEAR_TRUTH_ONLY).optional(),
    assign: z.undefined(NEAR_TRUTH_ONLY).optional(),
  },
  'init',
  INIT_RULE,
);

const RECORD_RULE = 'must be an object { losses?, hellinger?, hellingerPoints?, perParameter?, weighted?, fitted? }';
const RECORD_SCHEMA = strictObject(
  {
    losses: bool().optional(),
    hellinger: bool().optional(),
    hellingerPoints: positiveInteger(1e7).optional(),
    perParameter: bool().optional(),
    weighted: bool().optional(),
    fitted: bool().optional(),
  },
  'record',
  RECORD_RULE,
);

const FITTED_RULE = 'must be an object { label, gate, k, truth?, em? }';
const MODELS_SCHEMA = z
  .array(z.unknown(), { error: `must be a non-empty list of fitted models { label, gate, k, truth?, em? }` })
  .min(1, { error: `must be a non-empty list of fitted models { label, gate, k, truth?, em? }` });
/** A fitted model's own fields; the gate (gate descriptors), truth and em are checked after. */
const FITTED_SCHEMA = strictObject(
  {
    label: name(),
    gate: z.unknown().optional(),
    k: positiveInteger(64),
    truth: z.unknown().optional(),
    em: z.unknown().optional(),
  },
  'a fitted model',
  FITTED_RULE,
);

const PREDICTION_RULE = 'must be { exponent: number } or { law: "1/log n" }';
const PREDICTION_EXTRA = { note: text().optional(), statistic: oneOf(['mean', 'median']).optional() };
const LAW_SCHEMA = strictObject(
  { law: z.literal('1/log n', { error: 'must be "1/log n"' }), ...PREDICTION_EXTRA },
  'a prediction',
  PREDICTION_RULE,
);
const EXPONENT_SCHEMA = strictObject(
  {
    exponent: numberWhere('must be a finite number ≤ 0 (a rate n^exponent)', (e) => e <= 0),
    ...PREDICTION_EXTRA,
  },
  'a prediction',
  PREDICTION_RULE,
);

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
    values = parseWith(N_LIST_SCHEMA, grid, field);
  } else {
    if (!isRecord(grid)) fail(field, N_GRID_RULE, grid);
    checkKeys(N_GRID_SCHEMA, grid, field);
    const { from, to } = parseFields(N_GRID_SCHEMA, grid, ['from', 'to'], field);
    if (to < from) fail(`${field}.to`, `must be ≥ ${field}.from (${from})`, to);
    const { count, spacing = 'log' } = parseFields(N_GRID_SCHEMA, grid, ['count', 'spacing'], field);
    values = [];
    for (let t = 0; t < count; t++) {
      const f = count === 1 ? 0 : t / (count - 1);
      const v =
        spacing === 'log' ? Math.exp(Math.log(from) + f * (Math.log(to) - Math.log(from))) : from + f * (to - from);
      values.push(t === count - 1 ? to : Math.round(v)); // the end points exactly, whatever exp/log rounding does
    }
  }
  return [...new Set(values)].sort((p, q) => p - q);
}

function checkTruth(v: unknown, field: string): { value: string | Record<string, unknown>; model: Model } {
  if (typeof v === 'string') {
    if (!listTruthPresets().some((p) => p.name === v)) {
      fail(
        field,
        `must be a truth preset (${listTruthPresets()
          .map((p) => p.name)
          .join(', ')}) or an inline model object`,
        v,
      );
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

/** An explicit near-truth assignment must serve every fitted model (its k, its truth's k*). */
function checkAssignment(init: InitSpec, models: FittedModelSpec[], base: Model): void {
  if (!Array.isArray(init.assign)) return;
  for (const m of models) {
    const kStar = m.truth === undefined ? base.k : checkTruth(m.truth, 'models[].truth').model.k;
    const why = assignmentProblem(init.assign, m.k, kStar);
    if (why) fail('init.assign', `${why}${models.length > 1 ? ` for model ${m.label}` : ''}`, init.assign);
  }
}

function checkInit(v: unknown): InitSpec {
  if (v === undefined) return { kind: 'near-truth', noise: 'shrinking', noiseScale: 1 };
  if (!isRecord(v)) fail('init', INIT_RULE, v);
  const { kind } = parseWith(INIT_KIND, v, 'init');
  if (kind !== 'near-truth') return { kind: parseWith(OTHER_INIT_SCHEMA, v, 'init').kind };
  const { noise, noiseScale, tau, assign } = parseWith(NEAR_TRUTH_SCHEMA, v, 'init');
  const out: InitSpec = { kind, noise: noise ?? 'shrinking', noiseScale: noiseScale ?? 1 };
  if (tau !== undefined) out.tau = tau;
  if (assign !== undefined) out.assign = Array.isArray(assign) ? [...assign] : assign;
  return out;
}

/** Checks EM options at `path` ("em" or "models[t].em"). */
function checkEm(v: unknown, path = 'em'): ExperimentSpec['em'] {
  if (v === undefined) return {};
  if (!isRecord(v)) fail(path, EM_RULE, v);
  const { bounds, ...rest } = parseWith(EM_SCHEMA, v, path);
  const out: ExperimentSpec['em'] = definedFields(rest);
  if (bounds !== undefined) out.bounds = parseBounds(bounds, `${path}.bounds`);
  // (a model's em may leave the optimizer to the spec's: fitMoE checks the pair there)
  if (path === 'em' && out.stopRule === 'decrement' && out.optimizer !== 'hybrid')
    fail(`${path}.stopRule`, `'decrement' needs optimizer 'hybrid' (EM alone computes no Hessian)`, out.stopRule);
  return out;
}

function checkRecord(v: unknown): RecordSpec | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v)) fail('record', RECORD_RULE, v);
  return definedFields(parseWith(RECORD_SCHEMA, v, 'record'));
}

function checkModels(
  v: unknown,
  defaultTruth: { value: string | Record<string, unknown>; model: Model },
  init: InitSpec,
): FittedModelSpec[] {
  const list = parseWith(MODELS_SCHEMA, v, 'models');
  const labels = new Set<string>();
  return list.map((raw, t) => {
    const path = `models[${t}]`;
    if (!isRecord(raw)) fail(path, FITTED_RULE, raw);
    checkKeys(FITTED_SCHEMA, raw, path);
    const { label } = parseFields(FITTED_SCHEMA, raw, ['label'], path);
    if (labels.has(label)) fail(`${path}.label`, 'must be unique among models', label);
    labels.add(label);
    const { k } = parseFields(FITTED_SCHEMA, raw, ['k'], path);
    const rawGate = raw.gate;
    // a masked gate's K against this model's k, named as the spec names them (the descriptor's parse says "[1, k]")
    if (
      isRecord(rawGate) &&
      findGate(rawGate.kind)?.form === 'masked' &&
      typeof rawGate.K === 'number' &&
      rawGate.K > k
    ) {
      fail(`${path}.gate.K`, `must be ≤ ${path}.k (${k})`, rawGate.K);
    }
    const gate = parseGateSpec(rawGate, k, `${path}.gate`);
    const truth = raw.truth === undefined ? defaultTruth : checkTruth(raw.truth, `${path}.truth`);
    if (truth.model.d !== defaultTruth.model.d) {
      fail(
        `${path}.truth`,
        `must have the same input dimension as truth (d = ${defaultTruth.model.d}); its d`,
        truth.model.d,
      );
    }
    // the Voronoi loss compares atoms of one gate family: a mismatch would fail every cell
    const family = gateFamily(gate);
    const truthFamily = gateFamily(truth.model.gate);
    if (family !== truthFamily) {
      fail(
        `${path}.gate`,
        `must be of its truth's gate family (${truthFamily}: the Voronoi loss compares atoms of one family); its family`,
        family,
      );
    }
    if (init.kind === 'near-truth' && k < truth.model.k) {
      fail(
        `${path}.k`,
        `must be ≥ the truth's k* = ${truth.model.k} for near-truth initialisation (every true atom gets a fitted atom)`,
        k,
      );
    }
    const out: FittedModelSpec = { label, gate, k };
    if (raw.truth !== undefined) out.truth = truth.value;
    if (raw.em !== undefined) out.em = checkEm(raw.em, `${path}.em`);
    return out;
  });
}

function checkPrediction(v: unknown, field: string): Prediction {
  if (!isRecord(v)) fail(field, PREDICTION_RULE, v);
  if ('law' in v) return definedFields(parseWith(LAW_SCHEMA, v, field));
  return definedFields(parseWith(EXPONENT_SCHEMA, v, field));
}

/** Checks a metric name: a loss or `${param}|m=${m}`, prefixed `${label}:` exactly when there are several models. */
function checkMetricName(name: string, labels: string[], field: string): void {
  let base = name;
  if (labels.length > 1) {
    const colon = name.indexOf(':');
    const label = colon < 0 ? '' : name.slice(0, colon);
    if (!labels.includes(label))
      fail(
        field,
        `must start with a model label and ":" (${labels.map((l) => `${l}:`).join(', ')}) since the spec fits several models`,
        name,
      );
    base = name.slice(colon + 1);
  }
  const param = /^([A-Za-z0-9_]+)\|m=([1-9][0-9]*)$/.exec(base);
  if (METRIC_LOSSES.includes(base) || (param && METRIC_PARAMS.includes(param[1]!))) return;
  fail(
    field,
    `must name a metric: ${METRIC_LOSSES.join(', ')} or "<param>|m=<cell size>" with param in ${METRIC_PARAMS.join(', ')}${labels.length > 1 ? ', after "<label>:"' : ''}`,
    name,
  );
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

/** A fitted model's free parameters, with its em options over the spec's. */
function freeParameters(m: FittedModelSpec, em: ExperimentSpec['em'], d: number): number {
  const tauMode = m.em?.tauMode ?? em?.tauMode ?? 'free';
  return parameterCount(m.gate, m.k, d, tauMode, m.em?.variance ?? em?.variance ?? 'free').free.total;
}

/**
 * Every fit — and a prefit's (each start fitted first on every m-th sample) — must have more samples than free
 * parameters at the smallest n, or every cell there fails: refused before anything runs.
 */
function checkSampleSizes(models: FittedModelSpec[], em: ExperimentSpec['em'], n: number[], d: number): void {
  const nMin = Math.min(...n);
  models.forEach((m, i) => {
    const P = freeParameters(m, em, d);
    const of = models.length > 1 ? ` of ${m.label}` : '';
    if (nMin <= P) fail('n', `must exceed the ${P} free parameters${of} (every fit at n = ${nMin} would fail)`, nMin);
    const prefit = m.em?.prefit ?? em?.prefit;
    if (prefit === undefined) return;
    const left = Math.floor(nMin / prefit);
    if (left <= P) {
      const field = m.em?.prefit !== undefined ? `models[${i}].em.prefit` : 'em.prefit';
      fail(
        field,
        `leaves ${left} samples per start at the smallest n (${nMin}): it must leave more than the ${P} free parameters${of}`,
        prefit,
      );
    }
  });
}

function validateSpecUnsafe(v: unknown): ExperimentSpec {
  if (!isRecord(v)) fail('spec', 'must be a JSON object', v);
  // field by field in this order (truth before the models that use it), unknown fields first
  checkKeys(SPEC_SCHEMA, v, '', 'spec');
  const fields = <K extends keyof typeof SPEC_SCHEMA.shape & string>(...keys: K[]) => parseFields(SPEC_SCHEMA, v, keys);
  const { name } = fields('name');
  const truth = checkTruth(v.truth, 'truth');
  const design = fields('design').design ?? 'uniform';
  if (design === 'grid' && truth.model.d !== 1)
    fail('design', `"grid" needs d = 1 (the truth has d = ${truth.model.d})`, design);
  const init = checkInit(v.init);
  const models = checkModels(v.models, truth, init);
  checkAssignment(init, models, truth.model);
  const n = resolveNGrid(v.n, 'n');
  const { replications, restarts = 1 } = fields('replications', 'restarts');
  const em = checkEm(v.em);
  for (const [field, e] of [['em', em], ...models.map((m, i) => [`models[${i}].em`, m.em] as const)] as const)
    if (e?.restartsMax !== undefined && e.restartsMax < restarts)
      fail(`${field}.restartsMax`, `must be at least restarts (${restarts})`, e.restartsMax);
  checkSampleSizes(models, em, n, truth.model.d);
  const { loss, seed = 1 } = fields('loss', 'seed');
  const theory: Record<string, Prediction> = {};
  const labels = models.map((m) => m.label);
  if (v.theory !== undefined) {
    if (!isRecord(v.theory)) fail('theory', 'must be an object mapping metric names to predictions', v.theory);
    for (const [metric, p] of Object.entries(v.theory)) {
      const field = `theory[${JSON.stringify(metric)}]`;
      checkMetricName(metric, labels, field);
      theory[metric] = checkPrediction(p, field);
    }
  }
  const out: ExperimentSpec = {
    name,
    truth: truth.value,
    design,
    models,
    n,
    replications,
    init,
    restarts,
    em,
    loss: loss ?? 'auto',
    theory,
    seed,
  };
  const { description } = fields('description');
  if (description !== undefined) out.description = description;
  const record = checkRecord(v.record);
  if (record) out.record = record;
  const weightedName = Object.keys(theory).find((k) => parseMetric(k, labels).weighted);
  if (weightedName !== undefined && record?.weighted !== true)
    fail(
      `theory[${JSON.stringify(weightedName)}]`,
      'names a weighted error, recorded only with "record": {"weighted": true}',
      weightedName,
    );
  const { quick } = fields('quick');
  if (quick !== undefined) out.quick = quick;
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
    throw new SpecError(
      `${path}: cannot read the spec (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`,
      '',
      undefined,
    );
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
          throw new SpecError(
            `${field} must be a truth preset or a model file: ${e instanceof Error ? e.message : String(e)}`,
            field,
            t,
          );
        }
      };
      json = { ...json, truth: inline(json.truth, 'truth') };
      const models = (json as Record<string, unknown>).models;
      if (Array.isArray(models)) {
        (json as Record<string, unknown>).models = models.map((m, t) =>
          isRecord(m) && m.truth !== undefined ? { ...m, truth: inline(m.truth, `models[${t}].truth`) } : m,
        );
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
    const keys = Object.keys(v)
      .filter((key) => v[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJSON(v[key])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Canonical text of a normalised spec, used to decide whether two runs ran the same spec. */
export function specKey(spec: ExperimentSpec): string {
  return canonicalJSON(spec);
}
