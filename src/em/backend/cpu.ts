/**
 * The reference backend: plain Float64 loops on the CPU, no allocation per call.
 *
 * Exponentials of arguments below −EXP_CUTOFF (relative to the row's maximum) are taken as 0:
 * their results would be subnormal (< 2.2e-308 of the row's largest term, far below what the row
 * sum can hold), and Math.exp is about 30× slower there. Responsibilities and gate probabilities
 * that small become exactly 0; log π itself is always exact; the maximum's own term is exactly 1
 * and costs no exponential.
 * d = 1 (every set-up of the papers) has its own loops: the general ones spend most of their time
 * on the inner loop over d; k = 3 with d = 1 (the over-specified demy fit) has fully unrolled ones.
 * Exponentials and logarithms in the d = 1 loops are src/math's expCore and logCore (≤ 0.51 and
 * ≤ 0.96 ulp, inlined), which changes results only in the last bits against Math.exp / Math.log.
 */
import { getGate, slopeScores, topKMask } from '../../models/gates/index.js';
import type { Model } from '../../models/types.js';
import { expCore } from '../../math/exp.js';
import { logCore } from '../../math/log.js';
import { mirrorUpper, subtractOuterUpper } from '../optim/linalg.js';
import { expertMoments, type Backend, type EStepStats, type ExpertMoments, type GateLayout, type MaskMode } from './types.js';
import { denseGateProbs1, denseGradHess, denseKernelCode, type DenseGateKernels } from './cpu-dense.js';
import { logLikRows1, logLikRows1k3, topkGateRows1k3 } from './cpu-topk.js';
import { commonArena, eStepWasm, logLikWasm } from './cpu-wasm.js';
import { gateWasm } from './cpu-wasm-gate.js';
import { topkArena, topkWasm } from './cpu-wasm-topk.js';
import { gradCurvWasm2, gradCurvWasm3, momentsWasm } from './cpu-wasm-sums.js';
import { EXP_CUTOFF, GATE_DIRECT, PROD_FLUSH, SHIFT_EXACT_BELOW } from './constants.js';

export { EXP_CUTOFF };

const LOG_2PI = Math.log(2 * Math.PI);
const EMPTY = new Float64Array(0);

/**
 * e^u for u = (a term) − (its row's maximum) ≤ 0: 0 below −EXP_CUTOFF (= src/math/exp.ts EXP_FAST_MIN), else
 * expCore (≤ 0.51 ulp, inlined; NaN gives NaN). No call on any path: an out-of-line call in the
 * loop, even one never taken, made the compiler spill the row's values around it (measured ~15%).
 */
function expRel(u: number): number {
  return u < -EXP_CUTOFF ? 0 : expCore(u);
}

/** logLikRows1 for k = 2 (the rows the k = 2 SIMD log-likelihood kernel hands back). */
function logLikRows1k2Js(a: Float64Array, b: Float64Array, cst: Float64Array, hlf: Float64Array, X: Float64Array,
  y: Float64Array, n: number, logPi: Float64Array): number {
  return logLikRows1(2, a, b, cst, hlf, X, y, n, logPi);
}

/**
 * The hot loops of softmax fits with d = 1 live at module level, with every array a parameter:
 * V8 optimises such functions whole, while the backend's closures (their scratch in mutable
 * captured variables) kept re-entering their loops through on-stack replacement and deoptimising
 * at the end of every call (measured: 2–3× slower).
 */

/**
 * Dense linear gate, d = 1: logits β0_j + β1_j x_i, log π (n × k) and π by log-sum-exp per row.
 * @returns Q = Σ r log π over `resp` when withQ, else NaN
 */
function denseGateRows1(k: number, beta0: Float64Array, beta1: Float64Array, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean): number {
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const xi = X[i]!;
    let direct = true;
    for (let j = 0; j < k; j++) {
      const v = beta0[j]! + beta1[j]! * xi;
      logPi[o + j] = v;
      direct = direct && v >= -GATE_DIRECT && v <= GATE_DIRECT;
    }
    let s = 0;
    let mx = 0;
    if (direct) {
      // see denseGateRows1k3: no maximum (and no data-dependent branch) for moderate logits
      for (let j = 0; j < k; j++) {
        const e = expCore(logPi[o + j]!);
        pi[o + j] = e;
        s += e;
      }
    } else {
      mx = -Infinity;
      let jm = -1;
      for (let j = 0; j < k; j++) {
        const v = logPi[o + j]!;
        if (v > mx || v !== v) { mx = v; jm = j; }
      }
      for (let j = 0; j < k; j++) {
        // exp(0) = 1 exactly: the row maximum costs no exponential
        const e = j === jm ? 1 : expRel(logPi[o + j]! - mx);
        pi[o + j] = e;
        s += e;
      }
    }
    const lse = mx + (s === s ? logCore(s) : s);
    const inv = 1 / s;
    for (let j = 0; j < k; j++) {
      const lp = logPi[o + j]! - lse;
      logPi[o + j] = lp;
      pi[o + j] = pi[o + j]! * inv;
      if (withQ) { const r = resp[o + j]!; if (r !== 0) q += r * lp; }
    }
  }
  return withQ ? q : NaN;
}

/**
 * denseGateRows1 for k = 3, every value in a register. Rows whose logits all lie in
 * [−GATE_DIRECT, GATE_DIRECT] (every row of a sane fit) take e^v directly, with no maximum: V8's
 * Math.max and a running maximum both branch on the data, and mispredicted branches cost more than
 * the rest of the row (measured ~20% of the pass). Within that range no e^v over- or underflows and
 * no probability is below e^-700, so these rows give what the shifted form gives (to rounding),
 * including which probabilities are exactly 0 (none); other rows take the shifted form.
 */
function denseGateRows1k3(beta0: Float64Array, beta1: Float64Array, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean): number {
  const c0 = beta0[0]!, c1 = beta0[1]!, c2 = beta0[2]!;
  const s0 = beta1[0]!, s1 = beta1[1]!, s2 = beta1[2]!;
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const xi = X[i]!;
    const v0 = c0 + s0 * xi;
    const v1 = c1 + s1 * xi;
    const v2 = c2 + s2 * xi;
    let e0, e1, e2, mx;
    const direct = v0 >= -GATE_DIRECT && v0 <= GATE_DIRECT && v1 >= -GATE_DIRECT && v1 <= GATE_DIRECT && v2 >= -GATE_DIRECT && v2 <= GATE_DIRECT;
    if (direct) {
      e0 = expCore(v0); e1 = expCore(v1); e2 = expCore(v2);
      mx = 0;
    } else {
      // exp(0) = 1 exactly at the maximum; NaN propagates through Math.max and expRel
      mx = Math.max(v0, v1, v2);
      e0 = expRel(v0 - mx); e1 = expRel(v1 - mx); e2 = expRel(v2 - mx);
    }
    const s = e0 + e1 + e2;
    // s ∈ [e^-350, 3e^350] or [1, 3]: logCore's domain (NaN stays NaN)
    const lse = mx + (s === s ? logCore(s) : s);
    const inv = 1 / s;
    const l0 = v0 - lse;
    const l1 = v1 - lse;
    const l2 = v2 - lse;
    logPi[o] = l0; logPi[o + 1] = l1; logPi[o + 2] = l2;
    pi[o] = e0 * inv; pi[o + 1] = e1 * inv; pi[o + 2] = e2 * inv;
    if (withQ) {
      const r0 = resp[o]!, r1 = resp[o + 1]!, r2 = resp[o + 2]!;
      if (direct) {
        // finite log π: a zero r adds ±0, the same sum as skipping it, without a branch on the data
        q += r0 * l0; q += r1 * l1; q += r2 * l2;
      } else {
        if (r0 !== 0) q += r0 * l0;
        if (r1 !== 0) q += r1 * l1;
        if (r2 !== 0) q += r2 * l2;
      }
    }
  }
  return withQ ? q : NaN;
}

