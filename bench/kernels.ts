/**
 * Kernel grid benchmark (issue 15, item 3; softmax gate, CPU backend): the kernel work of one EM
 * iteration — the E-step, the experts' moments, the gate's gradient and curvature, a gate pass with Q (the
 * trial of the gate's Newton step) and a gradient pass (its convergence check) — at a fixed model (the
 * truth, responsibilities from its E-step) on n = 1e5 of its samples, for k = 2..8 and d = 1..4, with the
 * WebAssembly SIMD kernels and with the JS kernels (createCpuBackend({ simd: false })), as sample·expert
 * updates per second and as a ratio to the k = 3, d = 1 SIMD row's throughput per sample·expert (timed
 * again before each row, in the same run; the target: every row within 2×). Run by `npm run bench:kernels`
 * (never by the tests).
 *
 *   npm run bench:kernels                          # the grid, n = 1e5
 *   npm run bench:kernels -- --n 2e4 --k 2,4,8 --d 1,4 --rounds 3
 *
 * Each kernel's time is the best over `--rounds` rounds of `--calls` calls (CPU time; on a shared machine
 * the least disturbed round), the iteration's the sum of its kernels'. Why kernels at a fixed model rather
 * than a fit's iterations (this bench until session 12): a fit's gate M-step takes 0 to 3 and more Newton
 * steps per EM iteration as the fit progresses (each a curvature and a gate pass), which moved the time
 * per iteration of one and the same shape by 2–4× between runs — a measure of the fit, not of the kernels.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createCpuBackend } from '../src/em/index.js';
import { createArena } from '../src/em/backend/simd/arena.js';
import { expertMoments } from '../src/em/backend/types.js';
import { gateLayout } from '../src/em/gates/layout.js';
import { simulate } from '../src/models/sample.js';
import { truthFor } from './truth.js';

const arg = (flag: string, fallback: string): string => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const list = (flag: string, fallback: string): number[] => arg(flag, fallback).split(',').map(Number);
const n = Number(arg('--n', '1e5'));
const rounds = Number(arg('--rounds', '7'));
const calls = Number(arg('--calls', '3'));
const ks = list('--k', '2,3,4,5,6,7,8');
const ds = list('--d', '1,2,3,4');

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const PARTS = ['E-step', 'gate pass', 'moments', 'gradient + curvature', 'gradient'] as const;
type Part = (typeof PARTS)[number];

/** The kernel calls of one EM iteration for a k-expert, d-dimensional truth (SIMD: data in an arena). */
function iteration(k: number, d: number, simd: boolean): Record<Part, () => void> {
  const m = truthFor(k, d);
  const data = simulate(m, { n, seed: 1 });
  const A = simd ? createArena([n * d, n, n * k, n * k, n * k, n * k, n * k]) : null;
  if (simd && A === null) throw new Error('bench:kernels: no WebAssembly SIMD on this machine');
  const arr = (len: number): Float64Array => A?.alloc(len) ?? new Float64Array(len);
  const X = A ? A.copy(data.X) : data.X,
    y = A ? A.copy(data.y) : data.y;
  const [logPi, pi, resp, logPi2, pi2] = [0, 1, 2, 3, 4].map(() => arr(n * k)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const be = createCpuBackend({ simd });
  be.gateProbs(m, X, n, logPi, pi, null, 'none');
  be.eStep(m, X, y, n, logPi, resp);
  const L = gateLayout(m.gate, k, d, 'fixed');
  const grad = new Float64Array(L.p),
    curv = new Float64Array(L.p * L.p),
    none = new Float64Array(0);
  const mom = expertMoments(k, d);
  be.expertMoments(X, y, n, d, k, resp, mom); // the first call's exact second pass, once
  return {
    'E-step': () => be.eStep(m, X, y, n, logPi, resp),
    'gate pass': () => be.gateProbs(m, X, n, logPi2, pi2, null, 'none', resp),
    moments: () => be.expertMoments(X, y, n, d, k, resp, mom),
    'gradient + curvature': () => be.gateGradCurv(L, X, n, resp, pi, none, none, none, 1, grad, curv),
    gradient: () => be.gateGradCurv(L, X, n, resp, pi, none, none, none, 1, grad, null),
  };
}

/**
 * CPU seconds per call of each kernel of each set: the best round of `calls` calls. The sets take turns
 * kernel by kernel within every round, so that a drift of the machine's speed reaches them alike.
 */
function timeSets(sets: Record<Part, () => void>[]): Record<Part, number>[] {
  const best = sets.map(() => Object.fromEntries(PARTS.map((p) => [p, Infinity])) as Record<Part, number>);
  for (const set of sets) for (const p of PARTS) set[p](); // warm-up: JIT
  for (let r = 0; r < rounds; r++)
    for (const p of PARTS)
      sets.forEach((set, i) => {
        const t0 = cpuNow();
        for (let c = 0; c < calls; c++) set[p]();
        best[i]![p] = Math.min(best[i]![p], (cpuNow() - t0) / calls);
      });
  return best;
}
const total = (t: Record<Part, number>): number => PARTS.reduce((s, p) => s + t[p], 0);

console.log(`# bench:kernels — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}, node ${process.version}; n = ${n}, best of ${rounds} rounds of ${calls} calls\n`,
);
// the k = 3, d = 1 SIMD baseline is timed again with every row, taking turns with it: each row's ratio
// is to the baseline measured alongside (the load of a shared machine drifts over the run)
const baseParts = iteration(3, 1, true);
const rows: { k: number; d: number; simd: Record<Part, number>; js: number; base: number }[] = [];
for (const d of ds) {
  for (const k of ks) {
    const [base, simd, js] = timeSets([baseParts, iteration(k, d, true), iteration(k, d, false)]) as [
      Record<Part, number>,
      Record<Part, number>,
      Record<Part, number>,
    ];
    rows.push({ k, d, simd, js: total(js), base: total(base) });
  }
}
const bases = rows.map((r) => r.base).sort((a, b) => a - b);
const med = bases[bases.length >> 1]!;
console.log(
  `baseline k = 3, d = 1 (SIMD), timed with each row: ${(bases[0]! * 1e3).toFixed(2)}–${(bases[bases.length - 1]! * 1e3).toFixed(2)} ms per iteration's kernels, median ${(med * 1e3).toFixed(2)} ms = ${((3 * n) / med / 1e6).toFixed(1)} M sample·expert updates / s\n`,
);
console.log(
  `| k | d | ms / iteration (SIMD) | M updates / s (SIMD) | per sample·expert vs k = 3, d = 1 | ${PARTS.join(' / ')} ms (SIMD) | ms / iteration (JS) | M updates / s (JS) | SIMD speed-up |`,
);
console.log('|---:|---:|---:|---:|---:|---|---:|---:|---:|');
for (const { k, d, simd, js, base } of rows) {
  const t = total(simd);
  const rate = (k * n) / t;
  const baseRate = (3 * n) / base;
  const parts = PARTS.map((p) => (simd[p] * 1e3).toFixed(2)).join(' / ');
  console.log(
    `| ${k} | ${d} | ${(t * 1e3).toFixed(2)} | ${(rate / 1e6).toFixed(1)} | ${(baseRate / rate).toFixed(2)}× | ${parts} | ${(js * 1e3).toFixed(2)} | ${((k * n) / js / 1e6).toFixed(1)} | ${(js / t).toFixed(2)}× |`,
  );
}
console.log(
  `\nload average at the end: ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
