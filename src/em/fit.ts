/**
 * fitMoE: maximum-likelihood fitting of a Gaussian MoE by EM, for every gate kind.
 *
 * The loop (after scikit-learn's BaseMixture.fit_predict and flexmix's FLXfit) owns the
 * iterations, the stopping rule, the trace, the restarts and the warnings; it knows nothing of
 * any particular gate. One iteration t = 1, 2, …:
 *   E-step  r_ij ∝ π_j(x_i) N(y_i; a_j·x_i + b_j, ν_j) (log-sum-exp per sample), L_t = Σ_i log p(y_i|x_i)
 *   stop?   |ℓ_t − ℓ_{t−1}| ≤ tol·(|ℓ_t| + 1e-12) or ≤ absTol, with ℓ_t = L_t / n (mean per sample)
 *   M-step  experts (weighted least squares, variance floor), then the gate's own M-step.
 * Every M-step increases (or keeps) the EM auxiliary function, so L_t never decreases
 * (up to rounding); a non-finite L_t stops the run with stopReason 'degenerate', a warning, and
 * the last finite parameters.
 */
import { parameterCount } from '../models/gates/count.js';
import { getGate, isMasked, scaledLinearBias, scalingOrbit } from '../models/gates/index.js';
import { cloneModel, copyParams, type Dataset, type GateSpec, type Model } from '../models/types.js';
import { fail } from '../models/validate.js';
import { createRng } from '../random/rng.js';
import { deriveSeed } from '../random/seed.js';
import { createBackend } from './backend/index.js';
import type { Backend, EStepStats } from './backend/types.js';
import { diagnoseIdentifiability } from './diagnostics.js';
import { createExpertsMStep, type ExpertsMStep } from './experts.js';
import {
  gateLayout,
  gateMStepFor,
  normalizeGate,
  type GateLayoutInfo,
  type GateMStep,
  type GateMStepContext,
} from './gates/index.js';
import { initialModel } from './init/index.js';
import { continueFromSoftmax } from './init/continuation.js';
import { polishGate } from './init/polish.js';
import { familyInit, startFamily } from './init/starts.js';
import { distinctOptima, endingWarnings, OPTIMUM_TOL, singleBestWarning, type EndingDensities } from './endings.js';
import { checkFitData, FIT_DEFAULTS, resolveFitOptions } from './options.js';
import { boundsReached, describeBounds, projectToBounds, type Bounds } from './bounds.js';
import type {
  FitOptions,
  FitResult,
  InitOption,
  Optimum,
  ResolvedFitOptions,
  RestartResult,
  HybridInfo,
  StartFamily,
  StopReason,
  TrustRegionStepInfo,
} from './types.js';
import { packParams, SquaremStep, squaremLength, unpackParams } from './squarem.js';
import { softmaxProxyModel, writeSoftmaxProxy } from './gates/softmax-proxy.js';
import {
  CrawlWatch,
  HYBRID_CRAWL_STEPS,
  HYBRID_MAX_MIN_EM,
  HYBRID_MAX_REFUSALS,
  HYBRID_MIN_EM,
  NewtonPhase,
  type NewtonAttempt,
} from './hybrid.js';
import { WarningLog } from './warnings.js';
import { xScaleWarnings } from './x-scale.js';
import { createWorkspace, workspaceArenaLengths, type Workspace } from './workspace.js';

/** An accepted trust-region step as onIteration reports it. */
function stepInfo(a: NewtonAttempt, refused: number): TrustRegionStepInfo {
  const { step } = a;
  return {
    newton: step.newton,
    radius: a.radius,
    norm: step.norm,
    predicted: step.predicted,
    rho: a.gain / step.predicted,
    alpha: a.alpha,
    refused,
  };
}

/** A stop by either convergence test (the relative tol, or the hybrid's Newton decrement). */
export function isConverged(r: StopReason): boolean {
  return r === 'converged' || r === 'newton-decrement';
}

/** Iterations over which a float32 backend's log-likelihood gain is compared with its resolution. */
const RESOLUTION_WINDOW = 10;
/** FitOptions.dropDominated: iterations between checks (the gain rate is taken over the last window). */
export const DOMINATED_WINDOW = 100;
/** ... and the factor on that rate: a crawl slows down, so 2× its current rate bounds what it can still gain. */
export const DOMINATED_SAFETY = 2;

interface RunContext {
  data: Dataset;
  opts: ResolvedFitOptions;
  backend: Backend;
  layout: GateLayoutInfo;
  ws: Workspace;
  experts: ExpertsMStep;
  onIteration?: FitOptions['onIteration'];
  /** the best final log-likelihood of the earlier starts (−∞ before the first) */
  best: number;
}

interface RunOutcome {
  model: Model;
  logLik: number;
  trace: number[];
  iterations: number;
  stopReason: StopReason;
  warnings: WarningLog;
  hybrid?: HybridInfo;
}

