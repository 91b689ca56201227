/**
 * The linear gates' (softmax, top-K) gradient and Gauss–Newton curvature sums on the CPU
 * (Backend.gateGradCurv), and the generic sums for any gate from the logit-derivative coefficients.
 * d = 1 with k = 3 (two free experts) and k = 2 (one) unrolled, with their WebAssembly SIMD bindings
 * gradcurv3_{01,02,12} / gradcurv2_{0,1}; d = 1 any k; any d.
 */
import { SPECIALISED_D } from '../simd/layout.js';
import { mirrorUpper, subtractOuterUpper } from '../../optim/linalg.js';
import { dispatch, lookup, register } from '../registry.js';
import type { SimdKernel } from '../simd/driver.js';
import type { GateLayout } from '../types.js';
import { gaccFinish, sumsFinish } from './moments.js';

/**
 * Gradient and curvature sums of a linear gate, d = 1, k = 3 with two free experts fa, fb (the
 * softmax layout): same operations in the same order as the generic loop, so the same bits.
 * out13: grad (ga, ga·x, gb, gb·x), then the pair sums (a,a), (a,b), (b,b), each × (1, x, x²).
 */
function gradCurvRows1k3(
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  fa: number,
  fb: number,
  out13: Float64Array,
): void {
  let g0 = 0,
    g1 = 0,
    g2 = 0,
    g3 = 0;
  let aa0 = 0,
    aa1 = 0,
    aa2 = 0,
    ab0 = 0,
    ab1 = 0,
    ab2 = 0,
    bb0 = 0,
    bb1 = 0,
    bb2 = 0;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const R = 0 + resp[o]! + resp[o + 1]! + resp[o + 2]!;
    const x = X[i]!;
    const x2 = x * x;
    const pa = pi[o + fa]!;
    const pb = pi[o + fb]!;
    const Ga = resp[o + fa]! - R * pa;
    const Gb = resp[o + fb]! - R * pb;
    g0 += Ga;
    g1 += Ga * x;
    g2 += Gb;
    g3 += Gb * x;
    const ra = R * pa;
    const rb = R * pb;
    const caa = ra * (1 - pa);
    const cab = -ra * pb;
    const cbb = rb * (1 - pb);
    aa0 += caa;
    aa1 += caa * x;
    aa2 += caa * x2;
    ab0 += cab;
    ab1 += cab * x;
    ab2 += cab * x2;
    bb0 += cbb;
    bb1 += cbb * x;
    bb2 += cbb * x2;
  }
  out13[0] = g0;
  out13[1] = g1;
  out13[2] = g2;
  out13[3] = g3;
  out13[4] = aa0;
  out13[5] = aa1;
  out13[6] = aa2;
  out13[7] = ab0;
  out13[8] = ab1;
  out13[9] = ab2;
  out13[10] = bb0;
  out13[11] = bb1;
  out13[12] = bb2;
}

/** gradCurvRows1k3 for k = 2 with one free expert fa: out13 gets ga, ga·x, then (a,a) × (1, x, x²). */
function gradCurvRows1k2(
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  fa: number,
  out13: Float64Array,
): void {
  let g0 = 0,
    g1 = 0;
  let aa0 = 0,
    aa1 = 0,
    aa2 = 0;
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    const R = 0 + resp[o]! + resp[o + 1]!;
    const x = X[i]!;
    const x2 = x * x;
    const pa = pi[o + fa]!;
    const Ga = resp[o + fa]! - R * pa;
    g0 += Ga;
    g1 += Ga * x;
    const ra = R * pa;
    const caa = ra * (1 - pa);
    aa0 += caa;
    aa1 += caa * x;
    aa2 += caa * x2;
  }
  out13[0] = g0;
  out13[1] = g1;
  out13[2] = aa0;
  out13[3] = aa1;
  out13[4] = aa2;
}

/**
 * Gradient and curvature sums of a linear gate for d = 1 and any k (free experts freeIdx[0..f)):
 * one pass per free expert (gradient) and per pair (curvature), sums in registers, R_i = Σ_j r_ij
 * computed once into Rbuf (n). Same operations in the same order per sum as the row-major loop,
 * so the same bits. out: grad (G, G·x) per free expert, then per pair u ≤ v the sums × (1, x, x²).
 */
