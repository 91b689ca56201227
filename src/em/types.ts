/**
 * Public types of the EM fitter: options, initialisations and results.
 */
import type { GateSpec, GateSpecInput, Model } from '../models/types.js';
import type { Backend } from './backend/types.js';
import type { Bounds } from './bounds.js';

/**
 * How the EM starts.
 * - `near-truth`: the authors' scheme (THEORY.md §6): each fitted atom is assigned to a true atom,
 *   then perturbed with Gaussian noise of sd 0.005·n^-0.083 (gate), 0.05·n^-0.083 (experts) and
 *   variance + |N(0, (0.005·n^-0.25)²)|; see {@link NearTruthInit}.
 * - `kmeans`: k-means++ (seeded) on the standardised (x, y), then one M-step from the hard labels.
 * - `random`: a uniformly random partition of the samples, then one M-step from it.
 * - `model`: start from explicit parameters (same k and d as the fit).
 * - `softmax-first`: fit the softmax gate from a `from` start (default kmeans), then start the
 *   fit's own gate from it (src/em/init/continuation.ts); the same as `from` for a softmax fit.
 * - `auto`: start r draws its family from {@link autoFamilies} in turn (softmax-first from k-means
 *   and from random partitions, plain k-means, plain random partitions); see docs/fitting.md.
 */
export type InitOption =
  | NearTruthInit
  | { kind: 'kmeans' }
  | { kind: 'random' }
  | { kind: 'model'; model: Model }
  | { kind: 'softmax-first'; from?: 'kmeans' | 'random' }
  | { kind: 'auto' };

/** The start of one EM run, as recorded per start: a data-driven family, or the option's own kind. */
export type StartFamily = 'kmeans' | 'random' | 'softmax-kmeans' | 'softmax-random' | 'near-truth' | 'model';

export interface NearTruthInit {
  kind: 'near-truth';
  /** the true model (k* ≤ k experts, same d) */
  truth: Model;
  /** 'shrinking' (default, the authors'): sds as above with the fit's n; 'fixed': the same sds with n = 1 */
  noise?: 'shrinking' | 'fixed';
  /** multiplies every noise sd (default 1; 0 starts exactly at the assigned atoms) */
  noiseScale?: number;
  /**
   * 'random' (default, the authors' code): fitted atoms 1..k−1 get uniformly random true atoms,
   * the last fitted atom the reference (last) true atom, redrawn until every true atom is used.
   * 'ordered': fitted atom i < k*−1 gets true atom i, all others the reference true atom.
   * A list gives fitted atom i true atom assign[i] (0-based; every true atom used, the last the reference).
   */
  assign?: 'random' | 'ordered' | number[];
  /**
   * 'divide' (default): the m copies of a true atom get β0* − log m, so that their mixing
   * weights add up to the true one (β0* − τ*·log m for the identity with the bias inside, whose
   * log-weight is β0/τ; not applied with the bias inside another σ, or for top-K selecting on
   * the logit, where β0 also moves the selection). 'copy': they keep β0* (the authors' code).
   */
  splitWeights?: 'divide' | 'copy';
  /**
   * τ's start when τ is free: 'perturbed' (default) τ*·exp(sd·z) with the gate's noise sd and one
   * more draw after all the others; 'truth': τ* itself (the authors' code has no τ noise [U]).
   * τ* is the truth's τ (1 when it has none). With the identity activation the density does not
   * identify the position along (β1, τ) → (cβ1, cτ) and the M-step keeps τ where it starts: an
   * unperturbed start would then report τ exactly right and β1 converging as n^-1/2, which the
   * data do not say.
   */
  tau?: 'perturbed' | 'truth';
}

