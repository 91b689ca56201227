/**
 * The reference backend: plain Float64 loops on the CPU, no allocation per call, and the
 * WebAssembly SIMD kernels as a capability it owns (option `simd`, default on): for a fit whose
 * shape allows them (registry.ts simdShape) it creates the arena that holds the fit's buffers and
 * data ({@link Backend.fitStorage}); the kernels run on calls whose arrays all lie in one arena.
 *
 * Exponentials of arguments below −EXP_CUTOFF (relative to the row's maximum) are taken as 0:
 * their results would be subnormal (< 2.2e-308 of the row's largest term, far below what the row
 * sum can hold), and Math.exp is about 30× slower there. Responsibilities and gate probabilities
 * that small become exactly 0; log π itself is always exact; the maximum's own term is exactly 1
 * and costs no exponential.
 * d = 1 (every set-up of the papers) has its own loops: the general ones spend most of their time
 * on the inner loop over d; k = 3 with d = 1 (the over-specified demy fit) has fully unrolled ones.
 * Exponentials and logarithms in the d = 1 loops are src/math's expCore and logCore (≤ 0.51 and
 * ≤ 0.96 ulp, inlined), which changes results only in the last bits against Math.exp / Math.log.
 *
 * One file per operation in ./cpu/ (its k = 2 / 3 / generic variants and SIMD bindings, registered
 * in registry.ts); this file picks the operation's kernel and keeps the per-backend scratch.
 */
import { getGate, slopeScores, topKMask } from '../../models/gates/index.js';
import type { Model } from '../../models/types.js';
import { EXP_CUTOFF } from './constants.js';
import { denseGateProbs1, denseKernelCode, type ActivationCall } from './cpu/activation-gate.js';
import { denseGradHess, type DenseGateKernels } from './cpu/activation-grad.js';
import type { EStepCall } from './cpu/estep.js';
import { gateGradCurvCpu, gradCurvScratch } from './cpu/gradcurv.js';
import type { LogLikCall } from './cpu/loglik.js';
import { expertMomentsCpu, expertResidualsCpu, momentsScratch } from './cpu/moments.js';
import { EMPTY, LOG_2PI } from './cpu/rows.js';
import { gateRowsGeneric, type GateRowsCall, type SoftmaxCall } from './cpu/softmax-gate.js';
import type { TopkCall } from './cpu/topk-gate.js';
import { dispatch, genericSimdShape, lookup, simdShape } from './registry.js';
// every operation file registers its kernels on import (imports kept for that side effect)
import './cpu/estep.js';
import './cpu/loglik.js';
import { softmaxLogLikFits, type SoftmaxLogLikCall } from './cpu/softmax-loglik.js';
import './cpu/topk-gate.js';
import type { TopkLogLikCall } from './cpu/topk-loglik.js';
import './cpu/topk-loglik.js';
import { createArena } from './simd/arena.js';
import { commonArena } from './simd/driver.js';
import { expertMoments, type Backend, type EStepStats, type GateLayout, type MaskMode } from './types.js';

export { EXP_CUTOFF };

const NO_MASK = new Uint8Array(0);
export type { ActivationCall };

/** Options of {@link createCpuBackend}. */
export interface CpuBackendOptions {
  /**
   * Take the WebAssembly SIMD kernels where they apply (registry.ts simdShape: d = 1 with k = 2, 3,
   * and k ≤ 16, d ≤ 8 through the generic kernels): same per-sample values as the JS kernels, sums
   * over samples differ in the last bits. Default true.
   */
  simd?: boolean;
}

/** Whether warmUp has run (on the first backend created: a program that never fits never pays for it). */
let warmedUp = false;

