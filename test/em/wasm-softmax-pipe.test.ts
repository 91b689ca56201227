/**
 * The d = 1 softmax kernels loglik2/3, gate2/3 and estep2/3 (src/em/backend/simd/gen/kernels.ts,
 * kernels-gate.ts), pipelined over consecutive row pairs, against the kernels they replaced, bit for
 * bit: the SHA-256 of every output byte (log π, π, responsibilities, pre-filled so that a stale or
 * extra write shows), of the accumulator block after each call and of the pairs each call returned,
 * for fixed inputs, recorded with the replaced kernels. Each call runs from the pair after the last
 * refused one to the end, as the binding resumes; inputs: moderate rows, steep gates and far
 * outliers (the shifted paths), −∞ log π (top-K's inactive experts), refused pairs (alone, in runs,
 * first and last), accumulators that do not start at zero, and a short call of one pair.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createArena } from '../../src/em/backend/simd/arena.js';
import type { Arena } from '../../src/em/backend/simd/arena.js';

const PAIRS = 301;
const N = 2 * PAIRS;

/** a fixed pseudo-random sequence in [0, 1) (a 32-bit LCG: the same on every machine) */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** pairs refused by construction (a NaN x, or a row whose terms are all −∞) */
const REFUSED = new Set([0, 7, 8, 9, 50, 151, 152, 299, 300]);

interface Case {
  k: 2 | 3;
  kernel: 'loglik' | 'gate' | 'estep';
  steep: boolean;
  withQ: boolean;
}

function runCase(A: Arena, c: Case): string {
  const { k } = c;
  const u = lcg(1000 * k + (c.steep ? 7 : 3) + (c.kernel === 'gate' ? 11 : c.kernel === 'estep' ? 23 : 0));
  const X = A.alloc(N),
    y = A.alloc(N),
    lp = A.alloc(N * k),
    pi = A.alloc(N * k),
    r = A.alloc(N * k);
  for (let i = 0; i < N; i++) {
    X[i] = (u() - 0.5) * (c.steep ? 40 : 4);
    y[i] = (u() - 0.5) * 6 + (i % 37 === 5 ? 1e7 : 0) + (i % 41 === 3 ? -3e3 : 0);
    let s = 0;
    for (let j = 0; j < k; j++) s += r[i * k + j] = u() < 0.2 ? 0 : u();
    for (let j = 0; j < k; j++) {
      r[i * k + j] = s > 0 ? r[i * k + j]! / s : 0;
      lp[i * k + j] = u() < 0.1 ? -Infinity : Math.log(0.05 + u());
    }
  }
  for (const p of REFUSED) {
    const row = 2 * p + (p & 1);
    if (c.kernel === 'gate' || p % 3 === 0) X[row] = NaN;
    else for (let j = 0; j < k; j++) lp[row * k + j] = -Infinity;
  }
  const a = [1.5, -2, 0.25],
    b = [0.5, 1, -1],
    cst = [-1.2, -0.9, -2.1],
    h = [-0.5, -2.5, c.steep ? -40 : -0.1];
  if (c.kernel === 'gate') {
    const b0 = [0.3, -1.1, 2],
      b1 = c.steep ? [30, -25, 4] : [1.2, -0.7, 0.1];
    for (let j = 0; j < k; j++) {
      A.par[j] = b0[j]!;
      A.par[k + j] = b1[j]!;
    }
  } else
    for (let j = 0; j < k; j++) {
      A.par[j] = a[j]!;
      A.par[k + j] = b[j]!;
      A.par[2 * k + j] = cst[j]!;
      A.par[3 * k + j] = h[j]!;
    }
  if (c.kernel !== 'loglik') (c.kernel === 'gate' ? lp : r).fill(7);
  pi.fill(7);
  if (c.kernel === 'gate') lp.fill(7);
  A.acc.fill(0);
  A.acc[0] = 0.125;
  A.acc[1] = -3;
  A.acc[2] = 2.5;
  A.acc[3] = -1;
  A.acc[4] = 1.5;
  A.acc[5] = 1.25;
  A.accBits[6] = 5n;
  A.accBits[7] = -2n;
  const K = A.kernels;
  const call = (start: number, end: number): number => {
    if (c.kernel === 'loglik')
      return (k === 3 ? K.loglik3 : K.loglik2)(X.byteOffset, y.byteOffset, lp.byteOffset, start, end);
    if (c.kernel === 'estep')
      return (k === 3 ? K.estep3 : K.estep2)(X.byteOffset, y.byteOffset, lp.byteOffset, r.byteOffset, start, end);
    return (k === 3 ? K.gate3 : K.gate2)(
      X.byteOffset,
      lp.byteOffset,
      pi.byteOffset,
      r.byteOffset,
      c.withQ ? 1 : 0,
      start,
      end,
    );
  };
  const hash = createHash('sha256');
  const returned: number[] = [];
  const accAfter = (): void => {
    hash.update(new Uint8Array(A.acc.buffer, A.acc.byteOffset, 64));
  };
  // one short call (pairs [1, 2)) first, then the whole range from pair 0, resumed after each stop
  returned.push(call(1, 2));
  accAfter();
  let p = 0;
  while (p < PAIRS) {
    const q = call(p, PAIRS);
    returned.push(q);
    accAfter();
    p = q + 1;
  }
  for (const t of [lp, pi, r]) hash.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  hash.update(returned.join(','));
  return `${returned.length}:${hash.digest('hex').slice(0, 16)}`;
}

const CASES: Case[] = [];
for (const kernel of ['loglik', 'gate', 'estep'] as const)
  for (const k of [2, 3] as const)
    for (const steep of [false, true])
      for (const withQ of kernel === 'gate' ? [false, true] : [false]) CASES.push({ k, kernel, steep, withQ });

/** recorded with the replaced (not pipelined) kernels */
const EXPECTED: Record<string, string> = {
  loglik2: '15:f04794567be612b6',
  'loglik2 steep': '13:d17cb51bfc236934',
  loglik3: '12:d797e37408e3d210',
  'loglik3 steep': '11:6396ad926a8a01a5',
  gate2: '10:bb01b4cb302b63bf',
  'gate2 Q': '10:671a5007719e6e64',
  'gate2 steep': '10:50da3683f8763074',
  'gate2 steep Q': '10:db9fa60496efe5b2',
  gate3: '10:80f47282d1b12006',
  'gate3 Q': '10:1de2691559115069',
  'gate3 steep': '10:d91ddfb6e366ce23',
  'gate3 steep Q': '10:db6ccba0e6b01dfd',
  estep2: '15:51ce221c3c9a4a96',
  'estep2 steep': '14:84a62cf57d8667dc',
  estep3: '10:59e8499213aadb96',
  'estep3 steep': '11:5867196e05556988',
};

describe('pipelined d = 1 softmax kernels: the replaced kernels bit for bit', () => {
  it.each(CASES)('$kernel k = $k steep $steep withQ $withQ', (c) => {
    const A = createArena(Array(5).fill(N * 3))!;
    expect(A).not.toBeNull();
    const name = `${c.kernel}${c.k}${c.steep ? ' steep' : ''}${c.withQ ? ' Q' : ''}`;
    const got = runCase(A, c);
    if (process.env.PRINT_HASHES) console.log(`  '${name}': '${got}',`);
    expect(got, name).toBe(EXPECTED[name]);
  });
});
