/**
 * The second-order half of the hybrid optimizer (FitOptions.optimizer 'hybrid'): trust-region
 * Newton steps on the observed log-likelihood L(θ) over every free parameter (inference/params.ts:
 * β0, β1, log τ, a, b, log ν; the reference expert fixed), with the exact gradient and Hessian of
 * inference/hessian.ts. fit.ts owns the loop, the trace and the stopping rule; this module proposes
 * and judges steps, and computes the Newton decrement at the current point.
 *
 * Why: near an over-specified optimum EM's rate is 1 − (the smallest eigenvalue of the observed
 * information relative to the complete one) ≈ 1, so EM and even SQUAREM crawl; Newton's rate does
 * not depend on that ratio and is quadratic once inside its basin.
 *
 * Constraints: the variance floor is a lower bound on log ν_j (projected steps, trust-region.ts);
 * top-K: the Hessian is the one of the smooth piece (active sets S_K(x_i)) the fit lies in, so a step
 * that changes some sample's active set is accepted only when the quadratic model still predicted its
 * gain well (ρ ≥ HYBRID_CROSS_RHO), else it is cut at the piece's boundary, and switches pinned to
 * samples (two experts' scores tied there, the likelihood dropping across) are held on the boundary
 * (hybrid-tie.ts); EM's switch moves cross between pieces too; the identity gate
 * (a positively homogeneous σ with τ free): τ is held, so the flat (β1, τ) direction is projected
 * out as in se.ts.
 * The fit's bounds (src/em/bounds.ts) join the box: β0, β1, log τ and log ν get their lower and
 * upper bounds, and every trial model is projected onto them (exp(log ν) may round past a bound).
 */
import { getGate, isMasked } from '../models/gates/index.js';
import { activeSet } from '../models/gates/topk.js';
import { cloneModel, copyParams, hasTau, type Dataset, type Model } from '../models/types.js';
import { logLikDerivatives, type LogLikDerivatives } from './inference/hessian.js';
import { fastHessianSimd, fastLogLikDerivatives } from './inference/hessian-fast.js';
import { proxyLogLikDerivatives, softmaxProxy, type SoftmaxProxy } from './inference/hessian-proxy.js';
import { activationHessianSimd, activationLogLikDerivatives } from './inference/hessian-activation.js';
import { topkLogLikDerivatives } from './inference/hessian-topk.js';
import { gateBox, projectToBounds, type Bounds } from './bounds.js';
import {
  eliminate,
  expandStep,
  findTie,
  firstCrossing,
  reduceByTies,
  solveSmall,
  tieMargin,
  tieMultipliers,
  tieScale,
  type Tie,
  type TieSet,
} from './hybrid-tie.js';
import { nuIndex, packParams, paramLayout, unpackParams, type ParamLayout } from './inference/params.js';
import {
  freeCoordinates,
  newtonDecrement,
  quadraticGain,
  TR_ETA,
  TrustRegion,
  type Box,
  type NewtonDecrement,
  type TrustRegionStep,
} from './optim/trust-region.js';

/** Refused trust-region steps in a row after which the run goes back to EM. */
export const HYBRID_MAX_REFUSALS = 4;
/** Largest multiple α of an accepted step tried by the extension (α = 2, 4, …). */
export const HYBRID_MAX_EXTENSION = 64;
/** ρ above which an interior Newton step is extended (see NewtonPhase.attempt). */
export const HYBRID_EXTEND_RHO = 1.1;
/**
 * ρ below which a boundary step is not extended: the quadratic model already overestimates the
 * gain along it, and α = 2 then fails in most cases (demy, n = 1e4: 13 % fewer trials, same optima).
 */
