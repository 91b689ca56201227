/**
 * Top-K gate kernel (d = 1, k = 3): see src/em/backend/simd/gen/kernels.ts for the conventions. The SIMD twin
 * of topkGateRows1k3 (src/em/backend/cpu/topk-gate.ts) for rows whose active logits are finite, driven
 * by src/em/backend/cpu/topk-gate.ts (binding topkSimd); and topkll3, topk3 and loglik3 in one pass
 * (binding in src/em/backend/cpu/topk-loglik.ts).
 */
import { EXP_CUTOFF as CUTOFF } from '../../constants.js';
import { ACC, PAR, TOPK_REFUSED } from '../layout.js';
import { drainHeld, loadCols, matPair, pairLoop, productStep, rowPair, storeCols } from './kernels.js';
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
 * maximum's term is exactly 1 (expCore(0) = 1) and s ∈ [1, 3], so log s needs no branch on the data.
 * The terms are taken without exponentiating the exact ones (activeTerms); pair p's log π, π and Q
 * are finished in the next iteration, beside pair p + 1's terms (finishPair): the two chains
 * (rank → exp and log → stores) are independent, so the CPU overlaps them (K = 2: −25 % a call).
 * Q still adds the pairs in order. par: β0 (3), β1 (3). acc: Q (2 lanes). compute, K, slope and
 * withQ are loop-invariant.
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
  const { c, s, k1, k2, k3, sl } = topkSetup(f, PAR);
  f.set('q', `(v128.load offset=${ACC} (i32.const 0))`);
  f.set('pend', '(i32.const 0)', 'i32');
  pairLoop(f, () => {
    const x = f.set('xi', rowPair('x'));
    const u = J.map((j) => f.set(`u${j}`, mul(s[j]!, x)));
    const v = J.map((j) => f.set(`v${j}`, add(c[j]!, u[j]!)));
    // the mask's bytes of rows (2p, 2p + 1): 6 bytes from mask + 6p
    const mo = f.set('mo', '(i32.add (local.get $mask) (i32.mul (local.get $p) (i32.const 6)))', 'i32');
    const a = J.map((j) => f.local(`a${j}`));
    f.emit('(if (local.get $compute) (then');
    rank(f, u, v, k1, k2, k3, sl);
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
    f.emit(`(br_if $done (i32.eqz ${accepted(v, a)}))`);
    f.emit('(if (local.get $compute) (then');
    storeMask(f, a, mo);
    f.emit('))');
    activeTerms(f, v, a);
    // pair p's log π, π and Q after pair p − 1's, which runs here, beside pair p's terms
    drainHeld(f, () => finishPair(f));
    for (const t of CARRIED) f.set(`P${t}`, f.local(t));
    f.set('Pone', f.local('one', 'i32'), 'i32');
    f.set('Pp', '(local.get $p)', 'i32');
    f.set('pend', '(i32.const 1)', 'i32');
  });
  drainHeld(f, () => finishPair(f));
  f.emit(`(v128.store offset=${ACC} (i32.const 0) (local.get $q))`);
  f.emit('(local.get $p)');
  return f.text();
}

/** what activeTerms leaves for finishPair, held for one iteration (locals P<name>) */
const CARRIED = ['v0', 'v1', 'v2', 'a0', 'a1', 'a2', 'mx', 'e0', 'e1', 'e2', 's'];

/**
 * log π, π and Q of the pair held in the P locals (pair Pp): lse = mx + log s (+0 for log 1 when
 * Pone: every row one active expert), log π_j = v_j − lse (−∞ for inactive), π_j = e_j·(1/s).
 */
function finishPair(f: Fn): void {
  const P = (t: string): string => f.local(`P${t}`);
  const at = (ptr: string, name: string): string =>
    f.set(name, `(i32.add (local.get $${ptr}) (i32.mul (local.get $Pp) (i32.const 48)))`, 'i32');
  f.emit(`(if (local.get $Pone) (then`);
  f.set('lse', add(P('mx'), F2(0)));
  f.set('inv', F2(1));
  f.emit(') (else');
  f.set('inv', div(F2(1), P('s')));
  f.set('lse', add(P('mx'), logv(f, P('s'), 'ls')));
  f.emit('))');
  const lse = f.local('lse');
  const l = J.map((j) => f.set(`l${j}`, sel(sub(P(`v${j}`), lse), F2(-Infinity), P(`a${j}`))));
  storeCols(f, at('lp', 'o'), l);
  storeCols(
    f,
    at('pi', 'po'),
    J.map((j) => mul(P(`e${j}`), f.local('inv'))),
  );
  f.emit('(if (local.get $withQ) (then');
  const r = loadCols(f, at('r', 'ro'), 3, 'r');
  // terms with r = 0 are skipped (0·−∞ would be NaN); adding +0 instead keeps the lane's sum
  f.set(
    'q',
    J.reduce((acc, j) => add(acc, and(mul(r[j]!, l[j]!), `(f64x2.ne ${r[j]!} ${F2(0)})`)), f.local('q')),
  );
  f.emit('))');
}

