/**
 * EM benchmark (softmax gate, CPU backend): time per EM iteration (E-step + experts M-step + gate
 * M-step) and per whole fit, for n = 1e3..1e6, k = 2..8, d = 1..10, printed as a Markdown table
 * with sample·expert updates per second. Run by `npm run bench:em` (never by the tests).
 *
 *   npm run bench:em                       # the default grid (a few minutes on 2 cores)
 *   npm run bench:em -- --quick            # a smaller grid
 *   npm run bench:em -- --n 1e5 --k 3 --d 1 --iters 20
 *   npm run bench:em -- --n 1e3 --no-anatomy      # skip the per-operation breakdown
 *   npm run bench:em -- --n 1e5 --k 3 --compare-js  # also the plain JS kernels (wasm: false), alternating
 *
 * Time per iteration = (time of a fit with m iterations − time of the same fit with 0) / m, with
 * tol = 0 so that every iteration runs and accelerate 'none' (plain EM iterations); the best of
 * `--repeats` runs. "Whole fit" is a fit from a near-truth start with the default options
 * (SQUAREM included), until it converges. Both wall-clock and CPU time are
 * shown: on a shared machine the CPU time is the steadier number. A baseline in the same run —
 * the time of n·k calls of Math.exp in a plain loop — makes runs on different machines or under
 * different load comparable (the "iter / exp" column: one iteration in units of n·k exponentials).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createCpuBackend, fitMoE } from '../src/em/index.js';
import { simulate } from '../src/models/sample.js';
import { truthPreset } from '../src/models/presets.js';
import { truthFor } from './truth.js';

interface Config {
  n: number;
  k: number;
  d: number;
}

function parseList(flag: string, fallback: number[]): number[] {
  const i = process.argv.indexOf(flag);
  if (i < 0) return fallback;
  return process.argv[i + 1]!.split(',').map(Number);
}
const argValue = (flag: string, fallback: number) => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const quick = process.argv.includes('--quick');
const repeats = argValue('--repeats', quick ? 1 : 3);
/** --compare-js: every row and the anatomy also with the JS kernels (fit option wasm: false) */
const compareJs = process.argv.includes('--compare-js');

function cpuSeconds<T>(f: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const wall = (performance.now() - t0) / 1000;
  const u = process.cpuUsage(c0);
  return { value, wall, cpu: (u.user + u.system) / 1e6 };
}

/** Seconds for `len` Math.exp calls in a plain loop (best of 9: on a shared machine the minimum is the steady value). */
function expBaseline(len: number): number {
  const a = new Float64Array(len);
  for (let t = 0; t < len; t++) a[t] = -((t * 0.6180339887) % 20);
  const out = new Float64Array(len);
  let best = Infinity;
  for (let r = 0; r < 9; r++) {
    const s = cpuSeconds(() => {
      for (let t = 0; t < len; t++) out[t] = Math.exp(a[t]!);
    });
    best = Math.min(best, s.cpu);
  }
  return best;
}

interface Row extends Config {
  iterWall: number;
  iterCpu: number;
  fitWall: number;
  fitIters: number;
  converged: boolean;
  updatesPerSec: number;
  expRatio: number;
}

