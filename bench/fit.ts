/**
 * Whole-fit benchmark of the optimizers (issue 15): for each cell and seed, the data are simulated
 * with that seed and fitted from the preset's near-truth start with that seed by
 *   - SQUAREM: today's default (optimizer 'em', accelerate 'squarem', tol 1e-10),
 *   - hybrid: optimizer 'hybrid' (EM/SQUAREM, then trust-region Newton; Newton-decrement stop),
 *   - reference: SQUAREM with tol 1e-15, absTol 0 (slow: `--reference-seeds`): its log-likelihood, and its
 *     time against the hybrid's (both run to convergence; the default tol 1e-10 often stops SQUAREM short).
 * Printed as a Markdown table: median CPU time of a whole fit (process CPU, steadier than wall time
 * on a shared machine; wall time beside it), median iterations, the median of the per-seed time
 * ratios SQUAREM / hybrid, and the final log-likelihoods against each other. Run by
 * `npm run bench:fit` (never by the tests); both optimizers run in the same process, alternating
 * per seed, so the ratios are measured under the same load.
 *
 *   npm run bench:fit                               # 20 seeds, 3 reference seeds
 *   npm run bench:fit -- --seeds 5 --reference-seeds 1
 *   npm run bench:fit -- --cells demy-1e4,k5-d2     # some cells only
 */
import { cpus, loadavg } from 'node:os';
import { fitMoE, type FitOptions, type FitResult } from '../src/em/index.js';
import { simulate } from '../src/models/sample.js';
import { modelFromParams, type GateSpec, type Model } from '../src/models/types.js';
import { truthPreset } from '../src/models/presets.js';

const argValue = (flag: string, fallback: string): string => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const seeds = Number(argValue('--seeds', '20'));
const referenceSeeds = Number(argValue('--reference-seeds', '3'));

/** A k* = 3, d = 2 softmax truth with separated experts (the "k* = 3 fitted with k = 5" cell). */
function k3d2(): Model {
  return modelFromParams(
    { kind: 'softmax' },
    {
      beta0: [-1, 1, 0],
      beta1: [
        [5, -2],
        [-3, 4],
        [0, 0],
      ],
      a: [
        [-3, 1],
        [2, 2],
        [0.5, -2],
      ],
      b: [1, -1, 0.5],
      nu: [0.05, 0.08, 0.06],
    },
  );
}

interface Cell {
  name: string;
  label: string;
  truth: () => Model;
  gate: GateSpec;
  k: number;
  n: number;
  init: Partial<Extract<FitOptions['init'], { kind: 'near-truth' }>>;
}

const CELLS: Cell[] = [
  {
    name: 'demy-1e4',
    label: 'demy k = 3, n = 1e4',
    truth: () => truthPreset('demy'),
    gate: { kind: 'softmax' },
    k: 3,
    n: 1e4,
    init: {},
  },
  {
    name: 'demy-1e5',
    label: 'demy k = 3, n = 1e5',
    truth: () => truthPreset('demy'),
    gate: { kind: 'softmax' },
    k: 3,
    n: 1e5,
    init: {},
  },
  {
    name: 'topk-over',
    label: 'topk-over (k = 3, K = 2), n = 5000',
    truth: () => truthPreset('topk1'),
    gate: { kind: 'topk', K: 2, selectOn: 'logit' },
    k: 3,
    n: 5000,
    init: {},
  },
  {
    name: 'temp-over-tanh',
    label: 'temp-over tanh (k = 3), n = 1e4',
    truth: () => truthPreset('temp-tanh'),
    gate: { kind: 'activation', activation: 'tanh', bias: 'outside' },
    k: 3,
    n: 1e4,
    init: { noise: 'fixed', noiseScale: 10 },
  },
  {
    name: 'temp-over-identity',
    label: 'temp-over identity (k = 3), n = 1e4',
    truth: () => truthPreset('temp'),
    gate: { kind: 'temperature' },
    k: 3,
    n: 1e4,
    init: { noise: 'fixed', noiseScale: 10 },
  },
  {
    name: 'k5-d2',
    label: 'k* = 3 fitted with k = 5, d = 2, n = 1e4',
    truth: k3d2,
    gate: { kind: 'softmax' },
    k: 5,
    n: 1e4,
    init: {},
  },
];

interface Run {
  cpu: number;
  wall: number;
  fit: FitResult;
}

