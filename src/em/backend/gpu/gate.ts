/** The gate operation on the device: log π and π per sample (top-K sets ranked on the host), Q and its float32 noise. */
import { getGate, slopeScores, topKMask } from '../../../models/gates/index.js';
import type { Model } from '../../../models/types.js';
import { gateCode, gateSource } from '../gpu-kernels.js';
import type { MaskMode } from '../types.js';
import { RESOLUTION_SIGMAS, U32, centredX, chunkLength, kernel, run, scratch, type GpuContext } from './context.js';
import { logitRounding, packGateParams } from './pack.js';

export function gpuGateProbs(
  g: GpuContext,
  m: Model,
  X: Float64Array,
  n: number,
  logPi: Float64Array,
  pi: Float64Array,
  mask: Uint8Array | null,
  maskMode: MaskMode,
  resp?: Float64Array,
): number {
  const { k, d } = m;
  const code = gateCode(m.gate, d);
  const xe = centredX(g, X, n, d);
  if (code === null || !xe.safe || !packGateParams(g, m, code, xe.mu)) {
    g.stats.cpuDelegations++;
    g.qResolution = 0;
    return g.cpu.gateProbs(m, X, n, logPi, pi, mask, maskMode, resp);
  }
  logitRounding(g, code, k, d, xe.maxAbs);
  if (maskMode === 'compute') {
    const sel = getGate(m.gate).selection?.(m.gate);
    if (!mask || !sel) throw new Error('gateProbs: maskMode "compute" needs a top-K gate and a mask buffer');
    // Float64 scores and ranking, exactly as the CPU backend: the active sets must agree bit for bit
    if (sel.selectOn === 'logit') getGate(m.gate).logits(m, X, n, pi);
    else slopeScores(m, X, n, pi);
    topKMask(pi, n, k, sel.K, mask);
  }
  const masked = maskMode !== 'none' && mask !== null;
  let mf: Float32Array | null = null;
  if (masked) {
    mf = scratch(g, n * k);
    for (let t = 0; t < n * k; t++) mf[t] = mask![t]!;
  }
  const sig = g.sig;
  const C = chunkLength(g, n, k, d);
  let q = 0;
  let q2 = 0;
  for (let s0 = 0; s0 < n; s0 += C) {
    const c = Math.min(C, n - s0);
    const ck = c * k;
    const key = `gate|${code.key}|${masked ? 'masked' : 'dense'}|c=${c}|k=${k}|d=${d}`;
    const e = kernel(g, key, 2 * ck, masked ? ['X', 'G', 'M'] : ['X', 'G'], () => gateSource(code, c, k, d, masked));
    const args: unknown[] = [xe.c.subarray(s0 * d, (s0 + c) * d), g.gP];
    if (mf) args.push(mf.subarray(s0 * k, (s0 + c) * k));
    const out = run(g, e, key, args);
    for (let t = 0, o = s0 * k; t < ck; t++, o++) {
      if (masked && !mask![o]) {
        logPi[o] = -Infinity;
        pi[o] = 0;
        if (resp && resp[o]! !== 0) q = -Infinity;
        continue;
      }
      const lp = out[t]!;
      logPi[o] = lp;
      pi[o] = out[ck + t]!;
      if (resp) {
        const r = resp[o]!;
        if (r !== 0) q += r * lp;
      }
    }
    // Q's float32 noise, first order per sample: δQ_i = Σ_j (r_ij − π_ij) δs_ij plus the log-sum-exp's
    // roundings, u(Σ_j r_ij(|log π_ij| + 2) + 4); r = π when no responsibilities are given
    for (let i = 0, o = s0 * k; i < c; i++, o += k) {
      let e = 4;
      for (let j = 0; j < k; j++) {
        const p = pi[o + j]!;
        if (p === 0 && !(resp && resp[o + j]! !== 0)) continue;
        const r = resp ? resp[o + j]! : p;
        e += Math.abs(r - p) * sig[j]! + r * (Math.abs(logPi[o + j]!) + 2);
      }
      q2 += e * e;
    }
  }
  g.qResolution = RESOLUTION_SIGMAS * U32 * Math.sqrt(q2);
  return resp ? q : NaN;
}