/**
 * A softmax-first start: the softmax gate fitted by EM with the fit's own tolerances, twice — from a
 * `from` start with this start's seed and from the other family (k-means++ / random partition) with
 * a seed derived from it — the better softmax optimum carried over to the fit's gate
 * (continuation.ts). Why two: a k-means++ partition of (x, y) can put both experts across both lines
 * (temp-tanh, n = 300: 5 of 20 softmax fits from k-means++ ended 618 nats below, no warning; the
 * random partitions all reached the optimum), and nothing at the end of the hard gate's fit then
 * says so. A top-K or activation start is then polished (init/polish.ts): EM cannot carry a top-K
 * switch across samples, and from the near-linear activation start it slides towards τ → 0; a
 * simplex does neither.
 */
function softmaxFirstStart(
  data: Dataset,
  opts: ResolvedFitOptions,
  backend: Backend,
  from: 'kmeans' | 'random',
  seed: number,
  warnings: WarningLog,
  layout: GateLayoutInfo,
  record: StartRecord,
): Model {
  const softFrom = (kind: 'kmeans' | 'random', s: number): FitResult =>
    fitMoE(data, {
      ...nestedOptions(opts, backend),
      gate: { kind: 'softmax' },
      init: { kind },
      seed: s,
      ...(opts.bounds ? { bounds: { ...opts.bounds, tau: undefined } } : {}),
    });
  const otherFrom = from === 'kmeans' ? 'random' : 'kmeans';
  const first = softFrom(from, seed);
  const other = softFrom(otherFrom, deriveSeed(seed, 1));
  const soft = other.logLik > first.logLik ? other : first;
  record.softmaxFits = [
    { from, logLik: first.logLik, iterations: first.iterations, stopReason: first.stopReason },
    { from: otherFrom, logLik: other.logLik, iterations: other.iterations, stopReason: other.stopReason },
  ];
  if (soft.stopReason === 'degenerate')
    warnings.add(
      'softmax-first',
      `the softmax fit of this softmax-first start ended degenerate (${soft.warnings.join('; ')})`,
    );
  const start = continueFromSoftmax(soft.model, opts.gate, data);
  return isMasked(opts.gate) || getGate(opts.gate).userActivation ? polishGate(start, data, layout).model : start;
}

/**
 * The degenerate-ending warnings of a run (endings.ts), from log π and the responsibilities at its final
 * model by the backend's kernels, in the fit's buffers (the run is over; JS passes were ≈ 5 % of a fit).
 */
function sayEndings(out: RunOutcome, ctx: RunContext, warnings: WarningLog): void {
  if (out.stopReason === 'degenerate') return;
  const { data, backend, ws, opts } = ctx;
  const { X, y, n } = data;
  const m = out.model;
  const topk = isMasked(opts.gate);
  backend.gateProbs(m, X, n, ws.logPi, ws.pi, topk ? ws.mask : null, topk ? 'compute' : 'none');
  backend.eStep(m, X, y, n, ws.logPi, ws.resp);
  const dens: EndingDensities = { logPi: ws.logPi, resp: ws.resp };
  for (const w of endingWarnings(m, data, opts.varianceFloor, dens)) warnings.add(w, w, out.iterations);
}

/** What a start's making records in its RestartResult: the prefit's fit, a softmax-first start's softmax fits. */
type StartRecord = Pick<RestartResult, 'prefit' | 'softmaxFits'>;

/**
 * Start r's model: its family's start (softmax-first: softmaxFirstStart; else init/), or with
 * FitOptions.prefit = m that start fitted first on every m-th sample from sample r mod m (both recorded in `record`).
 */
function startModel(
  dataIn: Dataset,
  ctx: RunContext,
  init: InitOption,
  family: StartFamily,
  seed: number,
  warnings: WarningLog,
  r: number,
  record: StartRecord,
): Model {
  const { opts, backend, layout, data, ws, experts } = ctx;
  const one = familyInit(init, family);
  if (opts.prefit) {
    const sub = subsample(dataIn, opts.prefit, r % opts.prefit);
    const fit = prefitOn(sub, opts, backend, one, seed);
    record.prefit = { samples: sub.n, logLik: fit.logLik, iterations: fit.iterations, stopReason: fit.stopReason };
    if (!allFinite(fit.model))
      throw new Error(`the prefit on ${sub.n} samples ended degenerate (${fit.warnings.join('; ')})`);
    return cloneModel(fit.model);
  }
  if (family === 'softmax-kmeans' || family === 'softmax-random')
    return softmaxFirstStart(
      dataIn,
      opts,
      backend,
      family === 'softmax-kmeans' ? 'kmeans' : 'random',
      seed,
      warnings,
      layout,
      record,
    );
  const k = opts.k;
  return initialModel(
    one,
    { data, gate: opts.gate, k, layout, backend, ws, experts, warnings, varianceFloor: opts.varianceFloor },
    createRng(seed),
  );
}

/** Every m-th sample of the data from sample `from`. */
function subsample(data: Dataset, m: number, from: number): Dataset {
  const { n, d, X, y } = data;
  const ns = Math.floor((n - 1 - from) / m) + 1;
  const Xs = new Float64Array(ns * d);
  const ys = new Float64Array(ns);
  for (let i = 0, src = from; i < ns; i++, src += m) {
    ys[i] = y[src]!;
    for (let t = 0; t < d; t++) Xs[i * d + t] = X[src * d + t]!;
  }
  return { n: ns, d, X: Xs, y: ys };
}

