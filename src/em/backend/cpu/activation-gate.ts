/**
 * The activation (dense-to-sparse) gates' probabilities on the CPU (temperature = identity
 * activation, tanh, sigmoid; bias outside σ; d = 1): logits s_ij = σ(β1_j x_i)/τ + β0_j and their
 * softmax, with the WebAssembly SIMD bindings dense{identity,tanh,sigmoid}{2,3}; the gradient and
 * Hessian sums are in activation-grad.ts. One loop per activation (no per-element switch); σ, σ' and σ'' come
 * from src/math's expCore (≤ 0.51 ulp), so results differ from the generic path
 * (Gate.logits / logitDerivs with Math.tanh / Math.exp) only by rounding. tanh(u) = (1 − e)/(1 + e)
 * with e = e^{−2u} has an absolute (not relative) error of a few 1e-17 near u = 0, which is all a
 * logit needs.
 */
import type { Model } from '../../../models/types.js';
import { getGate } from '../../../models/gates/index.js';
import { identity } from '../../../math/activation/identity.js';
import { tanh } from '../../../math/activation/tanh.js';
import { sigmoid } from '../../../math/activation/sigmoid.js';
import { expCore } from '../../../math/exp.js';
import { logCore } from '../../../math/log.js';
import { EXP_CUTOFF, GATE_DIRECT, SIG_CLAMP, TANH_CLAMP } from '../constants.js';
import { dispatch, lookup, register } from '../registry.js';
import type { SimdKernel, SimdSetup } from '../simd/driver.js';
import { activationByCode } from '../../../math/activations.js';
import { EMPTY } from './rows.js';

/** Activation codes of the specialised kernels (owned by the activation descriptors, src/math/activation). */
export const DENSE_IDENTITY = identity.code;
export const DENSE_TANH = tanh.code;
export const DENSE_SIGMOID = sigmoid.code;

/**
 * The kernel code for a model's gate (its activation descriptor's), or −1 when the specialised
 * kernels do not apply (d ≠ 1, bias inside σ, an activation without them, or a linear gate).
 */
export function denseKernelCode(m: Model): number {
  if (m.d !== 1) return -1;
  const a = getGate(m.gate).activation?.(m.gate);
  return a === undefined || a.inside ? -1 : a.act.code;
}

/**
 * Softmax of row o (k logits already in logPi[o..o+k)): log π into logPi, π into pi.
 * @returns Σ_j r_j log π_j over the row when withQ, else 0
 */
function softmaxRow(
  k: number,
  o: number,
  logPi: Float64Array,
  pi: Float64Array,
  resp: Float64Array,
  withQ: boolean,
  direct: boolean,
): number {
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
      const u = logPi[o + j]! - mx;
      const e = j === jm ? 1 : u < -EXP_CUTOFF ? 0 : expCore(u);
      pi[o + j] = e;
      s += e;
    }
  }
  // s ∈ [e^-350, k·e^350] (direct) or [1, k]: logCore's domain; NaN stays NaN
  const lse = mx + (s === s ? logCore(s) : s);
  const inv = 1 / s;
  let q = 0;
  for (let j = 0; j < k; j++) {
    const lp = logPi[o + j]! - lse;
    logPi[o + j] = lp;
    pi[o + j] = pi[o + j]! * inv;
    if (withQ) {
      const r = resp[o + j]!;
      if (r !== 0) q += r * lp;
    }
  }
  return q;
}

function rowsIdentity(
  k: number,
  beta0: Float64Array,
  beta1: Float64Array,
  it: number,
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
      const v = beta1[j]! * xi * it + beta0[j]!;
      logPi[o + j] = v;
      direct = direct && v >= -GATE_DIRECT && v <= GATE_DIRECT;
    }
    q += softmaxRow(k, o, logPi, pi, resp, withQ, direct);
  }
  return q;
}

function rowsTanh(
  k: number,
  beta0: Float64Array,
  beta1: Float64Array,
  it: number,
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
      const u = beta1[j]! * xi;
      const uc = u > TANH_CLAMP ? TANH_CLAMP : u < -TANH_CLAMP ? -TANH_CLAMP : u;
      const e = expCore(-2 * uc);
      const v = ((1 - e) / (1 + e)) * it + beta0[j]!;
      logPi[o + j] = v;
      direct = direct && v >= -GATE_DIRECT && v <= GATE_DIRECT;
    }
    q += softmaxRow(k, o, logPi, pi, resp, withQ, direct);
  }
  return q;
}

