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
 * gain well (ρ ≥ HYBRID_CROSS_RHO), and a switch pinned to a sample (two experts' logits tied there,
 * the likelihood dropping across) is held on the boundary (hybrid-tie.ts); EM's switch moves cross
 * between pieces too; the identity gate
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
import { activationHessianSimd, activationLogLikDerivatives } from './inference/hessian-activation.js';
import { gateBox, projectToBounds, type Bounds } from './bounds.js';
import { expandStep, findTie, reduceByTie, tieMargin, type Tie } from './hybrid-tie.js';
import { packParams, paramLayout, unpackParams, type ParamLayout } from './inference/params.js';
import {
  freeCoordinates,
  newtonDecrement,
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
/** EM iterations the hybrid needs before the first hand-over (and after each return to EM). */
export const HYBRID_MIN_EM = 5;

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
  for (let j = 0; j < L.k; j++) lower[L.expertOffset + j * (L.d + 2) + L.d + 1] = nuLo;
  if (!bounds) return { lower };
  const upper = new Float64Array(L.P).fill(Infinity);
  // the gate block of θ is the gate layout's θ (log τ included)
  const g = gateBox(L.gate, bounds);
  if (g) {
    lower.set(g.lo);
    upper.set(g.hi);
  }
  if (bounds.nu) for (let j = 0; j < L.k; j++) upper[L.expertOffset + j * (L.d + 2) + L.d + 1] = Math.log(bounds.nu[1]);
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
  step: TrustRegionStep;
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
  /** a switch pinned to a sample (hybrid-tie.ts): held on the region's boundary, and the reduced derivatives */
  tie: Tie | null = null;
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

  constructor(
    private readonly model: Model,
    private readonly data: Dataset,
    private readonly varianceFloor: number,
    tauMode: 'free' | 'fixed',
    private readonly bounds?: Bounds,
  ) {
    this.layout = hybridLayout(model, tauMode);
    this.box = hybridBox(this.layout, varianceFloor, bounds);
    this.tr = new TrustRegion(this.layout.P);
    this.theta = new Float64Array(this.layout.P);
    this.saved = cloneModel(model);
    this.fastHessian = fastHessianSimd(this.layout, model, data);
    this.kernelHessian = this.fastHessian || activationHessianSimd(model, data);
  }

  /** Starts (or restarts, after EM moved the model) at the model: derivatives there, a fresh radius. */
  reset(): void {
    this.tr = new TrustRegion(this.layout.P);
    this.tie = null;
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
    // the softmax gate's Hessian as a WebAssembly moment kernel where it runs (≈ 13–16× the JS loop)
    // the activation / temperature gates' block sums (inference/hessian-activation.ts, ≈ 2–4× the reference)
    this.derivs =
      (this.fastHessian ? fastLogLikDerivatives(this.layout, this.model, this.data) : null) ??
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
    this.mask = isMasked(this.model.gate) ? activeSet(this.model, this.data.X, this.data.n) : null;
    if (this.tie) {
      // released once L rises into the piece (its multiplier's sign): h grows along +c
      let gc = 0;
      for (let u = 0; u < P; u++) gc += g[u]! * this.tie.c[u]!;
      if (gc > 0) this.tie = null;
      else this.holdTie();
    }
  }

  private holdTie(): void {
    const d = this.derivs!;
    this.reducedD = reduceByTie(d.gradient, d.hessian!, this.layout.P, this.tie!);
    this.box.held![this.tie!.t] = 1;
  }

  /** g and H the trust region works with: the tie's reduced ones while a switch is pinned */
  private gh(): { g: Float64Array; H: Float64Array } {
    const d = this.derivs!;
    return this.tie ? this.reducedD! : { g: d.gradient, H: d.hessian! };
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
    if (this.tie) expandStep(step.step, this.tie);
    const trial = new Float64Array(this.layout.P);
    for (let t = 0; t < trial.length; t++) trial[t] = this.theta[t]! + step.step[t]!;
    const ll = this.tryPoint(trial, evaluate, true);
    const crossed = this.crossed;
    const regionChange = crossed && !((ll - current) / step.predicted >= HYBRID_CROSS_RHO);
    const accepted = this.tr.judge(step, ll - current, regionChange);
    if (accepted) {
      // an interior Newton step whose gain the quadratic model predicted (ρ ≈ 1) is not extended:
      // along it the model's gain at α = 2 is 0; one with ρ > HYBRID_EXTEND_RHO (the model
      // underestimates the gain, as along a quartic near-flat direction) is, and so is a boundary
      // step unless the model overestimated its gain (ρ < HYBRID_EXTEND_BOUNDARY_RHO)
      const rho = (ll - current) / step.predicted;
      const extend = step.newton ? rho > HYBRID_EXTEND_RHO : rho >= HYBRID_EXTEND_BOUNDARY_RHO;
      const best = extend ? this.extend(step, ll, evaluate) : ll;
      this.refresh();
      return { accepted, logLik: best, regionChange, crossed, step };
    }
    this.restore();
    if (regionChange && !this.tie) {
      this.tie = findTie(this.model, this.data.X, this.layout, this.mask!, this.trialMask!, 1e-9);
      if (this.tie) this.holdTie();
    }
    return { accepted, logLik: current, regionChange, crossed, step };
  }

  /**
   * After an accepted step s: the points θ + α s for α = 2, 4, … (projected onto the box) while
   * the log-likelihood keeps rising, at one evaluation each (a Hessian costs 15–30). Why: the
   * radius doubles per accepted step, so a boundary step with ρ ≈ 1 is typically far shorter
   * than the ascent it starts; and near a singular optimum (L quartic along the near-flat
   * direction) full Newton steps only contract by 2/3, so going further along them pays.
   * Leaves the model at the best point (monotone) and grows the radius to the step taken.
   * @returns the log-likelihood there (as `evaluate` gave it)
   */
  private extend(step: TrustRegionStep, ll: number, evaluate: (m: Model) => number): number {
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
    if (this.tie) this.keepSide(end); // as tryPoint did
    if (bestAlpha > 1)
      this.tr.radius = Math.min(Math.max(this.tr.radius, 2 * bestAlpha * step.norm), this.tr.maxRadius);
    return best;
  }

  /**
   * Sets the model to θ and evaluates it. A top-K point outside the current region (some sample's
   * active set changed) sets `crossed`, and is NaN unless `cross`.
   */
  private tryPoint(theta: Float64Array, evaluate: (m: Model) => number, cross = false): number {
    this.setModel(theta);
    this.crossed = false;
    if (this.tie) this.keepSide(theta);
    if (this.mask) {
      const now = activeSet(this.model, this.data.X, this.data.n);
      this.trialMask = now;
      for (let t = 0; t < now.length && !this.crossed; t++) this.crossed = now[t] !== this.mask[t];
      if (this.crossed && !cross) return NaN;
    }
    return evaluate(this.model);
  }

  /**
   * The pinned sample stays on its side under rounding (β of 1e5 round logits by 1e-11, more than the
   * tie's margin): the eliminated coordinate is moved until the active expert still wins the tie-break.
   */
  private keepSide(theta: Float64Array): void {
    const tie = this.tie!;
    const X = this.data.X;
    const ok = (h: number): boolean => (tie.active < tie.inactive ? h >= 0 : h > 0);
    for (let r = 0; r < 8; r++) {
      const h = tieMargin(this.model, X, tie);
      if (ok(h)) return;
      const ct = tie.c[tie.t]!;
      theta[tie.t] = theta[tie.t]! - h / ct + Math.sign(ct) * Number.EPSILON * Math.abs(theta[tie.t]!) * 2 ** r;
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
