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
 * Time per iteration = (CPU time of a fit with m iterations − the same fit with 0) / m at tol = 0 with
 * accelerate 'none', best of `--repeats`; on a shared machine CPU time is the steadier number, and the
 * ratios within one run are what compare.
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

/** CPU seconds per plain EM iteration of the k-expert fit of a random d-dimensional truth. */
function perIteration(k: number, d: number, wasm: boolean): number {
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
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = cpuNow();
    fitMoE(data, { ...opts, maxIter: 0 });
    const t1 = cpuNow();
    const f = fitMoE(data, { ...opts, maxIter: iters, tol: 0, absTol: 0 });
    const t2 = cpuNow();
    best = Math.min(best, (t2 - t1 - (t1 - t0)) / f.iterations);
  }
  return best;
}

console.log(`# bench:kernels — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}, node ${process.version}; n = ${n}, ${iters} iterations, best of ${repeats}\n`,
);
// the k = 3, d = 1 SIMD baseline is timed again before every row: each row's ratio is to the baseline
// measured next to it (the load of a shared machine drifts over the run)
const rows: { k: number; d: number; simd: number; js: number; base: number }[] = [];
for (const d of ds) {
  for (const k of ks) {
    const base = perIteration(3, 1, true);
    const simd = perIteration(k, d, true);
    const js = perIteration(k, d, false);
    rows.push({ k, d, simd, js, base });
  }
}
const bases = rows.map((r) => r.base).sort((a, b) => a - b);
const med = bases[bases.length >> 1]!;
console.log(
  `baseline k = 3, d = 1 (SIMD), timed before each row: ${(bases[0]! * 1e3).toFixed(2)}–${(bases[bases.length - 1]! * 1e3).toFixed(2)} ms / iteration, median ${(med * 1e3).toFixed(2)} ms = ${((3 * n) / med / 1e6).toFixed(1)} M sample·expert updates / s\n`,
);
console.log(
  '| k | d | ms / iteration (SIMD) | M updates / s (SIMD) | per sample·expert vs k = 3, d = 1 | ms / iteration (JS) | M updates / s (JS) | SIMD speed-up |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const { k, d, simd, js, base } of rows) {
  const rate = (k * n) / simd;
  const baseRate = (3 * n) / base;
  console.log(
    `| ${k} | ${d} | ${(simd * 1e3).toFixed(2)} | ${(rate / 1e6).toFixed(1)} | ${(baseRate / rate).toFixed(2)}× | ${(js * 1e3).toFixed(2)} | ${((k * n) / js / 1e6).toFixed(1)} | ${(js / simd).toFixed(2)}× |`,
  );
}
console.log(
  `\nload average at the end: ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
