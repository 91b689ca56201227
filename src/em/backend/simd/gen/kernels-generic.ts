/**
 * The generic SIMD kernels: any k ≤ SIMD_K_MAX experts and d ≤ SIMD_D_MAX coordinates, with loops over
 * experts and coordinates inside the kernel and two rows per step (lane 0: row 2p, lane 1: row 2p + 1),
 * as the d = 1, k = 2 / 3 kernels (src/em/backend/simd/gen/kernels.ts: conventions). Each follows its
 * JS twin in src/em/backend/cpu/*.ts operation for operation within a row (the per-row values are the
 * twin's bits); sums over rows are added lane by lane.
 *
 * k and d are arguments; the parameters are at GPAR (written by the bindings), per-pair values that a
 * later loop reads again (log-densities, exponentials, x, monomials) at SCR, and the sum kernels'
 * per-lane accumulators at GACC (zeroed by the kernel; the binding adds lane 0 + lane 1).
 */
import { EXP_CUTOFF, GATE_DIRECT } from '../../constants.js';
import {
  ACC,
  BLK,
  GACC,
  GBLK,
  GBLK_Z_MAX,
  GPAR,
  SCR,
  SCR_LEN,
  SIMD_D_MAX,
  SIMD_K_MAX,
  SPECIALISED_D,
} from '../layout.js';
import { pairLoop, productStep, rowPair } from './kernels.js';
import { F2, Fn, abs, add, div, expv, logv, mul, simdOps, sub } from './wat.js';
import type { ActivationSimd } from '../../../../math/activation/types.js';
import { ACTIVATION_DESCRIPTORS } from '../../../../math/activations.js';

export const i32 = (c: number): string => `(i32.const ${c})`;
export const iadd = (a: string, b: string): string => `(i32.add ${a} ${b})`;
export const imul = (a: string, b: string): string => `(i32.mul ${a} ${b})`;
/** f64x2 of the doubles at byte addresses a (lane 0) and b (lane 1) */
export const gather = (a: string, b: string): string => `(v128.load64_lane 1 ${b} (v128.load64_zero ${a}))`;
export const splat = (a: string): string => `(v128.load64_splat ${a})`;
const load = (a: string): string => `(v128.load ${a})`;
/** lanes of v to byte addresses a (lane 0) and b (lane 1) */
function scatter(f: Fn, a: string, b: string, v: string): void {
  f.emit(`(v128.store64_lane 0 ${a} ${v})`);
  f.emit(`(v128.store64_lane 1 ${b} ${v})`);
}

/** for (name = from; name < to; name += step) body — i32 locals, `to` evaluated every step */
export function loop(f: Fn, name: string, from: string, to: string, step: number, body: () => void): void {
  f.local(name, 'i32');
  f.emit(`(local.set $${name} ${from})`);
  f.emit(`(block $${name}_b (loop $${name}_l`);
  f.emit(`(br_if $${name}_b (i32.ge_u (local.get $${name}) ${to}))`);
  body();
  f.emit(`(local.set $${name} (i32.add (local.get $${name}) (i32.const ${step})))`);
  f.emit(`(br $${name}_l)))`);
}

/**
 * loop()'s body as `count` straight-line copies, $name set before copy c to from + c·step (a byte offset,
 * or an i32 expression to add it to): the same operations without the branches, where the trip count is
 * known when the code is generated. `body` gets c.
 */
export function unrolled(
  f: Fn,
  name: string,
  from: number | string,
  step: number,
  count: number,
  body: (c: number) => void,
): void {
  f.local(name, 'i32');
  for (let c = 0; c < count; c++) {
    const at = typeof from === 'number' ? i32(from + c * step) : iadd(from, i32(c * step));
    f.emit(`(local.set $${name} ${at})`);
    body(c);
  }
}

/** the d of a kernel specialised to it, while its code is generated (else null: loops over $d) */
let dFix: number | null = null;
/** the coordinate index of each unrolled counter while its copy of a body is generated */
const unrolledAt = new Map<string, number>();

/**
 * for $name over coordinates l = from..d − 1 (byte offsets 8l): a loop over $d, or in a kernel
 * specialised to d, straight-line copies of the body with the counter set to the constant 8l (the
 * same operations, no branches). `from`: a coordinate index, or an enclosing coordinate counter's name
 * (from its value).
 */
export function coordLoop(f: Fn, name: string, from: number | string, body: () => void): void {
  if (dFix === null) {
    const start = typeof from === 'number' ? i32(8 * from) : `(local.get $${from})`;
    loop(f, name, start, f.local('d8', 'i32'), 8, body);
    return;
  }
  const l0 = typeof from === 'number' ? from : unrolledAt.get(from)!;
  unrolled(f, name, 8 * l0, 8, dFix - l0, (c) => {
    unrolledAt.set(name, l0 + c);
    body();
  });
  unrolledAt.delete(name);
}

/** A generic kernel specialised to d: its name + `_d<d>`, $d the constant d (strides fold), coordLoop unrolled. */
export function specialised(d: number, gen: () => string): string {
  dFix = d;
  try {
    return gen();
  } finally {
    dFix = null;
  }
}
/** the kernel's name, with the `_d<d>` suffix of a specialised one */
export const named = (name: string): string => (dFix === null ? name : `${name}_d${dFix}`);

/**
 * The byte strides of a kernel's k and d (k8 = 8k, k16 = 16k, d8 = 8d, d16 = 16d), set at entry, and
 * per pair the offsets of rows 2p and 2p + 1 in n × k and n × d row-major matrices.
 */