function gradCurvRows1(
  k: number,
  f: number,
  freeIdx: Int32Array,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  Rbuf: Float64Array,
  withCurv: boolean,
  out: Float64Array,
): void {
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let R = 0;
    for (let j = 0; j < k; j++) R += resp[o + j]!;
    Rbuf[i] = R;
  }
  for (let u = 0; u < f; u++) {
    const j = freeIdx[u]!;
    let g0 = 0,
      g1 = 0;
    for (let i = 0, o = j; i < n; i++, o += k) {
      const G = resp[o]! - Rbuf[i]! * pi[o]!;
      g0 += G;
      g1 += G * X[i]!;
    }
    out[2 * u] = g0;
    out[2 * u + 1] = g1;
  }
  if (!withCurv) return;
  let t = 2 * f;
  for (let u = 0; u < f; u++) {
    const ju = freeIdx[u]!;
    for (let v = u; v < f; v++, t += 3) {
      const jv = freeIdx[v]!;
      let a0 = 0,
        a1 = 0,
        a2 = 0;
      for (let i = 0, o = 0; i < n; i++, o += k) {
        const pj = pi[o + ju]!;
        const rp = Rbuf[i]! * pj;
        const c = v === u ? rp * (1 - pj) : -rp * pi[o + jv]!;
        const x = X[i]!;
        a0 += c;
        a1 += c * x;
        a2 += c * (x * x);
      }
      out[t] = a0;
      out[t + 1] = a1;
      out[t + 2] = a2;
    }
  }
}

/**
 * Gradient and curvature sums of a linear gate for any d, row by row (free experts freeIdx[0..f)):
 * out as gradCurvRows1's with q = d + 1 gradient sums per free expert (G, G·x_1..d) and, per pair
 * u ≤ v, the (d+1)(d+2)/2 sums c_uv z_a z_b (a ≤ b, z = (1, x)); curvature terms of rows with
 * Rπ_u = 0 skipped. zz: scratch of (d+1)(d+2)/2.
 */
function gradCurvRowsD(
  k: number,
  d: number,
  f: number,
  freeIdx: Int32Array,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  zz: Float64Array,
  withCurv: boolean,
  out: Float64Array,
): void {
  const q = d + 1;
  const nm = (q * (q + 1)) / 2;
  const g0 = 0,
    c0 = f * q;
  out.fill(0, 0, c0 + (withCurv ? ((f * (f + 1)) / 2) * nm : 0));
  for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
    let R = 0;
    for (let j = 0; j < k; j++) R += resp[o + j]!;
    // monomials z_a z_b, a ≤ b, z = (1, x)
    if (withCurv) {
      let t = 0;
      for (let a = 0; a < q; a++) {
        const za = a === 0 ? 1 : X[xo + a - 1]!;
        for (let b = a; b < q; b++) zz[t++] = za * (b === 0 ? 1 : X[xo + b - 1]!);
      }
    }
    let pr = 0;
    for (let u = 0; u < f; u++) {
      const j = freeIdx[u]!;
      const pj = pi[o + j]!;
      const G = resp[o + j]! - R * pj;
      const base = g0 + u * q;
      out[base] = out[base]! + G;
      for (let a = 1; a < q; a++) out[base + a] = out[base + a]! + G * X[xo + a - 1]!;
      if (!withCurv) continue;
      const rp = R * pj;
      if (rp === 0) {
        pr += f - u;
        continue;
      }
      for (let v = u; v < f; v++, pr++) {
        const c = v === u ? rp * (1 - pj) : -rp * pi[o + freeIdx[v]!]!;
        const ao = c0 + pr * nm;
        for (let s = 0; s < nm; s++) out[ao + s] = out[ao + s]! + c * zz[s]!;
      }
    }
  }
}

