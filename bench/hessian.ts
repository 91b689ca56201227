/**
 * Exact-Hessian benchmark (issue 15, the hybrid optimizer's cost per Newton step): CPU time of one
 * logLikDerivatives (value, gradient, exact Hessian) of the softmax gate by the reference JS loop
 * (src/em/inference/hessian.ts) and by the kernel path (src/em/inference/hessian-fast.ts: moment sums
 * through the WebAssembly SIMD kernels — hess1k3 / hess1k2 at d = 1, hessg1–hessg4 elsewhere — or their JS
 * twin), and of one plain EM iteration (SIMD backend) for scale, all in one process. Demy k = 3, d = 1
 * (near the over-specified fit) by default; `--grid` adds k = 2..8, d = 1..4 random truths. A second
 * table times the d = 1 sum kernels alone: hessg1 (loops over experts through scratch memory) against the
 * unrolled hess1k3 / hess1k2 (branch hess3), same rows, same bits. Ratios are what compare (shared
 * machine). Run by
 * `npm run bench:hessian` (never by the tests).
 *
 *   npm run bench:hessian                          # demy k = 3, n = 1e4 and 1e5
 *   npm run bench:hessian -- --n 1e5 --grid        # plus the k × d grid at n = 1e5
 */
import { cpus, loadavg } from 'node:os';
import { fitMoE } from '../src/em/index.js';
import { logLikDerivatives } from '../src/em/inference/hessian.js';
import { fastLogLikDerivatives } from '../src/em/inference/hessian-fast.js';
import { paramLayout } from '../src/em/inference/params.js';
import { createArena } from '../src/em/backend/simd/arena.js';
import { GACC } from '../src/em/backend/simd/layout.js';
import { hessSumsLayout, hessSumsParams } from '../src/em/backend/cpu/hessian.js';
import { simulate } from '../src/models/sample.js';
import { truthPreset } from '../src/models/presets.js';
import type { Dataset, Model } from '../src/models/types.js';
import { truthFor } from './truth.js';

const arg = (flag: string, fallback: string): string => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const ns = arg('--n', '1e4,1e5').split(',').map(Number);
const grid = process.argv.includes('--grid');

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};

/** CPU ms per call of f: the best of `rounds` rounds of enough calls for ≈ 0.3 s of the first round's estimate. */
function perCall(f: () => void, rounds = 3): number {
  const t0 = cpuNow();
  f();
  const once = Math.max(cpuNow() - t0, 0.01);
  const reps = Math.max(1, Math.min(200, Math.round(300 / once)));
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t1 = cpuNow();
    for (let i = 0; i < reps; i++) f();
    best = Math.min(best, (cpuNow() - t1) / reps);
  }
  return best;
}

/** CPU ms per plain EM iteration (SIMD backend): fits with 10 and 0 iterations, the difference / 10. */
function emIteration(m: Model, data: Dataset): number {
  const opts = {
    gate: m.gate,
    k: m.k,
    init: { kind: 'model' as const, model: m },
    accelerate: 'none' as const,
    tol: 0,
    absTol: 0,
  };
  const zero = perCall(() => fitMoE(data, { ...opts, maxIter: 0 }));
  const ten = perCall(() => fitMoE(data, { ...opts, maxIter: 10 }));
  return (ten - zero) / 10;
}

function row(label: string, m: Model, data: Dataset, withRef: boolean): string {
  const { k, d, n } = { k: m.k, d: m.d, n: data.n };
  const L = paramLayout(m.gate, k, d);
  const A = createArena([n * d, n], [])!;
  const dataA: Dataset = { ...data, X: A.copy(data.X), y: A.copy(data.y) };
  const simd = perCall(() => fastLogLikDerivatives(L, m, dataA));
  const js = perCall(() => fastLogLikDerivatives(L, m, data, false));
  const ref = withRef ? perCall(() => logLikDerivatives(L, m, data)) : NaN;
  const em = emIteration(m, data);
  const f = (v: number): string => (Number.isNaN(v) ? '—' : v.toFixed(v < 1 ? 3 : 2));
  const x = (v: number): string => (Number.isNaN(v) ? '—' : `${v.toFixed(1)}×`);
  return `| ${label} | ${L.P} | ${f(ref)} | ${f(js)} | ${f(simd)} | ${x(ref / simd)} | ${f(em)} | ${(simd / em).toFixed(2)} | ${f(ref / em)} |`;
}

