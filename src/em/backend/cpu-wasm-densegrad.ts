/**
 * The CPU backend's call into its WebAssembly SIMD kernels of the dense-to-sparse gates' gradient /
 * curvature / exact-Hessian sums (src/em/backend/simd/gen/kernels-densegrad.ts): d = 1, k = 3, the layout of
 * cpu-dense.ts denseSums1k3, taken when X, resp and pi lie in one arena (see cpu-wasm.ts).
 * The kernel computes each row's J1, Jt, H1 in registers (no n × k scratch) with the JS
 * coefficient loops' operations, so per-row terms are the JS kernels' bits; each sum is added lane
 * by lane (rows 0, 2, 4… and 1, 3, 5…), then lane 0 + lane 1, then an odd last row through the JS
 * kernels — another order than the JS kernel's, so totals differ from it in the last bits,
 * deterministically.
 */
import { wasmCalls } from './simd/calls.js';
import type { Arena } from './simd/arena.js';

/**
 * The JS path of cpu-dense.ts for k = 3 (coefficient pass, then denseSums1k3): the 30 sums of rows
 * [0, n) into out30, for an odd last row.
 */
export type DenseRows3 = (code: number, beta1: Float64Array, it: number, X: Float64Array, n: number, resp: Float64Array,
  pi: Float64Array, out30: Float64Array) => void;

const last = new Float64Array(30);

/**
 * The 30 sums of cpu-dense.ts denseSums1k3 (6 gradient entries in the order [β0_0, β1_0, β0_1,
 * β1_1, β1_2, log τ], the 21 upper-triangle Fisher curvature entries row by row, A_0..A_2) for the
 * activation `code` (DENSE_IDENTITY 0, DENSE_TANH 1, DENSE_SIGMOID 2) at β1 (3) and it = 1/τ,
 * through the SIMD kernel, into out30. X (n), resp and pi (n × 3, row-major) must lie in the arena A.
 */
export function denseGradWasm3(A: Arena, code: number, beta1: Float64Array, it: number, X: Float64Array, n: number,
  resp: Float64Array, pi: Float64Array, out30: Float64Array, jsRows: DenseRows3): void {
  wasmCalls.sums++;
  const par = A.par;
  par[0] = beta1[0]!; par[1] = beta1[1]!; par[2] = beta1[2]!; par[3] = it;
  const K = A.kernels;
  const run = code === 1 ? K.densegrad3_tanh : code === 2 ? K.densegrad3_sig : K.densegrad3_id;
  run(X.byteOffset, resp.byteOffset, pi.byteOffset, 0, n >> 1);
  const acc = A.acc;
  if (n & 1) {
    jsRows(code, beta1, it, X.subarray(n - 1, n), 1, resp.subarray((n - 1) * 3, n * 3), pi.subarray((n - 1) * 3, n * 3), last);
    for (let t = 0; t < 30; t++) out30[t] = acc[t]! + last[t]!;
  } else {
    for (let t = 0; t < 30; t++) out30[t] = acc[t]!;
  }
}
