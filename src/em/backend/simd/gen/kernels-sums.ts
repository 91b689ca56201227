/**
 * Experts' moments and gate gradient / curvature kernels (d = 1, k = 2, 3): SIMD twins of
 * momentsRows1k2 / momentsRows1k3 and gradCurvRows1k2 / gradCurvRows1k3 of src/em/backend/cpu/moments.ts and cpu/gradcurv.ts,
 * driven by src/em/backend/cpu/moments.ts and gradcurv.ts (bindings). See src/em/backend/simd/gen/kernels.ts for the conventions.
 *
 * These are pure multiply-add sums over rows: no pair is ever refused. Per row, the same operations
 * in the same order as the JS kernel; each sum is accumulated per lane (lane 0: rows 0, 2, 4…,
 * lane 1: rows 1, 3, 5…) from +0, and at exit the kernel stores lane 0 + lane 1 (one scalar per
 * sum) at ACC. Sums are not read back at entry: one call runs every pair.
 *
 * Each loop step takes two pairs (four rows) into the same accumulators, pair p then pair p + 1, so
 * the order of the additions is that of one pair per step; an odd number of pairs ends with one
 * single step. Measured at n = 1e5 against one pair per step: moments3 ~5% faster, the others
 * the same (the loops are bound by loads, not by their overhead).
 */
import { F2, Fn, add, mul, sub } from './wat.js';
import { ACC, PAR } from '../layout.js';
import { loadCols, matPair, rowPair } from './kernels.js';

type K = 2 | 3;

/** `body` once per pair of [start, end), two pairs per loop step. */
function pairLoop2(f: Fn, body: () => void): void {
  f.local('p', 'i32');
  f.emit('(local.set $p (local.get $start))');
  f.emit('(block $done (loop $L');
  f.emit('(br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 2)) (local.get $end)))');
  body();
  f.emit('(local.set $p (i32.add (local.get $p) (i32.const 1)))');
  body();
  f.emit('(local.set $p (i32.add (local.get $p) (i32.const 1)))');
  f.emit('(br $L)))');
  f.emit('(if (i32.lt_u (local.get $p) (local.get $end)) (then');
  body();
  f.emit('))');
}

/** Zeroed per-lane accumulators s0..s(m−1); returns their names. */
function accumulators(f: Fn, m: number): string[] {
  const names = Array.from({ length: m }, (_, t) => `s${t}`);
  for (const s of names) f.set(s, F2(0));
  return names;
}

/** s += term */
const accumulate = (f: Fn, s: string, term: string): void => {
  f.set(s, add(f.local(s), term));
};

/** Stores lane 0 + lane 1 of each accumulator at ACC + 8t. */
function storeSums(f: Fn, names: string[]): void {
  names.forEach((s, t) => {
    const v = f.local(s);
    f.emit(
      `(f64.store offset=${ACC + 8 * t} (i32.const 0) (f64.add (f64x2.extract_lane 0 ${v}) (f64x2.extract_lane 1 ${v})))`,
    );
  });
}

/**
 * Shifted one-pass moments (momentsRows1k2 / momentsRows1k3): per expert j, N, Σr dx, Σr dy,
 * Σr dx², Σr dx dy, Σr dy² with dx = x − shX_j, dy = y − shY_j.
 * par: shX (k), shY (k). acc out: the 6k sums, expert by expert.
 */
