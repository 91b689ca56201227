/**
 * Checks a fit's options once, at the public entry (scikit-learn's _parameter_constraints), and
 * fills in the defaults. Every error names the option and the value received.
 */
import { validateDataset } from '../models/dataset-io.js';
import { fail, isRecord, parseGateSpec, rejectUnknownKeys, validateModel } from '../models/validate.js';
import type { Dataset, GateSpec, Model } from '../models/types.js';
import { checkSeed } from '../random/rng.js';
import { isBackend } from './backend/index.js';
import { cholesky } from './optim/linalg.js';
import type { FitOptions, InitOption, ResolvedFitOptions } from './types.js';

export const FIT_DEFAULTS = {
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
};

const OPTION_KEYS = ['gate', 'k', 'init', 'restarts', 'seed', 'tol', 'absTol', 'maxIter', 'varianceFloor', 'minResponsibility',
  'tauMode', 'backend', 'accelerate', 'wasm', 'gateMaxSteps', 'gateTol', 'diagnostics', 'onIteration'] as const;

function nonNegative(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(field, 'must be a finite number ≥ 0', v);
  return v;
}

function positive(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(field, 'must be a finite number > 0', v);
  return v;
}

function integerAtLeast(v: unknown, min: number, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(field, `must be an integer ≥ ${min}`, v);
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(field, `must be one of ${allowed.join(', ')}`, v);
  return v as T;
}

/** Sample variance of y (population form). */
export function variance(y: Float64Array): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m += y[i]!;
  m /= y.length;
  let v = 0;
  for (let i = 0; i < y.length; i++) v += (y[i]! - m) ** 2;
  return v / y.length;
}

/** Checks the init option against the data and k. */
function checkInit(init: unknown, k: number, d: number): InitOption {
  if (!isRecord(init)) fail('init', 'must be an object with a "kind" field', init);
  const kind = oneOf(init.kind, ['near-truth', 'kmeans', 'random', 'model', 'softmax-first', 'auto'] as const, 'init.kind');
  switch (kind) {
    case 'kmeans':
    case 'random':
    case 'auto':
      rejectUnknownKeys(init, ['kind'], 'init', `the ${kind} init`);
      return { kind };
    case 'softmax-first': {
      rejectUnknownKeys(init, ['kind', 'from'], 'init', 'the softmax-first init');
      return { kind, from: init.from === undefined ? 'kmeans' : oneOf(init.from, ['kmeans', 'random'] as const, 'init.from') };
    }
    case 'model': {
      rejectUnknownKeys(init, ['kind', 'model'], 'init', 'the model init');
      const m = init.model as Model;
      validateModel(m);
      if (m.k !== k) fail('init.model.k', `must equal the fit's k = ${k}`, m.k);
      if (m.d !== d) fail('init.model.d', `must equal the data's d = ${d}`, m.d);
      return { kind, model: m };
    }
    case 'near-truth': {
      rejectUnknownKeys(init, ['kind', 'truth', 'noise', 'noiseScale', 'assign', 'splitWeights', 'tau'], 'init', 'the near-truth init');
      const truth = init.truth as Model;
      validateModel(truth);
      if (truth.d !== d) fail('init.truth.d', `must equal the data's d = ${d}`, truth.d);
      if (truth.k > k) fail('init.truth.k', `must be ≤ the fit's k = ${k} (near-truth assigns every true atom a fitted one)`, truth.k);
      const out: InitOption = { kind, truth };
      if (init.noise !== undefined) out.noise = oneOf(init.noise, ['shrinking', 'fixed'] as const, 'init.noise');
      if (init.noiseScale !== undefined) out.noiseScale = nonNegative(init.noiseScale, 'init.noiseScale');
      if (init.assign !== undefined) out.assign = oneOf(init.assign, ['random', 'ordered'] as const, 'init.assign');
      if (init.splitWeights !== undefined) out.splitWeights = oneOf(init.splitWeights, ['divide', 'copy'] as const, 'init.splitWeights');
      if (init.tau !== undefined) out.tau = oneOf(init.tau, ['perturbed', 'truth'] as const, 'init.tau');
      return out;
    }
  }
}

