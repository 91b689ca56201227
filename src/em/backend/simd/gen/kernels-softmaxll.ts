/**
 * The softmax gate's observed log-likelihood in one pass (d = 1, k = 2, 3 unrolled; any k and d in
 * loops, and the same specialised to d = 1..4): see src/em/backend/simd/gen/kernels.ts for the
 * conventions. The SIMD twins of softmaxLogLikRows (src/em/backend/cpu/softmax-loglik.ts), driven by
 * that file's bindings.
 */
import { EXP_CUTOFF, GATE_DIRECT } from '../../constants.js';
import { ACC, GPAR, PAR, SCR, SIMD_K_MAX, SPECIALISED_D } from '../layout.js';
import { pairLoop, productStep, rowPair } from './kernels.js';
import {
  SXP,
  coordLoop,
  i32,
  iadd,
  imul,
  loadX,
  loop,
  named,
  rowsX,
  specialised,
  splat,
  strides,
  xAt,
} from './kernels-generic.js';
import { F2, Fn, abs, add, div, expv, mul, sub } from './wat.js';

/**
 * Σ_i [log Σ_j e^(w_j) − log Σ_j e^(v_j − t)] with v_j = β0_j + β1_j x (the logits), t = 0 when
 * every |v_j| ≤ 350 and the largest logit otherwise, and w_j = (v_j − t) + c_j + h_j (y − (b_j + a_j x))²:
 * per row the maximum m of w, s = Σ_j e^(w_j − m) and g = Σ_j e^(v_j − t) (terms below −708 are 0);
 * Σ m and the running product of s / g (one log per call). Stops at
 * a pair where some row's largest logit or m is ±∞ or NaN: the JS kernel takes it.
 * par: β0 (k), β1 (k), a (k), b (k), c (k), h (k). acc: Σ m (2 lanes, at +16), product mantissa
 * (+32), exponent (+48).
 */
