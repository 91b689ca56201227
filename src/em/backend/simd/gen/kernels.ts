/**
 * The SIMD kernels of the CPU backend for d = 1 and k = 2, 3 (the papers' exact- and
 * over-specified fits), as WebAssembly text. Each kernel takes two rows per step, one in each
 * f64x2 lane, and follows its JS twin in src/em/backend/cpu/*.ts operation for operation within a
 * row, so that per-row values (responsibilities, π, log π) are the JS kernel's bits; only sums
 * over rows are added in another order (lane by lane, then the two lanes).
 *
 * Calling convention (src/em/backend/simd/arena.ts and layout.ts): pointers are byte offsets into the arena's
 * memory; a kernel runs pairs [start, end) of rows (2p, 2p + 1) and returns the pair it stopped at
 * — `end`, or the first pair that needs the JS kernel's guarded path (the caller runs that pair in
 * JS and resumes); running sums live in the accumulator block `acc`, read at entry and written at
 * exit, so that a resumed call continues them.
 *
 * Built by `npm run build:wasm` into src/em/backend/simd/module.ts (test/em/wasm-build.test.ts
 * checks that the committed module is this text's binary).
 */
import { T_HI, T_LO } from '../../../../math/exp.js';
import { LOGC_HI, LOGC_LO } from '../../../../math/log.js';
import { EXP_CUTOFF, SHIFT_EXACT_BELOW } from '../../constants.js';
import { ACC, EXP_TABLE, LOG_TABLE, PAR } from '../layout.js';
import { F2, Fn, I2, abs, add, expv, mul, pick, sub } from './wat.js';
import { denseKernels } from './kernels-dense.js';
import { gateKernels } from './kernels-gate.js';
import { sumKernels } from './kernels-sums.js';
import { denseGradKernels } from './kernels-densegrad.js';
import { topkKernels } from './kernels-topk.js';
import { genericKernels } from './kernels-generic.js';
import { hessianKernels } from './kernels-hessian.js';
import { hessian1Kernels } from './kernels-hessian1.js';
import { denseGradGKernels } from './kernels-densegradg.js';
import { softmaxLogLikKernels } from './kernels-softmaxll.js';
import { actHessKernels } from './kernels-acthess.js';

/** Row pairs p in [start, end) with index i; `body` emits the pair's work. */
export function pairLoop(f: Fn, body: () => void): void {
  f.emit('(local.set $p (local.get $start))');
  f.local('p', 'i32');
  f.emit('(block $done (loop $L');
  f.emit('(br_if $done (i32.ge_u (local.get $p) (local.get $end)))');
  body();
  f.emit('(local.set $p (i32.add (local.get $p) (i32.const 1)))');
  f.emit('(br $L)))');
}

/** f64x2 of rows (2p, 2p + 1) of an n-vector at pointer param `ptr` */
/**
 * The two-stage pipelined kernels' hand-over, inside pairLoop after pair p's first stage has set $ok:
 * pair p − 1 (held, $pend) is finished here, beside pair p's terms — also when pair p is refused, whose
 * stop comes after — then pair p's values are held in their P locals for the next iteration.
 */
export function handOver(f: Fn, finish: () => void, held: ReadonlyArray<readonly [string, string, 'i32'?]>): void {
  drainHeld(f, finish);
  f.set('pend', '(i32.const 0)', 'i32');
  f.emit('(br_if $done (i32.eqz (local.get $ok)))');
  for (const [name, value, type] of held) f.set(name, value, type);
  f.set('pend', '(i32.const 1)', 'i32');
}

/** `finish` on the pair held, if one is ($pend): in the hand-over, and once after the loop. */
export function drainHeld(f: Fn, finish: () => void): void {
  f.emit('(if (local.get $pend) (then');
  finish();
  f.emit('))');
}

export const rowPair = (ptr: string): string =>
  `(v128.load (i32.add (local.get $${ptr}) (i32.shl (local.get $p) (i32.const 4))))`;

/**
 * Loads columns j = 0..k−1 of rows (2p, 2p + 1) of an n × k row-major matrix (2k doubles from
 * byte (local) `o`) as k f64x2 values.
 */
