/**
 * Checks a fit's options once, at the public entry (scikit-learn's _parameter_constraints), and
 * fills in the defaults. Every error names the option and the value received.
 */
import { validateDataset } from '../models/dataset-io.js';
import { z } from 'zod';
import {
  bool,
  checkKeys,
  integerAtLeast,
  nonNegativeNumber,
  oneOf,
  parseFields,
  parseWith,
  positiveNumber,
  strictObject,
} from '../models/schema.js';
import { fail, isRecord, parseGateSpec, validateModel } from '../models/validate.js';
import type { Dataset, GateSpec, Model } from '../models/types.js';
import { checkSeed } from '../random/rng.js';
import { isBackend, type Backend } from './backend/index.js';
import { cholesky } from './optim/linalg.js';
import { parseBounds } from './bounds.js';
import { assignmentProblem } from './init/nearTruth.js';
import type { FitOptions, InitOption, ResolvedFitOptions } from './types.js';

// frozen: a script that assigned to it would change every later fit in the process
export const FIT_DEFAULTS = Object.freeze({
  restarts: 1,
  seed: 1,
  tol: 1e-10,
  absTol: 1e-13,
  maxIter: 5000,
  /** relative to the sample variance of y */
  varianceFloorRelative: 1e-6,
  tauMode: 'free' as const,
  backend: 'cpu' as const,
  accelerate: 'squarem' as const,
  wasm: true,
  gateMaxSteps: 100,
  gateTol: 1e-12,
  optimizer: 'em' as const,
  /** hybrid: Newton decrement threshold, nats for the whole sample */
  decrementTol: 1e-8,
  /**
   * hybrid: EM hands over below this gain per iteration, nats per sample, where an exact Hessian
   * costs many EM iterations (the JS reference: top-K, activation gates, k > 8 or d > 4)
   */
  switchTol: 1e-6,
  /** hybrid: the same where the exact Hessian is the WebAssembly kernel (≈ one EM iteration: Newton pays sooner) */
  switchTolFastHessian: 1e-5,
});

const optional = <S extends z.ZodType>(schema: S) => schema.nullish(); // null or absent: the default

/** The fit options' fields; the gate (gate descriptors), init (needs k and d) and seed are checked after. */
const OPTIONS_SCHEMA = strictObject(
  {
    gate: z.unknown().optional(),
    k: integerAtLeast(1),
    init: z.unknown().optional(),
    restarts: optional(integerAtLeast(1)),
    restartsMax: optional(integerAtLeast(1)),
    seed: z.unknown().optional(),
    tol: optional(nonNegativeNumber()),
    absTol: optional(nonNegativeNumber()),
    maxIter: optional(integerAtLeast(0)),
    varianceFloor: optional(positiveNumber()),
    minResponsibility: optional(nonNegativeNumber()),
    tauMode: optional(oneOf(['free', 'fixed'])),
    variance: optional(oneOf(['free', 'equal'])),
    backend: optional(
      z.union([z.custom<Backend>(isBackend), oneOf(['cpu', 'gpu', 'auto'])], {
        error: 'must be one of cpu, gpu, auto',
      }),
    ),
    accelerate: optional(oneOf(['squarem', 'none'])),
    wasm: optional(bool()),
    gateMaxSteps: optional(integerAtLeast(1)),
    gateTol: optional(nonNegativeNumber()),
    optimizer: optional(oneOf(['em', 'hybrid'])),
    stopRule: optional(oneOf(['decrement', 'tol'])),
    decrementTol: optional(nonNegativeNumber()),
    switchTol: optional(nonNegativeNumber()),
    dropDominated: optional(bool()),
    prefit: optional(integerAtLeast(2)),
    bounds: z.unknown().optional(),
    diagnostics: bool().optional(),
    onIteration: z
      .custom<NonNullable<FitOptions['onIteration']>>((v) => typeof v === 'function', { error: 'must be a function' })
      .optional(),
  },
  'the fit options',
  'must be an object',
);

