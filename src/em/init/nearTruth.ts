/**
 * The authors' "near the truth" start (THEORY.md §6; meteoritsSim R/ParamNMoE.R, initParam):
 * fitted atom i gets true atom s_i — the last fitted atom the reference (last) true atom, every
 * true atom used — and Gaussian noise: sd 0.005·n^-0.083 on the gate parameters, 0.05·n^-0.083
 * on the experts' a and b, and |N(0, (0.005·n^-0.25)²)| added to ν.
 *
 * Choices, all switchable (see {@link NearTruthInit}):
 * - assignment 'random' (default) draws s_1..s_{k−1} uniformly, redrawing until every true atom
 *   is used, as the authors' code does; 'ordered' gives fitted atom i < k*−1 true atom i and all
 *   the others the reference; an explicit list (e.g. [0, 0, 1]) chooses which true atoms are split,
 *   so that a study can follow one kind of local maximum by design (docs/experiments.md, "Weighted
 *   two-atom errors").
 * - split weights 'divide' (default) gives the m copies of a true atom β0* − log m so that their
 *   mixing weights add up to the true weight; 'copy' keeps β0* as the authors' code does. 'divide'
 *   is not applied where β0 does more than weight the experts: activation gates with the bias
 *   inside σ, and top-K gates that select on the full logit (it would move the selection boundaries).
 * - noise is drawn independently per coordinate (the authors' code adds one draw to the whole
 *   vector of an atom); the reference expert's fixed gate parameters get none, as in their code.
 * - noise 'fixed' uses the sds at n = 1 (0.005, 0.05, 0.005) whatever n: no shrinking noise that
 *   could fake a rate. noiseScale multiplies every sd.
 * - τ (temperature/activation fits) starts at the truth's τ (1 when the truth has none), times
 *   exp(sd_gate·z) when τ is free (option tau 'perturbed', the default; 'truth' leaves it there),
 *   drawn after everything else so the other coordinates do not depend on it.
 */
import { hasTau, type GateSpec, type Model } from '../../models/types.js';
import { getGate, scaledLinearBias } from '../../models/gates/index.js';
import type { Rng } from '../../random/rng.js';
import type { GateLayoutInfo } from '../gates/layout.js';
import type { NearTruthInit } from '../types.js';

/** Noise sds of the near-truth start for n samples. */
export function nearTruthNoise(
  n: number,
  noise: 'shrinking' | 'fixed' = 'shrinking',
  scale = 1,
): { gate: number; experts: number; variance: number } {
  const m = noise === 'fixed' ? 1 : n;
  return {
    gate: 0.005 * m ** -0.083 * scale,
    experts: 0.05 * m ** -0.083 * scale,
    variance: 0.005 * m ** -0.25 * scale,
  };
}

/**
 * Why an explicit assignment cannot serve a k-expert fit of a k*-atom truth, or undefined when it can:
 * one true atom (0-based) per fitted atom, every true atom used, the last fitted atom on the reference
 * (the last true atom), whose gate parameters the layout may hold at the truth's.
 */
export function assignmentProblem(assign: readonly number[], k: number, kStar: number): string | undefined {
  if (assign.length !== k) return `must list one true atom per fitted expert (k = ${k})`;
  if (assign.some((t) => !Number.isInteger(t) || t < 0 || t >= kStar))
    return `must hold true atoms 0..${kStar - 1} (the truth has ${kStar})`;
  for (let t = 0; t < kStar; t++) if (!assign.includes(t)) return `must use every true atom (${t} is missing)`;
  if (assign[k - 1] !== kStar - 1) return `must end with the reference, true atom ${kStar - 1}`;
  return undefined;
}

/** Assignment of k fitted atoms to kStar true atoms (see module doc). */
export function assignAtoms(
  k: number,
  kStar: number,
  mode: 'random' | 'ordered' | readonly number[],
  rng: Rng,
): Int32Array {
  if (typeof mode !== 'string') return Int32Array.from(mode);
  const s = new Int32Array(k);
  const ref = kStar - 1;
  if (mode === 'ordered') {
    for (let i = 0; i < k; i++) s[i] = i < kStar - 1 ? i : ref;
    return s;
  }
  const used = new Uint8Array(kStar);
  for (;;) {
    used.fill(0);
    for (let i = 0; i < k - 1; i++) {
      s[i] = rng.int(kStar);
      used[s[i]!] = 1;
    }
    s[k - 1] = ref;
    used[ref] = 1;
    let all = true;
    for (let t = 0; t < kStar; t++) if (!used[t]) all = false;
    if (all) return s;
  }
}

/** A near-truth start for a k-expert fit of n samples (see module doc). */
export function nearTruthModel(
  init: NearTruthInit,
  gate: GateSpec,
  k: number,
  n: number,
  layout: GateLayoutInfo,
  rng: Rng,
): Model {
  const truth = init.truth;
  const d = truth.d;
  const kStar = truth.k;
  const s = assignAtoms(k, kStar, init.assign ?? 'random', rng);
  const sd = nearTruthNoise(n, init.noise ?? 'shrinking', init.noiseScale ?? 1);
  const copies = new Int32Array(kStar);
  for (let i = 0; i < k; i++) copies[s[i]!]++;
  // a copy's β0 carries log-weight β0 (bias outside) or β0/τ (the identity with the bias inside); for the
  // other gates dividing β0 would move the σ argument (bias inside) or the top-K ranking (selection on the logit)
  const tau0 = hasTau(gate) ? (hasTau(truth.gate) ? truth.tau : 1) : 1;
  const split = (init.splitWeights ?? 'divide') === 'divide';
  const logWeightScale = !split
    ? 0
    : getGate(gate).biasIsLogWeight(gate)
      ? 1
      : scaledLinearBias(gate) === 'inside'
        ? tau0
        : 0;
  const m: Model = {
    gate: { ...gate },
    k,
    d,
    beta0: new Float64Array(k),
    beta1: new Float64Array(k * d),
    a: new Float64Array(k * d),
    b: new Float64Array(k),
    nu: new Float64Array(k),
    tau: tau0,
  };
  for (let i = 0; i < k; i++) {
    const t = s[i]!;
    const last = i === k - 1;
    const b0Noise = !(last && layout.fixB0Ref);
    const b1Noise = !(last && layout.fixB1Ref);
    m.beta0[i] = truth.beta0[t]! - logWeightScale * Math.log(copies[t]!) + (b0Noise ? sd.gate * rng.normal() : 0);
    for (let l = 0; l < d; l++) m.beta1[i * d + l] = truth.beta1[t * d + l]! + (b1Noise ? sd.gate * rng.normal() : 0);
    for (let l = 0; l < d; l++) m.a[i * d + l] = truth.a[t * d + l]! + sd.experts * rng.normal();
    m.b[i] = truth.b[t]! + sd.experts * rng.normal();
    m.nu[i] = truth.nu[t]! + Math.abs(sd.variance * rng.normal());
  }
  if (layout.tauIndex >= 0 && (init.tau ?? 'perturbed') === 'perturbed') m.tau *= Math.exp(sd.gate * rng.normal());
  return m;
}
