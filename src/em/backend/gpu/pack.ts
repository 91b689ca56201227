/** Host → device: the gate's and experts' float32 parameters (shifted to the centred data) and uploads. */
import { getGate } from '../../../models/gates/index.js';
import type { Model } from '../../../models/types.js';
import { LOGPI_INACTIVE, expertStride, gateParamLength, type GateCode } from '../gpu-kernels.js';
import { ok32, scratch, type GpuContext } from './context.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Packs the gate's device parameters into g.gP (shifted to centred x); false when not float32-safe. */
export function packGateParams(g: GpuContext, m: Model, code: GateCode, mu: Float64Array): boolean {
  const { k, d, beta0, beta1, tau } = m;
  const len = gateParamLength(code, k);
  if (g.gP.length !== len) g.gP = new Float32Array(len);
  const gP = g.gP;
  const S = code.stride;
  const gate = getGate(m.gate);
  const inside = gate.activation?.(m.gate).inside ?? false;
  const scaled = gate.hasTau; // 1/τ in play
  const it = scaled ? 1 / tau : 1;
  for (let j = 0; j < k; j++) {
    let sh = 0;
    for (let a = 0; a < d; a++) sh += beta1[j * d + a]! * mu[a]!;
    if (code.act === 'linear') {
      // s = β0 + β1·x (softmax, top-K); β1·x/τ + β0 (outside); (β1·x + β0)/τ (inside)
      gP[j * S] = inside ? (beta0[j]! + sh) * it : beta0[j]! + sh * it;
      for (let a = 0; a < d; a++) gP[j * S + 1 + a] = beta1[j * d + a]! * it;
    } else {
      gP[j * S] = inside ? sh + beta0[j]! : sh;
      for (let a = 0; a < d; a++) gP[j * S + 1 + a] = beta1[j * d + a]!;
      gP[j * S + d + 1] = inside ? 0 : beta0[j]!;
    }
  }
  if (code.act !== 'linear') gP[k * S] = it;
  for (let t = 0; t < len; t++) if (!ok32(gP[t]!)) return false;
  return true;
}

/** Packs the experts' device parameters into g.eP (b shifted to centred x and y); false when not float32-safe. */
export function packExperts(g: GpuContext, m: Model, muX: Float64Array, muY: number): boolean {
  const { k, d, a, b, nu } = m;
  const S = expertStride(d);
  if (g.eP.length !== k * S) g.eP = new Float32Array(k * S);
  const eP = g.eP;
  for (let j = 0; j < k; j++) {
    let bj = b[j]! - muY;
    for (let l = 0; l < d; l++) {
      bj += a[j * d + l]! * muX[l]!;
      eP[j * S + 1 + l] = a[j * d + l]!;
    }
    eP[j * S] = bj;
    const v = nu[j]!;
    if (!(v > 0)) return false;
    eP[j * S + d + 1] = -0.5 * (LOG_2PI + Math.log(v));
    eP[j * S + d + 2] = -0.5 / v;
  }
  for (let t = 0; t < k * S; t++) if (!ok32(eP[t]!)) return false;
  return true;
}

/**
 * Per-expert bound σ_j on a logit's float32 rounding (in units of u): (d + 3)(|c0_j| + Σ|β_j||x|max),
 * through σ′ ≤ 1.2 for activations, into g.sig (from the packed g.gP).
 */
export function logitRounding(g: GpuContext, code: GateCode, k: number, d: number, maxAbs: Float64Array): void {
  if (g.sig.length < k) g.sig = new Float64Array(k);
  const { sig, gP } = g;
  const S = code.stride;
  const it = code.act === 'linear' ? 1 : Math.abs(gP[k * S]!);
  for (let j = 0; j < k; j++) {
    let s = Math.abs(gP[j * S]!);
    for (let a = 0; a < d; a++) s += Math.abs(gP[j * S + 1 + a]!) * maxAbs[a]!;
    if (code.act !== 'linear') s = 1.2 * s * it + Math.abs(gP[j * S + d + 1]!) + it;
    sig[j] = (d + 3) * s;
  }
}

/** log π to float32 (inactive → LOGPI_INACTIVE); null when some value is not float32-safe. */
export function uploadLogPi(g: GpuContext, logPi: Float64Array, len: number): Float32Array | null {
  const f = scratch(g, len);
  for (let t = 0; t < len; t++) {
    const v = logPi[t]!;
    if (v === -Infinity) f[t] = LOGPI_INACTIVE;
    else if (ok32(v)) f[t] = v;
    else return null;
  }
  return f;
}

/** Responsibilities to float32; null when some value is not finite (the CPU path then says what it means). */
export function uploadResp(g: GpuContext, resp: Float64Array, len: number): Float32Array | null {
  const f = scratch(g, len);
  for (let t = 0; t < len; t++) {
    const v = resp[t]!;
    if (!ok32(v)) return null;
    f[t] = v;
  }
  return f;
}
