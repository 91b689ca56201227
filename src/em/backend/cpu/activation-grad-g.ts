/**
 * The activation (dense-to-sparse) gates' gradient, Fisher curvature and exact −∇²Q for any k and
 * d (bias outside σ; identity, tanh, sigmoid) — every shape but d = 1 with k ≤ 3, which keeps
 * activation-grad.ts's loops. One pass: per row the weights and monomials of x that the SIMD kernel
 * densegradg_<grad> (src/em/backend/simd/gen/kernels-densegradg.ts, which documents the sums and
 * their order) forms, with the same operations (per-row terms bit for bit; the kernel adds rows
 * lane by lane and in blocks, so totals differ in the last bits), then placed in the p-vector and
 * p × p matrices of the layout.
 *
 * Per row and expert: u = β1_l·x, J1 = σ′(u)/τ, Jt = −σ(u)/τ, H1 = σ″(u)/τ (the d = 1 coefficient
 * loops' operations at x = 1), so ∂s_l/∂β1_la = J1 x_a, ∂s_l/∂log τ = Jt, ∂²s_l/∂β1_la∂β1_lb = H1 x_a x_b.
 */
import { expCore } from '../../../math/exp.js';
import { activationByCode } from '../../../math/activations.js';
import { SIG_CLAMP, TANH_CLAMP } from '../constants.js';
import { dispatch, lookup, register } from '../registry.js';
import type { KernelExports } from '../simd/module.js';
import type { SimdKernel } from '../simd/driver.js';
import type { GateLayout } from '../types.js';
import { DENSE_SIGMOID, DENSE_TANH } from './activation-gate.js';
import { gaccFinish } from './moments.js';

/** A call of the generic sums (one per module, reused). */
export interface DenseGCall {
  code: number;
  k: number;
  d: number;
  beta1: Float64Array;
  /** 1/τ */
  it: number;
  X: Float64Array;
  n: number;
  resp: Float64Array;
  pi: Float64Array;
  withCurv: boolean;
  out: Float64Array;
  last: Float64Array;
}

/** Weights per class (× 1, × x_a, × x_a x_b) and the number of sums. */
export function denseGCounts(
  k: number,
  d: number,
  withCurv: boolean,
): { nA: number; nB: number; nC: number; m: number } {
  const pairs = (k * (k + 1)) / 2;
  const nA = k + 1 + (withCurv ? pairs + k + 1 : 0);
  const nB = k + (withCurv ? k * k + k : 0);
  const nC = withCurv ? pairs + k : 0;
  return { nA, nB, nC, m: nA + nB * d + (nC * d * (d + 1)) / 2 };
}

// per-row scratch: weights, monomials, per-expert values (grown on demand)
let wS = new Float64Array(64);
let zS = new Float64Array(64);
let eS = new Float64Array(64);

/**
 * The sums of rows [i0, i0 + len) into out (zeroed first), in the kernel's order, each row's terms
 * with the kernel's operations.
 */
