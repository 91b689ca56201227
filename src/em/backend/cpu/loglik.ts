/**
 * The observed log-likelihood Σ_i log p(y_i | x_i) on the CPU from log π and the experts (no
 * responsibilities written): d = 1, k = 3 unrolled (also the top-K fits': log π = −∞ terms taken
 * as 0), d = 1 any k, and the generic loop; the WebAssembly SIMD bindings loglik2 / loglik3.
 */
import { expCore } from '../../../math/exp.js';
import { logCore } from '../../../math/log.js';
import { EXP_CUTOFF, PROD_FLUSH } from '../constants.js';
import { register } from '../registry.js';
import type { SimdKernel } from '../simd/driver.js';
import { expertPar, expertParG, logProduct } from './estep.js';

/**
 * Observed log-likelihood Σ_i log Σ_j π_ij N(y_i; a_j x_i + b_j, ν_j), d = 1, k = 3, from log π
 * (−Infinity for inactive experts), with cst_j = −½ log(2πν_j) and hlf_j = −1/(2ν_j). One log per
 * 256 rows (product of the row sums, each in [1, 3]).
 * @returns the total; −Infinity (NaN) when some sample has zero (NaN) density
 */
export function logLikRows1k3(
  a: Float64Array,
  b: Float64Array,
  cst: Float64Array,
  hlf: Float64Array,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
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
  let sumMax = 0;
  let logs = 0;
  let prod = 1;
  let bad = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const yi = y[i]!;
    const xi = X[i]!;
    const r0 = yi - (b0 + a0 * xi);
    const r1 = yi - (b1 + a1 * xi);
    const r2 = yi - (b2 + a2 * xi);
    const v0 = logPi[o]! + k0 + h0 * r0 * r0;
    const v1 = logPi[o + 1]! + k1 + h1 * r1 * r1;
    const v2 = logPi[o + 2]! + k2 + h2 * r2 * r2;
    const mx = Math.max(v0, v1, v2);
    if (!(mx > -Infinity) || mx === Infinity) {
      bad += mx === -Infinity ? -Infinity : NaN;
      continue;
    }
    const d0 = v0 - mx,
      d1 = v1 - mx,
      d2 = v2 - mx;
    // −Infinity (an inactive expert) compares below the cutoff: no exponential
    const s =
      (d0 < -EXP_CUTOFF ? 0 : expCore(d0)) +
      (d1 < -EXP_CUTOFF ? 0 : expCore(d1)) +
      (d2 < -EXP_CUTOFF ? 0 : expCore(d2));
    sumMax += mx;
    prod *= s;
    if (prod > PROD_FLUSH || (i & 255) === 255) {
      logs += logCore(prod);
      prod = 1;
    }
  }
  return bad + (sumMax + (logs + logCore(prod)));
}

/**
 * logLikRows1k3 for any k (d = 1), with the experts in loops: the rows the k = 2 SIMD
 * log-likelihood kernel hands back (cpu/loglik.ts logLikSimd). Same contract.
 */
export function logLikRows1(
  k: number,
  a: Float64Array,
  b: Float64Array,
  cst: Float64Array,
  hlf: Float64Array,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
): number {
  let total = 0;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const yi = y[i]!;
    const xi = X[i]!;
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      const r = yi - (b[j]! + a[j]! * xi);
      mx = Math.max(mx, logPi[o + j]! + cst[j]! + hlf[j]! * r * r);
    }
    if (!(mx > -Infinity) || mx === Infinity) {
      total += mx === -Infinity ? -Infinity : NaN;
      continue;
    }
    let s = 0;
    for (let j = 0; j < k; j++) {
      const r = yi - (b[j]! + a[j]! * xi);
      const u = logPi[o + j]! + cst[j]! + hlf[j]! * r * r - mx;
      if (u >= -EXP_CUTOFF) s += expCore(u);
    }
    total += mx + logCore(s);
  }
  return total;
}

/** logLikRows1 for k = 2 (the rows the k = 2 SIMD log-likelihood kernel hands back). */
function logLikRows1k2Js(
  a: Float64Array,
  b: Float64Array,
  cst: Float64Array,
  hlf: Float64Array,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
): number {
  return logLikRows1(2, a, b, cst, hlf, X, y, n, logPi);
}

/**
 * The generic loop (any k, d; Math.exp / Math.log): −Infinity or NaN when some row's is.
 * @param row scratch of k
 */
export function logLikRowsD(
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
  row: Float64Array,
): number {
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
    if (!(mx > -Infinity) || mx === Infinity) {
      total += mx === -Infinity ? -Infinity : NaN;
      continue;
    }
    let s = 0;
    for (let j = 0; j < k; j++) {
      const u = row[j]! - mx;
      if (u >= -EXP_CUTOFF) s += Math.exp(u);
    }
    total += mx + Math.log(s);
  }
  return total;
}