/**
 * eStepRows1 for k = 3, every value in a register. The row's shift is max(a, b) computed as
 * (a + b + |a − b|)/2, without a branch: V8's Math.max branches on the data, and which expert
 * is largest changes from row to row (about every second row of the over-specified demy fit;
 * measured ~10% of the pass). That shift is the maximum only to rounding (a few ulps of the
 * larger |v|), which is all a shift needs: it cancels exactly in r_ij and in
 * Σ_i (shift_i + log s_i), each v − shift is still one rounding, and the largest term is e^(±tiny)
 * instead of exactly 1 (results move in the last bits; terms more than EXP_CUTOFF below the row's
 * maximum are 0 as before, up to that rounding of the threshold). Rows with an infinite or NaN v,
 * or one so large that the shift's rounding matters (SHIFT_EXACT_BELOW), take the exact maximum,
 * as before. In the fast rows every log π is finite, so Q adds every term (a zero r adds ±0: the
 * same sum) instead of branching on r.
 */
function eStepRows1k3(a: Float64Array, b: Float64Array, cst: Float64Array, hlf: Float64Array, X: Float64Array,
  y: Float64Array, n: number, logPi: Float64Array, resp: Float64Array, out: Float64Array): number {
  const a0 = a[0]!, a1 = a[1]!, a2 = a[2]!;
  const b0 = b[0]!, b1 = b[1]!, b2 = b[2]!;
  const k0 = cst[0]!, k1 = cst[1]!, k2 = cst[2]!;
  const h0 = hlf[0]!, h1 = hlf[1]!, h2 = hlf[2]!;
  let q = 0;
  let sumMax = 0;
  let logs = 0;
  let prod = 1;
  let bad = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const yi = y[i]!;
    const xi = X[i]!;
    const lp0 = logPi[o]!, lp1 = logPi[o + 1]!, lp2 = logPi[o + 2]!;
    const d0 = yi - b0 - a0 * xi;
    const d1 = yi - b1 - a1 * xi;
    const d2 = yi - b2 - a2 * xi;
    const v0 = lp0 + k0 + h0 * d0 * d0;
    const v1 = lp1 + k1 + h1 * d1 * d1;
    const v2 = lp2 + k2 + h2 * d2 * d2;
    // shift by max(a, b) = (a + b + |a − b|)/2, no branch (see above); rows with Σ|v| ≥ 2^40
    // or some v infinite or NaN take Math.max and the guarded Q
    const m01 = 0.5 * (v0 + v1 + Math.abs(v0 - v1));
    let mx = 0.5 * (m01 + v2 + Math.abs(m01 - v2));
    const fast = Math.abs(v0) + Math.abs(v1) + Math.abs(v2) < SHIFT_EXACT_BELOW;
    if (!fast) {
      mx = Math.max(v0, v1, v2);
      if (!(mx > -Infinity) || mx === Infinity) {
        resp[o] = NaN; resp[o + 1] = NaN; resp[o + 2] = NaN;
        bad += mx === -Infinity ? -Infinity : NaN;
        continue;
      }
    }
    const e0 = expRel(v0 - mx);
    const e1 = expRel(v1 - mx);
    const e2 = expRel(v2 - mx);
    const s = e0 + e1 + e2;
    const inv = 1 / s;
    const r0 = e0 * inv, r1 = e1 * inv, r2 = e2 * inv;
    resp[o] = r0; resp[o + 1] = r1; resp[o + 2] = r2;
    if (fast) {
      // every log π finite: a zero r adds ±0, the same sum as skipping it, without a branch on the data
      q += r0 * lp0; q += r1 * lp1; q += r2 * lp2;
    } else {
      if (r0 !== 0) q += r0 * lp0;
      if (r1 !== 0) q += r1 * lp1;
      if (r2 !== 0) q += r2 * lp2;
    }
    sumMax += mx;
    prod *= s;
    if (prod > PROD_FLUSH || (i & 255) === 255) { logs += logCore(prod); prod = 1; }
  }
  out[0] = q;
  return bad + (sumMax + (logs + logCore(prod)));
}

/**
 * Shifted one-pass moments for d = 1, k = 3 (sums in registers; same operations in the same
 * order as the generic loop, so the same bits). out6 receives, per expert j at 6j: N, Σr dx,
 * Σr dy, Σr dx², Σr dx dy, Σr dy² with dx = x − shX_j, dy = y − shY_j.
 * Rows with r = 0 are added, not skipped: with finite data and shifts (momentsBegin) they add
 * ±0, which leaves every sum's bits as skipping would, and a branch on r mispredicts wherever
 * far experts have exactly-zero responsibilities (16% of the entries in the over-specified demy
 * fit; measured ~35% of the pass).
 */
function momentsRows1k3(X: Float64Array, y: Float64Array, n: number, resp: Float64Array, shX: Float64Array, shY: Float64Array, out6: Float64Array): void {
  const cx0 = shX[0]!, cx1 = shX[1]!, cx2 = shX[2]!;
  const cy0 = shY[0]!, cy1 = shY[1]!, cy2 = shY[2]!;
  let n0 = 0, x0 = 0, y0 = 0, xx0 = 0, xy0 = 0, yy0 = 0;
  let n1 = 0, x1 = 0, y1 = 0, xx1 = 0, xy1 = 0, yy1 = 0;
  let n2 = 0, x2 = 0, y2 = 0, xx2 = 0, xy2 = 0, yy2 = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const yi = y[i]!;
    const xi = X[i]!;
    let r = resp[o]!;
    let dx = xi - cx0, dy = yi - cy0, rx = r * dx;
    n0 += r; x0 += rx; y0 += r * dy; xx0 += rx * dx; xy0 += rx * dy; yy0 += r * dy * dy;
    r = resp[o + 1]!;
    dx = xi - cx1; dy = yi - cy1; rx = r * dx;
    n1 += r; x1 += rx; y1 += r * dy; xx1 += rx * dx; xy1 += rx * dy; yy1 += r * dy * dy;
    r = resp[o + 2]!;
    dx = xi - cx2; dy = yi - cy2; rx = r * dx;
    n2 += r; x2 += rx; y2 += r * dy; xx2 += rx * dx; xy2 += rx * dy; yy2 += r * dy * dy;
  }
  out6[0] = n0; out6[1] = x0; out6[2] = y0; out6[3] = xx0; out6[4] = xy0; out6[5] = yy0;
  out6[6] = n1; out6[7] = x1; out6[8] = y1; out6[9] = xx1; out6[10] = xy1; out6[11] = yy1;
  out6[12] = n2; out6[13] = x2; out6[14] = y2; out6[15] = xx2; out6[16] = xy2; out6[17] = yy2;
}