/** A call of the generic sums (any k, d): out as gradCurvRowsD's. */
export interface GradCurvGenericCall {
  k: number;
  d: number;
  f: number;
  freeIdx: Int32Array;
  X: Float64Array;
  n: number;
  resp: Float64Array;
  pi: Float64Array;
  withCurv: boolean;
  /** R_i for gradCurvRows1 (n) */
  Rbuf: Float64Array;
  zz: Float64Array;
  out: Float64Array;
  last: Float64Array;
}

/** The generic JS sums of rows [i0, i0 + len) into out: gradCurvRows1 (d = 1) or gradCurvRowsD. */
function gradCurvGenericRows(c: GradCurvGenericCall, i0: number, len: number, out: Float64Array): void {
  const { k, d } = c;
  const X = c.X.subarray(i0 * d, (i0 + len) * d),
    r = c.resp.subarray(i0 * k, (i0 + len) * k),
    pi = c.pi.subarray(i0 * k, (i0 + len) * k);
  if (d === 1) gradCurvRows1(k, c.f, c.freeIdx, X, len, r, pi, c.Rbuf, c.withCurv, out);
  else gradCurvRowsD(k, d, c.f, c.freeIdx, X, len, r, pi, c.zz, c.withCurv, out);
}

/** The number of sums of a generic call: (d + 1) per free expert, and (d+1)(d+2)/2 per pair when withCurv. */
function gradCurvSums(d: number, f: number, withCurv: boolean): number {
  const q = d + 1;
  return f * q + (withCurv ? ((f * (f + 1)) / 2) * ((q * (q + 1)) / 2) : 0);
}

/**
 * The SIMD binding of a generic gradient / curvature kernel, gradcurvg or gradcurvg_d<d> (specialised to
 * d): free experts' offsets in gpar, per-lane sums in gacc.
 */
const gradCurvSimdG = (name: 'gradcurvg' | `gradcurvg_d${1 | 2 | 3 | 4}`): SimdKernel<GradCurvGenericCall> => ({
  mode: 'sums',
  counter: 'sums',
  arrays: (c) => [c.X, c.resp, c.pi],
  setup(A, c) {
    for (let u = 0; u < c.f; u++) A.gpar[u] = 8 * c.freeIdx[u]!;
    A.gacc.fill(0, 0, 2 * gradCurvSums(c.d, c.f, c.withCurv));
    return {
      kernel: A.kernels[name],
      args: [c.X.byteOffset, c.resp.byteOffset, c.pi.byteOffset, c.k, c.d, c.f, c.withCurv ? 1 : 0],
    };
  },
  rows(c, i0, len) {
    gradCurvGenericRows(c, i0, len, c.last);
    return 0;
  },
  finish(A, c) {
    const m = gradCurvSums(c.d, c.f, c.withCurv);
    gaccFinish(A.gacc, m, (c.n & 1) === 1, c.last, c.out);
    return 0;
  },
});

const gradCurvGenericJs = (c: GradCurvGenericCall): number => {
  gradCurvGenericRows(c, 0, c.n, c.out);
  return 0;
};
for (const d of SPECIALISED_D)
  register<GradCurvGenericCall>('gradCurv', 'linear', '*', d, {
    js: gradCurvGenericJs,
    simd: gradCurvSimdG(`gradcurvg_d${d}`),
  });
register<GradCurvGenericCall>('gradCurv', 'linear', '*', '*', {
  js: gradCurvGenericJs,
  simd: gradCurvSimdG('gradcurvg'),
});

/** the generic sums without their SIMD kernel: d = 1 with k ≤ 3 (its specialised kernels' shapes) */
const genericJsOnly = {
  js: (c: GradCurvGenericCall): number => {
    gradCurvGenericRows(c, 0, c.n, c.out);
    return 0;
  },
};

/** Every expert's gate parameters are either all fixed or a contiguous free block [β0_j, β1_j]. */
function linearBlocks(L: GateLayout): boolean {
  if (L.tauIndex >= 0) return false;
  for (let j = 0; j < L.k; j++) {
    const b0 = L.b0Index[j]!;
    const b1 = L.b1Index[j]!;
    if (b0 < 0 ? b1 >= 0 : b1 !== b0 + 1) return false;
  }
  return true;
}

