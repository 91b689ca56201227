/**
 * softmaxllg_d1..softmaxllg_d4 (src/em/backend/simd/gen/kernels-softmaxll.ts: softmaxllg specialised to d,
 * its loops over the coordinates unrolled) against the generic softmaxllg on the same inputs, bit for bit:
 * the pair each stops at and every accumulator (Σ m, the product's mantissa and exponent, both lanes).
 * Direct rows, shifted rows (logits beyond ±GATE_DIRECT, and ≈ 1e14), odd and even n, odd first pairs,
 * pairs refused for a NaN or an infinite value; and the binding (cpu/softmax-loglik.ts) that takes them.
 */
import { describe, expect, it } from 'vitest';
import { createArena, type Arena } from '../../src/em/backend/simd/arena.js';
import { resetProductAcc } from '../../src/em/backend/cpu/estep.js';
import type { SoftmaxLogLikCall } from '../../src/em/backend/cpu/softmax-loglik.js';
import { lookup } from '../../src/em/backend/registry.js';
// registers the softmaxLogLik kernels
import '../../src/em/backend/cpu/softmax-loglik.js';
import { createRng } from '../../src/random/rng.js';

type Kernel = (x: number, y: number, k: number, d: number, start: number, end: number) => number;

/** a seeded case: GPAR's parameters (β0, β1, a, b, c, h) and X, y in an arena; logits of scale `steep` */
function arenaCase(k: number, d: number, n: number, seed: number, steep: number) {
  const rng = createRng(seed);
  const ref = (j: number): boolean => j === k - 1;
  // steep ≥ 1e12: β0 = 0, the gates switch through x = 0 with logits ≈ steep·|x| (a runaway gate)
  const beta0 = Array.from({ length: k }, (_, j) => (ref(j) || steep >= 1e12 ? 0 : steep * rng.normal()));
  const beta1 = Array.from({ length: k * d }, (_, t) => (ref(Math.floor(t / d)) ? 0 : 3 * steep * rng.normal()));
  const a = Array.from({ length: k * d }, (_, t) => 3 * (Math.floor(t / d) - 1) + rng.normal());
  const b = Array.from({ length: k }, () => rng.normal());
  const nu = Array.from({ length: k }, () => 0.01 + 0.2 * rng.uniform());
  const cst = nu.map((v) => -0.5 * Math.log(2 * Math.PI * v));
  const hlf = nu.map((v) => -0.5 / v);
  const A = createArena([n * d, n])!;
  const X = A.copy(Float64Array.from({ length: n * d }, () => 2 * rng.normal()));
  const y = A.copy(
    Float64Array.from({ length: n }, (_, i) => {
      const j = Math.floor(rng.uniform() * k);
      let mu = b[j]!;
      for (let l = 0; l < d; l++) mu += a[j * d + l]! * X[i * d + l]!;
      return mu + Math.sqrt(nu[j]!) * rng.normal();
    }),
  );
  const par = Float64Array.from([...beta0, ...beta1, ...a, ...b, ...cst, ...hlf]);
  // the rows with some logit beyond ±GATE_DIRECT (350), shifted by their largest
  let shifted = 0;
  for (let i = 0; i < n; i++) {
    let beyond = false;
    for (let j = 0; j < k; j++) {
      let v = beta0[j]!;
      for (let l = 0; l < d; l++) v += beta1[j * d + l]! * X[i * d + l]!;
      beyond ||= Math.abs(v) > 350;
    }
    if (beyond) shifted++;
  }
  return { A, X, y, par, shifted };
}

/** kernel `name` over pairs [start, end): the pair it returned and the accumulators' bits */
function run(A: Arena, par: Float64Array, X: Float64Array, y: Float64Array, name: string, k: number, d: number) {
  return (start: number, end: number) => {
    A.gpar.set(par);
    resetProductAcc(A);
    // Σ m: start from values that are not 0, so that the kernel's adds to them show
    A.acc[2] = 1.25;
    A.acc[3] = -3.5;
    const p = (A.kernels as unknown as Record<string, Kernel>)[name]!(X.byteOffset, y.byteOffset, k, d, start, end);
    return { p, acc: Float64Array.from(A.acc.subarray(0, 8)), bits: BigInt64Array.from(A.accBits.subarray(0, 8)) };
  };
}

