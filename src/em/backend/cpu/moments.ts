/**
 * The experts' weighted moments on the CPU (Backend.expertMoments): one pass around shifts c (the
 * previous call's means, close to the new ones): S = Σ r (x − c)(x − c)ᵀ − N δδᵀ with δ = x̄ − c,
 * which loses nothing when δ is small against the spread; when it is not (first call, or
 * responsibilities that moved a lot), a second, centred pass recomputes the cross-products.
 * d = 1 with k = 3 and k = 2 unrolled (and their WebAssembly SIMD bindings moments3 / moments2),
 * d = 1 any k, and any d.
 */
import { SPECIALISED_D } from '../simd/layout.js';
import type { Model } from '../../../models/types.js';
import { dispatch, lookup, register } from '../registry.js';
import type { ExpertMoments } from '../types.js';
import type { SimdKernel } from '../simd/driver.js';

/**
 * Shifted one-pass moments for d = 1, k = 3 (sums in registers; same operations in the same
 * order as the generic loop, so the same bits). out6 receives, per expert j at 6j: N, Σr dx,
 * Σr dy, Σr dx², Σr dx dy, Σr dy² with dx = x − shX_j, dy = y − shY_j.
 * Rows with r = 0 are added, not skipped: with finite data and shifts (momentsBegin) they add
 * ±0, which leaves every sum's bits as skipping would, and a branch on r mispredicts wherever
 * far experts have exactly-zero responsibilities (16% of the entries in the over-specified demy
 * fit; measured ~35% of the pass).
 */
function momentsRows1k3(
  X: Float64Array,
  y: Float64Array,
  n: number,
  resp: Float64Array,
  shX: Float64Array,
  shY: Float64Array,
  out6: Float64Array,
): void {
  const cx0 = shX[0]!,
    cx1 = shX[1]!,
    cx2 = shX[2]!;
  const cy0 = shY[0]!,
    cy1 = shY[1]!,
    cy2 = shY[2]!;
  let n0 = 0,
    x0 = 0,
    y0 = 0,
    xx0 = 0,
    xy0 = 0,
    yy0 = 0;
  let n1 = 0,
    x1 = 0,
    y1 = 0,
    xx1 = 0,
    xy1 = 0,
    yy1 = 0;
  let n2 = 0,
    x2 = 0,
    y2 = 0,
    xx2 = 0,
    xy2 = 0,
    yy2 = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const yi = y[i]!;
    const xi = X[i]!;
    let r = resp[o]!;
    let dx = xi - cx0,
      dy = yi - cy0,
      rx = r * dx;
    n0 += r;
    x0 += rx;
    y0 += r * dy;
    xx0 += rx * dx;
    xy0 += rx * dy;
    yy0 += r * dy * dy;
    r = resp[o + 1]!;
    dx = xi - cx1;
    dy = yi - cy1;
    rx = r * dx;
    n1 += r;
    x1 += rx;
    y1 += r * dy;
    xx1 += rx * dx;
    xy1 += rx * dy;
    yy1 += r * dy * dy;
    r = resp[o + 2]!;
    dx = xi - cx2;
    dy = yi - cy2;
    rx = r * dx;
    n2 += r;
    x2 += rx;
    y2 += r * dy;
    xx2 += rx * dx;
    xy2 += rx * dy;
    yy2 += r * dy * dy;
  }
  out6[0] = n0;
  out6[1] = x0;
  out6[2] = y0;
  out6[3] = xx0;
  out6[4] = xy0;
  out6[5] = yy0;
  out6[6] = n1;
  out6[7] = x1;
  out6[8] = y1;
  out6[9] = xx1;
  out6[10] = xy1;
  out6[11] = yy1;
  out6[12] = n2;
  out6[13] = x2;
  out6[14] = y2;
  out6[15] = xx2;
  out6[16] = xy2;
  out6[17] = yy2;
}

