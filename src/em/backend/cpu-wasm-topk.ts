/**
 * The top-K gate's probabilities for d = 1, k = 3 through the WebAssembly SIMD kernel topk3
 * (src/em/backend/simd/gen/kernels-topk.ts), taken by cpu.ts gateProbs when X, logPi, pi, the mask and (with
 * Q) resp lie in one arena. Rows whose active logits are finite run two at a time in the kernel; a
 * pair with another row (a NaN or infinite active logit, or no active expert in a fixed mask) runs
 * through the JS kernel (cpu-topk.ts topkGateRows1k3), and the kernel resumes after it. The mask
 * bytes, π and log π are the JS kernel's on every row; Q is added lane by lane (rows 0, 2, 4… and
 * 1, 3, 5…), then the lanes, then the JS rows, so it differs from the JS kernel's Q in the last
 * bits, deterministically (and is −∞ exactly when the JS kernel's is).
 */
import type { Arena } from './simd/arena.js';
import { arenaOf } from './simd/arena.js';
import { wasmCalls } from './simd/calls.js';
import { runPairs } from './simd/pairs.js';

/** The JS top-K gate kernel (cpu-topk.ts topkGateRows1k3), for the rows the SIMD kernel leaves. */
export type TopkRows = (beta0: Float64Array, beta1: Float64Array, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, mask: Uint8Array, compute: boolean, K: number, slope: boolean,
  resp: Float64Array, withQ: boolean) => number;

/**
 * The arena that holds X, logPi, pi, mask and (when withQ) resp, if one holds them all.
 */
export function topkArena(X: Float64Array, logPi: Float64Array, pi: Float64Array, mask: Uint8Array,
  resp: Float64Array, withQ: boolean): Arena | undefined {
  const A = arenaOf(X);
  if (A === undefined) return undefined;
  const buf = A.memory.buffer;
  if (logPi.buffer !== buf || pi.buffer !== buf || mask.buffer !== buf || (withQ && resp.buffer !== buf)) return undefined;
  return A;
}

/**
 * Top-K gate probabilities for d = 1, k = 3 through the SIMD kernel (see topkGateRows1k3 in
 * cpu-topk.ts for the method). X (n), logPi, pi (n × 3, row-major), mask (n × 3 bytes) and, when
 * withQ, resp (n × 3) must lie in arena A; resp is not read when withQ is false. The mask is
 * written when `compute`, else read (a non-zero byte marks an active expert).
 * @param K experts kept per row (1..3)
 * @returns Q = Σ r log π over resp when withQ (−Infinity when some r > 0 sits on an inactive
 *   expert), else NaN (as the JS kernel)
 */
export function topkWasm(A: Arena, beta0: Float64Array, beta1: Float64Array, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, mask: Uint8Array, compute: boolean, K: number, slope: boolean,
  resp: Float64Array, withQ: boolean, jsRows: TopkRows): number {
  // a non-finite coefficient makes the logits of most rows non-finite: the JS kernel takes them all
  for (let j = 0; j < 3; j++) {
    if (!Number.isFinite(beta0[j]!) || !Number.isFinite(beta1[j]!)) return jsRows(beta0, beta1, X, n, logPi, pi, mask, compute, K, slope, resp, withQ);
  }
  wasmCalls.gate++;
  const par = A.par;
  for (let j = 0; j < 3; j++) { par[j] = beta0[j]!; par[3 + j] = beta1[j]!; }
  const acc = A.acc;
  acc[0] = 0; acc[1] = 0;
  const run = A.kernels.topk3;
  const xo = X.byteOffset, lo = logPi.byteOffset, po = pi.byteOffset, mo = mask.byteOffset, ro = withQ ? resp.byteOffset : 0;
  const cm = compute ? 1 : 0, sl = slope ? 1 : 0, wq = withQ ? 1 : 0;
  const qJs = runPairs(n, (p, pairs) => run(xo, lo, po, mo, ro, cm, K, sl, wq, p, pairs),
    (i0, len) => jsRange(jsRows, i0, len, beta0, beta1, X, logPi, pi, mask, compute, K, slope, resp, withQ));
  return withQ ? (acc[0]! + acc[1]!) + qJs : NaN;
}

function jsRange(jsRows: TopkRows, i0: number, len: number, beta0: Float64Array, beta1: Float64Array, X: Float64Array,
  logPi: Float64Array, pi: Float64Array, mask: Uint8Array, compute: boolean, K: number, slope: boolean,
  resp: Float64Array, withQ: boolean): number {
  const a = 3 * i0, b = 3 * (i0 + len);
  return jsRows(beta0, beta1, X.subarray(i0, i0 + len), len, logPi.subarray(a, b), pi.subarray(a, b),
    mask.subarray(a, b), compute, K, slope, withQ ? resp.subarray(a, b) : resp, withQ);
}
