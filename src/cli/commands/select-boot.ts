/**
 * `gmoe select --boot B [--alpha A]`: the parametric-bootstrap likelihood-ratio test of k0 against
 * k0 + 1 (src/em/boot-lrt.ts) over select's own fits — parsing the flags, the progress on stderr,
 * and the test's table, CSV and stderr lines.
 */
import { BOOT_ALPHA, BOOT_MIN, type BootLrtResult, type BootProgress, type BootTest } from '../../em/boot-lrt.js';
import { bootstrapLRTParallel } from '../../em/boot-parallel.js';
import type { SelectOptions, SelectResult } from '../../em/select.js';
import type { FitResult } from '../../em/types.js';
import { createCountReporter, type CountProgress, type ProgressReporter } from '../../experiments/progress.js';
import { csvNumber as num } from '../../models/dataset-io.js';
import type { Dataset } from '../../models/types.js';
import { CliError } from '../errors.js';
import { parseIntOption } from './simulate.js';
import { alignCells } from './select-compare.js';

export interface BootChoice {
  B: number;
  alpha: number;
}

/** A select result with the bootstrap test, when --boot asked for it (select.json's `lrt`). */
export type Selection = SelectResult & { lrt?: BootLrtResult };

/** `--boot` and `--alpha`, checked against the k (consecutive, at least two); undefined without --boot. */
export function parseBoot(
  boot: string | undefined,
  alphaRaw: string | undefined,
  ks: number[],
): BootChoice | undefined {
  if (boot === undefined) {
    if (alphaRaw !== undefined) throw new CliError(`--alpha needs --boot (the bootstrap test). Value: ${alphaRaw}`);
    return undefined;
  }
  const B = parseIntOption(boot, '--boot', BOOT_MIN, 1_000_000);
  let alpha = BOOT_ALPHA;
  if (alphaRaw !== undefined) {
    alpha = /^\s*[0-9.eE+-]+\s*$/.test(alphaRaw) ? Number(alphaRaw) : NaN;
    if (!(alpha > 0 && alpha < 1)) throw new CliError(`--alpha must be a number in (0, 1). Value: ${alphaRaw}`);
  }
  if (1 / (B + 1) > alpha)
    throw new CliError(
      `--boot must be at least ${Math.ceil(1 / alpha) - 1} at --alpha ${alpha} (the smallest p-value is 1/(B + 1)). Value: ${boot}`,
    );
  const consecutive = ks.every((k, i) => i === 0 || k === ks[i - 1]! + 1);
  if (ks.length < 2 || !consecutive)
    throw new CliError(`--boot needs at least two consecutive k (a range such as 1..4). Value: --k ${ks.join(',')}`);
  return { B, alpha };
}

/** Progress of the bootstrap on stderr: one reporter per tested pair. */
function progressOf(label: string): { onProgress: (p: BootProgress) => void; stop: () => void } {
  let reporter: ProgressReporter<CountProgress> | undefined;
  let k0 = 0;
  let start = 0;
  return {
    onProgress(p) {
      if (p.k0 !== k0) {
        reporter?.stop();
        k0 = p.k0;
        start = performance.now();
        const title = `gmoe select: ${label}bootstrap k = ${k0} vs ${k0 + 1}`;
        reporter = createCountReporter<CountProgress>({ title, unit: 'samples', describe: () => '' });
      }
      const elapsed = (performance.now() - start) / 1000;
      reporter!.update({ ...p, elapsed, eta: (elapsed / p.done) * (p.total - p.done) });
    },
    stop: () => reporter?.stop(),
  };
}

/** "k = 1 vs 2: T = 2346.57, p = 0.025 (1/40; 0 of 39 T* ≥ T): rejected". */
function describeTest(t: BootTest): string {
  const kept = t.B - t.failed;
  const extra = [
    t.failed > 0 ? `${t.failed} failed` : '',
    t.below > 0 ? `${t.below} with k = ${t.k1} below k = ${t.k0} (clamped to 0)` : '',
  ].filter((s) => s !== '');
  return `k = ${t.k0} vs ${t.k1}: T = ${t.T.toFixed(3)}, p = ${t.p.toPrecision(3)} (${t.exceed} of ${kept} T* ≥ T${extra.length > 0 ? `; ${extra.join(', ')}` : ''}): ${t.rejected ? 'rejected' : 'not rejected'}`;
}

/** What the test chose, beside the criterion's choice. */
export function describeChoice(r: Selection): string {
  const lrt = r.lrt!;
  const k = lrt.exhausted ? `k ≥ ${lrt.chosen} (every test rejected: widen --k)` : `k = ${lrt.chosen}`;
  return `bootstrap LRT (B = ${lrt.B}, alpha = ${lrt.alpha}) chooses ${k}; ${r.criterion.toUpperCase()} chooses k = ${r.chosen}`;
}

/**
 * Runs the test over select's fits with select's fit options on `boot.workers` threads; says each
 * test and the choice on stderr. Each test costs 2B fits, about B/W times the select of its two k.
 */
export async function runBoot(
  data: Dataset,
  options: SelectOptions,
  fits: ReadonlyMap<number, FitResult>,
  boot: BootChoice & { workers: number },
  label: string,
): Promise<BootLrtResult> {
  const { criterion: _c, onFit: _f, ...fitOpts } = options;
  const progress = progressOf(label);
  let lrt: BootLrtResult;
  try {
    lrt = await bootstrapLRTParallel(data, { ...fitOpts, ...boot, fits, onProgress: progress.onProgress });
  } finally {
    progress.stop();
  }
  for (const t of lrt.tests) process.stderr.write(`gmoe select: ${label}${describeTest(t)}\n`);
  return lrt;
}

/** The tests as text rows under select's table. */
export function lrtTable(r: Selection): string[] {
  const lrt = r.lrt!;
  const cells = [['test', 'T', 'p', 'T*≥T', 'B', 'failed', 'below', 'H0']];
  for (const t of lrt.tests)
    cells.push([
      `${t.k0} vs ${t.k1}`,
      t.T.toFixed(3),
      t.p.toFixed(4),
      String(t.exceed),
      String(t.B),
      String(t.failed),
      String(t.below),
      t.rejected ? 'rejected' : 'not rejected',
    ]);
  return ['', `bootstrap likelihood-ratio test, k0 against k0 + 1:`, ...alignCells(cells, 1), describeChoice(r)];
}

/** The tests as CSV (lrt.csv): one row per tested pair. */
export function lrtCsv(lrt: BootLrtResult): string {
  const head = 'k0,k1,logLik0,logLik1,T,p,B,exceed,failed,below,unconverged,alpha,rejected,chosen';
  const rows = lrt.tests.map((t) =>
    [
      t.k0,
      t.k1,
      num(t.logLik0),
      num(t.logLik1),
      num(t.T),
      num(t.p),
      t.B,
      t.exceed,
      t.failed,
      t.below,
      t.unconverged,
      lrt.alpha,
      t.rejected,
      lrt.chosen,
    ].join(','),
  );
  return `${[head, ...rows].join('\n')}\n`;
}