export function strides(f: Fn): void {
  if (dFix !== null) f.emit(`(local.set $d ${i32(dFix)})`);
  f.set('k8', `(i32.shl (local.get $k) (i32.const 3))`, 'i32');
  f.set('k16', `(i32.shl (local.get $k) (i32.const 4))`, 'i32');
  f.set('d8', `(i32.shl (local.get $d) (i32.const 3))`, 'i32');
  f.set('d16', `(i32.shl (local.get $d) (i32.const 4))`, 'i32');
}
/** rows 2p, 2p + 1 of the n × k matrix at pointer param `ptr`: locals name0, name1 */
export function rowsK(f: Fn, ptr: string, name: string): [string, string] {
  const o0 = f.set(`${name}0`, iadd(`(local.get $${ptr})`, imul('(local.get $p)', f.local('k16', 'i32'))), 'i32');
  return [o0, f.set(`${name}1`, iadd(o0, f.local('k8', 'i32')), 'i32')];
}
/** rows 2p, 2p + 1 of the n × d matrix X */
export function rowsX(f: Fn): [string, string] {
  const o0 = f.set('xo0', iadd('(local.get $x)', imul('(local.get $p)', f.local('d16', 'i32'))), 'i32');
  return [o0, f.set('xo1', iadd(o0, f.local('d8', 'i32')), 'i32')];
}

/** scratch: per-expert values (k f64x2) at SCR and SCR_V; z = (1, x) at SZ, r·dx at SRX, monomials at SZZ */
const SCR_V = SCR + 16 * SIMD_K_MAX;
export const SZ = SCR;
const SDX = SZ + 16 * (SIMD_D_MAX + 1);
const SRX = SDX + 16 * SIMD_K_MAX;
const SZZ = SRX + 16 * SIMD_K_MAX;
/** x of rows 2p, 2p + 1 (d f64x2), for the kernels whose SCR holds per-expert values (also softmaxllg) */
export const SXP = SZZ + (16 * (SIMD_D_MAX + 1) * (SIMD_D_MAX + 2)) / 2;
if (SXP + 16 * SIMD_D_MAX > SCR + 8 * SCR_LEN) throw new Error('kernels-generic: the scratch regions exceed SCR_LEN');

/**
 * x of rows 2p, 2p + 1 into SXP (16 bytes per coordinate): read once per pair, not once per expert;
 * {@link xAt} reads coordinate $lo back.
 */
export function loadX(f: Fn, xo0: string, xo1: string): void {
  coordLoop(f, 'lo', 0, () => {
    const x = gather(iadd(xo0, LO), iadd(xo1, LO));
    // a kernel specialised to d keeps them in locals x0..x{d−1}
    if (dFix !== null) f.set(`x${unrolledAt.get('lo')!}`, x);
    else f.emit(`(v128.store offset=${SXP} (i32.shl ${LO} (i32.const 1)) ${x})`);
  });
}
export const xAt = (): string =>
  dFix !== null ? `(local.get $x${unrolledAt.get('lo')!})` : `(v128.load offset=${SXP} (i32.shl ${LO} (i32.const 1)))`;

const JO = '(local.get $jo)';
const LO = '(local.get $lo)';

/**
 * E-step (cpu/estep.ts eStepRows1 for d1, eStepRowsD otherwise): v_j = log π_j + c_j + h_j e_j² with
 * e_j = (y − b_j) − a_j x (d = 1) or y − (b_j + Σ_l a_jl x_l), shift = the exact maximum (the JS
 * twins' running `v > mx`, f64x2.pmax), r_j = e^(v_j − shift)·(1/Σ), 0 below −708, Q += r log π over
 * r ≠ 0. Stops at a pair where some row's maximum is ±∞ or NaN.
 * par (GPAR): a (k·d), b (k), c (k), h (k). acc: as estep2/3 (Q, Σ shift, product mantissa, exponent).
 */
