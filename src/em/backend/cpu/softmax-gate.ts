/**
 * The softmax (linear) gate's probabilities on the CPU, d = 1: logits β0_j + β1_j x_i, log π and π
 * by log-sum-exp per row, with Q = Σ r log π in the same pass; k = 3 and k = 2 unrolled, and their
 * WebAssembly SIMD bindings (kernels gate3 / gate2). The generic loop (any d, masks, logits from the
 * gate) is gateRowsGeneric.
 *
 * The hot loops live at module level, with every array a parameter: V8 optimises such functions
 * whole, while the backend's closures (their scratch in mutable captured variables) kept re-entering
 * their loops through on-stack replacement and deoptimising at the end of every call (measured: 2–3×
 * slower).
 */
import { SPECIALISED_D } from '../simd/layout.js';
import type { Model } from '../../../models/types.js';
import { expCore } from '../../../math/exp.js';
import { logCore } from '../../../math/log.js';
import { EXP_CUTOFF, GATE_DIRECT } from '../constants.js';
import { register } from '../registry.js';
import type { SimdKernel } from '../simd/driver.js';
import { expRel } from './rows.js';

/**
 * Dense linear gate, d = 1: logits β0_j + β1_j x_i, log π (n × k) and π by log-sum-exp per row.
 * @returns Q = Σ r log π over `resp` when withQ, else NaN
 */
function softmaxRows1(
  k: number,
  beta0: Float64Array,
  beta1: Float64Array,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  resp: Float64Array,
  withQ: boolean,
): number {
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += k) {
    const xi = X[i]!;
    let direct = true;
    for (let j = 0; j < k; j++) {
      const v = beta0[j]! + beta1[j]! * xi;
      logPi[o + j] = v;
      direct = direct && v >= -GATE_DIRECT && v <= GATE_DIRECT;
    }
    let s = 0;
    let mx = 0;
    if (direct) {
      // see softmaxRows1k3: no maximum (and no data-dependent branch) for moderate logits
      for (let j = 0; j < k; j++) {
        const e = expCore(logPi[o + j]!);
        pi[o + j] = e;
        s += e;
      }
    } else {
      mx = -Infinity;
      let jm = -1;
      for (let j = 0; j < k; j++) {
        const v = logPi[o + j]!;
        if (v > mx || v !== v) {
          mx = v;
          jm = j;
        }
      }
      for (let j = 0; j < k; j++) {
        // exp(0) = 1 exactly: the row maximum costs no exponential
        const e = j === jm ? 1 : expRel(logPi[o + j]! - mx);
        pi[o + j] = e;
        s += e;
      }
    }
    const lse = mx + (s === s ? logCore(s) : s);
    const inv = 1 / s;
    for (let j = 0; j < k; j++) {
      const lp = logPi[o + j]! - lse;
      logPi[o + j] = lp;
      pi[o + j] = pi[o + j]! * inv;
      if (withQ) {
        const r = resp[o + j]!;
        if (r !== 0) q += r * lp;
      }
    }
  }
  return withQ ? q : NaN;
}

/**
 * softmaxRows1 for k = 3, every value in a register. Rows whose logits all lie in
 * [−GATE_DIRECT, GATE_DIRECT] (every row of a sane fit) take e^v directly, with no maximum: V8's
 * Math.max and a running maximum both branch on the data, and mispredicted branches cost more than
 * the rest of the row (measured ~20% of the pass). Within that range no e^v over- or underflows and
 * no probability is below e^-700, so these rows give what the shifted form gives (to rounding),
 * including which probabilities are exactly 0 (none); other rows take the shifted form.
 */
