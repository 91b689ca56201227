/**
 * Strategy C of the top-K gate M-step (see topk.ts), K = 1 selecting on the full logit: sample i
 * has expert j iff β0_j > t_ij, so the observed log-likelihood is piecewise constant in each free
 * β0_j; it is maximised exactly over each in turn (sorted thresholds, cumulative gains).
 */
import { getGate } from '../../models/gates/index.js';
import { expertLogDensities } from '../../models/density.js';
import { cloneModel, type Model } from '../../models/types.js';
import { swapGateBuffers, type Workspace } from '../workspace.js';
import { copyGateParams, packGate, type GateLayoutInfo } from './layout.js';
import type { GateMStepContext } from './types.js';

/** What the switch search works on: the layout, n, the M-step's θ buffer and its observed log-likelihood. */
export interface SwitchEnv {
  layout: GateLayoutInfo;
  n: number;
  theta: Float64Array;
  /** observed log-likelihood at gate θ (S_K recomputed), into the trial buffers */
  observed(ctx: GateMStepContext, m: Model, th: Float64Array, w: Workspace): number;
  /** |β0_j| ≤ beta0Bound (the fit's bounds.beta0; Infinity when free): switches outside are not candidates */
  beta0Bound: number;
}

/**
 * C: exact maximisation of the observed log-likelihood over each free β0_j in turn (K = 1, logit
 * selection). On a strict increase over llBar the model and the current buffers hold the new gate.
 */
export function createSwitchSearch(env: SwitchEnv) {
  const { layout, theta, observed } = env;
  const nn = env.n;
  const dens = new Float64Array(nn * layout.k);
  const sc = new Float64Array(nn * layout.k);
  const thr = new Float64Array(nn);
  const gain = new Float64Array(nn);
  const order = new Uint32Array(nn);
  return function switchSearch(ctx: GateMStepContext, m: Model, w: Workspace, llBar: number): number {
    const { X, y, n } = ctx.data;
    const k = layout.k;
    const before = cloneModel(m);
    expertLogDensities(m, X, y, n, dens);
    getGate(m.gate).logits(m, X, n, sc);
    let moved = false;
    for (let j = 0; j < k; j++) {
      if (layout.b0Index[j]! < 0) continue;
      const b0 = m.beta0[j]!;
      for (let i = 0, o = 0; i < n; i++, o += k) {
        let best = -1;
        for (let l = 0; l < k; l++) if (l !== j && (best < 0 || sc[o + l]! > sc[o + best]!)) best = l;
        thr[i] = sc[o + best]! - (sc[o + j]! - b0); // j is selected iff β0_j > thr_i
        gain[i] = dens[o + j]! - dens[o + best]!;
        order[i] = i;
      }
      order.sort((a, b) => thr[a]! - thr[b]!);
      // gain of the set {samples with thr < β0}, for β0 just above the r-th smallest threshold
      let cum = 0;
      let cur = 0;
      let bestGain = -Infinity;
      let bestR = -1;
      for (let r = 0; r < n; r++) {
        const i = order[r]!;
        cum += gain[i]!;
        if (thr[i]! < b0) cur = cum;
        // keep at least one sample on each side of the switch, and β0 inside its bound
        if (
          r < n - 1 &&
          thr[order[r + 1]!]! > thr[i]! &&
          cum > bestGain &&
          Math.abs(0.5 * (thr[i]! + thr[order[r + 1]!]!)) <= env.beta0Bound
        ) {
          bestGain = cum;
          bestR = r;
        }
      }
      if (bestR < 0 || !(bestGain > cur + 1e-9 * (1 + Math.abs(cur)))) continue;
      const nb0 = 0.5 * (thr[order[bestR]!]! + thr[order[bestR + 1]!]!);
      const shift = nb0 - b0;
      m.beta0[j] = nb0;
      for (let i = 0, o = 0; i < n; i++, o += k) sc[o + j] = sc[o + j]! + shift;
      moved = true;
    }
    if (moved) {
      packGate(layout, m, theta);
      const ll = observed(ctx, m, theta, w);
      if (ll > llBar) {
        swapGateBuffers(w, true);
        return ll;
      }
    }
    copyGateParams(before, m);
    return NaN;
  };
}
