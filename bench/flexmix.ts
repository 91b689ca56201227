/**
 * gmoe against flexmix on the same data, both timed in one run (never by the tests):
 *   npx tsx bench/flexmix.ts [--n 10000] [--seed 1]
 * Rows: flexmix's NPreg (x, yn; n = 200) and data simulated from the demy truth (n = --n), k = 2.
 * flexmix: flexmix(y ~ x1, k = 2, concomitant = FLXPmultinom(~x1)) from its defaults (one start),
 * timed inside R (R's start-up excluded), and refit() (its standard errors); gmoe: fitMoE from its
 * defaults, and with 5 random starts, and standardErrors at the fit (best of 3 after a warm-up).
 * Times are CPU seconds of the process (user + system), steadier than wall time on a shared machine.
 * Needs Rscript with flexmix.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitMoE } from '../src/em/index.js';
import { standardErrors } from '../src/em/inference/se.js';
import { readDatasetCsv, writeDatasetCsv } from '../src/models/dataset-io.js';
import { truthPreset } from '../src/models/presets.js';
import { simulate } from '../src/models/sample.js';
import type { Dataset } from '../src/models/types.js';

const SCRIPT = fileURLToPath(new URL('../test/peers/flexmix.R', import.meta.url));
const arg = (flag: string, fallback: number) => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const n = arg('--n', 10000);
const seed = arg('--seed', 1);
const dir = mkdtempSync(join(tmpdir(), 'gmoe-bench-flexmix-'));

function rscript(args: string[]): void {
  const r = spawnSync('Rscript', [SCRIPT, ...args], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`Rscript ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
}

function load(path: string): Dataset {
  const d = readDatasetCsv(path);
  return { n: d.n, d: d.d, X: d.X, y: d.y };
}

const rows: string[] = [];
try {
  const npreg = join(dir, 'npreg.csv');
  rscript(['export', 'NPreg', 'x', 'yn', npreg]);
  const demy = join(dir, 'demy.csv');
  const sim = simulate(truthPreset('demy'), { n, seed });
  writeDatasetCsv(demy, { n: sim.n, d: 1, X: sim.X, y: sim.y });
  for (const [name, path] of [
    ['NPreg (x, yn)', npreg],
    [`demy, n = ${n}`, demy],
  ] as const) {
    const data = load(path);
    const out = join(dir, 'fx.json');
    rscript(['fit', path, '2', String(seed), out]);
    const fx = JSON.parse(readFileSync(out, 'utf8')) as {
      logLik: number;
      cpuSeconds: number;
      iterations: number;
      refitCpuSeconds: number;
    };
    // CPU seconds (steadier than wall time on a shared machine), best of 3 after one warm-up fit
    const cpuOf = <T>(f: () => T): { value: T; seconds: number } => {
      let best = Infinity;
      let value!: T;
      for (let r = 0; r < 3; r++) {
        const c0 = process.cpuUsage();
        value = f();
        const c = process.cpuUsage(c0);
        best = Math.min(best, (c.user + c.system) / 1e6);
      }
      return { value, seconds: best };
    };
    fitMoE(data, { gate: { kind: 'softmax' }, k: 2 });
    const def = cpuOf(() => fitMoE(data, { gate: { kind: 'softmax' }, k: 2 }));
    const rnd = cpuOf(() => fitMoE(data, { gate: { kind: 'softmax' }, k: 2, init: { kind: 'random' }, restarts: 5 }));
    const best = def.value.logLik >= rnd.value.logLik ? def.value : rnd.value;
    const se = cpuOf(() => standardErrors(best.model, data));
    const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}× less`;
    rows.push(
      `| ${name} | flexmix, 1 start | ${fx.logLik.toFixed(4)} | ${fx.iterations} | ${fx.cpuSeconds.toFixed(3)} | refit() ${fx.refitCpuSeconds.toFixed(3)} |`,
    );
    rows.push(
      `| ${name} | gmoe, \`fitMoE\` defaults (1 k-means start) | ${def.value.logLik.toFixed(4)} | ${def.value.iterations} | ${def.seconds.toFixed(3)} (${ratio(fx.cpuSeconds, def.seconds)}) | |`,
    );
    rows.push(
      `| ${name} | gmoe, 5 random starts | ${rnd.value.logLik.toFixed(4)} | ${rnd.value.restartResults.map((r) => r.iterations).join('+')} | ${rnd.seconds.toFixed(3)} (${ratio(fx.cpuSeconds, rnd.seconds)}) | standardErrors() ${se.seconds.toFixed(3)} (${ratio(fx.refitCpuSeconds, se.seconds)}) |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `load average ${loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')}`,
);
console.log('| data | fitter | log-likelihood | iterations | fit, CPU s | standard errors, CPU s |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