export const HYBRID_EXTEND_BOUNDARY_RHO = 0.9;
/** Accepted Newton points over which a decrement falling less than 10× is a crawl ({@link CrawlWatch}). */
export const HYBRID_CRAWL_STEPS = 20;
/** Newton decrement (nats) below which the crawl watch counts: beyond it, a long ascent is still worth it. */
export const HYBRID_CRAWL_DECREMENT = 1e-3;
/**
 * Top-K: smallest ratio actual / predicted gain for a step that changes some sample's active set to be
 * accepted. A switch point the fit sharpens sweeps past samples where two experts tie; refusing every
 * such step shrank the radius to 1e-9 and left EM to run 1 400–4 700 iterations (topk-over at
 * n = 5e4–8e4); a crossing whose gain the model predicted is kept, one that jumps (the likelihood is
 * discontinuous across active sets) is refused (docs/performance.md, "Sixth pass").
 */
export const HYBRID_CROSS_RHO = 0.75;
/** Relative margin within which two experts' ranking scores tie at a sample (a switch pinned there: hybrid-tie.ts). */
export const HYBRID_TIE_TOL = 1e-9;
/** Smallest radius (scaled metric) a trust-region phase after a return to EM starts with ({@link NewtonPhase.reset}). */
export const HYBRID_RESTART_RADIUS = 1;
/** EM iterations the hybrid needs before the first hand-over (and after each return to EM). */
export const HYBRID_MIN_EM = 5;
/**
 * The most EM iterations a return to EM must run before the next hand-over (HYBRID_MIN_EM doubles at
 * each return, up to this). Unbounded, a fit whose top-K switch runs away (the trust region gains in long
 * strides, then a step across many samples is refused and it hands back) ran forced EM stretches of 320
 * and 640 crawling iterations: topk-over's full-size cell n = 80 264, rep 2, 336 s → 105 s with 40.
 */
export const HYBRID_MAX_MIN_EM = 40;

/**
 * Watches a Newton phase for a crawl: HYBRID_CRAWL_STEPS accepted points in a row where −H is positive
 * definite and the Newton decrement is at most HYBRID_CRAWL_DECREMENT nats, over which the decrement fell
 * by less than 10×. Near a strict maximum Newton's decrement falls quadratically (by 2/3 per step along a
 * quartic direction, faster with the step extension), so ten-fold in one or two steps; a linear rate this
 * slow is a runaway towards the boundary, where the decrement test would take hundreds of Hessians
 * (temp-over's tanh fits at τ → 0: 800 Newton steps, 4× SQUAREM's time).
 */
export class CrawlWatch {
  private steps = 0;
  private at = -1;
  /** the decrement where the current streak began */
  from = NaN;

  /** Feeds the decrement at the point of iteration `iter` (once per accepted point); true on a crawl. */
  crawling(iter: number, nd: { decrement: number; positiveDefinite: boolean }): boolean {
    if (iter === this.at) return false;
    this.at = iter;
    if (!nd.positiveDefinite || !(nd.decrement <= HYBRID_CRAWL_DECREMENT)) {
      this.steps = 0;
      return false;
    }
    if (this.steps === 0) this.from = nd.decrement;
    if (++this.steps <= HYBRID_CRAWL_STEPS) return false;
    if (nd.decrement > 0.1 * this.from) return true;
    this.steps = 0;
    return false;
  }
}

/** A top-K point's ranking scores and active-set mask. */
interface RegionBuffers {
  scores: Float64Array;
  mask: Uint8Array;
}

function regionBuffers(len: number): RegionBuffers {
  return { scores: new Float64Array(len), mask: new Uint8Array(len) };
}

/** Whether two masks are equal, byte for byte (memcmp: a trial's check of its region). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** The packed layout the trust region works in: τ held where the likelihood is flat along (β1, τ). */
export function hybridLayout(m: Model, tauMode: 'free' | 'fixed'): ParamLayout {
  let mode = hasTau(m.gate) ? tauMode : 'fixed';
  const act = getGate(m.gate).activation?.(m.gate).act ?? null;
  if (mode === 'free' && act !== null && act.positivelyHomogeneous && m.k > 1) mode = 'fixed';
  return paramLayout(m.gate, m.k, m.d, { tauMode: mode });
}