/** momentsRows1k3 for k = 2 (out6: 12 sums). */
function momentsRows1k2(
  X: Float64Array,
  y: Float64Array,
  n: number,
  resp: Float64Array,
  shX: Float64Array,
  shY: Float64Array,
  out6: Float64Array,
): void {
  const cx0 = shX[0]!,
    cx1 = shX[1]!;
  const cy0 = shY[0]!,
    cy1 = shY[1]!;
  let n0 = 0,
    x0 = 0,
    y0 = 0,
    xx0 = 0,
    xy0 = 0,
    yy0 = 0;
  let n1 = 0,
    x1 = 0,
    y1 = 0,
    xx1 = 0,
    xy1 = 0,
    yy1 = 0;
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    const yi = y[i]!;
    const xi = X[i]!;
    let r = resp[o]!;
    let dx = xi - cx0,
      dy = yi - cy0,
      rx = r * dx;
    n0 += r;
    x0 += rx;
    y0 += r * dy;
    xx0 += rx * dx;
    xy0 += rx * dy;
    yy0 += r * dy * dy;
    r = resp[o + 1]!;
    dx = xi - cx1;
    dy = yi - cy1;
    rx = r * dx;
    n1 += r;
    x1 += rx;
    y1 += r * dy;
    xx1 += rx * dx;
    xy1 += rx * dy;
    yy1 += r * dy * dy;
  }
  out6[0] = n0;
  out6[1] = x0;
  out6[2] = y0;
  out6[3] = xx0;
  out6[4] = xy0;
  out6[5] = yy0;
  out6[6] = n1;
  out6[7] = x1;
  out6[8] = y1;
  out6[9] = xx1;
  out6[10] = xy1;
  out6[11] = yy1;
}

/**
 * Shifted one-pass moments for d = 1 and any k (out6 as momentsRows1k3, 6k sums): one pass over
 * the rows per expert, its six sums in registers. Summing expert by expert in row order gives the
 * same bits as one pass with the sums in arrays, which is 3× slower (each row's read-modify-writes
 * of 6k array entries).
 */
function momentsRows1(
  k: number,
  X: Float64Array,
  y: Float64Array,
  n: number,
  resp: Float64Array,
  shX: Float64Array,
  shY: Float64Array,
  out6: Float64Array,
): void {
  for (let j = 0; j < k; j++) {
    const cx = shX[j]!,
      cy = shY[j]!;
    let N = 0,
      sx = 0,
      sy = 0,
      sxx = 0,
      sxy = 0,
      syy = 0;
    for (let i = 0, o = j; i < n; i++, o += k) {
      const r = resp[o]!;
      const dx = X[i]! - cx,
        dy = y[i]! - cy,
        rx = r * dx;
      N += r;
      sx += rx;
      sy += r * dy;
      sxx += rx * dx;
      sxy += rx * dy;
      syy += r * dy * dy;
    }
    const t = 6 * j;
    out6[t] = N;
    out6[t + 1] = sx;
    out6[t + 2] = sy;
    out6[t + 3] = sxx;
    out6[t + 4] = sxy;
    out6[t + 5] = syy;
  }
}

/** The number of shifted sums per expert in d coordinates: N, Σr dx (d), Σr dy, Σr dx dxᵀ (upper, d(d+1)/2), Σr dx dy (d), Σr dy². */
export const momentSums = (d: number): number => 3 + 2 * d + (d * (d + 1)) / 2;

/**
 * Shifted one-pass moments for any d (out: per expert j at j·momentSums(d), the sums in that order,
 * Σr dx dxᵀ row by row over a ≤ c); rows with r = 0 skipped. The twin of the generic SIMD kernel
 * momentsg (whose rows with r = 0 add ±0: the same sums to the sign of a zero).
 */
function momentsRowsD(
  k: number,
  d: number,
  X: Float64Array,
  y: Float64Array,
  n: number,
  resp: Float64Array,
  shX: Float64Array,
  shY: Float64Array,
  out: Float64Array,
): void {
  const m = momentSums(d);
  out.fill(0, 0, k * m);
  for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
    const yi = y[i]!;
    for (let j = 0; j < k; j++) {
      const r = resp[o + j]!;
      if (r === 0) continue;
      const jo = j * d;
      const t = j * m;
      const dy = yi - shY[j]!;
      out[t] = out[t]! + r;
      out[t + d + 1] = out[t + d + 1]! + r * dy;
      out[t + m - 1] = out[t + m - 1]! + r * dy * dy;
      let u = t + d + 2;
      for (let a = 0; a < d; a++) {
        const rxa = r * (X[xo + a]! - shX[jo + a]!);
        out[t + 1 + a] = out[t + 1 + a]! + rxa;
        out[t + m - 1 - d + a] = out[t + m - 1 - d + a]! + rxa * dy;
        for (let c = a; c < d; c++, u++) out[u] = out[u]! + rxa * (X[xo + c]! - shX[jo + c]!);
      }
    }
  }
}