function eStepG(d1: boolean): string {
  const f = new Fn(
    d1 ? 'estepg1' : named('estepgd'),
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['lp', 'i32'],
      ['r', 'i32'],
      ['k', 'i32'],
      ['d', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  strides(f);
  const pb = f.set('pb', iadd(i32(GPAR), imul(f.local('k8', 'i32'), '(local.get $d)')), 'i32');
  const pc = f.set('pc', iadd(pb, f.local('k8', 'i32')), 'i32');
  const ph = f.set('ph', iadd(pc, f.local('k8', 'i32')), 'i32');
  f.set('q', `(v128.load offset=${ACC} (i32.const 0))`);
  f.set('sm', `(v128.load offset=${ACC + 16} (i32.const 0))`);
  f.set('pm', `(v128.load offset=${ACC + 32} (i32.const 0))`);
  f.set('pe', `(v128.load offset=${ACC + 48} (i32.const 0))`);
  pairLoop(f, () => {
    const [xo0, xo1] = rowsX(f);
    if (!d1) loadX(f, xo0, xo1);
    const yv = f.set('yv', rowPair('y'));
    const xv = d1 ? f.set('xv', gather(xo0, xo1)) : '';
    const [l0, l1] = rowsK(f, 'lp', 'lo');
    f.set('mx', F2(-Infinity));
    f.set('bad', F2(0));
    f.set('ao', i32(GPAR), 'i32');
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      const bj = f.set('bj', splat(iadd(pb, JO)));
      let e: string;
      if (d1) e = f.set('ee', sub(sub(yv, bj), mul(splat(f.local('ao', 'i32')), xv)));
      else {
        f.set('mu', bj);
        coordLoop(f, 'lo', 0, () => {
          const al = splat(iadd(f.local('ao', 'i32'), LO));
          f.set('mu', add(f.local('mu'), mul(al, xAt())));
        });
        e = f.set('ee', sub(yv, f.local('mu')));
      }
      const lpv = gather(iadd(l0, JO), iadd(l1, JO));
      const v = f.set('v', add(add(lpv, splat(iadd(pc, JO))), mul(mul(splat(iadd(ph, JO)), e), e)));
      f.emit(`(v128.store offset=${SCR} (i32.shl ${JO} (i32.const 1)) ${v})`);
      f.set('mx', `(f64x2.pmax ${f.local('mx')} ${v})`);
      f.set('bad', `(v128.or ${f.local('bad')} (f64x2.ne ${v} ${v}))`);
      f.set('ao', iadd(f.local('ao', 'i32'), f.local('d8', 'i32')), 'i32');
    });
    const mx = f.local('mx');
    f.emit(
      `(br_if $done (i32.eqz (i64x2.all_true (v128.andnot (f64x2.lt ${abs(mx)} ${F2(Infinity)}) ${f.local('bad')}))))`,
    );
    f.set('s', F2(0));
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      const u = f.set('u', sub(`(v128.load offset=${SCR} (i32.shl ${JO} (i32.const 1)))`, mx));
      const e = f.set('e', `(v128.and ${expv(f, u, 'x')} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
      f.emit(`(v128.store offset=${SCR} (i32.shl ${JO} (i32.const 1)) ${e})`);
      f.set('s', add(f.local('s'), e));
    });
    const inv = f.set('inv', div(F2(1), f.local('s')));
    const [r0, r1] = rowsK(f, 'r', 'ro');
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      const rr = f.set('rr', mul(`(v128.load offset=${SCR} (i32.shl ${JO} (i32.const 1)))`, inv));
      scatter(f, iadd(r0, JO), iadd(r1, JO), rr);
      const lpv = gather(iadd(l0, JO), iadd(l1, JO));
      f.set('q', add(f.local('q'), `(v128.and ${mul(rr, lpv)} (f64x2.ne ${rr} ${F2(0)}))`));
    });
    f.set('sm', add(f.local('sm'), mx));
    productStep(f, f.local('s'));
  });
  f.emit(`(v128.store offset=${ACC} (i32.const 0) (local.get $q))`);
  f.emit(`(v128.store offset=${ACC + 16} (i32.const 0) (local.get $sm))`);
  f.emit(`(v128.store offset=${ACC + 32} (i32.const 0) (local.get $pm))`);
  f.emit(`(v128.store offset=${ACC + 48} (i32.const 0) (local.get $pe))`);
  f.emit('(local.get $p)');
  return f.text();
}

/**
 * Observed log-likelihood (cpu/loglik.ts logLikRowsG): v_j as estepgd's (y − (b_j + Σ a_jl x_l), also
 * for d = 1), the exact maximum, Σ_j e^(v_j − max) over terms ≥ −708; Σ max and the product of the
 * row sums into acc. Stops at a pair where some row's maximum is ±∞ or NaN. par: as estepg.
 */
function logLikG(): string {
  const f = new Fn(
    'loglikg',
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['lp', 'i32'],
      ['k', 'i32'],
      ['d', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  strides(f);
  const pb = f.set('pb', iadd(i32(GPAR), imul(f.local('k8', 'i32'), '(local.get $d)')), 'i32');
  const pc = f.set('pc', iadd(pb, f.local('k8', 'i32')), 'i32');
  const ph = f.set('ph', iadd(pc, f.local('k8', 'i32')), 'i32');
  f.set('sm', `(v128.load offset=${ACC + 16} (i32.const 0))`);
  f.set('pm', `(v128.load offset=${ACC + 32} (i32.const 0))`);
  f.set('pe', `(v128.load offset=${ACC + 48} (i32.const 0))`);
  pairLoop(f, () => {
    const [xo0, xo1] = rowsX(f);
    loadX(f, xo0, xo1);
    const yv = f.set('yv', rowPair('y'));
    const [l0, l1] = rowsK(f, 'lp', 'lo');
    f.set('mx', F2(-Infinity));
    f.set('bad', F2(0));
    f.set('ao', i32(GPAR), 'i32');
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      f.set('mu', splat(iadd(pb, JO)));
      loop(f, 'lo', i32(0), f.local('d8', 'i32'), 8, () => {
        const al = splat(iadd(f.local('ao', 'i32'), LO));
        f.set('mu', add(f.local('mu'), mul(al, xAt())));
      });
      const e = f.set('ee', sub(yv, f.local('mu')));
      const lpv = gather(iadd(l0, JO), iadd(l1, JO));
      const v = f.set('v', add(add(lpv, splat(iadd(pc, JO))), mul(mul(splat(iadd(ph, JO)), e), e)));
      f.emit(`(v128.store offset=${SCR} (i32.shl ${JO} (i32.const 1)) ${v})`);
      f.set('mx', `(f64x2.pmax ${f.local('mx')} ${v})`);
      f.set('bad', `(v128.or ${f.local('bad')} (f64x2.ne ${v} ${v}))`);
      f.set('ao', iadd(f.local('ao', 'i32'), f.local('d8', 'i32')), 'i32');
    });
    const mx = f.local('mx');
    f.emit(
      `(br_if $done (i32.eqz (i64x2.all_true (v128.andnot (f64x2.lt ${abs(mx)} ${F2(Infinity)}) ${f.local('bad')}))))`,
    );
    f.set('s', F2(0));
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      const u = f.set('u', sub(`(v128.load offset=${SCR} (i32.shl ${JO} (i32.const 1)))`, mx));
      f.set('s', add(f.local('s'), `(v128.and ${expv(f, u, 'x')} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`));
    });
    f.set('sm', add(f.local('sm'), mx));
    productStep(f, f.local('s'));
  });
  f.emit(`(v128.store offset=${ACC + 16} (i32.const 0) (local.get $sm))`);
  f.emit(`(v128.store offset=${ACC + 32} (i32.const 0) (local.get $pm))`);
  f.emit(`(v128.store offset=${ACC + 48} (i32.const 0) (local.get $pe))`);
  f.emit('(local.get $p)');
  return f.text();
}

/**
 * Softmax gate (cpu/softmax-gate.ts softmaxRows1 / softmaxRowsD): v_j = β0_j + Σ_l β1_jl x_l; rows with
 * every |v_j| ≤ 350 take e^v_j directly (shift +0), other rows shift by the exact maximum (terms below
 * −708 are 0); lse = shift + log Σ, log π_j = v_j − lse, π_j = e_j·(1/Σ); Q += r log π over r ≠ 0
 * when withQ. Stops at a pair where a shifted row's maximum is ±∞ or NaN.
 * par (GPAR): β0 (k), β1 (k·d). acc: Q (2 lanes).
 * With an activation (dense<gate>g, d = 1; cpu/activation-gate.ts rowsIdentity / rowsTanh /
 * rowsSigmoid): v_j = σ(β1_j x)·(1/τ) + β0_j; par: β0 (k), β1 (k), 1/τ.
 */
function gateG(act?: ActivationSimd): string {
  const f = new Fn(
    act ? `dense${act.gate}g` : named('gateg'),
    [
      ['x', 'i32'],
      ['lp', 'i32'],
      ['pi', 'i32'],
      ['r', 'i32'],
      ['withQ', 'i32'],
      ['k', 'i32'],
      ['d', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  strides(f);
  const pb1 = f.set('pb1', iadd(i32(GPAR), f.local('k8', 'i32')), 'i32');
  f.set('q', `(v128.load offset=${ACC} (i32.const 0))`);
  const it = act ? f.set('it', splat(iadd(pb1, f.local('k8', 'i32')))) : '';
  const ops = simdOps(f);
  pairLoop(f, () => {
    const [xo0, xo1] = rowsX(f);
    if (!act) loadX(f, xo0, xo1);
    const xv = act ? f.set('xv', gather(xo0, xo1)) : '';
    f.set('mx', F2(-Infinity));
    f.set('bad', F2(0));
    f.set('direct', `(v128.not ${F2(0)})`);
    f.set('ao', pb1, 'i32');
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      if (act) {
        // d = 1: σ(β1_j x)·(1/τ) + β0_j, σ from the activation's emitter
        const u = f.set('ua', mul(splat(iadd(pb1, JO)), xv));
        f.set('v', add(mul(act.sigma(ops, u, 'sa'), it), splat(iadd(i32(GPAR), JO))));
      } else {
        f.set('v', splat(iadd(i32(GPAR), JO)));
        coordLoop(f, 'lo', 0, () => {
          const bl = splat(iadd(f.local('ao', 'i32'), LO));
          f.set('v', add(f.local('v'), mul(bl, xAt())));
        });
      }
      const v = f.local('v');
      f.emit(`(v128.store offset=${SCR_V} (i32.shl ${JO} (i32.const 1)) ${v})`);
      f.set('mx', `(f64x2.pmax ${f.local('mx')} ${v})`);
      f.set('bad', `(v128.or ${f.local('bad')} (f64x2.ne ${v} ${v}))`);
      f.set('direct', `(v128.and ${f.local('direct')} (f64x2.le ${abs(v)} ${F2(GATE_DIRECT)}))`);
      f.set('ao', iadd(f.local('ao', 'i32'), f.local('d8', 'i32')), 'i32');
    });
    const direct = f.local('direct');
    // a shifted row needs a finite maximum and no NaN (direct rows have neither)
    const ok = `(v128.andnot (f64x2.lt ${abs(f.local('mx'))} ${F2(Infinity)}) ${f.local('bad')})`;
    f.emit(`(br_if $done (i32.eqz (i64x2.all_true (v128.or ${direct} ${ok}))))`);
    const mx = f.set('sh', `(v128.andnot ${f.local('mx')} ${direct})`);
    f.set('s', F2(0));
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      const u = f.set('u', sub(`(v128.load offset=${SCR_V} (i32.shl ${JO} (i32.const 1)))`, mx));
      const e = f.set('e', `(v128.and ${expv(f, u, 'x')} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
      f.emit(`(v128.store offset=${SCR} (i32.shl ${JO} (i32.const 1)) ${e})`);
      f.set('s', add(f.local('s'), e));
    });
    const lse = f.set('lse', add(mx, logv(f, f.local('s'), 'ls')));
    const inv = f.set('inv', div(F2(1), f.local('s')));
    const [l0, l1] = rowsK(f, 'lp', 'lo');
    const [p0, p1] = rowsK(f, 'pi', 'po');
    const [r0, r1] = rowsK(f, 'r', 'ro');
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      const l = f.set('l', sub(`(v128.load offset=${SCR_V} (i32.shl ${JO} (i32.const 1)))`, lse));
      scatter(f, iadd(l0, JO), iadd(l1, JO), l);
      scatter(f, iadd(p0, JO), iadd(p1, JO), mul(`(v128.load offset=${SCR} (i32.shl ${JO} (i32.const 1)))`, inv));
      f.emit('(if (local.get $withQ) (then');
      const rr = f.set('rr', gather(iadd(r0, JO), iadd(r1, JO)));
      f.set('q', add(f.local('q'), `(v128.and ${mul(rr, l)} (f64x2.ne ${rr} ${F2(0)}))`));
      f.emit('))');
    });
  });
  f.emit(`(v128.store offset=${ACC} (i32.const 0) (local.get $q))`);
  f.emit('(local.get $p)');
  return f.text();
}