/** The box of θ: log ν_j ≥ log varianceFloor, and the fit's bounds when it has some (the other entries free). */
export function hybridBox(L: ParamLayout, varianceFloor: number, bounds?: Bounds): Box {
  const lower = new Float64Array(L.P).fill(-Infinity);
  const nuLo = Math.log(bounds?.nu ? Math.max(bounds.nu[0], varianceFloor) : varianceFloor);
  for (let j = 0; j < L.k; j++) lower[nuIndex(L, j)] = nuLo;
  if (!bounds) return { lower };
  const upper = new Float64Array(L.P).fill(Infinity);
  // the gate block of θ is the gate layout's θ (log τ included)
  const g = gateBox(L.gate, bounds);
  if (g) {
    lower.set(g.lo);
    upper.set(g.hi);
  }
  if (bounds.nu) for (let j = 0; j < L.k; j++) upper[nuIndex(L, j)] = Math.log(bounds.nu[1]);
  return { lower, upper };
}

/** Outcome of one attempted trust-region step. */
export interface NewtonAttempt {
  /** the step was accepted: the model holds the new point, `logLik` its log-likelihood */
  accepted: boolean;
  logLik: number;
  /** the step left the top-K region and was refused for it (ρ < HYBRID_CROSS_RHO) */
  regionChange: boolean;
  /** the step left the top-K region (some sample's active set changed), accepted or not */
  crossed: boolean;
  /** a refused crossing cut short of the region's boundary and kept instead (NewtonPhase.toBoundary) */
  toBoundary?: boolean;
  step: TrustRegionStep;
  /** the radius the step was proposed in */
  radius: number;
  /** the gain the step made (before any extension) */
  gain: number;
  /** an accepted step extended to α times its length (1: not extended) */
  alpha: number;
}

/**
 * The trust-region phase of one run. `evaluate(model)` must return the log-likelihood at the model,
 * a pure function of the model's bits (the same model gives the same value): the phase never
 * evaluates a point twice, so the backend's responsibilities are not kept at the current point —
 * the caller evaluates again (with its E-step) when the phase ends.
 */
export class NewtonPhase {
  readonly layout: ParamLayout;
  readonly box: Box;
  private tr: TrustRegion;
  private theta: Float64Array;
  private derivs: LogLikDerivatives | null = null;
  private mask: Uint8Array | null = null;
  /** the last point tried left the current top-K region */
  private crossed = false;
  /** the last top-K point tried: its active sets */
  private trialMask: Uint8Array | null = null;
  /** top-K ranking scores (linear in θ) at the current point and at the last point tried */
  private scores: Float64Array | null = null;
  private trialScores: Float64Array | null = null;
  /** the top-K scores and masks are written into these (n × k each, allocated once: a trial costs no garbage) */
  private current: RegionBuffers | null = null;
  private trial: RegionBuffers | null = null;
  /** switches pinned to samples (hybrid-tie.ts): held on the region's boundary, their elimination, the reduced derivatives */
  ties: Tie[] = [];
  private tieSet: TieSet | null = null;
  private reducedD: { g: Float64Array; H: Float64Array } | null = null;
  /** the current point's model, restored bit for bit after a refused step (pack/unpack round-trips log ν) */
  private saved: Model;
  hessians = 0;
  /** exact Hessians through the kernel registry's 'hessian' operation (inference/hessian-fast.ts) */
  readonly fastHessian: boolean;
  /**
   * the exact Hessian is a WebAssembly kernel, the softmax gate's or the activation gates'
   * (hessian-activation.ts): a few EM iterations' cost, so the switch rule hands over sooner
   */
  readonly kernelHessian: boolean;
  /** a gate that is a softmax's over τ, τ held: its exact Hessian through the softmax kernel (hessian-proxy.ts) */
  private readonly proxy: SoftmaxProxy | null;

  /**
   * ties held for the whole fit (sample −1): with one variance shared by all experts, log ν_j = log ν_0
   * for every j, eliminated as the pinned switches are (so every ν takes the same step, bit for bit)
   */
  private readonly fixed: Tie[];

  /** the switches pinned to samples now (the held ties less a shared variance's) */
  get switches(): Tie[] {
    return this.ties.filter((t) => t.sample >= 0);
  }

