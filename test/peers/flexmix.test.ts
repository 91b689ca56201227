/**
 * gmoe against flexmix (R), the reference implementation of mixtures of regressions: on data sets
 * flexmix ships and on simulated gmoe data, flexmix fits y ~ x with the concomitant FLXPmultinom(~x)
 * (= gmoe's softmax gate) from its defaults, then (test/peers/flexmix.R)
 * - gmoe from `gmoe fit`'s defaults (10 starts, --init auto) reaches a log-likelihood ≥ flexmix's − 1e-6,
 *   and so does gmoe with 5 random starts;
 * - at flexmix's fit, gmoe's log-likelihood equals R's, and AIC, BIC, ICL computed by gmoe from
 *   flexmix's logLik and posterior equal flexmix's (df included);
 * - at flexmix's fit, gmoe's standard errors (exact Hessian) equal R's from a Richardson-extrapolated
 *   numerical Hessian to 1e-4 relative;
 * - the same with one variance shared by the components (flexmix's FLXMRglmfix(varFix = TRUE), gmoe's
 *   variance 'equal'): df, criteria, standard errors (R's Hessian over one shared ν), and gmoe's fit
 *   reaching flexmix's log-likelihood.
 * Skipped, with a message, where Rscript or flexmix is absent (CI installs r-base-core r-cran-flexmix).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import { DEFAULT_STARTS } from '../../src/cli/commands/fit.js';
import { informationCriteria, parameterCount } from '../../src/em/inference/criteria.js';
import { standardErrors } from '../../src/em/inference/se.js';
import { logLikelihood } from '../../src/models/density.js';
import { predictMoE } from '../../src/models/predict.js';
import { readDatasetCsv, writeDatasetCsv } from '../../src/models/dataset-io.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { modelFromParams, type Dataset } from '../../src/models/types.js';
import { tempDir } from '../helpers/temp-dir.js';

const SCRIPT = fileURLToPath(new URL('./flexmix.R', import.meta.url));

function rAvailable(): string | null {
  const r = spawnSync('Rscript', ['-e', 'suppressPackageStartupMessages({library(flexmix); library(jsonlite)})'], {
    encoding: 'utf8',
  });
  if (r.error) return `Rscript not found (${r.error.message})`;
  if (r.status !== 0) return `R lacks flexmix or jsonlite: ${r.stderr.trim().split('\n').at(-1)}`;
  return null;
}

const missing = rAvailable();
if (missing)
  console.warn(`test/peers/flexmix.test.ts skipped: ${missing}; install Debian's r-base-core r-cran-flexmix to run it`);

function rscript(args: string[]): void {
  const r = spawnSync('Rscript', [SCRIPT, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Rscript ${args.join(' ')} failed: ${r.stderr}`);
}

interface FlexmixResult {
  n: number;
  k: number;
  kFitted: number;
  logLik: number;
  logLikAtParams: number;
  df: number;
  AIC: number;
  BIC: number;
  ICL: number;
  model: { beta0: number[]; beta1: number[]; a: number[]; b: number[]; nu: number[] };
  posterior: number[];
  predicted: { components: number[]; mean: number[]; posterior: number[]; expert: number[] };
  se: { labels: string[]; values: number[] | null };
}

const dir = tempDir('flexmix');

function dataFor(name: string): Dataset {
  const path = join(dir, `${name}.csv`);
  if (name === 'NPreg') rscript(['export', 'NPreg', 'x', 'yn', path]);
  else if (name === 'NregFix') rscript(['export', 'NregFix', 'x1', 'y', path]);
  else {
    const sim = simulate(truthPreset('demy'), { n: 1000, seed: 21 });
    writeDatasetCsv(path, { n: sim.n, d: 1, X: sim.X, y: sim.y });
  }
  const d = readDatasetCsv(path);
  return { n: d.n, d: d.d, X: d.X, y: d.y };
}

const CASES: Array<[string, number, number]> = [
  ['NPreg', 2, 1],
  ['NregFix', 2, 1],
  ['demy-1000', 2, 1],
  ['NPreg', 3, 2],
];

const cache = new Map<string, { data: Dataset; fx: FlexmixResult }>();
/** flexmix's fit of one case (run once, shared by the tests of the case). */
function flexmixFit(name: string, k: number, seed: number, varfix = false): { data: Dataset; fx: FlexmixResult } {
  const key = `${name}-${k}${varfix ? '-varfix' : ''}`;
  if (!cache.has(key)) {
    const data = dataFor(name);
    const out = join(dir, `${key}.json`);
    rscript(['fit', join(dir, `${name}.csv`), String(k), String(seed), out, ...(varfix ? ['varfix'] : [])]);
    cache.set(key, { data, fx: JSON.parse(readFileSync(out, 'utf8')) as FlexmixResult });
  }
  return cache.get(key)!;
}

// `gmoe fit`'s defaults (issue 17): --init auto with DEFAULT_STARTS starts of several families. One k-means
// start (the library's fitMoE default) stops below flexmix's optimum on two shipped data sets (NPreg k = 2:
// 1.06 nats, NregFix: 21.6 nats), so the comparison uses what a user of the command gets.
const CLI_DEFAULTS = { init: { kind: 'auto' as const }, restarts: DEFAULT_STARTS };

/** gmoe's model of flexmix's fit (the mapping of flexmix.R). */
function gmoeModel(fx: FlexmixResult) {
  return modelFromParams(
    { kind: 'softmax' },
    {
      beta0: fx.model.beta0,
      beta1: fx.model.beta1.map((v) => [v]),
      a: fx.model.a.map((v) => [v]),
      b: fx.model.b,
      nu: fx.model.nu,
    },
  );
}