const J = [0, 1, 2];

/** β0 and β1 (three each from byte `at`) splatted, and the loop-invariant K and slope lane masks. */
function topkSetup(f: Fn, at: number, inline = false) {
  const load = (i: number): string => `(v128.load64_splat offset=${at + 8 * i} (i32.const 0))`;
  const par = (i: number): string => (inline ? load(i) : f.set(`par${i}`, load(i)));
  const c = J.map((j) => par(j)),
    s = J.map((j) => par(3 + j));
  // the JS kernel's K cases as lane masks: K ≥ 3 keeps all, K = 1 the first pick, else two picks
  const k1 = f.set('k1', splatBool('(i32.eq (local.get $K) (i32.const 1))'));
  const k3 = f.set('k3', splatBool('(i32.ge_s (local.get $K) (i32.const 3))'));
  const k2 = f.set('k2', not(or(k1, k3)));
  const sl = f.set('sl', splatBool('(local.get $slope)'));
  if (!inline) return { c, s, k1, k2, k3, sl };
  // held in memory, not in registers (the one-pass kernel's loop has too many values live)
  const at2 = at + 48;
  [k1, k2, k3, sl].forEach((m, t) => f.emit(`(v128.store offset=${at2 + 16 * t} (i32.const 0) ${m})`));
  const mem = (t: number): string => `(v128.load offset=${at2 + 16 * t} (i32.const 0))`;
  return { c, s, k1: mem(0), k2: mem(1), k3: mem(2), sl: mem(3) };
}

