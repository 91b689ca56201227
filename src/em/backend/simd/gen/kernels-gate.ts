/**
 * Gate-probability kernels (d = 1, k = 2, 3): see src/em/backend/simd/gen/kernels.ts for the conventions.
 * The SIMD twins of softmaxRows1k2 / softmaxRows1k3 (src/em/backend/cpu/softmax-gate.ts) for their direct
 * rows, driven by src/em/backend/cpu/softmax-gate.ts (binding softmaxSimd).
 */
import { EXP_CUTOFF, GATE_DIRECT } from '../../constants.js';
import { ACC, PAR } from '../layout.js';
import { drainHeld, handOver, loadCols, matPair, pairLoop, rowPair, storeCols } from './kernels.js';
import { F2, Fn, abs, add, div, expv, logv, mul, sub } from './wat.js';

/**
 * Softmax gate for d = 1, k = 2 or 3 (cpu/softmax-gate.ts softmaxRows1k2 / softmaxRows1k3, their direct
 * rows): v_j = β0_j + β1_j x, e_j = e^v_j, s = Σ e_j, lse = 0 + log s, log π_j = v_j − lse,
 * π_j = e_j·(1/s), and, when withQ ≠ 0, Q += Σ_j r_j log π_j; rows with a logit outside
 * [−350, 350] (a steep gate) shift by their exact maximum, as the JS kernel's shifted rows (terms
 * below −708 are 0). Stops at a pair where some row's maximum is ±∞ or NaN.
 * Pipelined over consecutive pairs: pair p's logits and exponentials beside pair p − 1's log s, 1/s,
 * stores and Q (finished first also when pair p is refused): the CPU overlaps the two chains, and Q
 * still adds the pairs in order (bit for bit the unpipelined kernel's).
 * par: β0 (k), β1 (k). acc: Q (2 lanes).
 * withQ is loop-invariant: its branch is predicted, and without it `r` is never read.
 */
function gate(k: 2 | 3): string {
  const f = new Fn(
    `gate${k}`,
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
  f.set('q', `(v128.load offset=${ACC} (i32.const 0))`);
  f.set('pend', '(i32.const 0)', 'i32');
  // pair Pp's log π, π and Q (stage B), from its terms held in the P locals
  const finish = (): void => {
    const P = (t: string): string => f.local(`P${t}`);
    const sum = P('s');
    // mx + log s, as in the JS kernel (direct rows: +0 + log s)
    const lse = f.set('lse', add(P('mx'), logv(f, sum, 'ls')));
    const inv = f.set('inv', div(F2(1), sum));
    const l = J.map((j) => f.set(`l${j}`, sub(P(`v${j}`), lse)));
    const at = (ptr: string, name: string): string =>
      f.set(name, `(i32.add (local.get $${ptr}) (i32.mul (local.get $Pp) (i32.const ${16 * k})))`, 'i32');
    storeCols(f, at('lp', 'o'), l);
    storeCols(
      f,
      at('pi', 'po'),
      J.map((j) => mul(P(`e${j}`), inv)),
    );
    f.emit('(if (local.get $withQ) (then');
    const r = loadCols(f, at('r', 'ro'), k, 'r');
    // terms with r = 0 skipped (the JS kernel's shifted rows; in direct rows they would add ±0)
    f.set(
      'q',
      J.reduce((acc, j) => add(acc, `(v128.and ${mul(r[j]!, l[j]!)} (f64x2.ne ${r[j]!} ${F2(0)}))`), f.local('q')),
    );
    f.emit('))');
  };
  pairLoop(f, () => {
    const x = f.set('xi', rowPair('x'));
    const v = J.map((j) => f.set(`v${j}`, add(c[j]!, mul(s[j]!, x))));
    // direct rows: |v| ≤ 350 (false for NaN) for every logit, e^v with no shift (mx = +0); other
    // rows (a steep gate) shift by the exact maximum, as the JS kernel — each lane its own; a pair
    // with a row whose maximum is ±∞ or NaN is refused
    const direct = f.set(
      'direct',
      v.map((vj) => `(f64x2.le ${abs(vj)} ${F2(GATE_DIRECT)})`).reduce((a, b) => `(v128.and ${a} ${b})`),
    );
    const exact = f.set(
      'exact',
      v.slice(1).reduce((m, vj) => `(f64x2.max ${m} ${vj})`, v[0]!),
    );
    f.set('ok', `(i64x2.all_true (v128.or ${direct} (f64x2.lt ${abs(exact)} ${F2(Infinity)})))`, 'i32');
    const mx = f.set('mx', `(v128.andnot ${exact} ${direct})`);
    const e = J.map((j) => {
      const u = f.set(`u${j}`, sub(v[j]!, mx));
      // below −708: 0 (only in shifted rows: direct ones have u = v ≥ −350)
      return f.set(`e${j}`, `(v128.and ${expv(f, u, `x${j}`)} (f64x2.ge ${u} ${F2(-EXP_CUTOFF)}))`);
    });
    const sum = f.set(
      's',
      e.reduce((acc, t) => add(acc, t)),
    );
    handOver(f, finish, [
      ...J.flatMap((j) => [[`Pv${j}`, v[j]!] as const, [`Pe${j}`, e[j]!] as const]),
      ['Pmx', mx],
      ['Ps', sum],
      ['Pp', '(local.get $p)', 'i32'],
    ]);
  });
  drainHeld(f, finish);
  f.emit(`(v128.store offset=${ACC} (i32.const 0) (local.get $q))`);
  f.emit('(local.get $p)');
  return f.text();
}

export function gateKernels(): string[] {
  return [gate(2), gate(3)];
}