const INIT_KIND = z.object(
  { kind: oneOf(['near-truth', 'kmeans', 'random', 'model', 'softmax-first', 'auto']) },
  { error: 'must be an object with a "kind" field' },
);
const NEAR_TRUTH_SCHEMA = strictObject(
  {
    kind: z.literal('near-truth'),
    truth: z.unknown().optional(),
    noise: oneOf(['shrinking', 'fixed']).optional(),
    noiseScale: nonNegativeNumber().optional(),
    assign: z.union([oneOf(['random', 'ordered']), z.array(z.number())]).optional(),
    splitWeights: oneOf(['divide', 'copy']).optional(),
    tau: oneOf(['perturbed', 'truth']).optional(),
  },
  'the near-truth init',
  'must be an object',
);

/** Sample variance of y (population form). */
export function variance(y: Float64Array): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m += y[i]!;
  m /= y.length;
  let v = 0;
  for (let i = 0; i < y.length; i++) v += (y[i]! - m) ** 2;
  return v / y.length;
}

/** The default variance floor, FIT_DEFAULTS.varianceFloorRelative × var(y); refused naming y where that is not a positive number. */
function defaultFloor(y: Float64Array): number {
  const v = variance(y);
  const floor = FIT_DEFAULTS.varianceFloorRelative * v;
  if (!(floor > 0 && Number.isFinite(floor)))
    fail(
      'data.y',
      `must have a finite, positive variance for the default variance floor (${FIT_DEFAULTS.varianceFloorRelative.toExponential()} × var(y) = ${floor}): rescale y, or give a variance floor`,
      v,
    );
  return floor;
}

/** Checks the init option against the data and k. */
function checkInit(init: unknown, k: number, d: number): InitOption {
  const { kind } = parseWith(INIT_KIND, init, 'init', 'init');
  switch (kind) {
    case 'kmeans':
    case 'random':
    case 'auto':
      parseWith(strictObject({ kind: z.literal(kind) }, `the ${kind} init`, 'must be an object'), init, 'init');
      return { kind };
    case 'softmax-first': {
      const { from } = parseWith(
        strictObject(
          { kind: z.literal(kind), from: oneOf(['kmeans', 'random']).optional() },
          'the softmax-first init',
          'must be an object',
        ),
        init,
        'init',
      );
      return { kind, from: from ?? 'kmeans' };
    }
    case 'model': {
      const { model } = parseWith(
        strictObject({ kind: z.literal(kind), model: z.unknown().optional() }, 'the model init', 'must be an object'),
        init,
        'init',
      );
      const m = model as Model;
      validateModel(m, 'init.model');
      if (m.k !== k) fail('init.model.k', `must equal the fit's k = ${k}`, m.k);
      if (m.d !== d) fail('init.model.d', `must equal the data's d = ${d}`, m.d);
      return { kind, model: m };
    }
    case 'near-truth': {
      checkKeys(NEAR_TRUTH_SCHEMA, init, 'init');
      const truth = (init as Record<string, unknown>).truth as Model;
      validateModel(truth, 'init.truth');
      if (truth.d !== d) fail('init.truth.d', `must equal the data's d = ${d}`, truth.d);
      if (truth.k > k)
        fail('init.truth.k', `must be ≤ the fit's k = ${k} (near-truth assigns every true atom a fitted one)`, truth.k);
      const o = parseWith(NEAR_TRUTH_SCHEMA, init, 'init');
      const out: InitOption = { kind, truth };
      if (o.noise !== undefined) out.noise = o.noise;
      if (o.noiseScale !== undefined) out.noiseScale = o.noiseScale;
      if (Array.isArray(o.assign)) {
        const why = assignmentProblem(o.assign, k, truth.k);
        if (why) fail('init.assign', why, o.assign);
      }
      if (o.assign !== undefined) out.assign = Array.isArray(o.assign) ? [...o.assign] : o.assign;
      if (o.splitWeights !== undefined) out.splitWeights = o.splitWeights;
      if (o.tau !== undefined) out.tau = o.tau;
      return out;
    }
  }
}

