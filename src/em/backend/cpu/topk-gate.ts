/**
 * The top-K gate's probabilities on the CPU for d = 1, k = 3 (the over-specified top-K fits), with
 * the active set computed or held fixed, and the SIMD binding of its kernel topk3.
 * The generic loops (cpu/softmax-gate.ts gateRowsGeneric, cpu/loglik.ts) call Math.exp / Math.log per term and read the active set back
 * from a mask written by a separate ranking pass; here one pass ranks the row in registers,
 * writes the same mask bytes as topKMask (same comparisons: first maximum wins, NaN never
 * displaces a chosen expert) and normalises over the active experts with src/math's expCore /
 * logCore (≤ 0.51 / 0.96 ulp), so results differ from the generic path in the last bits only.
 * Module-level functions with every array a parameter (see softmax-gate.ts on closures and deopts).
 */
import { expCore } from '../../../math/exp.js';
import { logCore } from '../../../math/log.js';
import { register } from '../registry.js';
import type { SimdKernel } from '../simd/driver.js';
import { EXP_CUTOFF as CUTOFF } from '../constants.js';

/**
 * Top-K gate rows, d = 1, k = 3: logits v_j = β0_j + β1_j x_i; the active set is ranked on the
 * logits (or on β1_j x_i when `slope`) into `mask` when `compute`, else read from it; log π and
 * π over the active experts by log-sum-exp (inactive: −Infinity and 0).
 * @param K experts kept per row (1..3)
 * @returns Q = Σ r log π over `resp` when withQ (−Infinity when some r > 0 sits on an inactive
 *   expert), else NaN
 */
export function topkGateRows1k3(
  beta0: Float64Array,
  beta1: Float64Array,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  mask: Uint8Array,
  compute: boolean,
  K: number,
  slope: boolean,
  resp: Float64Array,
  withQ: boolean,
): number {
  const c0 = beta0[0]!,
    c1 = beta0[1]!,
    c2 = beta0[2]!;
  const s0 = beta1[0]!,
    s1 = beta1[1]!,
    s2 = beta1[2]!;
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const xi = X[i]!;
    const u0 = s0 * xi,
      u1 = s1 * xi,
      u2 = s2 * xi;
    const v0 = c0 + u0,
      v1 = c1 + u1,
      v2 = c2 + u2;
    let a0: boolean, a1: boolean, a2: boolean;
    if (compute) {
      const r0 = slope ? u0 : v0,
        r1 = slope ? u1 : v1,
        r2 = slope ? u2 : v2;
      // topKMask for k = 3: the first pick is the first maximum, the second the first maximum of the rest
      let first = 0;
      let fv = r0;
      if (r1 > fv) {
        first = 1;
        fv = r1;
      }
      if (r2 > fv) first = 2;
      if (K >= 3) {
        a0 = true;
        a1 = true;
        a2 = true;
      } else if (K === 1) {
        a0 = first === 0;
        a1 = first === 1;
        a2 = first === 2;
      } else {
        // second pick among the two others, in index order
        const lo = first === 0 ? 1 : 0;
        const hi = first === 2 ? 1 : 2;
        const second = (hi === 2 ? r2 : r1) > (lo === 0 ? r0 : r1) ? hi : lo;
        a0 = first === 0 || second === 0;
        a1 = first === 1 || second === 1;
        a2 = first === 2 || second === 2;
      }
      mask[o] = a0 ? 1 : 0;
      mask[o + 1] = a1 ? 1 : 0;
      mask[o + 2] = a2 ? 1 : 0;
    } else {
      a0 = mask[o] !== 0;
      a1 = mask[o + 1] !== 0;
      a2 = mask[o + 2] !== 0;
    }
    // row maximum over the active experts (NaN wins, as in the generic loop); its term is exactly 1
    let mx = -Infinity;
    let jm = -1;
    if (a0 && (v0 > mx || v0 !== v0)) {
      mx = v0;
      jm = 0;
    }
    if (a1 && (v1 > mx || v1 !== v1)) {
      mx = v1;
      jm = 1;
    }
    if (a2 && (v2 > mx || v2 !== v2)) {
      mx = v2;
      jm = 2;
    }
    const d0 = v0 - mx,
      d1 = v1 - mx,
      d2 = v2 - mx;
    const e0 = !a0 ? 0 : jm === 0 ? 1 : d0 < -CUTOFF ? 0 : expCore(d0);
    const e1 = !a1 ? 0 : jm === 1 ? 1 : d1 < -CUTOFF ? 0 : expCore(d1);
    const e2 = !a2 ? 0 : jm === 2 ? 1 : d2 < -CUTOFF ? 0 : expCore(d2);
    const s = e0 + e1 + e2;
    // s ∈ [1, 3] unless a logit is not finite (then Math.log keeps the generic loop's NaN / ±Infinity)
    const lse = mx + (s >= 1 && s <= 3 ? logCore(s) : Math.log(s));
    const inv = 1 / s;
    const l0 = a0 ? v0 - lse : -Infinity;
    const l1 = a1 ? v1 - lse : -Infinity;
    const l2 = a2 ? v2 - lse : -Infinity;
    logPi[o] = l0;
    logPi[o + 1] = l1;
    logPi[o + 2] = l2;
    pi[o] = e0 * inv;
    pi[o + 1] = e1 * inv;
    pi[o + 2] = e2 * inv;
    if (withQ) {
      const r0 = resp[o]!,
        r1 = resp[o + 1]!,
        r2 = resp[o + 2]!;
      if (r0 !== 0) q += r0 * l0;
      if (r1 !== 0) q += r1 * l1;
      if (r2 !== 0) q += r2 * l2;
    }
  }
  return withQ ? q : NaN;
}