function expectSame(g: ReturnType<ReturnType<typeof run>>, s: ReturnType<ReturnType<typeof run>>, what: string): void {
  expect(s.p, `${what}: the pair it stopped at`).toBe(g.p);
  for (let t = 0; t < 8; t++) {
    expect(Object.is(s.acc[t], g.acc[t]), `${what}, acc[${t}]: ${s.acc[t]} vs ${g.acc[t]}`).toBe(true);
    expect(s.bits[t], `${what}, acc bits [${t}]`).toBe(g.bits[t]);
  }
}

const STEEP: Array<[steep: number, what: string]> = [
  [1, 'direct rows'],
  [200, 'shifted rows (logits beyond ±350)'],
  [1e13, 'logits ≈ 1e14'],
];

describe('softmaxllg_d<d>: softmaxllg specialised to d, its bits', () => {
  for (const d of [1, 2, 3, 4])
    for (const k of [2, 3, 4, 5, 8])
      it(`d = ${d}, k = ${k}: the same stop and accumulators as softmaxllg`, () => {
        for (const n of [1001, 602])
          for (const [steep, sw] of STEEP) {
            const { A, X, y, par, shifted } = arenaCase(
              k,
              d,
              n,
              1000 * d + 37 * k + n + Math.round(Math.log10(steep)),
              steep,
            );
            if (steep > 1) expect(shifted, `${sw}: rows shifted`).toBeGreaterThan(n / 4);
            else expect(shifted).toBe(0);
            const pairs = n >> 1;
            const gen = run(A, par, X, y, 'softmaxllg', k, d);
            const spec = run(A, par, X, y, `softmaxllg_d${d}`, k, d);
            const ranges: Array<[number, number]> = [
              [0, pairs],
              [3, pairs - 2],
              [1, 2],
            ];
            for (const [s, e] of ranges) {
              const g = gen(s, e);
              // every pair taken, and the accumulators moved (Σ m away from its start)
              expect(g.p, `${sw}: no stop`).toBe(e);
              expect(g.acc[2]).not.toBe(1.25);
              expectSame(g, spec(s, e), `n = ${n}, ${sw}, pairs [${s}, ${e})`);
            }
            // refused pairs: a NaN response (w NaN), then an infinite coordinate (a logit ±∞ or NaN)
            y[2 * 101 + 1] = NaN;
            X[2 * 57 * d + d - 1] = Infinity;
            for (const [s, e] of [
              [0, pairs],
              [59, pairs],
              [7, 57],
            ] as const) {
              const g = gen(s, e);
              expect(g.p, 'the stop').toBe(s === 0 ? 57 : s === 59 ? 101 : 57);
              expectSame(g, spec(s, e), `n = ${n}, ${sw}, refused pairs, [${s}, ${e})`);
            }
          }
      });
});

describe('the binding of the one-pass softmax log-likelihood', () => {
  const kernelOf = (k: number, d: number): string | undefined => {
    const { A, X, y } = arenaCase(k, d, 20, 1, 1);
    const simd = lookup<SoftmaxLogLikCall>('softmaxLogLik', 'linear', k, d)!.simd;
    const z = (len: number): Float64Array => new Float64Array(len);
    const c: SoftmaxLogLikCall = {
      k,
      d,
      beta0: z(k),
      beta1: z(k * d),
      a: z(k * d),
      b: z(k),
      cst: z(k),
      hlf: z(k),
      X,
      y,
      n: 20,
    };
    const setup = simd?.setup(A, c);
    const K = A.kernels as unknown as Record<string, unknown>;
    return Object.keys(K).find((name) => setup != null && K[name] === setup.kernel);
  };
  it('takes softmaxllg_d<d> for d = 1..4 (softmaxll2 / softmaxll3 at d = 1, k = 2 / 3), softmaxllg beyond', () => {
    expect(kernelOf(2, 1)).toBe('softmaxll2');
    expect(kernelOf(3, 1)).toBe('softmaxll3');
    for (const k of [4, 5, 8]) expect(kernelOf(k, 1)).toBe('softmaxllg_d1');
    for (const d of [2, 3, 4]) for (const k of [2, 5, 8]) expect(kernelOf(k, d)).toBe(`softmaxllg_d${d}`);
    for (const d of [5, 8]) expect(kernelOf(4, d)).toBe('softmaxllg');
  });
});
