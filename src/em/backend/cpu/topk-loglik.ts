/**
 * The observed log-likelihood of a top-K model (d = 1, k = 3, K = 1 or 2, the active set recomputed)
 * in one pass (operation 'topkLogLik'): the value gateProbs (topk3) followed by logLik (loglik3)
 * gives, bit for bit. Why: the top-K M-step's trial gates and the hybrid's trust-region trials are
 * checked on the observed log-likelihood, and those two passes were ~40 % of a topk-over fit (topk3
 * 29 %, loglik3 14 % of a profile). With one or two active experts per row the one pass takes 2
 * exponentials per row where the two take 6 (simd/gen/kernels-topk.ts topkll3 says why that is
 * exact). With `write` it also writes log π, π and the mask exactly as topk3 (the M-step's trials:
 * an accepted trial's buffers become the current ones); without, the buffers are scratch (only the
 * rows handed to JS are written there).
 *
 * Bit for bit, also on the rows the kernels hand to JS: topkll3 adds into loglik3's accumulators in
 * the same pair order; a pair topk3 would refuse gets its gate rows in JS and then goes through
 * loglik3 itself (whose refusal is then this kernel's); a pair loglik3 refuses goes, with runPairs'
 * chunks, to the JS rows of both passes: the chunks and the JS sum are those of the two-pass call.
 */
import { register } from '../registry.js';
import type { Arena } from '../simd/arena.js';
import type { SimdKernel } from '../simd/driver.js';
import { TOPK_REFUSED } from '../simd/layout.js';
import { expertPar, logProduct } from './estep.js';
import { logLikRows1k3 } from './loglik.js';
import { EMPTY } from './rows.js';
import { topkGateRows1k3 } from './topk-gate.js';

/** A call: the gate and the experts (cst_j = −½ log(2πν_j), hlf_j = −1/(2ν_j)), the data and the gate buffers. */
export interface TopkLogLikCall {
  beta0: Float64Array;
  beta1: Float64Array;
  a: Float64Array;
  b: Float64Array;
  cst: Float64Array;
  hlf: Float64Array;
  X: Float64Array;
  y: Float64Array;
  n: number;
  /** n × 3 each: written as topk3 writes them when `write`, else scratch */
  logPi: Float64Array;
  pi: Float64Array;
  mask: Uint8Array;
  K: number;
  /** rank on the slopes β1 (else on the logits) */
  slope: boolean;
  write: boolean;
}

/** The gate rows [i0, i0 + len) in JS (topkGateRows1k3, the active set computed) into the call's buffers. */
function gateRows(c: TopkLogLikCall, i0: number, len: number): void {
  const s = 3 * i0,
    t = 3 * (i0 + len);
  topkGateRows1k3(
    c.beta0,
    c.beta1,
    c.X.subarray(i0, i0 + len),
    len,
    c.logPi.subarray(s, t),
    c.pi.subarray(s, t),
    c.mask.subarray(s, t),
    true,
    c.K,
    c.slope,
    EMPTY,
    false,
  );
}

/** Rows [i0, i0 + len) in JS: their gate, then their share of the log-likelihood as loglik3's binding runs it. */
function rows(c: TopkLogLikCall, i0: number, len: number): number {
  gateRows(c, i0, len);
  return logLikRows1k3(
    c.a,
    c.b,
    c.cst,
    c.hlf,
    c.X.subarray(i0, i0 + len),
    c.y.subarray(i0, i0 + len),
    len,
    c.logPi.subarray(3 * i0, 3 * (i0 + len)),
  );
}

/**
 * The SIMD binding of topkll3. Callers check that the two-pass call would run both SIMD kernels
 * (every array in one arena, β finite: else topk3 takes the JS kernel) and that K is 1 or 2 — this
 * binding assumes it.
 */
export const topkLogLikSimd: SimdKernel<TopkLogLikCall> = {
  mode: 'rows',
  counter: 'logLik',
  arrays: (c) => [c.X, c.y, c.logPi, c.pi, c.mask],
  setup(A, c) {
    expertPar(A, 3, c.a, c.b, c.cst, c.hlf);
    const par = A.par;
    for (let j = 0; j < 3; j++) {
      par[12 + j] = c.beta0[j]!;
      par[15 + j] = c.beta1[j]!;
    }
    return {
      kernel: A.kernels.topkll3,
      args: [
        c.X.byteOffset,
        c.y.byteOffset,
        c.logPi.byteOffset,
        c.pi.byteOffset,
        c.mask.byteOffset,
        c.K,
        c.slope ? 1 : 0,
        c.write ? 1 : 0,
      ],
    };
  },
  resume: (A, c, run, p, pairs) => {
    for (;;) {
      const r = run(p, pairs);
      if (r < TOPK_REFUSED) return r;
      // a pair topk3 hands to JS: its gate rows in JS, then the pair through loglik3 as in the second pass
      const q = r - TOPK_REFUSED;
      gateRows(c, 2 * q, 2);
      const next = A.kernels.loglik3(c.X.byteOffset, c.y.byteOffset, c.logPi.byteOffset, q, q + 1);
      if (next === q) return q;
      p = q + 1;
    }
  },
  rows,
  finish: (A: Arena, _c: TopkLogLikCall, llJs: number): number => A.acc[2]! + A.acc[3]! + logProduct(A) + llJs,
};

register<TopkLogLikCall>('topkLogLik', 'masked', 3, 1, { js: (c) => rows(c, 0, c.n), simd: topkLogLikSimd });
