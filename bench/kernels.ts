/**
 * Kernel grid benchmark (softmax gate, CPU backend): CPU time per EM iteration (E-step + experts
 * M-step + gate M-step) for k = 2..8 and d = 1..4 at n = 1e5, with the WebAssembly SIMD kernels and
 * with the JS kernels (fit option wasm: false), both in one run, as sample·expert updates per second
 * and as a ratio to the k = 3, d = 1 SIMD row's throughput per sample·expert (timed again before each
 * row, in the same run; the target: every row within 2×). Run by `npm run bench:kernels` (never by the tests).
 *
 *   npm run bench:kernels                          # the grid, n = 1e5
 *   npm run bench:kernels -- --n 2e4 --k 2,4,8 --d 1,4 --iters 10 --repeats 2
 *
 * Time per iteration = (CPU time of a fit with m + 1 iterations − the same fit with 1) / m at tol = 0 with
 * accelerate 'none', each the best of `--repeats`: the steady state, without the first iteration's per-fit
 * work (the moments' exact second pass from unshifted sums, the gate M-step's longest Newton run), which
 * has its own column (fit with 1 iteration − fit with 0). On a shared machine CPU time is the steadier
 * number, and the ratios within one run are what compare.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fitMoE } from '../src/em/index.js';
import { simulate } from '../src/models/sample.js';
import { truthFor } from './truth.js';

const arg = (flag: string, fallback: string): string => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const list = (flag: string, fallback: string): number[] => arg(flag, fallback).split(',').map(Number);
const n = Number(arg('--n', '1e5'));
const iters = Number(arg('--iters', '10'));
const repeats = Number(arg('--repeats', '3'));
const ks = list('--k', '2,3,4,5,6,7,8');
const ds = list('--d', '1,2,3,4');

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * CPU seconds per plain EM iteration of the k-expert fit of a random d-dimensional truth, in the steady
 * state (iterations 2 .. iters + 1: the first one does per-fit work once — the moments' first pass
 * without shifts and its exact second pass, the gate's longest M-step from the start), and the first
 * iteration's own cost.
 */
function perIteration(k: number, d: number, wasm: boolean): { steady: number; first: number } {
  const truth = truthFor(k, d);
  const data = simulate(truth, { n, seed: 1 });
  const opts = {
    gate: { kind: 'softmax' as const },
    k,
    init: { kind: 'near-truth' as const, truth, assign: 'ordered' as const },
    seed: 1,
    wasm,
    accelerate: 'none' as const,
  };
  fitMoE(data, { ...opts, maxIter: 2, tol: 0, absTol: 0 }); // warm-up: JIT
  // the least disturbed timing of each fit (minimum over repeats), then their differences
  const best = [Infinity, Infinity, Infinity];
  let ran = iters + 1;
  for (let r = 0; r < repeats; r++)
    [0, 1, iters + 1].forEach((m, t) => {
      const t0 = cpuNow();
      const it = fitMoE(data, { ...opts, maxIter: m, tol: 0, absTol: 0 }).iterations;
      best[t] = Math.min(best[t]!, cpuNow() - t0);
      if (t === 2) ran = it;
    });
  return { steady: (best[2]! - best[1]!) / (ran - 1), first: best[1]! - best[0]! };
}

console.log(`# bench:kernels — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}, node ${process.version}; n = ${n}, ${iters} iterations, best of ${repeats}\n`,
);
// the k = 3, d = 1 SIMD baseline is timed again before every row: each row's ratio is to the baseline
// measured next to it (the load of a shared machine drifts over the run)
const rows: { k: number; d: number; simd: number; first: number; js: number; base: number }[] = [];
for (const d of ds) {
  for (const k of ks) {
    const base = perIteration(3, 1, true).steady;
    const { steady: simd, first } = perIteration(k, d, true);
    const js = perIteration(k, d, false).steady;
    rows.push({ k, d, simd, first, js, base });
  }
}
const bases = rows.map((r) => r.base).sort((a, b) => a - b);
const med = bases[bases.length >> 1]!;
console.log(
  `baseline k = 3, d = 1 (SIMD), timed before each row: ${(bases[0]! * 1e3).toFixed(2)}–${(bases[bases.length - 1]! * 1e3).toFixed(2)} ms / iteration, median ${(med * 1e3).toFixed(2)} ms = ${((3 * n) / med / 1e6).toFixed(1)} M sample·expert updates / s\n`,
);
console.log(
  '| k | d | ms / iteration (SIMD) | M updates / s (SIMD) | per sample·expert vs k = 3, d = 1 | first iteration ms (SIMD) | ms / iteration (JS) | M updates / s (JS) | SIMD speed-up |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const { k, d, simd, first, js, base } of rows) {
  const rate = (k * n) / simd;
  const baseRate = (3 * n) / base;
  console.log(
    `| ${k} | ${d} | ${(simd * 1e3).toFixed(2)} | ${(rate / 1e6).toFixed(1)} | ${(baseRate / rate).toFixed(2)}× | ${(first * 1e3).toFixed(1)} | ${(js * 1e3).toFixed(2)} | ${((k * n) / js / 1e6).toFixed(1)} | ${(js / simd).toFixed(2)}× |`,
  );
}
console.log(
  `\nload average at the end: ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