function rowsSigmoid(
  k: number,
  beta0: Float64Array,
  beta1: Float64Array,
  it: number,
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
      const u = beta1[j]! * xi;
      const uc = u > SIG_CLAMP ? SIG_CLAMP : u < -SIG_CLAMP ? -SIG_CLAMP : u;
      const v = (1 / (1 + expCore(-uc))) * it + beta0[j]!;
      logPi[o + j] = v;
      direct = direct && v >= -GATE_DIRECT && v <= GATE_DIRECT;
    }
    q += softmaxRow(k, o, logPi, pi, resp, withQ, direct);
  }
  return q;
}

/**
 * The k = 3 row tail shared by the unrolled gate kernels: softmax of (v0, v1, v2) into row o, every
 * value in a register; rows with logits in [−GATE_DIRECT, GATE_DIRECT] take e^v without the row
 * maximum (no data-dependent branch, as in cpu.ts).
 */
function softmaxRow3(
  o: number,
  v0: number,
  v1: number,
  v2: number,
  logPi: Float64Array,
  pi: Float64Array,
  resp: Float64Array,
  withQ: boolean,
): number {
  let e0, e1, e2, mx;
  if (
    v0 >= -GATE_DIRECT &&
    v0 <= GATE_DIRECT &&
    v1 >= -GATE_DIRECT &&
    v1 <= GATE_DIRECT &&
    v2 >= -GATE_DIRECT &&
    v2 <= GATE_DIRECT
  ) {
    e0 = expCore(v0);
    e1 = expCore(v1);
    e2 = expCore(v2);
    mx = 0;
  } else {
    mx = Math.max(v0, v1, v2);
    const d0 = v0 - mx,
      d1 = v1 - mx,
      d2 = v2 - mx;
    e0 = d0 < -EXP_CUTOFF ? 0 : expCore(d0);
    e1 = d1 < -EXP_CUTOFF ? 0 : expCore(d1);
    e2 = d2 < -EXP_CUTOFF ? 0 : expCore(d2);
  }
  const s = e0 + e1 + e2;
  const lse = mx + (s === s ? logCore(s) : s);
  const inv = 1 / s;
  const l0 = v0 - lse,
    l1 = v1 - lse,
    l2 = v2 - lse;
  logPi[o] = l0;
  logPi[o + 1] = l1;
  logPi[o + 2] = l2;
  pi[o] = e0 * inv;
  pi[o + 1] = e1 * inv;
  pi[o + 2] = e2 * inv;
  if (!withQ) return 0;
  let q = 0;
  const r0 = resp[o]!,
    r1 = resp[o + 1]!,
    r2 = resp[o + 2]!;
  if (r0 !== 0) q += r0 * l0;
  if (r1 !== 0) q += r1 * l1;
  if (r2 !== 0) q += r2 * l2;
  return q;
}

function tanhOf(u: number): number {
  const uc = u > TANH_CLAMP ? TANH_CLAMP : u < -TANH_CLAMP ? -TANH_CLAMP : u;
  const e = expCore(-2 * uc);
  return (1 - e) / (1 + e);
}

function sigmoidOf(u: number): number {
  const uc = u > SIG_CLAMP ? SIG_CLAMP : u < -SIG_CLAMP ? -SIG_CLAMP : u;
  return 1 / (1 + expCore(-uc));
}

function rowsIdentity3(
  beta0: Float64Array,
  beta1: Float64Array,
  it: number,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  resp: Float64Array,
  withQ: boolean,
): number {
  const c0 = beta0[0]!,
    c1 = beta0[1]!,
    c2 = beta0[2]!,
    s0 = beta1[0]!,
    s1 = beta1[1]!,
    s2 = beta1[2]!;
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const xi = X[i]!;
    q += softmaxRow3(o, s0 * xi * it + c0, s1 * xi * it + c1, s2 * xi * it + c2, logPi, pi, resp, withQ);
  }
  return q;
}

function rowsTanh3(
  beta0: Float64Array,
  beta1: Float64Array,
  it: number,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  resp: Float64Array,
  withQ: boolean,
): number {
  const c0 = beta0[0]!,
    c1 = beta0[1]!,
    c2 = beta0[2]!,
    s0 = beta1[0]!,
    s1 = beta1[1]!,
    s2 = beta1[2]!;
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const xi = X[i]!;
    q += softmaxRow3(
      o,
      tanhOf(s0 * xi) * it + c0,
      tanhOf(s1 * xi) * it + c1,
      tanhOf(s2 * xi) * it + c2,
      logPi,
      pi,
      resp,
      withQ,
    );
  }
  return q;
}