function softmaxRows1k3(
  beta0: Float64Array,
  beta1: Float64Array,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
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
    const v0 = c0 + s0 * xi;
    const v1 = c1 + s1 * xi;
    const v2 = c2 + s2 * xi;
    let e0, e1, e2, mx;
    const direct =
      v0 >= -GATE_DIRECT &&
      v0 <= GATE_DIRECT &&
      v1 >= -GATE_DIRECT &&
      v1 <= GATE_DIRECT &&
      v2 >= -GATE_DIRECT &&
      v2 <= GATE_DIRECT;
    if (direct) {
      e0 = expCore(v0);
      e1 = expCore(v1);
      e2 = expCore(v2);
      mx = 0;
    } else {
      // exp(0) = 1 exactly at the maximum; NaN propagates through Math.max and expRel
      mx = Math.max(v0, v1, v2);
      e0 = expRel(v0 - mx);
      e1 = expRel(v1 - mx);
      e2 = expRel(v2 - mx);
    }
    const s = e0 + e1 + e2;
    // s ∈ [e^-350, 3e^350] or [1, 3]: logCore's domain (NaN stays NaN)
    const lse = mx + (s === s ? logCore(s) : s);
    const inv = 1 / s;
    const l0 = v0 - lse;
    const l1 = v1 - lse;
    const l2 = v2 - lse;
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
      if (direct) {
        // finite log π: a zero r adds ±0, the same sum as skipping it, without a branch on the data
        q += r0 * l0;
        q += r1 * l1;
        q += r2 * l2;
      } else {
        if (r0 !== 0) q += r0 * l0;
        if (r1 !== 0) q += r1 * l1;
        if (r2 !== 0) q += r2 * l2;
      }
    }
  }
  return withQ ? q : NaN;
}

/** softmaxRows1k3 for k = 2 (the exact-specified fits of the papers). */
function softmaxRows1k2(
  beta0: Float64Array,
  beta1: Float64Array,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  resp: Float64Array,
  withQ: boolean,
): number {
  const c0 = beta0[0]!,
    c1 = beta0[1]!;
  const s0 = beta1[0]!,
    s1 = beta1[1]!;
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    const xi = X[i]!;
    const v0 = c0 + s0 * xi;
    const v1 = c1 + s1 * xi;
    let e0, e1, mx;
    const direct = v0 >= -GATE_DIRECT && v0 <= GATE_DIRECT && v1 >= -GATE_DIRECT && v1 <= GATE_DIRECT;
    if (direct) {
      e0 = expCore(v0);
      e1 = expCore(v1);
      mx = 0;
    } else {
      mx = Math.max(v0, v1);
      e0 = expRel(v0 - mx);
      e1 = expRel(v1 - mx);
    }
    const s = e0 + e1;
    const lse = mx + (s === s ? logCore(s) : s);
    const inv = 1 / s;
    const l0 = v0 - lse;
    const l1 = v1 - lse;
    logPi[o] = l0;
    logPi[o + 1] = l1;
    pi[o] = e0 * inv;
    pi[o + 1] = e1 * inv;
    if (withQ) {
      const r0 = resp[o]!,
        r1 = resp[o + 1]!;
      if (direct) {
        q += r0 * l0;
        q += r1 * l1;
      } else {
        if (r0 !== 0) q += r0 * l0;
        if (r1 !== 0) q += r1 * l1;
      }
    }
  }
  return withQ ? q : NaN;
}

/**
 * The generic gate loop (any k, d; masks): logits β0 + β1·x for linear gates, else read from logPi
 * (written by the gate); inactive experts (useMask) get logPi = −Infinity and pi = 0.
 * @returns Q = Σ r log π over `resp` when given, else NaN
 */
export function gateRowsGeneric(
  m: Model,
  linear: boolean,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  mask: Uint8Array | null,
  useMask: boolean,
  resp: Float64Array | undefined,
): number {
  const { k, d, beta0, beta1 } = m;
  let q = 0;
  for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
    let mx = -Infinity;
    if (linear) {
      if (d === 1) {
        const xi = X[i]!;
        for (let j = 0; j < k; j++) logPi[o + j] = beta0[j]! + beta1[j]! * xi;
      } else {
        for (let j = 0; j < k; j++) {
          let v = beta0[j]!;
          for (let l = 0, bo = j * d; l < d; l++) v += beta1[bo + l]! * X[xo + l]!;
          logPi[o + j] = v;
        }
      }
    }
    let jm = -1;
    for (let j = 0; j < k; j++) {
      if (useMask && !mask![o + j]) continue;
      const v = logPi[o + j]!;
      if (v > mx || v !== v) {
        mx = v;
        jm = j;
      }
    }
    let s = 0;
    for (let j = 0; j < k; j++) {
      if (useMask && !mask![o + j]) {
        pi[o + j] = 0;
        continue;
      }
      const u = logPi[o + j]! - mx;
      // exp(0) = 1 exactly: the row maximum costs no exponential
      const e = j === jm ? 1 : u < -EXP_CUTOFF ? 0 : Math.exp(u);
      pi[o + j] = e;
      s += e;
    }
    const lse = mx + Math.log(s);
    const inv = 1 / s;
    for (let j = 0; j < k; j++) {
      if (useMask && !mask![o + j]) {
        logPi[o + j] = -Infinity;
        if (resp && resp[o + j]! !== 0) q = -Infinity;
        continue;
      }
      const lp = logPi[o + j]! - lse;
      logPi[o + j] = lp;
      pi[o + j] = pi[o + j]! * inv;
      if (resp) {
        const r = resp[o + j]!;
        if (r !== 0) q += r * lp;
      }
    }
  }
  return resp ? q : NaN;
}

