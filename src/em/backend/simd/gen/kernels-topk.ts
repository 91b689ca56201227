/**
 * Top-K gate kernel (d = 1, k = 3): see src/em/backend/simd/gen/kernels.ts for the conventions. The SIMD twin
 * of topkGateRows1k3 (src/em/backend/cpu/topk-gate.ts) for rows whose active logits are finite, driven
 * by src/em/backend/cpu/topk-gate.ts (binding topkSimd).
 */
import { EXP_CUTOFF as CUTOFF } from '../../constants.js';
import { ACC, PAR } from '../layout.js';
import { loadCols, matPair, pairLoop, rowPair, storeCols } from './kernels.js';
import { F2, Fn, I2, abs, add, div, expv, logv, mul, sub } from './wat.js';

const and = (a: string, b: string): string => `(v128.and ${a} ${b})`;
const or = (a: string, b: string): string => `(v128.or ${a} ${b})`;
const not = (a: string): string => `(v128.not ${a})`;
const gt = (a: string, b: string): string => `(f64x2.gt ${a} ${b})`;
/** lanes of a where m is set, else b */
const sel = (a: string, b: string, m: string): string => `(v128.bitselect ${a} ${b} ${m})`;
/** both lanes all ones when the i32 `c` is non-zero */
const splatBool = (c: string): string =>
  `(i64x2.splat (i64.sub (i64.const 0) (i64.extend_i32_u (i32.ne ${c} (i32.const 0)))))`;

/**
 * Top-K gate for d = 1, k = 3 (cpu/topk-gate.ts topkGateRows1k3): u_j = β1_j x, v_j = β0_j + u_j; when
 * compute ≠ 0 the active set is ranked on v (on u when slope ≠ 0) with topKMask's comparisons
 * (first maximum first, then the first maximum of the rest in index order; NaN never displaces a
 * chosen expert) and written to mask (3 bytes per row), else read from it (a byte ≠ 0 is active);
 * mx = the first maximum of the active logits, e_j = e^(v_j − mx) (0 below −708, 0 for inactive),
 * s = e0 + e1 + e2, lse = mx + log s, log π_j = v_j − lse (−∞ for inactive), π_j = e_j·(1/s), and,
 * when withQ ≠ 0, Q += r_j log π_j over the r_j ≠ 0. Stops at a pair where some row has no active
 * expert or an active logit that is not finite (the JS kernel's corner cases): otherwise the active
 * maximum's term is exactly 1 (expCore(0) = 1) and s ∈ [1, 3], so no branch on the data is needed.
 * par: β0 (3), β1 (3). acc: Q (2 lanes). compute, K, slope and withQ are loop-invariant.
 */