/** The moments' scratch (one per backend; grows with k·d). */
export interface MomentsScratch {
  shX: Float64Array;
  shY: Float64Array;
  syy: Float64Array;
  dx: Float64Array;
  /** the d = 1 kernels' 6k sums */
  sums: Float64Array;
  /** the odd last row's sums (SIMD path) */
  last: Float64Array;
}

export function momentsScratch(): MomentsScratch {
  return {
    shX: new Float64Array(8),
    shY: new Float64Array(8),
    syy: new Float64Array(8),
    dx: new Float64Array(8),
    sums: new Float64Array(18),
    last: new Float64Array(18),
  };
}

/** A call of the d = 1 moment kernels: out6 receives, per expert j at 6j, N, Σr dx, Σr dy, Σr dx², Σr dx dy, Σr dy². */
export interface MomentsCall {
  k: number;
  d: number;
  X: Float64Array;
  y: Float64Array;
  n: number;
  resp: Float64Array;
  shX: Float64Array;
  shY: Float64Array;
  out6: Float64Array;
  last: Float64Array;
}

type MomentsRows = typeof momentsRows1k3;

/** out[t] = acc[t] (+ last[t] when the odd last row ran in JS), t < m */
export function sumsFinish(acc: Float64Array, m: number, odd: boolean, last: Float64Array, out: Float64Array): void {
  if (odd) for (let t = 0; t < m; t++) out[t] = acc[t]! + last[t]!;
  else for (let t = 0; t < m; t++) out[t] = acc[t]!;
}

/**
 * A generic sum kernel's result: out[t] = lane 0 + lane 1 of sum t at gacc (+ the odd last row's
 * share in last), for t < m.
 */
export function gaccFinish(g: Float64Array, m: number, odd: boolean, last: Float64Array, out: Float64Array): void {
  if (odd) for (let t = 0; t < m; t++) out[t] = g[2 * t]! + g[2 * t + 1]! + last[t]!;
  else for (let t = 0; t < m; t++) out[t] = g[2 * t]! + g[2 * t + 1]!;
}

/** The SIMD binding of moments2 / moments3 (shifts in par); an odd last row goes to `rows`. */
export function momentsSimd(k: 2 | 3, rows: MomentsRows): SimdKernel<MomentsCall> {
  return {
    mode: 'sums',
    counter: 'sums',
    arrays: (c) => [c.X, c.y, c.resp],
    setup(A, c) {
      const par = A.par;
      for (let j = 0; j < k; j++) {
        par[j] = c.shX[j]!;
        par[k + j] = c.shY[j]!;
      }
      return {
        kernel: k === 3 ? A.kernels.moments3 : A.kernels.moments2,
        args: [c.X.byteOffset, c.y.byteOffset, c.resp.byteOffset],
      };
    },
    rows(c, i0, len) {
      rows(
        c.X.subarray(i0, i0 + len),
        c.y.subarray(i0, i0 + len),
        len,
        c.resp.subarray(i0 * k, (i0 + len) * k),
        c.shX,
        c.shY,
        c.last,
      );
      return 0;
    },
    finish(A, c) {
      sumsFinish(A.acc, 6 * k, (c.n & 1) === 1, c.last, c.out6);
      return 0;
    },
  };
}

register<MomentsCall>('moments', 'none', 3, 1, {
  js: (c) => {
    momentsRows1k3(c.X, c.y, c.n, c.resp, c.shX, c.shY, c.out6);
    return 0;
  },
  simd: momentsSimd(3, momentsRows1k3),
});
register<MomentsCall>('moments', 'none', 2, 1, {
  js: (c) => {
    momentsRows1k2(c.X, c.y, c.n, c.resp, c.shX, c.shY, c.out6);
    return 0;
  },
  simd: momentsSimd(2, momentsRows1k2),
});
/**
 * The SIMD binding of a generic moments kernel, momentsg or momentsg_d<d> (specialised to d): shifts in
 * gpar, per-lane sums in gacc; an odd last row goes to JS.
 */