function moments(k: K): string {
  const f = new Fn(
    `moments${k}`,
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['r', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    null,
  );
  const par = (i: number): string => f.set(`par${i}`, `(v128.load64_splat offset=${PAR + 8 * i} (i32.const 0))`);
  const J = [...Array(k).keys()];
  const cx = J.map((j) => par(j)),
    cy = J.map((j) => par(k + j));
  const S = accumulators(f, 6 * k);
  pairLoop2(f, () => {
    const y = f.set('yi', rowPair('y'));
    const x = f.set('xi', rowPair('x'));
    const r = loadCols(f, matPair(f, 'r', k, 'o'), k, 'r');
    for (const j of J) {
      const dx = f.set(`dx${j}`, sub(x, cx[j]!));
      const dy = f.set(`dy${j}`, sub(y, cy[j]!));
      const rx = f.set(`rx${j}`, mul(r[j]!, dx));
      const ry = f.set(`ry${j}`, mul(r[j]!, dy));
      const s = S.slice(6 * j, 6 * j + 6);
      accumulate(f, s[0]!, r[j]!);
      accumulate(f, s[1]!, rx);
      accumulate(f, s[2]!, ry);
      accumulate(f, s[3]!, mul(rx, dx));
      accumulate(f, s[4]!, mul(rx, dy));
      accumulate(f, s[5]!, mul(ry, dy)); // r·dy·dy = (r·dy)·dy
    }
  });
  storeSums(f, S);
  return f.text();
}

/**
 * Gate gradient and curvature sums with free experts fa < fb (gradCurvRows1k3): acc out: ga, ga·x,
 * gb, gb·x, then (a,a), (a,b), (b,b) × (1, x, x²) — 13 sums. For k = 2 (gradCurvRows1k2), one free
 * expert fa: ga, ga·x, (a,a) × (1, x, x²) — 5 sums.
 */
function gradCurv(k: K, free: number[]): string {
  const f = new Fn(
    `gradcurv${k}_${free.join('')}`,
    [
      ['x', 'i32'],
      ['r', 'i32'],
      ['pi', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    null,
  );
  const S = accumulators(f, k === 3 ? 13 : 5);
  pairLoop2(f, () => {
    const r = loadCols(f, matPair(f, 'r', k, 'o'), k, 'r');
    // the JS kernel's R = 0 + r0 + r1 (+ r2): the leading 0 turns −0 into +0
    const R = f.set(
      'R',
      r.reduce((s, rj) => add(s, rj), F2(0)),
    );
    const x = f.set('xi', rowPair('x'));
    const x2 = f.set('x2', mul(x, x));
    const pc = loadCols(f, matPair(f, 'pi', k, 'po'), k, 'p'); // unused columns: dead code for the compiler
    const pa = pc[free[0]!]!;
    const ga = f.set('ga', sub(r[free[0]!]!, mul(R, pa)));
    accumulate(f, 's0', ga);
    accumulate(f, 's1', mul(ga, x));
    const ra = f.set('ra', mul(R, pa));
    const caa = f.set('caa', mul(ra, sub(F2(1), pa)));
    if (k === 2) {
      accumulate(f, 's2', caa);
      accumulate(f, 's3', mul(caa, x));
      accumulate(f, 's4', mul(caa, x2));
      return;
    }
    const pb = pc[free[1]!]!;
    const gb = f.set('gb', sub(r[free[1]!]!, mul(R, pb)));
    accumulate(f, 's2', gb);
    accumulate(f, 's3', mul(gb, x));
    const rb = f.set('rb', mul(R, pb));
    const cab = f.set('cab', mul(`(f64x2.neg ${ra})`, pb));
    const cbb = f.set('cbb', mul(rb, sub(F2(1), pb)));
    [caa, cab, cbb].forEach((c, u) => {
      accumulate(f, `s${4 + 3 * u}`, c);
      accumulate(f, `s${5 + 3 * u}`, mul(c, x));
      accumulate(f, `s${6 + 3 * u}`, mul(c, x2));
    });
  });
  storeSums(f, S);
  return f.text();
}

/**
 * The kernels: moments2, moments3, gradcurv2_0, gradcurv2_1, gradcurv3_01, gradcurv3_02,
 * gradcurv3_12 (one variant per set of free experts, so that the columns are chosen at build time).
 */
export function sumKernels(): string[] {
  return [
    moments(2),
    moments(3),
    gradCurv(2, [0]),
    gradCurv(2, [1]),
    gradCurv(3, [0, 1]),
    gradCurv(3, [0, 2]),
    gradCurv(3, [1, 2]),
  ];
}