/** Relative and absolute stopping rule; see {@link FitOptions.tol}. */
export interface FitOptions {
  /** the gate to fit (kind and options; selectOn and bias default to slope and outside) */
  gate: GateSpecInput;
  /** number of experts, ≥ 1 */
  k: number;
  /** initialisation (default kmeans) */
  init?: InitOption;
  /** number of starts (default 1); start r uses seed deriveSeed(seed, r) and the best log-likelihood wins */
  restarts?: number;
  /**
   * More starts while the best optimum is not settled (off by default): after the `restarts` starts, start
   * restarts, restarts + 1, … run (same seeds and families as with more restarts) until some start other
   * than the best ends at the best optimum (within FitResult.optimumTol nats) or `restartsMax` starts have
   * run. Why: a best that one start alone reached may not be the maximum likelihood estimate (topk-over's
   * full size: 8 of 10 cells of its first share, docs/experiments.md). Integer ≥ restarts.
   */
  restartsMax?: number;
  /** master seed, integer in [1, 2^32 − 1] (default 1) */
  seed?: number;
  /**
   * Relative tolerance (default 1e-10): stop when |L_t − L_{t−1}| ≤ tol·(|L_t| + 1e-12), where L_t is
   * the mean log-likelihood per sample after iteration t.
   */
  tol?: number;
  /** Absolute tolerance on the same mean log-likelihood change, in nats per sample (default 1e-13). */
  absTol?: number;
  /** maximum EM iterations (M-steps) per start (default 5000); 0 evaluates the initial model only */
  maxIter?: number;
  /** smallest allowed expert variance ν (default 1e-6 × the sample variance of y) */
  varianceFloor?: number;
  /** an expert with total responsibility Σ_i r_ij below this keeps its parameters (default d + 1) */
  minResponsibility?: number;
  /** 'free' (default): τ is estimated; 'fixed': τ stays at its initial value (temperature/activation gates) */
  tauMode?: 'free' | 'fixed';
  /**
   * 'free' (default): each expert its own variance ν_j; 'equal': one variance shared by all experts
   * (mixtools' arbvar = FALSE, flexmix's FLXMRglmfix(varFix = TRUE)): k − 1 fewer parameters, and the
   * likelihood is bounded (no expert can shrink onto a few samples).
   */
  variance?: 'free' | 'equal';
  /**
   * Data-parallel backend (default 'cpu'): 'cpu' is the Float64 reference; 'gpu' runs the
   * per-sample work in float32 through gpu.js on a real GPU and throws GpuUnavailableError when
   * there is none (no silent fallback); 'auto' uses the GPU only when there is a real one and
   * n·k ≥ AUTO_GPU_MIN_VALUES, else the CPU; a Backend object is used as it is.
   */
  backend?: 'cpu' | 'gpu' | 'auto' | Backend;
  /**
   * 'squarem' (default): SQUAREM extrapolation of the EM map (src/em/squarem.ts) — same fixed
   * points, log-likelihood still non-decreasing, far fewer iterations where EM crawls (over-specified
   * fits); 'none': plain EM, one M-step per iteration, as the papers' authors ran it.
   */
  accelerate?: 'squarem' | 'none';
  /**
   * CPU backend: run the WebAssembly SIMD kernels where they exist — 2 ≤ k ≤ 16, 1 ≤ d ≤ 8 (default true);
   * false: the plain JS kernels. Both are Float64 and deterministic; the per-sample values agree bit
   * for bit, sums over samples differ in their last bits (another order). The fit passes it to the
   * backend it creates (createCpuBackend({ simd })); a Backend object given as `backend` keeps its own.
   */
  wasm?: boolean;
  /** gate M-step: maximum Newton steps per EM iteration (default 100) */
  gateMaxSteps?: number;
  /** gate M-step: stop when the predicted gain of Q is ≤ gateTol per sample (default 1e-12) */
  gateTol?: number;
  /**
   * The compact parameter space of the theorems [U] (default: none, every parameter free):
   * |β1_jl| ≤ beta1 (per coordinate), |β0_j| ≤ beta0, ν_j ∈ nu, τ ∈ tau, on the normalised
   * parameters (reference expert's gate at 0); enforced on the start and in every M-step by
   * projection (src/em/bounds.ts). A fit that ends on a bound says so in its warnings.
   */
  bounds?: Bounds;
  /**
   * 'em' (default): EM (accelerated as `accelerate` says) until the relative tol stops it.
   * 'hybrid': EM/SQUAREM first, then, once an iteration gains less than `switchTol` nats per
   * sample (after at least 5 iterations), trust-region Newton steps on the observed log-likelihood
   * (exact gradient and Hessian, src/em/hybrid.ts); back to EM when 4 trust-region steps in a row
   * are refused. Stops by `stopRule`. See docs/fitting.md.
   */
  optimizer?: 'em' | 'hybrid';
  /**
   * 'decrement' (default with the hybrid): stop when the Newton decrement ½ gᵀ(−H)⁻¹g and the
   * gradient in the diagonal metric ½ Σ g_i²/|H_ii| are both ≤ decrementTol, −H positive definite
   * (stopReason 'newton-decrement'); 'tol': the relative / absolute tol on the log-likelihood's
   * change (stopReason 'converged'; the only rule of the 'em' optimizer).
   */
  stopRule?: 'decrement' | 'tol';
  /** hybrid: the Newton decrement threshold, in nats for the whole sample (default 1e-8) */
  decrementTol?: number;
  /**
   * hybrid: hand over to the trust region once an EM iteration gains ≤ switchTol nats per sample
   * (default 1e-5 where the exact Hessian is the WebAssembly kernel — softmax gate, k ≤ 8, d ≤ 4 —
   * whose cost is about one EM iteration; else 1e-6)
   */
  switchTol?: number;
  /**
   * stop a start that cannot overtake the best earlier start before its iteration cap: every
   * DOMINATED_WINDOW iterations, when even twice its gain rate over the last window, kept up to maxIter,
   * would leave it below that start (stopReason 'dominated'; its result would have been discarded).
   * Default true; it never changes which start is returned unless a crawl speeds up more than 2×.
   */
  dropDominated?: boolean;
  /**
   * Prefit every start on a subsample (an integer m ≥ 2; default off): start r is made as without it
   * (its family, its seed), fitted with these options on every m-th sample from sample r mod m, and the
   * fit of all samples starts where that one ended (RestartResult.prefit). Where an over-specified fit
   * walks long ridges before its optimum (n ≥ 1e4), the walk costs 1/m there, and the starts, each on its
   * own subsample, end at more distinct optima: demy, k = 3, n = 5e4–1e5, 20 data sets, the best of 5
   * prefit starts (m = 10) was higher than the best of 5 near-truth starts on 13, lower on 3–4, at 0.7–0.8×
   * the CPU (on temp-over's activation gates it costs more, not less: docs/fitting.md). The subsample
   * must have more samples than the fit has free parameters.
   */
  prefit?: number;
  /** compute the identifiability diagnostic of the returned fit (default false) */
  diagnostics?: boolean;
  /** called after every E-step (also the initial one: iteration 0) and every accepted trust-region step */
  onIteration?: (info: IterationInfo) => void;
}

