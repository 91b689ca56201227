/**
 * npm run bench:gpu — time per EM iteration, CPU (Float64) backend vs the gpu.js backend, on a
 * grid of n and k (softmax gate, d = 1 unless --d), with the speed-up as a ratio measured in the
 * same run. Not part of the tests.
 *
 * Per-iteration time = (time of a fit with --iters iterations − time of the same fit with 0) / iterations
 * (best of two each; a fit that converges sooner divides by its own count), from the true model as
 * the start (so no k-means), after a warm-up fit that compiles the kernels.
 *
 * Without a real GPU (see probeGpu) the GPU column is skipped and the output says so; --emulate
 * webasm|cpu instead times the GPU code path on gpu.js's CPU backends (slower than the Float64 CPU
 * backend: useful only to see the overheads), for n ≤ --emulate-max-n.
 *
 * --parity instead measures the agreement of the gpu.js backend with the CPU backend (in gpu.js's
 * CPU mode, float32 rounding emulated, so it is the same on every machine; on a GPU add --parity-mode gpu)
 * for the truth presets at n = 1e4: the numbers quoted in docs/performance.md.
 *
 * Flags: --n 1e4,1e5,1e6,1e7  --k 2,4,8,16  --d 1  --iters 3  --seed 1  --max-gb <memory budget>
 *        --emulate webasm|cpu  --emulate-max-n 1e5  --parity  --parity-mode cpu|gpu
 */
import { cpus, freemem, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { fitMoE } from '../src/em/fit.js';
import {
  createBackend,
  createCpuBackend,
  createGpuBackend,
  expertMoments,
  probeGpu,
  type Backend,
} from '../src/em/backend/index.js';
import { modelFromParams, type Model } from '../src/models/types.js';
import { simulate } from '../src/models/sample.js';
import { truthPreset } from '../src/models/presets.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1e4,1e5,1e6,1e7' },
    k: { type: 'string', default: '2,4,8,16' },
    d: { type: 'string', default: '1' },
    iters: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    'max-gb': { type: 'string' },
    emulate: { type: 'string' },
    'emulate-max-n': { type: 'string', default: '1e5' },
    parity: { type: 'boolean', default: false },
    'parity-mode': { type: 'string', default: 'cpu' },
  },
});

function list(s: string, what: string): number[] {
  const out = s.split(',').map((t) => Number(t.trim()));
  for (const v of out)
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`--${what} must be a comma-separated list of positive integers. Value: ${s}`);
  return out;
}
const ns = list(values.n!, 'n');
const ks = list(values.k!, 'k');
const d = list(values.d!, 'd')[0]!;
const iters = list(values.iters!, 'iters')[0]!;
const seed = list(values.seed!, 'seed')[0]!;
const maxBytes =
  (values['max-gb'] !== undefined ? Number(values['max-gb']) : Math.min(totalmem() * 0.6, freemem() * 0.9) / 2 ** 30) *
  2 ** 30;
const emulate = values.emulate;
if (emulate !== undefined && emulate !== 'webasm' && emulate !== 'cpu')
  throw new Error(`--emulate must be webasm or cpu. Value: ${emulate}`);
const emulateMaxN = Number(values['emulate-max-n']);

/** A well-separated k-expert softmax truth in d dimensions (deterministic). */
function truth(k: number): Model {
  const mid = (k - 1) / 2;
  return modelFromParams(
    { kind: 'softmax' },
    {
      beta0: Array.from({ length: k }, () => 0),
      beta1: Array.from({ length: k }, (_, j) => Array.from({ length: d }, (_, a) => (a === 0 ? 6 * (j - mid) : 0))),
      a: Array.from({ length: k }, (_, j) => Array.from({ length: d }, (_, a) => (a === 0 ? 2 * (j - mid) : 1))),
      b: Array.from({ length: k }, (_, j) => 3 * (j - mid)),
      nu: Array.from({ length: k }, () => 0.05),
    },
  );
}

/** Bytes a fit holds: data, six n × k Float64 buffers, the float32 copies and one kernel's output. */
function bytes(n: number, k: number): number {
  return n * (d + 1) * 12 + n * k * (6 * 8 + 4) + Math.min(n * k, 2 ** 22) * 8;
}

