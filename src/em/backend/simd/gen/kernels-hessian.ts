/**
 * The SIMD twin of src/em/backend/cpu/hessian.ts (hessRows / sumRow): the softmax gate's exact
 * Hessian as weighted moment sums, any k ≤ 8 and d ≤ 4, two rows per step (lane 0: row 2p, lane 1:
 * row 2p + 1). Per row the same operations in the same order as the JS twin (expCore / logCore bits,
 * terms below −EXP_CUTOFF taken as 0); the sums are added lane by lane at GACC (zeroed by the binding).
 * par (GPAR): β0 (k), β1 (k·d), a (k·d), b (k), c (k), h (k), 1/ν (k). The byte offsets of the sum
 * blocks (hessSumsLayout) are arguments. A row whose gate or expert maximum is ±∞ or NaN makes L NaN
 * (as in the JS twin), so that the caller can fall back to the reference. hessg<d> (d = 1–4, the ones
 * bound): the loops over d and the monomials unrolled, hessg's bits; hessg (any d) is their reference in
 * the tests. hessg<d>_noref: without the sums of the reference expert's gate coordinates (zero there),
 * which a layout that holds its β0 and β1 never reads (HessSumsCall.skipRef).
 */
import { EXP_CUTOFF } from '../../constants.js';
import { GPAR, SCR, SCR_LEN, SPECIALISED_D } from '../layout.js';
import { pairLoop, rowPair } from './kernels.js';
import { accAdd, gather, i32, iadd, imul, loop, rowsX, splat, strides } from './kernels-generic.js';
import { F2, Fn, abs, add, div, expv, logv, mul, sub } from './wat.js';

const K_MAX = 8;
/** scratch slots (16 bytes): gate logits, t_j, r, π, ε, q, gate exponentials, φ, monomials */
const SV = SCR;
const ST = SV + 16 * K_MAX;
const SR = ST + 16 * K_MAX;
const SP = SR + 16 * K_MAX;
const SE = SP + 16 * K_MAX;
const SQ = SE + 16 * K_MAX;
const SG = SQ + 16 * K_MAX;
const SPHI = SG + 16 * K_MAX;
const SZZ = SPHI + 16 * 5;
if (SZZ + 16 * 15 > SCR + 8 * SCR_LEN) throw new Error('kernels-hessian: the scratch regions exceed SCR_LEN');

const JO = '(local.get $jo)';
/**
 * for (idx = from; idx < to; idx += step) body(idx): a loop over the i32 local `name`, or, when `to` is a
 * number (the d-specialised kernels), the body unrolled with constant indices.
 */
function each(
  f: Fn,
  name: string,
  from: string | number,
  to: string | number,
  step: number,
  body: (i: string, c: number) => void,
): void {
  if (typeof to === 'number' && typeof from === 'number') {
    for (let c = from; c < to; c += step) body(i32(c), c);
    return;
  }
  loop(f, name, typeof from === 'number' ? i32(from) : from, typeof to === 'number' ? i32(to) : to, step, () =>
    body(`(local.get $${name})`, -1),
  );
}
/** the f64x2 at scratch region base, slot o8/8 (o8 a byte offset in steps of 8) */
const at = (base: number, o8: string): string => `(v128.load offset=${base} (i32.shl ${o8} (i32.const 1)))`;
const put = (f: Fn, base: number, o8: string, v: string): void =>
  f.emit(`(v128.store offset=${base} (i32.shl ${o8} (i32.const 1)) ${v})`);
/** 1 where the byte offsets a, b are equal, else 0 (both lanes) */
const delta = (a: string, b: string): string => `(select ${F2(1)} ${F2(0)} (i32.eq ${a} ${b}))`;