function rowsSigmoid3(
  beta0: Float64Array,
  beta1: Float64Array,
  it: number,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  resp: Float64Array,
  withQ: boolean,
): number {
  const c0 = beta0[0]!,
    c1 = beta0[1]!,
    c2 = beta0[2]!,
    s0 = beta1[0]!,
    s1 = beta1[1]!,
    s2 = beta1[2]!;
  let q = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const xi = X[i]!;
    q += softmaxRow3(
      o,
      sigmoidOf(s0 * xi) * it + c0,
      sigmoidOf(s1 * xi) * it + c1,
      sigmoidOf(s2 * xi) * it + c2,
      logPi,
      pi,
      resp,
      withQ,
    );
  }
  return q;
}

/**
 * Gate log-probabilities and probabilities (n × k each) of a dense-to-sparse gate with
 * {@link denseKernelCode}(m) = code ≥ 0, as Backend.gateProbs with maskMode 'none'.
 * @param resp when given, Q = Σ r log π is accumulated in the same pass
 * @returns Q when resp is given, else NaN
 */
/** @param simd take the SIMD kernels where they apply */
export function denseGateProbs1(
  code: number,
  m: Model,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  resp: Float64Array | undefined,
  simd: boolean,
): number {
  const c = call;
  c.code = code;
  c.m = m;
  c.X = X;
  c.n = n;
  c.logPi = logPi;
  c.pi = pi;
  c.withQ = resp !== undefined;
  c.resp = resp ?? logPi;
  return dispatch(lookup<ActivationCall>('gateProbs', 'activation', m.k, 1)!, c, n, simd);
}

/** The JS kernels of {@link denseGateProbs1} (resp not read when withQ is false); returns Q when withQ. */
function denseRowsJs(
  code: number,
  m: Model,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  r: Float64Array,
  withQ: boolean,
): number {
  const it = 1 / m.tau;
  if (m.k === 3) {
    const q3 =
      code === DENSE_TANH
        ? rowsTanh3(m.beta0, m.beta1, it, X, n, logPi, pi, r, withQ)
        : code === DENSE_SIGMOID
          ? rowsSigmoid3(m.beta0, m.beta1, it, X, n, logPi, pi, r, withQ)
          : rowsIdentity3(m.beta0, m.beta1, it, X, n, logPi, pi, r, withQ);
    return q3;
  }
  return code === DENSE_TANH
    ? rowsTanh(m.k, m.beta0, m.beta1, it, X, n, logPi, pi, r, withQ)
    : code === DENSE_SIGMOID
      ? rowsSigmoid(m.k, m.beta0, m.beta1, it, X, n, logPi, pi, r, withQ)
      : rowsIdentity(m.k, m.beta0, m.beta1, it, X, n, logPi, pi, r, withQ);
}

/** A call of the activation gate, d = 1 (one per module, reused). */
export interface ActivationCall {
  code: number;
  m: Model;
  X: Float64Array;
  n: number;
  logPi: Float64Array;
  pi: Float64Array;
  /** read only when withQ */
  resp: Float64Array;
  withQ: boolean;
}

const call: ActivationCall = {
  code: 0,
  m: null as unknown as Model,
  X: EMPTY,
  n: 0,
  logPi: EMPTY,
  pi: EMPTY,
  resp: EMPTY,
  withQ: false,
};

/**
 * The SIMD binding of dense{identity,tanh,sigmoid}{2,3}: rows run two pairs per step (those with a
 * logit beyond ±GATE_DIRECT shifted by their maximum, as in JS); a pair with a row whose maximum is
 * ±∞ or NaN goes to `rows` (with at most the pair before it, which the kernel's step handed back too).
 */
