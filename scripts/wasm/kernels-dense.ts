/**
 * Dense-to-sparse gate-probability kernels (d = 1, k = 2, 3; identity / tanh / sigmoid activation,
 * bias outside σ): see scripts/wasm/kernels.ts for the conventions. The SIMD twins of
 * src/em/backend/cpu-dense.ts rowsIdentity / rowsTanh / rowsSigmoid (k = 2, with softmaxRow) and
 * rowsIdentity3 / rowsTanh3 / rowsSigmoid3 (k = 3, with softmaxRow3), driven by
 * src/em/backend/cpu-wasm-dense.ts.
 */
import { ACC, PAR, loadCols, matPair, pairLoop, rowPair, storeCols } from './kernels.js';
import { F2, Fn, abs, add, div, expv, logv, mul, sub } from './wat.js';

/** cpu-dense.ts GATE_DIRECT: logits within ±350 are exponentiated with no maximum */
const GATE_DIRECT = 350;
/** cpu-dense.ts TANH_CLAMP and SIG_CLAMP */
const TANH_CLAMP = 20;
const SIG_CLAMP = 700;

export type DenseAct = 'identity' | 'tanh' | 'sigmoid';

/**
 * u clamped to [−c, c] exactly as the JS ternary `u > c ? c : u < −c ? −c : u`: pmin(u, c) is
 * `c < u ? c : u` and pmax(·, −c) is `· < −c ? −c : ·` (NaN stays NaN, −0 stays −0).
 */
const clamp = (u: string, c: number): string => `(f64x2.pmax (f64x2.pmin ${u} ${F2(c)}) ${F2(-c)})`;

/**
 * Dense-to-sparse gate for d = 1, k = 2 or 3: logits v_j = σ(β1_j x)·(1/τ) + β0_j (identity:
 * ((β1_j·x)·(1/τ)) + β0_j), σ = tanh as (1 − e)/(1 + e), e = e^{−2·clamp(u, ±20)}, or the sigmoid
 * 1/(1 + e^{−clamp(u, ±700)}); then the softmax row of cpu-dense.ts (softmaxRow / softmaxRow3):
 * rows with every |v| ≤ 350 take e^v with mx = 0, other rows shift by the exact maximum (terms
 * below −708 are 0); lse = mx + log s, log π = v − lse, π = e·(1/s); Q += Σ_j r_j log π_j over
 * r_j ≠ 0 when withQ ≠ 0. Stops at a pair where some row's maximum is ±∞ or NaN.
 * par: β0 (k), β1 (k), 1/τ. acc: Q (2 lanes).
 */
function dense(act: DenseAct, k: 2 | 3): string {
  const f = new Fn(`dense${act}${k}`, [['x', 'i32'], ['lp', 'i32'], ['pi', 'i32'], ['r', 'i32'], ['withQ', 'i32'], ['start', 'i32'], ['end', 'i32']], 'i32');
  const par = (i: number): string => f.set(`par${i}`, `(v128.load64_splat offset=${PAR + 8 * i} (i32.const 0))`);
  const J = [...Array(k).keys()];
  const c = J.map((j) => par(j)), s = J.map((j) => par(k + j));
  const it = par(2 * k);
  f.set('q', `(v128.load offset=${ACC} (i32.const 0))`);
  pairLoop(f, () => {
    const x = f.set('xi', rowPair('x'));
    const v = J.map((j) => {
      if (act === 'identity') return f.set(`v${j}`, add(mul(mul(s[j]!, x), it), c[j]!));
      const u = f.set(`u${j}`, mul(s[j]!, x));
      let sig: string;
      if (act === 'tanh') {
        const uc = f.set(`uc${j}`, clamp(u, TANH_CLAMP));
        const t = f.set(`t${j}`, mul(F2(-2), uc));
        const e = expv(f, t, `a${j}`);
        sig = div(sub(F2(1), e), add(F2(1), e));
      } else {
        const t = f.set(`t${j}`, `(f64x2.neg ${clamp(u, SIG_CLAMP)})`);
        sig = div(F2(1), add(F2(1), expv(f, t, `a${j}`)));
      }
      return f.set(`v${j}`, add(mul(sig, it), c[j]!));
    });
    // as kernels-gate.ts: direct rows (every |v| ≤ 350, false for NaN) with mx = +0, other rows
    // shifted by the exact maximum lane by lane; a pair with a row maximum ±∞ or NaN is refused
    const direct = f.set('direct', v.map((vj) => `(f64x2.le ${abs(vj)} ${F2(GATE_DIRECT)})`).reduce((a, b) => `(v128.and ${a} ${b})`));
    const exact = f.set('exact', v.slice(1).reduce((m, vj) => `(f64x2.max ${m} ${vj})`, v[0]!));
    f.emit(`(br_if $done (i32.eqz (i64x2.all_true (v128.or ${direct} (f64x2.lt ${abs(exact)} ${F2(Infinity)})))))`);
    const mx = f.set('mx', `(v128.andnot ${exact} ${direct})`);
    const e = J.map((j) => {
      const u = f.set(`w${j}`, sub(v[j]!, mx));
      // below −708: 0 (only in shifted rows: direct ones have u = v ≥ −350)
      return f.set(`e${j}`, `(v128.and ${expv(f, u, `x${j}`)} (f64x2.ge ${u} ${F2(-708)}))`);
    });
    const sum = f.set('s', e.reduce((acc, t) => add(acc, t)));
    const lse = f.set('lse', add(mx, logv(f, sum, 'ls')));
    const inv = f.set('inv', div(F2(1), sum));
    const l = J.map((j) => f.set(`l${j}`, sub(v[j]!, lse)));
    storeCols(f, matPair(f, 'lp', k, 'o'), l);
    storeCols(f, matPair(f, 'pi', k, 'po'), J.map((j) => mul(e[j]!, inv)));
    f.emit('(if (local.get $withQ) (then');
    const r = loadCols(f, matPair(f, 'r', k, 'ro'), k, 'r');
    f.set('q', J.reduce((acc, j) => add(acc, `(v128.and ${mul(r[j]!, l[j]!)} (f64x2.ne ${r[j]!} ${F2(0)}))`), f.local('q')));
    f.emit('))');
  });
  f.emit(`(v128.store offset=${ACC} (i32.const 0) (local.get $q))`);
  f.emit('(local.get $p)');
  return f.text();
}

export function denseKernels(): string[] {
  const out: string[] = [];
  for (const act of ['identity', 'tanh', 'sigmoid'] as const) for (const k of [2, 3] as const) out.push(dense(act, k));
  return out;
}
