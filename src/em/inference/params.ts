/**
 * One packed vector θ of every free parameter of a fit, for the observed log-likelihood's gradient
 * and Hessian (standard errors now, a trust-region maximiser later).
 *
 * Layout (P = gate.p + k(d + 2)):
 *   [0, gate.p)   the gate block, exactly the EM gate M-step's layout (gates/layout.ts): expert by
 *                 expert [β0_j, β1_j,1..d], the reference expert's (k − 1) entries that the gate's
 *                 translation symmetries fix skipped, then τ (as log τ or τ) when τ is free;
 *   then expert j at gate.p + j(d + 2): [a_j,1..d, b_j, ν_j (as log ν_j or ν_j)].
 * Fixed entries are never written by unpack: the model must already have them (normalizeGate).
 */
import { hasTau, type GateSpec, type Model } from '../../models/types.js';
import { gateLayout, layoutLabels, type GateLayoutInfo } from '../gates/layout.js';

export type Scale = 'log' | 'natural';

export interface ParamLayoutOptions {
  /** 'free' (default): τ is a parameter when the gate has one; 'fixed': τ is held at the model's value */
  tauMode?: 'free' | 'fixed';
  /** τ as log τ (default) or τ */
  tauScale?: Scale;
  /** ν_j as log ν_j (default) or ν_j (a variance, not a standard deviation) */
  nuScale?: Scale;
}

export interface ParamLayout {
  gate: GateLayoutInfo;
  k: number;
  d: number;
  tauScale: Scale;
  nuScale: Scale;
  /** index of expert 0's block (= gate.p) */
  expertOffset: number;
  /** length of θ */
  P: number;
  /** labels, e.g. "beta0[0]", "beta1[0][0]", "log tau", "a[1][0]", "b[1]", "log nu[1]" (0-based) */
  labels: string[];
}

/** The packed layout of a k-expert, d-dimensional fit of the gate `spec`. */
export function paramLayout(spec: GateSpec, k: number, d: number, opts: ParamLayoutOptions = {}): ParamLayout {
  const gate = gateLayout(spec, k, d, hasTau(spec) ? (opts.tauMode ?? 'free') : 'fixed');
  const tauScale = opts.tauScale ?? 'log';
  const nuScale = opts.nuScale ?? 'log';
  const labels = layoutLabels(gate);
  if (gate.tauIndex >= 0 && tauScale === 'log') labels[gate.tauIndex] = 'log tau';
  for (let j = 0; j < k; j++) {
    for (let l = 0; l < d; l++) labels.push(`a[${j}][${l}]`);
    labels.push(`b[${j}]`, nuScale === 'log' ? `log nu[${j}]` : `nu[${j}]`);
  }
  return { gate, k, d, tauScale, nuScale, expertOffset: gate.p, P: gate.p + k * (d + 2), labels };
}

/** The index of expert j's ν_j (or log ν_j) in θ. */
export function nuIndex(L: ParamLayout, j: number): number {
  return L.expertOffset + j * (L.d + 2) + L.d + 1;
}

/** θ ← the model's free parameters. */
export function packParams(L: ParamLayout, m: Model, theta: Float64Array = new Float64Array(L.P)): Float64Array {
  const { gate, k, d } = L;
  for (let j = 0; j < k; j++) {
    if (gate.b0Index[j]! >= 0) theta[gate.b0Index[j]!] = m.beta0[j]!;
    if (gate.b1Index[j]! >= 0) for (let l = 0; l < d; l++) theta[gate.b1Index[j]! + l] = m.beta1[j * d + l]!;
  }
  if (gate.tauIndex >= 0) theta[gate.tauIndex] = L.tauScale === 'log' ? Math.log(m.tau) : m.tau;
  for (let j = 0, o = L.expertOffset; j < k; j++, o += d + 2) {
    for (let l = 0; l < d; l++) theta[o + l] = m.a[j * d + l]!;
    theta[o + d] = m.b[j]!;
    theta[o + d + 1] = L.nuScale === 'log' ? Math.log(m.nu[j]!) : m.nu[j]!;
  }
  return theta;
}

/** The model's free parameters ← θ (in place; fixed entries and the gate spec untouched). */
export function unpackParams(L: ParamLayout, theta: Float64Array, m: Model): Model {
  const { gate, k, d } = L;
  for (let j = 0; j < k; j++) {
    if (gate.b0Index[j]! >= 0) m.beta0[j] = theta[gate.b0Index[j]!]!;
    if (gate.b1Index[j]! >= 0) for (let l = 0; l < d; l++) m.beta1[j * d + l] = theta[gate.b1Index[j]! + l]!;
  }
  if (gate.tauIndex >= 0) m.tau = L.tauScale === 'log' ? Math.exp(theta[gate.tauIndex]!) : theta[gate.tauIndex]!;
  for (let j = 0, o = L.expertOffset; j < k; j++, o += d + 2) {
    for (let l = 0; l < d; l++) m.a[j * d + l] = theta[o + l]!;
    m.b[j] = theta[o + d]!;
    m.nu[j] = L.nuScale === 'log' ? Math.exp(theta[o + d + 1]!) : theta[o + d + 1]!;
  }
  return m;
}
