/**
 * The activation (dense-to-sparse) gates' gradient, Fisher curvature and exact-Hessian sums for any
 * k ≤ SIMD_K_MAX and d ≤ SIMD_D_MAX (bias outside σ): `densegradg_<grad>`, one per activation with SIMD
 * emitters, the twin of cpu/activation-grad-g.ts (denseRowsG) term for term. Conventions as the
 * other generic kernels (kernels-generic.ts): two rows per f64x2 step, parameters at GPAR, per-lane
 * sums at GACC (zeroed by the binding), blocks of BLK row pairs at GBLK as gradcurvg's.
 *
 * Per row, with u_l = β1_l·x, [J1_l, Jt_l, H1_l] = [σ′(u_l)/τ, −σ(u_l)/τ, σ″(u_l)/τ] (the
 * activation's emitter at x = 1), R = Σ r, G_l = r_l − Rπ_l, w_t = Σ π_l Jt_l, e_l = Rπ_l(Jt_l − w_t)
 * and c_ll = Rπ_l(1 − π_l), c_ll′ = −Rπ_l π_l′ (l < l′), the sums are weights × monomials of x in
 * three classes (order of the weights within each: below):
 * - × 1: G_l (k), Σ_l G_l Jt_l, then (withCurv) c_ll′ (l ≤ l′), e_l (k), Σ_l e_l Jt_l;
 * - × x_a (d sums each): G_l J1_l (k), then (withCurv) per pair l ≤ l′: c_ll J1_l (l = l′), else
 *   c_ll′ J1_l′ and c_ll′ J1_l; then e_l J1_l (k);
 * - × x_a x_b, a ≤ b (withCurv; d(d+1)/2 each): (c_ll′ J1_l) J1_l′ per pair l ≤ l′, then G_l H1_l (k).
 * The binding (cpu/activation-grad-g.ts) places them in the gradient, the Fisher matrix and the
 * exact Hessian's −Σ G ∇²s.
 */
import { GPAR, SCR, SIMD_D_MAX, SIMD_K_MAX } from '../layout.js';
import { F2, Fn, add, mul, simdOps, sub } from './wat.js';
import type { ActivationSimd } from '../../../../math/activation/types.js';
import { ACTIVATION_DESCRIPTORS } from '../../../../math/activations.js';
import {
  BLOCK_ROW,
  BLOCK_WEIGHTS,
  blockDots,
  blockStrides,
  blockSums,
  gather,
  i32,
  iadd,
  imul,
  loop,
  rowsK,
  splat,
  strides,
  zAt,
} from './kernels-generic.js';

const ROW = BLOCK_ROW;
const WB = BLOCK_WEIGHTS;
/** per-expert scratch (k f64x2 each) after z at SCR: π, Rπ, J1, Jt, H1, G */
const SE = SCR + 16 * (SIMD_D_MAX + 1);
const [S_P, S_RP, S_J1, S_JT, S_H1, S_G] = [0, 1, 2, 3, 4, 5].map((t) => SE + 16 * SIMD_K_MAX * t) as [
  number,
  number,
  number,
  number,
  number,
  number,
];
if (S_G + 16 * SIMD_K_MAX > SCR + 2048) throw new Error('kernels-densegradg: the scratch exceeds SCR_LEN');
const at = (base: number, o8: string): string => `offset=${base} (i32.shl ${o8} (i32.const 1))`;
const ld = (base: number, o8: string): string => `(v128.load ${at(base, o8)})`;
const UO = '(local.get $uo)';
const VO = '(local.get $vo)';

/**
 * densegradg_<grad>: the sums above for one activation. par (GPAR): β1 (k·d), 1/τ.
 * Pure arithmetic: nothing refused, NaN propagates as in JS.
 */