/** Creates a CPU backend (its k-sized scratch grows on demand). */
export function createCpuBackend(options: CpuBackendOptions = {}): Backend & DenseGateKernels {
  if (!warmedUp) {
    warmedUp = true;
    warmUp();
  }
  const simd = options.simd ?? true;
  const ec = expertScratch();
  let row = new Float64Array(8);
  const ms = momentsScratch();
  const gs = gradCurvScratch();
  // one call record per operation, refilled by every call (no allocation per call)
  const { eCall, lCall, sCall, gCall, tCall } = callRecords(ec.cst, ec.hlf, row);

  function gateProbs(
    m: Model,
    X: Float64Array,
    n: number,
    logPi: Float64Array,
    pi: Float64Array,
    mask: Uint8Array | null,
    maskMode: MaskMode,
    resp?: Float64Array,
  ): number {
    const { k, d, beta0, beta1 } = m;
    const gate = getGate(m.gate);
    const linear = gate.form !== 'activation';
    // dense-to-sparse gates with d = 1, bias outside, identity/tanh/sigmoid: cpu/activation-gate.ts
    if (!linear && maskMode === 'none') {
      const code = denseKernelCode(m);
      if (code >= 0) return denseGateProbs1(code, m, X, n, logPi, pi, resp, simd);
    }
    // linear gates: logits computed in the softmax loop below; others through the gate
    if (!linear) gate.logits(m, X, n, logPi);
    const useMask = maskMode !== 'none' && mask !== null;
    // top-K, d = 1, k = 3: ranking and masked softmax in one pass (cpu/topk-gate.ts)
    const sel = gate.selection?.(m.gate);
    if (useMask && sel && d === 1 && k === 3) {
      const c = tCall;
      c.beta0 = beta0;
      c.beta1 = beta1;
      c.X = X;
      c.n = n;
      c.logPi = logPi;
      c.pi = pi;
      c.mask = mask!;
      c.compute = maskMode === 'compute';
      c.K = sel.K;
      c.slope = sel.selectOn === 'slope';
      c.resp = resp ?? EMPTY;
      c.withQ = resp !== undefined;
      return dispatch(lookup<TopkCall>('gateProbs', 'masked', k, d)!, c, n, simd);
    }
    if (maskMode === 'compute') {
      if (!mask || !sel) throw new Error('gateProbs: maskMode "compute" needs a top-K gate and a mask buffer');
      if (sel.selectOn === 'logit') gate.logits(m, X, n, pi);
      else slopeScores(m, X, n, pi);
      topKMask(pi, n, k, sel.K, mask);
    }
    // d ≥ 2: the generic kernels' shapes only (others keep gateRowsGeneric's Math.exp loop)
    if (linear && !useMask && (d === 1 || genericSimdShape(k, d))) {
      const c = sCall;
      c.k = k;
      c.d = d;
      c.beta0 = beta0;
      c.beta1 = beta1;
      c.X = X;
      c.n = n;
      c.logPi = logPi;
      c.pi = pi;
      c.resp = resp ?? EMPTY;
      c.withQ = resp !== undefined;
      return dispatch(lookup<SoftmaxCall>('gateProbs', 'linear', k, d)!, c, n, simd);
    }
    if (!genericSimdShape(k, d)) return gateRowsGeneric(m, linear, X, n, logPi, pi, mask, useMask, resp);
    // masks or given logits on the generic kernels' shapes: gateRowsTwin / gatemg (cpu/softmax-gate.ts)
    const c = gCall;
    c.k = k;
    c.d = d;
    c.beta0 = beta0;
    c.beta1 = beta1;
    c.linear = linear;
    c.X = X;
    c.n = n;
    c.logPi = logPi;
    c.pi = pi;
    c.mask = useMask ? mask! : NO_MASK;
    c.useMask = useMask;
    c.resp = resp ?? EMPTY;
    c.withQ = resp !== undefined;
    return dispatch(lookup<GateRowsCall>('gateRows', 'none', k, d)!, c, n, simd);
  }

  function eStep(
    m: Model,
    X: Float64Array,
    y: Float64Array,
    n: number,
    logPi: Float64Array,
    resp: Float64Array,
    stats?: EStepStats,
  ): number {
    expertConstants(ec, m);
    const c = eCall;
    fillExpertCall(c, m, ec.cst, ec.hlf, X, y, n, logPi);
    c.resp = resp;
    const total = dispatch(lookup<EStepCall>('eStep', 'none', m.k, m.d)!, c, n, simd);
    if (stats) stats.q = c.q;
    return total;
  }

  function logLik(m: Model, X: Float64Array, y: Float64Array, n: number, logPi: Float64Array): number {
    expertConstants(ec, m);
    if (row.length < m.k) row = new Float64Array(m.k);
    const c = lCall;
    fillExpertCall(c, m, ec.cst, ec.hlf, X, y, n, logPi);
    c.row = row;
    return dispatch(lookup<LogLikCall>('logLik', 'none', m.k, m.d)!, c, n, simd);
  }

  return {
    name: 'cpu',
    gateProbs,
    eStep,
    logLik,
    softmaxLogLik: (m, X, y, n) => softmaxLogLikCpu(m, X, y, n, simd),
    topkLogLik: (m, X, y, n, logPi, pi, mask, write) =>
      simd ? topkLogLikCpu(m, X, y, n, logPi, pi, mask, write) : undefined,
    gateQ,
    gateGradCurv: (L: GateLayout, X, n, resp, pi, dB0, dU, dTau, tau, grad, curv) =>
      gateGradCurvCpu(gs, simd, L, X, n, resp, pi, dB0, dU, dTau, tau, grad, curv),
    expertMoments: (X, y, n, d, k, resp, out) => expertMomentsCpu(ms, simd, X, y, n, d, k, resp, out),
    expertResiduals: expertResidualsCpu,
    denseGradHess: (m, L, X, n, resp, pi, grad, fisher, exact) =>
      denseGradHess(m, L, X, n, resp, pi, grad, fisher, exact, simd),
    // the SIMD kernels need the fit's buffers and data in one arena, which this backend creates
    fitStorage: (k, d, lengths) => (simd && simdShape(k, d) ? createArena(lengths.f64, lengths.u8) : null),
  };
}