/** The active set a0..a2 ranked on v (on u when slope), topKMask's comparisons. */
function rank(f: Fn, u: string[], v: string[], k1: string, k2: string, k3: string, sl: string): void {
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

/** i32 ≠ 0 when both rows have an active expert and every active logit is finite (else the pair is refused). */
function accepted(v: string[], a: string[]): string {
  const ok = J.map((j) => or(not(a[j]!), `(f64x2.lt ${abs(v[j]!)} ${F2(Infinity)})`)).reduce(and);
  return `(i64x2.all_true ${and(or(or(a[0]!, a[1]!), a[2]!), ok)})`;
}

/** The active set's 6 bytes of rows (2p, 2p + 1) to the mask at byte (local) mo. */
function storeMask(f: Fn, a: string[], mo: string): void {
  // bytes 0/1 in the low 3 bytes of each lane, then rows 2p, 2p + 1's 6 bytes to the mask
  const bits = or(or(and(a[0]!, I2(1)), and(a[1]!, I2(0x100))), and(a[2]!, I2(0x10000)));
  const six = f.set('six', `(i8x16.shuffle 0 1 2 8 9 10 0 0 0 0 0 0 0 0 0 0 ${bits} ${bits})`);
  f.emit(`(v128.store32_lane 0 ${mo} ${six})`);
  f.emit(`(v128.store16_lane offset=4 2 ${mo} ${six})`);
}

/**
 * The terms of an accepted pair (locals mx, e0..e2, s, one): the values of e_j = e^(v_j − mx) (0
 * below the cutoff or inactive) and s = (e0 + e1) + e2 bit for bit, with fewer exponentials when no
 * row of the pair has three active experts (K ≤ 2, the fits' case): the maximum's term is then
 * e^(+0) = 1 exactly and an inactive expert's +0, so s = 1 + e_o in any order (e_o the other active
 * expert's term, +0 when there is none): one exponential a row for K = 2, none for K = 1, where
 * one = 1 tells finishPair that s = 1 in both rows (log 1 = +0, 1/1 = 1).
 */
function activeTerms(f: Fn, v: string[], a: string[]): void {
  // the first maximum of the active logits (all finite here); m_j: expert j raised the running maximum
  let mx = f.set('mx', sel(v[0]!, F2(-Infinity), a[0]!));
  const m1 = f.set('m1', and(a[1]!, gt(v[1]!, mx)));
  mx = f.set('mx', sel(v[1]!, mx, m1));
  const m2 = f.set('m2', and(a[2]!, gt(v[2]!, mx)));
  mx = f.set('mx', sel(v[2]!, mx, m2));
  const e = J.map((j) => f.local(`e${j}`));
  f.emit(`(if (v128.any_true ${and(and(a[0]!, a[1]!), a[2]!)}) (then`);
  {
    // a row with three active experts (K = 3 or a fixed mask): every term exponentiated
    for (const j of J) {
      const d = f.set(`d${j}`, sub(v[j]!, mx));
      f.set(`e${j}`, and(and(expv(f, d, `x${j}`), `(f64x2.ge ${d} ${F2(-CUTOFF)})`), a[j]!));
    }
    f.set('s', add(add(e[0]!, e[1]!), e[2]!));
    f.set('one', '(i32.const 0)', 'i32');
  }
  f.emit(') (else');
  {
    const isMax = [and(a[0]!, not(or(m1, m2))), and(m1, not(m2)), m2];
    const o = J.map((j) => f.set(`o${j}`, and(a[j]!, not(isMax[j]!))));
    const two = f.set('two', or(or(o[0]!, o[1]!), o[2]!));
    f.emit(`(if (v128.any_true ${two}) (then`);
    const dO = f.set('dO', sub(sel(v[0]!, sel(v[1]!, v[2]!, o[1]!), o[0]!), mx));
    const eO = f.set('eO', and(and(expv(f, dO, 'xo'), `(f64x2.ge ${dO} ${F2(-CUTOFF)})`), two));
    f.set('s', add(F2(1), eO));
    f.set('one', '(i32.const 0)', 'i32');
    f.emit(') (else');
    // one active expert in both rows: s = 1 (finishPair adds log 1 = +0 to mx, which may be −0)
    f.set('eO', F2(0));
    f.set('s', F2(1));
    f.set('one', '(i32.const 1)', 'i32');
    f.emit('))');
    for (const j of J) f.set(`e${j}`, or(and(isMax[j]!, F2(1)), and(o[j]!, eO)));
  }
  f.emit('))');
}

/**
 * topk3 (active set computed) then loglik3 on its log π in one pass, K = 1 or 2: the values of
 * topk3's and loglik3's operations bit for bit, with 2 exponentials per row instead of 6. Why that is
 * exact: with K ≤ 2 a row has one or two active experts; in either pass the maximum's term is
 * e^(+0) = 1 exactly and an inactive expert's is +0 (its log π is −∞), so the row sum, (e0 + e1) + e2
 * in the kernels, is 1 + e_o with e_o the other active expert's term (0 when K = 1): only that one is
 * exponentiated. The maximum, the refusal tests and log π are the kernels' own operations on all
 * three experts. log π, π and the mask are written (as topk3) when write ≠ 0: the M-step's trials,
 * whose buffers become the current ones when accepted; else nothing (the hybrid's trials).
 * Stops at a pair loglik3 refuses (returns it) or one topk3 refuses (returns TOPK_REFUSED + it: the
 * binding runs its gate rows in JS and that pair through loglik3, whose refusal then counts as this
 * kernel's; cpu/topk-loglik.ts).
 * Pipelined over consecutive pairs in three stages — A: ranking, the gate's exponential and the
 * experts' quadratic terms; B (llTerms): log π, the writes and loglik3's terms; C (llSum): loglik3's
 * refusal test, its exponential and the accumulators — iteration p runs A on pair p, C on p − 2 and B
 * on p − 1: three independent dependency chains, which the CPU overlaps (one pair's chain is longer
 * than its window). The accumulators still add the pairs in order, and at a stop the pairs held
 * before it are finished first; a loglik3 stop may leave the next pair's gate rows written (the
 * values topk3 writes there, written again when that pair is run).
 * par: a, b, c, h (3 each, as loglik3: loglik3 runs on the same block), β0 (3), β1 (3).
 * acc: as loglik3 (Σ max at +16, product mantissa +32, exponent +48).
 */
function topkll3(): string {
  const f = new Fn(
    'topkll3',
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['lp', 'i32'],
      ['pi', 'i32'],
      ['mask', 'i32'],
      ['K', 'i32'],
      ['slope', 'i32'],
      ['write', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  const ep = (i: number): string => `(v128.load64_splat offset=${PAR + 8 * i} (i32.const 0))`;
  const ea = J.map((j) => ep(j)),
    eb = J.map((j) => ep(3 + j));
  const { c, s, k1, k2, k3, sl } = topkSetup(f, PAR + 8 * 12, true);
  f.set('sm', `(v128.load offset=${ACC + 16} (i32.const 0))`);
  f.set('pm', `(v128.load offset=${ACC + 32} (i32.const 0))`);
  f.set('pe', `(v128.load offset=${ACC + 48} (i32.const 0))`);
  f.local('tk', 'i32');
  f.set('pend', '(i32.const 0)', 'i32');
  f.set('pendC', '(i32.const 0)', 'i32');
  pairLoop(f, () => {
    const x = f.set('xi', rowPair('x'));
    const u = J.map((j) => f.set(`u${j}`, mul(s[j]!, x)));
    const v = J.map((j) => f.set(`v${j}`, add(c[j]!, u[j]!)));
    const a = J.map((j) => f.local(`a${j}`));
    rank(f, u, v, k1, k2, k3, sl);
    f.emit(`(if (i32.eqz ${accepted(v, a)}) (then (local.set $tk (i32.const 1)) (br $done)))`);
    const vA = f.set('vA', first(a, v)),
      vB = f.set('vB', last(a, v));
    // topk3's maximum (the first maximum of the active logits) and the other active logit
    const bMax = f.set('bMax', gt(vB, vA));
    const mx = f.set('mx', sel(vB, vA, bMax));
    const dO = f.set('dO', sub(f.set('vO', sel(vA, vB, bMax)), mx));
    const eO = f.set('eO', and(and(expv(f, dO, 'xo'), `(f64x2.ge ${dO} ${F2(-CUTOFF)})`), k2));
    f.set('s', add(F2(1), eO));
    // the experts' quadratic terms h_j·d_j·d_j (they do not depend on the gate)
    const y = f.set('yi', rowPair('y'));
    for (const j of J) {
      const d = f.set(`dd${j}`, sub(y, add(eb[j]!, mul(ea[j]!, x))));
      f.set(`hq${j}`, mul(mul(ep(9 + j), d), d));
    }
    // beside pair p: pair p − 2's log-likelihood (stage C), then pair p − 1's log π (stage B)
    f.emit('(if (local.get $pendC) (then');
    llSum(f, k2, '$done');
    f.emit('))');
    toC(f);
    for (const t of LL_CARRIED) f.set(`P${t}`, f.local(t));
    f.set('Pp', '(local.get $p)', 'i32');
    f.set('pend', '(i32.const 1)', 'i32');
  });
  // the pairs held (at a pair topk3 refuses, or the end), in order, unless loglik3 refuses one
  f.emit('(block $fin');
  f.emit('(if (local.get $pendC) (then');
  llSum(f, k2, '$fin');
  f.emit('))');
  toC(f);
  f.emit('(if (local.get $pendC) (then');
  llSum(f, k2, '$fin');
  f.emit('))');
  f.emit(')');
  f.emit(`(v128.store offset=${ACC + 16} (i32.const 0) (local.get $sm))`);
  f.emit(`(v128.store offset=${ACC + 32} (i32.const 0) (local.get $pm))`);
  f.emit(`(v128.store offset=${ACC + 48} (i32.const 0) (local.get $pe))`);
  f.emit(`(i32.add (local.get $p) (i32.mul (local.get $tk) (i32.const ${TOPK_REFUSED})))`);
  return f.text();
}

/** the first and the last active expert's t in index order (the same one when K = 1) */
const first = (a: string[], t: string[]): string => sel(t[0]!, sel(t[1]!, t[2]!, a[1]!), a[0]!);
const last = (a: string[], t: string[]): string => sel(t[2]!, sel(t[1]!, t[0]!, a[1]!), a[2]!);

/** what topkll3's first stage leaves for finishLl, held for one iteration (locals P<name>) */
const LL_CARRIED = ['v0', 'v1', 'v2', 'a0', 'a1', 'a2', 'mx', 'bMax', 'eO', 's', 'hq0', 'hq1', 'hq2'];

/**
 * topkll3's stage B for the pair held in the P locals (pair Pp): lse, log π, the writes (as
 * topk3), then loglik3's terms w_j, their maximum mw and the first and last active expert's w.
 */
function llTerms(f: Fn): void {
  const P = (t: string): string => f.local(`P${t}`);
  const a = J.map((j) => P(`a${j}`)),
    bMax = P('bMax'),
    eO = P('eO'),
    sum = P('s');
  const lse = f.set('lse', add(P('mx'), logv(f, sum, 'ls')));
  const l = J.map((j) => f.set(`l${j}`, sel(sub(P(`v${j}`), lse), F2(-Infinity), a[j]!)));
  const at = (ptr: string, size: number, name: string): string =>
    f.set(name, `(i32.add (local.get $${ptr}) (i32.mul (local.get $Pp) (i32.const ${size})))`, 'i32');
  f.emit('(if (local.get $write) (then');
  {
    storeMask(f, a, at('mask', 6, 'mo'));
    storeCols(f, at('lp', 48, 'o'), l);
    // e_j: 1 for the maximum's expert (A unless B > A), e_o for the other active one, 0 for inactive
    const isA = [a[0]!, and(a[1]!, not(a[0]!)), and(a[2]!, not(or(a[0]!, a[1]!)))];
    const isB = [and(a[0]!, not(or(a[1]!, a[2]!))), and(a[1]!, not(a[2]!)), a[2]!];
    const isMax = J.map((j) => or(and(isA[j]!, not(bMax)), and(isB[j]!, bMax)));
    const inv = f.set('inv', div(F2(1), sum));
    storeCols(
      f,
      at('pi', 48, 'po'),
      J.map((j) => mul(and(sel(F2(1), eO, isMax[j]!), a[j]!), inv)),
    );
  }
  f.emit('))');
  // loglik3 on these log π: its terms and maximum over the three experts, then only the other
  // active expert's exponential (the maximum's term is 1, an inactive expert's −∞ term 0)
  const ec = (j: number): string => `(v128.load64_splat offset=${PAR + 8 * (6 + j)} (i32.const 0))`;
  const w = J.map((j) => f.set(`w${j}`, add(add(l[j]!, ec(j)), P(`hq${j}`))));
  f.set(
    'mw',
    w.slice(1).reduce((m, wj) => `(f64x2.max ${m} ${wj})`, w[0]!),
  );
  f.set('wA', first(a, w));
  f.set('wB', last(a, w));
}

/** Stage B's results (pair Pp) to stage C (locals C<name>, pair Cp) when a pair is held. */
function toC(f: Fn): void {
  f.emit('(if (local.get $pend) (then');
  llTerms(f);
  for (const t of ['mw', 'wA', 'wB']) f.set(`C${t}`, f.local(t));
  f.set('Cp', '(local.get $Pp)', 'i32');
  f.emit('))');
  f.set('pendC', '(local.get $pend)', 'i32');
  f.set('pend', '(i32.const 0)', 'i32');
}

/**
 * topkll3's stage C for pair Cp: loglik3's refusal test, then the other active expert's term and
 * the accumulators; where loglik3 refuses the pair, p = Cp, no topk3 refusal, nothing held, and a
 * branch to `out` (the pair's gate rows written, its log-likelihood not added).
 */
function llSum(f: Fn, k2: string, out: string): void {
  const mw = f.local('Cmw'),
    wA = f.local('CwA'),
    wB = f.local('CwB');
  f.emit(
    `(if (i32.eqz (i64x2.all_true (f64x2.lt ${abs(mw)} ${F2(Infinity)}))) (then (local.set $p (local.get $Cp)) (local.set $tk (i32.const 0)) (local.set $pend (i32.const 0)) (local.set $pendC (i32.const 0)) (br ${out})))`,
  );
  const zO = f.set('zO', sub(sel(wA, wB, gt(wB, wA)), mw));
  const tO = f.set('tO', and(and(expv(f, zO, 'yo'), `(f64x2.ge ${zO} ${F2(-CUTOFF)})`), k2));
  f.set('sm', add(f.local('sm'), mw));
  productStep(f, f.set('st', add(F2(1), tO)));
}

export function topkKernels(): string[] {
  return [topk3(), topkll3()];
}
