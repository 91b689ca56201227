/** The experts' weighted sums on the device (block partial sums, added on the host in Float64). */
import type { Model } from '../../../models/types.js';
import { mom1Source, mom2Pairs, mom2Source, mom2Stats, resSource } from '../gpu-kernels.js';
import type { ExpertMoments } from '../types.js';
import { centredX, centredY, chunkLength, kernel, run, type Centred, type GpuContext } from './context.js';
import { packExperts, uploadResp } from './pack.js';

export function gpuExpertMoments(
  g: GpuContext,
  X: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  k: number,
  resp: Float64Array,
  out: ExpertMoments,
): void {
  const xe = centredX(g, X, n, d);
  const ye = centredY(g, y, n);
  const R = xe.safe && ye.safe ? uploadResp(g, resp, n * k) : null;
  if (R === null) {
    g.stats.cpuDelegations++;
    g.cpu.expertMoments(X, y, n, d, k, resp, out);
    return;
  }
  const { N, xbar, ybar, Sxx, Sxy } = out;
  N.fill(0, 0, k);
  xbar.fill(0, 0, k * d);
  ybar.fill(0, 0, k);
  Sxx.fill(0, 0, k * d * d);
  Sxy.fill(0, 0, k * d);
  firstMoments(g, xe, ye, R, n, d, k, out);
  if (g.mn.length !== k * (d + 1)) g.mn = new Float32Array(k * (d + 1));
  const mn = g.mn;
  for (let j = 0; j < k; j++) {
    const inv = N[j]! > 0 ? 1 / N[j]! : 0;
    for (let a = 0; a < d; a++) {
      const m = xbar[j * d + a]! * inv;
      mn[j * (d + 1) + a] = m;
      xbar[j * d + a] = m;
    }
    const my = ybar[j]! * inv;
    mn[j * (d + 1) + d] = my;
    ybar[j] = my;
  }
  crossProducts(g, xe, ye, R, n, d, k, out);
  for (let j = 0; j < k; j++) {
    const so = j * d * d;
    for (let a = 0; a < d; a++) for (let c2 = a + 1; c2 < d; c2++) Sxx[so + c2 * d + a] = Sxx[so + a * d + c2]!;
    for (let a = 0; a < d; a++) xbar[j * d + a] = xbar[j * d + a]! + xe.mu[a]!;
    ybar[j] = ybar[j]! + ye.mu[0]!;
  }
}

/** Pass 1: Σ r, Σ r·(y − ȳ), Σ r·(x − x̄) per expert into N, ybar, xbar (centred sums for now). */
function firstMoments(
  g: GpuContext,
  xe: Centred,
  ye: Centred,
  R: Float32Array,
  n: number,
  d: number,
  k: number,
  out: ExpertMoments,
): void {
  const { N, xbar, ybar } = out;
  const B = g.B;
  const C = chunkLength(g, n, k, d);
  const S1 = d + 2;
  for (let s0 = 0; s0 < n; s0 += C) {
    const c = Math.min(C, n - s0);
    const nb = Math.ceil(c / B);
    const key = `mom1|c=${c}|k=${k}|d=${d}|B=${B}`;
    const e = kernel(g, key, nb * k * S1, ['X', 'Y', 'R'], () => mom1Source(c, k, d, B));
    const o = run(g, e, key, [
      xe.c.subarray(s0 * d, (s0 + c) * d),
      ye.c.subarray(s0, s0 + c),
      R.subarray(s0 * k, (s0 + c) * k),
    ]);
    for (let b = 0, p = 0; b < nb; b++) {
      for (let j = 0; j < k; j++, p += S1) {
        N[j] = N[j]! + o[p]!;
        ybar[j] = ybar[j]! + o[p + 1]!;
        for (let a = 0; a < d; a++) xbar[j * d + a] = xbar[j * d + a]! + o[p + 2 + a]!;
      }
    }
  }
}

/**
 * Pass 2: centred cross-products around the (float32-rounded) expert means g.mn into the upper
 * triangles of Sxx and Sxy; rounding the centre changes them only at second order, N·δ² with δ ≤ u·|mean|.
 */
function crossProducts(
  g: GpuContext,
  xe: Centred,
  ye: Centred,
  R: Float32Array,
  n: number,
  d: number,
  k: number,
  out: ExpertMoments,
): void {
  const { Sxx, Sxy } = out;
  const B = g.B;
  const C = chunkLength(g, n, k, d);
  let PI = g.pairs.get(d);
  if (!PI) {
    PI = mom2Pairs(d);
    g.pairs.set(d, PI);
  }
  const S2 = mom2Stats(d);
  for (let s0 = 0; s0 < n; s0 += C) {
    const c = Math.min(C, n - s0);
    const nb = Math.ceil(c / B);
    const key = `mom2|c=${c}|k=${k}|d=${d}|B=${B}`;
    const e = kernel(g, key, nb * k * S2, ['X', 'Y', 'R', 'MN', 'PI'], () => mom2Source(c, k, d, B));
    const o = run(g, e, key, [
      xe.c.subarray(s0 * d, (s0 + c) * d),
      ye.c.subarray(s0, s0 + c),
      R.subarray(s0 * k, (s0 + c) * k),
      g.mn,
      PI,
    ]);
    for (let b = 0, p = 0; b < nb; b++) {
      for (let j = 0; j < k; j++, p += S2) {
        let s = 0;
        const so = j * d * d;
        for (let a = 0; a < d; a++)
          for (let c2 = a; c2 < d; c2++, s++) Sxx[so + a * d + c2] = Sxx[so + a * d + c2]! + o[p + s]!;
        for (let a = 0; a < d; a++, s++) Sxy[j * d + a] = Sxy[j * d + a]! + o[p + s]!;
      }
    }
  }
}

/** Σ_i r_ij (y_i − b_j − a_j·x_i)² per expert into out. */
export function gpuExpertResiduals(
  g: GpuContext,
  m: Model,
  X: Float64Array,
  y: Float64Array,
  n: number,
  resp: Float64Array,
  out: Float64Array,
): void {
  const { k, d } = m;
  const B = g.B;
  const xe = centredX(g, X, n, d);
  const ye = centredY(g, y, n);
  const R = xe.safe && ye.safe && packExperts(g, m, xe.mu, ye.mu[0]!) ? uploadResp(g, resp, n * k) : null;
  if (R === null) {
    g.stats.cpuDelegations++;
    g.cpu.expertResiduals(m, X, y, n, resp, out);
    return;
  }
  out.fill(0, 0, k);
  const C = chunkLength(g, n, k, d);
  for (let s0 = 0; s0 < n; s0 += C) {
    const c = Math.min(C, n - s0);
    const nb = Math.ceil(c / B);
    const key = `res|c=${c}|k=${k}|d=${d}|B=${B}`;
    const e = kernel(g, key, nb * k, ['X', 'Y', 'R', 'E'], () => resSource(c, k, d, B));
    const o = run(g, e, key, [
      xe.c.subarray(s0 * d, (s0 + c) * d),
      ye.c.subarray(s0, s0 + c),
      R.subarray(s0 * k, (s0 + c) * k),
      g.eP,
    ]);
    for (let b = 0, p = 0; b < nb; b++) for (let j = 0; j < k; j++, p++) out[j] = out[j]! + o[p]!;
  }
}
