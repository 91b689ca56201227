/**
 * The softmax gate's Hessian moment sums for d = 1 and k = 2, 3, fully unrolled (hess1k2 / hess1k3): the
 * SIMD twin of src/em/backend/cpu/hessian.ts (hessRows / sumRow) with every per-row value in a local (no
 * scratch memory, no loops over experts), two rows per f64x2 (lane 0: row 2p, lane 1: row 2p + 1).
 * Per row the same operations in the same order as the JS twin and as hessg1 (kernels-hessian.ts), so
 * the sums are hessg1's bits; a row whose gate or expert maximum is ±∞ or NaN makes L NaN.
 * par (GPAR): β0 (k), β1 (k), a (k), b (k), c (k), h (k), 1/ν (k). The sums (hessSumsLayout(k, 1),
 * two lanes each at GACC, zeroed by the binding) are added in place at constant addresses, two row
 * pairs per step (one load and store of each sum for both): measured faster than the sums in v128
 * locals (which the JIT spills) and than a blocked scheme as gradcurvg's (docs/performance.md,
 * "The d = 1 Hessian kernels unrolled"). hess1k<k>_noref: without the sums of the reference expert's gate
 * coordinates (zero there), which a layout that holds its β0 and β1 never reads (HessSumsCall.skipRef).
 */
import { EXP_CUTOFF } from '../../constants.js';
import { hessSumsLayout } from '../../cpu/hessian-layout.js';
import { GACC, GPAR } from '../layout.js';
import { rowPair } from './kernels.js';
import { F2, Fn, abs, add, div, expv, logv, mul, sub } from './wat.js';

/** where a row pair's weights go: c times (1, x, x²)[0..m) into sums o..o+m−1 */
interface Sink {
  w(o: number, m: 1 | 2 | 3, c: string): void;
}

const accAt = (t: number): string => `offset=${GACC + 16 * t} (i32.const 0)`;
/** add in place at GACC (the sums at constant addresses) */
function directSink(f: Fn, x: string, xx: string): Sink {
  const acc = (t: number, term: string): void =>
    f.emit(`(v128.store ${accAt(t)} ${add(`(v128.load ${accAt(t)})`, term)})`);
  return {
    w(o, m, c) {
      const cv = f.set('cm', c);
      acc(o, cv);
      if (m > 1) acc(o + 1, mul(cv, x));
      if (m > 2) acc(o + 2, mul(cv, xx));
    },
  };
}

/** a recorded weight: c times (1, x, x²)[0..m) into sums o..o+m−1 */
interface Weight {
  o: number;
  m: 1 | 2 | 3;
  c: string;
  x: string;
  xx: string;
}
function recordSink(rec: Weight[], x: string, xx: string): Sink {
  return { w: (o, m, c) => void rec.push({ o, m, c: c, x, xx }) };
}

/** f with its locals renamed name + sfx (the two row pairs of a step) */
function tagged(f: Fn, sfx: string): Fn {
  const g = Object.create(f) as Fn;
  g.set = (name, expr, type) => f.set(name + sfx, expr, type);
  g.local = (name, type) => f.local(name + sfx, type);
  return g;
}

/** the per-row values of one row pair */
interface Row {
  x: string;
  xx: string;
  r: string[];
  p: string[];
  e: string[];
  q: string[];
}