  constructor(
    private readonly model: Model,
    private readonly data: Dataset,
    private readonly varianceFloor: number,
    tauMode: 'free' | 'fixed',
    private readonly bounds?: Bounds,
    variance: 'free' | 'equal' = 'free',
  ) {
    this.layout = hybridLayout(model, tauMode);
    this.fixed = variance === 'equal' ? sharedVarianceTies(this.layout) : [];
    this.box = hybridBox(this.layout, varianceFloor, bounds);
    this.tr = new TrustRegion(this.layout.P);
    this.theta = new Float64Array(this.layout.P);
    this.saved = cloneModel(model);
    this.fastHessian = fastHessianSimd(this.layout, model, data);
    this.proxy = this.fastHessian ? null : softmaxProxy(this.layout, model, data);
    this.kernelHessian = this.fastHessian || this.proxy !== null || activationHessianSimd(model, data);
  }

  /**
   * Starts (or restarts, after EM moved the model) at the model: derivatives there. The first phase's
   * radius is the full Newton step's (or 1 where −H is indefinite); a later phase's is the one the last
   * phase ended with, at least HYBRID_RESTART_RADIUS. Why: where −H is nearly singular the full Newton
   * step is huge (a top-K gate running away: 10^6 in the scaled metric), HYBRID_MAX_REFUSALS quarterings
   * left it at 10^4, and each return to EM began again at 10^6, so the trust region never reached a step
   * that gains and EM crawled 1 400–2 700 iterations (topk-over, n = 50 526). The floor keeps a phase
   * able to leave a saddle along −H's negative curvature (a radius carried down to 1e-12 could not).
   */
  reset(): void {
    const last = this.tr.radius;
    this.tr = new TrustRegion(
      this.layout.P,
      Number.isFinite(last) ? { radius: Math.max(last, HYBRID_RESTART_RADIUS) } : {},
    );
    this.ties = [...this.fixed];
    this.tieSet = null;
    this.refresh();
  }

  private refresh(): void {
    this.saved = cloneModel(this.model);
    packParams(this.layout, this.model, this.theta);
    // on the floor exactly (EM clamps ν there): log ν may round just below log floor
    const lo = this.box.lower!;
    for (let t = 0; t < this.layout.P; t++) if (this.theta[t]! < lo[t]!) this.theta[t] = lo[t]!;
    const hi = this.box.upper;
    if (hi) for (let t = 0; t < this.layout.P; t++) if (this.theta[t]! > hi[t]!) this.theta[t] = hi[t]!;
    // top-K: the point's region (the Hessian below is that piece's, and takes the same mask)
    const { X, n } = this.data;
    if (isMasked(this.model.gate)) {
      const b = (this.current ??= regionBuffers(n * this.model.k));
      this.scores = b.scores;
      this.mask = activeSet(this.model, X, n, b.mask, b.scores);
    }
    // the softmax gate's Hessian as a WebAssembly moment kernel where it runs (≈ 13–16× the JS loop)
    // the activation / temperature gates' block sums (inference/hessian-activation.ts, ≈ 2–4× the reference)
    // top-K: the softmax kernels on the rows grouped by active set (inference/hessian-topk.ts, ≈ 20× the reference)
    // the identity gate (τ held): the softmax kernel on its proxy (β1/τ), by the chain rule (hessian-proxy.ts)
    this.derivs =
      (this.fastHessian ? fastLogLikDerivatives(this.layout, this.model, this.data) : null) ??
      (this.proxy ? proxyLogLikDerivatives(this.proxy, this.layout, this.model, this.data) : null) ??
      topkLogLikDerivatives(this.layout, this.model, this.data, this.mask) ??
      activationLogLikDerivatives(this.layout, this.model, this.data) ??
      logLikDerivatives(this.layout, this.model, this.data, true);
    this.hessians++;
    // parameters L does not depend on near θ (zero gradient and curvature: top-1's gate within its
    // region, an expert with no responsibility) are held, as se.ts leaves them out
    const { gradient: g, hessian: H } = this.derivs;
    const P = this.layout.P;
    const held = new Uint8Array(P);
    for (let s = 0; s < P; s++) {
      let any = g[s] !== 0;
      for (let t = 0; t < P && !any; t++) any = H![s * P + t] !== 0;
      held[s] = any ? 0 : 1;
    }
    this.box.held = held;
    if (this.ties.length > 0) {
      // a tie is released once L rises into the piece away from it (its multiplier's sign): h grows along +c
      const lambda = tieMultipliers(g, this.ties);
      this.ties = this.ties.filter((t, i) => t.sample < 0 || !(lambda[i]! > 0));
      this.holdTies();
    }
  }

