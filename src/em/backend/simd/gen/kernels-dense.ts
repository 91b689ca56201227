/**
 * Dense-to-sparse gate-probability kernels (d = 1, k = 2, 3; identity / tanh / sigmoid activation,
 * bias outside σ): see src/em/backend/simd/gen/kernels.ts for the conventions. The SIMD twins of
 * src/em/backend/cpu/activation-gate.ts rowsIdentity / rowsTanh / rowsSigmoid (k = 2, with softmaxRow) and
 * rowsIdentity3 / rowsTanh3 / rowsSigmoid3 (k = 3, with softmaxRow3), driven by
 * src/em/backend/cpu/activation-gate.ts (binding activationSimd).
 */
import { EXP_CUTOFF, GATE_DIRECT } from '../../constants.js';
import { ACC, PAR } from '../layout.js';
import type { ActivationSimd } from '../../../../math/activation/types.js';
import { ACTIVATION_DESCRIPTORS } from '../../../../math/activations.js';
import { loadCols, storeCols } from './kernels.js';
import { F2, Fn, abs, add, div, expv, logv, mul, simdOps, sub } from './wat.js';

/**
 * Dense-to-sparse gate for d = 1, k = 2 or 3: logits v_j = σ(β1_j x)·(1/τ) + β0_j with σ from the
 * activation's emitter (its descriptor's `simd.sigma`: identity u, tanh (1 − e)/(1 + e) with
 * e = e^{−2·clamp(u, ±20)}, the sigmoid 1/(1 + e^{−clamp(u, ±700)})); then the softmax row of cpu/activation-gate.ts (softmaxRow / softmaxRow3):
 * rows with every |v| ≤ 350 take e^v with mx = 0, other rows shift by the exact maximum (terms
 * below −708 are 0); lse = mx + log s, log π = v − lse, π = e·(1/s); Q += Σ_j r_j log π_j over
 * r_j ≠ 0 when withQ ≠ 0. Two pairs per step: a step with a row whose maximum is ±∞ or NaN
 * stops (nothing of the step written) and returns its first pair, which may itself be a fine one
 * (the caller runs it in JS, same bits, and resumes after it).
 * par: β0 (k), β1 (k), 1/τ. acc: Q (2 lanes).
 */
