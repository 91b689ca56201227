/**
 * The data-parallel work of a fit, behind one small interface so that a GPU backend can take it
 * over: per-sample gate probabilities, log-densities, responsibilities and log-likelihoods, the
 * gate objective's value / gradient / curvature sums, and the experts' weighted sums.
 * The EM loop, the optimisers and the gate logic stay on the CPU and call only these.
 *
 * All matrices are n × k (or n × d) row-major Float64Arrays; sums that decide convergence are
 * accumulated in Float64. A backend allocates nothing per call once created (scratch of size k
 * may grow when k grows).
 */
import type { Model } from '../../models/types.js';

export type BackendName = 'cpu' | 'gpu';

/** Where a gate's free parameters sit in the optimiser's vector (−1: fixed). */
export interface GateLayout {
  k: number;
  d: number;
  /** number of free parameters */
  p: number;
  /** index of β0_j, or −1 when fixed */
  b0Index: Int32Array;
  /** index of β1_{j,0} (β1_{j,l} at +l), or −1 when β1_j is fixed */
  b1Index: Int32Array;
  /** index of log τ, or −1 when τ is fixed or absent */
  tauIndex: number;
  /** logits linear in (β0, β1) with unit coefficients (softmax, top-K): the derivative arrays are not read */
  linear: boolean;
}

/** Per-expert weighted moments for the experts' M-step (weights = responsibilities). */
export interface ExpertMoments {
  /** N_j = Σ_i r_ij (k) */
  N: Float64Array;
  /** weighted means of x (k × d) */
  xbar: Float64Array;
  /** weighted means of y (k) */
  ybar: Float64Array;
  /** centred Σ_i r_ij (x_i − x̄_j)(x_i − x̄_j)ᵀ (k × d × d, full symmetric) */
  Sxx: Float64Array;
  /** centred Σ_i r_ij (x_i − x̄_j)(y_i − ȳ_j) (k × d) */
  Sxy: Float64Array;
  /**
   * centred Σ_i r_ij (y_i − ȳ_j)² (k) — optional output: a backend that does not compute it leaves
   * NaN (the caller fills it with NaN first), and the experts' M-step then makes a residual pass
   */
  Syy: Float64Array;
  /**
   * true when xbar/ybar hold the means of the previous call on the same data, which a backend may
   * use as shifts for a one-pass computation (the CPU backend sets it; the caller resets it to
   * false at the start of each EM run, so that no run depends on another's history)
   */
  shifted?: boolean;
}

export function expertMoments(k: number, d: number): ExpertMoments {
  return {
    N: new Float64Array(k),
    xbar: new Float64Array(k * d),
    ybar: new Float64Array(k),
    Sxx: new Float64Array(k * d * d),
    Sxy: new Float64Array(k * d),
    Syy: new Float64Array(k).fill(NaN),
  };
}

/**
 * Optional by-products of an E-step: q = Σ_ij r_ij log π_ij at the new responsibilities (the gate
 * M-step's starting value; a backend that does not compute it leaves NaN, which the caller sets
 * first, and the caller falls back to gateQ).
 */
export interface EStepStats {
  q: number;
}

/** What the top-K mask does in {@link Backend.gateProbs}. */
export type MaskMode = 'none' | 'compute' | 'fixed';

/** Storage for a fit's n × k buffers and data (see {@link Backend.fitStorage}); zeroed arrays. */
export interface BufferStore {
  alloc(len: number): Float64Array;
  allocU8(len: number): Uint8Array;
  /** a copy of `src` in the store */
  copy(src: Float64Array): Float64Array;
  /**
   * The fit is done with the store: its memory may serve the next fit's store. The caller must keep no
   * array of it (results hold copies). Optional; without it the memory is left to the garbage collector.
   */
  release?(): void;
}