/**
 * The gate rows with a mask or given logits (cpu/softmax-gate.ts gateRowsTwin): v_j = β0_j + Σ β1_jl x_l
 * when linear ≠ 0, else the logits already in lp; active experts: mask byte ≠ 0 when useMask ≠ 0, else
 * all. Shift = the exact maximum over the active ones, e_j = e^(v_j − shift) (0 below −708 and for
 * inactive experts), lse = shift + log Σ; log π_j = v_j − lse (−∞ inactive), π_j = e_j·(1/Σ); Q += r log π
 * over r ≠ 0 when withQ (−∞ for an inactive expert with r ≠ 0). Stops at a pair where some row's
 * maximum over its active experts is ±∞ or NaN (or it has none).
 * par (GPAR): β0 (k), β1 (k·d) (linear only). acc: Q (2 lanes).
 */
function gateRowsG(): string {
  const f = new Fn(
    'gatemg',
    [
      ['x', 'i32'],
      ['lp', 'i32'],
      ['pi', 'i32'],
      ['r', 'i32'],
      ['withQ', 'i32'],
      ['mask', 'i32'],
      ['useMask', 'i32'],
      ['linear', 'i32'],
      ['k', 'i32'],
      ['d', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  strides(f);
  const pb1 = f.set('pb1', iadd(i32(GPAR), f.local('k8', 'i32')), 'i32');
  const ONES = `(v128.not ${F2(0)})`;
  f.set('q', `(v128.load offset=${ACC} (i32.const 0))`);
  const slot = (base: number): string => `offset=${base} (i32.shl ${JO} (i32.const 1))`;
  pairLoop(f, () => {
    const [xo0, xo1] = rowsX(f);
    f.emit('(if (local.get $linear) (then');
    loadX(f, xo0, xo1);
    f.emit('))');
    const [l0, l1] = rowsK(f, 'lp', 'lo');
    // the mask's rows 2p, 2p + 1 (k bytes each)
    const m0 = f.set(
      'm0',
      iadd('(local.get $mask)', imul('(local.get $p)', `(i32.shl (local.get $k) (i32.const 1))`)),
      'i32',
    );
    const m1 = f.set('m1', iadd(m0, '(local.get $k)'), 'i32');
    f.set('mx', F2(-Infinity));
    f.set('bad', F2(0));
    f.set('ao', pb1, 'i32');
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      f.emit('(if (local.get $linear) (then');
      f.set('v', splat(iadd(i32(GPAR), JO)));
      loop(f, 'lo', i32(0), f.local('d8', 'i32'), 8, () => {
        const bl = splat(iadd(f.local('ao', 'i32'), LO));
        f.set('v', add(f.local('v'), mul(bl, xAt())));
      });
      f.emit(') (else');
      f.set('v', gather(iadd(l0, JO), iadd(l1, JO)));
      f.emit('))');
      const v = f.local('v');
      // active lanes: i64 lanes of the two mask bytes, compared with 0
      const jb = '(i32.shr_u (local.get $jo) (i32.const 3))';
      const bytes = `(i64x2.replace_lane 1 (i64x2.splat (i64.load8_u ${iadd(m0, jb)})) (i64.load8_u ${iadd(m1, jb)}))`;
      const act = f.set(
        'act',
        `(select ${ONES} (v128.not (i64x2.eq ${bytes} ${F2(0)})) (i32.eqz (local.get $useMask)))`,
      );
      f.emit(`(v128.store ${slot(SCR_V)} ${v})`);
      f.emit(`(v128.store ${slot(SCR)} ${act})`);
      f.set('mx', `(f64x2.pmax ${f.local('mx')} (v128.bitselect ${v} ${F2(-Infinity)} ${act}))`);
      f.set('bad', `(v128.or ${f.local('bad')} (v128.and ${act} (f64x2.ne ${v} ${v})))`);
      f.set('ao', iadd(f.local('ao', 'i32'), f.local('d8', 'i32')), 'i32');
    });
    const mx = f.local('mx');
    f.emit(
      `(br_if $done (i32.eqz (i64x2.all_true (v128.andnot (f64x2.lt ${abs(mx)} ${F2(Infinity)}) ${f.local('bad')}))))`,
    );
    f.set('s', F2(0));
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      const u = f.set('u', sub(`(v128.load ${slot(SCR_V)})`, mx));
      const keep = `(v128.and (v128.load ${slot(SCR)}) (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`;
      const e = f.set('e', `(v128.and ${expv(f, u, 'x')} ${keep})`);
      f.emit(`(v128.store ${slot(SZZ)} ${e})`);
      f.set('s', add(f.local('s'), e));
    });
    const lse = f.set('lse', add(mx, logv(f, f.local('s'), 'ls')));
    const inv = f.set('inv', div(F2(1), f.local('s')));
    const [p0, p1] = rowsK(f, 'pi', 'po');
    const [r0, r1] = rowsK(f, 'r', 'ro');
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      const l = f.set(
        'l',
        `(v128.bitselect ${sub(`(v128.load ${slot(SCR_V)})`, lse)} ${F2(-Infinity)} (v128.load ${slot(SCR)}))`,
      );
      scatter(f, iadd(l0, JO), iadd(l1, JO), l);
      scatter(f, iadd(p0, JO), iadd(p1, JO), mul(`(v128.load ${slot(SZZ)})`, inv));
      f.emit('(if (local.get $withQ) (then');
      const rr = f.set('rr', gather(iadd(r0, JO), iadd(r1, JO)));
      f.set('q', add(f.local('q'), `(v128.and ${mul(rr, l)} (f64x2.ne ${rr} ${F2(0)}))`));
      f.emit('))');
    });
  });
  f.emit(`(v128.store offset=${ACC} (i32.const 0) (local.get $q))`);
  f.emit('(local.get $p)');
  return f.text();
}