/** Short description of an init option, for results and logs. */
export function describeInit(init: InitOption): string {
  switch (init.kind) {
    case 'near-truth':
      return `near-truth (noise ${init.noise ?? 'shrinking'}, scale ${init.noiseScale ?? 1}, assign ${Array.isArray(init.assign) ? init.assign.join(',') : (init.assign ?? 'random')}, split ${init.splitWeights ?? 'divide'}, τ ${init.tau ?? 'perturbed'})`;
    case 'model':
      return 'model';
    case 'softmax-first':
      return `softmax-first (from ${init.from ?? 'kmeans'})`;
    case 'auto':
      return 'auto (softmax-first from k-means and random partitions, k-means, random partitions in turn)';
    default:
      return init.kind;
  }
}

/**
 * Checks the data for a fit: finite values and shapes (validateDataset), no constant x column,
 * full-rank centred design for d > 1, non-constant y.
 * @throws ValidationError naming the field
 */
export function checkFitData(data: Dataset): void {
  validateDataset(data, 'data');
  const { X, y, n, d } = data;
  for (let l = 0; l < d; l++) {
    const [lo, hi] = extremes(X, n, d, l);
    if (lo === hi)
      fail(
        `data.X column x${l + 1}`,
        'must not be constant (the gate and expert slopes on it are not identifiable)',
        `every value ${lo}`,
      );
  }
  if (d > 1) {
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let l = 0; l < d; l++) mean[l] = mean[l]! + X[i * d + l]! / n;
    const G = new Float64Array(d * d);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) {
        const xa = X[i * d + a]! - mean[a]!;
        for (let c = 0; c <= a; c++) G[a * d + c] = G[a * d + c]! + xa * (X[i * d + c]! - mean[c]!);
      }
    }
    // correlation scale, so that the test does not depend on the units of each column
    const s = new Float64Array(d);
    for (let a = 0; a < d; a++) s[a] = Math.sqrt(G[a * d + a]!);
    for (let a = 0; a < d; a++) for (let c = 0; c <= a; c++) G[a * d + c] = G[a * d + c]! / (s[a]! * s[c]!);
    if (cholesky(G, d, new Float64Array(d * d)) < 1e-12)
      fail(
        'data.X',
        'must have linearly independent columns (some column is a linear combination of the others)',
        `d = ${d}`,
      );
  }
  // min = max, not a zero variance: distinct values whose variance underflows (|y| ≈ 1e-160) are not constant,
  // and the variance floor's check says what to do about them
  const [lo, hi] = extremes(y, n);
  if (lo === hi) fail('data.y', 'must not be constant (the likelihood is unbounded)', `every value ${y[0]}`);
}

/** The smallest and largest of v[offset], v[offset + stride], … (n values): a column of a row-major matrix. */
function extremes(v: Float64Array, n: number, stride = 1, offset = 0): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[i * stride + offset]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

/**
 * Validates the options of {@link fitMoE} against the data and fills in the defaults.
 * @throws ValidationError naming the option, e.g. `k must be an integer ≥ 1. Value: 0`
 */