/** Short description of an init option, for results and logs. */
export function describeInit(init: InitOption): string {
  switch (init.kind) {
    case 'near-truth':
      return `near-truth (noise ${init.noise ?? 'shrinking'}, scale ${init.noiseScale ?? 1}, assign ${init.assign ?? 'random'}, split ${init.splitWeights ?? 'divide'}, τ ${init.tau ?? 'perturbed'})`;
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
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) { const v = X[i * d + l]!; if (v < lo) lo = v; if (v > hi) hi = v; }
    if (lo === hi) fail(`data.X column x${l + 1}`, 'must not be constant (the gate and expert slopes on it are not identifiable)', `every value ${lo}`);
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
    if (cholesky(G, d, new Float64Array(d * d)) < 1e-12) fail('data.X', 'must have linearly independent columns (some column is a linear combination of the others)', `d = ${d}`);
  }
  if (variance(y) === 0) fail('data.y', 'must not be constant (the likelihood is unbounded)', `every value ${y[0]}`);
}

/**
 * Validates the options of {@link fitMoE} against the data and fills in the defaults.
 * @throws ValidationError naming the option, e.g. `k must be an integer ≥ 1. Value: 0`
 */
export function resolveFitOptions(data: Dataset, options: FitOptions): { resolved: ResolvedFitOptions; init: InitOption; gate: GateSpec } {
  if (!isRecord(options)) fail('options', 'must be an object', options);
  rejectUnknownKeys(options as unknown as Record<string, unknown>, OPTION_KEYS, '', 'the fit options');
  const k = integerAtLeast(options.k, 1, 'k');
  const gate = parseGateSpec(options.gate, k, 'gate');
  const init = checkInit(options.init ?? { kind: 'kmeans' }, k, data.d);
  const restarts = integerAtLeast(options.restarts ?? FIT_DEFAULTS.restarts, 1, 'restarts');
  const seed = checkSeed(options.seed ?? FIT_DEFAULTS.seed, 'seed');
  const tol = nonNegative(options.tol ?? FIT_DEFAULTS.tol, 'tol');
  const absTol = nonNegative(options.absTol ?? FIT_DEFAULTS.absTol, 'absTol');
  const maxIter = integerAtLeast(options.maxIter ?? FIT_DEFAULTS.maxIter, 0, 'maxIter');
  const varianceFloor = positive(options.varianceFloor ?? FIT_DEFAULTS.varianceFloorRelative * variance(data.y), 'varianceFloor');
  const minResponsibility = nonNegative(options.minResponsibility ?? data.d + 1, 'minResponsibility');
  const tauMode = oneOf(options.tauMode ?? FIT_DEFAULTS.tauMode, ['free', 'fixed'] as const, 'tauMode');
  const backend = isBackend(options.backend) ? options.backend.name : oneOf(options.backend ?? FIT_DEFAULTS.backend, ['cpu', 'gpu', 'auto'] as const, 'backend');
  const accelerate = oneOf(options.accelerate ?? FIT_DEFAULTS.accelerate, ['squarem', 'none'] as const, 'accelerate');
  const wasm = options.wasm ?? FIT_DEFAULTS.wasm;
  if (typeof wasm !== 'boolean') fail('wasm', 'must be true or false', options.wasm);
  const gateMaxSteps = integerAtLeast(options.gateMaxSteps ?? FIT_DEFAULTS.gateMaxSteps, 1, 'gateMaxSteps');
  const gateTol = nonNegative(options.gateTol ?? FIT_DEFAULTS.gateTol, 'gateTol');
  if (options.diagnostics !== undefined && typeof options.diagnostics !== 'boolean') fail('diagnostics', 'must be true or false', options.diagnostics);
  if (options.onIteration !== undefined && typeof options.onIteration !== 'function') fail('onIteration', 'must be a function', options.onIteration);
  if ((init.kind === 'kmeans' || init.kind === 'auto' || init.kind === 'softmax-first') && data.n < k) fail('data.n', `must be ≥ k = ${k} for the kmeans init`, data.n);
  return {
    resolved: {
      gate, k, init: describeInit(init), restarts, seed, tol, absTol, maxIter, varianceFloor, minResponsibility, tauMode,
      backend: backend === 'cpu' ? 'cpu' : 'gpu', accelerate, wasm, gateMaxSteps, gateTol,
    },
    init,
    gate,
  };
}