/** A call of the d = 1 sums for free experts fa < fb (k = 3) or fa (k = 2; fb = −1): out13 / out5 as the JS kernels. */
export interface GradCurvCall {
  X: Float64Array;
  n: number;
  resp: Float64Array;
  pi: Float64Array;
  fa: number;
  fb: number;
  out: Float64Array;
  last: Float64Array;
}

/** The gate sums' scratch (one per backend; grows with k, d and n). */
export interface GradCurvScratch {
  freeIdx: Int32Array;
  acc: Float64Array;
  zz: Float64Array;
  sums: Float64Array;
  /** R_i for the generic d = 1 sums (n) */
  Rbuf: Float64Array;
  w: Float64Array;
  ci: Int32Array;
  cv: Float64Array;
  call: GradCurvCall;
  gcall: GradCurvGenericCall;
  /** the generic call's odd last row (gradient and curvature sums) */
  last: Float64Array;
}

export function gradCurvScratch(): GradCurvScratch {
  const E = new Float64Array(0);
  return {
    freeIdx: new Int32Array(8),
    acc: new Float64Array(64),
    zz: new Float64Array(8),
    sums: new Float64Array(18),
    Rbuf: E,
    w: new Float64Array(16),
    ci: new Int32Array(16),
    cv: new Float64Array(16),
    call: { X: E, n: 0, resp: E, pi: E, fa: 0, fb: 0, out: E, last: new Float64Array(13) },
    gcall: {
      k: 0,
      d: 1,
      f: 0,
      freeIdx: new Int32Array(0),
      X: E,
      n: 0,
      resp: E,
      pi: E,
      withCurv: false,
      Rbuf: E,
      zz: E,
      out: E,
      last: E,
    },
    last: E,
  };
}

/** The SIMD binding of gradcurv3_{01,02,12}: no kernel for another pair (the JS kernel runs); an odd last row goes to `rows`. */
export const gradCurvSimd3 = (rows: typeof gradCurvRows1k3): SimdKernel<GradCurvCall> => ({
  mode: 'sums',
  counter: 'sums',
  arrays: (c) => [c.X, c.resp, c.pi],
  setup(A, c) {
    const K = A.kernels;
    const kernel =
      c.fa === 0
        ? c.fb === 1
          ? K.gradcurv3_01
          : c.fb === 2
            ? K.gradcurv3_02
            : undefined
        : c.fa === 1 && c.fb === 2
          ? K.gradcurv3_12
          : undefined;
    return kernel === undefined ? null : { kernel, args: [c.X.byteOffset, c.resp.byteOffset, c.pi.byteOffset] };
  },
  rows(c, i0, len) {
    rows(
      c.X.subarray(i0, i0 + len),
      len,
      c.resp.subarray(i0 * 3, (i0 + len) * 3),
      c.pi.subarray(i0 * 3, (i0 + len) * 3),
      c.fa,
      c.fb,
      c.last,
    );
    return 0;
  },
  finish(A, c) {
    sumsFinish(A.acc, 13, (c.n & 1) === 1, c.last, c.out);
    return 0;
  },
});

/** The SIMD binding of gradcurv2_{0,1}: no kernel for another fa; an odd last row goes to `rows`. */
export const gradCurvSimd2 = (rows: typeof gradCurvRows1k2): SimdKernel<GradCurvCall> => ({
  mode: 'sums',
  counter: 'sums',
  arrays: (c) => [c.X, c.resp, c.pi],
  setup(A, c) {
    const kernel = c.fa === 0 ? A.kernels.gradcurv2_0 : c.fa === 1 ? A.kernels.gradcurv2_1 : undefined;
    return kernel === undefined ? null : { kernel, args: [c.X.byteOffset, c.resp.byteOffset, c.pi.byteOffset] };
  },
  rows(c, i0, len) {
    rows(
      c.X.subarray(i0, i0 + len),
      len,
      c.resp.subarray(i0 * 2, (i0 + len) * 2),
      c.pi.subarray(i0 * 2, (i0 + len) * 2),
      c.fa,
      c.last,
    );
    return 0;
  },
  finish(A, c) {
    sumsFinish(A.acc, 5, (c.n & 1) === 1, c.last, c.out);
    return 0;
  },
});