/**
 * The options a fit made inside this one inherits (a softmax-first start's softmax fits, a prefit): one
 * start, the tolerances and caps, the variance floor of all the data, the backend and its kernels.
 */
function nestedOptions(opts: ResolvedFitOptions, backend: Backend): Omit<FitOptions, 'gate' | 'init'> {
  return {
    k: opts.k,
    restarts: 1,
    tol: opts.tol,
    absTol: opts.absTol,
    maxIter: opts.maxIter,
    varianceFloor: opts.varianceFloor,
    minResponsibility: opts.minResponsibility,
    backend,
    accelerate: opts.accelerate,
    wasm: opts.wasm,
    gateMaxSteps: opts.gateMaxSteps,
    gateTol: opts.gateTol,
  };
}

/** One start's fit on a prefit's subsample: the fit's own gate, optimizer and bounds besides nestedOptions. */
function prefitOn(sub: Dataset, opts: ResolvedFitOptions, backend: Backend, init: InitOption, seed: number): FitResult {
  try {
    return fitMoE(sub, {
      ...nestedOptions(opts, backend),
      gate: opts.gate,
      init,
      seed,
      tauMode: opts.tauMode,
      optimizer: opts.optimizer,
      stopRule: opts.stopRule,
      decrementTol: opts.decrementTol,
      ...(opts.switchTol !== null ? { switchTol: opts.switchTol } : {}),
      ...(opts.bounds ? { bounds: opts.bounds } : {}),
    });
  } catch (e) {
    // the subsample's own checks (a constant x column, too few samples) name its fields: say whose they are
    throw new Error(`prefit on ${sub.n} samples: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function allFinite(m: Model): boolean {
  const arrays = [m.beta0, m.beta1, m.a, m.b, m.nu];
  for (const v of arrays) for (let t = 0; t < v.length; t++) if (!Number.isFinite(v[t]!)) return false;
  return Number.isFinite(m.tau) && m.tau > 0;
}

/** Moves m along its gate's scaling orbit (β1, τ) → (cβ1, cτ) to τ = tau (the density is unchanged). */
export function fixScalingGauge(m: Model, tau: number): void {
  const c = tau / m.tau;
  if (!(c > 0 && c < Infinity)) return;
  for (let t = 0; t < m.beta1.length; t++) m.beta1[t] = m.beta1[t]! * c;
  m.tau = tau;
}

/**
 * SQUAREM's extrapolated point px written into m: variances floored, moved along the scaling orbit
 * to τ = gaugeTau (when not null: same density), then projected onto the bounds (the EM step that
 * stabilises it starts inside the box, as every M-step must).
 */
export function extrapolatedModel(
  px: Float64Array,
  m: Model,
  varianceFloor: number,
  gaugeTau: number | null,
  bounds: Bounds | undefined,
  withTau: boolean,
): void {
  unpackParams(px, m, varianceFloor);
  if (gaugeTau !== null) fixScalingGauge(m, gaugeTau);
  if (bounds) projectToBounds(m, bounds, withTau);
}

/** One EM run from `model` (modified in place). */
function runEM(model: Model, ctx: RunContext, restart: number, warnings: WarningLog): RunOutcome {
  return new EmRun(model, ctx, restart, warnings).run();
}

/**
 * The state of one EM run: the model, its trace and stop reason, the E-step cache, and the phases
 * that advance it (plain EM, SQUAREM cycles, the hybrid optimizer's trust-region stretches).
 */
class EmRun {
  private readonly data: Dataset;
  private readonly opts: ResolvedFitOptions;
  private readonly backend: Backend;
  private readonly layout: GateLayoutInfo;
  private readonly ws: Workspace;
  private readonly experts: ExpertsMStep;
  private readonly topk: boolean;
  private readonly gateStep: GateMStep;
  private readonly prev: Model;
  private readonly gctx: GateMStepContext;
  private readonly trace: number[] = [];
  private readonly estats: EStepStats = { q: NaN };
  private logPiValid = false;
  /** where the bias of a gate that is a softmax's over τ sits (scaledLinearBias), and softmaxView's model */
  private readonly linearBias: 'outside' | 'inside' | null;
  private proxy: Model | null = null;
  private stopReason: StopReason = 'max-iterations';
  private iter = 0;
  // hybrid optimizer: `switchNow` hands the run from EM to the trust region (hybrid.ts)
  private readonly withTau: boolean;
  private readonly hybrid: boolean;
  private readonly tolRule: boolean;
  private stopped = false;
  private switchNow = false;
  /** the trust-region step the next record() reports (onIteration), else null */
  private acceptedStep: TrustRegionStepInfo | null = null;
  private inNewton = false;
  private phaseStart = 0;
  private minEm = HYBRID_MIN_EM; // doubles after each return from the trust region to EM, up to HYBRID_MAX_MIN_EM
  private squarem: SquaremStep | null = null;
  private switchTol: number;

  constructor(
    private readonly model: Model,
    private readonly ctx: RunContext,
    private readonly restart: number,
    private readonly warnings: WarningLog,
  ) {
    const { data, opts, backend, layout, ws, experts } = ctx;
    this.data = data;
    this.opts = opts;
    this.backend = backend;
    this.layout = layout;
    this.ws = ws;
    this.experts = experts;
    this.topk = isMasked(opts.gate);
    this.linearBias = scaledLinearBias(opts.gate);
    normalizeGate(layout, model);
    const bounds = opts.bounds;
    this.withTau = layout.tauIndex >= 0 || getGate(model.gate).hasTau;
    if (bounds && projectToBounds(model, bounds, this.withTau))
      warnings.add(
        'bounds-start',
        `the start lay outside the bounds (${describeBounds(bounds)}): projected onto them`,
        0,
      );
    this.gateStep = gateMStepFor(opts.gate.kind)({ backend, data, model, ws, layout, ...(bounds ? { bounds } : {}) });
    this.prev = cloneModel(model);
    this.gctx = {
      backend,
      data,
      model,
      ws,
      layout,
      maxSteps: opts.gateMaxSteps,
      tol: opts.gateTol,
      warnings,
      iteration: 0,
    };
    this.hybrid = opts.optimizer === 'hybrid';
    this.switchTol = opts.switchTol ?? FIT_DEFAULTS.switchTol; // runHybrid: by the Hessian's cost
    this.tolRule = opts.stopRule === 'tol';
  }

  run(): RunOutcome {
    let hybridInfo: HybridInfo | undefined;
    if (!this.record(this.evaluate())) {
      if (this.hybrid) hybridInfo = this.runHybrid();
      else this.emPhase();
    }
    const { model, trace, warnings } = this;
    return {
      model,
      logLik: trace[trace.length - 1]!,
      trace,
      iterations: this.iter,
      stopReason: this.stopReason,
      warnings,
      ...(hybridInfo ? { hybrid: hybridInfo } : {}),
    };
  }

  /** E-step at the model: responsibilities, log-likelihood. */
  private evaluate(): number {
    const { model, ws, backend, estats, topk } = this;
    const { X, y, n } = this.data;
    if (!this.logPiValid)
      backend.gateProbs(model, X, n, ws.logPi, ws.pi, topk ? ws.mask : null, topk ? 'compute' : 'none');
    estats.q = NaN;
    const ll = backend.eStep(model, X, y, n, ws.logPi, ws.resp, estats);
    this.gctx.q0 = estats.q;
    return ll;
  }

  /**
   * The log-likelihood at the model without writing responsibilities (the hybrid's trials); one pass
   * where the backend has it. The gate buffers are not read before the next E-step recomputes them
   * (logPiValid is false): the top-K pass leaves them unwritten.
   */
  private logLikOnly(): number {
    const { model, ws, backend, topk } = this;
    const { X, y, n } = this.data;
    const fused = topk
      ? backend.topkLogLik?.(model, X, y, n, ws.logPi, ws.pi, ws.mask, false)
      : backend.softmaxLogLik?.(this.softmaxView(), X, y, n);
    if (fused !== undefined) return fused;
    backend.gateProbs(model, X, n, ws.logPi, ws.pi, topk ? ws.mask : null, topk ? 'compute' : 'none');
    return backend.logLik(model, X, y, n, ws.logPi);
  }

  /**
   * The model as a softmax model where its gate is a softmax's over τ (the identity activation: its
   * one-pass log-likelihood, hessian-proxy.ts), else the model itself.
   */
  private softmaxView(): Model {
    const { model, linearBias } = this;
    if (linearBias === null) return model;
    this.proxy ??= softmaxProxyModel(model);
    return writeSoftmaxProxy(model, this.proxy, linearBias === 'inside');
  }

  /** M-step from the current responsibilities, as iteration `it`; false when it produced non-finite parameters. */
  private mStep(it: number): boolean {
    this.experts.step(this.model, this.ws.resp, this.warnings, it);
    this.gctx.iteration = it;
    this.logPiValid = this.gateStep.step(this.gctx).info.logPiValid;
    return allFinite(this.model);
  }

  /** Records the log-likelihood of iteration `iter`; true when the run stops there. */
  private record(ll: number): boolean {
    return (this.stopped = this.recordStop(ll));
  }

  private recordStop(ll: number): boolean {
    const { trace, warnings, opts, backend, iter } = this;
    const n = this.data.n;
    if (this.ctx.onIteration) {
      const step = this.acceptedStep;
      const phase = step ? 'trust-region' : iter === 0 ? 'start' : 'em';
      this.ctx.onIteration({ restart: this.restart, iteration: iter, logLik: ll, phase, ...(step ? { step } : {}) });
    }
    if (!Number.isFinite(ll)) {
      this.stopReason = 'degenerate';
      if (iter > 0) {
        copyParams(this.prev, this.model);
        warnings.add(
          'degenerate',
          `log-likelihood became ${ll} at iteration ${iter}: stopped, returning the parameters of iteration ${iter - 1}`,
          iter,
        );
        this.iter--;
      } else {
        warnings.add(
          'degenerate',
          `the initial model has log-likelihood ${ll} on these data (some sample has zero density under every expert)`,
          0,
        );
        trace.push(ll);
      }
      return true;
    }
    trace.push(ll);
    if (iter > 0) {
      const prevLL = trace[iter - 1]!;
      const cur = ll / n;
      const change = cur - prevLL / n;
      // a float32 backend cannot resolve changes below its rounding noise (0 for Float64 backends)
      const noise = (backend.logLikResolution?.() ?? 0) / n;
      const windowGain = iter >= RESOLUTION_WINDOW ? cur - trace[iter - RESOLUTION_WINDOW]! / n : Infinity;
      if (-change > Math.max(1e-12 * (Math.abs(cur) + 1), noise)) {
        warnings.add(
          'decrease',
          `log-likelihood decreased by ${(-change * n).toExponential(3)} at iteration ${iter} (should not happen beyond rounding)`,
          iter,
        );
      }
      if (this.tolRule && (Math.abs(change) <= opts.tol * (Math.abs(cur) + 1e-12) || Math.abs(change) <= opts.absTol)) {
        this.stopReason = 'converged';
        return true;
      }
      // the hybrid's switch rule: EM's gain per iteration has fallen to switchTol nats per sample
      if (this.hybrid && !this.inNewton && iter - this.phaseStart >= this.minEm && change <= this.switchTol)
        this.switchNow = true;
      // ... so it has converged when even the gain over the last RESOLUTION_WINDOW iterations is noise
      if (Math.abs(windowGain) <= noise) {
        if (noise === 0)
          warnings.add(
            'stalled',
            `stopped at iteration ${iter}: the log-likelihood did not change over the last ${RESOLUTION_WINDOW} iterations (a fixed point of the updates, to rounding)`,
            iter,
          );
        else
          warnings.add(
            'resolution',
            `converged to the ${backend.name} backend's float32 resolution at iteration ${iter}: the log-likelihood gained ${(windowGain * n).toExponential(2)} over the last ${RESOLUTION_WINDOW} iterations, within its rounding noise ±${(noise * n).toExponential(2)} (tol asks for changes ≤ ${(opts.tol * Math.abs(ll)).toExponential(2)}); to go further, refit with backend "cpu" and init { kind: 'model', model: <this fit's model> }`,
            iter,
          );
        this.stopReason = 'converged';
        return true;
      }
    }
    if (this.dominated(ll)) return true;
    return iter >= opts.maxIter;
  }

  /**
   * FitOptions.dropDominated: every DOMINATED_WINDOW iterations, a start that even at DOMINATED_SAFETY × its
   * gain rate over the last window would end below the best earlier start at maxIter is stopped — its
   * result would be discarded (crawls of top-K fits along a runaway switch: 5 000 iterations, 380 s).
   */
  private dominated(ll: number): boolean {
    const { iter, opts, trace } = this;
    const best = this.ctx.best;
    if (!opts.dropDominated || !(best > -Infinity) || iter < 2 * DOMINATED_WINDOW || iter % DOMINATED_WINDOW)
      return false;
    const rate = Math.max(0, (ll - trace[iter - DOMINATED_WINDOW]!) / DOMINATED_WINDOW);
    if (!(ll + DOMINATED_SAFETY * rate * (opts.maxIter - iter) < best - OPTIMUM_TOL)) return false;
    this.stopReason = 'dominated';
    this.warnings.add(
      'dominated',
      `stopped at iteration ${iter}, ${(best - ll).toExponential(2)} nats below an earlier start and gaining ${rate.toExponential(2)} nats per iteration: at ${DOMINATED_SAFETY}× that rate it would still end below it at the ${opts.maxIter}-iteration cap (dropDominated)`,
      iter,
    );
    return true;
  }

  /** One plain EM iteration from the evaluated model; true when the run stops. */
  private emIteration(): boolean {
    copyParams(this.model, this.prev);
    if (!this.mStep(this.iter + 1)) {
      copyParams(this.prev, this.model);
      this.warnings.add(
        'degenerate',
        `the M-step of iteration ${this.iter + 1} produced non-finite parameters: stopped, returning the parameters of iteration ${this.iter}`,
        this.iter + 1,
      );
      this.stopReason = 'degenerate';
      return true;
    }
    this.iter++;
    return this.record(this.evaluate()) || this.switchNow;
  }

  /** EM (accelerated or not) until the run stops or, hybrid, hands over. */
  private emPhase(): void {
    if (this.opts.accelerate === 'none') {
      while (!this.emIteration()) {
        /* iterate */
      }
    } else {
      this.runSquarem();
    }
  }

  /**
   * The hybrid optimizer: EM until its gain per iteration falls to switchTol (record's switch
   * rule), then trust-region Newton steps (hybrid.ts) until the Newton decrement stops the run;
   * HYBRID_MAX_REFUSALS refused steps in a row send it back to EM (which also crosses top-K regions).
   */
  private runHybrid(): HybridInfo {
    const { model, data, opts, trace, warnings } = this;
    const phase = new NewtonPhase(model, data, opts.varianceFloor, opts.tauMode, opts.bounds, opts.variance ?? 'free');
    if (opts.switchTol === null && phase.kernelHessian) this.switchTol = FIT_DEFAULTS.switchTolFastHessian;
    const info: HybridInfo = {
      emIterations: 0,
      newtonIterations: 0,
      hessians: 0,
      refused: 0,
      returnsToEm: 0,
      decrement: null,
      gradientMetric: NaN,
      negativeDefinite: false,
      pinned: [],
    };
    // the trust region's trials: the log-likelihood only (no responsibilities written); the
    // E-step runs again when the run leaves the trust region (`resync`)
    const trialLogLik = (): number => {
      this.logPiValid = false;
      return this.logLikOnly();
    };
    const resync = (): void => {
      this.logPiValid = false;
      this.evaluate();
    };
    let atEnd = false; // phase's derivatives are those of the returned model
    outer: for (;;) {
      this.switchNow = false;
      this.inNewton = false;
      this.phaseStart = this.iter;
      this.emPhase();
      if (this.stopped) break;
      // what the EM stretch gained (after a return from the trust region: is EM still moving?)
      const emGain = info.returnsToEm > 0 ? trace[this.iter]! - trace[this.phaseStart]! : Infinity;
      this.inNewton = true;
      phase.reset();
      let refusals = 0;
      let firstPredicted = Infinity; // of the current streak of refusals
      let regionChange = false;
      const crawl = new CrawlWatch();
      for (;;) {
        const nd = phase.decrement();
        atEnd = true;
        if (
          !this.tolRule &&
          nd.positiveDefinite &&
          nd.decrement <= opts.decrementTol &&
          nd.gradientMetric <= opts.decrementTol
        ) {
          this.stopReason = 'newton-decrement';
          this.stopped = true;
          break outer;
        }
        if (!this.tolRule && crawl.crawling(this.iter, nd)) {
          this.newtonCrawl(nd.decrement, crawl.from);
          break outer;
        }
        const a = phase.attempt(trace[this.iter]!, trialLogLik);
        if (a.accepted) {
          atEnd = false;
          this.iter++;
          info.newtonIterations++;
          if (this.ctx.onIteration) this.acceptedStep = stepInfo(a, refusals);
          refusals = 0;
          const stop = this.record(a.logLik);
          this.acceptedStep = null;
          if (stop) break outer;
          continue;
        }
        info.refused++;
        if (refusals === 0) {
          firstPredicted = a.step.predicted;
          regionChange = false;
        }
        regionChange ||= a.regionChange;
        if (++refusals < HYBRID_MAX_REFUSALS) continue;
        // neither the quadratic model nor the last EM stretch gains beyond the log-likelihood's rounding
        const rounding = 64 * Number.EPSILON * Math.abs(trace[this.iter]!);
        if (!regionChange && firstPredicted <= rounding && emGain <= rounding) {
          this.stopReason = 'no-progress';
          this.stopped = true;
          warnings.add(
            'no-progress',
            `the trust region cannot raise the log-likelihood beyond its rounding (predicted gain ${firstPredicted.toExponential(2)} nats) and the Newton decrement test (≤ ${opts.decrementTol}) is not met (decrement ${nd.decrement.toExponential(2)}, gradient ${nd.gradientMetric.toExponential(2)}): decrementTol is below what this sample's rounding allows`,
            this.iter,
          );
          break outer;
        }
        info.returnsToEm++;
        this.minEm = Math.min(2 * this.minEm, HYBRID_MAX_MIN_EM);
        resync();
        continue outer;
      }
    }
    if (this.inNewton) resync();
    if (this.stopReason === 'degenerate') return { ...info, hessians: phase.hessians };
    if (!atEnd) phase.reset();
    return this.hybridReport(phase, info);
  }

  /** Stops a Newton phase that crawls (see {@link CrawlWatch}), saying so. */
  private newtonCrawl(decrement: number, from: number): void {
    this.stopReason = 'newton-crawl';
    this.stopped = true;
    this.warnings.add(
      'newton-crawl',
      `trust-region Newton crawled: over ${HYBRID_CRAWL_STEPS} accepted steps at points where −H is positive definite the Newton decrement only fell from ${from.toExponential(2)} to ${decrement.toExponential(2)} nats (a linear rate, where Newton's is quadratic): a ridge running to the parameter space's boundary (τ → 0, a variance at its floor, a vanishing expert: see the degenerate-ending warnings), whose supremum no finite step reaches — stopped there, not converged`,
      this.iter,
    );
  }

  /** The hybrid run's final report: the Newton decrement and definiteness at the returned model. */
  private hybridReport(phase: NewtonPhase, info: HybridInfo): HybridInfo {
    const nd = phase.decrement();
    info.hessians = phase.hessians;
    info.emIterations = this.iter - info.newtonIterations;
    info.decrement = nd.positiveDefinite ? nd.decrement : null;
    info.gradientMetric = nd.gradientMetric;
    info.negativeDefinite = nd.positiveDefinite;
    const ties = phase.switches;
    if (ties.length > 0) {
      info.pinned = ties.map((t) => ({ sample: t.sample, experts: [t.active, t.inactive] }));
      const where = ties.map(
        (t) => `sample ${t.sample} where experts ${t.active + 1} (active) and ${t.inactive + 1} tie`,
      );
      this.warnings.add(
        'pinned-switch',
        `the returned model lies on top-K region boundaries (${where.join('; ')}), and the likelihood drops on their other sides; its last Newton steps held those ties, so its decrement and definiteness are those along the boundaries`,
        this.iter,
      );
    }
    if (!nd.positiveDefinite)
      this.warnings.add(
        'not-negative-definite',
        'the Hessian of the log-likelihood is not negative definite at the returned model (over its free parameters): not a strict local maximum — a saddle, a flat direction (empty or duplicated experts), or a run stopped before the optimum',
        this.iter,
      );
    return info;
  }

  /**
   * SQUAREM cycles (see squarem.ts): two EM iterations, then the extrapolated point stabilised by
   * one EM step counts as the next iteration when its log-likelihood is at least the second's;
   * otherwise the run goes on from the second. Each cycle costs at most 3 M-steps and 4 E-steps.
   */
  private runSquarem(): void {
    const { model, prev, opts, trace } = this;
    const len = squaremLength(model);
    const p0 = new Float64Array(len);
    const p1 = new Float64Array(len);
    const p2 = new Float64Array(len);
    const px = new Float64Array(len);
    // one step-length state for the whole run: the hybrid's EM stretches continue where the last one stopped
    const sq = (this.squarem ??= new SquaremStep());
    // (β1, τ) → (cβ1, cτ) leaves the density unchanged: extrapolating along that orbit would move the
    // fit by amounts set by the other parameters' steps, so the extrapolated point is taken back to
    // the second EM step's τ along the orbit (same density, same accept / refuse decision)
    const gauge = this.layout.tauIndex >= 0 && getGate(model.gate).symmetries(model.gate).scaling;
    for (;;) {
      packParams(model, p0);
      if (this.emIteration()) return;
      packParams(model, p1);
      if (this.emIteration()) return;
      packParams(model, p2);
      const ll2 = trace[this.iter]!;
      const alpha = sq.extrapolate(p0, p1, p2, px);
      // α = 1 is θ2 itself: accepted as it is (and, at the bound, the bound grows as in R's SQUAREM)
      if (alpha === 1) {
        sq.update(1, true);
        continue;
      }
      copyParams(model, prev);
      extrapolatedModel(px, model, opts.varianceFloor, gauge ? prev.tau : null, opts.bounds, this.withTau);
      this.logPiValid = false;
      let accepted = false;
      if (allFinite(model) && Number.isFinite(this.evaluate()) && this.mStep(this.iter + 1)) {
        const ll = this.evaluate();
        accepted = Number.isFinite(ll) && ll >= ll2;
        sq.update(alpha, accepted);
        if (accepted) {
          this.iter++;
          if (this.record(ll) || this.switchNow) return;
        }
      } else {
        sq.update(alpha, false);
      }
      if (!accepted) {
        copyParams(prev, model);
        this.logPiValid = false;
        this.evaluate();
      }
    }
  }
}

