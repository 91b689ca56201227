/**
 * The reference backend: plain Float64 loops on the CPU, no allocation per call.
 *
 * Exponentials of arguments below −EXP_CUTOFF (relative to the row's maximum) are taken as 0:
 * their results would be subnormal (< 2.2e-308 of the row's largest term, far below what the row
 * sum can hold), and Math.exp is about 30× slower there. Responsibilities and gate probabilities
 * that small become exactly 0; log π itself is always exact; the maximum's own term is exactly 1
 * and costs no exponential.
 * d = 1 (every set-up of the papers) has its own loops: the general ones spend most of their time
 * on the inner loop over d.
 */
import { getGate, slopeScores, topKMask } from '../../models/gates/index.js';
import type { Model } from '../../models/types.js';
import type { Backend, EStepStats, ExpertMoments, GateLayout, MaskMode } from './types.js';

const LOG_2PI = Math.log(2 * Math.PI);
/** exp(u) for u < −EXP_CUTOFF is taken as 0 (see module doc): e^-708 ≈ 3e-308, the smallest normal double. */
export const EXP_CUTOFF = 708;

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

/** Creates a CPU backend (its k-sized scratch grows on demand). */
export function createCpuBackend(): Backend {
  let cst = new Float64Array(8);
  let hlf = new Float64Array(8);
  let row = new Float64Array(8);
  let w = new Float64Array(16);
  let ci = new Int32Array(16);
  let cv = new Float64Array(16);
  let acc = new Float64Array(64);
  let zz = new Float64Array(8);
  let freeIdx = new Int32Array(8);
  // shifts for the one-pass moments (copied from the caller's previous means) and scratch
  let shX = new Float64Array(8);
  let shY = new Float64Array(8);
  let syy = new Float64Array(8);
  let dx = new Float64Array(8);

  function expertConstants(m: Model): void {
    if (cst.length < m.k) { cst = new Float64Array(m.k); hlf = new Float64Array(m.k); row = new Float64Array(m.k); }
    for (let j = 0; j < m.k; j++) {
      cst[j] = -0.5 * (LOG_2PI + Math.log(m.nu[j]!));
      hlf[j] = -0.5 / m.nu[j]!;
    }
  }

  /** gateProbs for a dense linear gate with d = 1: the hot path of softmax fits. */
  function softmaxRows1(m: Model, X: Float64Array, n: number, logPi: Float64Array, pi: Float64Array, resp?: Float64Array): number {
    const { k, beta0, beta1 } = m;
    let q = 0;
    for (let i = 0, o = 0; i < n; i++, o += k) {
      const xi = X[i]!;
      let mx = -Infinity;
      let jm = -1;
      for (let j = 0; j < k; j++) {
        const v = beta0[j]! + beta1[j]! * xi;
        logPi[o + j] = v;
        if (v > mx || v !== v) { mx = v; jm = j; }
      }
      let s = 0;
      for (let j = 0; j < k; j++) {
        const u = logPi[o + j]! - mx;
        const e = j === jm ? 1 : u < -EXP_CUTOFF ? 0 : Math.exp(u);
        pi[o + j] = e;
        s += e;
      }
      const lse = mx + Math.log(s);
      const inv = 1 / s;
      if (resp) {
        for (let j = 0; j < k; j++) {
          const lp = logPi[o + j]! - lse;
          logPi[o + j] = lp;
          pi[o + j] = pi[o + j]! * inv;
          const r = resp[o + j]!;
          if (r !== 0) q += r * lp;
        }
      } else {
        for (let j = 0; j < k; j++) {
          logPi[o + j] = logPi[o + j]! - lse;
          pi[o + j] = pi[o + j]! * inv;
        }
      }
    }
    return resp ? q : NaN;
  }

  function gateProbs(m: Model, X: Float64Array, n: number, logPi: Float64Array, pi: Float64Array, mask: Uint8Array | null, maskMode: MaskMode, resp?: Float64Array): number {
    const { k, d, beta0, beta1 } = m;
    const linear = m.gate.kind === 'softmax' || m.gate.kind === 'topk';
    // linear gates: logits computed in the softmax loop below; others through the gate
    if (!linear) getGate(m.gate).logits(m, X, n, logPi);
    const useMask = maskMode !== 'none' && mask !== null;
    if (maskMode === 'compute') {
      if (!mask || m.gate.kind !== 'topk') throw new Error('gateProbs: maskMode "compute" needs a top-K gate and a mask buffer');
      if (m.gate.selectOn === 'logit') getGate(m.gate).logits(m, X, n, pi);
      else slopeScores(m, X, n, pi);
      topKMask(pi, n, k, m.gate.K, mask);
    }
    if (linear && !useMask && d === 1) return softmaxRows1(m, X, n, logPi, pi, resp);
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
        if (v > mx || v !== v) { mx = v; jm = j; }
      }
      let s = 0;
      for (let j = 0; j < k; j++) {
        if (useMask && !mask![o + j]) { pi[o + j] = 0; continue; }
        const u = logPi[o + j]! - mx;
        // exp(0) = 1 exactly: the row maximum costs no exponential
        const e = j === jm ? 1 : u < -EXP_CUTOFF ? 0 : Math.exp(u);
        pi[o + j] = e;
        s += e;
      }
      const lse = mx + Math.log(s);
      const inv = 1 / s;
      for (let j = 0; j < k; j++) {
        if (useMask && !mask![o + j]) { logPi[o + j] = -Infinity; if (resp && resp[o + j]! !== 0) q = -Infinity; continue; }
        const lp = logPi[o + j]! - lse;
        logPi[o + j] = lp;
        pi[o + j] = pi[o + j]! * inv;
        if (resp) { const r = resp[o + j]!; if (r !== 0) q += r * lp; }
      }
    }
    return resp ? q : NaN;
  }

  function eStep(m: Model, X: Float64Array, y: Float64Array, n: number, logPi: Float64Array, resp: Float64Array, stats?: EStepStats): number {
    const { k, d, a, b } = m;
    expertConstants(m);
    let total = 0;
    let q = 0;

    for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
      const yi = y[i]!;
      let mx = -Infinity;
      let jm = -1;
      if (d === 1) {
        const xi = X[i]!;
        for (let j = 0; j < k; j++) {
          const r = yi - b[j]! - a[j]! * xi;
          const v = logPi[o + j]! + cst[j]! + hlf[j]! * r * r;
          resp[o + j] = v;
          if (v > mx || v !== v) { mx = v; jm = j; }
        }
      } else {
        for (let j = 0; j < k; j++) {
          let mu = b[j]!;
          for (let l = 0, ao = j * d; l < d; l++) mu += a[ao + l]! * X[xo + l]!;
          const r = yi - mu;
          const v = logPi[o + j]! + cst[j]! + hlf[j]! * r * r;
          resp[o + j] = v;
          if (v > mx || v !== v) { mx = v; jm = j; }
        }
      }
      if (!(mx > -Infinity) || mx === Infinity) {
        for (let j = 0; j < k; j++) resp[o + j] = NaN;
        total += mx === -Infinity ? -Infinity : NaN;
        continue;
      }
      let s = 0;
      for (let j = 0; j < k; j++) {
        const u = resp[o + j]! - mx;
        const e = j === jm ? 1 : u < -EXP_CUTOFF ? 0 : Math.exp(u);
        resp[o + j] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let j = 0; j < k; j++) {
        const r = resp[o + j]! * inv;
        resp[o + j] = r;
        if (r !== 0) q += r * logPi[o + j]!;
      }
      total += mx + Math.log(s);
    }
    if (stats) stats.q = q;
    return total;
  }

  function logLik(m: Model, X: Float64Array, y: Float64Array, n: number, logPi: Float64Array): number {
    const { k, d, a, b } = m;
    expertConstants(m);
    let total = 0;
    for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
      const yi = y[i]!;
      let mx = -Infinity;
      for (let j = 0; j < k; j++) {
        let mu = b[j]!;
        for (let l = 0, ao = j * d; l < d; l++) mu += a[ao + l]! * X[xo + l]!;
        const r = yi - mu;
        const v = logPi[o + j]! + cst[j]! + hlf[j]! * r * r;
        row[j] = v;
        if (v > mx || v !== v) mx = v;
      }
      if (!(mx > -Infinity) || mx === Infinity) { total += mx === -Infinity ? -Infinity : NaN; continue; }
      let s = 0;
      for (let j = 0; j < k; j++) { const u = row[j]! - mx; if (u >= -EXP_CUTOFF) s += Math.exp(u); }
      total += mx + Math.log(s);
    }
    return total;
  }

  function gateQ(resp: Float64Array, logPi: Float64Array, n: number, k: number): number {
    let q = 0;
    const len = n * k;
    for (let t = 0; t < len; t++) {
      const r = resp[t]!;
      if (r !== 0) q += r * logPi[t]!;
    }
    return q;
  }

  /**
   * Linear gates (softmax, top-K): every free expert j has the block [β0_j, β1_j] at base_j with
   * Jacobian z_i = (1, x_i), so C's (j, l) block is Σ_i R π_ij(δ_jl − π_il) z_i z_iᵀ: accumulate the
   * pair weights times the monomials of z (upper triangle), then scatter once.
   */
  function gateGradCurvLinear(L: GateLayout, X: Float64Array, n: number, resp: Float64Array, pi: Float64Array, grad: Float64Array, curv: Float64Array | null): void {
    const { k, d, p, b0Index } = L;
    const q = d + 1;
    const nm = (q * (q + 1)) / 2;
    let f = 0;
    if (freeIdx.length < k) freeIdx = new Int32Array(k);
    for (let j = 0; j < k; j++) if (b0Index[j]! >= 0) freeIdx[f++] = j;
    const npair = (f * (f + 1)) / 2;
    if (acc.length < npair * nm) acc = new Float64Array(npair * nm);
    if (zz.length < nm) zz = new Float64Array(nm);
    acc.fill(0, 0, npair * nm);
    grad.fill(0, 0, p);
    if (d === 1) {
      for (let i = 0, o = 0; i < n; i++, o += k) {
        let R = 0;
        for (let j = 0; j < k; j++) R += resp[o + j]!;
        const x = X[i]!;
        const x2 = x * x;
        let pr = 0;
        for (let u = 0; u < f; u++) {
          const j = freeIdx[u]!;
          const pj = pi[o + j]!;
          const G = resp[o + j]! - R * pj;
          const base = b0Index[j]!;
          grad[base] = grad[base]! + G;
          grad[base + 1] = grad[base + 1]! + G * x;
          if (curv === null) continue;
          const rp = R * pj;
          if (rp === 0) { pr += f - u; continue; }
          for (let v = u; v < f; v++, pr++) {
            const c = v === u ? rp * (1 - pj) : -rp * pi[o + freeIdx[v]!]!;
            const ao = pr * 3;
            acc[ao] = acc[ao]! + c;
            acc[ao + 1] = acc[ao + 1]! + c * x;
            acc[ao + 2] = acc[ao + 2]! + c * x2;
          }
        }
      }
    } else {
      for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
        let R = 0;
        for (let j = 0; j < k; j++) R += resp[o + j]!;
        // monomials z_a z_b, a ≤ b, z = (1, x)
        if (curv !== null) {
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
          const base = b0Index[j]!;
          grad[base] = grad[base]! + G;
          for (let a = 1; a < q; a++) grad[base + a] = grad[base + a]! + G * X[xo + a - 1]!;
          if (curv === null) continue;
          const rp = R * pj;
          if (rp === 0) { pr += f - u; continue; }
          for (let v = u; v < f; v++, pr++) {
            const c = v === u ? rp * (1 - pj) : -rp * pi[o + freeIdx[v]!]!;
            const ao = pr * nm;
            for (let s = 0; s < nm; s++) acc[ao + s] = acc[ao + s]! + c * zz[s]!;
          }
        }
      }
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

  function gateGradCurv(L: GateLayout, X: Float64Array, n: number, resp: Float64Array, pi: Float64Array,
    dB0: Float64Array, dU: Float64Array, dTau: Float64Array, tau: number, grad: Float64Array, curv: Float64Array | null): void {
    const { k, d, p, b0Index, b1Index, tauIndex, linear } = L;
    if (linear && linearBlocks(L)) { gateGradCurvLinear(L, X, n, resp, pi, grad, curv); return; }
    if (w.length < p) { w = new Float64Array(p); }
    if (ci.length < d + 2) { ci = new Int32Array(d + 2); cv = new Float64Array(d + 2); }
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
        if (i0 >= 0) { ci[m] = i0; cv[m] = c0; m++; }
        const i1 = b1Index[l]!;
        if (i1 >= 0) for (let a = 0; a < d; a++) { ci[m] = i1 + a; cv[m] = cu * X[xo + a]!; m++; }
        if (tauIndex >= 0) { ci[m] = tauIndex; cv[m] = dTau[o + l]! * tau; m++; }
        const rp = R * pl;
        for (let s = 0; s < m; s++) {
          const is = ci[s]!;
          const vs = cv[s]!;
          grad[is] = grad[is]! + G * vs;
          if (!curv) continue;
          w[is] = w[is]! + pl * vs;
          const rv = rp * vs;
          // upper triangle of R π_l J_lᵀ J_l
          for (let t = s; t < m; t++) { const it = is * p + ci[t]!; curv[it] = curv[it]! + rv * cv[t]!; }
        }
      }
      if (!curv) continue;
      // − R w wᵀ, upper triangle
      for (let r = 0; r < p; r++) {
        const wr = R * w[r]!;
        if (wr === 0) continue;
        const ro = r * p;
        for (let c = r; c < p; c++) curv[ro + c] = curv[ro + c]! - wr * w[c]!;
      }
    }
    if (curv) for (let r = 0; r < p; r++) for (let c = r + 1; c < p; c++) curv[c * p + r] = curv[r * p + c]!;
  }

  /**
   * One pass around shifts c (out's means from the previous call, close to the new ones):
   * S = Σ r (x − c)(x − c)ᵀ − N δδᵀ with δ = x̄ − c, which loses nothing when δ is small against
   * the spread; when it is not (first call, or responsibilities that moved a lot), a second,
   * centred pass recomputes the cross-products.
   */
  /** Zeroes the sums of `out` and loads the shifts (the caller's previous means, else 0). */
  function momentsBegin(d: number, k: number, out: ExpertMoments): boolean {
    const { N, xbar, ybar, Sxx, Sxy } = out;
    if (shX.length < k * d) shX = new Float64Array(k * d);
    if (shY.length < k) { shY = new Float64Array(k); syy = new Float64Array(k); }
    const fresh = out.shifted !== true;
    for (let t = 0; t < k * d; t++) shX[t] = fresh ? 0 : xbar[t]!;
    for (let j = 0; j < k; j++) shY[j] = fresh ? 0 : ybar[j]!;
    N.fill(0, 0, k); xbar.fill(0, 0, k * d); ybar.fill(0, 0, k); Sxx.fill(0, 0, k * d * d); Sxy.fill(0, 0, k * d); syy.fill(0, 0, k);
    return fresh;
  }

  /**
   * One pass around shifts c (out's means from the previous call, close to the new ones):
   * S = Σ r (x − c)(x − c)ᵀ − N δδᵀ with δ = x̄ − c, which loses nothing when δ is small against
   * the spread; when it is not (first call, or responsibilities that moved a lot), a second,
   * centred pass recomputes the cross-products.
   */
  function expertMomentsImpl(X: Float64Array, y: Float64Array, n: number, d: number, k: number, resp: Float64Array, out: ExpertMoments): void {
    const { N, xbar, ybar, Sxx, Sxy } = out;
    const fresh = momentsBegin(d, k, out);
    if (d === 1) {
      for (let i = 0, o = 0; i < n; i++, o += k) {
        const yi = y[i]!;
        const xi = X[i]!;
        for (let j = 0; j < k; j++) {
          const r = resp[o + j]!;
          if (r === 0) continue;
          const dx = xi - shX[j]!;
          const dy = yi - shY[j]!;
          const rx = r * dx;
          N[j] = N[j]! + r;
          xbar[j] = xbar[j]! + rx;
          ybar[j] = ybar[j]! + r * dy;
          Sxx[j] = Sxx[j]! + rx * dx;
          Sxy[j] = Sxy[j]! + rx * dy;
          syy[j] = syy[j]! + r * dy * dy;
        }
      }
    } else {
      for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
        const yi = y[i]!;
        for (let j = 0; j < k; j++) {
          const r = resp[o + j]!;
          if (r === 0) continue;
          const jo = j * d;
          const so = jo * d;
          const dy = yi - shY[j]!;
          N[j] = N[j]! + r;
          ybar[j] = ybar[j]! + r * dy;
          syy[j] = syy[j]! + r * dy * dy;
          for (let a = 0; a < d; a++) {
            const rxa = r * (X[xo + a]! - shX[jo + a]!);
            xbar[jo + a] = xbar[jo + a]! + rxa;
            Sxy[jo + a] = Sxy[jo + a]! + rxa * dy;
            for (let c = a; c < d; c++) Sxx[so + a * d + c] = Sxx[so + a * d + c]! + rxa * (X[xo + c]! - shX[jo + c]!);
          }
        }
      }
    }
    momentsFinish(X, y, n, d, k, resp, out, fresh);
  }

  /** Turns the shifted sums into means and centred sums (with the second pass when needed). */
  function momentsFinish(X: Float64Array, y: Float64Array, n: number, d: number, k: number, resp: Float64Array, out: ExpertMoments, fresh: boolean): void {
    const { N, xbar, ybar, Sxx, Sxy } = out;
    let redo = fresh;
    if (dx.length < d) dx = new Float64Array(d);
    for (let j = 0; j < k; j++) {
      const Nj = N[j]!;
      const inv = Nj > 0 ? 1 / Nj : 0;
      const jo = j * d;
      const so = jo * d;
      const dY = ybar[j]! * inv; // ȳ − c_y
      for (let a = 0; a < d; a++) dx[a] = xbar[jo + a]! * inv; // x̄ − c_x
      // the correction must not cancel more than half of the raw sum (≤ 1 bit lost)
      if (Nj * dY * dY > 0.5 * syy[j]!) redo = true;
      ybar[j] = shY[j]! + dY;
      syy[j] = syy[j]! - Nj * dY * dY;
      for (let a = 0; a < d; a++) {
        if (Nj * dx[a]! * dx[a]! > 0.5 * Sxx[so + a * d + a]!) redo = true;
        xbar[jo + a] = shX[jo + a]! + dx[a]!;
        Sxy[jo + a] = Sxy[jo + a]! - Nj * dx[a]! * dY;
        for (let c = a; c < d; c++) Sxx[so + a * d + c] = Sxx[so + a * d + c]! - Nj * dx[a]! * dx[c]!;
      }
    }
    if (redo) {
      Sxx.fill(0, 0, k * d * d); Sxy.fill(0, 0, k * d); syy.fill(0, 0, k);
      for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
        const yi = y[i]!;
        for (let j = 0; j < k; j++) {
          const r = resp[o + j]!;
          if (r === 0) continue;
          const jo = j * d;
          const so = jo * d;
          const ey = yi - ybar[j]!;
          const ry = r * ey;
          syy[j] = syy[j]! + ry * ey;
          for (let a = 0; a < d; a++) {
            const xa = X[xo + a]! - xbar[jo + a]!;
            Sxy[jo + a] = Sxy[jo + a]! + ry * xa;
            const rxa = r * xa;
            for (let c = a; c < d; c++) Sxx[so + a * d + c] = Sxx[so + a * d + c]! + rxa * (X[xo + c]! - xbar[jo + c]!);
          }
        }
      }
    }
    for (let j = 0; j < k; j++) {
      const so = j * d * d;
      for (let a = 0; a < d; a++) for (let c = a + 1; c < d; c++) Sxx[so + c * d + a] = Sxx[so + a * d + c]!;
    }
    out.Syy.set(syy.subarray(0, k));
    out.shifted = true;
  }

  function expertResiduals(m: Model, X: Float64Array, y: Float64Array, n: number, resp: Float64Array, out: Float64Array): void {
    const { k, d, a, b } = m;
    out.fill(0, 0, k);
    if (d === 1) {
      for (let i = 0, o = 0; i < n; i++, o += k) {
        const yi = y[i]!;
        const xi = X[i]!;
        for (let j = 0; j < k; j++) {
          const r = resp[o + j]!;
          if (r === 0) continue;
          const e = yi - b[j]! - a[j]! * xi;
          out[j] = out[j]! + r * e * e;
        }
      }
      return;
    }
    for (let i = 0, o = 0, xo = 0; i < n; i++, o += k, xo += d) {
      const yi = y[i]!;
      for (let j = 0; j < k; j++) {
        const r = resp[o + j]!;
        if (r === 0) continue;
        let mu = b[j]!;
        for (let l = 0, ao = j * d; l < d; l++) mu += a[ao + l]! * X[xo + l]!;
        const e = yi - mu;
        out[j] = out[j]! + r * e * e;
      }
    }
  }

  return { name: 'cpu', gateProbs, eStep, logLik, gateQ, gateGradCurv, expertMoments: expertMomentsImpl, expertResiduals };
}