  /** Eliminates the held ties (refresh's derivatives reduced, pivots held); false when a new row is dependent. */
  private holdTies(): boolean {
    if (this.ties.length === 0) {
      this.tieSet = null;
      return true;
    }
    const set = eliminate(this.ties, this.layout.P);
    if (!set) return false;
    const d = this.derivs!;
    this.tieSet = set;
    this.reducedD = reduceByTies(d.gradient, d.hessian!, this.layout.P, set);
    for (const p of set.pivots) this.box.held![p] = 1;
    return true;
  }

  /** g and H the trust region works with: the ties' reduced ones while switches are pinned */
  private gh(): { g: Float64Array; H: Float64Array } {
    const d = this.derivs!;
    return this.tieSet ? this.reducedD! : { g: d.gradient, H: d.hessian! };
  }

  /** The Newton decrement and the diagonal-metric gradient at the current point (active bounds held). */
  decrement(): NewtonDecrement {
    const { g, H } = this.gh();
    return newtonDecrement(g, H, this.layout.P, freeCoordinates(this.theta, g, this.box));
  }

  /**
   * One trust-region step from the current point, whose log-likelihood (as `evaluate` computes it)
   * is `current`. On refusal the model is restored at the current point (bit for bit: its
   * log-likelihood is `current` again).
   */
  attempt(current: number, evaluate: (m: Model) => number): NewtonAttempt {
    const { g, H } = this.gh();
    const step = this.tr.propose(this.theta, g, H, this.box);
    const radius = this.tr.radius; // after propose, which sets the first step's
    if (this.tieSet) expandStep(step.step, this.tieSet);
    const trial = new Float64Array(this.layout.P);
    for (let t = 0; t < trial.length; t++) trial[t] = this.theta[t]! + step.step[t]!;
    const ll = this.tryPoint(trial, evaluate, true);
    const crossed = this.crossed;
    const regionChange = crossed && !((ll - current) / step.predicted >= HYBRID_CROSS_RHO);
    if (regionChange) {
      const crossedTo = this.trialMask!.slice(); // toBoundary's trials reuse the trial buffers
      const cut = this.toBoundary(step, current, evaluate, radius);
      if (cut) return cut;
      this.trialMask = crossedTo;
    }
    const accepted = this.tr.judge(step, ll - current, regionChange);
    if (accepted) {
      // an interior Newton step whose gain the quadratic model predicted (ρ ≈ 1) is not extended:
      // along it the model's gain at α = 2 is 0; one with ρ > HYBRID_EXTEND_RHO (the model
      // underestimates the gain, as along a quartic near-flat direction) is, and so is a boundary
      // step unless the model overestimated its gain (ρ < HYBRID_EXTEND_BOUNDARY_RHO)
      const rho = (ll - current) / step.predicted;
      const extend = step.newton ? rho > HYBRID_EXTEND_RHO : rho >= HYBRID_EXTEND_BOUNDARY_RHO;
      const ext = extend ? this.extend(step, ll, evaluate) : { best: ll, alpha: 1 };
      this.refresh();
      return { accepted, logLik: ext.best, regionChange, crossed, step, radius, gain: ll - current, alpha: ext.alpha };
    }
    this.restore();
    if (regionChange) {
      const tie = findTie(this.model, this.data.X, this.layout, this.mask!, this.trialMask!, HYBRID_TIE_TOL);
      if (tie && !this.ties.some((t) => t.sample === tie.sample)) {
        this.ties.push(tie);
        // a tie whose row depends on the held ones' is not added
        if (!this.holdTies()) {
          this.ties.pop();
          this.holdTies();
        }
      }
    }
    return { accepted, logLik: current, regionChange, crossed, step, radius, gain: ll - current, alpha: 1 };
  }