/** acc[a] += t for the per-lane accumulator at byte address a (i32 expression) */
export function accAdd(f: Fn, a: string, t: string): void {
  f.emit(`(v128.store ${a} ${add(load(a), t)})`);
}

/** z = (1, x_1..x_d) of rows 2p, 2p + 1 into SZ (16 bytes each) */
export function loadZ(f: Fn): void {
  const [xo0, xo1] = rowsX(f);
  f.emit(`(v128.store (i32.const ${SZ}) ${F2(1)})`);
  coordLoop(f, 'lo', 0, () => {
    f.emit(`(v128.store offset=${SZ + 16} (i32.shl ${LO} (i32.const 1)) ${gather(iadd(xo0, LO), iadd(xo1, LO))})`);
  });
}
export const zAt = (l8: string, base = SZ): string => `(v128.load offset=${base} (i32.shl ${l8} (i32.const 1)))`;

/**
 * Shifted one-pass moments (cpu/moments.ts momentsRows1 / momentsRowsD, their terms): per expert j, with
 * dx = x − shX_j, dy = y − shY_j and m = 3 + 2d + d(d+1)/2 sums: N = Σr, Σ r dx (d), Σ r dy,
 * Σ r dx_a dx_c (a ≤ c, row by row), Σ r dx dy (d), Σ r dy². par (GPAR): shX (k·d), shY (k).
 * Sums (two lanes each) at GACC, expert by expert, zeroed by the binding; rows with r = 0 add ±0.
 */