/**
 * Gradient and curvature sums of a linear gate, d = 1, k = 3 with two free experts fa, fb (the
 * softmax layout): same operations in the same order as the generic loop, so the same bits.
 * out13: grad (ga, ga·x, gb, gb·x), then the pair sums (a,a), (a,b), (b,b), each × (1, x, x²).
 */
function gradCurvRows1k3(X: Float64Array, n: number, resp: Float64Array, pi: Float64Array, fa: number, fb: number, out13: Float64Array): void {
  let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
  let aa0 = 0, aa1 = 0, aa2 = 0, ab0 = 0, ab1 = 0, ab2 = 0, bb0 = 0, bb1 = 0, bb2 = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const R = 0 + resp[o]! + resp[o + 1]! + resp[o + 2]!;
    const x = X[i]!;
    const x2 = x * x;
    const pa = pi[o + fa]!;
    const pb = pi[o + fb]!;
    const Ga = resp[o + fa]! - R * pa;
    const Gb = resp[o + fb]! - R * pb;
    g0 += Ga; g1 += Ga * x; g2 += Gb; g3 += Gb * x;
    const ra = R * pa;
    const rb = R * pb;
    const caa = ra * (1 - pa);
    const cab = -ra * pb;
    const cbb = rb * (1 - pb);
    aa0 += caa; aa1 += caa * x; aa2 += caa * x2;
    ab0 += cab; ab1 += cab * x; ab2 += cab * x2;
    bb0 += cbb; bb1 += cbb * x; bb2 += cbb * x2;
  }
  out13[0] = g0; out13[1] = g1; out13[2] = g2; out13[3] = g3;
  out13[4] = aa0; out13[5] = aa1; out13[6] = aa2; out13[7] = ab0; out13[8] = ab1; out13[9] = ab2;
  out13[10] = bb0; out13[11] = bb1; out13[12] = bb2;
}

/** denseGateRows1k3 for k = 2 (the exact-specified fits of the papers). */
function denseGateRows1k2(beta0: Float64Array, beta1: Float64Array, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean): number {
  const c0 = beta0[0]!, c1 = beta0[1]!;
  const s0 = beta1[0]!, s1 = beta1[1]!;
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    const xi = X[i]!;
    const v0 = c0 + s0 * xi;
    const v1 = c1 + s1 * xi;
    let e0, e1, mx;
    const direct = v0 >= -GATE_DIRECT && v0 <= GATE_DIRECT && v1 >= -GATE_DIRECT && v1 <= GATE_DIRECT;
    if (direct) {
      e0 = expCore(v0); e1 = expCore(v1);
      mx = 0;
    } else {
      mx = Math.max(v0, v1);
      e0 = expRel(v0 - mx); e1 = expRel(v1 - mx);
    }
    const s = e0 + e1;
    const lse = mx + (s === s ? logCore(s) : s);
    const inv = 1 / s;
    const l0 = v0 - lse;
    const l1 = v1 - lse;
    logPi[o] = l0; logPi[o + 1] = l1;
    pi[o] = e0 * inv; pi[o + 1] = e1 * inv;
    if (withQ) {
      const r0 = resp[o]!, r1 = resp[o + 1]!;
      if (direct) {
        q += r0 * l0; q += r1 * l1;
      } else {
        if (r0 !== 0) q += r0 * l0;
        if (r1 !== 0) q += r1 * l1;
      }
    }
  }
  return withQ ? q : NaN;
}

/** eStepRows1k3 for k = 2 (the same branch-free shift and Q). */
function eStepRows1k2(a: Float64Array, b: Float64Array, cst: Float64Array, hlf: Float64Array, X: Float64Array,
  y: Float64Array, n: number, logPi: Float64Array, resp: Float64Array, out: Float64Array): number {
  const a0 = a[0]!, a1 = a[1]!;
  const b0 = b[0]!, b1 = b[1]!;
  const k0 = cst[0]!, k1 = cst[1]!;
  const h0 = hlf[0]!, h1 = hlf[1]!;
  let q = 0;
  let sumMax = 0;
  let logs = 0;
  let prod = 1;
  let bad = 0;
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    const yi = y[i]!;
    const xi = X[i]!;
    const lp0 = logPi[o]!, lp1 = logPi[o + 1]!;
    const d0 = yi - b0 - a0 * xi;
    const d1 = yi - b1 - a1 * xi;
    const v0 = lp0 + k0 + h0 * d0 * d0;
    const v1 = lp1 + k1 + h1 * d1 * d1;
    let mx = 0.5 * (v0 + v1 + Math.abs(v0 - v1));
    const fast = Math.abs(v0) + Math.abs(v1) < SHIFT_EXACT_BELOW;
    if (!fast) {
      mx = Math.max(v0, v1);
      if (!(mx > -Infinity) || mx === Infinity) {
        resp[o] = NaN; resp[o + 1] = NaN;
        bad += mx === -Infinity ? -Infinity : NaN;
        continue;
      }
    }
    const e0 = expRel(v0 - mx);
    const e1 = expRel(v1 - mx);
    const s = e0 + e1;
    const inv = 1 / s;
    const r0 = e0 * inv, r1 = e1 * inv;
    resp[o] = r0; resp[o + 1] = r1;
    if (fast) {
      q += r0 * lp0; q += r1 * lp1;
    } else {
      if (r0 !== 0) q += r0 * lp0;
      if (r1 !== 0) q += r1 * lp1;
    }
    sumMax += mx;
    prod *= s;
    if (prod > PROD_FLUSH || (i & 255) === 255) { logs += logCore(prod); prod = 1; }
  }
  out[0] = q;
  return bad + (sumMax + (logs + logCore(prod)));
}

/** momentsRows1k3 for k = 2 (out6: 12 sums). */
function momentsRows1k2(X: Float64Array, y: Float64Array, n: number, resp: Float64Array, shX: Float64Array, shY: Float64Array, out6: Float64Array): void {
  const cx0 = shX[0]!, cx1 = shX[1]!;
  const cy0 = shY[0]!, cy1 = shY[1]!;
  let n0 = 0, x0 = 0, y0 = 0, xx0 = 0, xy0 = 0, yy0 = 0;
  let n1 = 0, x1 = 0, y1 = 0, xx1 = 0, xy1 = 0, yy1 = 0;
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    const yi = y[i]!;
    const xi = X[i]!;
    let r = resp[o]!;
    let dx = xi - cx0, dy = yi - cy0, rx = r * dx;
    n0 += r; x0 += rx; y0 += r * dy; xx0 += rx * dx; xy0 += rx * dy; yy0 += r * dy * dy;
    r = resp[o + 1]!;
    dx = xi - cx1; dy = yi - cy1; rx = r * dx;
    n1 += r; x1 += rx; y1 += r * dy; xx1 += rx * dx; xy1 += rx * dy; yy1 += r * dy * dy;
  }
  out6[0] = n0; out6[1] = x0; out6[2] = y0; out6[3] = xx0; out6[4] = xy0; out6[5] = yy0;
  out6[6] = n1; out6[7] = x1; out6[8] = y1; out6[9] = xx1; out6[10] = xy1; out6[11] = yy1;
}