/** s = Σ_j e_j with e_j = e^(src_j − mx), 0 below −EXP_CUTOFF, stored at dst (the JS twin's expRel loop). */
function expSum(f: Fn, src: number, dst: number): void {
  f.set('s', F2(0));
  loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
    const u = f.set('u', sub(at(src, JO), f.local('mx')));
    const e = f.set('e', `(v128.and ${expv(f, u, 'x')} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
    put(f, dst, JO, e);
    f.set('s', add(f.local('s'), e));
  });
}

/** Per row pair: φ, the monomials, the gate's π and log-sum-exp, the experts' t, ε, q, r; L into `ll`. */
function rowValues(f: Fn, dFix: number | null): void {
  const d8: string | number = dFix === null ? f.local('d8', 'i32') : 8 * dFix;
  const q8: string | number = dFix === null ? f.local('q8', 'i32') : 8 * (dFix + 1);
  const [xo0, xo1] = rowsX(f);
  f.emit(`(v128.store (i32.const ${SPHI}) ${F2(1)})`);
  each(f, 'lo', 0, d8, 8, (lo) => put(f, SPHI + 16, lo, gather(iadd(xo0, lo), iadd(xo1, lo))));
  f.set('zt', i32(SZZ), 'i32');
  const zeta = (la: string, c: number): void => {
    f.set('za', at(SPHI, la));
    each(f, 'lc', typeof q8 === 'number' ? c : la, q8, 8, (lc) => {
      f.emit(`(v128.store ${f.local('zt', 'i32')} ${mul(f.local('za'), at(SPHI, lc))})`);
      f.set('zt', iadd(f.local('zt', 'i32'), i32(16)), 'i32');
    });
  };
  each(f, 'la', 0, q8, 8, zeta);
  const xAt = (lo: string): string => at(SPHI + 16, lo);
  // the gate
  f.set('bad', F2(0));
  f.set('mx', F2(-Infinity));
  f.set('ao', f.local('pb1', 'i32'), 'i32');
  loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
    f.set('v', splat(iadd('(local.get $pb0)', JO)));
    each(f, 'lo', 0, d8, 8, (lo) => {
      f.set('v', add(f.local('v'), mul(splat(iadd(f.local('ao', 'i32'), lo)), xAt(lo))));
    });
    put(f, SV, JO, f.local('v'));
    f.set('mx', `(f64x2.pmax ${f.local('mx')} ${f.local('v')})`);
    f.set('bad', `(v128.or ${f.local('bad')} (f64x2.ne ${f.local('v')} ${f.local('v')}))`);
    f.set('ao', iadd(f.local('ao', 'i32'), f.local('d8', 'i32')), 'i32');
  });
  expSum(f, SV, SG);
  // a row with a NaN term or a maximum ±∞: the JS twin's L is NaN there (pmax skips NaN, the cutoff mask drops it)
  f.set('bad', `(v128.or ${f.local('bad')} (v128.not (f64x2.lt ${abs(f.local('mx'))} ${F2(Infinity)})))`);
  const lsg = f.set('lsg', add(f.local('mx'), logv(f, f.local('s'), 'ls')));
  const inv = f.set('inv', div(F2(1), f.local('s')));
  loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => put(f, SP, JO, mul(at(SG, JO), inv)));
  // the experts
  const yv = f.set('yv', rowPair('y'));
  f.set('mx', F2(-Infinity));
  f.set('ao', f.local('pa', 'i32'), 'i32');
  loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
    f.set('mu', splat(iadd(f.local('pb', 'i32'), JO)));
    each(f, 'lo', 0, d8, 8, (lo) => {
      f.set('mu', add(f.local('mu'), mul(splat(iadd(f.local('ao', 'i32'), lo)), xAt(lo))));
    });
    const e = f.set('ee', sub(yv, f.local('mu')));
    const c = splat(iadd(f.local('pc', 'i32'), JO));
    const h = splat(iadd(f.local('ph', 'i32'), JO));
    const t = f.set('t', add(add(sub(at(SV, JO), lsg), c), mul(mul(h, e), e)));
    put(f, ST, JO, t);
    f.set('mx', `(f64x2.pmax ${f.local('mx')} ${t})`);
    f.set('bad', `(v128.or ${f.local('bad')} (f64x2.ne ${t} ${t}))`);
    const iv = f.set('iv', splat(iadd(f.local('piv', 'i32'), JO)));
    const eps = f.set('eps', mul(e, iv));
    put(f, SE, JO, eps);
    put(f, SQ, JO, mul(mul(sub(mul(e, eps), F2(1)), F2(0.5)), iv));
    f.set('ao', iadd(f.local('ao', 'i32'), f.local('d8', 'i32')), 'i32');
  });
  expSum(f, ST, SR);
  const inv2 = f.set('inv', div(F2(1), f.local('s')));
  loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => put(f, SR, JO, mul(at(SR, JO), inv2)));
  f.set('bad', `(v128.or ${f.local('bad')} (v128.not (f64x2.lt ${abs(f.local('mx'))} ${F2(Infinity)})))`);
  const row = add(f.local('mx'), logv(f, f.local('s'), 'ls'));
  f.set('ll', `(v128.bitselect ${F2(NaN)} ${add(f.local('ll'), row)} ${f.local('bad')})`);
}

/**
 * Per row pair: the coefficients of sumRow times the monomials (mat), φ (vec) or 1, into the sums.
 * `skipRef`: without the sums of the reference's (k − 1) gate coordinates (gg pairs with it, ge and gn
 * with it on the gate side, its gradG), which a layout that holds its β0 and β1 never reads (zero
 * there), their pointers stepped over; every other sum the same operations in the same order.
 */
function rowSums(f: Fn, dFix: number | null, skipRef: boolean): void {
  const nmFix = dFix === null ? 0 : ((dFix + 1) * (dFix + 2)) / 2;
  const nm16: string | number =
    dFix === null ? f.set('nm16', `(i32.sub (local.get $zt) (i32.const ${SZZ}))`, 'i32') : 16 * nmFix;
  const q16: string | number = dFix === null ? f.local('q16', 'i32') : 16 * (dFix + 1);
  const step = (v: string | number): string => (typeof v === 'number' ? i32(v) : v);
  const mat = (ptr: string, c: string): void => {
    const cv = f.set('cm', c);
    const p = f.local(ptr, 'i32');
    each(f, 'so', 0, nm16, 16, (so) => {
      accAdd(f, iadd(p, so), mul(cv, `(v128.load offset=${SZZ} ${so})`));
    });
    f.set(ptr, iadd(p, step(nm16)), 'i32');
  };
  const vec = (ptr: string, c: string): void => {
    const cv = f.set('cv', c);
    const p = f.local(ptr, 'i32');
    each(f, 'so', 0, q16, 16, (so) => {
      accAdd(f, iadd(p, so), mul(cv, `(v128.load offset=${SPHI} ${so})`));
    });
    f.set(ptr, iadd(p, step(q16)), 'i32');
  };
  /** step pointer `ptr` over one sum block of `len16` bytes (the reference's, left out) */
  const over = (ptr: string, len16: string | number): void => {
    if (skipRef) f.set(ptr, iadd(f.local(ptr, 'i32'), step(len16)), 'i32');
  };
  const k8 = f.local('k8', 'i32');
  // the gate side's experts: without the reference, 8(k − 1) (set once in hessG)
  const g8 = skipRef ? f.local('g8', 'i32') : k8;
  const JO2 = '(local.get $j2)';
  // gate × gate, l ≤ l'
  f.set('pg', '(local.get $ogg)', 'i32');
  loop(f, 'jo', i32(0), k8, 8, () => {
    const rl = f.set('rl', at(SR, JO));
    const pl = f.set('pl', at(SP, JO));
    loop(f, 'j2', JO, g8, 8, () => {
      const dl = `(select ${sub(rl, pl)} ${F2(0)} (i32.eq ${JO} ${JO2}))`;
      mat('pg', add(sub(dl, mul(rl, at(SR, JO2))), mul(pl, at(SP, JO2))));
    });
    over('pg', nm16);
  });
  // gate × (a, b)_j and gate × ν_j
  f.set('pg', '(local.get $oge)', 'i32');
  f.set('pv', '(local.get $ogn)', 'i32');
  loop(f, 'jo', i32(0), k8, 8, () => {
    const rj = f.set('rj', at(SR, JO));
    const ej = f.set('ej', at(SE, JO));
    const qj = f.set('qj', at(SQ, JO));
    loop(f, 'j2', i32(0), g8, 8, () => {
      const C = f.set('C', mul(rj, sub(delta(JO, JO2), at(SR, JO2))));
      mat('pg', mul(C, ej));
      vec('pv', mul(C, qj));
    });
    over('pg', nm16);
    over('pv', q16);
  });
  // experts × experts
  f.set('pg', '(local.get $oee)', 'i32');
  f.set('pv', '(local.get $oen)', 'i32');
  f.set('pn', '(local.get $onn)', 'i32');
  loop(f, 'jo', i32(0), k8, 8, () => {
    const rj = f.set('rj', at(SR, JO));
    const ej = f.set('ej', at(SE, JO));
    const qj = f.set('qj', at(SQ, JO));
    const iv = f.set('iv', splat(iadd(f.local('piv', 'i32'), JO)));
    loop(f, 'j2', i32(0), k8, 8, () => {
      const dj = f.set('dj', delta(JO, JO2));
      const C = f.set('C', mul(rj, sub(dj, at(SR, JO2))));
      const drj = f.set('drj', mul(dj, rj));
      vec('pv', sub(mul(mul(C, ej), at(SQ, JO2)), mul(mul(drj, ej), iv)));
      f.emit(`(if (i32.ge_u ${JO2} ${JO}) (then`);
      mat('pg', sub(mul(mul(C, ej), at(SE, JO2)), mul(drj, iv)));
      const pn = f.local('pn', 'i32');
      accAdd(f, pn, add(mul(mul(C, qj), at(SQ, JO2)), mul(mul(drj, iv), sub(mul(F2(0.5), iv), mul(ej, ej)))));
      f.set('pn', iadd(pn, i32(16)), 'i32');
      f.emit('))');
    });
  });
  // the gradient
  f.set('pg', '(local.get $ogg2)', 'i32');
  f.set('pv', '(local.get $oge2)', 'i32');
  f.set('pn', '(local.get $ogn2)', 'i32');
  loop(f, 'jo', i32(0), k8, 8, () => {
    const rl = f.set('rl', at(SR, JO));
    if (skipRef) f.emit(`(if (i32.lt_u ${JO} ${g8}) (then`);
    vec('pg', sub(rl, at(SP, JO)));
    if (skipRef) f.emit('))');
    vec('pv', mul(rl, at(SE, JO)));
    const pn = f.local('pn', 'i32');
    accAdd(f, pn, mul(rl, at(SQ, JO)));
    f.set('pn', iadd(pn, i32(16)), 'i32');
  });
}

/**
 * hessg(x, y, k, d, ogg, oge, oee, ogn, oen, ogg2, oge2, onn, ogn2, oll, start, end): the sums of
 * cpu/hessian.ts over row pairs [start, end); o* are the byte addresses of the blocks (gg, ge, ee,
 * gn, en, gradient gate / experts, nn, gradient ν, L).
 */
function hessG(dFix: number | null, skipRef = false): string {
  const ptrs = ['ogg', 'oge', 'oee', 'ogn', 'oen', 'ogg2', 'oge2', 'onn', 'ogn2', 'oll'];
  const f = new Fn(
    `hessg${dFix ?? ''}${skipRef ? '_noref' : ''}`,
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['k', 'i32'],
      ['d', 'i32'],
      ...ptrs.map((p): [string, 'i32'] => [p, 'i32']),
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    null,
  );
  strides(f);
  const k8 = f.local('k8', 'i32');
  const kd8 = imul(k8, '(local.get $d)');
  f.set('pb0', i32(GPAR), 'i32');
  f.set('pb1', iadd(i32(GPAR), k8), 'i32');
  f.set('pa', iadd(f.local('pb1', 'i32'), kd8), 'i32');
  f.set('pb', iadd(f.local('pa', 'i32'), kd8), 'i32');
  f.set('pc', iadd(f.local('pb', 'i32'), k8), 'i32');
  f.set('ph', iadd(f.local('pc', 'i32'), k8), 'i32');
  f.set('piv', iadd(f.local('ph', 'i32'), k8), 'i32');
  f.set('q8', iadd(f.local('d8', 'i32'), i32(8)), 'i32');
  f.set('q16', iadd(f.local('d16', 'i32'), i32(16)), 'i32');
  if (skipRef) f.set('g8', `(i32.sub ${k8} (i32.const 8))`, 'i32');
  f.set('ll', `(v128.load (local.get $oll))`);
  pairLoop(f, () => {
    rowValues(f, dFix);
    rowSums(f, dFix, skipRef);
  });
  f.emit(`(v128.store (local.get $oll) (local.get $ll))`);
  return f.text();
}

export function hessianKernels(): string[] {
  // hessg<d> for every d the binding takes (d ≤ HESS_SIMD_D_MAX, cpu/hessian.ts)
  return [hessG(null), ...SPECIALISED_D.flatMap((d) => [hessG(d), hessG(d, true)])];
}