export function activationSimd(k: 2 | 3, rows: typeof denseRowsJs): SimdKernel<ActivationCall> {
  return {
    mode: 'rows',
    counter: 'gate',
    arrays: (c) => (c.withQ ? [c.X, c.logPi, c.pi, c.resp] : [c.X, c.logPi, c.pi]),
    setup(A, c) {
      const { m, code } = c;
      const it = 1 / m.tau;
      // coefficients that make every logit ±∞ or NaN (every pair refused): the JS kernel takes all rows
      // at once (tanh / sigmoid of ±∞·x is finite for x ≠ 0: those go through the kernel)
      if (!Number.isFinite(it)) return null;
      for (let j = 0; j < k; j++) {
        const b1 = m.beta1[j]!;
        if (
          !Number.isFinite(m.beta0[j]!) ||
          b1 !== b1 ||
          (code !== DENSE_TANH && code !== DENSE_SIGMOID && !Number.isFinite(b1))
        )
          return null;
      }
      const par = A.par;
      for (let j = 0; j < k; j++) {
        par[j] = m.beta0[j]!;
        par[k + j] = m.beta1[j]!;
      }
      par[2 * k] = it;
      A.acc[0] = 0;
      A.acc[1] = 0;
      const K = A.kernels;
      const kernel =
        code === DENSE_TANH
          ? k === 3
            ? K.densetanh3
            : K.densetanh2
          : code === DENSE_SIGMOID
            ? k === 3
              ? K.densesigmoid3
              : K.densesigmoid2
            : k === 3
              ? K.denseidentity3
              : K.denseidentity2;
      return {
        kernel,
        args: [c.X.byteOffset, c.logPi.byteOffset, c.pi.byteOffset, c.withQ ? c.resp.byteOffset : 0, c.withQ ? 1 : 0],
      };
    },
    rows(c, i0, len) {
      const r = c.withQ ? c.resp.subarray(i0 * k, (i0 + len) * k) : c.resp;
      const q = rows(
        c.code,
        c.m,
        c.X.subarray(i0, i0 + len),
        len,
        c.logPi.subarray(i0 * k, (i0 + len) * k),
        c.pi.subarray(i0 * k, (i0 + len) * k),
        r,
        c.withQ,
      );
      return c.withQ ? q : 0;
    },
    finish: (A, c, qJs) => (c.withQ ? A.acc[0]! + A.acc[1]! + qJs : NaN),
  };
}

const jsCall = (c: ActivationCall): number => {
  const q = denseRowsJs(c.code, c.m, c.X, c.n, c.logPi, c.pi, c.resp, c.withQ);
  return c.withQ ? q : NaN;
};
register<ActivationCall>('gateProbs', 'activation', 3, 1, { js: jsCall, simd: activationSimd(3, denseRowsJs) });
register<ActivationCall>('gateProbs', 'activation', 2, 1, { js: jsCall, simd: activationSimd(2, denseRowsJs) });
/**
 * The SIMD binding of dense<gate>g (d = 1, any k; the activation's kernel by its descriptor), twin of
 * rowsIdentity / rowsTanh / rowsSigmoid; refused pairs (a row maximum ±∞ or NaN) go to them.
 */
const activationSimdG: SimdKernel<ActivationCall> = {
  mode: 'rows',
  counter: 'gate',
  arrays: (c) => (c.withQ ? [c.X, c.logPi, c.pi, c.resp] : [c.X, c.logPi, c.pi]),
  setup(A, c) {
    const { m, code } = c;
    const k = m.k;
    const it = 1 / m.tau;
    const simd = activationByCode(code)?.simd;
    if (simd === undefined || !Number.isFinite(it)) return null;
    for (let j = 0; j < k; j++) {
      const b1 = m.beta1[j]!;
      if (!Number.isFinite(m.beta0[j]!) || b1 !== b1 || (code === DENSE_IDENTITY && !Number.isFinite(b1))) return null;
    }
    const g = A.gpar;
    for (let j = 0; j < k; j++) {
      g[j] = m.beta0[j]!;
      g[k + j] = m.beta1[j]!;
    }
    g[2 * k] = it;
    A.acc[0] = 0;
    A.acc[1] = 0;
    const kernel = (A.kernels as unknown as Record<string, SimdSetup['kernel']>)[`dense${simd.gate}g`]!;
    return {
      kernel,
      args: [
        c.X.byteOffset,
        c.logPi.byteOffset,
        c.pi.byteOffset,
        c.withQ ? c.resp.byteOffset : 0,
        c.withQ ? 1 : 0,
        k,
        1,
      ],
    };
  },
  rows(c, i0, len) {
    const k = c.m.k;
    const r = c.withQ ? c.resp.subarray(i0 * k, (i0 + len) * k) : c.resp;
    const q = denseRowsJs(
      c.code,
      c.m,
      c.X.subarray(i0, i0 + len),
      len,
      c.logPi.subarray(i0 * k, (i0 + len) * k),
      c.pi.subarray(i0 * k, (i0 + len) * k),
      r,
      c.withQ,
    );
    return c.withQ ? q : 0;
  },
  finish: (A, c, qJs) => (c.withQ ? A.acc[0]! + A.acc[1]! + qJs : NaN),
};
register<ActivationCall>('gateProbs', 'activation', '*', 1, { js: jsCall, simd: activationSimdG });
