/**
 * The Gate interface: each gate kind turns (model, X) into logits and log gate
 * probabilities, gives the derivatives of its logits with respect to its own parameters,
 * and describes its symmetries so that losses and diagnostics need not special-case names.
 *
 * Every gate's logit for expert j depends on the gate parameters only through
 * (β0_j, u_ij = β1_j·x_i, τ), so three n × k coefficient arrays describe its Jacobian:
 *   ∂s_ij/∂β0_j = dB0[i*k+j],  ∂s_ij/∂β1_j = dU[i*k+j] · x_i,  ∂s_ij/∂τ = dTau[i*k+j].
 */
import type { ActivationDescriptor } from '../../math/activations.js';
import type { GateKind, GateSpec, Model } from '../types.js';

export interface GateSymmetries {
  /** π unchanged by β0_j → β0_j + t0 for all j */
  translationBeta0: boolean;
  /** π unchanged by β1_j → β1_j + t1 for all j */
  translationBeta1: boolean;
  /** π unchanged by (β1, τ) → (cβ1, cτ) for every c > 0 */
  scaling: boolean;
  /** π unchanged by (β0, β1, τ) → c(β0, β1, τ) for every c > 0 (τ where the gate has one) */
  scalingWithBias: boolean;
}

/** An exponent rule of the Voronoi losses: a fixed number, or `{ r: f }` meaning f · r̄(m). */
export type ExponentRule = number | { r: number };

/**
 * Multi-atom (m ≥ 2) exponent rules per expert parameter, and the exponent of the global
 * temperature term |τ − τ*| (added once, not per cell; first order by default).
 */
export interface ExponentTable {
  beta1: ExponentRule;
  a: ExponentRule;
  b: ExponentRule;
  nu: ExponentRule;
  tau: number;
}

/**
 * How the gate's logits are built, which picks its M-step and its kernels:
 * linear β1·x + β0 (softmax), linear with a top-K mask (masked), or σ(β1·x)/τ + β0 (activation).
 */
export type GateForm = 'linear' | 'masked' | 'activation';

/** What parsing a gate spec needs besides the raw object. */
export interface GateParseContext {
  /** number of experts (bounds K) */
  k: number;
  /** how `k` is named in messages ("k" in files, "--k" on the command line) */
  kName: string;
  /** the message name of a field of the spec, e.g. `gate.K` or `--select-on` */
  field(key: string): string;
  /** no defaults: a missing optional field is an error (a Model must carry its normalised spec) */
  strict: boolean;
}

/** The command-line context of `--gate kind[:arg...]`. */
export interface GateCliContext {
  /** --select-on, when given */
  selectOn?: string;
  /** --bias */
  bias: string;
  /** the gate of the init model, when there is one (its top-K ranking is the default) */
  init?: GateSpec;
}

/** The σ of a gate whose logits go through an activation, and where its bias sits. */
export interface GateActivation {
  act: ActivationDescriptor;
  /** bias inside σ: σ(β1·x + β0)/τ */
  inside: boolean;
}

