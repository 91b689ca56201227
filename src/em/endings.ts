/**
 * Checks of a fit's ending and of its starts, so that no local or degenerate optimum goes
 * unsaid. A fit ends degenerate when
 * - an expert has almost no weight (Σ_i r_ij below TINY_COUNT·(d + 2) samples or TINY_SHARE of n; k ≥ 2),
 * - an expert's variance sits at the floor (a spike on a few samples: the likelihood is unbounded there),
 * - the gate ran away: its score differences between experts on the data exceed RUNAWAY_SCORE
 *   (a switch sharpening for ever, or 1/τ → ∞), or τ itself fell below RUNAWAY_TAU where τ is not
 *   a gauge (gates without the (β1, τ) scaling symmetry),
 * - two rows of a dense gate collapsed onto each other: log π_j − log π_l varies by less than
 *   COLLAPSE_RANGE over the data, so the gate no longer tells those experts apart by x; or, for an
 *   activation gate, their slopes β1 agree to ROW_REL while 1/τ grows to keep them apart (the
 *   ridge a tanh fit from k-means climbs: temp-tanh, n = 300, 614 nats below the optimum),
 * - two experts fit nearly the same line: their means differ by at most DUP_SD standard deviations
 *   everywhere on the data (one cluster split in two: demy with k = 3, n = 300, 2 nats below),
 * - a row of a bounded activation gate (no (β1, τ) scaling symmetry: tanh, sigmoid) became a step:
 *   σ's argument reaches RUNAWAY_ARG on the data, a slope sharpening a switch between samples
 *   (the issue-17 tanh truth, n = 1e4: β1 = (145524, −305), 0.93 nats above the near-truth fit
 *   from a sliver of samples near x1 = 0; the bounded σ keeps log π finite, so RUNAWAY_SCORE is silent),
 * - the experts' variances differ by more than VARIANCE_RATIO (one expert spread over several
 *   clusters while another fits a handful of samples: k3 from a random partition, 115 nats below).
 * The starts' final log-likelihoods are grouped into distinct optima (within OPTIMUM_TOL nats).
 */
import { getGate } from '../models/gates/index.js';
import { expertLogDensities, normaliseJoint } from '../models/density.js';
import { hasTau, type Dataset, type Model } from '../models/types.js';
import type { Optimum } from './types.js';

export const TINY_COUNT = 2;
export const TINY_SHARE = 0.002;
/** ν within this factor of the floor counts as at the floor. */
export const FLOOR_FACTOR = 1.5;

/** Whether a variance counts as at the floor (the degenerate-ending warning; gmoe select's spike note). */
export const atFloor = (nu: number, varianceFloor: number): boolean => nu <= FLOOR_FACTOR * varianceFloor;
export const RUNAWAY_SCORE = 100;
export const RUNAWAY_TAU = 1e-4;
export const COLLAPSE_RANGE = 1e-2;
export const ROW_REL = 0.02;
export const VARIANCE_RATIO = 100;
export const RUNAWAY_ARG = 1e3;
export const DUP_SD = 2;
/** Two starts whose final log-likelihoods differ by at most this many nats reached the same optimum. */
export const OPTIMUM_TOL = 0.1;

const fmt = (v: number) => (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? v.toPrecision(4) : v.toExponential(2));

/** Rows of an activation gate whose argument reaches RUNAWAY_ARG on the data (see module doc). */
function steppedRows(m: Model, data: Dataset): string[] {
  const { n, d, X } = data;
  const inside = getGate(m.gate).activation?.(m.gate).inside ?? false;
  const out: string[] = [];
  for (let j = 0; j < m.k; j++) {
    let big = 0;
    for (let i = 0; i < n; i++) {
      let u = inside ? m.beta0[j]! : 0;
      for (let t = 0; t < d; t++) u += m.beta1[j * d + t]! * X[i * d + t]!;
      if (Math.abs(u) > big) big = Math.abs(u);
    }
    if (big > RUNAWAY_ARG) {
      out.push(
        `degenerate ending: gate row ${j + 1} became a step (σ's argument reaches ${fmt(big)} on the data: a slope sharpening a switch between samples without bound); compare other starts`,
      );
    }
  }
  return out;
}

/** log π and the responsibilities at the fitted model (n × k each), e.g. from the fit's backend kernels. */
export interface EndingDensities {
  logPi: Float64Array;
  resp: Float64Array;
}