function momentsG(): string {
  const f = new Fn(
    named('momentsg'),
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['r', 'i32'],
      ['k', 'i32'],
      ['d', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    null,
  );
  strides(f);
  const psy = f.set('psy', iadd(i32(GPAR), imul(f.local('k8', 'i32'), '(local.get $d)')), 'i32');
  pairLoop(f, () => {
    loadZ(f);
    const yv = f.set('yv', rowPair('y'));
    const [r0, r1] = rowsK(f, 'r', 'ro');
    f.set('ap', i32(GACC), 'i32');
    f.set('so', i32(GPAR), 'i32');
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      const rv = f.set('rv', gather(iadd(r0, JO), iadd(r1, JO)));
      const dy = f.set('dy', sub(yv, splat(iadd(psy, JO))));
      const ap = f.local('ap', 'i32');
      if (dFix !== null) return momentsFixed(f, dFix, rv, dy);
      accAdd(f, ap, rv);
      f.set('ap', iadd(ap, i32(16)), 'i32');
      coordLoop(f, 'lo', 0, () => {
        const dx = f.set('dx', sub(zAt(LO, SZ + 16), splat(iadd(f.local('so', 'i32'), LO))));
        const rx = f.set('rx', mul(rv, dx));
        f.emit(`(v128.store offset=${SDX} (i32.shl ${LO} (i32.const 1)) ${dx})`);
        f.emit(`(v128.store offset=${SRX} (i32.shl ${LO} (i32.const 1)) ${rx})`);
        accAdd(f, ap, rx);
        f.set('ap', iadd(ap, i32(16)), 'i32');
      });
      const ry = f.set('ry', mul(rv, dy));
      accAdd(f, ap, ry);
      f.set('ap', iadd(ap, i32(16)), 'i32');
      coordLoop(f, 'la', 0, () => {
        f.set('rxa', zAt('(local.get $la)', SRX));
        coordLoop(f, 'lc', 'la', () => {
          accAdd(f, ap, mul(f.local('rxa'), zAt('(local.get $lc)', SDX)));
          f.set('ap', iadd(ap, i32(16)), 'i32');
        });
      });
      coordLoop(f, 'la', 0, () => {
        accAdd(f, ap, mul(zAt('(local.get $la)', SRX), dy));
        f.set('ap', iadd(ap, i32(16)), 'i32');
      });
      accAdd(f, ap, mul(ry, dy));
      f.set('ap', iadd(ap, i32(16)), 'i32');
      f.set('so', iadd(f.local('so', 'i32'), f.local('d8', 'i32')), 'i32');
    });
  });
  return f.text();
}

/**
 * One expert's moment sums of a row pair in momentsg_d<d>: momentsG's terms and order, dx and r·dx in
 * locals instead of scratch, each sum at a constant offset from $ap (then $ap past the expert's).
 */
function momentsFixed(f: Fn, d: number, rv: string, dy: string): void {
  const ap = f.local('ap', 'i32');
  let t = 0;
  const acc = (v: string): void => {
    f.emit(`(v128.store offset=${16 * t} ${ap} ${add(`(v128.load offset=${16 * t} ${ap})`, v)})`);
    t++;
  };
  acc(rv);
  const dx: string[] = [],
    rx: string[] = [];
  for (let l = 0; l < d; l++) {
    dx.push(f.set(`dx${l}`, sub(zAt(i32(8 * l), SZ + 16), splat(iadd(f.local('so', 'i32'), i32(8 * l))))));
    rx.push(f.set(`rx${l}`, mul(rv, dx[l]!)));
    acc(rx[l]!);
  }
  const ry = f.set('ry', mul(rv, dy));
  acc(ry);
  for (let a = 0; a < d; a++) for (let c = a; c < d; c++) acc(mul(rx[a]!, dx[c]!));
  for (let a = 0; a < d; a++) acc(mul(rx[a]!, dy));
  acc(mul(ry, dy));
  f.set('ap', iadd(ap, i32(16 * t)), 'i32');
  f.set('so', iadd(f.local('so', 'i32'), i32(8 * d)), 'i32');
}