/**
 * Whether the one-pass softmax log-likelihood runs a SIMD kernel for m on these arrays: a linear,
 * unmasked gate, a shape of the SIMD kernels whose parameters fit the generic block, X and y in one
 * arena, the SIMD kernels on.
 */
function softmaxLogLikCovers(m: Model, X: Float64Array, y: Float64Array, simd: boolean): boolean {
  return (
    simd &&
    simdShape(m.k, m.d) &&
    softmaxLogLikFits(m.k, m.d) &&
    getGate(m.gate).form === 'linear' &&
    commonArena([X, y]) !== undefined
  );
}

/** The experts' constants of a call: cst_j = −½ log(2πν_j), hlf_j = −1/(2ν_j) (length ≥ k, grown on demand). */
interface ExpertScratch {
  cst: Float64Array;
  hlf: Float64Array;
}

function expertScratch(): ExpertScratch {
  return { cst: new Float64Array(8), hlf: new Float64Array(8) };
}

/** Fills s with m's experts' constants (the one place they are computed, for every operation). */
function expertConstants(s: ExpertScratch, m: Model): void {
  if (s.cst.length < m.k) {
    s.cst = new Float64Array(m.k);
    s.hlf = new Float64Array(m.k);
  }
  const { cst, hlf } = s;
  for (let j = 0; j < m.k; j++) {
    cst[j] = -0.5 * (LOG_2PI + Math.log(m.nu[j]!));
    hlf[j] = -0.5 / m.nu[j]!;
  }
}

const slEc = expertScratch();
const slCall: SoftmaxLogLikCall = {
  k: 0,
  d: 1,
  beta0: EMPTY,
  beta1: EMPTY,
  a: EMPTY,
  b: EMPTY,
  cst: EMPTY,
  hlf: EMPTY,
  X: EMPTY,
  y: EMPTY,
  n: 0,
};

/**
 * The one-pass softmax log-likelihood (cpu/softmax-loglik.ts) through the registry; undefined where
 * {@link softmaxLogLikCovers} says no.
 */