/** At flexmix's fit: the same log-likelihood, df, AIC / BIC / ICL, and standard errors (R's numerical Hessian). */
function checkAtFit(fx: FlexmixResult, data: Dataset, variance: 'free' | 'equal'): void {
  const m = gmoeModel(fx);
  const k = fx.k;
  // the same log-likelihood at the same parameters
  expect(Math.abs(logLikelihood(m, data) - fx.logLikAtParams)).toBeLessThan(1e-9 * Math.abs(fx.logLikAtParams));
  // flexmix reports the log-likelihood of the E-step before its last M-step: at most a little lower
  expect(fx.logLik).toBeLessThanOrEqual(fx.logLikAtParams + 1e-9);

  // the criteria: same df, same formulas from the same logLik and posterior
  const df = parameterCount({ kind: 'softmax' }, k, 1, 'free', variance).total;
  expect(df).toBe(fx.df);
  const c = informationCriteria(fx.logLik, df, data.n, Float64Array.from(fx.posterior), k);
  for (const [ours, theirs] of [
    [c.aic, fx.AIC],
    [c.bic, fx.BIC],
    [c.icl, fx.ICL],
  ] as const)
    expect(Math.abs(ours - theirs)).toBeLessThan(1e-9 * Math.abs(theirs));

  // standard errors at flexmix's fit
  const se = standardErrors(m, data, { variance });
  expect(se.status).not.toBe('singular');
  expect(fx.se.values).not.toBeNull();
  fx.se.labels.forEach((label, t) => {
    const ours = se.rows.find((row) => row.param === label)!.se!;
    expect(Math.abs(ours / fx.se.values![t]! - 1), `${label}: gmoe ${ours}, R ${fx.se.values![t]}`).toBeLessThan(1e-4);
  });
}

describe.skipIf(missing !== null)('gmoe against flexmix', () => {
  for (const [name, k, seed] of CASES) {
    it(`${name}, k = ${k}: at flexmix's fit, the same log-likelihood, AIC/BIC/ICL, predictions and standard errors`, () => {
      const { data, fx } = flexmixFit(name, k, seed);
      expect(fx.kFitted, 'flexmix kept every component').toBe(k);
      checkAtFit(fx, data, 'free');

      // predictions at flexmix's fit: flexmix's predict (per component and aggregated), posterior, clusters
      const p = predictMoE(gmoeModel(fx), data.X, data.n, data.y);
      const close = (ours: ArrayLike<number>, theirs: number[], tol: number, what: string) => {
        expect(ours.length, what).toBe(theirs.length);
        let worst = 0;
        for (let t = 0; t < theirs.length; t++)
          worst = Math.max(worst, Math.abs(ours[t]! - theirs[t]!) / Math.max(1, Math.abs(theirs[t]!)));
        expect(worst, what).toBeLessThan(tol);
      };
      close(p.expertMean, fx.predicted.components, 1e-12, 'expert means');
      close(p.mean, fx.predicted.mean, 1e-9, 'conditional mean');
      close(p.posterior!, fx.predicted.posterior, 1e-9, 'posterior');
      expect(Array.from(p.expert!)).toEqual(fx.predicted.expert);
    }, 120_000);

    it(`${name}, k = ${k}: gmoe with five random starts reaches flexmix's log-likelihood`, () => {
      const { data, fx } = flexmixFit(name, k, seed);
      const fit = fitMoE(data, { gate: { kind: 'softmax' }, k, init: { kind: 'random' }, restarts: 5 });
      expect(fit.logLik, `gmoe ${fit.logLik}, flexmix ${fx.logLik}`).toBeGreaterThanOrEqual(fx.logLik - 1e-6);
    }, 120_000);

    it(`${name}, k = ${k}: gmoe fit from its defaults reaches flexmix's log-likelihood`, () => {
      const { data, fx } = flexmixFit(name, k, seed);
      const fit = fitMoE(data, { gate: { kind: 'softmax' }, k, ...CLI_DEFAULTS });
      expect(fit.logLik, `gmoe ${fit.logLik}, flexmix ${fx.logLik}`).toBeGreaterThanOrEqual(fx.logLik - 1e-6);
    }, 120_000);
  }
});

// one variance shared by the components: flexmix's FLXMRglmfix(varFix = TRUE), gmoe's variance 'equal'
const VARFIX_CASES: Array<[string, number, number]> = [
  ['NPreg', 2, 1],
  ['demy-1000', 2, 1],
  ['NPreg', 3, 2],
];

describe.skipIf(missing !== null)("gmoe's variance 'equal' against flexmix's varFix = TRUE", () => {
  for (const [name, k, seed] of VARFIX_CASES) {
    it(`${name}, k = ${k}: at flexmix's fit, the same log-likelihood, df, AIC/BIC/ICL and standard errors`, () => {
      const { data, fx } = flexmixFit(name, k, seed, true);
      expect(fx.kFitted, 'flexmix kept every component').toBe(k);
      expect(new Set(fx.model.nu).size, "flexmix's variances are one").toBe(1);
      checkAtFit(fx, data, 'equal');
    }, 120_000);

    it(`${name}, k = ${k}: gmoe fit from its defaults reaches flexmix's log-likelihood with one variance`, () => {
      const { data, fx } = flexmixFit(name, k, seed, true);
      const fit = fitMoE(data, { gate: { kind: 'softmax' }, k, variance: 'equal', ...CLI_DEFAULTS });
      expect(new Set(fit.model.nu).size, "gmoe's variances are one").toBe(1);
      expect(fit.logLik, `gmoe ${fit.logLik}, flexmix ${fx.logLik}`).toBeGreaterThanOrEqual(fx.logLik - 1e-6);
    }, 120_000);
  }
});
