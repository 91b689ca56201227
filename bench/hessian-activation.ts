/**
 * Exact-Hessian benchmark of the activation gates (issue 15, the hybrid optimizer's cost per Newton
 * step on the temp-over cells): CPU time of one value + gradient + exact Hessian by the reference JS loop
 * (src/em/inference/hessian.ts), by the block-sum fast path's JS loop (src/em/inference/hessian-activation.ts)
 * and by its WebAssembly SIMD kernel (the data in an arena, as a fit's; src/em/backend/cpu/activation-hessian.ts),
 * in one process, with the kernel's largest relative difference to the reference. The temp-over tanh cell of bench/fit.ts
 * (k = 3, d = 1, the model after 20 SQUAREM iterations from its near-truth start) at each n, plus a few
 * other gates and shapes at the last n. Ratios are what compare (shared machine). Run by
 * `npm run bench:hessian-activation` (never by the tests).
 *
 *   npm run bench:hessian-activation                  # n = 1e4 and 1e5
 *   npm run bench:hessian-activation -- --n 1e4       # one size
 */
import { cpus, loadavg } from 'node:os';
import { fitMoE } from '../src/em/index.js';
import { logLikDerivatives } from '../src/em/inference/hessian.js';
import { activationHessianSimd, activationLogLikDerivatives } from '../src/em/inference/hessian-activation.js';
import { createArena } from '../src/em/backend/simd/arena.js';
import { paramLayout } from '../src/em/inference/params.js';
import { normalizeGate } from '../src/em/gates/layout.js';
import { simulate } from '../src/models/sample.js';
import { truthPreset } from '../src/models/presets.js';
import type { Dataset, GateSpec, Model } from '../src/models/types.js';
import { createRng } from '../src/random/rng.js';

const arg = (flag: string, fallback: string): string => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const ns = arg('--n', '1e4,1e5').split(',').map(Number);

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};

/** CPU ms per call of f: the best of 3 rounds of enough calls for ≈ 0.3 s of the first round's estimate. */
function perCall(f: () => void): number {
  const t0 = cpuNow();
  f();
  const once = Math.max(cpuNow() - t0, 0.01);
  const reps = Math.max(1, Math.min(200, Math.round(300 / once)));
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t1 = cpuNow();
    for (let i = 0; i < reps; i++) f();
    best = Math.min(best, (cpuNow() - t1) / reps);
  }
  return best;
}

/** max |u − v| / max |u| */
function relDiff(u: Float64Array, v: Float64Array): number {
  let scale = 0,
    diff = 0;
  for (let t = 0; t < u.length; t++) {
    scale = Math.max(scale, Math.abs(u[t]!));
    diff = Math.max(diff, Math.abs(u[t]! - v[t]!));
  }
  return diff / scale;
}

function row(label: string, m: Model, data: Dataset, tauMode: 'free' | 'fixed' = 'free'): string {
  const L = paramLayout(m.gate, m.k, m.d, { tauMode });
  normalizeGate(L.gate, m);
  const A = createArena([data.n * data.d, data.n]);
  if (!A) throw new Error('no WebAssembly SIMD here');
  const inArena: Dataset = { ...data, X: A.copy(data.X), y: A.copy(data.y) };
  if (!activationHessianSimd(m, inArena)) throw new Error(`the kernel does not cover ${label}`);
  const ref = logLikDerivatives(L, m, data);
  const fast = activationLogLikDerivatives(L, m, inArena);
  if (!fast) throw new Error(`the fast path does not cover ${label}`);
  const diff = Math.max(relDiff(ref.gradient, fast.gradient), relDiff(ref.hessian!, fast.hessian!));
  const tRef = perCall(() => logLikDerivatives(L, m, data));
  const tJs = perCall(() => activationLogLikDerivatives(L, m, data));
  const tSimd = perCall(() => activationLogLikDerivatives(L, m, inArena));
  const f = (v: number): string => v.toFixed(v < 1 ? 3 : 2);
  const x = (a: number, b: number): string => `${(a / b).toFixed(1)}×`;
  return `| ${label} | ${L.P} | ${f(tRef)} | ${f(tJs)} | ${f(tSimd)} | ${x(tRef, tJs)} | ${x(tJs, tSimd)} | ${diff.toExponential(1)} |`;
}

/** A random model of the gate with k experts in d dimensions, and n samples from it (seeded). */
function randomCase(gate: GateSpec, k: number, d: number, n: number, seed: number): { m: Model; data: Dataset } {
  const rng = createRng(seed);
  const r = (s: number, sd = 1) => Float64Array.from({ length: s }, () => sd * rng.normal());
  const m: Model = {
    gate,
    k,
    d,
    beta0: r(k),
    beta1: r(k * d, 2),
    a: r(k * d, 2),
    b: r(k, 2),
    nu: Float64Array.from({ length: k }, () => 0.05 + 0.2 * rng.uniform()),
    tau: 0.8,
  };
  return { m, data: simulate(m, { n, seed }) };
}

console.log(`# bench:hessian-activation — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}, node ${process.version}; CPU ms per call (value, gradient, exact Hessian), best of 3 rounds\n`,
);
console.log(
  '| case | P | reference ms | JS block sums ms | SIMD kernel ms | reference / JS | JS / kernel | kernel max rel. diff |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
const truth = truthPreset('temp-tanh');
const tanhOut: GateSpec = { kind: 'activation', activation: 'tanh', bias: 'outside' };
for (const n of ns) {
  // the temp-over tanh cell of bench/fit.ts: k = 3 from its near-truth start, 20 SQUAREM iterations in
  const data = simulate(truth, { n, seed: 5 });
  const init = { kind: 'near-truth' as const, truth, noise: 'fixed' as const, noiseScale: 10 };
  const m = fitMoE(data, { gate: tanhOut, k: 3, init, seed: 1, maxIter: 20 }).model;
  console.log(row(`temp-over tanh outside, k = 3, d = 1, n = ${n}`, m, data));
  if (n === ns[ns.length - 1]) console.log(row(`  the same, τ fixed, n = ${n}`, m, data, 'fixed'));
  // the temperature gate (σ = identity) on the same data and model
  const mt: Model = { ...m, gate: { kind: 'temperature' } };
  console.log(row(`temperature, k = 3, d = 1, n = ${n}`, mt, data));
}
const n = ns[ns.length - 1]!;
const others: Array<[string, GateSpec, number, number]> = [
  ['temperature', { kind: 'temperature' }, 3, 1],
  ['tanh inside', { kind: 'activation', activation: 'tanh', bias: 'inside' }, 3, 1],
  ['sigmoid outside', { kind: 'activation', activation: 'sigmoid', bias: 'outside' }, 3, 1],
  ['tanh outside', tanhOut, 3, 2],
  ['tanh outside', tanhOut, 5, 2],
  ['tanh outside', tanhOut, 8, 4],
];
for (const [name, gate, k, d] of others) {
  const { m, data } = randomCase(gate, k, d, n, 17 + k + d);
  console.log(row(`${name}, k = ${k}, d = ${d}, n = ${n}`, m, data));
}
console.log(
  `\nload average at the end: ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