/**
 * softmaxRows1 for any d (logits β0_j + Σ_l β1_jl x_l, accumulated from β0_j): the twin of the generic
 * SIMD kernel gateg on the shapes it covers (registry.ts genericSimdShape).
 */
function softmaxRowsD(
  k: number,
  d: number,
  beta0: Float64Array,
  beta1: Float64Array,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  resp: Float64Array,
  withQ: boolean,
): number {
  let q = 0;
  for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
    let direct = true;
    for (let j = 0; j < k; j++) {
      let v = beta0[j]!;
      for (let l = 0, bo = j * d; l < d; l++) v += beta1[bo + l]! * X[xo + l]!;
      logPi[o + j] = v;
      direct = direct && v >= -GATE_DIRECT && v <= GATE_DIRECT;
    }
    let s = 0;
    let mx = 0;
    if (direct) {
      for (let j = 0; j < k; j++) {
        const e = expCore(logPi[o + j]!);
        pi[o + j] = e;
        s += e;
      }
    } else {
      mx = -Infinity;
      let jm = -1;
      for (let j = 0; j < k; j++) {
        const v = logPi[o + j]!;
        if (v > mx || v !== v) {
          mx = v;
          jm = j;
        }
      }
      for (let j = 0; j < k; j++) {
        const e = j === jm ? 1 : expRel(logPi[o + j]! - mx);
        pi[o + j] = e;
        s += e;
      }
    }
    const lse = mx + (s === s ? logCore(s) : s);
    const inv = 1 / s;
    for (let j = 0; j < k; j++) {
      const lp = logPi[o + j]! - lse;
      logPi[o + j] = lp;
      pi[o + j] = pi[o + j]! * inv;
      if (withQ) {
        const r = resp[o + j]!;
        if (r !== 0) q += r * lp;
      }
    }
  }
  return withQ ? q : NaN;
}

/**
 * gateRowsGeneric with expCore / logCore (the generic SIMD kernel gatemg's twin, on the shapes it
 * covers: registry.ts genericSimdShape): logits β0 + β1·x when linear, else read from logPi; inactive
 * experts (useMask) get logPi = −Infinity and pi = 0.
 * @returns Q = Σ r log π when withQ, else NaN
 */
function gateRowsTwin(
  k: number,
  d: number,
  beta0: Float64Array,
  beta1: Float64Array,
  linear: boolean,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  mask: Uint8Array,
  useMask: boolean,
  resp: Float64Array,
  withQ: boolean,
): number {
  let q = 0;
  for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
    if (linear) {
      for (let j = 0; j < k; j++) {
        let v = beta0[j]!;
        for (let l = 0, bo = j * d; l < d; l++) v += beta1[bo + l]! * X[xo + l]!;
        logPi[o + j] = v;
      }
    }
    let mx = -Infinity;
    let jm = -1;
    for (let j = 0; j < k; j++) {
      if (useMask && !mask[o + j]) continue;
      const v = logPi[o + j]!;
      if (v > mx || v !== v) {
        mx = v;
        jm = j;
      }
    }
    let s = 0;
    for (let j = 0; j < k; j++) {
      if (useMask && !mask[o + j]) {
        pi[o + j] = 0;
        continue;
      }
      const e = j === jm ? 1 : expRel(logPi[o + j]! - mx);
      pi[o + j] = e;
      s += e;
    }
    // s ∈ [1, k] when the maximum is finite (NaN or 0 otherwise: Math.log's value)
    const lse = mx + (s >= 1 && s <= k ? logCore(s) : Math.log(s));
    const inv = 1 / s;
    for (let j = 0; j < k; j++) {
      if (useMask && !mask[o + j]) {
        logPi[o + j] = -Infinity;
        if (withQ && resp[o + j]! !== 0) q = -Infinity;
        continue;
      }
      const lp = logPi[o + j]! - lse;
      logPi[o + j] = lp;
      pi[o + j] = pi[o + j]! * inv;
      if (withQ) {
        const r = resp[o + j]!;
        if (r !== 0) q += r * lp;
      }
    }
  }
  return withQ ? q : NaN;
}