export function denseRowsG(c: DenseGCall, i0: number, len: number, out: Float64Array): void {
  const { code, k, d, beta1, it, X, resp, pi, withCurv } = c;
  const { nA, nB, nC, m } = denseGCounts(k, d, withCurv);
  const q = d + 1;
  const nm = (q * (q + 1)) / 2;
  if (wS.length < nA + nB + nC) wS = new Float64Array(nA + nB + nC);
  if (zS.length < nm) zS = new Float64Array(nm);
  if (eS.length < 6 * k) eS = new Float64Array(6 * k);
  const w = wS,
    z = zS,
    ex = eS;
  // per expert at ex: π, Rπ, J1, Jt, H1, G (k each)
  const P = 0,
    RP = k,
    J1 = 2 * k,
    JT = 3 * k,
    H1 = 4 * k,
    G = 5 * k;
  out.fill(0, 0, m);
  for (let i = i0; i < i0 + len; i++) {
    const xo = i * d,
      o = i * k;
    // monomials z_a z_b, a ≤ b, z = (1, x) (the gradient alone: 1, x)
    let t = 0;
    for (let a = 0; a < (withCurv ? q : 1); a++) {
      const za = a === 0 ? 1 : X[xo + a - 1]!;
      for (let b = a; b < q; b++) z[t++] = za * (b === 0 ? 1 : X[xo + b - 1]!);
    }
    let R = 0;
    for (let j = 0; j < k; j++) R += resp[o + j]!;
    let ia = 0,
      ib = nA,
      ic = nA + nB;
    let gt = 0,
      wt = 0;
    for (let l = 0; l < k; l++) {
      let u = beta1[l * d]! * X[xo]!;
      for (let a = 1; a < d; a++) u += beta1[l * d + a]! * X[xo + a]!;
      let j1: number, jt: number, h1: number;
      if (code === DENSE_TANH) {
        const uc = u > TANH_CLAMP ? TANH_CLAMP : u < -TANH_CLAMP ? -TANH_CLAMP : u;
        const e = expCore(-2 * uc);
        const dn = 1 / (1 + e);
        const th = (1 - e) * dn;
        const d1 = 4 * e * dn * dn;
        j1 = d1 * it;
        jt = -th * it;
        h1 = -2 * th * d1 * 1 * it;
      } else if (code === DENSE_SIGMOID) {
        const uc = u > SIG_CLAMP ? SIG_CLAMP : u < -SIG_CLAMP ? -SIG_CLAMP : u;
        const e = expCore(-uc);
        const s = 1 / (1 + e);
        const d1 = e * s * s;
        j1 = d1 * it;
        jt = -s * it;
        h1 = d1 * (1 - 2 * s) * 1 * it;
      } else {
        j1 = it;
        jt = -u * it;
        h1 = 0;
      }
      const pl = pi[o + l]!;
      const rp = R * pl;
      const g = resp[o + l]! - rp;
      ex[P + l] = pl;
      ex[RP + l] = rp;
      ex[J1 + l] = j1;
      ex[JT + l] = jt;
      ex[H1 + l] = h1;
      ex[G + l] = g;
      w[ia++] = g;
      w[ib++] = g * j1;
      gt += g * jt;
      wt += pl * jt;
    }
    w[ia++] = gt;
    if (withCurv) {
      for (let u = 0; u < k; u++) {
        const ju = ex[J1 + u]!;
        const rpu = ex[RP + u]!;
        const cu = rpu * (1 - ex[P + u]!);
        w[ia++] = cu;
        w[ib++] = cu * ju;
        w[ic++] = cu * ju * ju;
        const nrp = -rpu;
        for (let v = u + 1; v < k; v++) {
          const jv = ex[J1 + v]!;
          const cv = nrp * ex[P + v]!;
          w[ia++] = cv;
          w[ib++] = cv * jv;
          w[ib++] = cv * ju;
          w[ic++] = cv * ju * jv;
        }
      }
      let ctt = 0;
      for (let u = 0; u < k; u++) {
        const jtu = ex[JT + u]!;
        const e = ex[RP + u]! * (jtu - wt);
        w[ia++] = e;
        w[ib++] = e * ex[J1 + u]!;
        ctt += e * jtu;
      }
      w[ia++] = ctt;
      for (let u = 0; u < k; u++) w[ic++] = ex[G + u]! * ex[H1 + u]!;
    }
    // the sums: weights × their monomials (× 1: z_0 = 1; × x: z_1..z_d; × xx: the rest)
    let s = 0;
    const z0 = z[0]!;
    for (let t = 0; t < nA; t++, s++) out[s] = out[s]! + w[t]! * z0;
    for (let t = nA; t < nA + nB; t++) {
      const wt = w[t]!;
      for (let b = 1; b < q; b++, s++) out[s] = out[s]! + wt * z[b]!;
    }
    for (let t = nA + nB; t < nA + nB + nC; t++) {
      const wt = w[t]!;
      for (let b = q; b < nm; b++, s++) out[s] = out[s]! + wt * z[b]!;
    }
  }
}

/** The SIMD binding of densegradg_<grad> (β1 and 1/τ at GPAR, per-lane sums at GACC). */
const denseSimdG: SimdKernel<DenseGCall> = {
  mode: 'sums',
  counter: 'sums',
  arrays: (c) => [c.X, c.resp, c.pi],
  setup(A, c) {
    const grad = activationByCode(c.code)?.simd?.grad;
    if (grad === undefined) return null;
    const kernel = A.kernels[`densegradg_${grad}` as keyof KernelExports];
    if (kernel === undefined) return null;
    const kd = c.k * c.d;
    A.gpar.set(c.beta1.subarray(0, kd));
    A.gpar[kd] = c.it;
    A.gacc.fill(0, 0, 2 * denseGCounts(c.k, c.d, c.withCurv).m);
    return {
      kernel,
      args: [c.X.byteOffset, c.resp.byteOffset, c.pi.byteOffset, c.k, c.d, c.withCurv ? 1 : 0],
    };
  },
  rows(c, i0, len) {
    denseRowsG(c, i0, len, c.last);
    return 0;
  },
  finish(A, c) {
    const { m } = denseGCounts(c.k, c.d, c.withCurv);
    gaccFinish(A.gacc, m, (c.n & 1) === 1, c.last, c.out);
    return 0;
  },
};

register<DenseGCall>('gradHess', 'activation', '*', '*', {
  js: (c) => {
    denseRowsG(c, 0, c.n, c.out);
    return 0;
  },
  simd: denseSimdG,
});

const EMPTY = new Float64Array(0);
const call: DenseGCall = {
  code: 0,
  k: 0,
  d: 1,
  beta1: EMPTY,
  it: 1,
  X: EMPTY,
  n: 0,
  resp: EMPTY,
  pi: EMPTY,
  withCurv: false,
  out: EMPTY,
  last: EMPTY,
};