  /**
   * A refused crossing's step cut where it first leaves the region (the top-K ranking scores are linear in
   * θ), a margin of ~1e-10 short of the boundary: kept when it gains (ρ ≥ TR_ETA against the quadratic
   * model of the shorter step). Why: a switch point between two samples 1e-8 apart (topk-over, n = 4e4)
   * drew steps that crossed both and jumped down by 2 nats, the radius never shrank enough to reach the
   * boundary in HYBRID_MAX_REFUSALS tries, and EM crept for 5 000 iterations; on the boundary the next
   * refused crossing finds its tie (hybrid-tie.ts). The last point tried is the refused step's. `radius`: the
   * one the step was proposed in, which the kept cut reports.
   */
  private toBoundary(
    step: TrustRegionStep,
    current: number,
    evaluate: (m: Model) => number,
    radius: number,
  ): NewtonAttempt | null {
    const c = firstCrossing(
      this.scores!,
      this.trialScores!,
      this.mask!,
      this.model.k,
      this.ties.map((t) => t.sample),
    );
    // already on that boundary (within findTie's tolerance): the tie is pinned instead
    if (!c || c.margin <= HYBRID_TIE_TOL * (1 + c.scale)) return null;
    const { g, H } = this.gh();
    const P = this.layout.P;
    const ts = new Float64Array(P);
    const trial = new Float64Array(P);
    for (let r = 0; r < 3; r++) {
      // rounding may carry the sample across: a wider margin
      const tau = (c.margin - 1e-10 * 8 ** r * (1 + c.scale)) / c.rate;
      if (!(tau > 0 && tau < 1)) break;
      for (let u = 0; u < P; u++) {
        ts[u] = tau * step.step[u]!;
        trial[u] = this.theta[u]! + ts[u]!;
      }
      const ll = this.tryPoint(trial, evaluate);
      if (Number.isNaN(ll)) continue;
      const cut: TrustRegionStep = {
        step: ts,
        predicted: quadraticGain(g, H, P, ts),
        norm: tau * step.norm,
        newton: false,
      };
      const gain = ll - current;
      // a gain within the log-likelihood's rounding is no progress
      if (!(gain > 64 * Number.EPSILON * Math.abs(current) && cut.predicted > 0 && gain / cut.predicted >= TR_ETA))
        break;
      this.tr.judge(cut, gain);
      this.refresh();
      return {
        accepted: true,
        logLik: ll,
        regionChange: false,
        crossed: false,
        toBoundary: true,
        step: cut,
        radius,
        gain,
        alpha: 1,
      };
    }
    this.restore();
    return null;
  }

  /**
   * After an accepted step s: the points θ + α s for α = 2, 4, … (projected onto the box) while
   * the log-likelihood keeps rising, at one evaluation each (a Hessian costs 15–30). Why: the
   * radius doubles per accepted step, so a boundary step with ρ ≈ 1 is typically far shorter
   * than the ascent it starts; and near a singular optimum (L quartic along the near-flat
   * direction) full Newton steps only contract by 2/3, so going further along them pays.
   * Leaves the model at the best point (monotone) and grows the radius to the step taken.
   * @returns the log-likelihood there (as `evaluate` gave it) and α
   */
  private extend(step: TrustRegionStep, ll: number, evaluate: (m: Model) => number): { best: number; alpha: number } {
    const P = this.layout.P;
    let best = ll;
    let bestAlpha = 1;
    const trial = new Float64Array(P);
    const at = (alpha: number): Float64Array => {
      for (let t = 0; t < P; t++) {
        let v = this.theta[t]! + alpha * step.step[t]!;
        if (alpha === 1) {
          trial[t] = v; // the accepted trial itself, bit for bit
          continue;
        }
        if (this.box.lower && v < this.box.lower[t]!) v = this.box.lower[t]!;
        if (this.box.upper && v > this.box.upper[t]!) v = this.box.upper[t]!;
        trial[t] = v;
      }
      return trial;
    };
    for (let alpha = 2; alpha <= HYBRID_MAX_EXTENSION; alpha *= 2) {
      const v = this.tryPoint(at(alpha), evaluate);
      if (!(v > best)) break;
      best = v;
      bestAlpha = alpha;
    }
    // the model holds the last trial: put it back at the best one, bit for bit (so `best` is its value)
    const end = at(bestAlpha);
    this.setModel(end);
    if (this.tieSet) this.keepSide(end); // as tryPoint did
    if (bestAlpha > 1)
      this.tr.radius = Math.min(Math.max(this.tr.radius, 2 * bestAlpha * step.norm), this.tr.maxRadius);
    return { best, alpha: bestAlpha };
  }

