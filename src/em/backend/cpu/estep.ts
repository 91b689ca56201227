/**
 * The E-step on the CPU: log-densities v_ij = log π_ij + c_j + h_j (y_i − b_j − a_j·x_i)², responsibilities
 * r_ij = e^(v_ij − shift_i) / Σ_j by log-sum-exp per row, Σ_i log p(y_i | x_i) and Q = Σ r log π in the
 * same pass (c_j = −½ log(2πν_j), h_j = −1/(2ν_j)); d = 1 with k = 3 and k = 2 unrolled (and their
 * WebAssembly SIMD bindings estep3 / estep2), d = 1 any k, and any d.
 */
import { SPECIALISED_D } from '../simd/layout.js';
import { logCore } from '../../../math/log.js';
import { LN2_HI, LN2_LO, PROD_FLUSH, SHIFT_EXACT_BELOW } from '../constants.js';
import { register } from '../registry.js';
import type { Arena } from '../simd/arena.js';
import type { SimdKernel } from '../simd/driver.js';
import { expRel } from './rows.js';

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
function eStepRows1k3(
  a: Float64Array,
  b: Float64Array,
  cst: Float64Array,
  hlf: Float64Array,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
  resp: Float64Array,
  out: Float64Array,
): number {
  const a0 = a[0]!,
    a1 = a[1]!,
    a2 = a[2]!;
  const b0 = b[0]!,
    b1 = b[1]!,
    b2 = b[2]!;
  const k0 = cst[0]!,
    k1 = cst[1]!,
    k2 = cst[2]!;
  const h0 = hlf[0]!,
    h1 = hlf[1]!,
    h2 = hlf[2]!;
  let q = 0;
  let sumMax = 0;
  let logs = 0;
  let prod = 1;
  let bad = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const yi = y[i]!;
    const xi = X[i]!;
    const lp0 = logPi[o]!,
      lp1 = logPi[o + 1]!,
      lp2 = logPi[o + 2]!;
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
        resp[o] = NaN;
        resp[o + 1] = NaN;
        resp[o + 2] = NaN;
        bad += mx === -Infinity ? -Infinity : NaN;
        continue;
      }
    }
    const e0 = expRel(v0 - mx);
    const e1 = expRel(v1 - mx);
    const e2 = expRel(v2 - mx);
    const s = e0 + e1 + e2;
    const inv = 1 / s;
    const r0 = e0 * inv,
      r1 = e1 * inv,
      r2 = e2 * inv;
    resp[o] = r0;
    resp[o + 1] = r1;
    resp[o + 2] = r2;
    if (fast) {
      // every log π finite: a zero r adds ±0, the same sum as skipping it, without a branch on the data
      q += r0 * lp0;
      q += r1 * lp1;
      q += r2 * lp2;
    } else {
      if (r0 !== 0) q += r0 * lp0;
      if (r1 !== 0) q += r1 * lp1;
      if (r2 !== 0) q += r2 * lp2;
    }
    sumMax += mx;
    prod *= s;
    if (prod > PROD_FLUSH || (i & 255) === 255) {
      logs += logCore(prod);
      prod = 1;
    }
  }
  out[0] = q;
  return bad + (sumMax + (logs + logCore(prod)));
}

/** eStepRows1k3 for k = 2 (the same branch-free shift and Q). */
function eStepRows1k2(
  a: Float64Array,
  b: Float64Array,
  cst: Float64Array,
  hlf: Float64Array,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
  resp: Float64Array,
  out: Float64Array,
): number {
  const a0 = a[0]!,
    a1 = a[1]!;
  const b0 = b[0]!,
    b1 = b[1]!;
  const k0 = cst[0]!,
    k1 = cst[1]!;
  const h0 = hlf[0]!,
    h1 = hlf[1]!;
  let q = 0;
  let sumMax = 0;
  let logs = 0;
  let prod = 1;
  let bad = 0;
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    const yi = y[i]!;
    const xi = X[i]!;
    const lp0 = logPi[o]!,
      lp1 = logPi[o + 1]!;
    const d0 = yi - b0 - a0 * xi;
    const d1 = yi - b1 - a1 * xi;
    const v0 = lp0 + k0 + h0 * d0 * d0;
    const v1 = lp1 + k1 + h1 * d1 * d1;
    let mx = 0.5 * (v0 + v1 + Math.abs(v0 - v1));
    const fast = Math.abs(v0) + Math.abs(v1) < SHIFT_EXACT_BELOW;
    if (!fast) {
      mx = Math.max(v0, v1);
      if (!(mx > -Infinity) || mx === Infinity) {
        resp[o] = NaN;
        resp[o + 1] = NaN;
        bad += mx === -Infinity ? -Infinity : NaN;
        continue;
      }
    }
    const e0 = expRel(v0 - mx);
    const e1 = expRel(v1 - mx);
    const s = e0 + e1;
    const inv = 1 / s;
    const r0 = e0 * inv,
      r1 = e1 * inv;
    resp[o] = r0;
    resp[o + 1] = r1;
    if (fast) {
      q += r0 * lp0;
      q += r1 * lp1;
    } else {
      if (r0 !== 0) q += r0 * lp0;
      if (r1 !== 0) q += r1 * lp1;
    }
    sumMax += mx;
    prod *= s;
    if (prod > PROD_FLUSH || (i & 255) === 255) {
      logs += logCore(prod);
      prod = 1;
    }
  }
  out[0] = q;
  return bad + (sumMax + (logs + logCore(prod)));
}