export function resolveFitOptions(
  data: Dataset,
  options: FitOptions,
): { resolved: ResolvedFitOptions; init: InitOption; gate: GateSpec } {
  if (!isRecord(options)) fail('options', 'must be an object', options);
  // field by field in this order (the gate needs k, init needs k and d), unknown fields first
  const raw = options as unknown as Record<string, unknown>;
  checkKeys(OPTIONS_SCHEMA, raw, '', 'options');
  const { k } = parseFields(OPTIONS_SCHEMA, raw, ['k']);
  const gate = parseGateSpec(raw.gate, k, 'gate');
  const init = checkInit(raw.init ?? { kind: 'kmeans' }, k, data.d);
  const restarts = parseFields(OPTIONS_SCHEMA, raw, ['restarts']).restarts ?? FIT_DEFAULTS.restarts;
  const { restartsMax } = parseFields(OPTIONS_SCHEMA, raw, ['restartsMax']);
  if (restartsMax != null && restartsMax < restarts)
    fail('restartsMax', `must be at least restarts (${restarts})`, restartsMax);
  const seed = checkSeed(raw.seed ?? FIT_DEFAULTS.seed, 'seed');
  const o = parseFields(OPTIONS_SCHEMA, raw, [
    'tol',
    'absTol',
    'maxIter',
    'varianceFloor',
    'minResponsibility',
    'tauMode',
    'variance',
    'backend',
    'accelerate',
    'wasm',
    'gateMaxSteps',
    'gateTol',
    'optimizer',
    'stopRule',
    'decrementTol',
    'switchTol',
    'dropDominated',
    'prefit',
    'diagnostics',
    'onIteration',
  ]);
  const tol = o.tol ?? FIT_DEFAULTS.tol;
  const absTol = o.absTol ?? FIT_DEFAULTS.absTol;
  const maxIter = o.maxIter ?? FIT_DEFAULTS.maxIter;
  const varianceFloor = o.varianceFloor ?? defaultFloor(data.y);
  const minResponsibility = o.minResponsibility ?? data.d + 1;
  const tauMode = o.tauMode ?? FIT_DEFAULTS.tauMode;
  const backend = isBackend(o.backend) ? o.backend.name : (o.backend ?? FIT_DEFAULTS.backend);
  const accelerate = o.accelerate ?? FIT_DEFAULTS.accelerate;
  const wasm = o.wasm ?? FIT_DEFAULTS.wasm;
  const gateMaxSteps = o.gateMaxSteps ?? FIT_DEFAULTS.gateMaxSteps;
  const gateTol = o.gateTol ?? FIT_DEFAULTS.gateTol;
  const optimizer = o.optimizer ?? FIT_DEFAULTS.optimizer;
  const stopRule = o.stopRule ?? (optimizer === 'hybrid' ? 'decrement' : 'tol');
  if (optimizer === 'em' && stopRule === 'decrement')
    fail('stopRule', "'decrement' needs optimizer 'hybrid' (EM alone computes no Hessian)", stopRule);
  const decrementTol = o.decrementTol ?? FIT_DEFAULTS.decrementTol;
  const switchTol = o.switchTol ?? null; // null: by the Hessian's cost (fit.ts, FIT_DEFAULTS)
  const bounds = raw.bounds === undefined || raw.bounds === null ? undefined : parseBounds(raw.bounds, 'bounds');
  if (bounds?.nu && bounds.nu[1] < varianceFloor)
    fail('bounds.nu', `must reach at least the variance floor ${varianceFloor}`, bounds.nu);
  if ((init.kind === 'kmeans' || init.kind === 'auto' || init.kind === 'softmax-first') && data.n < k)
    fail('data.n', `must be ≥ k = ${k} for the kmeans init`, data.n);
  return {
    resolved: {
      gate,
      k,
      init: describeInit(init),
      restarts,
      seed,
      tol,
      absTol,
      maxIter,
      varianceFloor,
      minResponsibility,
      tauMode,
      backend: backend === 'cpu' ? 'cpu' : 'gpu',
      accelerate,
      wasm,
      gateMaxSteps,
      gateTol,
      optimizer,
      stopRule,
      decrementTol,
      switchTol,
      dropDominated: o.dropDominated ?? true,
      ...(bounds ? { bounds } : {}),
      ...(o.prefit ? { prefit: o.prefit } : {}),
      ...(restartsMax != null ? { restartsMax } : {}),
      ...(o.variance === 'equal' ? { variance: 'equal' as const } : {}),
    },
    init,
    gate,
  };
}