register<GradCurvCall>('gradCurv', 'linear', 3, 1, {
  js: (c) => {
    gradCurvRows1k3(c.X, c.n, c.resp, c.pi, c.fa, c.fb, c.out);
    return 0;
  },
  simd: gradCurvSimd3(gradCurvRows1k3),
});
register<GradCurvCall>('gradCurv', 'linear', 2, 1, {
  js: (c) => {
    gradCurvRows1k2(c.X, c.n, c.resp, c.pi, c.fa, c.out);
    return 0;
  },
  simd: gradCurvSimd2(gradCurvRows1k2),
});

function gradCurvCall(
  gs: GradCurvScratch,
  k: 2 | 3,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  fa: number,
  fb: number,
  out: Float64Array,
  simd: boolean,
): void {
  const c = gs.call;
  c.X = X;
  c.n = n;
  c.resp = resp;
  c.pi = pi;
  c.fa = fa;
  c.fb = fb;
  c.out = out;
  dispatch(lookup<GradCurvCall>('gradCurv', 'linear', k, 1)!, c, n, simd);
}

/**
 * Linear gates (softmax, top-K): every free expert j has the block [β0_j, β1_j] at base_j with
 * Jacobian z_i = (1, x_i), so C's (j, l) block is Σ_i R π_ij(δ_jl − π_il) z_i z_iᵀ: accumulate the
 * pair weights times the monomials of z (upper triangle), then scatter once.
 */