/** gradCurvRows1k3 for k = 2 with one free expert fa: out13 gets ga, ga·x, then (a,a) × (1, x, x²). */
function gradCurvRows1k2(X: Float64Array, n: number, resp: Float64Array, pi: Float64Array, fa: number, out13: Float64Array): void {
  let g0 = 0, g1 = 0;
  let aa0 = 0, aa1 = 0, aa2 = 0;
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    const R = 0 + resp[o]! + resp[o + 1]!;
    const x = X[i]!;
    const x2 = x * x;
    const pa = pi[o + fa]!;
    const Ga = resp[o + fa]! - R * pa;
    g0 += Ga; g1 += Ga * x;
    const ra = R * pa;
    const caa = ra * (1 - pa);
    aa0 += caa; aa1 += caa * x; aa2 += caa * x2;
  }
  out13[0] = g0; out13[1] = g1; out13[2] = aa0; out13[3] = aa1; out13[4] = aa2;
}

/**
 * Shifted one-pass moments for d = 1 and any k (out6 as momentsRows1k3, 6k sums): one pass over
 * the rows per expert, its six sums in registers. Summing expert by expert in row order gives the
 * same bits as one pass with the sums in arrays, which is 3× slower (each row's read-modify-writes
 * of 6k array entries).
 */
function momentsRows1(k: number, X: Float64Array, y: Float64Array, n: number, resp: Float64Array, shX: Float64Array, shY: Float64Array, out6: Float64Array): void {
  for (let j = 0; j < k; j++) {
    const cx = shX[j]!, cy = shY[j]!;
    let N = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    for (let i = 0, o = j; i < n; i++, o += k) {
      const r = resp[o]!;
      const dx = X[i]! - cx, dy = y[i]! - cy, rx = r * dx;
      N += r; sx += rx; sy += r * dy; sxx += rx * dx; sxy += rx * dy; syy += r * dy * dy;
    }
    const t = 6 * j;
    out6[t] = N; out6[t + 1] = sx; out6[t + 2] = sy; out6[t + 3] = sxx; out6[t + 4] = sxy; out6[t + 5] = syy;
  }
}

/**
 * Gradient and curvature sums of a linear gate for d = 1 and any k (free experts freeIdx[0..f)):
 * one pass per free expert (gradient) and per pair (curvature), sums in registers, R_i = Σ_j r_ij
 * computed once into Rbuf (n). Same operations in the same order per sum as the row-major loop,
 * so the same bits. out: grad (G, G·x) per free expert, then per pair u ≤ v the sums × (1, x, x²).
 */
function gradCurvRows1(k: number, f: number, freeIdx: Int32Array, X: Float64Array, n: number, resp: Float64Array, pi: Float64Array,
  Rbuf: Float64Array, withCurv: boolean, out: Float64Array): void {
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let R = 0;
    for (let j = 0; j < k; j++) R += resp[o + j]!;
    Rbuf[i] = R;
  }
  for (let u = 0; u < f; u++) {
    const j = freeIdx[u]!;
    let g0 = 0, g1 = 0;
    for (let i = 0, o = j; i < n; i++, o += k) {
      const G = resp[o]! - Rbuf[i]! * pi[o]!;
      g0 += G; g1 += G * X[i]!;
    }
    out[2 * u] = g0; out[2 * u + 1] = g1;
  }
  if (!withCurv) return;
  let t = 2 * f;
  for (let u = 0; u < f; u++) {
    const ju = freeIdx[u]!;
    for (let v = u; v < f; v++, t += 3) {
      const jv = freeIdx[v]!;
      let a0 = 0, a1 = 0, a2 = 0;
      for (let i = 0, o = 0; i < n; i++, o += k) {
        const pj = pi[o + ju]!;
        const rp = Rbuf[i]! * pj;
        const c = v === u ? rp * (1 - pj) : -rp * pi[o + jv]!;
        const x = X[i]!;
        a0 += c; a1 += c * x; a2 += c * (x * x);
      }
      out[t] = a0; out[t + 1] = a1; out[t + 2] = a2;
    }
  }
}

/**
 * E-step rows, d = 1 (cst_j = −½ log(2πν_j), hlf_j = −1/(2ν_j)). The log-likelihood is
 * Σ_i max_i + log Π_i s_i, with the product of the row sums s_i ∈ [1, k] taken to a log only when
 * it grows past PROD_FLUSH (or every 256 rows): one log per 256 rows instead of one per row,
 * exact to ≤ 256 roundings of a product (relative 3e-14), far below the total's own rounding.
 * out[0] receives Q = Σ r log π.
 */
function eStepRows1(k: number, a: Float64Array, b: Float64Array, cst: Float64Array, hlf: Float64Array, X: Float64Array,
  y: Float64Array, n: number, logPi: Float64Array, resp: Float64Array, out: Float64Array): number {
  let q = 0;
  let sumMax = 0;
  let logs = 0;
  let prod = 1;
  let bad = 0;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const yi = y[i]!;
    const xi = X[i]!;
    let mx = -Infinity;
    let jm = -1;
    for (let j = 0; j < k; j++) {
      const r = yi - b[j]! - a[j]! * xi;
      const v = logPi[o + j]! + cst[j]! + hlf[j]! * r * r;
      resp[o + j] = v;
      if (v > mx || v !== v) { mx = v; jm = j; }
    }
    if (!(mx > -Infinity) || mx === Infinity) {
      for (let j = 0; j < k; j++) resp[o + j] = NaN;
      bad += mx === -Infinity ? -Infinity : NaN;
      continue;
    }
    let s = 0;
    for (let j = 0; j < k; j++) {
      const e = j === jm ? 1 : expRel(resp[o + j]! - mx);
      resp[o + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < k; j++) {
      const r = resp[o + j]! * inv;
      resp[o + j] = r;
      if (r !== 0) q += r * logPi[o + j]!;
    }
    sumMax += mx;
    prod *= s;
    if (prod > PROD_FLUSH || (i & 255) === 255) { logs += Math.log(prod); prod = 1; }
  }
  out[0] = q;
  return bad + (sumMax + (logs + Math.log(prod)));
}

/** eStepRows1 for any d (expert means a_j·x_i + b_j by an inner loop over d). */
function eStepRowsD(k: number, d: number, a: Float64Array, b: Float64Array, cst: Float64Array, hlf: Float64Array, X: Float64Array,
  y: Float64Array, n: number, logPi: Float64Array, resp: Float64Array, out: Float64Array): number {
  let q = 0;
  let sumMax = 0;
  let logs = 0;
  let prod = 1;
  let bad = 0;
  for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
    const yi = y[i]!;
    let mx = -Infinity;
    let jm = -1;
    for (let j = 0; j < k; j++) {
      let mu = b[j]!;
      for (let l = 0, ao = j * d; l < d; l++) mu += a[ao + l]! * X[xo + l]!;
      const r = yi - mu;
      const v = logPi[o + j]! + cst[j]! + hlf[j]! * r * r;
      resp[o + j] = v;
      if (v > mx || v !== v) { mx = v; jm = j; }
    }
    if (!(mx > -Infinity) || mx === Infinity) {
      for (let j = 0; j < k; j++) resp[o + j] = NaN;
      bad += mx === -Infinity ? -Infinity : NaN;
      continue;
    }
    let s = 0;
    for (let j = 0; j < k; j++) {
      const e = j === jm ? 1 : expRel(resp[o + j]! - mx);
      resp[o + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < k; j++) {
      const r = resp[o + j]! * inv;
      resp[o + j] = r;
      if (r !== 0) q += r * logPi[o + j]!;
    }
    sumMax += mx;
    prod *= s;
    if (prod > PROD_FLUSH || (i & 255) === 255) { logs += Math.log(prod); prod = 1; }
  }
  out[0] = q;
  return bad + (sumMax + (logs + Math.log(prod)));
}