function topk3(): string {
  const f = new Fn(
    'topk3',
    [
      ['x', 'i32'],
      ['lp', 'i32'],
      ['pi', 'i32'],
      ['mask', 'i32'],
      ['r', 'i32'],
      ['compute', 'i32'],
      ['K', 'i32'],
      ['slope', 'i32'],
      ['withQ', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  const par = (i: number): string => f.set(`par${i}`, `(v128.load64_splat offset=${PAR + 8 * i} (i32.const 0))`);
  const J = [0, 1, 2];
  const c = J.map((j) => par(j)),
    s = J.map((j) => par(3 + j));
  // the JS kernel's K cases as lane masks: K ≥ 3 keeps all, K = 1 the first pick, else two picks
  const k1 = f.set('k1', splatBool('(i32.eq (local.get $K) (i32.const 1))'));
  const k3 = f.set('k3', splatBool('(i32.ge_s (local.get $K) (i32.const 3))'));
  const k2 = f.set('k2', not(or(k1, k3)));
  const sl = f.set('sl', splatBool('(local.get $slope)'));
  f.set('q', `(v128.load offset=${ACC} (i32.const 0))`);
  pairLoop(f, () => {
    const x = f.set('xi', rowPair('x'));
    const u = J.map((j) => f.set(`u${j}`, mul(s[j]!, x)));
    const v = J.map((j) => f.set(`v${j}`, add(c[j]!, u[j]!)));
    // the mask's bytes of rows (2p, 2p + 1): 6 bytes from mask + 6p
    const mo = f.set('mo', '(i32.add (local.get $mask) (i32.mul (local.get $p) (i32.const 6)))', 'i32');
    const a = J.map((j) => f.local(`a${j}`));
    f.emit('(if (local.get $compute) (then');
    {
      const rk = J.map((j) => f.set(`rk${j}`, sel(u[j]!, v[j]!, sl)));
      const g10 = f.set('g10', gt(rk[1]!, rk[0]!));
      const g20 = f.set('g20', gt(rk[2]!, rk[0]!));
      const g21 = f.set('g21', gt(rk[2]!, rk[1]!));
      // first pick: 1 if r1 > r0; then 2 if r2 > (r1 or r0, whichever is the running maximum)
      const f2 = f.set('f2', sel(g21, g20, g10));
      const f1 = f.set('f1', and(g10, not(f2)));
      const f0 = f.set('f0', not(or(g10, f2)));
      // K = 2: the one left out is the loser of the comparison between the two others
      const n0 = or(and(f1, g20), and(f2, g10));
      const n1 = or(and(f0, g21), and(f2, not(g10)));
      const n2 = or(and(f0, not(g21)), and(f1, not(g20)));
      const fj = [f0, f1, f2],
        nj = [n0, n1, n2];
      for (const j of J) f.set(`a${j}`, or(k3, or(and(k1, fj[j]!), and(k2, not(nj[j]!)))));
    }
    f.emit(') (else');
    {
      const mb = f.set('mb', `(v128.load16_lane offset=4 2 ${mo} (v128.load32_zero ${mo}))`);
      // byte j of row 2p into lane 0, byte 3 + j of row 2p + 1 into lane 1, then ≠ 0
      for (const j of J) {
        const spread = `(i8x16.shuffle ${Array(8).fill(j).join(' ')} ${Array(8)
          .fill(3 + j)
          .join(' ')} ${mb} ${mb})`;
        f.set(`a${j}`, `(i64x2.ne ${spread} ${I2(0)})`);
      }
    }
    f.emit('))');
    // refuse the pair when a row has no active expert or a non-finite active logit
    const ok = J.map((j) => or(not(a[j]!), `(f64x2.lt ${abs(v[j]!)} ${F2(Infinity)})`)).reduce(and);
    f.emit(`(br_if $done (i32.eqz (i64x2.all_true ${and(or(or(a[0]!, a[1]!), a[2]!), ok)})))`);
    f.emit('(if (local.get $compute) (then');
    {
      // bytes 0/1 in the low 3 bytes of each lane, then rows 2p, 2p + 1's 6 bytes to the mask
      const bits = or(or(and(a[0]!, I2(1)), and(a[1]!, I2(0x100))), and(a[2]!, I2(0x10000)));
      const six = f.set('six', `(i8x16.shuffle 0 1 2 8 9 10 0 0 0 0 0 0 0 0 0 0 ${bits} ${bits})`);
      f.emit(`(v128.store32_lane 0 ${mo} ${six})`);
      f.emit(`(v128.store16_lane offset=4 2 ${mo} ${six})`);
    }
    f.emit('))');
    // the first maximum of the active logits (all finite here); any maximum gives the same value
    let mx = f.set('mx', sel(v[0]!, F2(-Infinity), a[0]!));
    for (const j of [1, 2]) mx = f.set('mx', sel(v[j]!, mx, and(a[j]!, gt(v[j]!, mx))));
    const e = J.map((j) => {
      const d = f.set(`d${j}`, sub(v[j]!, mx));
      return f.set(`e${j}`, and(and(expv(f, d, `x${j}`), `(f64x2.ge ${d} ${F2(-CUTOFF)})`), a[j]!));
    });
    const sum = f.set('s', add(add(e[0]!, e[1]!), e[2]!));
    const lse = f.set('lse', add(mx, logv(f, sum, 'ls')));
    const inv = f.set('inv', div(F2(1), sum));
    const l = J.map((j) => f.set(`l${j}`, sel(sub(v[j]!, lse), F2(-Infinity), a[j]!)));
    storeCols(f, matPair(f, 'lp', 3, 'o'), l);
    storeCols(
      f,
      matPair(f, 'pi', 3, 'po'),
      J.map((j) => mul(e[j]!, inv)),
    );
    f.emit('(if (local.get $withQ) (then');
    const r = loadCols(f, matPair(f, 'r', 3, 'ro'), 3, 'r');
    // terms with r = 0 are skipped (0·−∞ would be NaN); adding +0 instead keeps the lane's sum
    f.set(
      'q',
      J.reduce((acc, j) => add(acc, and(mul(r[j]!, l[j]!), `(f64x2.ne ${r[j]!} ${F2(0)})`)), f.local('q')),
    );
    f.emit('))');
  });
  f.emit(`(v128.store offset=${ACC} (i32.const 0) (local.get $q))`);
  f.emit('(local.get $p)');
  return f.text();
}

export function topkKernels(): string[] {
  return [topk3()];
}