function dense(act: ActivationSimd, k: 2 | 3): string {
  const f = new Fn(
    `dense${act.gate}${k}`,
    [
      ['x', 'i32'],
      ['lp', 'i32'],
      ['pi', 'i32'],
      ['r', 'i32'],
      ['withQ', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  const par = (i: number): string => f.set(`par${i}`, `(v128.load64_splat offset=${PAR + 8 * i} (i32.const 0))`);
  const J = [...Array(k).keys()];
  const c = J.map((j) => par(j)),
    s = J.map((j) => par(k + j));
  const it = par(2 * k);
  f.set('q', `(v128.load offset=${ACC} (i32.const 0))`);
  f.local('p', 'i32');
  f.emit('(local.set $p (local.get $start))');
  // two pairs per step (their dependency chains interleaved: one row's chain, exp → σ → exp → log,
  // is long), then the last pair alone; a step with a refused pair stops at its first pair
  f.emit('(block $done');
  f.emit('(block $two (loop $L2');
  f.emit('(br_if $two (i32.gt_u (i32.add (local.get $p) (i32.const 2)) (local.get $end)))');
  step(f, act, k, c, s, it, [0, 1]);
  f.emit('(local.set $p (i32.add (local.get $p) (i32.const 2)))');
  f.emit('(br $L2)))');
  f.emit('(br_if $done (i32.ge_u (local.get $p) (local.get $end)))');
  step(f, act, k, c, s, it, [0]);
  f.emit('(local.set $p (i32.add (local.get $p) (i32.const 1)))');
  f.emit(')');
  f.emit(`(v128.store offset=${ACC} (i32.const 0) (local.get $q))`);
  f.emit('(local.get $p)');
  return f.text();
}

/** The rows of pairs p + h for h in `hs`, stage by stage; before any store, `br $done` when one of them is refused. */
function step(f: Fn, act: ActivationSimd, k: 2 | 3, c: string[], s: string[], it: string, hs: number[]): void {
  const ops = simdOps(f);
  const J = [...Array(k).keys()];
  const T = (h: number, name: string): string => `${name}_${hs.length}${h}`;
  const v = hs.map((h) => {
    const x = f.set(
      T(h, 'xi'),
      `(v128.load offset=${16 * h} (i32.add (local.get $x) (i32.shl (local.get $p) (i32.const 4))))`,
    );
    return J.map((j) => {
      const u = f.set(T(h, `u${j}`), mul(s[j]!, x));
      return f.set(T(h, `v${j}`), add(mul(act.sigma(ops, u, T(h, `_${j}`)), it), c[j]!));
    });
  });
  // as kernels-gate.ts: direct rows (every |v| ≤ 350, false for NaN) with mx = +0, other rows
  // shifted by the exact maximum lane by lane; a pair with a row maximum ±∞ or NaN is refused
  const direct = hs.map((h) =>
    f.set(
      T(h, 'direct'),
      v[h]!.map((vj) => `(f64x2.le ${abs(vj)} ${F2(GATE_DIRECT)})`).reduce((a, b) => `(v128.and ${a} ${b})`),
    ),
  );
  const exact = hs.map((h) =>
    f.set(
      T(h, 'exact'),
      v[h]!.slice(1).reduce((m, vj) => `(f64x2.max ${m} ${vj})`, v[h]![0]!),
    ),
  );
  const ok = hs
    .map((h) => `(v128.or ${direct[h]!} (f64x2.lt ${abs(exact[h]!)} ${F2(Infinity)}))`)
    .reduce((a, b) => `(v128.and ${a} ${b})`);
  f.emit(`(br_if $done (i32.eqz (i64x2.all_true ${ok})))`);
  const e = hs.map((h) => {
    const mx = f.set(T(h, 'mx'), `(v128.andnot ${exact[h]!} ${direct[h]!})`);
    return J.map((j) => {
      const u = f.set(T(h, `w${j}`), sub(v[h]![j]!, mx));
      // below −708: 0 (only in shifted rows: direct ones have u = v ≥ −350)
      return f.set(T(h, `e${j}`), `(v128.and ${expv(f, u, T(h, `x${j}`))} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
    });
  });
  const l = hs.map((h) => {
    const sum = f.set(
      T(h, 's'),
      e[h]!.reduce((acc, t) => add(acc, t)),
    );
    const lse = f.set(T(h, 'lse'), add(f.local(T(h, 'mx')), logv(f, sum, T(h, 'ls'))));
    f.set(T(h, 'inv'), div(F2(1), sum));
    return J.map((j) => f.set(T(h, `l${j}`), sub(v[h]![j]!, lse)));
  });
  for (const h of hs) {
    const o = f.set(
      T(h, 'o'),
      `(i32.add (local.get $lp) (i32.mul (i32.add (local.get $p) (i32.const ${h})) (i32.const ${16 * k})))`,
      'i32',
    );
    const po = f.set(
      T(h, 'po'),
      `(i32.add (local.get $pi) (i32.mul (i32.add (local.get $p) (i32.const ${h})) (i32.const ${16 * k})))`,
      'i32',
    );
    storeCols(f, o, l[h]!);
    storeCols(
      f,
      po,
      J.map((j) => mul(e[h]![j]!, f.local(T(h, 'inv')))),
    );
  }
  f.emit('(if (local.get $withQ) (then');
  for (const h of hs) {
    const ro = f.set(
      T(h, 'ro'),
      `(i32.add (local.get $r) (i32.mul (i32.add (local.get $p) (i32.const ${h})) (i32.const ${16 * k})))`,
      'i32',
    );
    const r = loadCols(f, ro, k, T(h, 'r'));
    f.set(
      'q',
      J.reduce((acc, j) => add(acc, `(v128.and ${mul(r[j]!, l[h]![j]!)} (f64x2.ne ${r[j]!} ${F2(0)}))`), f.local('q')),
    );
  }
  f.emit('))');
}

/** dense<gate>{2,3} for every activation whose descriptor has SIMD emitters, in the registry's order. */
export function denseKernels(): string[] {
  const out: string[] = [];
  for (const a of ACTIVATION_DESCRIPTORS) if (a.simd) for (const k of [2, 3] as const) out.push(dense(a.simd, k));
  return out;
}