/**
 * Linear gate gradient and Gauss–Newton curvature sums (cpu/gradcurv.ts gradCurvRows1 / gradCurvRowsD,
 * their terms) for the free experts u < nf, whose byte offsets 8j are at GPAR (as doubles):
 * R = Σ_j r_j, z = (1, x), G_u = r_u − R π_u; per u the q = d + 1 sums Σ G_u z_a, then (withCurv) per
 * pair u ≤ v the (d+1)(d+2)/2 sums Σ c_uv z_a z_b (a ≤ b) with c_uu = Rπ_u(1 − π_u),
 * c_uv = −Rπ_u π_v. Sums (two lanes each) at GACC, zeroed by the binding.
 *
 * Blocked (why: one read-modify-write of memory per term and row was the cost at k = 8, d = 4): the
 * weights w_t (G_u, then c_uv) and monomials (z_a z_b, a ≤ b; the first q are z itself) of BLK row
 * pairs go to GBLK; then per weight its BLK values sit in registers and each of its sums is a dot
 * product over the block (unrolled), added to GACC once per block. The terms are the JS twin's
 * bits; only the order of the sums over rows differs (rows of a block in two interleaved partial sums).
 */
function gradCurvG(): string {
  const f = new Fn(
    named('gradcurvg'),
    [
      ['x', 'i32'],
      ['r', 'i32'],
      ['pi', 'i32'],
      ['k', 'i32'],
      ['d', 'i32'],
      ['nf', 'i32'],
      ['withCurv', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    null,
  );
  strides(f);
  const f8 = f.set('f8', `(i32.shl (local.get $nf) (i32.const 3))`, 'i32');
  const fj = (uo: string): string => `(i32.trunc_f64_s (f64.load offset=${GPAR} ${uo}))`;
  const { qB, nmB } = blockStrides(f);
  const nw = `(i32.add (local.get $nf) (select (i32.shr_u ${imul('(local.get $nf)', iadd('(local.get $nf)', i32(1)))} (i32.const 1)) (i32.const 0) (local.get $withCurv)))`;
  const wEnd = f.set('wEnd', imul(nw, i32(BLOCK_ROW)), 'i32');
  const gEnd = f.set('gEnd', imul('(local.get $nf)', i32(BLOCK_ROW)), 'i32');
  const fill = (): void => {
    const [r0, r1] = rowsK(f, 'r', 'ro');
    const [p0, p1] = rowsK(f, 'pi', 'po');
    f.set('R', F2(0));
    loop(f, 'jo', i32(0), f.local('k8', 'i32'), 8, () => {
      f.set('R', add(f.local('R'), gather(iadd(r0, JO), iadd(r1, JO))));
    });
    const R = f.local('R');
    f.set('wt', '(local.get $bo)', 'i32');
    const wt = f.local('wt', 'i32');
    const put = (v: string): void => {
      f.emit(`(v128.store offset=${WB} ${wt} ${v})`);
      f.set('wt', iadd(wt, i32(BLOCK_ROW)), 'i32');
    };
    loop(f, 'uo', i32(0), f8, 8, () => {
      const j = f.set('fj', fj('(local.get $uo)'), 'i32');
      const pu = f.set('pu', gather(iadd(p0, j), iadd(p1, j)));
      f.emit(`(v128.store offset=${SDX} (i32.shl (local.get $uo) (i32.const 1)) ${pu})`);
      f.emit(`(v128.store offset=${SRX} (i32.shl (local.get $uo) (i32.const 1)) ${mul(R, pu)})`);
      put(sub(gather(iadd(r0, j), iadd(r1, j)), mul(R, pu)));
    });
    f.emit('(if (local.get $withCurv) (then');
    loop(f, 'uo', i32(0), f8, 8, () => {
      const pu = f.set('pu', zAt('(local.get $uo)', SDX));
      const rp = f.set('rp', zAt('(local.get $uo)', SRX));
      put(mul(rp, sub(F2(1), pu)));
      f.set('nrp', `(f64x2.neg ${rp})`);
      loop(f, 'vo', iadd('(local.get $uo)', i32(8)), f8, 8, () => {
        put(mul(f.local('nrp'), zAt('(local.get $vo)', SDX)));
      });
    });
    f.emit('))');
  };
  // the dot products: the gradient rows with the q monomials (1, x), then the pairs with all of them
  const q = dFix === null ? undefined : dFix + 1;
  blockSums(f, fill, wEnd, () => {
    blockDots(f, i32(0), gEnd, i32(0), qB, q);
    blockDots(f, gEnd, wEnd, i32(0), nmB, q === undefined ? undefined : (q * (q + 1)) / 2);
  });
  return f.text();
}

/** bytes of one weight's (or monomial's) block of BLK f64x2 in GBLK */
export const BLOCK_ROW = 16 * BLK;
/** the monomials' blocks at GBLK, then the weights' */
const ZB = GBLK;
const WB = GBLK + BLOCK_ROW * GBLK_Z_MAX;
export const BLOCK_WEIGHTS = WB;

/**
 * Locals of a blocked sum kernel (after strides): q8 = 8(d + 1); the byte ends of the q monomials
 * (1, x) and of all (d+1)(d+2)/2 in a block (qB, nmB); zEnd, laEnd: the monomials the call forms
 * (all with $withCurv, else 1, x).
 */
export function blockStrides(f: Fn): { q8: string; qB: string; nmB: string } {
  const q8 = f.set('q8', iadd(f.local('d8', 'i32'), i32(8)), 'i32');
  const d1 = iadd('(local.get $d)', i32(1));
  const qB = f.set('qB', imul(d1, i32(BLOCK_ROW)), 'i32');
  const nm = `(i32.shr_u ${imul(d1, iadd('(local.get $d)', i32(2)))} (i32.const 1))`;
  const nmB = f.set('nmB', imul(nm, i32(BLOCK_ROW)), 'i32');
  f.set('zEnd', `(select ${nmB} ${qB} (local.get $withCurv))`, 'i32');
  f.set('laEnd', `(select ${q8} (i32.const 8) (local.get $withCurv))`, 'i32');
  return { q8, qB, nmB };
}

/**
 * The row-pair loop of a blocked sum kernel (gradcurvg, densegradg_*): per block of BLK pairs from
 * $start, each pair's z = (1, x) into SZ and its monomials z_a z_c (a ≤ c) into its slot ($bo, 16
 * bytes per pair) of each monomial's block, then `fill` writes its weights (at BLOCK_WEIGHTS + $bo,
 * one block per weight); a short last block's empty slots are zeroed (no stale value enters a sum);
 * then `sums` (blockDots) adds the block to GACC. Needs blockStrides' locals.
 */
export function blockSums(f: Fn, fill: () => void, wEnd: string, sums: () => void): void {
  const P = '(local.get $p)';
  const BO = '(local.get $bo)';
  f.local('p', 'i32');
  f.emit('(local.set $p (local.get $start))');
  f.emit('(block $done (loop $L');
  f.emit(`(br_if $done (i32.ge_u ${P} (local.get $end)))`);
  const left = `(i32.sub (local.get $end) ${P})`;
  f.set(
    'nb16',
    `(i32.shl (select (i32.const ${BLK}) ${left} (i32.gt_u ${left} (i32.const ${BLK}))) (i32.const 4))`,
    'i32',
  );
  loop(f, 'bo', i32(0), f.local('nb16', 'i32'), 16, () => {
    loadZ(f);
    f.set('zt', BO, 'i32');
    loop(f, 'la', i32(0), '(local.get $laEnd)', 8, () => {
      f.set('za', zAt('(local.get $la)'));
      loop(f, 'lc', '(local.get $la)', '(local.get $q8)', 8, () => {
        f.emit(`(v128.store offset=${ZB} ${f.local('zt', 'i32')} ${mul(f.local('za'), zAt('(local.get $lc)'))})`);
        f.set('zt', iadd(f.local('zt', 'i32'), i32(BLOCK_ROW)), 'i32');
      });
    });
    fill();
    f.set('p', iadd(P, i32(1)), 'i32');
  });
  loop(f, 'bo', f.local('nb16', 'i32'), i32(BLOCK_ROW), 16, () => {
    loop(f, 'zt', BO, '(local.get $zEnd)', BLOCK_ROW, () =>
      f.emit(`(v128.store offset=${ZB} (local.get $zt) ${F2(0)})`),
    );
    loop(f, 'wz', BO, wEnd, BLOCK_ROW, () => f.emit(`(v128.store offset=${WB} (local.get $wz) ${F2(0)})`));
  });
  f.set('ap', i32(GACC), 'i32');
  sums();
  f.emit('(br $L)))');
}

/**
 * The per-lane sums Σ_block w_t·Z_s for the weights [wFrom, wTo) × the monomials [zFrom, zTo) (byte
 * offsets in their blocks), each added to the accumulator at $ap (then the next): the weight's BLK
 * values in registers, the block's rows in two interleaved partial sums. `zCount`: the number of
 * monomials when it is known here (a kernel specialised to d): their loop unrolled.
 */
export function blockDots(f: Fn, wFrom: string, wTo: string, zFrom: string, zTo: string, zCount?: number): void {
  const ap = f.local('ap', 'i32');
  loop(f, 'wo', wFrom, wTo, BLOCK_ROW, () => {
    const w = Array.from({ length: BLK }, (_, b) =>
      f.set(`w${b}`, `(v128.load offset=${WB + 16 * b} (local.get $wo))`),
    );
    const dot = (): void => {
      const zb = (b: number): string => `(v128.load offset=${ZB + 16 * b} (local.get $zo))`;
      f.set('s0', mul(w[0]!, zb(0)));
      f.set('s1', mul(w[1]!, zb(1)));
      for (let b = 2; b < BLK; b++) f.set(`s${b & 1}`, add(f.local(`s${b & 1}`), mul(w[b]!, zb(b))));
      accAdd(f, ap, add(f.local('s0'), f.local('s1')));
      f.set('ap', iadd(ap, i32(16)), 'i32');
    };
    if (zCount === undefined) loop(f, 'zo', zFrom, zTo, BLOCK_ROW, dot);
    else unrolled(f, 'zo', zFrom, BLOCK_ROW, zCount, dot);
  });
}

export function genericKernels(): string[] {
  return [
    eStepG(true),
    eStepG(false),
    logLikG(),
    gateG(),
    // dense<gate>g: the activation gates, d = 1, any k, for each activation with SIMD emitters
    ...ACTIVATION_DESCRIPTORS.flatMap((a) => (a.simd ? [gateG(a.simd)] : [])),
    gateRowsG(),
    momentsG(),
    gradCurvG(),
    // the same kernels specialised to d = 1..4 (estepg1 is d = 1's E-step)
    ...SPECIALISED_D.flatMap((d) => [
      specialised(d, () => gateG()),
      ...(d > 1 ? [specialised(d, () => eStepG(false))] : []),
      specialised(d, () => momentsG()),
      specialised(d, () => gradCurvG()),
    ]),
  ];
}