/** A call of the gate rows with a mask or given logits (gateRowsTwin; one per backend, reused). */
export interface GateRowsCall {
  k: number;
  d: number;
  beta0: Float64Array;
  beta1: Float64Array;
  linear: boolean;
  X: Float64Array;
  n: number;
  logPi: Float64Array;
  pi: Float64Array;
  mask: Uint8Array;
  useMask: boolean;
  /** read only when withQ */
  resp: Float64Array;
  withQ: boolean;
}

function gateRowsTwinRows(c: GateRowsCall, i0: number, len: number): number {
  const { k, d } = c;
  const sub = (a: Float64Array) => a.subarray(i0 * k, (i0 + len) * k);
  return gateRowsTwin(
    k,
    d,
    c.beta0,
    c.beta1,
    c.linear,
    c.X.subarray(i0 * d, (i0 + len) * d),
    len,
    sub(c.logPi),
    sub(c.pi),
    c.useMask ? c.mask.subarray(i0 * k, (i0 + len) * k) : c.mask,
    c.useMask,
    c.withQ ? sub(c.resp) : c.resp,
    c.withQ,
  );
}

/** The SIMD binding of gatemg (twin of gateRowsTwin); a refused pair's Q share adds in JS. */
const gateRowsSimdG: SimdKernel<GateRowsCall> = {
  mode: 'rows',
  counter: 'gate',
  arrays(c) {
    const a: ArrayBufferView[] = [c.X, c.logPi, c.pi];
    if (c.withQ) a.push(c.resp);
    if (c.useMask) a.push(c.mask);
    return a;
  },
  setup(A, c) {
    const { k, d } = c;
    if (c.linear) {
      for (let j = 0; j < k; j++) if (!Number.isFinite(c.beta0[j]!)) return null;
      for (let t = 0; t < k * d; t++) if (!Number.isFinite(c.beta1[t]!)) return null;
      const g = A.gpar;
      for (let j = 0; j < k; j++) g[j] = c.beta0[j]!;
      for (let t = 0; t < k * d; t++) g[k + t] = c.beta1[t]!;
    }
    A.acc[0] = 0;
    A.acc[1] = 0;
    return {
      kernel: A.kernels.gatemg,
      args: [
        c.X.byteOffset,
        c.logPi.byteOffset,
        c.pi.byteOffset,
        c.withQ ? c.resp.byteOffset : 0,
        c.withQ ? 1 : 0,
        c.useMask ? c.mask.byteOffset : 0,
        c.useMask ? 1 : 0,
        c.linear ? 1 : 0,
        k,
        d,
      ],
    };
  },
  rows: (c, i0, len) => (c.withQ ? gateRowsTwinRows(c, i0, len) : (gateRowsTwinRows(c, i0, len), 0)),
  finish: (A, c, qJs) => (c.withQ ? A.acc[0]! + A.acc[1]! + qJs : NaN),
};

// only on the generic SIMD shapes (cpu.ts); others keep gateRowsGeneric
register<GateRowsCall>('gateRows', 'none', '*', '*', {
  js: (c) => gateRowsTwinRows(c, 0, c.n),
  simd: gateRowsSimdG,
});

/** A call of the linear gate without a mask (one per backend, reused). */
export interface SoftmaxCall {
  k: number;
  d: number;
  beta0: Float64Array;
  beta1: Float64Array;
  X: Float64Array;
  n: number;
  logPi: Float64Array;
  pi: Float64Array;
  /** read only when withQ */
  resp: Float64Array;
  withQ: boolean;
}

type SoftmaxRows = typeof softmaxRows1k3;