function softmaxLogLik(k: 2 | 3): string {
  const f = new Fn(
    `softmaxll${k}`,
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  const par = (i: number): string => f.set(`par${i}`, `(v128.load64_splat offset=${PAR + 8 * i} (i32.const 0))`);
  const J = [...Array(k).keys()];
  const b0 = J.map((j) => par(j)),
    b1 = J.map((j) => par(k + j)),
    a = J.map((j) => par(2 * k + j)),
    b = J.map((j) => par(3 * k + j)),
    c = J.map((j) => par(4 * k + j)),
    h = J.map((j) => par(5 * k + j));
  f.set('sm', `(v128.load offset=${ACC + 16} (i32.const 0))`);
  f.set('pm', `(v128.load offset=${ACC + 32} (i32.const 0))`);
  f.set('pe', `(v128.load offset=${ACC + 48} (i32.const 0))`);
  pairLoop(f, () => {
    const x = f.set('xi', rowPair('x'));
    const y = f.set('yi', rowPair('y'));
    const v = J.map((j) => f.set(`v${j}`, add(b0[j]!, mul(b1[j]!, x))));
    // direct rows: every |v_j| ≤ 350 (false for NaN), e^v with no shift; other rows (a steep gate)
    // shift by the logits' exact maximum, each lane its own; a maximum ±∞ or NaN is refused
    const direct = f.set(
      'direct',
      v.map((vj) => `(f64x2.le ${abs(vj)} ${F2(GATE_DIRECT)})`).reduce((p, q) => `(v128.and ${p} ${q})`),
    );
    const exact = f.set(
      'exact',
      v.slice(1).reduce((m, vj) => `(f64x2.max ${m} ${vj})`, v[0]!),
    );
    f.emit(`(br_if $done (i32.eqz (i64x2.all_true (v128.or ${direct} (f64x2.lt ${abs(exact)} ${F2(Infinity)})))))`);
    const shift = f.set('shift', `(v128.andnot ${exact} ${direct})`);
    // the joint terms from the shifted logits: v + c + h·d² would lose c + h·d² to v's rounding once
    // |v| ≫ 1 (a runaway gate); a direct row's shift is 0 and v − 0 = v, so its bits are the unshifted form's
    const t = J.map((j) => f.set(`t${j}`, sub(v[j]!, shift)));
    const w = J.map((j) => {
      const d = f.set(`d${j}`, sub(y, add(b[j]!, mul(a[j]!, x))));
      return f.set(`w${j}`, add(add(t[j]!, c[j]!), mul(mul(h[j]!, d), d)));
    });
    const mx = f.set(
      'mx',
      w.slice(1).reduce((m, wj) => `(f64x2.max ${m} ${wj})`, w[0]!),
    );
    f.emit(`(br_if $done (i32.eqz (i64x2.all_true (f64x2.lt ${abs(mx)} ${F2(Infinity)}))))`);
    const e = J.map((j) => {
      const u = f.set(`u${j}`, sub(w[j]!, mx));
      return f.set(`e${j}`, `(v128.and ${expv(f, u, `x${j}`)} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
    });
    const g = J.map((j) =>
      f.set(`g${j}`, `(v128.and ${expv(f, t[j]!, `y${j}`)} (f64x2.ge ${t[j]!} ${F2(-EXP_CUTOFF)}))`),
    );
    const s = f.set(
      's',
      e.reduce((acc, t) => add(acc, t)),
    );
    const gs = f.set(
      'gs',
      g.reduce((acc, t) => add(acc, t)),
    );
    f.set('sm', add(f.local('sm'), mx));
    productStep(f, f.set('q', div(s, gs)));
  });
  f.emit(`(v128.store offset=${ACC + 16} (i32.const 0) (local.get $sm))`);
  f.emit(`(v128.store offset=${ACC + 32} (i32.const 0) (local.get $pm))`);
  f.emit(`(v128.store offset=${ACC + 48} (i32.const 0) (local.get $pe))`);
  f.emit('(local.get $p)');
  return f.text();
}

/** scratch: the logits v_j and the joint terms w_j (k f64x2 each); x of the pair at SXP (loadX) */
const SV = SCR;
const SW = SV + 16 * SIMD_K_MAX;
if (SW + 16 * SIMD_K_MAX > SXP) throw new Error("kernels-softmaxll: the scratch regions overlap loadX's SXP");
const JO = '(local.get $jo)';
const LO = '(local.get $lo)';
const slot = (base: number, o8: string): string => `(v128.load offset=${base} (i32.shl ${o8} (i32.const 1)))`;

/**
 * softmaxll2/3 for any k and d (loops over experts and coordinates): v_j = β0_j + Σ_l β1_jl x_l,
 * w_j = (v_j − t) + c_j + h_j (y − (b_j + Σ_l a_jl x_l))², the same shifts, sums and stops.
 * par (GPAR): β0 (k), β1 (k·d), a (k·d), b (k), c (k), h (k). acc: as softmaxll3.
 * softmaxllg_d<d> (under `specialised`, d = 1..4, the ones bound): the loops over the coordinates unrolled
 * and x in locals, the same operations in the same order (softmaxllg's bits); k stays a loop (a kernel
 * unrolled in k too, k = 5, d = 2, was 12–25 % slower per call than softmaxllg_d2: measured, session 20).
 */
function softmaxLogLikG(): string {
  const f = new Fn(
    named('softmaxllg'),
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['k', 'i32'],
      ['d', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  strides(f);
  const k8 = f.local('k8', 'i32');
  const kd8 = imul(k8, '(local.get $d)');
  const pb1 = f.set('pb1', iadd(i32(GPAR), k8), 'i32');
  const pa = f.set('pa', iadd(pb1, kd8), 'i32');
  const pb = f.set('pb', iadd(pa, kd8), 'i32');
  const pc = f.set('pc', iadd(pb, k8), 'i32');
  const ph = f.set('ph', iadd(pc, k8), 'i32');
  f.set('sm', `(v128.load offset=${ACC + 16} (i32.const 0))`);
  f.set('pm', `(v128.load offset=${ACC + 32} (i32.const 0))`);
  f.set('pe', `(v128.load offset=${ACC + 48} (i32.const 0))`);
  pairLoop(f, () => {
    const [xo0, xo1] = rowsX(f);
    loadX(f, xo0, xo1);
    const yv = f.set('yv', rowPair('y'));
    f.set('mg', F2(-Infinity));
    f.set('mx', F2(-Infinity));
    f.set('bad', F2(0));
    f.set('direct', `(v128.not ${F2(0)})`);
    f.set('bo', pb1, 'i32');
    f.set('ao', pa, 'i32');
    loop(f, 'jo', i32(0), k8, 8, () => {
      f.set('v', splat(iadd(i32(GPAR), JO)));
      f.set('mu', splat(iadd(pb, JO)));
      coordLoop(f, 'lo', 0, () => {
        const xl = xAt();
        f.set('v', add(f.local('v'), mul(splat(iadd(f.local('bo', 'i32'), LO)), xl)));
        f.set('mu', add(f.local('mu'), mul(splat(iadd(f.local('ao', 'i32'), LO)), xl)));
      });
      const v = f.local('v');
      const e = f.set('ee', sub(yv, f.local('mu')));
      // the quadratic term alone: the joint term is formed once the shift is known (below)
      f.emit(`(v128.store offset=${SV} (i32.shl ${JO} (i32.const 1)) ${v})`);
      f.emit(`(v128.store offset=${SW} (i32.shl ${JO} (i32.const 1)) ${mul(mul(splat(iadd(ph, JO)), e), e)})`);
      f.set('mg', `(f64x2.pmax ${f.local('mg')} ${v})`);
      f.set('bad', `(v128.or ${f.local('bad')} (f64x2.ne ${v} ${v}))`);
      f.set('direct', `(v128.and ${f.local('direct')} (f64x2.le ${abs(v)} ${F2(GATE_DIRECT)}))`);
      f.set('bo', iadd(f.local('bo', 'i32'), f.local('d8', 'i32')), 'i32');
      f.set('ao', iadd(f.local('ao', 'i32'), f.local('d8', 'i32')), 'i32');
    });
    const shift = f.set('shift', `(v128.andnot ${f.local('mg')} ${f.local('direct')})`);
    // v_j − t (kept in SV for g) and w_j = (v_j − t) + c_j + h_j e_j², as softmaxll2/3 form them
    loop(f, 'jo', i32(0), k8, 8, () => {
      const t = f.set('t', sub(slot(SV, JO), shift));
      f.emit(`(v128.store offset=${SV} (i32.shl ${JO} (i32.const 1)) ${t})`);
      const w = f.set('w', add(add(t, splat(iadd(pc, JO))), slot(SW, JO)));
      f.emit(`(v128.store offset=${SW} (i32.shl ${JO} (i32.const 1)) ${w})`);
      f.set('mx', `(f64x2.pmax ${f.local('mx')} ${w})`);
      f.set('bad', `(v128.or ${f.local('bad')} (f64x2.ne ${w} ${w}))`);
    });
    const finite = (m: string): string => `(f64x2.lt ${abs(m)} ${F2(Infinity)})`;
    const ok = `(v128.andnot (v128.and (v128.or ${f.local('direct')} ${finite(f.local('mg'))}) ${finite(f.local('mx'))}) ${f.local('bad')})`;
    f.emit(`(br_if $done (i32.eqz (i64x2.all_true ${ok})))`);
    const mx = f.local('mx');
    f.set('s', F2(0));
    f.set('g', F2(0));
    loop(f, 'jo', i32(0), k8, 8, () => {
      const u = f.set('u', sub(slot(SW, JO), mx));
      f.set('s', add(f.local('s'), `(v128.and ${expv(f, u, 'x')} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`));
      const t = f.set('t', slot(SV, JO));
      f.set('g', add(f.local('g'), `(v128.and ${expv(f, t, 'z')} (f64x2.ge ${t} ${F2(-EXP_CUTOFF)}))`));
    });
    f.set('sm', add(f.local('sm'), mx));
    productStep(f, f.set('q', div(f.local('s'), f.local('g'))));
  });
  f.emit(`(v128.store offset=${ACC + 16} (i32.const 0) (local.get $sm))`);
  f.emit(`(v128.store offset=${ACC + 32} (i32.const 0) (local.get $pm))`);
  f.emit(`(v128.store offset=${ACC + 48} (i32.const 0) (local.get $pe))`);
  f.emit('(local.get $p)');
  return f.text();
}

export function softmaxLogLikKernels(): string[] {
  // softmaxllg_d<d>: the same kernel specialised to d = 1..4 (the loops over coordinates unrolled, x in locals)
  return [
    softmaxLogLik(2),
    softmaxLogLik(3),
    softmaxLogLikG(),
    ...SPECIALISED_D.map((d) => specialised(d, softmaxLogLikG)),
  ];
}