function timed(data: ReturnType<typeof simulate>, opts: FitOptions): Run {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const fit = fitMoE(data, opts);
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall, fit };
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : 0.5 * (s[m - 1]! + s[m]!);
};
const fmt = (v: number, digits = 2) => (Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(digits) : v.toExponential(1));

const only = argValue('--cells', '');
const cells = only ? CELLS.filter((c) => only.split(',').includes(c.name)) : CELLS;
const load0 = loadavg();
console.log(
  `bench:fit — ${seeds} seeds (${referenceSeeds} with the tol-1e-15 reference), ${cpus().length} CPUs, load average ${load0.map((v) => v.toFixed(2)).join(' ')} at the start`,
);
const rows: string[] = [];
for (const cell of cells) {
  const truth = cell.truth();
  const sq: Run[] = [];
  const hy: Run[] = [];
  const gapRef: number[] = [];
  const refRatio: number[] = [];
  const gapSq: number[] = [];
  let belowRef = 0;
  let ndCount = 0;
  const stops = new Map<string, number>();
  for (let s = 1; s <= seeds; s++) {
    const data = simulate(truth, { n: cell.n, seed: s });
    const base: FitOptions = { gate: cell.gate, k: cell.k, init: { kind: 'near-truth', truth, ...cell.init }, seed: s };
    const a = timed(data, base);
    const b = timed(data, { ...base, optimizer: 'hybrid' });
    sq.push(a);
    hy.push(b);
    gapSq.push(b.fit.logLik - a.fit.logLik);
    if (b.fit.hybrid?.negativeDefinite) ndCount++;
    stops.set(b.fit.stopReason, (stops.get(b.fit.stopReason) ?? 0) + 1);
    if (s <= referenceSeeds) {
      const ref = timed(data, { ...base, tol: 1e-15, absTol: 0, maxIter: 200_000 });
      const r = ref.fit;
      refRatio.push(ref.cpu / b.cpu);
      const gap = b.fit.logLik - r.logLik;
      gapRef.push(gap);
      if (gap < -1e-6) belowRef++;
      process.stderr.write(
        `  ${cell.name} seed ${s}: reference ${r.logLik.toFixed(6)} (${r.iterations} it, ${ref.cpu.toFixed(2)} s, ${r.stopReason}), hybrid − reference ${gap.toExponential(2)}\n`,
      );
    }
    process.stderr.write(
      `  ${cell.name} seed ${s}: SQUAREM ${a.cpu.toFixed(2)} s / ${a.fit.iterations} it, hybrid ${b.cpu.toFixed(2)} s / ${b.fit.iterations} it (${b.fit.hybrid?.hessians} H, ${b.fit.stopReason}), Δℓ ${(b.fit.logLik - a.fit.logLik).toExponential(2)}\n`,
    );
  }
  const ratio = median(sq.map((r, i) => r.cpu / hy[i]!.cpu));
  rows.push(
    [
      cell.label,
      `${fmt(median(sq.map((r) => r.cpu)))} (${fmt(median(sq.map((r) => r.wall)))})`,
      String(median(sq.map((r) => r.fit.iterations))),
      `${fmt(median(hy.map((r) => r.cpu)))} (${fmt(median(hy.map((r) => r.wall)))})`,
      `${median(hy.map((r) => r.fit.iterations))} / ${median(hy.map((r) => r.fit.hybrid?.hessians ?? 0))}`,
      `${ratio.toFixed(2)}×`,
      `${fmt(Math.min(...gapSq), 3)} / ${fmt(median(gapSq), 3)}`,
      gapRef.length ? `${fmt(Math.min(...gapRef), 3)} (${belowRef} of ${gapRef.length} below −1e-6)` : '—',
      refRatio.length ? `${median(refRatio).toFixed(1)}× (${refRatio.length})` : '—',
      `${ndCount}/${seeds}; ${[...stops].map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ].join(' | '),
  );
}
const load1 = loadavg();
console.log('');
console.log(
  '| cell | SQUAREM CPU s (wall) | SQUAREM it | hybrid CPU s (wall) | hybrid it / Hessians | time ratio (median) | ℓ hybrid − SQUAREM: min / median | ℓ hybrid − tol-1e-15: min | time ratio tol-1e-15 / hybrid (median, seeds) | −H pos. def.; stops |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r} |`);
console.log('');
console.log(`load average ${load1.map((v) => v.toFixed(2)).join(' ')} at the end`);