/** What FitOptions.onIteration is told about each iteration of a start. */
export interface IterationInfo {
  restart: number;
  iteration: number;
  logLik: number;
  /** 'start': the initial model; 'em': an EM (or SQUAREM) iteration; 'trust-region': an accepted hybrid step */
  phase: 'start' | 'em' | 'trust-region';
  /** the trust-region step (phase 'trust-region') */
  step?: TrustRegionStepInfo;
}

/** An accepted trust-region step of the hybrid optimizer, in the scaled metric its trust region works in. */
export interface TrustRegionStepInfo {
  /** a Newton step inside the region (−H positive definite, the full step shorter than the radius) */
  newton: boolean;
  /** the radius the step was proposed in, and the step's length */
  radius: number;
  norm: number;
  /** the gain the quadratic model predicted, and ρ = actual gain / predicted (before any extension) */
  predicted: number;
  rho: number;
  /** the step was extended to α times its length (1: not extended) */
  alpha: number;
  /** steps refused since the last accepted one */
  refused: number;
}

/**
 * Why a run stopped: 'converged' (the relative / absolute tol on the log-likelihood's change),
 * 'newton-decrement' (hybrid: the Newton decrement and the gradient below decrementTol at a point
 * where −H is positive definite), 'no-progress' (hybrid: no trust-region or EM step can raise the
 * log-likelihood beyond its rounding, the decrement test not met), 'newton-crawl' (hybrid: the Newton
 * decrement falls only linearly, a runaway towards the parameter space's boundary; not converged),
 * 'dominated' (a start left behind by an earlier one: FitOptions.dropDominated), 'max-iterations', 'degenerate'.
 */
export type StopReason =
  'converged' | 'newton-decrement' | 'newton-crawl' | 'no-progress' | 'dominated' | 'max-iterations' | 'degenerate';

/** What the hybrid optimizer did and where it ended (FitResult.hybrid). */
export interface HybridInfo {
  /** iterations made by EM / SQUAREM, and accepted trust-region steps (their sum is `iterations`) */
  emIterations: number;
  newtonIterations: number;
  /** exact Hessians computed, trust-region steps refused, returns from the trust region to EM */
  hessians: number;
  refused: number;
  returnsToEm: number;
  /** ½ gᵀ(−H)⁻¹g at the returned model (nats); null when −H is not positive definite there */
  decrement: number | null;
  /** ½ Σ g_i²/|H_ii| at the returned model */
  gradientMetric: number;
  /** −H positive definite at the returned model (over the free parameters, active bounds held): a strict local maximum */
  negativeDefinite: boolean;
  /**
   * Top-K: the returned model lies on region boundaries, its switches pinned to samples where two experts'
   * logits tie (held equal in the last Newton steps; decrement and definiteness are those on those
   * boundaries), [active, inactive] per sample; empty otherwise
   */
  pinned: { sample: number; experts: [number, number] }[];
}