/** Every expert's gate parameters are either all fixed or a contiguous free block [β0_j, β1_j]. */
function linearBlocks(L: GateLayout): boolean {
  if (L.tauIndex >= 0) return false;
  for (let j = 0; j < L.k; j++) {
    const b0 = L.b0Index[j]!;
    const b1 = L.b1Index[j]!;
    if (b0 < 0 ? b1 >= 0 : b1 !== b0 + 1) return false;
  }
  return true;
}

/** Whether warmUp has run (on the first backend created: a program that never fits never pays for it). */
let warmedUp = false;

/** Creates a CPU backend (its k-sized scratch grows on demand). */
export function createCpuBackend(): Backend {
  if (!warmedUp) { warmedUp = true; warmUp(); }
  let cst = new Float64Array(8);
  let hlf = new Float64Array(8);
  let row = new Float64Array(8);
  let w = new Float64Array(16);
  let ci = new Int32Array(16);
  let cv = new Float64Array(16);
  let acc = new Float64Array(64);
  let zz = new Float64Array(8);
  let freeIdx = new Int32Array(8);
  // shifts for the one-pass moments (copied from the caller's previous means) and scratch
  let shX = new Float64Array(8);
  let shY = new Float64Array(8);
  let syy = new Float64Array(8);
  let dx = new Float64Array(8);
  const qOut = new Float64Array(1);
  let sums = new Float64Array(18);
  // R_i for the generic d = 1 gate sums (n; grows on demand)
  let Rbuf = new Float64Array(0);

  function expertConstants(m: Model): void {
    if (cst.length < m.k) { cst = new Float64Array(m.k); hlf = new Float64Array(m.k); row = new Float64Array(m.k); }
    for (let j = 0; j < m.k; j++) {
      cst[j] = -0.5 * (LOG_2PI + Math.log(m.nu[j]!));
      hlf[j] = -0.5 / m.nu[j]!;
    }
  }

  function gateProbs(m: Model, X: Float64Array, n: number, logPi: Float64Array, pi: Float64Array, mask: Uint8Array | null, maskMode: MaskMode, resp?: Float64Array): number {
    const { k, d, beta0, beta1 } = m;
    const linear = m.gate.kind === 'softmax' || m.gate.kind === 'topk';
    // dense-to-sparse gates with d = 1, bias outside, identity/tanh/sigmoid: cpu-dense.ts
    if (!linear && maskMode === 'none') { const code = denseKernelCode(m); if (code >= 0) return denseGateProbs1(code, m, X, n, logPi, pi, resp); }
    // linear gates: logits computed in the softmax loop below; others through the gate
    if (!linear) getGate(m.gate).logits(m, X, n, logPi);
    const useMask = maskMode !== 'none' && mask !== null;
    // top-K, d = 1, k = 3: ranking and masked softmax in one pass (cpu-topk.ts)
    if (useMask && m.gate.kind === 'topk' && d === 1 && k === 3) {
      const r = resp ?? EMPTY, withQ = resp !== undefined, compute = maskMode === 'compute', slope = m.gate.selectOn === 'slope';
      const A = topkArena(X, logPi, pi, mask!, r, withQ);
      if (A !== undefined) return topkWasm(A, beta0, beta1, X, n, logPi, pi, mask!, compute, m.gate.K, slope, r, withQ, topkGateRows1k3);
      return topkGateRows1k3(beta0, beta1, X, n, logPi, pi, mask!, compute, m.gate.K, slope, r, withQ);
    }
    if (maskMode === 'compute') {
      if (!mask || m.gate.kind !== 'topk') throw new Error('gateProbs: maskMode "compute" needs a top-K gate and a mask buffer');
      if (m.gate.selectOn === 'logit') getGate(m.gate).logits(m, X, n, pi);
      else slopeScores(m, X, n, pi);
      topKMask(pi, n, k, m.gate.K, mask);
    }
    if (linear && !useMask && d === 1) {
      const r = resp ?? EMPTY;
      const withQ = resp !== undefined;
      const A = k === 2 || k === 3 ? (withQ ? commonArena(X, logPi, pi, r) : commonArena(X, logPi, pi)) : undefined;
      if (A !== undefined) return gateWasm(A, k as 2 | 3, beta0, beta1, X, n, logPi, pi, r, withQ, k === 3 ? denseGateRows1k3 : denseGateRows1k2);
      return k === 3 ? denseGateRows1k3(beta0, beta1, X, n, logPi, pi, r, withQ)
        : k === 2 ? denseGateRows1k2(beta0, beta1, X, n, logPi, pi, r, withQ)
          : denseGateRows1(k, beta0, beta1, X, n, logPi, pi, r, withQ);
    }
    let q = 0;
    for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
      let mx = -Infinity;
      if (linear) {
        if (d === 1) {
          const xi = X[i]!;
          for (let j = 0; j < k; j++) logPi[o + j] = beta0[j]! + beta1[j]! * xi;
        } else {
          for (let j = 0; j < k; j++) {
            let v = beta0[j]!;
            for (let l = 0, bo = j * d; l < d; l++) v += beta1[bo + l]! * X[xo + l]!;
            logPi[o + j] = v;
          }
        }
      }
      let jm = -1;
      for (let j = 0; j < k; j++) {
        if (useMask && !mask![o + j]) continue;
        const v = logPi[o + j]!;
        if (v > mx || v !== v) { mx = v; jm = j; }
      }
      let s = 0;
      for (let j = 0; j < k; j++) {
        if (useMask && !mask![o + j]) { pi[o + j] = 0; continue; }
        const u = logPi[o + j]! - mx;
        // exp(0) = 1 exactly: the row maximum costs no exponential
        const e = j === jm ? 1 : u < -EXP_CUTOFF ? 0 : Math.exp(u);
        pi[o + j] = e;
        s += e;
      }
      const lse = mx + Math.log(s);
      const inv = 1 / s;
      for (let j = 0; j < k; j++) {
        if (useMask && !mask![o + j]) { logPi[o + j] = -Infinity; if (resp && resp[o + j]! !== 0) q = -Infinity; continue; }
        const lp = logPi[o + j]! - lse;
        logPi[o + j] = lp;
        pi[o + j] = pi[o + j]! * inv;
        if (resp) { const r = resp[o + j]!; if (r !== 0) q += r * lp; }
      }
    }
    return resp ? q : NaN;
  }

  function eStep(m: Model, X: Float64Array, y: Float64Array, n: number, logPi: Float64Array, resp: Float64Array, stats?: EStepStats): number {
    const { k, d, a, b } = m;
    expertConstants(m);
    if (d === 1) {
      const A = k === 2 || k === 3 ? commonArena(logPi, X, y, resp) : undefined;
      if (A !== undefined) {
        const total = eStepWasm(A, k as 2 | 3, a, b, cst, hlf, X, y, n, logPi, resp, qOut, k === 3 ? eStepRows1k3 : eStepRows1k2);
        if (stats) stats.q = qOut[0]!;
        return total;
      }
      const total = k === 3 ? eStepRows1k3(a, b, cst, hlf, X, y, n, logPi, resp, qOut)
        : k === 2 ? eStepRows1k2(a, b, cst, hlf, X, y, n, logPi, resp, qOut)
          : eStepRows1(k, a, b, cst, hlf, X, y, n, logPi, resp, qOut);
      if (stats) stats.q = qOut[0]!;
      return total;
    }
    const total = eStepRowsD(k, d, a, b, cst, hlf, X, y, n, logPi, resp, qOut);
    if (stats) stats.q = qOut[0]!;
    return total;
  }

  function logLik(m: Model, X: Float64Array, y: Float64Array, n: number, logPi: Float64Array): number {
    const { k, d, a, b } = m;
    expertConstants(m);
    const A = d === 1 && (k === 2 || k === 3) ? commonArena(logPi, X, y) : undefined;
    if (A !== undefined) {
      return logLikWasm(A, k as 2 | 3, a, b, cst, hlf, X, y, n, logPi, k === 3 ? logLikRows1k3 : logLikRows1k2Js);
    }
    if (d === 1 && k === 3) return logLikRows1k3(a, b, cst, hlf, X, y, n, logPi);
    let total = 0;
    for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
      const yi = y[i]!;
      let mx = -Infinity;
      for (let j = 0; j < k; j++) {
        let mu = b[j]!;
        for (let l = 0, ao = j * d; l < d; l++) mu += a[ao + l]! * X[xo + l]!;
        const r = yi - mu;
        const v = logPi[o + j]! + cst[j]! + hlf[j]! * r * r;
        row[j] = v;
        if (v > mx || v !== v) mx = v;
      }
      if (!(mx > -Infinity) || mx === Infinity) { total += mx === -Infinity ? -Infinity : NaN; continue; }
      let s = 0;
      for (let j = 0; j < k; j++) { const u = row[j]! - mx; if (u >= -EXP_CUTOFF) s += Math.exp(u); }
      total += mx + Math.log(s);
    }
    return total;
  }

  function gateQ(resp: Float64Array, logPi: Float64Array, n: number, k: number): number {
    let q = 0;
    const len = n * k;
    for (let t = 0; t < len; t++) {
      const r = resp[t]!;
      if (r !== 0) q += r * logPi[t]!;
    }
    return q;
  }

  /**
   * Linear gates (softmax, top-K): every free expert j has the block [β0_j, β1_j] at base_j with
   * Jacobian z_i = (1, x_i), so C's (j, l) block is Σ_i R π_ij(δ_jl − π_il) z_i z_iᵀ: accumulate the
   * pair weights times the monomials of z (upper triangle), then scatter once.
   */
  function gateGradCurvLinear(L: GateLayout, X: Float64Array, n: number, resp: Float64Array, pi: Float64Array, grad: Float64Array, curv: Float64Array | null): void {
    const { k, d, p, b0Index } = L;
    const q = d + 1;
    const nm = (q * (q + 1)) / 2;
    let f = 0;
    if (freeIdx.length < k) freeIdx = new Int32Array(k);
    for (let j = 0; j < k; j++) if (b0Index[j]! >= 0) freeIdx[f++] = j;
    const npair = (f * (f + 1)) / 2;
    if (acc.length < npair * nm) acc = new Float64Array(npair * nm);
    if (zz.length < nm) zz = new Float64Array(nm);
    acc.fill(0, 0, npair * nm);
    grad.fill(0, 0, p);
    if (d === 1 && k === 3 && f === 2) {
      const A = commonArena(X, resp, pi);
      if (A === undefined || !gradCurvWasm3(A, X, n, resp, pi, freeIdx[0]!, freeIdx[1]!, sums, gradCurvRows1k3)) {
        gradCurvRows1k3(X, n, resp, pi, freeIdx[0]!, freeIdx[1]!, sums);
      }
      const ba = b0Index[freeIdx[0]!]!;
      const bb = b0Index[freeIdx[1]!]!;
      grad[ba] = sums[0]!; grad[ba + 1] = sums[1]!; grad[bb] = sums[2]!; grad[bb + 1] = sums[3]!;
      for (let t = 0; t < 9; t++) acc[t] = sums[4 + t]!;
    } else if (d === 1 && k === 2 && f === 1) {
      const A = commonArena(X, resp, pi);
      if (A === undefined || !gradCurvWasm2(A, X, n, resp, pi, freeIdx[0]!, sums, gradCurvRows1k2)) gradCurvRows1k2(X, n, resp, pi, freeIdx[0]!, sums);
      const ba = b0Index[freeIdx[0]!]!;
      grad[ba] = sums[0]!; grad[ba + 1] = sums[1]!;
      for (let t = 0; t < 3; t++) acc[t] = sums[2 + t]!;
    } else if (d === 1) {
      if (Rbuf.length < n) Rbuf = new Float64Array(n);
      if (sums.length < 2 * f + 3 * npair) sums = new Float64Array(2 * f + 3 * npair);
      gradCurvRows1(k, f, freeIdx, X, n, resp, pi, Rbuf, curv !== null, sums);
      for (let u = 0; u < f; u++) {
        const base = b0Index[freeIdx[u]!]!;
        grad[base] = sums[2 * u]!; grad[base + 1] = sums[2 * u + 1]!;
      }
      if (curv !== null) for (let t = 0; t < 3 * npair; t++) acc[t] = sums[2 * f + t]!;
    } else {
      for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
        let R = 0;
        for (let j = 0; j < k; j++) R += resp[o + j]!;
        // monomials z_a z_b, a ≤ b, z = (1, x)
        if (curv !== null) {
          let t = 0;
          for (let a = 0; a < q; a++) {
            const za = a === 0 ? 1 : X[xo + a - 1]!;
            for (let b = a; b < q; b++) zz[t++] = za * (b === 0 ? 1 : X[xo + b - 1]!);
          }
        }
        let pr = 0;
        for (let u = 0; u < f; u++) {
          const j = freeIdx[u]!;
          const pj = pi[o + j]!;
          const G = resp[o + j]! - R * pj;
          const base = b0Index[j]!;
          grad[base] = grad[base]! + G;
          for (let a = 1; a < q; a++) grad[base + a] = grad[base + a]! + G * X[xo + a - 1]!;
          if (curv === null) continue;
          const rp = R * pj;
          if (rp === 0) { pr += f - u; continue; }
          for (let v = u; v < f; v++, pr++) {
            const c = v === u ? rp * (1 - pj) : -rp * pi[o + freeIdx[v]!]!;
            const ao = pr * nm;
            for (let s = 0; s < nm; s++) acc[ao + s] = acc[ao + s]! + c * zz[s]!;
          }
        }
      }
    }
    if (curv === null) return;
    curv.fill(0, 0, p * p);
    let pr = 0;
    for (let u = 0; u < f; u++) {
      const bu = b0Index[freeIdx[u]!]!;
      for (let v = u; v < f; v++, pr++) {
        const bv = b0Index[freeIdx[v]!]!;
        let s = 0;
        for (let a = 0; a < q; a++) {
          for (let b = a; b < q; b++, s++) {
            const c = acc[pr * nm + s]!;
            curv[(bu + a) * p + bv + b] = c;
            curv[(bu + b) * p + bv + a] = c;
            curv[(bv + a) * p + bu + b] = c;
            curv[(bv + b) * p + bu + a] = c;
          }
        }
      }
    }
  }

  function gateGradCurv(L: GateLayout, X: Float64Array, n: number, resp: Float64Array, pi: Float64Array,
    dB0: Float64Array, dU: Float64Array, dTau: Float64Array, tau: number, grad: Float64Array, curv: Float64Array | null): void {
    const { k, d, p, b0Index, b1Index, tauIndex, linear } = L;
    if (linear && linearBlocks(L)) { gateGradCurvLinear(L, X, n, resp, pi, grad, curv); return; }
    if (w.length < p) { w = new Float64Array(p); }
    if (ci.length < d + 2) { ci = new Int32Array(d + 2); cv = new Float64Array(d + 2); }
    grad.fill(0, 0, p);
    if (curv) curv.fill(0, 0, p * p);
    for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
      let R = 0;
      for (let j = 0; j < k; j++) R += resp[o + j]!;
      for (let t = 0; t < p; t++) w[t] = 0;
      for (let l = 0; l < k; l++) {
        const pl = pi[o + l]!;
        const rl = resp[o + l]!;
        if (pl === 0 && rl === 0) continue;
        const G = rl - R * pl;
        const c0 = linear ? 1 : dB0[o + l]!;
        const cu = linear ? 1 : dU[o + l]!;
        // the non-zero Jacobian entries of s_il: indices ci (increasing), values cv
        let m = 0;
        const i0 = b0Index[l]!;
        if (i0 >= 0) { ci[m] = i0; cv[m] = c0; m++; }
        const i1 = b1Index[l]!;
        if (i1 >= 0) for (let a = 0; a < d; a++) { ci[m] = i1 + a; cv[m] = cu * X[xo + a]!; m++; }
        if (tauIndex >= 0) { ci[m] = tauIndex; cv[m] = dTau[o + l]! * tau; m++; }
        const rp = R * pl;
        for (let s = 0; s < m; s++) {
          const is = ci[s]!;
          const vs = cv[s]!;
          grad[is] = grad[is]! + G * vs;
          if (!curv) continue;
          w[is] = w[is]! + pl * vs;
          const rv = rp * vs;
          // upper triangle of R π_l J_lᵀ J_l
          for (let t = s; t < m; t++) { const it = is * p + ci[t]!; curv[it] = curv[it]! + rv * cv[t]!; }
        }
      }
      if (curv) subtractOuterUpper(curv, p, R, w);
    }
    if (curv) mirrorUpper(curv, p);
  }

  /**
   * One pass around shifts c (out's means from the previous call, close to the new ones):
   * S = Σ r (x − c)(x − c)ᵀ − N δδᵀ with δ = x̄ − c, which loses nothing when δ is small against
   * the spread; when it is not (first call, or responsibilities that moved a lot), a second,
   * centred pass recomputes the cross-products.
   */
  /** Zeroes the sums of `out` and loads the shifts (the caller's previous means, else 0). */
  function momentsBegin(d: number, k: number, out: ExpertMoments): boolean {
    const { N, xbar, ybar, Sxx, Sxy } = out;
    if (shX.length < k * d) shX = new Float64Array(k * d);
    if (shY.length < k) { shY = new Float64Array(k); syy = new Float64Array(k); }
    let fresh = out.shifted !== true;
    // non-finite shifts would turn the d = 1 loops' zero terms (0 · NaN) into NaN: start afresh
    for (let t = 0; t < k * d && !fresh; t++) if (!Number.isFinite(xbar[t]!)) fresh = true;
    for (let j = 0; j < k && !fresh; j++) if (!Number.isFinite(ybar[j]!)) fresh = true;
    for (let t = 0; t < k * d; t++) shX[t] = fresh ? 0 : xbar[t]!;
    for (let j = 0; j < k; j++) shY[j] = fresh ? 0 : ybar[j]!;
    N.fill(0, 0, k); xbar.fill(0, 0, k * d); ybar.fill(0, 0, k); Sxx.fill(0, 0, k * d * d); Sxy.fill(0, 0, k * d); syy.fill(0, 0, k);
    return fresh;
  }

  /**
   * One pass around shifts c (out's means from the previous call, close to the new ones):
   * S = Σ r (x − c)(x − c)ᵀ − N δδᵀ with δ = x̄ − c, which loses nothing when δ is small against
   * the spread; when it is not (first call, or responsibilities that moved a lot), a second,
   * centred pass recomputes the cross-products.
   */
  function expertMomentsImpl(X: Float64Array, y: Float64Array, n: number, d: number, k: number, resp: Float64Array, out: ExpertMoments): void {
    const { N, xbar, ybar, Sxx, Sxy } = out;
    const fresh = momentsBegin(d, k, out);
    if (d === 1) {
      if (sums.length < 6 * k) sums = new Float64Array(6 * k);
      const A = k === 2 || k === 3 ? commonArena(X, y, resp) : undefined;
      if (A !== undefined) momentsWasm(A, k as 2 | 3, X, y, n, resp, shX, shY, sums, k === 3 ? momentsRows1k3 : momentsRows1k2);
      else if (k === 3) momentsRows1k3(X, y, n, resp, shX, shY, sums);
      else if (k === 2) momentsRows1k2(X, y, n, resp, shX, shY, sums);
      else momentsRows1(k, X, y, n, resp, shX, shY, sums);
      for (let j = 0; j < k; j++) {
        N[j] = sums[6 * j]!; xbar[j] = sums[6 * j + 1]!; ybar[j] = sums[6 * j + 2]!;
        Sxx[j] = sums[6 * j + 3]!; Sxy[j] = sums[6 * j + 4]!; syy[j] = sums[6 * j + 5]!;
      }
    } else {
      for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
        const yi = y[i]!;
        for (let j = 0; j < k; j++) {
          const r = resp[o + j]!;
          if (r === 0) continue;
          const jo = j * d;
          const so = jo * d;
          const dy = yi - shY[j]!;
          N[j] = N[j]! + r;
          ybar[j] = ybar[j]! + r * dy;
          syy[j] = syy[j]! + r * dy * dy;
          for (let a = 0; a < d; a++) {
            const rxa = r * (X[xo + a]! - shX[jo + a]!);
            xbar[jo + a] = xbar[jo + a]! + rxa;
            Sxy[jo + a] = Sxy[jo + a]! + rxa * dy;
            for (let c = a; c < d; c++) Sxx[so + a * d + c] = Sxx[so + a * d + c]! + rxa * (X[xo + c]! - shX[jo + c]!);
          }
        }
      }
    }
    momentsFinish(X, y, n, d, k, resp, out, fresh);
  }

  /** Turns the shifted sums into means and centred sums (with the second pass when needed). */
  function momentsFinish(X: Float64Array, y: Float64Array, n: number, d: number, k: number, resp: Float64Array, out: ExpertMoments, fresh: boolean): void {
    const { N, xbar, ybar, Sxx, Sxy } = out;
    let redo = fresh;
    if (dx.length < d) dx = new Float64Array(d);
    for (let j = 0; j < k; j++) {
      const Nj = N[j]!;
      const inv = Nj > 0 ? 1 / Nj : 0;
      const jo = j * d;
      const so = jo * d;
      const dY = ybar[j]! * inv; // ȳ − c_y
      for (let a = 0; a < d; a++) dx[a] = xbar[jo + a]! * inv; // x̄ − c_x
      // the correction must not cancel more than half of the raw sum (≤ 1 bit lost)
      if (Nj * dY * dY > 0.5 * syy[j]!) redo = true;
      ybar[j] = shY[j]! + dY;
      syy[j] = syy[j]! - Nj * dY * dY;
      for (let a = 0; a < d; a++) {
        if (Nj * dx[a]! * dx[a]! > 0.5 * Sxx[so + a * d + a]!) redo = true;
        xbar[jo + a] = shX[jo + a]! + dx[a]!;
        Sxy[jo + a] = Sxy[jo + a]! - Nj * dx[a]! * dY;
        for (let c = a; c < d; c++) Sxx[so + a * d + c] = Sxx[so + a * d + c]! - Nj * dx[a]! * dx[c]!;
      }
    }
    if (redo) {
      Sxx.fill(0, 0, k * d * d); Sxy.fill(0, 0, k * d); syy.fill(0, 0, k);
      for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
        const yi = y[i]!;
        for (let j = 0; j < k; j++) {
          const r = resp[o + j]!;
          if (r === 0) continue;
          const jo = j * d;
          const so = jo * d;
          const ey = yi - ybar[j]!;
          const ry = r * ey;
          syy[j] = syy[j]! + ry * ey;
          for (let a = 0; a < d; a++) {
            const xa = X[xo + a]! - xbar[jo + a]!;
            Sxy[jo + a] = Sxy[jo + a]! + ry * xa;
            const rxa = r * xa;
            for (let c = a; c < d; c++) Sxx[so + a * d + c] = Sxx[so + a * d + c]! + rxa * (X[xo + c]! - xbar[jo + c]!);
          }
        }
      }
    }
    for (let j = 0; j < k; j++) {
      const so = j * d * d;
      for (let a = 0; a < d; a++) for (let c = a + 1; c < d; c++) Sxx[so + c * d + a] = Sxx[so + a * d + c]!;
    }
    out.Syy.set(syy.subarray(0, k));
    out.shifted = true;
  }

  function expertResiduals(m: Model, X: Float64Array, y: Float64Array, n: number, resp: Float64Array, out: Float64Array): void {
    const { k, d, a, b } = m;
    out.fill(0, 0, k);
    if (d === 1) {
      for (let i = 0, o = 0; i < n; i++, o += k) {
        const yi = y[i]!;
        const xi = X[i]!;
        for (let j = 0; j < k; j++) {
          const r = resp[o + j]!;
          if (r === 0) continue;
          const e = yi - b[j]! - a[j]! * xi;
          out[j] = out[j]! + r * e * e;
        }
      }
      return;
    }
    for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
      const yi = y[i]!;
      for (let j = 0; j < k; j++) {
        const r = resp[o + j]!;
        if (r === 0) continue;
        let mu = b[j]!;
        for (let l = 0, ao = j * d; l < d; l++) mu += a[ao + l]! * X[xo + l]!;
        const e = yi - mu;
        out[j] = out[j]! + r * e * e;
      }
    }
  }

  const backend: Backend & DenseGateKernels = { name: 'cpu', gateProbs, eStep, logLik, gateQ, gateGradCurv, expertMoments: expertMomentsImpl, expertResiduals, denseGradHess };
  return backend;
}