export interface Backend {
  readonly name: BackendName;
  /**
   * Where a fit with k experts and d features keeps its n × k buffers and data: a backend whose fast
   * kernels need them in its own memory (the CPU backend's SIMD arena) returns a store with room for
   * Float64Arrays of lengths `lengths.f64` and Uint8Arrays of `lengths.u8`. Absent, or null: plain arrays.
   */
  fitStorage?(k: number, d: number, lengths: { f64: number[]; u8: number[] }): BufferStore | null;
  /**
   * Gate log-probabilities and probabilities at model m (n × k each).
   * maskMode 'none': dense softmax; 'compute': recompute the top-K active set of m into `mask`
   * (ranking by m.gate.selectOn) and normalise over it; 'fixed': normalise over the given mask.
   * Inactive experts get logPi = −Infinity and pi = 0.
   * @param resp when given, Q = Σ_ij r_ij log π_ij is accumulated in the same pass (as {@link gateQ})
   * @returns Q when resp is given, else NaN
   */
  gateProbs(
    m: Model,
    X: Float64Array,
    n: number,
    logPi: Float64Array,
    pi: Float64Array,
    mask: Uint8Array | null,
    maskMode: MaskMode,
    resp?: Float64Array,
  ): number;
  /**
   * E-step: responsibilities r_ij = π_ij N(y_i; a_j·x_i + b_j, ν_j) / p(y_i | x_i) into `resp`
   * (n × k) from the gate log-probabilities `logPi`, with each row normalised by log-sum-exp.
   * @param stats optional by-products (see {@link EStepStats})
   * @returns Σ_i log p(y_i | x_i) (−Infinity or NaN when some sample has no finite density)
   */
  eStep(
    m: Model,
    X: Float64Array,
    y: Float64Array,
    n: number,
    logPi: Float64Array,
    resp: Float64Array,
    stats?: EStepStats,
  ): number;
  /** Σ_i log p(y_i | x_i) from `logPi` and the experts of m, without writing responsibilities. */
  logLik(m: Model, X: Float64Array, y: Float64Array, n: number, logPi: Float64Array): number;
  /**
   * Σ_i log p(y_i | x_i) of a softmax (linear, unmasked) gate's model in one pass, nothing written;
   * undefined where no fused kernel covers the model (callers take gateProbs and logLik).
   */
  softmaxLogLik?(m: Model, X: Float64Array, y: Float64Array, n: number): number | undefined;
  /**
   * Σ_i log p(y_i | x_i) of a top-K model, the active sets recomputed, in one pass: the value of
   * gateProbs(…, 'compute') then logLik on those log π, bit for bit. With `write`, logPi, pi and mask
   * hold what that gateProbs writes; without, their contents afterwards are unspecified. undefined where
   * no fused kernel covers the call (callers take gateProbs and logLik).
   */
  topkLogLik?(
    m: Model,
    X: Float64Array,
    y: Float64Array,
    n: number,
    logPi: Float64Array,
    pi: Float64Array,
    mask: Uint8Array,
    write: boolean,
  ): number | undefined;
  /** Q = Σ_ij r_ij log π_ij (terms with r_ij = 0 skipped); −Infinity when some r_ij > 0 has π_ij = 0. */
  gateQ(resp: Float64Array, logPi: Float64Array, n: number, k: number): number;
  /**
   * Gradient of Q over the free gate parameters (layout) and its Gauss–Newton curvature
   * C = Σ_i R_i J_iᵀ(diag π_i − π_i π_iᵀ)J_i (R_i = Σ_j r_ij, J_i = ∂s_i/∂θ), which is −∇²Q
   * exactly for gates whose logits are linear in θ. dB0/dU/dTau are the Gate.logitDerivs
   * coefficients (ignored when layout.linear); tau is the current τ (log-τ parameterisation).
   * curv null: the gradient only (a cheaper pass, for convergence checks).
   */
  gateGradCurv(
    layout: GateLayout,
    X: Float64Array,
    n: number,
    resp: Float64Array,
    pi: Float64Array,
    dB0: Float64Array,
    dU: Float64Array,
    dTau: Float64Array,
    tau: number,
    grad: Float64Array,
    curv: Float64Array | null,
  ): void;
  /**
   * Rounding resolution of the total returned by the last eStep or logLik call: a change of the
   * log-likelihood below it is rounding noise, not progress, and the EM loop stops there.
   * Absent (or 0) for Float64 backends.
   */
  logLikResolution?(): number;
  /**
   * Rounding resolution of Q = Σ r log π computed from the gate probabilities of the last
   * gateProbs call: the gate M-step does not chase predicted gains below it. Absent (or 0) for
   * Float64 backends.
   */
  gateQResolution?(): number;
  /** Per-expert weighted moments (two passes: means, then centred cross-products). */
  expertMoments(
    X: Float64Array,
    y: Float64Array,
    n: number,
    d: number,
    k: number,
    resp: Float64Array,
    out: ExpertMoments,
  ): void;
  /** out_j = Σ_i r_ij (y_i − a_j·x_i − b_j)² (k) at the experts of m. */
  expertResiduals(m: Model, X: Float64Array, y: Float64Array, n: number, resp: Float64Array, out: Float64Array): void;
}