function bench(cfg: Config, iters: number, wasm: boolean): Row {
  const truth = truthFor(cfg.k, cfg.d);
  const data = simulate(truth, { n: cfg.n, seed: 1 });
  const base = {
    gate: { kind: 'softmax' as const },
    k: cfg.k,
    init: { kind: 'near-truth' as const, truth, assign: 'ordered' as const },
    seed: 1,
    wasm,
  };
  // plain EM iterations (one E-step, one experts M-step, one gate M-step each): SQUAREM's
  // accepted extrapolations count as one iteration but cost several M-steps
  const plain = { ...base, accelerate: 'none' as const };
  fitMoE(data, { ...plain, maxIter: 2, tol: 0, absTol: 0 }); // warm-up: JIT
  let iterWall = Infinity;
  let iterCpu = Infinity;
  for (let r = 0; r < repeats; r++) {
    const zero = cpuSeconds(() => fitMoE(data, { ...plain, maxIter: 0 }));
    const m = cpuSeconds(() => fitMoE(data, { ...plain, maxIter: iters, tol: 0, absTol: 0 }));
    const ran = m.value.iterations;
    iterWall = Math.min(iterWall, (m.wall - zero.wall) / ran);
    iterCpu = Math.min(iterCpu, (m.cpu - zero.cpu) / ran);
  }
  const whole = cpuSeconds(() => fitMoE(data, base));
  const exp = expBaseline(cfg.n * cfg.k);
  return {
    ...cfg,
    iterWall,
    iterCpu,
    fitWall: whole.wall,
    fitIters: whole.value.iterations,
    converged: whole.value.converged,
    updatesPerSec: (cfg.n * cfg.k) / iterCpu,
    expRatio: iterCpu / exp,
  };
}

const fmtMs = (s: number) => (s * 1000 < 10 ? (s * 1000).toFixed(2) : (s * 1000).toFixed(1));
const fmtN = (n: number) => (n >= 1e3 && Number.isInteger(Math.log10(n)) ? `1e${Math.log10(n)}` : String(n));

function configs(): Config[] {
  const ns = parseList('--n', []);
  const ks = parseList('--k', []);
  const ds = parseList('--d', []);
  if (ns.length || ks.length || ds.length) {
    const out: Config[] = [];
    for (const n of ns.length ? ns : [1e5])
      for (const k of ks.length ? ks : [3]) for (const d of ds.length ? ds : [1]) out.push({ n, k, d });
    return out;
  }
  const grid: Config[] = [];
  const seen = new Set<string>();
  const add = (c: Config) => {
    const key = `${c.n}/${c.k}/${c.d}`;
    if (!seen.has(key)) {
      seen.add(key);
      grid.push(c);
    }
  };
  for (const n of quick ? [1e3, 1e4, 1e5] : [1e3, 1e4, 1e5, 1e6]) add({ n, k: 3, d: 1 }); // the target row: n = 1e5, k = 3, d = 1
  for (const k of quick ? [2, 8] : [2, 4, 8]) add({ n: 1e5, k, d: 1 });
  for (const d of quick ? [10] : [3, 10]) add({ n: 1e5, k: 3, d });
  if (!quick) {
    add({ n: 1e4, k: 8, d: 10 });
    add({ n: 1e6, k: 2, d: 1 });
  }
  return grid;
}

/**
 * Anatomy of one full iteration in the target setting (n = 1e5, k = 3, d = 1): the over-specified
 * demy fit of the papers, past its first iterations (EM in its slow phase, one Newton step per
 * gate M-step), with the backend's operations timed one by one.
 */