function gateGradCurvLinear(
  gs: GradCurvScratch,
  simd: boolean,
  L: GateLayout,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  grad: Float64Array,
  curv: Float64Array | null,
): void {
  const { k, d, p, b0Index } = L;
  const q = d + 1;
  const nm = (q * (q + 1)) / 2;
  let f = 0;
  if (gs.freeIdx.length < k) gs.freeIdx = new Int32Array(k);
  for (let j = 0; j < k; j++) if (b0Index[j]! >= 0) gs.freeIdx[f++] = j;
  const npair = (f * (f + 1)) / 2;
  if (gs.acc.length < npair * nm) gs.acc = new Float64Array(npair * nm);
  if (gs.zz.length < nm) gs.zz = new Float64Array(nm);
  if (d === 1 && gs.sums.length < 2 * f + 3 * npair) gs.sums = new Float64Array(2 * f + 3 * npair);
  const { freeIdx, acc, zz, sums } = gs;
  acc.fill(0, 0, npair * nm);
  grad.fill(0, 0, p);
  if (d === 1 && k === 3 && f === 2) {
    gradCurvCall(gs, 3, X, n, resp, pi, freeIdx[0]!, freeIdx[1]!, sums, simd);
    const ba = b0Index[freeIdx[0]!]!;
    const bb = b0Index[freeIdx[1]!]!;
    grad[ba] = sums[0]!;
    grad[ba + 1] = sums[1]!;
    grad[bb] = sums[2]!;
    grad[bb + 1] = sums[3]!;
    for (let t = 0; t < 9; t++) acc[t] = sums[4 + t]!;
  } else if (d === 1 && k === 2 && f === 1) {
    gradCurvCall(gs, 2, X, n, resp, pi, freeIdx[0]!, -1, sums, simd);
    const ba = b0Index[freeIdx[0]!]!;
    grad[ba] = sums[0]!;
    grad[ba + 1] = sums[1]!;
    for (let t = 0; t < 3; t++) acc[t] = sums[2 + t]!;
  } else {
    // any k and d (d = 1 with k ≤ 3 and another choice of free experts included): the generic sums
    const m = gradCurvSums(d, f, curv !== null);
    if (sums.length < m) gs.sums = new Float64Array(m);
    if (gs.last.length < m) gs.last = new Float64Array(m);
    if (d === 1 && gs.Rbuf.length < n) gs.Rbuf = new Float64Array(n);
    const c = gs.gcall;
    c.k = k;
    c.d = d;
    c.f = f;
    c.freeIdx = freeIdx;
    c.X = X;
    c.n = n;
    c.resp = resp;
    c.pi = pi;
    c.withCurv = curv !== null;
    c.Rbuf = gs.Rbuf;
    c.zz = zz;
    c.out = gs.sums;
    c.last = gs.last;
    const impl = d === 1 && k <= 3 ? genericJsOnly : lookup<GradCurvGenericCall>('gradCurv', 'linear', k, d)!;
    dispatch(impl, c, n, simd);
    const out = gs.sums;
    for (let u = 0; u < f; u++) {
      const base = b0Index[freeIdx[u]!]!;
      for (let a = 0; a < q; a++) grad[base + a] = out[u * q + a]!;
    }
    if (curv !== null) for (let t = 0; t < npair * nm; t++) acc[t] = out[f * q + t]!;
  }
  if (curv === null) return;
  curv.fill(0, 0, p * p);
  let pr = 0;
  for (let u = 0; u < f; u++) {
    const bu = b0Index[freeIdx[u]!]!;
    for (let v = u; v < f; v++, pr++) {
      const bv = b0Index[freeIdx[v]!]!;
      let s = 0;
      for (let a = 0; a < q; a++) {
        for (let b = a; b < q; b++, s++) {
          const c = acc[pr * nm + s]!;
          curv[(bu + a) * p + bv + b] = c;
          curv[(bu + b) * p + bv + a] = c;
          curv[(bv + a) * p + bu + b] = c;
          curv[(bv + b) * p + bu + a] = c;
        }
      }
    }
  }
}
export function gateGradCurvCpu(
  gs: GradCurvScratch,
  simd: boolean,
  L: GateLayout,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  dB0: Float64Array,
  dU: Float64Array,
  dTau: Float64Array,
  tau: number,
  grad: Float64Array,
  curv: Float64Array | null,
): void {
  const { k, d, p, b0Index, b1Index, tauIndex, linear } = L;
  if (linear && linearBlocks(L)) {
    gateGradCurvLinear(gs, simd, L, X, n, resp, pi, grad, curv);
    return;
  }
  if (gs.w.length < p) {
    gs.w = new Float64Array(p);
  }
  if (gs.ci.length < d + 2) {
    gs.ci = new Int32Array(d + 2);
    gs.cv = new Float64Array(d + 2);
  }
  const { w, ci, cv } = gs;
  grad.fill(0, 0, p);
  if (curv) curv.fill(0, 0, p * p);
  for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
    let R = 0;
    for (let j = 0; j < k; j++) R += resp[o + j]!;
    for (let t = 0; t < p; t++) w[t] = 0;
    for (let l = 0; l < k; l++) {
      const pl = pi[o + l]!;
      const rl = resp[o + l]!;
      if (pl === 0 && rl === 0) continue;
      const G = rl - R * pl;
      const c0 = linear ? 1 : dB0[o + l]!;
      const cu = linear ? 1 : dU[o + l]!;
      // the non-zero Jacobian entries of s_il: indices ci (increasing), values cv
      let m = 0;
      const i0 = b0Index[l]!;
      if (i0 >= 0) {
        ci[m] = i0;
        cv[m] = c0;
        m++;
      }
      const i1 = b1Index[l]!;
      if (i1 >= 0)
        for (let a = 0; a < d; a++) {
          ci[m] = i1 + a;
          cv[m] = cu * X[xo + a]!;
          m++;
        }
      if (tauIndex >= 0) {
        ci[m] = tauIndex;
        cv[m] = dTau[o + l]! * tau;
        m++;
      }
      const rp = R * pl;
      for (let s = 0; s < m; s++) {
        const is = ci[s]!;
        const vs = cv[s]!;
        grad[is] = grad[is]! + G * vs;
        if (!curv) continue;
        w[is] = w[is]! + pl * vs;
        const rv = rp * vs;
        // upper triangle of R π_l J_lᵀ J_l
        for (let t = s; t < m; t++) {
          const it = is * p + ci[t]!;
          curv[it] = curv[it]! + rv * cv[t]!;
        }
      }
    }
    if (curv) subtractOuterUpper(curv, p, R, w);
  }
  if (curv) mirrorUpper(curv, p);
}