/** Summary of one start. */
export interface RestartResult {
  restart: number;
  seed: number;
  logLik: number;
  iterations: number;
  converged: boolean;
  stopReason: StopReason;
  warnings: string[];
  /** how this start was made */
  start: StartFamily;
  /** FitOptions.prefit: the subsample's fit this start began from */
  prefit?: { samples: number; logLik: number; iterations: number; stopReason: StopReason };
  /**
   * A softmax-first start of another gate: its two softmax fits (this start's own family first, then the
   * other), the higher carried over; `iterations` above counts only the fit that followed
   */
  softmaxFits?: { from: 'kmeans' | 'random'; logLik: number; iterations: number; stopReason: StopReason }[];
}

/** One distinct optimum among the starts (final log-likelihoods within {@link FitResult.optimumTol} of each other). */
export interface Optimum {
  /** the highest final log-likelihood of the group */
  logLik: number;
  /** how many starts ended there */
  count: number;
  /** the starts (0-based) that ended there */
  starts: number[];
}

/** One (numerically) flat direction of the gate objective at the fit. */
export interface FlatDirection {
  eigenvalue: number;
  /** unit vector over the free gate parameters, labelled as in `IdentifiabilityDiagnostic.params` */
  vector: number[];
}

export interface IdentifiabilityDiagnostic {
  /** labels of the free gate parameters, e.g. "beta0[0]", "beta1[0][0]", "tau" */
  params: string[];
  /** parameters held fixed to remove the gate's translation symmetries */
  fixed: string[];
  /** eigenvalues of the information matrix (−Hessian of Q at the fit), ascending */
  eigenvalues: number[];
  /** eigenvalue ≤ relTol × the largest */
  flat: FlatDirection[];
  relTol: number;
  /** what the matrix is */
  matrix: string;
}

export interface FitResult {
  /** fitted model (reference expert's gate fixed at 0 where the gate has translation symmetries) */
  model: Model;
  /** Σ_i log p(y_i | x_i) at the returned model */
  logLik: number;
  /** log-likelihood (sum over samples) after each E-step of the best start, starting with the initial model */
  trace: number[];
  /** EM iterations (M-steps) of the best start */
  iterations: number;
  converged: boolean;
  stopReason: StopReason;
  /** number of starts run (more than options.restarts when restartsMax added some) */
  restarts: number;
  /** final log-likelihood of every start (−Infinity for a start that failed) */
  restartLogLiks: number[];
  /** per-start summaries */
  restartResults: RestartResult[];
  /** index of the start returned */
  bestRestart: number;
  /**
   * Distinct optima among the finite starts, best first: starts whose final log-likelihoods lie
   * within optimumTol of the group's best count as one optimum.
   */
  optima: Optimum[];
  /** nats within which two starts count as the same optimum */
  optimumTol: number;
  /** wall time of the whole fit, seconds */
  seconds: number;
  /** warnings of the returned start (each once, with a count when repeated) and of the fit as a whole */
  warnings: string[];
  /** the backend that ran the fit */
  backend: 'cpu' | 'gpu';
  /** the resolved options (defaults filled in) */
  options: ResolvedFitOptions;
  /** identifiability diagnostic when options.diagnostics is true */
  diagnostics?: IdentifiabilityDiagnostic;
  /** optimizer 'hybrid': phases, Hessians, and the Newton decrement / definiteness at the end */
  hybrid?: HybridInfo;
}

/** Options with every default filled in (without the callback and the init model). */
export interface ResolvedFitOptions {
  gate: GateSpec;
  k: number;
  init: string;
  restarts: number;
  seed: number;
  tol: number;
  absTol: number;
  maxIter: number;
  varianceFloor: number;
  minResponsibility: number;
  tauMode: 'free' | 'fixed';
  backend: 'cpu' | 'gpu';
  accelerate: 'squarem' | 'none';
  wasm: boolean;
  gateMaxSteps: number;
  gateTol: number;
  optimizer: 'em' | 'hybrid';
  stopRule: 'decrement' | 'tol';
  decrementTol: number;
  dropDominated: boolean;
  /** null: FIT_DEFAULTS.switchTolFastHessian where the exact Hessian is a WebAssembly kernel, else switchTol */
  switchTol: number | null;
  /** present only when the fit was given bounds */
  bounds?: Bounds;
  /** present only when the starts are prefitted (FitOptions.prefit) */
  prefit?: number;
  /** present only when set (FitOptions.restartsMax) */
  restartsMax?: number;
  /** present only when 'equal' (FitOptions.variance): results of free-variance fits keep their shape */
  variance?: 'equal';
}