const momentsSimdG = (name: 'momentsg' | `momentsg_d${1 | 2 | 3 | 4}`): SimdKernel<MomentsCall> => ({
  mode: 'sums',
  counter: 'sums',
  arrays: (c) => [c.X, c.y, c.resp],
  setup(A, c) {
    const { k, d } = c;
    const g = A.gpar;
    for (let t = 0; t < k * d; t++) g[t] = c.shX[t]!;
    for (let j = 0; j < k; j++) g[k * d + j] = c.shY[j]!;
    A.gacc.fill(0, 0, 2 * k * momentSums(d));
    return { kernel: A.kernels[name], args: [c.X.byteOffset, c.y.byteOffset, c.resp.byteOffset, k, d] };
  },
  rows(c, i0, len) {
    momentsGenericRows(c, i0, len, c.last);
    return 0;
  },
  finish(A, c) {
    const m = c.k * momentSums(c.d);
    gaccFinish(A.gacc, m, (c.n & 1) === 1, c.last, c.out6);
    return 0;
  },
});

/** The generic JS moments of rows [i0, i0 + len) into out: momentsRows1 (d = 1) or momentsRowsD. */
function momentsGenericRows(c: MomentsCall, i0: number, len: number, out: Float64Array): void {
  const { k, d } = c;
  const X = c.X.subarray(i0 * d, (i0 + len) * d),
    y = c.y.subarray(i0, i0 + len),
    r = c.resp.subarray(i0 * k, (i0 + len) * k);
  if (d === 1) momentsRows1(k, X, y, len, r, c.shX, c.shY, out);
  else momentsRowsD(k, d, X, y, len, r, c.shX, c.shY, out);
}

const momentsGenericJs = (c: MomentsCall): number => {
  momentsGenericRows(c, 0, c.n, c.out6);
  return 0;
};
for (const d of SPECIALISED_D)
  register<MomentsCall>('moments', 'none', '*', d, { js: momentsGenericJs, simd: momentsSimdG(`momentsg_d${d}`) });
register<MomentsCall>('moments', 'none', '*', '*', { js: momentsGenericJs, simd: momentsSimdG('momentsg') });

const call: MomentsCall = {
  k: 0,
  d: 1,
  X: new Float64Array(0),
  y: new Float64Array(0),
  n: 0,
  resp: new Float64Array(0),
  shX: new Float64Array(0),
  shY: new Float64Array(0),
  out6: new Float64Array(0),
  last: new Float64Array(0),
};

/** Zeroes the sums of `out` and loads the shifts (the caller's previous means, else 0). */
function momentsBegin(ms: MomentsScratch, d: number, k: number, out: ExpertMoments): boolean {
  const { N, xbar, ybar, Sxx, Sxy } = out;
  if (ms.shX.length < k * d) ms.shX = new Float64Array(k * d);
  if (ms.shY.length < k) {
    ms.shY = new Float64Array(k);
    ms.syy = new Float64Array(k);
  }
  let fresh = out.shifted !== true;
  // non-finite shifts would turn the d = 1 loops' zero terms (0 · NaN) into NaN: start afresh
  for (let t = 0; t < k * d && !fresh; t++) if (!Number.isFinite(xbar[t]!)) fresh = true;
  for (let j = 0; j < k && !fresh; j++) if (!Number.isFinite(ybar[j]!)) fresh = true;
  for (let t = 0; t < k * d; t++) ms.shX[t] = fresh ? 0 : xbar[t]!;
  for (let j = 0; j < k; j++) ms.shY[j] = fresh ? 0 : ybar[j]!;
  N.fill(0, 0, k);
  xbar.fill(0, 0, k * d);
  ybar.fill(0, 0, k);
  Sxx.fill(0, 0, k * d * d);
  Sxy.fill(0, 0, k * d);
  ms.syy.fill(0, 0, k);
  return fresh;
}