/** Σ_j e^(u_j), u_j = src_j − mx (0 below −EXP_CUTOFF): the e_j and their sum, as the JS twin's expRel loop. */
function expSum(f: Fn, src: string[], mx: string, tag: string): { e: string[]; s: string } {
  const e = src.map((v, j) => {
    const u = f.set(`${tag}u${j}`, sub(v, mx));
    return f.set(`${tag}e${j}`, `(v128.and ${expv(f, u, `${tag}x${j}`)} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
  });
  // 0 + e_0 + … (e_0 ≥ +0, so 0 + e_0 is e_0's bits)
  return {
    e,
    s: f.set(
      `${tag}s`,
      e.slice(1).reduce((a, t) => add(a, t), e[0]!),
    ),
  };
}

/** Per row pair: φ, the gate's π and log-sum-exp, the experts' t, ε, q, r, and L into sum `ll` (hessg1's order). */
function rowValues(
  f: Fn,
  k: number,
  par: (block: number, j: number) => string,
  sink: (x: string, xx: string) => Sink,
  ll: number,
  h = 0,
): Row & { S: Sink } {
  const J = [...Array(k).keys()];
  // rows 2(p + h), 2(p + h) + 1
  const pairAt = (ptr: string): string => rowPair(ptr).replace('(v128.load ', `(v128.load offset=${16 * h} `);
  const x = f.set('xv', pairAt('x'));
  const xx = f.set('xx', mul(x, x));
  const S = sink(x, xx);
  const maxOf = (v: string[]): string =>
    v.reduce((m, vj) => `(f64x2.pmax ${m} ${vj})`, F2(-Infinity) /* the JS twin's Math.max from −∞ */);
  const nan = (v: string[]): string => v.map((t) => `(f64x2.ne ${t} ${t})`).reduce((a, b) => `(v128.or ${a} ${b})`);
  const inf = (m: string): string => `(v128.not (f64x2.lt ${abs(m)} ${F2(Infinity)}))`;
  // the gate
  const v = J.map((l) => f.set(`v${l}`, add(par(0, l), mul(par(1, l), x))));
  const mx = f.set('mx', maxOf(v));
  const g = expSum(f, v, mx, 'g');
  const lsg = f.set('lsg', add(mx, logv(f, g.s, 'ls')));
  const inv = f.set('inv', div(F2(1), g.s));
  const p = J.map((l) => f.set(`p${l}`, mul(g.e[l]!, inv)));
  // the experts
  const yv = f.set('yv', pairAt('y'));
  const t: string[] = [];
  const e: string[] = [];
  const q: string[] = [];
  for (const j of J) {
    const ee = f.set(`ee${j}`, sub(yv, add(par(3, j), mul(par(2, j), x))));
    t.push(f.set(`t${j}`, add(add(sub(v[j]!, lsg), par(4, j)), mul(mul(par(5, j), ee), ee))));
    const iv = par(6, j);
    e.push(f.set(`eps${j}`, mul(ee, iv)));
    q.push(f.set(`q${j}`, mul(mul(sub(mul(ee, e[j]!), F2(1)), F2(0.5)), iv)));
  }
  const mx2 = f.set('mx2', maxOf(t));
  const w = expSum(f, t, mx2, 'w');
  const inv2 = f.set('inv2', div(F2(1), w.s));
  const r = J.map((j) => f.set(`r${j}`, mul(w.e[j]!, inv2)));
  const bad = `(v128.or (v128.or ${nan(v)} ${inf(mx)}) (v128.or ${nan(t)} ${inf(mx2)}))`;
  const row = add(mx2, logv(f, w.s, 'lw'));
  S.w(ll, 1, `(v128.bitselect ${F2(NaN)} ${row} ${bad})`);
  return { x, xx, r, p, e, q, S };
}

/**
 * Per row pair: sumRow's coefficients times (1, x, x²) (mat), (1, x) (vec) or 1, into the sums.
 * `skipRef`: without the sums of the reference's (k − 1) gate coordinates (gg pairs with it, ge and gn
 * with it on the gate side, its gradG), which a layout that holds its β0 and β1 never reads (zero
 * there), and without rmp_{k−1}; every other sum the same operations in the same order.
 */
function rowSums(
  f: Fn,
  k: number,
  par: (block: number, j: number) => string,
  R: Row & { S: Sink },
  skipRef = false,
): void {
  const Ls = hessSumsLayout(k, 1);
  const J = [...Array(k).keys()];
  const G = skipRef ? J.slice(0, k - 1) : J;
  const { r, p, e, q, S } = R;
  // c·φ_aφ_b over (1, x, x²) and c·φ over (1, x); c·1 is c's bits
  const mat = (o: number, c: string): void => S.w(o, 3, c);
  const vec = (o: number, c: string): void => S.w(o, 2, c);
  const rmp = G.map((l) => f.set(`rmp${l}`, sub(r[l]!, p[l]!)));
  // gate × gate, l ≤ l' (δ = 0: 0 − r_l r_l', as the JS twin)
  let o = Ls.gg;
  for (const l of J)
    for (let l2 = l; l2 < k; l2++, o += 3)
      if (!skipRef || l2 < k - 1) mat(o, add(sub(l === l2 ? rmp[l]! : F2(0), mul(r[l]!, r[l2]!)), mul(p[l]!, p[l2]!)));
  // C_jl = r_j (δ_jl − r_l), shared by the gate × expert and expert × expert blocks
  const C = J.map((j) => J.map((l) => f.set(`C${j}_${l}`, mul(r[j]!, sub(F2(j === l ? 1 : 0), r[l]!)))));
  o = Ls.ge;
  let ov = Ls.gn;
  for (const j of J)
    for (let l = 0; l < k; l++, o += 3, ov += 2) {
      if (skipRef && l === k - 1) continue;
      mat(o, mul(C[j]![l]!, e[j]!));
      vec(ov, mul(C[j]![l]!, q[j]!));
    }
  o = Ls.ee;
  ov = Ls.en;
  let os = Ls.nn;
  for (const j of J) {
    const iv = par(6, j);
    // δ r_j for δ = 1 (r_j) and δ = 0 (0·r_j: +0 unless r_j is NaN), as the JS twin multiplies it
    const dr = [f.set(`dr0_${j}`, mul(F2(0), r[j]!)), r[j]!];
    const edd = dr.map((d, b) => f.set(`edd${b}_${j}`, mul(mul(d, e[j]!), iv)));
    const dv = dr.map((d, b) => f.set(`dv${b}_${j}`, mul(d, iv)));
    const nnd = f.set(`nnd_${j}`, sub(mul(F2(0.5), iv), mul(e[j]!, e[j]!)));
    for (let j2 = 0; j2 < k; j2++, ov += 2) {
      const b = j === j2 ? 1 : 0;
      const Ce = f.set(`Ce${j}_${j2}`, mul(C[j]![j2]!, e[j]!));
      vec(ov, sub(mul(Ce, q[j2]!), edd[b]!));
      if (j2 < j) continue;
      mat(o, sub(mul(Ce, e[j2]!), dv[b]!));
      S.w(os, 1, add(mul(mul(C[j]![j2]!, q[j]!), q[j2]!), mul(dv[b]!, nnd)));
      o += 3;
      os++;
    }
  }
  for (const l of J) {
    if (l < G.length) vec(Ls.gradG + 2 * l, rmp[l]!);
    vec(Ls.gradE + 2 * l, mul(r[l]!, e[l]!));
    S.w(Ls.gradN + l, 1, mul(r[l]!, q[l]!));
  }
}

/**
 * hess1k<k>(x, y, start, end): the sums of cpu/hessian.ts (d = 1) over row pairs [start, end), at GACC;
 * H row pairs per step (2 measured as fast as 3 or 4, with less code).
 */
function hess1(k: 2 | 3, skipRef = false, H = 2, name = `hess1k${k}${skipRef ? '_noref' : ''}`): string {
  const f = new Fn(
    name,
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    null,
  );
  const Ls = hessSumsLayout(k, 1);
  // β0, β1, a, b, c, h, 1/ν: 7 blocks of k, loaded once
  const P = [...Array(7 * k).keys()].map((i) =>
    f.set(`par${i}`, `(v128.load64_splat offset=${GPAR + 8 * i} (i32.const 0))`),
  );
  const par = (block: number, j: number): string => P[block * k + j]!;
  const one = (): void =>
    rowSums(
      f,
      k,
      par,
      rowValues(f, k, par, (x, xx) => directSink(f, x, xx), Ls.ll),
      skipRef,
    );
  // H row pairs per step: each sum loaded and stored once for all, ((s + term_0) + term_1) + …, the
  // same order of additions per lane as one pair at a time; the last pairs alone
  f.emit('(local.set $p (local.get $start))');
  f.local('p', 'i32');
  f.emit('(block $done (loop $L');
  f.emit(`(br_if $done (i32.ge_u (i32.add (local.get $p) (i32.const ${H - 1})) (local.get $end)))`);
  const recs = [...Array(H).keys()].map((h) => {
    const g = tagged(f, `_${h}`);
    const rec: Weight[] = [];
    rowSums(
      g,
      k,
      par,
      rowValues(g, k, par, (x, xx) => recordSink(rec, x, xx), Ls.ll, h),
      skipRef,
    );
    return rec;
  });
  recs[0]!.forEach(({ o, m }, i) => {
    const terms = recs.map((rec, h) => {
      const w = rec[i]!;
      const c = f.set(`cm${h}`, w.c);
      return [c, mul(c, w.x), mul(c, w.xx)];
    });
    for (let t = 0; t < m; t++)
      f.emit(
        `(v128.store ${accAt(o + t)} ${terms.reduce((acc, tt) => add(acc, tt[t]!), `(v128.load ${accAt(o + t)})`)})`,
      );
  });
  f.emit(`(local.set $p (i32.add (local.get $p) (i32.const ${H})))`);
  f.emit('(br $L)))');
  // the last pairs one at a time
  f.emit('(block $tail (loop $T');
  f.emit('(br_if $tail (i32.ge_u (local.get $p) (local.get $end)))');
  one();
  f.emit('(local.set $p (i32.add (local.get $p) (i32.const 1)))');
  f.emit('(br $T)))');
  return f.text();
}

export function hessian1Kernels(): string[] {
  return [hess1(2), hess1(3), hess1(2, true), hess1(3, true)];
}
