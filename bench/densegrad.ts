/**
 * Activation-gate sums benchmark (CPU backend): CPU time of one gradient + Fisher + exact-Hessian
 * pass (Backend denseGradHess, as the exact-Newton gate M-step calls it) at n = 1e5 for k = 2..8,
 * d = 1..4 outside d = 1 with k ≤ 3, through the generic SIMD kernel densegradg_<σ> and through
 * the JS path the same shape took before it (d = 1: activation-grad.ts denseSums1; d ≥ 2:
 * Gate.logitDerivs + the generic gateGradCurv loop, which gives the Fisher curvature only), both in
 * one run; and per sample·expert against the k = 3, d = 1 fused kernel densegrad3_<σ> (timed again
 * before each row). Run by `npm run bench:densegrad` (never by the tests).
 *
 *   npm run bench:densegrad                                # tanh, the grid
 *   npm run bench:densegrad -- --act sigmoid --k 4,8 --d 1,4 --repeats 3
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createCpuBackend, gateLayout } from '../src/em/index.js';
import { denseGradHess1 } from '../src/em/backend/cpu/activation-grad.js';
import { createArena } from '../src/em/backend/simd/arena.js';
import type { Backend } from '../src/em/backend/types.js';
import type { DenseGateKernels } from '../src/em/backend/cpu/activation-grad.js';
import { getGate } from '../src/models/gates/index.js';
import type { GateSpec, Model } from '../src/models/types.js';
import { createRng } from '../src/random/rng.js';
import { ACTIVATION_DESCRIPTORS } from '../src/math/activations.js';

const arg = (flag: string, fallback: string): string => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const list = (flag: string, fallback: string): number[] => arg(flag, fallback).split(',').map(Number);
const n = Number(arg('--n', '1e5'));
const repeats = Number(arg('--repeats', '5'));
const act = arg('--act', 'tanh');
const ks = list('--k', '2,3,4,5,6,7,8');
const ds = list('--d', '1,2,3,4');
const be = createCpuBackend() as Backend & Required<DenseGateKernels>;
const gate = { kind: 'activation', activation: act, bias: 'outside' } as GateSpec;
const code = ACTIVATION_DESCRIPTORS.find((a) => a.name === act)?.code ?? -1;
if (code < 0) throw new Error(`--act: ${act} has no gradient kernels`);

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** best CPU seconds of one call over `repeats` timings of 3 calls */
function best(f: () => void): number {
  f();
  let t = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = cpuNow();
    for (let c = 0; c < 3; c++) f();
    t = Math.min(t, (cpuNow() - t0) / 3);
  }
  return t;
}

/** seconds per pass: [SIMD (arena arrays), the previous JS path (plain arrays)] */
function timeShape(k: number, d: number): [number, number] {
  const rng = createRng(k * 10 + d);
  const m: Model = {
    gate,
    k,
    d,
    beta0: Float64Array.from({ length: k }, () => rng.normal()),
    beta1: Float64Array.from({ length: k * d }, () => rng.normal() / Math.sqrt(d)),
    a: new Float64Array(k * d),
    b: new Float64Array(k),
    nu: new Float64Array(k).fill(1),
    tau: 0.8,
  };
  const A = createArena([n * d, n * k, n * k, n * k])!;
  const X = A.alloc(n * d);
  for (let t = 0; t < n * d; t++) X[t] = rng.normal();
  const resp = A.alloc(n * k);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += resp[i * k + j] = rng.uniform();
    for (let j = 0; j < k; j++) resp[i * k + j] = resp[i * k + j]! / s;
  }
  const pi = A.alloc(n * k);
  be.gateProbs(m, X, n, A.alloc(n * k), pi, null, 'none');
  const [Xj, rj, pj] = [X.slice(), resp.slice(), pi.slice()];
  const L = gateLayout(gate, k, d, 'free');
  const g = new Float64Array(L.p),
    F = new Float64Array(L.p * L.p),
    H = new Float64Array(L.p * L.p);
  const simd = best(() => be.denseGradHess(m, L, X, n, resp, pi, g, F, H));
  let js: number;
  if (d === 1) js = best(() => denseGradHess1(code, m, L, Xj, n, rj, pj, g, F, H, false));
  else {
    const [dB0, dU, dT] = [new Float64Array(n * k), new Float64Array(n * k), new Float64Array(n * k)];
    js = best(() => {
      getGate(gate).logitDerivs(m, Xj, n, dB0, dU, dT);
      be.gateGradCurv({ ...L, linear: false }, Xj, n, rj, pj, dB0, dU, dT, m.tau, g, F);
    });
  }
  return [simd, js];
}

console.log(`# bench:densegrad (${act}) — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}, node ${process.version}; n = ${n}, best of ${repeats}\n`,
);
const rows: { k: number; d: number; simd: number; js: number; base: number }[] = [];
for (const d of ds)
  for (const k of ks) {
    if (d === 1 && k <= 3) continue;
    const base = timeShape(3, 1)[0];
    const [simd, js] = timeShape(k, d);
    rows.push({ k, d, simd, js, base });
  }
const bases = rows.map((r) => r.base).sort((a, b) => a - b);
console.log(
  `baseline k = 3, d = 1 (densegrad3_*), timed before each row: ${(bases[0]! * 1e3).toFixed(2)}–${(bases[bases.length - 1]! * 1e3).toFixed(2)} ms / pass, median ${(bases[bases.length >> 1]! * 1e3).toFixed(2)} ms\n`,
);
console.log(
  '| k | d | ms / pass (SIMD) | per sample·expert vs k = 3, d = 1 | ms / pass (previous JS) | SIMD speed-up |',
);
console.log('|---:|---:|---:|---:|---:|---:|');
for (const { k, d, simd, js, base } of rows)
  console.log(
    `| ${k} | ${d} | ${(simd * 1e3).toFixed(2)} | ${(simd / k / (base / 3)).toFixed(2)}× | ${(js * 1e3).toFixed(2)} | ${(js / simd).toFixed(2)}× |`,
  );
console.log(
  `\nload average at the end: ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
