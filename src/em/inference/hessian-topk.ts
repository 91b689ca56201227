/**
 * The fast path of {@link logLikDerivatives} for a top-K gate (K ≥ 2) on the smooth piece it lies in
 * (the active sets S_K(x_i) held): the same L, ∇L and exact ∇²L as the reference (hessian.ts, with the
 * mask) up to rounding, through the softmax gate's moment kernels (operation 'hessian').
 *
 * Why it is exact: on row i the top-K gate is the softmax over S_i of the same logits β0 + β1·x, and
 * an expert outside S_i has π = r = 0 there, so every block of ∇² log p_i that involves it vanishes
 * (cpu/hessian.ts: A_ll', C_jl and their products carry π_l or r_l). The rows with the same active set
 * S are therefore a K-expert softmax model's rows: their sums are that sub-model's, put into the
 * k-expert layout at S's experts. Why: the reference loop costs ≈ 1 µs a row (76 ms per Hessian at
 * n = 8·10^4, half of topk-over's full-size fits); the kernels ≈ 20× less.
 *
 * The groups' rows are copied into one arena per dataset (kept while the data live) so that the
 * WebAssembly kernels take them; without WebAssembly SIMD the kernels' JS loop runs.
 */
import { activeSet } from '../../models/gates/topk.js';
import type { Dataset, Model } from '../../models/types.js';
import { hessSums, hessSumsCall, hessSumsLayout, hessSumsParams } from '../backend/cpu/hessian.js';
import { createArena } from '../backend/simd/arena.js';
import { assemble } from './hessian-fast.js';
import { toLogScales, type LogLikDerivatives } from './hessian.js';
import type { ParamLayout } from './params.js';

/** Whether this path covers the model: a top-K gate with 2 ≤ K, the layout of the model's k and d. */
export function topkHessianCovers(L: ParamLayout, m: Model): boolean {
  return m.gate.kind === 'topk' && m.gate.K >= 2 && L.k === m.k && L.d === m.d && L.gate.tauIndex < 0;
}

/** Per dataset: its rows' copy room in an arena (X: n × d, y: n), or null without WebAssembly SIMD. */
const rooms = new WeakMap<Float64Array, { X: Float64Array; y: Float64Array } | null>();

function room(data: Dataset): { X: Float64Array; y: Float64Array } {
  let r = rooms.get(data.X);
  if (r === undefined) {
    const A = createArena([data.n * data.d, data.n]);
    r = A ? { X: A.alloc(data.n * data.d), y: A.alloc(data.n) } : null;
    rooms.set(data.X, r);
  }
  return r ?? { X: new Float64Array(data.n * data.d), y: new Float64Array(data.n) };
}

/**
 * L, ∇L and ∇²L at the model (as logLikDerivatives with hessian = true) for a top-K gate, or null where
 * {@link topkHessianCovers} says no or L is not finite (the reference then says what that gives).
 * `mask`: the model's active sets when the caller has them (activeSet at this model), else computed here.
 * @throws Error when the data's d differs from the model's
 */
export function topkLogLikDerivatives(
  L: ParamLayout,
  m: Model,
  data: Dataset,
  mask: Uint8Array | null = null,
): LogLikDerivatives | null {
  if (!topkHessianCovers(L, m) || m.gate.kind !== 'topk') return null;
  const { k, d } = m;
  const { n, X, y } = data;
  if (data.d !== d) throw new Error(`data.d must equal the model's d = ${d}. Value: ${data.d}`);
  const K = m.gate.K;
  mask ??= activeSet(m, X, n);
  // rows grouped by active set (a bit per expert)
  const key = new Uint32Array(n);
  const count = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) if (mask[i * k + j]) s |= 1 << j;
    key[i] = s;
    count.set(s, (count.get(s) ?? 0) + 1);
  }
  const full = new Float64Array(hessSumsLayout(k, d).total);
  const buf = room(data);
  for (const s of [...count.keys()].sort((a, b) => a - b)) {
    const experts: number[] = [];
    for (let j = 0; j < k; j++) if (s & (1 << j)) experts.push(j);
    const rows = count.get(s)!;
    const Xg = buf.X.subarray(0, rows * d);
    const yg = buf.y.subarray(0, rows);
    for (let i = 0, r = 0; i < n; i++) {
      if (key[i] !== s) continue;
      for (let a = 0; a < d; a++) Xg[r * d + a] = X[i * d + a]!;
      yg[r++] = y[i]!;
    }
    const pick = (v: Float64Array, w: number): Float64Array =>
      Float64Array.from({ length: K * w }, (_, t) => v[experts[Math.floor(t / w)]! * w + (t % w)]!);
    const par = hessSumsParams(K, d, pick(m.beta0, 1), pick(m.beta1, d), pick(m.a, d), pick(m.b, 1), pick(m.nu, 1));
    addSums(full, hessSums(hessSumsCall(K, d, Xg, yg, rows, par), true), experts, k, d);
  }
  const ll = full[hessSumsLayout(k, d).ll]!;
  if (!Number.isFinite(ll)) return null;
  const grad = new Float64Array(L.P);
  const H = new Float64Array(L.P * L.P);
  assemble(L, full, grad, H);
  toLogScales(L, m, grad, H);
  return { logLik: ll, gradient: grad, hessian: H };
}

/** Adds a K-expert call's sums (layout hessSumsLayout(K, d)) into the k-expert sums at `experts` (ascending). */
function addSums(full: Float64Array, sub: Float64Array, experts: number[], k: number, d: number): void {
  const K = experts.length;
  const F = hessSumsLayout(k, d);
  const S = hessSumsLayout(K, d);
  const { m, nm } = F;
  // index of the pair (u ≤ v) in the upper triangle of a c × c matrix, row by row
  const tri = (c: number, u: number, v: number): number => u * c - (u * (u - 1)) / 2 + (v - u);
  const add = (to: number, from: number, len: number): void => {
    for (let t = 0; t < len; t++) full[to + t]! += sub[from + t]!;
  };
  for (let u = 0; u < K; u++) {
    const eu = experts[u]!;
    add(F.gradG + eu * m, S.gradG + u * m, m);
    add(F.gradE + eu * m, S.gradE + u * m, m);
    full[F.gradN + eu]! += sub[S.gradN + u]!;
    for (let v = 0; v < K; v++) {
      const ev = experts[v]!;
      add(F.ge + (eu * k + ev) * nm, S.ge + (u * K + v) * nm, nm);
      add(F.gn + (eu * k + ev) * m, S.gn + (u * K + v) * m, m);
      add(F.en + (eu * k + ev) * m, S.en + (u * K + v) * m, m);
      if (v < u) continue;
      add(F.gg + tri(k, eu, ev) * nm, S.gg + tri(K, u, v) * nm, nm);
      add(F.ee + tri(k, eu, ev) * nm, S.ee + tri(K, u, v) * nm, nm);
      full[F.nn + tri(k, eu, ev)]! += sub[S.nn + tri(K, u, v)]!;
    }
  }
  full[F.ll]! += sub[S.ll]!;
}