function perIteration(
  data: ReturnType<typeof simulate>,
  m: Model,
  backend: Backend | 'cpu',
): { ms: number; iterations: number } {
  const base = { gate: m.gate, k: m.k, init: { kind: 'model' as const, model: m }, tol: 0, absTol: 0, backend };
  fitMoE(data, { ...base, maxIter: 1 }); // warm-up: compiles every kernel of this shape
  // best of two, against timer noise and garbage collections
  let t0 = Infinity;
  let t1 = Infinity;
  let iterations = 0;
  for (let rep = 0; rep < 2; rep++) {
    t0 = Math.min(t0, fitMoE(data, { ...base, maxIter: 0 }).seconds);
    const f = fitMoE(data, { ...base, maxIter: iters });
    t1 = Math.min(t1, f.seconds);
    iterations = f.iterations;
  }
  return { ms: ((t1 - t0) * 1000) / Math.max(1, iterations), iterations };
}

/** Agreement of the gpu.js backend with the CPU backend on the truth presets (n = 1e4, seed 1). */
function parity(mode: 'cpu' | 'gpu'): void {
  const n = 10_000;
  const gpuBe = mode === 'gpu' ? createBackend('gpu') : createGpuBackend({ mode: 'cpu' });
  const cpuBe = createCpuBackend();
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
  console.log(
    `# gpu.js backend (${mode === 'cpu' ? 'gpu.js CPU mode, float32 rounding emulated' : (gpuBe as { device?: string }).device}) vs the CPU backend, n = ${n}`,
  );
  console.log(
    '| truth | max abs δ log π | max abs δ r | δ log-lik per sample | resolution per sample | max rel δ N, Sxx, Sxy | max rel δ Σ r e² | fit: iterations CPU / gpu | fit: max rel δ parameter | fit: δ log-lik (exact) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const name of ['demy', 'topk1', 'temp', 'temp-tanh', 'temp-sigmoid', 'd2', 'k3']) {
    const m = truthPreset(name);
    const data = simulate(m, { n, seed: 1 });
    const { k } = m;
    const topk = m.gate.kind === 'topk';
    const bufs = () => ({
      lp: new Float64Array(n * k),
      pi: new Float64Array(n * k),
      mask: new Uint8Array(n * k),
      r: new Float64Array(n * k),
    });
    const a = bufs();
    const b = bufs();
    cpuBe.gateProbs(m, data.X, n, a.lp, a.pi, topk ? a.mask : null, topk ? 'compute' : 'none');
    gpuBe.gateProbs(m, data.X, n, b.lp, b.pi, topk ? b.mask : null, topk ? 'compute' : 'none');
    let dlp = 0;
    for (let t = 0; t < n * k; t++) if (a.lp[t] !== b.lp[t]) dlp = Math.max(dlp, Math.abs(a.lp[t]! - b.lp[t]!));
    const llA = cpuBe.eStep(m, data.X, data.y, n, a.lp, a.r);
    const llB = gpuBe.eStep(m, data.X, data.y, n, a.lp, b.r);
    const res = gpuBe.logLikResolution?.() ?? 0;
    let dr = 0;
    for (let t = 0; t < n * k; t++) dr = Math.max(dr, Math.abs(a.r[t]! - b.r[t]!));
    const ma = expertMoments(k, m.d);
    const mb = expertMoments(k, m.d);
    cpuBe.expertMoments(data.X, data.y, n, m.d, k, a.r, ma);
    gpuBe.expertMoments(data.X, data.y, n, m.d, k, a.r, mb);
    let dm = 0;
    for (const key of ['N', 'Sxx', 'Sxy'] as const)
      for (let t = 0; t < ma[key].length; t++) if (ma[key][t] !== 0) dm = Math.max(dm, rel(mb[key][t]!, ma[key][t]!));
    const ra = new Float64Array(k);
    const rb = new Float64Array(k);
    cpuBe.expertResiduals(m, data.X, data.y, n, a.r, ra);
    gpuBe.expertResiduals(m, data.X, data.y, n, a.r, rb);
    let dres = 0;
    for (let j = 0; j < k; j++) dres = Math.max(dres, rel(rb[j]!, ra[j]!));
    const opts = { gate: m.gate, k, init: { kind: 'near-truth' as const, truth: m, noise: 'fixed' as const }, seed: 2 };
    const fa = fitMoE(data, { ...opts, backend: 'cpu' });
    const fb = fitMoE(data, { ...opts, backend: gpuBe });
    let dp = 0;
    for (const key of ['beta0', 'beta1', 'a', 'b', 'nu'] as const)
      for (let t = 0; t < fa.model[key].length; t++)
        dp = Math.max(dp, Math.abs(fb.model[key][t]! - fa.model[key][t]!) / (Math.abs(fa.model[key][t]!) + 1e-3));
    dp = Math.max(dp, rel(fb.model.tau, fa.model.tau));
    const lpE = new Float64Array(n * k);
    cpuBe.gateProbs(
      fb.model,
      data.X,
      n,
      lpE,
      new Float64Array(n * k),
      topk ? new Uint8Array(n * k) : null,
      topk ? 'compute' : 'none',
    );
    const llExact = cpuBe.logLik(fb.model, data.X, data.y, n, lpE);
    console.log(
      `| ${name} | ${dlp.toExponential(1)} | ${dr.toExponential(1)} | ${((llB - llA) / n).toExponential(1)} | ${(res / n).toExponential(1)} | ${dm.toExponential(1)} | ${dres.toExponential(1)} | ${fa.iterations} / ${fb.iterations} | ${dp.toExponential(1)} | ${(llExact - fa.logLik).toExponential(1)} |`,
    );
  }
}

