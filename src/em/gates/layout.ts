/**
 * The free parameters of a gate M-step. The translation symmetries the gate has (read from
 * Gate.symmetries, never from its name) are removed by fixing the reference expert — the last
 * one, as the authors' EM does — at β0 = 0 and/or β1 = 0; τ is optimised as log τ (so it stays
 * > 0) when the gate has one and tauMode is 'free'. Layout: expert by expert [β0_j, β1_j,1..d],
 * fixed entries skipped, then log τ.
 */
import { getGate } from '../../models/gates/index.js';
import type { GateSpec, Model } from '../../models/types.js';
import type { GateLayout } from '../backend/types.js';

export interface GateLayoutInfo extends GateLayout {
  /** index of the reference expert (k − 1) */
  ref: number;
  fixB0Ref: boolean;
  fixB1Ref: boolean;
}

/** The layout of a k-expert, d-dimensional gate. */
export function gateLayout(spec: GateSpec, k: number, d: number, tauMode: 'free' | 'fixed'): GateLayoutInfo {
  const gate = getGate(spec);
  const sym = gate.symmetries(spec);
  const ref = k - 1;
  const b0Index = new Int32Array(k);
  const b1Index = new Int32Array(k);
  let p = 0;
  for (let j = 0; j < k; j++) {
    b0Index[j] = j === ref && sym.translationBeta0 ? -1 : p++;
    if (j === ref && sym.translationBeta1) b1Index[j] = -1;
    else {
      b1Index[j] = p;
      p += d;
    }
  }
  const tauIndex = gate.hasTau && tauMode === 'free' ? p++ : -1;
  const linear = gate.form !== 'activation';
  return {
    k,
    d,
    p,
    b0Index,
    b1Index,
    tauIndex,
    linear,
    ref,
    fixB0Ref: sym.translationBeta0,
    fixB1Ref: sym.translationBeta1,
  };
}

/** Labels of the free parameters, e.g. "beta0[0]", "beta1[0][0]", "tau" (0-based). */
export function layoutLabels(L: GateLayout): string[] {
  const out = new Array<string>(L.p);
  for (let j = 0; j < L.k; j++) {
    if (L.b0Index[j]! >= 0) out[L.b0Index[j]!] = `beta0[${j}]`;
    if (L.b1Index[j]! >= 0) for (let a = 0; a < L.d; a++) out[L.b1Index[j]! + a] = `beta1[${j}][${a}]`;
  }
  if (L.tauIndex >= 0) out[L.tauIndex] = 'tau';
  return out;
}

/** Labels of the parameters the layout holds fixed to remove the translation symmetries. */
export function fixedLabels(L: GateLayoutInfo): string[] {
  const out: string[] = [];
  if (L.fixB0Ref) out.push(`beta0[${L.ref}]`);
  if (L.fixB1Ref) for (let a = 0; a < L.d; a++) out.push(`beta1[${L.ref}][${a}]`);
  return out;
}

/** θ ← the model's free gate parameters. */
export function packGate(L: GateLayout, m: Model, theta: Float64Array): void {
  for (let j = 0; j < L.k; j++) {
    if (L.b0Index[j]! >= 0) theta[L.b0Index[j]!] = m.beta0[j]!;
    if (L.b1Index[j]! >= 0) for (let a = 0; a < L.d; a++) theta[L.b1Index[j]! + a] = m.beta1[j * L.d + a]!;
  }
  if (L.tauIndex >= 0) theta[L.tauIndex] = Math.log(m.tau);
}

/** The model's free gate parameters ← θ (fixed ones untouched). */
export function unpackGate(L: GateLayout, theta: Float64Array, m: Model): void {
  for (let j = 0; j < L.k; j++) {
    if (L.b0Index[j]! >= 0) m.beta0[j] = theta[L.b0Index[j]!]!;
    if (L.b1Index[j]! >= 0) for (let a = 0; a < L.d; a++) m.beta1[j * L.d + a] = theta[L.b1Index[j]! + a]!;
  }
  if (L.tauIndex >= 0) m.tau = Math.exp(theta[L.tauIndex]!);
}

/**
 * Moves the model along the gate's translation symmetries so that the reference expert's
 * fixed parameters are exactly 0 (π is unchanged).
 */
export function normalizeGate(L: GateLayoutInfo, m: Model): void {
  const { k, d, ref } = L;
  if (L.fixB0Ref) {
    const t0 = m.beta0[ref]!;
    for (let j = 0; j < k; j++) m.beta0[j] = m.beta0[j]! - t0;
    m.beta0[ref] = 0;
  }
  if (L.fixB1Ref) {
    for (let a = 0; a < d; a++) {
      const t1 = m.beta1[ref * d + a]!;
      for (let j = 0; j < k; j++) m.beta1[j * d + a] = m.beta1[j * d + a]! - t1;
      m.beta1[ref * d + a] = 0;
    }
  }
}

/** Copies the gate parameters (β0, β1, τ) of `src` into `dst`. */
export function copyGateParams(src: Model, dst: Model): void {
  dst.beta0.set(src.beta0);
  dst.beta1.set(src.beta1);
  dst.tau = src.tau;
}