export function loadCols(f: Fn, o: string, k: 2 | 3, tag: string): string[] {
  if (k === 2) {
    const A = f.set(`${tag}A`, `(v128.load offset=0 ${o})`);
    const B = f.set(`${tag}B`, `(v128.load offset=16 ${o})`);
    return [f.set(`${tag}0`, pick(A, 0, B, 0)), f.set(`${tag}1`, pick(A, 1, B, 1))];
  }
  const A = f.set(`${tag}A`, `(v128.load offset=0 ${o})`); // (r0c0, r0c1)
  const B = f.set(`${tag}B`, `(v128.load offset=16 ${o})`); // (r0c2, r1c0)
  const C = f.set(`${tag}C`, `(v128.load offset=32 ${o})`); // (r1c1, r1c2)
  return [f.set(`${tag}0`, pick(A, 0, B, 1)), f.set(`${tag}1`, pick(A, 1, C, 0)), f.set(`${tag}2`, pick(B, 0, C, 1))];
}

/** Stores k f64x2 columns of rows (2p, 2p + 1) back row-major at byte (local) `o`. */
export function storeCols(f: Fn, o: string, cols: string[]): void {
  if (cols.length === 2) {
    const [c0, c1] = cols as [string, string];
    f.emit(`(v128.store offset=0 ${o} ${pick(c0, 0, c1, 0)})`);
    f.emit(`(v128.store offset=16 ${o} ${pick(c0, 1, c1, 1)})`);
    return;
  }
  const [c0, c1, c2] = cols as [string, string, string];
  f.emit(`(v128.store offset=0 ${o} ${pick(c0, 0, c1, 0)})`);
  f.emit(`(v128.store offset=16 ${o} ${pick(c2, 0, c0, 1)})`);
  f.emit(`(v128.store offset=32 ${o} ${pick(c1, 1, c2, 1)})`);
}

/** Offset of row pair p in an n × k matrix at pointer param `ptr` (k doubles per row). */
export const matPair = (f: Fn, ptr: string, k: number, name: string): string =>
  f.set(name, `(i32.add (local.get $${ptr}) (i32.mul (local.get $p) (i32.const ${16 * k})))`, 'i32');

/**
 * The running product Π s of values s ∈ [2^-1000, 2^1000] per lane, held as a mantissa pm ∈ [1, 2)
 * and an integer exponent sum pe: after each multiplication the exponent bits move into pe, exactly.
 */
export function productStep(f: Fn, s: string): void {
  const pm = f.set('pm', mul(f.local('pm'), s));
  f.set('pe', `(i64x2.add ${f.local('pe')} (i64x2.sub (i64x2.shr_u ${pm} (i32.const 52)) ${I2(1023)}))`);
  f.set('pm', `(v128.or (v128.and ${pm} ${I2(0x000fffffffffffffn)}) ${I2(0x3ff0000000000000n)})`);
}

/**
 * E-step for d = 1, k = 2 or 3 (cpu/estep.ts eStepRows1k2 / eStepRows1k3, their fast rows):
 * r = e^(v − shift) / Σ with v_j = log π_j + c_j + h_j (y − b_j − a_j x)², the branch-free shift,
 * 0 below −708; rows with Σ|v| ≥ 2^40 or a −∞ term (top-K's inactive experts) shift by the exact
 * maximum, as the JS kernel's guarded path. Stops at a pair where some row's maximum is ±∞ or NaN.
 * Pipelined over consecutive pairs: pair p's terms, shift and refusal test beside pair p − 1's
 * exponentials, r, Q and sums (finished first also when pair p is refused), so that the CPU overlaps
 * the two chains; the sums still add the pairs in order (bit for bit the unpipelined kernel's).
 * par: a (k), b (k), c (k), h (k). acc: q (2 lanes), Σ shift (2), product mantissa (2), exponent (2 × i64).
 */