function softmaxLogLikCpu(m: Model, X: Float64Array, y: Float64Array, n: number, simd: boolean): number | undefined {
  if (!softmaxLogLikCovers(m, X, y, simd)) return undefined;
  expertConstants(slEc, m);
  const c = slCall;
  c.k = m.k;
  c.d = m.d;
  c.beta0 = m.beta0;
  c.beta1 = m.beta1;
  c.a = m.a;
  c.b = m.b;
  c.cst = slEc.cst;
  c.hlf = slEc.hlf;
  c.X = X;
  c.y = y;
  c.n = n;
  return dispatch(lookup<SoftmaxLogLikCall>('softmaxLogLik', 'linear', m.k, m.d)!, c, n, true);
}

const tlEc = expertScratch();
const tlCall: TopkLogLikCall = {
  beta0: EMPTY,
  beta1: EMPTY,
  a: EMPTY,
  b: EMPTY,
  cst: EMPTY,
  hlf: EMPTY,
  X: EMPTY,
  y: EMPTY,
  n: 0,
  logPi: EMPTY,
  pi: EMPTY,
  mask: NO_MASK,
  K: 1,
  slope: false,
  write: false,
};

/**
 * The one-pass top-K log-likelihood (cpu/topk-loglik.ts), d = 1, k = 3, K = 1 or 2, where the two-pass call
 * (gateProbs 'compute', logLik) would run both SIMD kernels — every array in one arena and β finite
 * (else topk3 hands every row to JS) — so that the kernel can follow it bit for bit; else undefined.
 */
function topkLogLikCpu(
  m: Model,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  mask: Uint8Array,
  write: boolean,
): number | undefined {
  const sel = getGate(m.gate).selection?.(m.gate);
  if (!sel || m.d !== 1 || m.k !== 3 || (sel.K !== 1 && sel.K !== 2)) return undefined;
  for (let j = 0; j < 3; j++) if (!Number.isFinite(m.beta0[j]!) || !Number.isFinite(m.beta1[j]!)) return undefined;
  if (commonArena([X, y, logPi, pi, mask]) === undefined) return undefined;
  expertConstants(tlEc, m);
  const c = tlCall;
  c.beta0 = m.beta0;
  c.beta1 = m.beta1;
  c.a = m.a;
  c.b = m.b;
  c.cst = tlEc.cst;
  c.hlf = tlEc.hlf;
  c.X = X;
  c.y = y;
  c.n = n;
  c.logPi = logPi;
  c.pi = pi;
  c.mask = mask;
  c.K = sel.K;
  c.slope = sel.selectOn === 'slope';
  c.write = write;
  return dispatch(lookup<TopkLogLikCall>('topkLogLik', 'masked', 3, 1)!, c, n, true);
}

/** The fields an E-step and a log-likelihood call share: the experts and the data. */
function fillExpertCall(
  c: EStepCall | LogLikCall,
  m: Model,
  cst: Float64Array,
  hlf: Float64Array,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
): void {
  c.k = m.k;
  c.d = m.d;
  c.a = m.a;
  c.b = m.b;
  c.cst = cst;
  c.hlf = hlf;
  c.X = X;
  c.y = y;
  c.n = n;
  c.logPi = logPi;
}

/** The backend's call records, one per operation (filled by each call). */
function callRecords(cst: Float64Array, hlf: Float64Array, row: Float64Array) {
  const eCall: EStepCall = {
    k: 0,
    d: 0,
    a: EMPTY,
    b: EMPTY,
    cst,
    hlf,
    X: EMPTY,
    y: EMPTY,
    n: 0,
    logPi: EMPTY,
    resp: EMPTY,
    q: NaN,
    qJs: 0,
  };
  const lCall: LogLikCall = { k: 0, d: 0, a: EMPTY, b: EMPTY, cst, hlf, X: EMPTY, y: EMPTY, n: 0, logPi: EMPTY, row };
  const sCall: SoftmaxCall = {
    k: 0,
    d: 1,
    beta0: EMPTY,
    beta1: EMPTY,
    X: EMPTY,
    n: 0,
    logPi: EMPTY,
    pi: EMPTY,
    resp: EMPTY,
    withQ: false,
  };
  const gCall: GateRowsCall = {
    k: 0,
    d: 1,
    beta0: EMPTY,
    beta1: EMPTY,
    linear: true,
    X: EMPTY,
    n: 0,
    logPi: EMPTY,
    pi: EMPTY,
    mask: NO_MASK,
    useMask: false,
    resp: EMPTY,
    withQ: false,
  };
  const tCall: TopkCall = {
    beta0: EMPTY,
    beta1: EMPTY,
    X: EMPTY,
    n: 0,
    logPi: EMPTY,
    pi: EMPTY,
    mask: new Uint8Array(0),
    compute: false,
    K: 1,
    slope: false,
    resp: EMPTY,
    withQ: false,
  };

  return { eCall, lCall, sCall, gCall, tCall };
}

