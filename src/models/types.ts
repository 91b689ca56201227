/**
 * The one model type for every gate: a k-expert Gaussian mixture of linear experts,
 *   p(y | x) = Σ_j π_j(x) N(y; a_j·x + b_j, ν_j)   (ν_j is a variance),
 * whose gate π is softmax, top-K sparse softmax, temperature or activation dense-to-sparse.
 * Matrices are row-major Float64Arrays: beta1[j*d + l] is β1_{j,l}.
 */
import type { Activation } from '../math/activations.js';
import { hasTau } from './gates/index.js';
import { parseGateSpec } from './validate.js';

export const GATE_KINDS = Object.freeze(['softmax', 'topk', 'temperature', 'activation'] as const);
export type GateKind = (typeof GATE_KINDS)[number];

export interface SoftmaxGateSpec {
  kind: 'softmax';
}
export interface TopKGateSpec {
  kind: 'topk';
  /** number of active experts, 1 ≤ K ≤ k */
  K: number;
  /** rank experts by the slope score β1_j·x ("slope", default) or by the full logit β1_j·x + β0_j ("logit") */
  selectOn: 'slope' | 'logit';
}
export interface TemperatureGateSpec {
  kind: 'temperature';
}
export interface ActivationGateSpec {
  kind: 'activation';
  activation: Activation;
  /** s_j = σ(β1_j·x)/τ + β0_j ("outside", default) or σ(β1_j·x + β0_j)/τ ("inside") */
  bias: 'outside' | 'inside';
}
export type GateSpec = SoftmaxGateSpec | TopKGateSpec | TemperatureGateSpec | ActivationGateSpec;
/**
 * A gate spec as the library's inputs take it (fitMoE, selectK, modelFromParams): `selectOn` and `bias`
 * may be left out for their defaults, as in a model file; models and results carry the full GateSpec.
 */
export type GateSpecInput =
  | SoftmaxGateSpec
  | (Omit<TopKGateSpec, 'selectOn'> & Partial<Pick<TopKGateSpec, 'selectOn'>>)
  | TemperatureGateSpec
  | (Omit<ActivationGateSpec, 'bias'> & Partial<Pick<ActivationGateSpec, 'bias'>>);

export interface Model {
  gate: GateSpec;
  /** number of experts */
  k: number;
  /** input dimension */
  d: number;
  /** gate intercepts, length k */
  beta0: Float64Array;
  /** gate slopes, k × d row-major */
  beta1: Float64Array;
  /** expert slopes, k × d row-major */
  a: Float64Array;
  /** expert intercepts, length k */
  b: Float64Array;
  /** expert variances (not standard deviations), length k, all > 0 */
  nu: Float64Array;
  /** temperature τ > 0 for the temperature and activation gates; 1 (and unused) otherwise */
  tau: number;
}

/** n samples: X is n × d row-major, y has length n. */
export interface Dataset {
  n: number;
  d: number;
  X: Float64Array;
  y: Float64Array;
}

/** True when the gate kind carries a temperature τ (its descriptor says). */
export { hasTau };

/** Deep copy of a model (fresh arrays). */
export function cloneModel(m: Model): Model {
  return {
    gate: { ...m.gate },
    k: m.k,
    d: m.d,
    beta0: Float64Array.from(m.beta0),
    beta1: Float64Array.from(m.beta1),
    a: Float64Array.from(m.a),
    b: Float64Array.from(m.b),
    nu: Float64Array.from(m.nu),
    tau: m.tau,
  };
}

/** The same model with its experts reordered: expert j of the result is m's expert perm[j] (π and the density unchanged). */
export function permuteExperts(m: Model, perm: ArrayLike<number>): Model {
  const out = cloneModel(m);
  const { d } = m;
  for (let j = 0; j < m.k; j++) {
    const src = perm[j]!;
    out.beta0[j] = m.beta0[src]!;
    out.b[j] = m.b[src]!;
    out.nu[j] = m.nu[src]!;
    for (let l = 0; l < d; l++) {
      out.beta1[j * d + l] = m.beta1[src * d + l]!;
      out.a[j * d + l] = m.a[src * d + l]!;
    }
  }
  return out;
}

/** Copies src's parameter values into dst's arrays (same k and d; the gate spec is not touched). */
export function copyParams(src: Model, dst: Model): void {
  dst.beta0.set(src.beta0);
  dst.beta1.set(src.beta1);
  dst.a.set(src.a);
  dst.b.set(src.b);
  dst.nu.set(src.nu);
  dst.tau = src.tau;
}

/** Plain-array parameters, as used by JSON files and constructors. */
export interface ModelParams {
  beta0: number[];
  beta1: number[][];
  a: number[][];
  b: number[];
  nu: number[];
  /** τ > 0 of a gate with a temperature (temperature, activation; default 1, where the temperature gate is the softmax); ignored by the others */
  tau?: number;
}

/**
 * k = beta0's length and d = beta1[0]'s: every other array must agree (a mismatch built a model whose
 * arrays disagreed with its k and d, read as NaN or past the end later, far from the call).
 */
function checkParamShapes(p: ModelParams, k: number, d: number): void {
  const bad = (field: string, want: string, got: string) => {
    throw new Error(`modelFromParams: ${field} must have ${want}. Value: ${got}`);
  };
  if (k < 1) bad('beta0', 'at least one entry (k ≥ 1)', 'length 0');
  if (d < 1) bad('beta1[0]', 'at least one entry (d ≥ 1)', 'length 0');
  for (const [field, v] of [
    ['b', p.b],
    ['nu', p.nu],
  ] as const)
    if (v.length !== k) bad(field, `length k = ${k} (beta0's)`, `length ${v.length}`);
  for (const [field, rows] of [
    ['beta1', p.beta1],
    ['a', p.a],
  ] as const) {
    if (rows.length !== k) bad(field, `k = ${k} rows (beta0's length)`, `${rows.length} rows`);
    rows.forEach((row, j) => {
      if (row.length !== d) bad(`${field}[${j}]`, `length d = ${d} (beta1[0]'s)`, `length ${row.length}`);
    });
  }
}

/** Builds a Model from nested arrays: checks the shapes and the gate spec (filling its defaults), not the values (validate.ts). */
export function modelFromParams(gate: GateSpecInput, p: ModelParams): Model {
  const k = p.beta0.length;
  const d = p.beta1[0]?.length ?? 0;
  checkParamShapes(p, k, d);
  const flat = (rows: number[][]) => Float64Array.from(rows.flat());
  return {
    // defaults filled in as fitMoE fills them ({ kind: 'topk', K: 1 } → selectOn 'slope'): simulate and
    // predictMoE refused the model built from the spec that fitMoE had taken
    gate: parseGateSpec(gate, k),
    k,
    d,
    beta0: Float64Array.from(p.beta0),
    beta1: flat(p.beta1),
    a: flat(p.a),
    b: Float64Array.from(p.b),
    nu: Float64Array.from(p.nu),
    tau: p.tau ?? 1,
  };
}

/** Nested-array view of a model's parameters (inverse of modelFromParams). */
export function modelToParams(m: Model): ModelParams {
  const rows = (v: Float64Array) =>
    Array.from({ length: m.k }, (_, j) => Array.from(v.subarray(j * m.d, (j + 1) * m.d)));
  const p: ModelParams = {
    beta0: Array.from(m.beta0),
    beta1: rows(m.beta1),
    a: rows(m.a),
    b: Array.from(m.b),
    nu: Array.from(m.nu),
  };
  if (hasTau(m.gate)) p.tau = m.tau;
  return p;
}