/** C[i, j] = C[j, i] = v where both indices are free */
function setSym(C: Float64Array, p: number, i: number, j: number, v: number): void {
  if (i < 0 || j < 0) return;
  C[i * p + j] = v;
  C[j * p + i] = v;
}

/**
 * Gradient, Fisher curvature and exact −∇²Q of the activation gate (as activation-grad.ts
 * denseGradHess1) for any k and d through the generic sums; pi must hold the gate probabilities at
 * (β1, τ = 1/it).
 */
export function denseGradHessG(
  code: number,
  beta1: Float64Array,
  it: number,
  L: GateLayout,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  grad: Float64Array,
  fisher: Float64Array | null,
  exact: Float64Array | null,
  simd: boolean,
): void {
  const { k, d, p, b0Index: i0, b1Index: i1, tauIndex: ti } = L;
  const C = fisher ?? exact;
  const withCurv = C !== null;
  const { nA, nB, m } = denseGCounts(k, d, withCurv);
  if (call.out.length < m) {
    call.out = new Float64Array(m);
    call.last = new Float64Array(m);
  }
  Object.assign(call, { code, k, d, beta1, it, X, n, resp, pi, withCurv });
  dispatch(lookup<DenseGCall>('gradHess', 'activation', k, d)!, call, n, simd);
  const S = call.out;
  const nx = (d * (d + 1)) / 2;
  const bOf = (t: number): number => nA + (t - nA) * d; // first sum of × x weight t
  const cOf = (t: number): number => nA + nB * d + (t - nA - nB) * nx; // of × xx weight t
  grad.fill(0, 0, p);
  for (let l = 0; l < k; l++) {
    if (i0[l]! >= 0) grad[i0[l]!] = S[l]!;
    if (i1[l]! >= 0) for (let a = 0; a < d; a++) grad[i1[l]! + a] = S[bOf(nA + l) + a]!;
  }
  if (ti >= 0) grad[ti] = S[k]!;
  if (C === null) return;
  C.fill(0, 0, p * p);
  let ta = k + 1,
    tb = nA + k,
    tc = nA + nB;
  for (let u = 0; u < k; u++) {
    for (let v = u; v < k; v++) {
      // (β0_u, β0_v); (β0_u, β1_v) and (β0_v, β1_u); (β1_u a, β1_v b) = (β1_u b, β1_v a)
      setSym(C, p, i0[u]!, i0[v]!, S[ta++]!);
      const bv = bOf(tb++);
      for (let a = 0; a < d; a++) setSym(C, p, i0[u]!, i1[v]! < 0 ? -1 : i1[v]! + a, S[bv + a]!);
      if (v > u) {
        const bu = bOf(tb++);
        for (let a = 0; a < d; a++) setSym(C, p, i0[v]!, i1[u]! < 0 ? -1 : i1[u]! + a, S[bu + a]!);
      }
      const cc = cOf(tc++);
      if (i1[u]! >= 0 && i1[v]! >= 0)
        for (let a = 0, s = cc; a < d; a++)
          for (let b = a; b < d; b++, s++) {
            setSym(C, p, i1[u]! + a, i1[v]! + b, S[s]!);
            setSym(C, p, i1[u]! + b, i1[v]! + a, S[s]!);
          }
    }
  }
  for (let l = 0; l < k; l++, ta++, tb++) {
    if (ti < 0) continue;
    setSym(C, p, i0[l]!, ti, S[ta]!);
    if (i1[l]! >= 0) for (let a = 0; a < d; a++) setSym(C, p, i1[l]! + a, ti, S[bOf(tb) + a]!);
  }
  if (ti >= 0) C[ti * p + ti] = S[ta]!;
  if (exact === null) return;
  if (fisher !== null) exact.set(fisher.subarray(0, p * p));
  // − Σ G ∇²s: (β1_l a, β1_l b) −A_l; (β1_l a, log τ) and (log τ, log τ) the gradient's entries
  for (let l = 0; l < k; l++, tc++) {
    const b1 = i1[l]!;
    if (b1 < 0) continue;
    for (let a = 0, s = cOf(tc); a < d; a++)
      for (let b = a; b < d; b++, s++) {
        exact[(b1 + a) * p + b1 + b] = exact[(b1 + a) * p + b1 + b]! - S[s]!;
        if (b !== a) exact[(b1 + b) * p + b1 + a] = exact[(b1 + b) * p + b1 + a]! - S[s]!;
      }
    if (ti >= 0)
      for (let a = 0; a < d; a++) {
        exact[(b1 + a) * p + ti] = exact[(b1 + a) * p + ti]! + grad[b1 + a]!;
        exact[ti * p + b1 + a] = exact[ti * p + b1 + a]! + grad[b1 + a]!;
      }
  }
  if (ti >= 0) exact[ti * p + ti] = exact[ti * p + ti]! + grad[ti]!;
}