/**
 * The generic loop of the shapes with a generic SIMD kernel (loglikg, registry.ts genericSimdShape):
 * logLikRowsD's log-densities (y − (b_j + Σ a_jl x_l), also for d = 1) with expCore, and the row sums'
 * product taken to a log every 256 rows, as logLikRows1k3. Same contract.
 * @param row scratch of k
 */
export function logLikRowsG(
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
  row: Float64Array,
): number {
  let sumMax = 0;
  let logs = 0;
  let prod = 1;
  let bad = 0;
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
    if (!(mx > -Infinity) || mx === Infinity) {
      bad += mx === -Infinity ? -Infinity : NaN;
      continue;
    }
    let s = 0;
    for (let j = 0; j < k; j++) {
      const u = row[j]! - mx;
      if (u >= -EXP_CUTOFF) s += expCore(u);
    }
    sumMax += mx;
    prod *= s;
    if (prod > PROD_FLUSH || (i & 255) === 255) {
      logs += logCore(prod);
      prod = 1;
    }
  }
  return bad + (sumMax + (logs + logCore(prod)));
}

/** A call of the log-likelihood (one per backend, reused). */
export interface LogLikCall {
  k: number;
  d: number;
  a: Float64Array;
  b: Float64Array;
  cst: Float64Array;
  hlf: Float64Array;
  X: Float64Array;
  y: Float64Array;
  n: number;
  logPi: Float64Array;
  /** scratch of k (the generic loop) */
  row: Float64Array;
}

type LogLikRows = typeof logLikRows1k3;

/**
 * The SIMD binding of loglik2 / loglik3 (rows summed as in the E-step's); −Infinity or NaN when some
 * row's is, as the JS kernels.
 */
export function logLikSimd(k: 2 | 3, rows: LogLikRows): SimdKernel<LogLikCall> {
  return {
    mode: 'rows',
    counter: 'logLik',
    arrays: (c) => [c.logPi, c.X, c.y],
    setup(A, c) {
      expertPar(A, k, c.a, c.b, c.cst, c.hlf);
      return {
        kernel: k === 3 ? A.kernels.loglik3 : A.kernels.loglik2,
        args: [c.X.byteOffset, c.y.byteOffset, c.logPi.byteOffset],
      };
    },
    rows: (c, i0, len) =>
      rows(
        c.a,
        c.b,
        c.cst,
        c.hlf,
        c.X.subarray(i0, i0 + len),
        c.y.subarray(i0, i0 + len),
        len,
        c.logPi.subarray(i0 * k, (i0 + len) * k),
      ),
    finish: (A, _c, llJs) => A.acc[2]! + A.acc[3]! + logProduct(A) + llJs,
  };
}

const generic = (c: LogLikCall): number => logLikRowsD(c.k, c.d, c.a, c.b, c.cst, c.hlf, c.X, c.y, c.n, c.logPi, c.row);

register<LogLikCall>('logLik', 'none', 3, 1, {
  js: (c) => logLikRows1k3(c.a, c.b, c.cst, c.hlf, c.X, c.y, c.n, c.logPi),
  simd: logLikSimd(3, logLikRows1k3),
});
// k = 2: the JS path is the generic loop; the SIMD kernel's refused rows go to logLikRows1 (expCore)
register<LogLikCall>('logLik', 'none', 2, 1, { js: generic, simd: logLikSimd(2, logLikRows1k2Js) });
const genericRows = (c: LogLikCall, i0: number, len: number): number =>
  logLikRowsG(
    c.k,
    c.d,
    c.a,
    c.b,
    c.cst,
    c.hlf,
    c.X.subarray(i0 * c.d, (i0 + len) * c.d),
    c.y.subarray(i0, i0 + len),
    len,
    c.logPi.subarray(i0 * c.k, (i0 + len) * c.k),
    c.row,
  );

/** The SIMD binding of the generic kernel loglikg (twin of logLikRowsG). */
const logLikSimdG: SimdKernel<LogLikCall> = {
  mode: 'rows',
  counter: 'logLik',
  arrays: (c) => [c.logPi, c.X, c.y],
  setup(A, c) {
    expertParG(A, c.k, c.d, c.a, c.b, c.cst, c.hlf);
    return { kernel: A.kernels.loglikg, args: [c.X.byteOffset, c.y.byteOffset, c.logPi.byteOffset, c.k, c.d] };
  },
  rows: genericRows,
  finish: (A, _c, llJs) => A.acc[2]! + A.acc[3]! + logProduct(A) + llJs,
};

// k = 1, k ≥ 4, d ≥ 2: logLikRowsG (expCore, the row sums' product), the twin of loglikg
register<LogLikCall>('logLik', 'none', '*', '*', { js: (c) => genericRows(c, 0, c.n), simd: logLikSimdG });