/**
 * The degenerate-ending warnings of a fitted model on its data (empty when none applies).
 * @param dens log π and the responsibilities at m when the caller has them (fitMoE: its backend's
 *   kernels, ≈ 5 % of a demy hybrid fit in JS); else computed here
 */
export function endingWarnings(m: Model, data: Dataset, varianceFloor: number, dens?: EndingDensities): string[] {
  const { n, d, X } = data;
  const k = m.k;
  const out: string[] = [];
  const gate = getGate(m.gate);
  let logPi: Float64Array;
  let resp: Float64Array;
  if (dens) ({ logPi, resp } = dens);
  else {
    // log π once, for the responsibilities and the gate checks below
    logPi = new Float64Array(n * k);
    gate.logProbs(m, X, n, logPi);
    resp = responsibilitiesFrom(m, data, logPi);
  }
  // k = 1: the one expert holds every sample (Σ r = n), so none is wasted however small n is
  for (let j = 0; k > 1 && j < k; j++) {
    let N = 0;
    for (let i = 0; i < n; i++) N += resp[i * k + j]!;
    if (N < Math.max(TINY_COUNT * (d + 2), TINY_SHARE * n)) {
      out.push(
        `degenerate ending: expert ${j + 1} has almost no weight (Σ r = ${fmt(N)} of n = ${n} samples): a wasted expert, maybe a local optimum or k too large`,
      );
    }
    if (atFloor(m.nu[j]!, varianceFloor)) {
      out.push(
        `degenerate ending: expert ${j + 1}'s variance ν = ${fmt(m.nu[j]!)} is at the floor ${fmt(varianceFloor)} (it fits a few samples exactly: a spurious spike of the likelihood)`,
      );
    }
  }
  if (k < 2) return out;
  let nuMin = Infinity;
  let nuMax = 0;
  for (let j = 0; j < k; j++) {
    nuMin = Math.min(nuMin, m.nu[j]!);
    nuMax = Math.max(nuMax, m.nu[j]!);
  }
  if (nuMax > VARIANCE_RATIO * nuMin) {
    out.push(
      `degenerate ending: the experts' variances differ by a factor ${fmt(nuMax / nuMin)} (ν from ${fmt(nuMin)} to ${fmt(nuMax)}): one expert may cover several clusters while another fits a few samples; compare other starts`,
    );
  }
  // d = 1: the rounded e(x) = (b_j − b_l) + (a_j − a_l)x is monotone in x, so |e| peaks at the extreme x
  const xs = d === 1 ? extremes(X, n) : X;
  const rows = xs === X ? n : 2;
  for (let j = 0; j < k; j++) {
    for (let l = j + 1; l < k; l++) {
      let gap = 0;
      for (let i = 0; i < rows; i++) {
        let e = m.b[j]! - m.b[l]!;
        for (let t = 0; t < d; t++) e += (m.a[j * d + t]! - m.a[l * d + t]!) * xs[i * d + t]!;
        if (Math.abs(e) > gap) gap = Math.abs(e);
      }
      const sd = Math.sqrt(Math.max(m.nu[j]!, m.nu[l]!));
      if (gap <= DUP_SD * sd) {
        out.push(
          `degenerate ending: experts ${j + 1} and ${l + 1} fit nearly the same line (their means differ by at most ${fmt(gap / sd)} sd on the data): one cluster split in two — k too large, or a local optimum; compare other starts`,
        );
      }
    }
  }
  if (gate.userActivation) {
    for (let j = 0; j < k; j++) {
      for (let l = j + 1; l < k; l++) {
        let dn = 0,
          a = 0,
          b = 0;
        for (let t = 0; t < d; t++) {
          const u = m.beta1[j * d + t]!,
            v = m.beta1[l * d + t]!;
          dn += (u - v) ** 2;
          a += u * u;
          b += v * v;
        }
        const size = Math.sqrt(Math.max(a, b));
        if (size > 0 && Math.sqrt(dn) <= ROW_REL * size) {
          out.push(
            `degenerate ending: gate rows ${j + 1} and ${l + 1} nearly collapsed (their slopes β1 agree to ${fmt(Math.sqrt(dn) / size)} relative) with τ = ${fmt(m.tau)}: the gate tells them apart only through a growing 1/τ`,
          );
        }
      }
    }
  }
  // along a scaling orbit a small τ is the same density as any other: neither a runaway nor a step
  const sym = gate.symmetries(m.gate);
  const scaling = sym.scaling || sym.scalingWithBias;
  if (gate.userActivation && !scaling) out.push(...steppedRows(m, data));
  if (hasTau(m.gate) && !scaling && m.tau < RUNAWAY_TAU) {
    out.push(
      `degenerate ending: τ ran away to ${fmt(m.tau)} (1/τ = ${fmt(1 / m.tau)}): the gate is a hard switch or its rows cancel; compare other starts`,
    );
  }
  const topk = gate.form === 'masked';
  if (gate.selection?.(m.gate).K === 1) return out; // π ∈ {0, 1}: neither a scale nor a ratio to check
  let spread = 0;
  const lo = new Float64Array(k * k).fill(Infinity);
  const hi = new Float64Array(k * k).fill(-Infinity);
  for (let i = 0, o = 0; i < n; i++, o += k) {
    for (let j = 0; j < k; j++) {
      const a = logPi[o + j]!;
      if (a === -Infinity) continue;
      for (let l = j + 1; l < k; l++) {
        const b = logPi[o + l]!;
        if (b === -Infinity) continue;
        const r = a - b;
        if (Math.abs(r) > spread) spread = Math.abs(r);
        if (r < lo[j * k + l]!) lo[j * k + l] = r;
        if (r > hi[j * k + l]!) hi[j * k + l] = r;
      }
    }
  }
  if (spread > RUNAWAY_SCORE) {
    out.push(
      `degenerate ending: the gate ran away (log π_j − log π_l reaches ${fmt(spread)} on the data: a switch sharpening without bound${hasTau(m.gate) ? ` or 1/τ = ${fmt(1 / m.tau)} growing` : ''})`,
    );
  }
  if (!topk) {
    for (let j = 0; j < k; j++) {
      for (let l = j + 1; l < k; l++) {
        const range = hi[j * k + l]! - lo[j * k + l]!;
        if (range < COLLAPSE_RANGE) {
          out.push(
            `degenerate ending: gate rows ${j + 1} and ${l + 1} collapsed onto each other (log π_${j + 1} − log π_${l + 1} varies by ${fmt(range)} over the data): the gate does not tell these experts apart`,
          );
        }
      }
    }
  }
  return out;
}

