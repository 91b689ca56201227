/**
 * The softmax gate's probabilities for d = 1, k = 2 and 3 through the WebAssembly SIMD kernels
 * gate2 / gate3 (src/em/backend/simd/gen/kernels-gate.ts), taken by cpu.ts gateProbs when every array of the
 * call lies in one arena. Rows run two at a time in the kernel (those with a logit beyond ±350
 * shifted by their maximum, as in JS); a pair with a row whose maximum is ±∞ or NaN runs through
 * the JS kernel (denseGateRows1k2 / k3), and the kernel resumes after it. π and log π are the JS kernel's bits on every row; Q is added lane by
 * lane (rows 0, 2, 4… and 1, 3, 5…), then the lanes, then the JS rows, so it differs from the JS
 * kernel's Q in the last bits, deterministically.
 */
import type { Arena } from './simd/arena.js';
import { wasmCalls } from './simd/calls.js';
import { runPairs } from './simd/pairs.js';

/** The JS gate kernel of cpu.ts (denseGateRows1k2 / denseGateRows1k3), for the rows the SIMD kernel leaves. */
export type GateRows = (beta0: Float64Array, beta1: Float64Array, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean) => number;

/**
 * Softmax gate probabilities for d = 1, k = 2 or 3 through the SIMD kernel (see denseGateRows1k3
 * in cpu.ts for the method). X (n), logPi, pi and, when withQ, resp (each n × k, row-major) must
 * lie in arena A; resp is not read when withQ is false.
 * @returns Q = Σ r log π over resp when withQ, else NaN (as the JS kernel)
 */
export function gateWasm(A: Arena, k: 2 | 3, beta0: Float64Array, beta1: Float64Array, X: Float64Array, n: number,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean, jsRows: GateRows): number {
  // a non-finite coefficient makes every row a refused one: the JS kernel takes them all at once
  for (let j = 0; j < k; j++) if (!Number.isFinite(beta0[j]!) || !Number.isFinite(beta1[j]!)) return jsRows(beta0, beta1, X, n, logPi, pi, resp, withQ);
  wasmCalls.gate++;
  const par = A.par;
  for (let j = 0; j < k; j++) { par[j] = beta0[j]!; par[k + j] = beta1[j]!; }
  const acc = A.acc;
  acc[0] = 0; acc[1] = 0;
  const run = k === 3 ? A.kernels.gate3 : A.kernels.gate2;
  const xo = X.byteOffset, lo = logPi.byteOffset, po = pi.byteOffset, ro = withQ ? resp.byteOffset : 0;
  const wq = withQ ? 1 : 0;
  // refused pairs: a row with a non-finite logit maximum
  const qJs = runPairs(n, (p, pairs) => run(xo, lo, po, ro, wq, p, pairs),
    (i0, len) => jsRange(jsRows, i0, len, beta0, beta1, X, logPi, pi, resp, withQ, k));
  return withQ ? (acc[0]! + acc[1]!) + qJs : NaN;
}

function jsRange(jsRows: GateRows, i0: number, len: number, beta0: Float64Array, beta1: Float64Array, X: Float64Array,
  logPi: Float64Array, pi: Float64Array, resp: Float64Array, withQ: boolean, k: number): number {
  const r = withQ ? resp.subarray(i0 * k, (i0 + len) * k) : resp;
  return jsRows(beta0, beta1, X.subarray(i0, i0 + len), len, logPi.subarray(i0 * k, (i0 + len) * k),
    pi.subarray(i0 * k, (i0 + len) * k), r, withQ);
}