/**
 * E-step rows, d = 1 (cst_j = −½ log(2πν_j), hlf_j = −1/(2ν_j)). The log-likelihood is
 * Σ_i max_i + log Π_i s_i, with the product of the row sums s_i ∈ [1, k] taken to a log only when
 * it grows past PROD_FLUSH (or every 256 rows): one log per 256 rows instead of one per row,
 * exact to ≤ 256 roundings of a product (relative 3e-14), far below the total's own rounding.
 * out[0] receives Q = Σ r log π.
 */
function eStepRows1(
  k: number,
  a: Float64Array,
  b: Float64Array,
  cst: Float64Array,
  hlf: Float64Array,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
  resp: Float64Array,
  out: Float64Array,
): number {
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
      if (v > mx || v !== v) {
        mx = v;
        jm = j;
      }
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
    if (prod > PROD_FLUSH || (i & 255) === 255) {
      logs += Math.log(prod);
      prod = 1;
    }
  }
  out[0] = q;
  return bad + (sumMax + (logs + Math.log(prod)));
}

/** eStepRows1 for any d (expert means a_j·x_i + b_j by an inner loop over d). */
function eStepRowsD(
  k: number,
  d: number,
  a: Float64Array,
  b: Float64Array,
  cst: Float64Array,
  hlf: Float64Array,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
  resp: Float64Array,
  out: Float64Array,
): number {
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
      if (v > mx || v !== v) {
        mx = v;
        jm = j;
      }
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
    if (prod > PROD_FLUSH || (i & 255) === 255) {
      logs += Math.log(prod);
      prod = 1;
    }
  }
  out[0] = q;
  return bad + (sumMax + (logs + Math.log(prod)));
}

/** A call of the E-step (one per backend, reused). */
export interface EStepCall {
  k: number;
  d: number;
  a: Float64Array;
  b: Float64Array;
  /** c_j = −½ log(2πν_j) */
  cst: Float64Array;
  /** h_j = −1/(2ν_j) */
  hlf: Float64Array;
  X: Float64Array;
  y: Float64Array;
  n: number;
  logPi: Float64Array;
  resp: Float64Array;
  /** out: Q = Σ r log π */
  q: number;
  /** the JS rows' share of Q (SIMD path) */
  qJs: number;
}

type EStepRows = typeof eStepRows1k3;
const qOut = new Float64Array(1);

/** Σ log s of a SIMD call: (exponent sum)·ln 2 + log(product of the two lanes' mantissas ∈ [1, 4)). */
export function logProduct(A: Arena): number {
  const E = Number(A.accBits[6]! + A.accBits[7]!);
  return E * LN2_HI + E * LN2_LO + logCore(A.acc[4]! * A.acc[5]!);
}

/**
 * Resets the accumulators of the kernels that {@link logProduct} reads: the sums (acc[0..3]) and the
 * exponents (acc[6..7]) to 0, the two lanes' product mantissas (acc[4..5]) to 1.
 */
export function resetProductAcc(A: Arena): void {
  const acc = A.acc;
  acc.fill(0, 0, 8);
  acc[4] = 1;
  acc[5] = 1;
}

/** Loads a, b, c, h into par and resets the accumulators of the E-step / log-likelihood kernels. */
export function expertPar(
  A: Arena,
  k: number,
  a: Float64Array,
  b: Float64Array,
  cst: Float64Array,
  hlf: Float64Array,
): void {
  const par = A.par;
  for (let j = 0; j < k; j++) {
    par[j] = a[j]!;
    par[k + j] = b[j]!;
    par[2 * k + j] = cst[j]!;
    par[3 * k + j] = hlf[j]!;
  }
  resetProductAcc(A);
}