function denseGradG(act: ActivationSimd): string {
  const f = new Fn(
    `densegradg_${act.grad}`,
    [
      ['x', 'i32'],
      ['r', 'i32'],
      ['pi', 'i32'],
      ['k', 'i32'],
      ['d', 'i32'],
      ['withCurv', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    null,
  );
  strides(f);
  const K = '(local.get $k)';
  const WC = '(local.get $withCurv)';
  const k8 = f.local('k8', 'i32');
  const d8 = f.local('d8', 'i32');
  const it = f.set('it', splat(iadd(i32(GPAR), imul(k8, '(local.get $d)'))));
  const pairs = `(i32.shr_u ${imul(K, iadd(K, i32(1)))} (i32.const 1))`;
  const wc = (e: string): string => `(select ${e} (i32.const 0) ${WC})`;
  // weights per class (× 1, × x, × xx) and their byte ends in the block
  const nA = f.set('nA', iadd(iadd(K, i32(1)), wc(iadd(pairs, iadd(K, i32(1))))), 'i32');
  const nB = f.set('nB', iadd(K, wc(iadd(imul(K, K), K))), 'i32');
  const nC = f.set('nC', wc(iadd(pairs, K)), 'i32');
  const endA = f.set('endA', imul(nA, i32(ROW)), 'i32');
  const endB = f.set('endB', iadd(endA, imul(nB, i32(ROW))), 'i32');
  const wEnd = f.set('wEnd', iadd(endB, imul(nC, i32(ROW))), 'i32');
  const { qB, nmB } = blockStrides(f);
  const ops = simdOps(f);
  const BO = '(local.get $bo)';
  const JO = '(local.get $jo)';
  /** store v at the class pointer `ptr` (a local), then advance it one weight */
  const put = (ptr: string, v: string): void => {
    f.emit(`(v128.store offset=${WB} (local.get $${ptr}) ${v})`);
    f.set(ptr, iadd(`(local.get $${ptr})`, i32(ROW)), 'i32');
  };
  const fill = (): void => {
    const [r0, r1] = rowsK(f, 'r', 'ro');
    const [p0, p1] = rowsK(f, 'pi', 'po');
    f.set('R', F2(0));
    loop(f, 'jo', i32(0), k8, 8, () => {
      f.set('R', add(f.local('R'), gather(iadd(r0, JO), iadd(r1, JO))));
    });
    const R = f.local('R');
    f.set('wa', BO, 'i32');
    f.set('wb', iadd(BO, endA), 'i32');
    f.set('wc', iadd(BO, endB), 'i32');
    f.set('gt', F2(0));
    f.set('wt', F2(0));
    f.set('ao', i32(GPAR), 'i32');
    loop(f, 'jo', i32(0), k8, 8, () => {
      // u = β1_l·x from the first product, then J1, Jt, H1 from the emitter at x = 1 (xt = 1/τ)
      const ao = f.local('ao', 'i32');
      f.set('u', mul(splat(ao), zAt(i32(8))));
      loop(f, 'lo', i32(8), d8, 8, () => {
        f.set('u', add(f.local('u'), mul(splat(iadd(ao, '(local.get $lo)')), zAt(iadd('(local.get $lo)', i32(8))))));
      });
      const [j1, jt, h1] = act.coefs(ops, f.local('u'), F2(1), it, it, 'c');
      const pl = f.set('pl', gather(iadd(p0, JO), iadd(p1, JO)));
      const rp = f.set('rp', mul(R, pl));
      const G = f.set('G', sub(gather(iadd(r0, JO), iadd(r1, JO)), rp));
      f.emit(`(v128.store ${at(S_P, JO)} ${pl})`);
      f.emit(`(v128.store ${at(S_RP, JO)} ${rp})`);
      f.emit(`(v128.store ${at(S_J1, JO)} ${j1})`);
      f.emit(`(v128.store ${at(S_JT, JO)} ${jt})`);
      f.emit(`(v128.store ${at(S_H1, JO)} ${h1})`);
      f.emit(`(v128.store ${at(S_G, JO)} ${G})`);
      put('wa', G);
      put('wb', mul(G, j1));
      f.set('gt', add(f.local('gt'), mul(G, jt)));
      f.set('wt', add(f.local('wt'), mul(pl, jt)));
      f.set('ao', iadd(ao, d8), 'i32');
    });
    put('wa', f.local('gt'));
    f.emit(`(if ${WC} (then`);
    loop(f, 'uo', i32(0), k8, 8, () => {
      const ju = f.set('ju', ld(S_J1, UO));
      const rpu = f.set('rpu', ld(S_RP, UO));
      const c = f.set('c', mul(rpu, sub(F2(1), ld(S_P, UO))));
      put('wa', c);
      put('wb', mul(c, ju));
      put('wc', mul(mul(c, ju), ju));
      f.set('nrp', `(f64x2.neg ${rpu})`);
      loop(f, 'vo', iadd(UO, i32(8)), k8, 8, () => {
        const jv = f.set('jv', ld(S_J1, VO));
        const cv = f.set('c', mul(f.local('nrp'), ld(S_P, VO)));
        put('wa', cv);
        put('wb', mul(cv, jv));
        put('wb', mul(cv, ju));
        put('wc', mul(mul(cv, ju), jv));
      });
    });
    f.set('ctt', F2(0));
    loop(f, 'uo', i32(0), k8, 8, () => {
      const jtu = f.set('jtu', ld(S_JT, UO));
      const e = f.set('e', mul(ld(S_RP, UO), sub(jtu, f.local('wt'))));
      put('wa', e);
      put('wb', mul(e, ld(S_J1, UO)));
      f.set('ctt', add(f.local('ctt'), mul(e, jtu)));
    });
    put('wa', f.local('ctt'));
    loop(f, 'uo', i32(0), k8, 8, () => put('wc', mul(ld(S_G, UO), ld(S_H1, UO))));
    f.emit('))');
  };
  blockSums(f, fill, wEnd, () => {
    blockDots(f, i32(0), endA, i32(0), i32(ROW));
    blockDots(f, endA, endB, i32(ROW), qB);
    blockDots(f, endB, wEnd, qB, nmB);
  });
  return f.text();
}

/** densegradg_<grad> for every activation whose descriptor has SIMD emitters, in the registry's order. */
export function denseGradGKernels(): string[] {
  return ACTIVATION_DESCRIPTORS.flatMap((a) => (a.simd ? [denseGradG(a.simd)] : []));
}
