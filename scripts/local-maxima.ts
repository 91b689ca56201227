/**
 * Local maxima at demy-over's sizes (docs/experiments.md, docs/fitting.md "Prefit starts"): demy data, k = 3,
 * the hybrid optimizer, near-truth starts as the preset takes them, against starts prefitted on every m-th sample.
 *
 *   npx tsx scripts/local-maxima.ts compare [n=1e5] [sets=20] [m=10] [starts=5] [truth=demy]
 *     per data set (seeds 2001..): the best of `starts` near-truth starts against the best of `starts` prefit
 *     starts; prints how often each is higher, the sorted gains and the CPU of both. truth temp, temp-tanh or
 *     temp-sigmoid: temp-over's fits of that truth instead (k = 3, τ free, near-truth noise fixed × 10)
 *   npx tsx scripts/local-maxima.ts table [n=1e5] [sets=8] [m=10]
 *     per data set (seeds 1001..): the best of 5 near-truth starts (ℓ₅ and its D2), the best of 20, and one
 *     start prefitted on every m-th sample (started near the truth, with the subsample's n), each with its D2
 *
 * Deterministic (seeded); minutes on 2 cores at n = 1e5.
 */
import { fitMoE, type FitOptions, type FitResult } from '../src/em/index.js';
import { simulate } from '../src/models/sample.js';
import { truthPreset } from '../src/models/presets.js';
import type { Dataset } from '../src/models/types.js';
import { voronoiLoss } from '../src/voronoi/loss.js';

const [mode = 'compare', nArg = '1e5', setsArg, mArg = '10', startsArg = '5', truthArg = 'demy'] =
  process.argv.slice(2);
const truth = truthPreset(truthArg);
const n = Number(nArg);
const m = Number(mArg);
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** demy-over's fit options, or temp-over's for its truths (temp, temp-tanh, temp-sigmoid) */
const options = (seed: number, restarts: number): FitOptions =>
  truthArg === 'demy'
    ? { gate: { kind: 'softmax' }, k: 3, init: { kind: 'near-truth', truth }, seed, restarts, optimizer: 'hybrid' }
    : {
        gate: truth.gate,
        k: 3,
        init: { kind: 'near-truth', truth, noise: 'fixed', noiseScale: 10 },
        tauMode: 'free',
        seed,
        restarts,
        optimizer: 'hybrid',
      };
const d2 = (f: FitResult): string => voronoiLoss(f.model, truth, { loss: 'D2' }).loss.toPrecision(3);

function compare(sets: number, starts: number): void {
  let higher = 0;
  let lower = 0;
  let tPlain = 0;
  let tPrefit = 0;
  const gains: number[] = [];
  for (let s = 1; s <= sets; s++) {
    const data = simulate(truth, { n, seed: 2000 + s });
    let c = cpu();
    const plain = fitMoE(data, options(s, starts));
    tPlain += cpu() - c;
    c = cpu();
    const pre = fitMoE(data, { ...options(s, starts), prefit: m });
    tPrefit += cpu() - c;
    const g = pre.logLik - plain.logLik;
    gains.push(g);
    if (g > 1e-3) higher++;
    if (g < -1e-3) lower++;
    process.stderr.write(`data set ${s}: prefit − plain ${g.toFixed(3)} nats\n`);
  }
  gains.sort((a, b) => a - b);
  console.log(
    `${truthArg}, n ${n}, m ${m}, ${starts} starts, ${sets} data sets: prefit higher ${higher}, lower ${lower}, the same ${sets - higher - lower}; ` +
      `gains ${gains.map((g) => g.toFixed(2)).join(' ')}; CPU plain ${tPlain.toFixed(1)} s, prefit ${tPrefit.toFixed(1)} s`,
  );
}

/** One start near the truth drawn for the subsample's n, fitted on every m-th sample, then on all samples. */
function prefitOnce(data: Dataset, seed: number): FitResult {
  const ns = Math.floor(n / m);
  const sub: Dataset = {
    n: ns,
    d: 1,
    X: Float64Array.from({ length: ns }, (_, i) => data.X[i * m]!),
    y: Float64Array.from({ length: ns }, (_, i) => data.y[i * m]!),
  };
  const own = fitMoE(sub, options(seed, 5));
  return fitMoE(data, { ...options(seed, 1), init: { kind: 'model', model: own.model } });
}

function table(sets: number): void {
  console.log('| data set | D2 at ℓ₅ | best of 20 − ℓ₅ (its D2; distinct optima) | prefit start − ℓ₅ (its D2) |');
  console.log('|---|---|---|---|');
  for (let s = 1; s <= sets; s++) {
    const data = simulate(truth, { n, seed: 1000 + s });
    const five = fitMoE(data, options(s, 5));
    const twenty = fitMoE(data, options(s, 20));
    const pre = prefitOnce(data, s);
    const gain = (f: FitResult): string => (f.logLik - five.logLik).toFixed(2);
    console.log(
      `| ${s} | ${d2(five)} | ${gain(twenty)} (${d2(twenty)}; ${twenty.optima.length}) | ${gain(pre)} (${d2(pre)}) |`,
    );
  }
}

if (mode === 'compare') compare(Number(setsArg ?? 20), Number(startsArg));
else if (mode === 'table') table(Number(setsArg ?? 8));
else throw new Error(`mode must be compare or table. Value: ${mode}`);
