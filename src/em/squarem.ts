/**
 * SQUAREM extrapolation of the EM map (Varadhan & Roland 2008, scheme SqS3, with the step-length
 * adaptation of the R package SQUAREM): from θ0, two EM steps give θ1 = M(θ0), θ2 = M(θ1); with
 * r = θ1 − θ0, v = θ2 − 2θ1 + θ0 and α = ‖r‖/‖v‖ clamped to [1, αmax], the point
 * θ0 + 2αr + α²v (α = 1 gives θ2 back) is stabilised by one more EM step and accepted only if its
 * log-likelihood is at least θ2's — so the recorded log-likelihoods still never decrease.
 *
 * Why: an over-specified fit's EM converges sublinearly along the directions that split a true
 * atom (the fraction of missing information tends to 1 there), taking thousands of iterations;
 * the extrapolation follows those slow directions in a few cycles.
 *
 * The parameters are extrapolated as one vector [β0, β1, a, b, log ν, log τ] (ν, τ on the log
 * scale so they stay > 0); fixed gate entries (the reference expert) have zero differences and
 * stay fixed.
 */
import type { Model } from '../models/types.js';

/** Length of the extrapolation vector of a model. */
export function squaremLength(m: Model): number {
  return m.k * (3 + 2 * m.d) + 1;
}

/** Writes the parameters of m into v (see module doc for the layout). */
export function packParams(m: Model, v: Float64Array): void {
  const { k, d } = m;
  let o = 0;
  for (let j = 0; j < k; j++) v[o++] = m.beta0[j]!;
  for (let t = 0; t < k * d; t++) v[o++] = m.beta1[t]!;
  for (let t = 0; t < k * d; t++) v[o++] = m.a[t]!;
  for (let j = 0; j < k; j++) v[o++] = m.b[j]!;
  for (let j = 0; j < k; j++) v[o++] = Math.log(m.nu[j]!);
  v[o] = Math.log(m.tau);
}

/** Reads v back into m; variances below `varianceFloor` are raised to it. */
export function unpackParams(v: Float64Array, m: Model, varianceFloor: number): void {
  const { k, d } = m;
  let o = 0;
  for (let j = 0; j < k; j++) m.beta0[j] = v[o++]!;
  for (let t = 0; t < k * d; t++) m.beta1[t] = v[o++]!;
  for (let t = 0; t < k * d; t++) m.a[t] = v[o++]!;
  for (let j = 0; j < k; j++) m.b[j] = v[o++]!;
  for (let j = 0; j < k; j++) m.nu[j] = Math.max(Math.exp(v[o++]!), varianceFloor);
  m.tau = Math.exp(v[o]!);
}

/** Step-length state of one run (R SQUAREM's step.max0 = 1, mstep = 4). */
export class SquaremStep {
  alphaMax = 1;
  private static readonly MSTEP = 4;

  /**
   * The SqS3 step length for θ0, θ1, θ2, clamped to [1, alphaMax]; 1 means "no extrapolation".
   * Writes the extrapolated point into out.
   */
  extrapolate(p0: Float64Array, p1: Float64Array, p2: Float64Array, out: Float64Array): number {
    let sr = 0;
    let sv = 0;
    for (let t = 0; t < p0.length; t++) {
      const r = p1[t]! - p0[t]!;
      const v = p2[t]! - 2 * p1[t]! + p0[t]!;
      sr += r * r;
      sv += v * v;
    }
    if (!(sv > 0) || !Number.isFinite(sr)) return 1;
    const alpha = Math.max(1, Math.min(this.alphaMax, Math.sqrt(sr / sv)));
    for (let t = 0; t < p0.length; t++) {
      const r = p1[t]! - p0[t]!;
      const v = p2[t]! - 2 * p1[t]! + p0[t]!;
      out[t] = p0[t]! + 2 * alpha * r + alpha * alpha * v;
    }
    return alpha;
  }

  /** Adapts αmax after a step of length alpha was accepted or refused. */
  update(alpha: number, accepted: boolean): void {
    if (alpha < this.alphaMax) return;
    this.alphaMax = accepted ? this.alphaMax * SquaremStep.MSTEP : Math.max(1, this.alphaMax / SquaremStep.MSTEP);
  }
}