/** Q = Σ r log π over the entries with r ≠ 0 (0 · −∞ = 0: an inactive expert with no responsibility). */
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
 * Runs every CPU path of a softmax fit (k = 3, 2 and 4 with d = 1, k = 2 with d = 2) on a few rows,
 * once, when the first backend is created (~10 ms, mostly the first compilation of these functions,
 * which the first fit would pay anyway). Without it, V8 first compiles a loop on its first long call (on-stack
 * replacement), before the code after the loop has ever run; that code then has no type
 * feedback, and the optimised loop deoptimised at its end on every call, so that every call ran
 * partly in the interpreter (measured: 2–3× slower). The backend's closures share their feedback
 * across instances, so one warm-up serves every backend created later.
 */
function warmUp(): void {
  const be = createCpuBackend();
  const E = new Float64Array(0);
  for (const [k, d] of [
    [3, 1],
    [2, 1],
    [4, 1],
    [2, 2],
  ] as const) {
    const n = 6;
    const X = Float64Array.from({ length: n * d }, (_, t) => Math.sin(1.7 * t + 0.3));
    const y = Float64Array.from({ length: n }, (_, i) => Math.cos(2.3 * i));
    const m: Model = {
      gate: { kind: 'softmax' },
      k,
      d,
      beta0: Float64Array.from({ length: k }, (_, j) => 0.1 * j),
      beta1: Float64Array.from({ length: k * d }, (_, t) => 0.3 - 0.2 * t),
      a: Float64Array.from({ length: k * d }, (_, t) => 0.5 * t - 0.4),
      b: Float64Array.from({ length: k }, (_, j) => 0.2 * j),
      nu: new Float64Array(k).fill(0.5),
      tau: 1,
    };
    const logPi = new Float64Array(n * k),
      pi = new Float64Array(n * k),
      resp = new Float64Array(n * k);
    const b0Index = new Int32Array(k),
      b1Index = new Int32Array(k);
    let p = 0;
    for (let j = 0; j < k; j++) {
      b0Index[j] = j === k - 1 ? -1 : p++;
      if (j === k - 1) b1Index[j] = -1;
      else {
        b1Index[j] = p;
        p += d;
      }
    }
    const L = { k, d, p, b0Index, b1Index, tauIndex: -1, linear: true, ref: k - 1, fixB0Ref: true, fixB1Ref: true };
    const grad = new Float64Array(p),
      curv = new Float64Array(p * p),
      rss = new Float64Array(k);
    const mom = expertMoments(k, d);
    const stats: EStepStats = { q: NaN };
    for (let r = 0; r < 3; r++) {
      be.gateProbs(m, X, n, logPi, pi, null, 'none');
      be.gateProbs(m, X, n, logPi, pi, null, 'none', resp);
      be.eStep(m, X, y, n, logPi, resp, stats);
      be.logLik(m, X, y, n, logPi);
      be.gateQ(resp, logPi, n, k);
      mom.shifted = r > 0;
      be.expertMoments(X, y, n, d, k, resp, mom);
      be.expertResiduals(m, X, y, n, resp, rss);
      be.gateGradCurv(L, X, n, resp, pi, E, E, E, 1, grad, curv);
      be.gateGradCurv(L, X, n, resp, pi, E, E, E, 1, grad, null);
    }
  }
}
