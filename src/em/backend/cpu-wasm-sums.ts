/**
 * The CPU backend's calls into its WebAssembly SIMD sum kernels (src/em/backend/simd/gen/kernels-sums.ts):
 * the experts' shifted moments and the linear gate's gradient / curvature sums for d = 1,
 * k = 2 and 3, taken when every array of the call lies in one arena (see cpu-wasm.ts).
 * Per-row terms are the JS kernels' bits; each sum is added lane by lane (rows 0, 2, 4… and
 * 1, 3, 5…), then lane 0 + lane 1, then an odd last row through the JS kernel — another order than
 * the JS kernel's, so totals differ from it in the last bits, deterministically.
 */
import { wasmCalls } from './simd/calls.js';
import type { Arena } from './simd/arena.js';

/** The JS moments kernel of cpu.ts (momentsRows1k2 / momentsRows1k3), for an odd last row. */
export type MomentsRows = (X: Float64Array, y: Float64Array, n: number, resp: Float64Array, shX: Float64Array, shY: Float64Array, out6: Float64Array) => void;
/** The JS kernel gradCurvRows1k3 of cpu.ts, for an odd last row. */
export type GradCurvRows3 = (X: Float64Array, n: number, resp: Float64Array, pi: Float64Array, fa: number, fb: number, out13: Float64Array) => void;
/** The JS kernel gradCurvRows1k2 of cpu.ts, for an odd last row. */
export type GradCurvRows2 = (X: Float64Array, n: number, resp: Float64Array, pi: Float64Array, fa: number, out5: Float64Array) => void;

const last = new Float64Array(18);

/** out[t] = acc[t] (+ last[t] when n is odd), t < m */
function finish(A: Arena, m: number, odd: boolean, out: Float64Array): void {
  const acc = A.acc;
  if (odd) for (let t = 0; t < m; t++) out[t] = acc[t]! + last[t]!;
  else for (let t = 0; t < m; t++) out[t] = acc[t]!;
}

/**
 * Shifted one-pass moments for d = 1, k = 2 or 3 through the SIMD kernel (momentsRows1k3 in
 * cpu.ts): out6 receives, per expert j at 6j, N, Σr dx, Σr dy, Σr dx², Σr dx dy, Σr dy² with
 * dx = x − shX_j, dy = y − shY_j. X, y (n) and resp (n × k, row-major) must lie in the arena A.
 */
export function momentsWasm(A: Arena, k: 2 | 3, X: Float64Array, y: Float64Array, n: number, resp: Float64Array,
  shX: Float64Array, shY: Float64Array, out6: Float64Array, jsRows: MomentsRows): void {
  wasmCalls.sums++;
  const par = A.par;
  for (let j = 0; j < k; j++) { par[j] = shX[j]!; par[k + j] = shY[j]!; }
  (k === 3 ? A.kernels.moments3 : A.kernels.moments2)(X.byteOffset, y.byteOffset, resp.byteOffset, 0, n >> 1);
  const odd = (n & 1) === 1;
  if (odd) jsRows(X.subarray(n - 1, n), y.subarray(n - 1, n), 1, resp.subarray((n - 1) * k, n * k), shX, shY, last);
  finish(A, 6 * k, odd, out6);
}

/**
 * Gate gradient and curvature sums for d = 1, k = 3, free experts fa < fb, through the SIMD
 * kernel (gradCurvRows1k3 in cpu.ts; out13 as there). X (n), resp and pi (n × 3) must lie in the
 * arena A. Returns false, computing nothing, for a pair (fa, fb) with no kernel (fa ≥ fb).
 */
export function gradCurvWasm3(A: Arena, X: Float64Array, n: number, resp: Float64Array, pi: Float64Array,
  fa: number, fb: number, out13: Float64Array, jsRows: GradCurvRows3): boolean {
  const K = A.kernels;
  const run = fa === 0 ? (fb === 1 ? K.gradcurv3_01 : fb === 2 ? K.gradcurv3_02 : undefined)
    : fa === 1 && fb === 2 ? K.gradcurv3_12 : undefined;
  if (run === undefined) return false;
  wasmCalls.sums++;
  run(X.byteOffset, resp.byteOffset, pi.byteOffset, 0, n >> 1);
  const odd = (n & 1) === 1;
  if (odd) jsRows(X.subarray(n - 1, n), 1, resp.subarray((n - 1) * 3, n * 3), pi.subarray((n - 1) * 3, n * 3), fa, fb, last);
  finish(A, 13, odd, out13);
  return true;
}

/**
 * Gate gradient and curvature sums for d = 1, k = 2, free expert fa ∈ {0, 1}, through the SIMD
 * kernel (gradCurvRows1k2 in cpu.ts; out5: ga, ga·x, (a,a) × (1, x, x²)). X (n), resp and pi
 * (n × 2) must lie in the arena A. Returns false, computing nothing, for another fa.
 */
export function gradCurvWasm2(A: Arena, X: Float64Array, n: number, resp: Float64Array, pi: Float64Array,
  fa: number, out5: Float64Array, jsRows: GradCurvRows2): boolean {
  const run = fa === 0 ? A.kernels.gradcurv2_0 : fa === 1 ? A.kernels.gradcurv2_1 : undefined;
  if (run === undefined) return false;
  wasmCalls.sums++;
  run(X.byteOffset, resp.byteOffset, pi.byteOffset, 0, n >> 1);
  const odd = (n & 1) === 1;
  if (odd) jsRows(X.subarray(n - 1, n), 1, resp.subarray((n - 1) * 2, n * 2), pi.subarray((n - 1) * 2, n * 2), fa, last);
  finish(A, 5, odd, out5);
  return true;
}