console.log(`# bench:hessian — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}, node ${process.version}; CPU ms per call, best of 3 rounds\n`,
);
console.log(
  '| case | P | reference ms | kernel path, JS ms | kernel path, SIMD ms | reference / SIMD | EM iteration ms (SIMD) | SIMD Hessian in EM iterations | reference Hessian in EM iterations |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
const demy = truthPreset('demy');
for (const n of ns) {
  // the over-specified fit's k = 3 model: the preset's near-truth start after 20 SQUAREM iterations
  const data = simulate(demy, { n, seed: 5 });
  const near = { kind: 'near-truth' as const, truth: demy };
  const m = fitMoE(data, { gate: demy.gate, k: 3, init: near, seed: 1, maxIter: 20 }).model;
  console.log(row(`demy k = 3, d = 1, n = ${n}`, m, data, true));
}
if (grid)
  for (const d of [1, 2, 3, 4])
    for (const k of [2, 3, 4, 5, 6, 7, 8]) {
      const truth = truthFor(k, d);
      const n = ns[ns.length - 1]!;
      console.log(row(`k = ${k}, d = ${d}, n = ${n}`, truth, simulate(truth, { n, seed: 1 }), false));
    }
/** CPU ms per call of the d = 1 sum kernels on the same arena, parameters and rows (sums at GACC). */
function kernelRow(label: string, m: Model, data: Dataset): string {
  const { k, n } = { k: m.k, n: data.n };
  const A = createArena([n, n], [])!;
  const X = A.copy(data.X),
    y = A.copy(data.y);
  const Ls = hessSumsLayout(k, 1);
  const blocks = [Ls.gg, Ls.ge, Ls.ee, Ls.gn, Ls.en, Ls.gradG, Ls.gradE, Ls.nn, Ls.gradN, Ls.ll].map(
    (o) => GACC + 16 * o,
  );
  A.gpar.set(hessSumsParams(k, 1, m.beta0, m.beta1, m.a, m.b, m.nu));
  const K = A.kernels as unknown as Record<string, ((...a: number[]) => void) | undefined>;
  const call = (name: string, args: number[]) => (): void => {
    A.gacc.fill(0, 0, 2 * Ls.total);
    K[name]!(...args, 0, n >> 1);
  };
  // the two kernels alternate, 7 rounds of ≈ 0.1 s each, best per kernel (the load drifts within a row)
  const runs = [
    call('hessg1', [X.byteOffset, y.byteOffset, k, 1, ...blocks]),
    call(`hess1k${k}`, [X.byteOffset, y.byteOffset]),
  ];
  const reps = Math.max(1, Math.round(100 / Math.max(perCall(runs[0]!, 1), 0.01)));
  const best = [Infinity, Infinity];
  for (let r = 0; r < 7; r++)
    runs.forEach((f, i) => {
      const t0 = cpuNow();
      for (let t = 0; t < reps; t++) f();
      best[i] = Math.min(best[i]!, (cpuNow() - t0) / reps);
    });
  const [g1, u] = best as [number, number];
  const f = (v: number): string => (Number.isNaN(v) ? '—' : v.toFixed(3));
  const ns = (v: number): string => (Number.isNaN(v) ? '—' : ((2e6 * v) / n).toFixed(0));
  return `| ${label} | ${f(g1)} | ${f(u)} | ${ns(g1)} / ${ns(u)} | ${(g1 / u).toFixed(2)}× |`;
}

console.log('\nThe d = 1 sum kernels alone (CPU ms per call, best of 7 alternating rounds; ns per row pair):\n');
console.log('| case | hessg1 ms | hess1k unrolled ms | ns per pair (hessg1 / unrolled) | hessg1 / unrolled |');
console.log('|---|---:|---:|---:|---:|');
for (const n of ns) {
  const data = simulate(demy, { n, seed: 5 });
  const near = { kind: 'near-truth' as const, truth: demy };
  const m = fitMoE(data, { gate: demy.gate, k: 3, init: near, seed: 1, maxIter: 20 }).model;
  console.log(kernelRow(`demy k = 3, d = 1, n = ${n}`, m, data));
  const t2 = truthFor(2, 1);
  console.log(kernelRow(`k = 2, d = 1, n = ${n}`, t2, simulate(t2, { n, seed: 1 })));
}
console.log(
  `\nload average at the end: ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