/** A call of the top-K gate, d = 1, k = 3 (one per backend, reused). */
export interface TopkCall {
  beta0: Float64Array;
  beta1: Float64Array;
  X: Float64Array;
  n: number;
  logPi: Float64Array;
  pi: Float64Array;
  mask: Uint8Array;
  /** write the mask (else read it) */
  compute: boolean;
  K: number;
  /** rank on the slopes β1 (else on the logits) */
  slope: boolean;
  /** read only when withQ */
  resp: Float64Array;
  withQ: boolean;
}

/**
 * The SIMD binding of topk3: rows whose active logits are finite run two at a time; a pair with
 * another row (a NaN or infinite active logit, or no active expert in a fixed mask) goes to `rows`.
 * Q is −∞ exactly when the JS kernel's is.
 */
export function topkSimd(rows: typeof topkGateRows1k3): SimdKernel<TopkCall> {
  return {
    mode: 'rows',
    counter: 'gate',
    arrays: (c) => (c.withQ ? [c.X, c.logPi, c.pi, c.mask, c.resp] : [c.X, c.logPi, c.pi, c.mask]),
    setup(A, c) {
      // a non-finite coefficient makes the logits of most rows non-finite: the JS kernel takes them all
      for (let j = 0; j < 3; j++) if (!Number.isFinite(c.beta0[j]!) || !Number.isFinite(c.beta1[j]!)) return null;
      const par = A.par;
      for (let j = 0; j < 3; j++) {
        par[j] = c.beta0[j]!;
        par[3 + j] = c.beta1[j]!;
      }
      A.acc[0] = 0;
      A.acc[1] = 0;
      return {
        kernel: A.kernels.topk3,
        args: [
          c.X.byteOffset,
          c.logPi.byteOffset,
          c.pi.byteOffset,
          c.mask.byteOffset,
          c.withQ ? c.resp.byteOffset : 0,
          c.compute ? 1 : 0,
          c.K,
          c.slope ? 1 : 0,
          c.withQ ? 1 : 0,
        ],
      };
    },
    rows(c, i0, len) {
      const a = 3 * i0,
        b = 3 * (i0 + len);
      return rows(
        c.beta0,
        c.beta1,
        c.X.subarray(i0, i0 + len),
        len,
        c.logPi.subarray(a, b),
        c.pi.subarray(a, b),
        c.mask.subarray(a, b),
        c.compute,
        c.K,
        c.slope,
        c.withQ ? c.resp.subarray(a, b) : c.resp,
        c.withQ,
      );
    },
    finish: (A, c, qJs) => (c.withQ ? A.acc[0]! + A.acc[1]! + qJs : NaN),
  };
}

register<TopkCall>('gateProbs', 'masked', 3, 1, {
  js: (c) =>
    topkGateRows1k3(c.beta0, c.beta1, c.X, c.n, c.logPi, c.pi, c.mask, c.compute, c.K, c.slope, c.resp, c.withQ),
  simd: topkSimd(topkGateRows1k3),
});