/** The SIMD binding of the k = 2 / 3 kernels gate2 / gate3, whose refused rows go to `rows`. */
export function softmaxSimd(k: 2 | 3, rows: SoftmaxRows): SimdKernel<SoftmaxCall> {
  return {
    mode: 'rows',
    counter: 'gate',
    arrays: (c) => (c.withQ ? [c.X, c.logPi, c.pi, c.resp] : [c.X, c.logPi, c.pi]),
    setup(A, c) {
      // a non-finite coefficient makes every row a refused one: the JS kernel takes them all at once
      for (let j = 0; j < k; j++) if (!Number.isFinite(c.beta0[j]!) || !Number.isFinite(c.beta1[j]!)) return null;
      const par = A.par;
      for (let j = 0; j < k; j++) {
        par[j] = c.beta0[j]!;
        par[k + j] = c.beta1[j]!;
      }
      A.acc[0] = 0;
      A.acc[1] = 0;
      return {
        kernel: k === 3 ? A.kernels.gate3 : A.kernels.gate2,
        args: [c.X.byteOffset, c.logPi.byteOffset, c.pi.byteOffset, c.withQ ? c.resp.byteOffset : 0, c.withQ ? 1 : 0],
      };
    },
    rows(c, i0, len) {
      const r = c.withQ ? c.resp.subarray(i0 * k, (i0 + len) * k) : c.resp;
      return rows(
        c.beta0,
        c.beta1,
        c.X.subarray(i0, i0 + len),
        len,
        c.logPi.subarray(i0 * k, (i0 + len) * k),
        c.pi.subarray(i0 * k, (i0 + len) * k),
        r,
        c.withQ,
      );
    },
    finish: (A, c, qJs) => (c.withQ ? A.acc[0]! + A.acc[1]! + qJs : NaN),
  };
}

register<SoftmaxCall>('gateProbs', 'linear', 3, 1, {
  js: (c) => softmaxRows1k3(c.beta0, c.beta1, c.X, c.n, c.logPi, c.pi, c.resp, c.withQ),
  simd: softmaxSimd(3, softmaxRows1k3),
});
register<SoftmaxCall>('gateProbs', 'linear', 2, 1, {
  js: (c) => softmaxRows1k2(c.beta0, c.beta1, c.X, c.n, c.logPi, c.pi, c.resp, c.withQ),
  simd: softmaxSimd(2, softmaxRows1k2),
});
/** The generic JS gate on rows [i0, i0 + len): softmaxRows1 (d = 1) or softmaxRowsD. */
function softmaxGenericRows(c: SoftmaxCall, i0: number, len: number): number {
  const { k, d } = c;
  const X = c.X.subarray(i0 * d, (i0 + len) * d);
  const lp = c.logPi.subarray(i0 * k, (i0 + len) * k),
    pi = c.pi.subarray(i0 * k, (i0 + len) * k);
  const r = c.withQ ? c.resp.subarray(i0 * k, (i0 + len) * k) : c.resp;
  return d === 1
    ? softmaxRows1(k, c.beta0, c.beta1, X, len, lp, pi, r, c.withQ)
    : softmaxRowsD(k, d, c.beta0, c.beta1, X, len, lp, pi, r, c.withQ);
}

/** The SIMD binding of a generic gate kernel, gateg or gateg_d<d> (specialised to d): twins of softmaxRows1 / softmaxRowsD. */
const softmaxSimdG = (name: 'gateg' | `gateg_d${1 | 2 | 3 | 4}`): SimdKernel<SoftmaxCall> => ({
  mode: 'rows',
  counter: 'gate',
  arrays: (c) => (c.withQ ? [c.X, c.logPi, c.pi, c.resp] : [c.X, c.logPi, c.pi]),
  setup(A, c) {
    const { k, d } = c;
    for (let j = 0; j < k; j++) if (!Number.isFinite(c.beta0[j]!)) return null;
    for (let t = 0; t < k * d; t++) if (!Number.isFinite(c.beta1[t]!)) return null;
    const g = A.gpar;
    for (let j = 0; j < k; j++) g[j] = c.beta0[j]!;
    for (let t = 0; t < k * d; t++) g[k + t] = c.beta1[t]!;
    A.acc[0] = 0;
    A.acc[1] = 0;
    return {
      kernel: A.kernels[name],
      args: [
        c.X.byteOffset,
        c.logPi.byteOffset,
        c.pi.byteOffset,
        c.withQ ? c.resp.byteOffset : 0,
        c.withQ ? 1 : 0,
        k,
        d,
      ],
    };
  },
  rows: softmaxGenericRows,
  finish: (A, c, qJs) => (c.withQ ? A.acc[0]! + A.acc[1]! + qJs : NaN),
});

const softmaxGenericJs = (c: SoftmaxCall): number => softmaxGenericRows(c, 0, c.n);
// (cpu.ts takes this path only on the generic SIMD shapes; others keep gateRowsGeneric)
for (const d of SPECIALISED_D)
  register<SoftmaxCall>('gateProbs', 'linear', '*', d, { js: softmaxGenericJs, simd: softmaxSimdG(`gateg_d${d}`) });
register<SoftmaxCall>('gateProbs', 'linear', '*', '*', { js: softmaxGenericJs, simd: softmaxSimdG('gateg') });