/**
 * Runs every CPU path of a softmax fit (k = 3, 2 and 4 with d = 1, k = 2 with d = 2) on a few rows,
 * once, when the first backend is created (~10 ms, mostly the first compilation of these functions,
 * which the first fit would pay anyway). Without it, V8 first compiles a loop on its first long call (on-stack
 * replacement), before the code after the loop has ever run; that code then has no type
 * feedback, and the optimised loop deoptimised at its end on every call, so that every call ran
 * partly in the interpreter (measured: 2–3× slower). The backend's closures share their feedback
 * across instances, so one warm-up serves every backend created later.
 */
function warmUp(): void {
  const be = createCpuBackend();
  const E = new Float64Array(0);
  for (const [k, d] of [[3, 1], [2, 1], [4, 1], [2, 2]] as const) {
    const n = 6;
    const X = Float64Array.from({ length: n * d }, (_, t) => Math.sin(1.7 * t + 0.3));
    const y = Float64Array.from({ length: n }, (_, i) => Math.cos(2.3 * i));
    const m: Model = {
      gate: { kind: 'softmax' }, k, d,
      beta0: Float64Array.from({ length: k }, (_, j) => 0.1 * j), beta1: Float64Array.from({ length: k * d }, (_, t) => 0.3 - 0.2 * t),
      a: Float64Array.from({ length: k * d }, (_, t) => 0.5 * t - 0.4), b: Float64Array.from({ length: k }, (_, j) => 0.2 * j),
      nu: new Float64Array(k).fill(0.5), tau: 1,
    };
    const logPi = new Float64Array(n * k), pi = new Float64Array(n * k), resp = new Float64Array(n * k);
    const b0Index = new Int32Array(k), b1Index = new Int32Array(k);
    let p = 0;
    for (let j = 0; j < k; j++) {
      b0Index[j] = j === k - 1 ? -1 : p++;
      if (j === k - 1) b1Index[j] = -1; else { b1Index[j] = p; p += d; }
    }
    const L = { k, d, p, b0Index, b1Index, tauIndex: -1, linear: true, ref: k - 1, fixB0Ref: true, fixB1Ref: true };
    const grad = new Float64Array(p), curv = new Float64Array(p * p), rss = new Float64Array(k);
    const mom = expertMoments(k, d);
    const stats: EStepStats = { q: NaN };
    for (let r = 0; r < 3; r++) {
      be.gateProbs(m, X, n, logPi, pi, null, 'none');
      be.gateProbs(m, X, n, logPi, pi, null, 'none', resp);
      be.eStep(m, X, y, n, logPi, resp, stats);
      be.logLik(m, X, y, n, logPi);
      be.gateQ(resp, logPi, n, k);
      mom.shifted = r > 0;
      be.expertMoments(X, y, n, d, k, resp, mom);
      be.expertResiduals(m, X, y, n, resp, rss);
      be.gateGradCurv(L, X, n, resp, pi, E, E, E, 1, grad, curv);
      be.gateGradCurv(L, X, n, resp, pi, E, E, E, 1, grad, null);
    }
  }
}