/**
 * restartsMax: whether start r runs after the planned ones — while no start but the best has ended at the
 * best optimum (dominated starts end at none) and fewer than restartsMax have run.
 */
function unsettled(r: number, results: readonly RestartResult[], opts: ResolvedFitOptions): boolean {
  if (opts.restartsMax === undefined || r >= opts.restartsMax) return false;
  const [best] = optimaOf(results);
  return best === undefined || best.count < 2;
}

/** The starts' distinct optima, best first (a dropped start ended on none). */
function optimaOf(results: readonly RestartResult[]): Optimum[] {
  return distinctOptima(results.map((x) => (x.stopReason === 'dominated' ? NaN : x.logLik)));
}

/**
 * Fits a k-expert Gaussian MoE with the given gate to the data by EM.
 *
 * Stopping rule (per start): after iteration t, with ℓ_t the mean log-likelihood per sample,
 * converged when |ℓ_t − ℓ_{t−1}| ≤ tol·(|ℓ_t| + 1e-12) or |ℓ_t − ℓ_{t−1}| ≤ absTol
 * (defaults 1e-10 and 1e-13), else stop at maxIter (default 5000) iterations.
 * Restarts: start r (0-based) uses the generator seeded with deriveSeed(seed, r); the start
 * with the highest final log-likelihood is returned (ties → the lower r).
 * Same data, seed and options → bit-identical result.
 *
 * @param data n samples (X n × d row-major, y length n)
 * @example
 * const data = simulate(truthPreset('demy'), { n: 10000, seed: 1 });
 * const fit = fitMoE(data, { gate: { kind: 'softmax' }, k: 2, init: { kind: 'near-truth', truth: truthPreset('demy') } });
 * @throws ValidationError naming the option or data field (NaN in data, k < 1, K > k, constant x,
 *   fewer samples than free parameters, unknown gate…); Error for an unavailable backend
 */
