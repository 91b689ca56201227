/**
 * `gmoe merge DIR... --out DIR [--no-png] [--skip-corrupt]` — joins sweep directories of the same spec (e.g. the
 * shards of a Slurm job array) into one, then analyses it. N merged shards give the same
 * summary as one run.
 */
import type { Command } from 'commander';
import { mergeRuns } from '../../experiments/runner.js';
import { CliError } from '../errors.js';
import { asCliError, printAnalysis } from './sweep.js';

/** Registers `gmoe merge`. */
export function register(program: Command): void {
  program
    .command('merge')
    .description('merge sweep directories of the same spec (e.g. shards) into --out, then analyse it')
    .argument('<dirs...>', 'sweep directories (each holds spec.json and results.jsonl)')
    .requiredOption('--out <dir>', 'new directory for the merged sweep')
    .option('--no-png', 'skip rendering plot.png with Chromium')
    .option(
      '--skip-corrupt',
      'skip corrupt lines of results.jsonl (and say how many; their cells count as missing) instead of refusing',
    )
    .action(async (dirs: string[], opts: { out: string; png: boolean; skipCorrupt?: boolean }) => {
      if (opts.out === '') throw new CliError('--out must be a directory path. Value: ""');
      try {
        const m = await mergeRuns(dirs, opts.out, {
          plots: opts.png ? 'html+png' : 'html',
          skipCorrupt: opts.skipCorrupt,
          onNotice: (l) => process.stderr.write(`gmoe merge: ${l}\n`),
        });
        process.stderr.write(
          `gmoe merge: ${m.cells} cells from ${dirs.length} ${dirs.length === 1 ? 'directory' : 'directories'} into ${opts.out}${m.missing ? ` (${m.missing} missing)` : ''}\n`,
        );
        printAnalysis(m, 'merge');
      } catch (e) {
        asCliError(e);
      }
    });
}
