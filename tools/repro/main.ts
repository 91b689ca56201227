/**
 * npm run repro [-- options]: the reproducibility run (tools/repro).
 *
 *   npm run repro                     every preset at its --quick size; theory + golden + CHANGELOG checks;
 *                                     writes repro/REPORT.md and repro/figures/*.png; exit 1 when a check fails
 *   npm run repro -- --update         rewrite the goldens that are missing or differ (then add a CHANGELOG.md
 *                                     line naming each new hash and saying why the numbers moved)
 *   npm run repro -- --goldens        only the static checks (goldens parse, hashes match, CHANGELOG mentions them)
 *   npm run repro -- --only a,b       some presets only (report in build/repro/REPORT.md; repro/ untouched)
 *   npm run repro -- --workers W      worker threads (default: all cores); --no-png skips the figures
 * Exit codes: 0 all checks pass, 1 a check failed (one line per failure, naming the preset and the check),
 * 2 bad usage.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listExperimentPresets } from '../../src/experiments/presets.js';
import { checkGoldens, runRepro } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function usage(message: string): never {
  process.stderr.write(`repro: ${message}\nusage: npm run repro [-- --update] [--goldens] [--only preset,...] [--workers W] [--no-png]\n`);
  process.exit(2);
}

function report(failures: string[]): void {
  if (failures.length === 0) {
    process.stderr.write('repro: all checks pass\n');
    return;
  }
  for (const f of failures) process.stderr.write(`repro: FAILED ${f}\n`);
  process.stderr.write(`repro: ${failures.length} check${failures.length > 1 ? 's' : ''} failed\n`);
  process.exitCode = 1;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        update: { type: 'boolean', default: false },
        goldens: { type: 'boolean', default: false },
        only: { type: 'string' },
        workers: { type: 'string' },
        'no-png': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    process.stdout.write('npm run repro [-- --update] [--goldens] [--only preset,...] [--workers W] [--no-png]\nSee tools/repro/main.ts and repro/REPORT.md.\n');
    return;
  }
  const all = listExperimentPresets().map((p) => p.name);
  const presets = values.only === undefined ? undefined : values.only.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of presets ?? []) if (!all.includes(p)) usage(`--only must list presets among ${all.join(', ')}. Value: ${p}`);
  if (presets && presets.length === 0) usage('--only needs at least one preset. Value: ""');
  let workers: number | undefined;
  if (values.workers !== undefined) {
    workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1) usage(`--workers must be a positive integer. Value: ${values.workers}`);
  }
  if (values.goldens) {
    if (values.update) usage('--goldens checks the committed goldens; it cannot be combined with --update');
    report(checkGoldens(root, presets ?? all));
    return;
  }
  const result = await runRepro({ root, presets, update: values.update, workers, png: !values['no-png'] });
  if (values.update) {
    const changed = result.presets.filter((p) => p.regression.status === 'updated');
    for (const p of changed) process.stderr.write(`repro: golden ${p.preset} rewritten: ${p.regression.goldenHash ?? 'none'} → ${p.regression.hash}\n`);
  }
  report(result.failures);
}

main().catch((e: unknown) => {
  process.stderr.write(`repro: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