/** Backend.expertMoments of the CPU backend (simd: take the SIMD kernels where they apply). */
export function expertMomentsCpu(
  ms: MomentsScratch,
  simd: boolean,
  X: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  k: number,
  resp: Float64Array,
  out: ExpertMoments,
): void {
  const { N, xbar, ybar, Sxx, Sxy } = out;
  const fresh = momentsBegin(ms, d, k, out);
  const { shX, shY, syy } = ms;
  const m = momentSums(d);
  if (ms.sums.length < m * k) ms.sums = new Float64Array(m * k);
  if (ms.last.length < m * k) ms.last = new Float64Array(m * k);
  const sums = ms.sums;
  call.k = k;
  call.d = d;
  call.X = X;
  call.y = y;
  call.n = n;
  call.resp = resp;
  call.shX = shX;
  call.shY = shY;
  call.out6 = sums;
  call.last = ms.last;
  dispatch(lookup<MomentsCall>('moments', 'none', k, d)!, call, n, simd);
  // per expert: N, Σr dx (d), Σr dy, Σr dx dxᵀ (upper), Σr dx dy (d), Σr dy²
  for (let j = 0, t = 0; j < k; j++) {
    const jo = j * d,
      so = jo * d;
    N[j] = sums[t++]!;
    for (let a = 0; a < d; a++) xbar[jo + a] = sums[t++]!;
    ybar[j] = sums[t++]!;
    for (let a = 0; a < d; a++) for (let c = a; c < d; c++) Sxx[so + a * d + c] = sums[t++]!;
    for (let a = 0; a < d; a++) Sxy[jo + a] = sums[t++]!;
    syy[j] = sums[t++]!;
  }
  momentsFinish(ms, X, y, n, d, k, resp, out, fresh);
}

/** Turns the shifted sums into means and centred sums (with the second pass when needed). */
function momentsFinish(
  ms: MomentsScratch,
  X: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  k: number,
  resp: Float64Array,
  out: ExpertMoments,
  fresh: boolean,
): void {
  const { N, xbar, ybar, Sxx, Sxy } = out;
  let redo = fresh;
  if (ms.dx.length < d) ms.dx = new Float64Array(d);
  for (let j = 0; j < k; j++) {
    const Nj = N[j]!;
    const inv = Nj > 0 ? 1 / Nj : 0;
    const jo = j * d;
    const so = jo * d;
    const dY = ybar[j]! * inv; // ȳ − c_y
    for (let a = 0; a < d; a++) ms.dx[a] = xbar[jo + a]! * inv; // x̄ − c_x
    // the correction must not cancel more than half of the raw sum (≤ 1 bit lost)
    if (Nj * dY * dY > 0.5 * ms.syy[j]!) redo = true;
    ybar[j] = ms.shY[j]! + dY;
    ms.syy[j] = ms.syy[j]! - Nj * dY * dY;
    for (let a = 0; a < d; a++) {
      if (Nj * ms.dx[a]! * ms.dx[a]! > 0.5 * Sxx[so + a * d + a]!) redo = true;
      xbar[jo + a] = ms.shX[jo + a]! + ms.dx[a]!;
      Sxy[jo + a] = Sxy[jo + a]! - Nj * ms.dx[a]! * dY;
      for (let c = a; c < d; c++) Sxx[so + a * d + c] = Sxx[so + a * d + c]! - Nj * ms.dx[a]! * ms.dx[c]!;
    }
  }
  if (redo) {
    Sxx.fill(0, 0, k * d * d);
    Sxy.fill(0, 0, k * d);
    ms.syy.fill(0, 0, k);
    for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
      const yi = y[i]!;
      for (let j = 0; j < k; j++) {
        const r = resp[o + j]!;
        if (r === 0) continue;
        const jo = j * d;
        const so = jo * d;
        const ey = yi - ybar[j]!;
        const ry = r * ey;
        ms.syy[j] = ms.syy[j]! + ry * ey;
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
  out.Syy.set(ms.syy.subarray(0, k));
  out.shifted = true;
}

/** Backend.expertResiduals of the CPU backend: out_j = Σ_i r_ij (y_i − a_j·x_i − b_j)². */
export function expertResidualsCpu(
  m: Model,
  X: Float64Array,
  y: Float64Array,
  n: number,
  resp: Float64Array,
  out: Float64Array,
): void {
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