export function fitMoE(dataIn: Dataset, options: FitOptions): FitResult {
  let data = dataIn;
  const t0 = performance.now();
  checkFitData(data);
  const { resolved: opts, init } = resolveFitOptions(data, options);
  const { n, d } = data;
  const k = opts.k;
  const layout = gateLayout(opts.gate, k, d, opts.tauMode);
  // the parameters the fit optimises (parameterCount's `free`, the layout's p plus the experts')
  const P = parameterCount(opts.gate, k, d, opts.tauMode, opts.variance).free;
  if (n <= P.total) {
    fail(
      'data.n',
      `must exceed the number of free parameters of k = ${k} experts, ${P.total} (gate ${P.gate}, experts ${P.total - P.gate}): with fewer samples the fit is not determined`,
      n,
    );
  }
  if (opts.prefit && Math.floor(n / opts.prefit) <= P.total)
    fail(
      'prefit',
      `leaves ${Math.floor(n / opts.prefit)} samples per start: it must leave more than the ${P.total} free parameters`,
      opts.prefit,
    );
  const backend = createBackend(options.backend ?? 'cpu', { n, k }, { simd: opts.wasm });
  opts.backend = backend.name; // 'auto' resolved
  // a backend may keep the fit's buffers and data in its own memory (the CPU backend's SIMD arena)
  const topk = isMasked(opts.gate);
  const lengths = workspaceArenaLengths(n, k, d, topk);
  const arena = backend.fitStorage?.(k, d, lengths) ?? null;
  const ws = createWorkspace(n, k, !layout.linear, topk, arena);
  if (arena) data = { ...data, X: arena.copy(data.X), y: arena.copy(data.y) };
  const experts = createExpertsMStep(
    backend,
    data,
    k,
    opts.varianceFloor,
    opts.minResponsibility,
    opts.bounds?.nu,
    opts.variance ?? 'free',
  );
  const fitWarnings = new WarningLog();
  const gate = getGate(opts.gate);
  const orbit = scalingOrbit(opts.gate);
  if (orbit !== null && layout.tauIndex >= 0) {
    fitWarnings.add(
      'scaling',
      `the gate is invariant under ${orbit} and τ is free: the fit is not identified along that direction (see diagnoseIdentifiability)`,
    );
  }
  xScaleWarnings(data).forEach((line, l) => fitWarnings.add(`x-scale-${l}`, line));
  const ctx: RunContext = {
    data,
    opts,
    backend,
    layout,
    ws,
    experts,
    onIteration: options.onIteration,
    best: -Infinity,
  };

  const results: RestartResult[] = [];
  let best: RunOutcome | null = null;
  let bestR = -1;
  const errors: string[] = [];
  for (let r = 0; r < opts.restarts || unsettled(r, results, opts); r++) {
    const seed = deriveSeed(opts.seed, r);
    const warnings = new WarningLog();
    let out: RunOutcome;
    experts.reset();
    const family = startFamily(init, r, opts.gate);
    const record: StartRecord = {};
    try {
      const model = startModel(dataIn, ctx, init, family, seed, warnings, r, record);
      // EM's ascent holds from a start inside the constrained space: one shared ν (their mean)
      if (opts.variance === 'equal') model.nu.fill(model.nu.reduce((s, v) => s + v, 0) / k);
      out = runEM(model, ctx, r, warnings);
      sayEndings(out, ctx, warnings);
      if (opts.bounds) {
        const on = boundsReached(out.model, opts.bounds, layout);
        if (on) warnings.add('bounds-end', on, out.iterations);
      }
    } catch (e) {
      if (opts.restarts === 1 && opts.restartsMax === undefined) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      errors.push(`start ${r} failed: ${msg}`);
      results.push({
        restart: r,
        seed,
        logLik: -Infinity,
        iterations: 0,
        converged: false,
        stopReason: 'degenerate',
        warnings: [msg],
        start: family,
      });
      continue;
    }
    results.push({
      restart: r,
      seed,
      logLik: out.logLik,
      iterations: out.iterations,
      converged: isConverged(out.stopReason),
      stopReason: out.stopReason,
      warnings: out.warnings.list(),
      start: family,
      ...record,
    });
    const score = Number.isNaN(out.logLik) ? -Infinity : out.logLik;
    if (best === null || score > (Number.isNaN(best.logLik) ? -Infinity : best.logLik)) {
      best = out;
      bestR = r;
    }
    ctx.best = Math.max(ctx.best, score);
  }
  if (best === null) throw new Error(`every start failed: ${errors.join('; ')}`);
  const optima = optimaOf(results);
  const single = singleBestWarning(optima, results.length);
  const warnings = [...fitWarnings.list(), ...best.warnings.list(), ...errors, ...(single ? [single] : [])];
  if (best.stopReason === 'max-iterations' && opts.maxIter > 0) {
    warnings.push(
      `did not converge in ${opts.maxIter} iterations (last change of the mean log-likelihood ${best.trace.length > 1 ? ((best.trace.at(-1)! - best.trace.at(-2)!) / n).toExponential(2) : 'n/a'}): raise maxIter or loosen tol`,
    );
  }
  const result: FitResult = {
    model: best.model,
    logLik: best.logLik,
    trace: best.trace,
    iterations: best.iterations,
    converged: isConverged(best.stopReason),
    stopReason: best.stopReason,
    restarts: results.length,
    restartLogLiks: results.map((x) => x.logLik),
    restartResults: results,
    bestRestart: bestR,
    optima,
    optimumTol: OPTIMUM_TOL,
    seconds: 0,
    warnings,
    backend: backend.name,
    options: opts,
  };
  if (best.hybrid) result.hybrid = best.hybrid;
  if (options.diagnostics) result.diagnostics = diagnoseIdentifiability(result.model, data, { tauMode: opts.tauMode });
  arena?.release?.(); // the result holds nothing of the fit's buffers: their memory may serve the next fit
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