if (values.parity) {
  const pm = values['parity-mode'];
  if (pm !== 'cpu' && pm !== 'gpu') throw new Error(`--parity-mode must be cpu or gpu. Value: ${pm}`);
  parity(pm);
  process.exit(0);
}

const probe = probeGpu();
const cpu0 = cpus()[0];
console.log(
  `# gmoe bench:gpu — time per EM iteration (softmax gate, d = ${d}, ${iters} timed iterations from the true model)`,
);
console.log(
  `machine: ${cpu0?.model ?? 'unknown CPU'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; gpu.js ${probe.version ?? 'not installed'}`,
);
let gpu: Backend | null = null;
let gpuLabel = '';
if (probe.available) {
  gpu = createBackend('gpu');
  gpuLabel = `GPU (${probe.mode}: ${probe.renderer})`;
  console.log(`GPU: ${probe.reason}`);
} else {
  console.log(`GPU: none — ${probe.reason}.`);
  console.log(
    'The GPU column is skipped: GPU speed is unmeasured on this machine. Run `npm run bench:gpu` on a machine with a GPU to measure it.',
  );
  if (emulate) {
    gpu = createGpuBackend({ mode: emulate as 'cpu' | 'webasm' });
    gpuLabel = `gpu.js ${emulate} (CPU emulation, not a GPU)`;
    console.log(
      `--emulate ${emulate}: timing the GPU code path on gpu.js's ${emulate} backend instead (n ≤ ${emulateMaxN}); this is NOT a GPU measurement.`,
    );
  }
}
console.log('');
const header = gpu
  ? `| n | k | CPU ms/iter | ${gpuLabel} ms/iter | CPU / GPU |`
  : '| n | k | CPU ms/iter | sample·expert updates/s (CPU) |';
console.log(header);
console.log(gpu ? '|---:|---:|---:|---:|---:|' : '|---:|---:|---:|---:|');
for (const n of ns) {
  for (const k of ks) {
    if (bytes(n, k) > maxBytes) {
      console.log(
        `| ${n} | ${k} | skipped: needs ~${(bytes(n, k) / 2 ** 30).toFixed(1)} GiB (--max-gb ${(maxBytes / 2 ** 30).toFixed(1)}) | |${gpu ? ' |' : ''}`,
      );
      continue;
    }
    const m = truth(k);
    const data = simulate(m, { n, seed });
    const c = perIteration(data, m, 'cpu');
    if (!gpu) {
      console.log(`| ${n} | ${k} | ${c.ms.toFixed(2)} | ${((n * k) / (c.ms / 1000)).toExponential(2)} |`);
      continue;
    }
    if (!probe.available && n > emulateMaxN) {
      console.log(`| ${n} | ${k} | ${c.ms.toFixed(2)} | (skipped: n > --emulate-max-n) | |`);
      continue;
    }
    const g = perIteration(data, m, gpu);
    console.log(`| ${n} | ${k} | ${c.ms.toFixed(2)} | ${g.ms.toFixed(2)} | ${(c.ms / g.ms).toFixed(2)} |`);
  }
}