export interface Gate {
  readonly kind: GateKind;
  readonly form: GateForm;
  /** the gate carries a temperature τ */
  readonly hasTau: boolean;
  /** default Voronoi exponent table (THEORY.md §4) */
  readonly exponents: ExponentTable;
  /**
   * A normalised spec from a raw object whose `kind` is this gate's (model file or fit options);
   * messages name fields through ctx.field. @throws ValidationError
   */
  parse(raw: Record<string, unknown>, ctx: GateParseContext): GateSpec;
  /** The model-file object of a spec. */
  toJSON(spec: GateSpec): Record<string, unknown>;
  /** `--gate` syntax, e.g. `topk:K` */
  readonly cliSyntax: string;
  /** `--gate` message names of the spec's fields (e.g. K → `--gate topk:K`) */
  cliField(key: string): string;
  /**
   * The raw spec of `--gate kind:args...` (validated by parse afterwards), or undefined when
   * the arguments do not fit the syntax.
   */
  fromCli(args: readonly string[], ctx: GateCliContext): Record<string, unknown> | undefined;
  /** The spec as `--gate` writes it, e.g. `topk:1:logit`, `activation:tanh (bias outside)`. */
  cliString(spec: GateSpec): string;
  /** Short human description, e.g. `topk K=1 on logit`. */
  describe(spec: GateSpec): string;
  /** The family a fit must share with its truth for a Voronoi loss, e.g. `activation(tanh, bias inside)`. */
  family(spec: GateSpec): string;
  /** The number K of active experts the Voronoi loss restricts to by default, or false. */
  lossTopK(spec: GateSpec): number | false;
  /** masked form: the number of active experts and the ranking score */
  selection?(spec: GateSpec): { K: number; selectOn: 'slope' | 'logit' };
  /** activation form: σ and the bias position (the temperature gate: identity, bias outside) */
  activation?(spec: GateSpec): GateActivation;
  /**
   * activation form: σ is the user's choice (the activation gate), not fixed by the gate (the
   * temperature gate: identity with the bias outside, the softmax gate itself at τ = 1). A
   * softmax-first start then reads σ's scale off the softmax fit and is polished (init/), and the
   * fit's ending is checked for collapsed and stepped gate rows (em/endings.ts).
   */
  readonly userActivation?: boolean;
  /** β0_j is an additive log-weight of expert j (splitting an atom may subtract log m from it) */
  biasIsLogWeight(spec: GateSpec): boolean;
  /** Writes the logits s (n × k). For top-K these are the full logits before selection. */
  logits(m: Model, X: Float64Array, n: number, out: Float64Array): void;
  /** Writes log π (n × k), normalised per row by log-sum-exp; inactive top-K experts get −Infinity. */
  logProbs(m: Model, X: Float64Array, n: number, out: Float64Array): void;
  /** Writes the logit Jacobian coefficients (see module doc). */
  logitDerivs(m: Model, X: Float64Array, n: number, dB0: Float64Array, dU: Float64Array, dTau: Float64Array): void;
  /** Symmetries of this gate configuration. */
  symmetries(spec: GateSpec): GateSymmetries;
  /**
   * The gate parameters the likelihood can identify with k ≥ 2 experts in d dimensions, from the
   * `free` ones the M-step optimises (see parameterCount in count.ts): free minus the flat
   * directions this gate has, and one sentence saying how it was counted.
   */
  identifiable(spec: GateSpec, k: number, d: number, free: number, tauFree: boolean): IdentifiableCount;
}

/** A descriptor's identifiable gate-parameter count. */
export interface IdentifiableCount {
  count: number;
  /** how it was counted, e.g. `(k − 1)(d + 1) = 2, reference expert 1 fixed at β0 = 0, β1 = 0` */
  convention: string;
}

/** In place: each row of s (n × k) becomes its log-softmax. Entries of −Infinity stay −Infinity. */
export function logSoftmaxRows(s: Float64Array, n: number, k: number): void {
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) if (s[o + j]! > mx) mx = s[o + j]!;
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(s[o + j]! - mx);
    // (s − max) − log Σ rather than s − (max + log Σ): with logits ~1000 the latter loses ~1e-13 to cancellation
    const ls = Math.log(sum);
    for (let j = 0; j < k; j++) s[o + j] = s[o + j]! - mx - ls;
  }
}

/** u_ij = β1_j·x_i into out (n × k). */
export function slopeScores(m: Model, X: Float64Array, n: number, out: Float64Array): void {
  const { k, d, beta1 } = m;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    for (let j = 0; j < k; j++) {
      let u = 0;
      const bo = j * d;
      for (let l = 0; l < d; l++) u += beta1[bo + l]! * X[xo + l]!;
      out[i * k + j] = u;
    }
  }
}