function eStep(k: 2 | 3): string {
  const f = new Fn(
    `estep${k}`,
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['lp', 'i32'],
      ['r', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  const par = (i: number): string => f.set(`par${i}`, `(v128.load64_splat offset=${PAR + 8 * i} (i32.const 0))`);
  const J = [...Array(k).keys()];
  const a = J.map((j) => par(j)),
    b = J.map((j) => par(k + j)),
    c = J.map((j) => par(2 * k + j)),
    h = J.map((j) => par(3 * k + j));
  f.set('q', `(v128.load offset=${ACC} (i32.const 0))`);
  f.set('sm', `(v128.load offset=${ACC + 16} (i32.const 0))`);
  f.set('pm', `(v128.load offset=${ACC + 32} (i32.const 0))`);
  f.set('pe', `(v128.load offset=${ACC + 48} (i32.const 0))`);
  f.set('pend', '(i32.const 0)', 'i32');
  // pair Pp's responsibilities, Q and sums (stage B), from its terms held in the P locals
  const finish = (): void => {
    const P = (t: string): string => f.local(`P${t}`);
    const e = J.map((j) => {
      const u = f.set(`u${j}`, sub(P(`v${j}`), P('mx')));
      return f.set(`e${j}`, `(v128.and ${expv(f, u, `x${j}`)} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
    });
    const s = f.set(
      's',
      e.reduce((acc, t) => add(acc, t)),
    );
    const inv = f.set('inv', `(f64x2.div ${F2(1)} ${s})`);
    const r = J.map((j) => f.set(`r${j}`, mul(e[j]!, inv)));
    storeCols(f, f.set('ro', `(i32.add (local.get $r) (i32.mul (local.get $Pp) (i32.const ${16 * k})))`, 'i32'), r);
    // Q skips r = 0 (log π may be −∞ there: top-K); in fast rows a zero r would add ±0 anyway
    f.set(
      'q',
      J.reduce(
        (acc, j) => add(acc, `(v128.and ${mul(r[j]!, P(`lp${j}`))} (f64x2.ne ${r[j]!} ${F2(0)}))`),
        f.local('q'),
      ),
    );
    f.set('sm', add(f.local('sm'), P('mx')));
    productStep(f, s);
  };
  pairLoop(f, () => {
    const x = f.set('xi', rowPair('x'));
    const y = f.set('yi', rowPair('y'));
    const lp = loadCols(f, matPair(f, 'lp', k, 'o'), k, 'lp');
    const v = J.map((j) => {
      const d = f.set(`d${j}`, sub(sub(y, b[j]!), mul(a[j]!, x)));
      return f.set(`v${j}`, add(add(lp[j]!, c[j]!), mul(mul(h[j]!, d), d)));
    });
    // fast rows (Σ|v| < 2^40, false for NaN and ±∞): shift = max to rounding, (a + b + |a − b|)/2;
    // other rows: the exact maximum (Math.max's value), as the JS kernel's guarded path — each
    // lane takes its own; a pair with a row whose maximum is ±∞ or NaN is refused
    const m01 = f.set('m01', mul(F2(0.5), add(add(v[0]!, v[1]!), abs(sub(v[0]!, v[1]!)))));
    const shift = k === 2 ? m01 : f.set('m012', mul(F2(0.5), add(add(m01, v[2]!), abs(sub(m01, v[2]!)))));
    const sumAbs = v.map((vj) => abs(vj)).reduce((s, t) => add(s, t));
    const fast = f.set('fast', `(f64x2.lt ${sumAbs} ${F2(SHIFT_EXACT_BELOW)})`);
    const exact = f.set(
      'exact',
      v.slice(1).reduce((m, vj) => `(f64x2.max ${m} ${vj})`, v[0]!),
    );
    f.set('ok', `(i64x2.all_true (v128.or ${fast} (f64x2.lt ${abs(exact)} ${F2(Infinity)})))`, 'i32');
    const mx = f.set('mx', `(v128.bitselect ${shift} ${exact} ${fast})`);
    handOver(f, finish, [
      ...J.flatMap((j) => [[`Plp${j}`, lp[j]!] as const, [`Pv${j}`, v[j]!] as const]),
      ['Pmx', mx],
      ['Pp', '(local.get $p)', 'i32'],
    ]);
  });
  drainHeld(f, finish);
  f.emit(`(v128.store offset=${ACC} (i32.const 0) (local.get $q))`);
  f.emit(`(v128.store offset=${ACC + 16} (i32.const 0) (local.get $sm))`);
  f.emit(`(v128.store offset=${ACC + 32} (i32.const 0) (local.get $pm))`);
  f.emit(`(v128.store offset=${ACC + 48} (i32.const 0) (local.get $pe))`);
  f.emit('(local.get $p)');
  return f.text();
}

/**
 * Observed log-likelihood for d = 1, k = 2 or 3 (cpu/loglik.ts logLikRows1k3; cpu/loglik.ts generic
 * logLik for k = 2): v_j = log π_j + c_j + h_j (y − (b_j + a_j x))², Σ_i (max_i + log Σ_j e^(v_j − max_i)),
 * terms below −708 taken as 0 (log π = −∞: top-K's inactive experts). Stops at a pair where some
 * row's maximum is ±∞ or NaN. Pipelined as eStep: pair p's terms and maximum beside pair p − 1's
 * exponentials and sums. par: as eStep. acc: Σ max (2 lanes, at +16), product mantissa (+32),
 * exponent (+48).
 */
function logLik(k: 2 | 3): string {
  const f = new Fn(
    `loglik${k}`,
    [
      ['x', 'i32'],
      ['y', 'i32'],
      ['lp', 'i32'],
      ['start', 'i32'],
      ['end', 'i32'],
    ],
    'i32',
  );
  const par = (i: number): string => f.set(`par${i}`, `(v128.load64_splat offset=${PAR + 8 * i} (i32.const 0))`);
  const J = [...Array(k).keys()];
  const a = J.map((j) => par(j)),
    b = J.map((j) => par(k + j)),
    c = J.map((j) => par(2 * k + j)),
    h = J.map((j) => par(3 * k + j));
  f.set('sm', `(v128.load offset=${ACC + 16} (i32.const 0))`);
  f.set('pm', `(v128.load offset=${ACC + 32} (i32.const 0))`);
  f.set('pe', `(v128.load offset=${ACC + 48} (i32.const 0))`);
  f.set('pend', '(i32.const 0)', 'i32');
  // pair p − 1's exponentials and sums (stage B), on its terms and maximum held in the P locals
  const finish = (): void => {
    const mx = f.local('Pmx');
    const e = J.map((j) => {
      const u = f.set(`u${j}`, sub(f.local(`Pv${j}`), mx));
      return f.set(`e${j}`, `(v128.and ${expv(f, u, `x${j}`)} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
    });
    const s = f.set(
      's',
      e.reduce((acc, t) => add(acc, t)),
    );
    f.set('sm', add(f.local('sm'), mx));
    productStep(f, s);
  };
  pairLoop(f, () => {
    const x = f.set('xi', rowPair('x'));
    const y = f.set('yi', rowPair('y'));
    const lp = loadCols(f, matPair(f, 'lp', k, 'o'), k, 'lp');
    const v = J.map((j) => {
      const d = f.set(`d${j}`, sub(y, add(b[j]!, mul(a[j]!, x))));
      return f.set(`v${j}`, add(add(lp[j]!, c[j]!), mul(mul(h[j]!, d), d)));
    });
    const mx = f.set(
      'mx',
      v.slice(1).reduce((m, vj) => `(f64x2.max ${m} ${vj})`, v[0]!),
    );
    f.set('ok', `(i64x2.all_true (f64x2.lt ${abs(mx)} ${F2(Infinity)}))`, 'i32');
    handOver(f, finish, [...J.map((j) => [`Pv${j}`, v[j]!] as const), ['Pmx', mx]]);
  });
  drainHeld(f, finish);
  f.emit(`(v128.store offset=${ACC + 16} (i32.const 0) (local.get $sm))`);
  f.emit(`(v128.store offset=${ACC + 32} (i32.const 0) (local.get $pm))`);
  f.emit(`(v128.store offset=${ACC + 48} (i32.const 0) (local.get $pe))`);
  f.emit('(local.get $p)');
  return f.text();
}

function tableData(offset: number, hi: Float64Array, lo: Float64Array): string {
  const bytes = new Uint8Array(hi.length * 16);
  const v = new DataView(bytes.buffer);
  for (let i = 0; i < hi.length; i++) {
    v.setFloat64(16 * i, hi[i]!, true);
    v.setFloat64(16 * i + 8, lo[i]!, true);
  }
  let s = '';
  for (const byte of bytes) s += '\\' + byte.toString(16).padStart(2, '0');
  return `(data (i32.const ${offset}) "${s}")`;
}

/** The whole module: imported memory ("env", "memory"), the tables and every kernel. */
export function moduleText(): string {
  return [
    '(module',
    '(import "env" "memory" (memory 1))',
    tableData(EXP_TABLE, T_HI, T_LO),
    tableData(LOG_TABLE, LOGC_HI, LOGC_LO),
    eStep(2),
    eStep(3),
    logLik(2),
    logLik(3),
    ...gateKernels(),
    ...denseKernels(),
    ...sumKernels(),
    ...denseGradKernels(),
    ...topkKernels(),
    ...genericKernels(),
    ...hessianKernels(),
    ...hessian1Kernels(),
    ...denseGradGKernels(),
    ...softmaxLogLikKernels(),
    ...actHessKernels(),
    ')',
  ].join('\n');
}