/** The smallest and largest of X[0..n) (d = 1), or X itself when one of them is not finite. */
function extremes(X: Float64Array, n: number): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = X[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return Number.isFinite(lo) && Number.isFinite(hi) ? Float64Array.of(lo, hi) : X;
}

/**
 * models/density's responsibilities(m, data) from log π already computed, by the same operations
 * (joint = log π + log f, rows normalised against their maximum): the same bits, one gate pass and
 * one log-sum-exp fewer.
 */
function responsibilitiesFrom(m: Model, data: Dataset, logPi: Float64Array): Float64Array {
  const { n } = data;
  const k = m.k;
  const resp = expertLogDensities(m, data.X, data.y, n);
  for (let t = 0; t < n * k; t++) resp[t] = logPi[t]! + resp[t]!;
  normaliseJoint(resp, n, k);
  return resp;
}

/** Groups the starts' final log-likelihoods into distinct optima, best first (non-finite ones left out). */
export function distinctOptima(logLiks: readonly number[], tol = OPTIMUM_TOL): Optimum[] {
  const order = logLiks
    .map((v, r) => [v, r] as const)
    .filter(([v]) => Number.isFinite(v))
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const out: Optimum[] = [];
  for (const [v, r] of order) {
    const g = out.at(-1);
    if (g && g.logLik - v <= tol) {
      g.count++;
      g.starts.push(r);
    } else {
      out.push({ logLik: v, count: 1, starts: [r] });
    }
  }
  for (const g of out) g.starts.sort((a, b) => a - b);
  return out;
}

/** The warning for a best optimum that only one of several starts reached (null otherwise). */
export function singleBestWarning(optima: Optimum[], restarts: number): string | null {
  if (restarts < 2 || optima.length < 2 || optima[0]!.count > 1) return null;
  const [best, next] = optima as [Optimum, Optimum];
  return `the best log-likelihood ${best.logLik.toFixed(4)} was reached by 1 of ${restarts} starts (next best ${next.logLik.toFixed(4)}, by ${next.count}): a higher optimum may exist; try more starts`;
}