function anatomy(n: number, iters: number, wasm: boolean): void {
  const truth = truthPreset('demy');
  const data = simulate(truth, { n, seed: 1 });
  const be = createCpuBackend() as unknown as Record<string, unknown>;
  const calls: Record<string, number> = {};
  const cpuMs: Record<string, number> = {};
  let on = false;
  const wrapped: Record<string, unknown> = { name: 'cpu' };
  for (const [key, f] of Object.entries(be)) {
    if (typeof f !== 'function') continue;
    wrapped[key] = (...args: unknown[]) => {
      if (!on) return (f as (...a: unknown[]) => unknown)(...args);
      const c = process.cpuUsage();
      const r = (f as (...a: unknown[]) => unknown)(...args);
      const u = process.cpuUsage(c);
      calls[key] = (calls[key] ?? 0) + 1;
      cpuMs[key] = (cpuMs[key] ?? 0) + (u.user + u.system) / 1000;
      return r;
    };
  }
  const init = { kind: 'near-truth' as const, truth, assign: 'ordered' as const };
  const start = fitMoE(data, { gate: { kind: 'softmax' }, k: 3, init, seed: 1, maxIter: 50, accelerate: 'none', wasm });
  on = true;
  // CPU time of each iteration (record to record): on a shared machine the minimum and the median
  // are steadier than the mean, which one slice of another process can inflate
  const per: number[] = [];
  let last = 0;
  const cpuNow = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  const c0 = process.cpuUsage();
  const f = fitMoE(data, {
    gate: { kind: 'softmax' },
    k: 3,
    init: { kind: 'model', model: start.model },
    backend: wrapped as never,
    maxIter: iters,
    tol: 0,
    absTol: 0,
    accelerate: 'none',
    wasm,
    onIteration: ({ iteration }) => {
      const t = cpuNow();
      if (iteration > 0) per.push(t - last);
      last = t;
    },
  });
  const u = process.cpuUsage(c0);
  const total = (u.user + u.system) / 1000 / f.iterations;
  per.sort((a, b) => a - b);
  console.log(
    `\nOne iteration of the over-specified demy fit (n = ${fmtN(n)}, k = 3, d = 1), iterations 51–${50 + f.iterations}, CPU time, ${wasm ? 'WebAssembly SIMD kernels' : 'JS kernels (wasm: false)'}:\n`,
  );
  console.log('| operation | calls / iteration | ms / iteration |');
  console.log('|---|---:|---:|');
  for (const key of Object.keys(calls))
    console.log(`| ${key} | ${(calls[key]! / f.iterations).toFixed(2)} | ${(cpuMs[key]! / f.iterations).toFixed(2)} |`);
  console.log(`| **whole iteration** (incl. the EM loop and solves) | | **${total.toFixed(2)}** |`);
  const exp = expBaseline(n * 3) * 1000;
  console.log(`\nbaseline: ${fmtN(n * 3)} Math.exp calls take ${exp.toFixed(2)} ms here`);
  const med = per[per.length >> 1]!;
  console.log(
    `single iterations (CPU): min ${per[0]!.toFixed(2)} ms, median ${med.toFixed(2)} ms; iter / exp: min ${(per[0]! / exp).toFixed(2)}, median ${(med / exp).toFixed(2)}`,
  );
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`# bench:em — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpu}, ${availableParallelism()} cores, load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}, node ${process.version}`,
);
console.log(
  'softmax gate, CPU backend (Float64), one thread; fits from a near-truth start of a random truth with the same k\n',
);
console.log(
  `| n | k | d |${compareJs ? ' kernels |' : ''} ms / iteration (wall) | ms / iteration (CPU) | sample·expert updates / s | iter / exp | whole fit: s (iterations) |`,
);
console.log(`|---:|---:|---:|${compareJs ? '---|' : ''}---:|---:|---:|---:|---:|`);
for (const cfg of configs()) {
  const iters = argValue('--iters', cfg.n >= 1e6 ? 5 : cfg.n >= 1e5 ? 20 : 100);
  for (const wasm of compareJs ? [true, false] : [true]) {
    const r = bench(cfg, iters, wasm);
    const kern = compareJs ? ` ${wasm ? 'wasm' : 'js'} |` : '';
    console.log(
      `| ${fmtN(r.n)} | ${r.k} | ${r.d} |${kern} ${fmtMs(r.iterWall)} | ${fmtMs(r.iterCpu)} | ${(r.updatesPerSec / 1e6).toFixed(1)} M | ${r.expRatio.toFixed(1)} | ${r.fitWall.toFixed(2)} (${r.fitIters}${r.converged ? '' : ', not converged'}) |`,
    );
  }
}
if (!process.argv.includes('--no-anatomy')) {
  for (const wasm of compareJs ? [true, false] : [true])
    anatomy(argValue('--anatomy-n', 1e5), argValue('--anatomy-iters', 50), wasm);
}