  /**
   * Sets the model to θ and evaluates it. A top-K point outside the current region (some sample's
   * active set changed) sets `crossed`, and is NaN unless `cross`.
   */
  private tryPoint(theta: Float64Array, evaluate: (m: Model) => number, cross = false): number {
    this.setModel(theta);
    this.crossed = false;
    if (this.tieSet) this.keepSide(theta);
    if (this.mask) {
      const { X, n } = this.data;
      const b = (this.trial ??= regionBuffers(n * this.model.k));
      this.trialScores = b.scores;
      this.trialMask = activeSet(this.model, X, n, b.mask, b.scores);
      this.crossed = !sameBytes(b.mask, this.mask);
      if (this.crossed && !cross) return NaN;
    }
    return evaluate(this.model);
  }

  /**
   * The pinned samples stay on their sides under rounding (β of 1e5 round logits by 1e-11, more than a
   * tie's margin): the pivot coordinates are moved (one r × r solve on the ties' rows there) until every
   * active expert still wins its tie-break, by a margin that grows with each try.
   */
  private keepSide(theta: Float64Array): void {
    const { ties, pivots } = this.tieSet!;
    const X = this.data.X;
    const r = ties.length;
    for (let k = 0; k < 8; k++) {
      const rhs = new Float64Array(r);
      let all = true;
      for (let j = 0; j < r; j++) {
        const tie = ties[j]!;
        if (tie.sample < 0) continue; // a shared variance's tie: its row keeps rhs 0
        const h = tieMargin(this.model, X, tie);
        if (tie.active < tie.inactive ? h >= 0 : h > 0) continue;
        all = false;
        rhs[j] = -h + 4 * Number.EPSILON * tieScale(this.model, X, tie) * 2 ** k;
      }
      if (all) return;
      const A = new Float64Array(r * r);
      for (let j = 0; j < r; j++) for (let i = 0; i < r; i++) A[j * r + i] = ties[j]!.c[pivots[i]!]!;
      const delta = solveSmall(A, rhs, r);
      for (let i = 0; i < r; i++) theta[pivots[i]!] = theta[pivots[i]!]! + delta[i]!;
      this.setModel(theta);
    }
  }

  /** Back at the current point, bit for bit (pack/unpack round-trips log ν). */
  private restore(): void {
    copyParams(this.saved, this.model);
  }

  private setModel(theta: Float64Array): void {
    unpackParams(this.layout, theta, this.model);
    for (let j = 0; j < this.model.k; j++)
      if (this.model.nu[j]! < this.varianceFloor) this.model.nu[j] = this.varianceFloor;
    if (this.bounds) projectToBounds(this.model, this.bounds, hasTau(this.model.gate));
  }
}

/** The rows log ν_j − log ν_0 = 0 (j ≥ 1) of one shared variance, as ties held for the whole fit. */
function sharedVarianceTies(L: ParamLayout): Tie[] {
  const out: Tie[] = [];
  for (let j = 1; j < L.k; j++) {
    const c = new Float64Array(L.P);
    c[nuIndex(L, j)] = 1;
    c[nuIndex(L, 0)] = -1;
    out.push({ sample: -1, active: -1, inactive: -1, c });
  }
  return out;
}