/** The SIMD binding of estep2 / estep3, whose refused rows go to `rows` (a collapsed, very narrow expert makes many). */
export function eStepSimd(k: 2 | 3, rows: EStepRows): SimdKernel<EStepCall> {
  return {
    mode: 'rows',
    counter: 'eStep',
    arrays: (c) => [c.logPi, c.X, c.y, c.resp],
    setup(A, c) {
      expertPar(A, k, c.a, c.b, c.cst, c.hlf);
      c.qJs = 0;
      return {
        kernel: k === 3 ? A.kernels.estep3 : A.kernels.estep2,
        args: [c.X.byteOffset, c.y.byteOffset, c.logPi.byteOffset, c.resp.byteOffset],
      };
    },
    rows(c, i0, len) {
      const ll = rows(
        c.a,
        c.b,
        c.cst,
        c.hlf,
        c.X.subarray(i0, i0 + len),
        c.y.subarray(i0, i0 + len),
        len,
        c.logPi.subarray(i0 * k, (i0 + len) * k),
        c.resp.subarray(i0 * k, (i0 + len) * k),
        qOut,
      );
      c.qJs += qOut[0]!;
      return ll;
    },
    finish(A, c, llJs) {
      const logs = logProduct(A);
      c.q = A.acc[0]! + A.acc[1]! + c.qJs;
      return A.acc[2]! + A.acc[3]! + logs + llJs;
    },
  };
}

function jsCall(rows: EStepRows): (c: EStepCall) => number {
  return (c) => {
    const t = rows(c.a, c.b, c.cst, c.hlf, c.X, c.y, c.n, c.logPi, c.resp, qOut);
    c.q = qOut[0]!;
    return t;
  };
}

register<EStepCall>('eStep', 'none', 3, 1, { js: jsCall(eStepRows1k3), simd: eStepSimd(3, eStepRows1k3) });
register<EStepCall>('eStep', 'none', 2, 1, { js: jsCall(eStepRows1k2), simd: eStepSimd(2, eStepRows1k2) });
/** Loads a (k·d), b, c, h into gpar and resets the accumulators (the generic kernels estepg*, loglikg). */
export function expertParG(
  A: Arena,
  k: number,
  d: number,
  a: Float64Array,
  b: Float64Array,
  cst: Float64Array,
  hlf: Float64Array,
): void {
  const g = A.gpar;
  const kd = k * d;
  for (let t = 0; t < kd; t++) g[t] = a[t]!;
  for (let j = 0; j < k; j++) {
    g[kd + j] = b[j]!;
    g[kd + k + j] = cst[j]!;
    g[kd + 2 * k + j] = hlf[j]!;
  }
  resetProductAcc(A);
}

/** The generic JS E-step on rows [i0, i0 + len): eStepRows1 (d = 1) or eStepRowsD; Q into qOut. */
function eStepGenericRows(c: EStepCall, i0: number, len: number): number {
  const { k, d } = c;
  const X = c.X.subarray(i0 * d, (i0 + len) * d),
    y = c.y.subarray(i0, i0 + len);
  const lp = c.logPi.subarray(i0 * k, (i0 + len) * k),
    r = c.resp.subarray(i0 * k, (i0 + len) * k);
  return d === 1
    ? eStepRows1(k, c.a, c.b, c.cst, c.hlf, X, y, len, lp, r, qOut)
    : eStepRowsD(k, d, c.a, c.b, c.cst, c.hlf, X, y, len, lp, r, qOut);
}

/**
 * The SIMD binding of a generic E-step kernel — estepg1 (d = 1), estepgd_d<d> (specialised to d),
 * estepgd — twins of eStepRows1 / eStepRowsD.
 */
const eStepSimdG = (name: 'estepg1' | 'estepgd' | `estepgd_d${2 | 3 | 4}`): SimdKernel<EStepCall> => ({
  mode: 'rows',
  counter: 'eStep',
  arrays: (c) => [c.logPi, c.X, c.y, c.resp],
  setup(A, c) {
    expertParG(A, c.k, c.d, c.a, c.b, c.cst, c.hlf);
    c.qJs = 0;
    return {
      kernel: A.kernels[name],
      args: [c.X.byteOffset, c.y.byteOffset, c.logPi.byteOffset, c.resp.byteOffset, c.k, c.d],
    };
  },
  rows(c, i0, len) {
    const ll = eStepGenericRows(c, i0, len);
    c.qJs += qOut[0]!;
    return ll;
  },
  finish(A, c, llJs) {
    const logs = logProduct(A);
    c.q = A.acc[0]! + A.acc[1]! + c.qJs;
    return A.acc[2]! + A.acc[3]! + logs + llJs;
  },
});

const eStepGenericJs = (c: EStepCall): number => {
  const t = eStepGenericRows(c, 0, c.n);
  c.q = qOut[0]!;
  return t;
};
register<EStepCall>('eStep', 'none', '*', 1, { js: eStepGenericJs, simd: eStepSimdG('estepg1') });
// d = 1 has estepg1; d = 2..4 their specialised kernels
for (const d of SPECIALISED_D)
  if (d !== 1) register<EStepCall>('eStep', 'none', '*', d, { js: eStepGenericJs, simd: eStepSimdG(`estepgd_d${d}`) });
register<EStepCall>('eStep', 'none', '*', '*', { js: eStepGenericJs, simd: eStepSimdG('estepgd') });
