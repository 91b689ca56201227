/**
 * `gmoe report DIR [--no-png] [--skip-corrupt]` — re-analyses a sweep directory from spec.json and results.jsonl:
 * rewrites summary.json, summary.txt, plot.html and plot.png, and prints the table.
 */
import type { Command } from 'commander';
import { analyseRun } from '../../experiments/runner.js';
import { asCliError, printAnalysis } from './sweep.js';

/** Registers `gmoe report`. */
export function register(program: Command): void {
  program
    .command('report')
    .description(
      're-analyse and re-plot a sweep directory from its results.jsonl (summary.json, table, plot.html, plot.png)',
    )
    .argument('<dir>', 'sweep directory (holds spec.json and results.jsonl)')
    .option('--no-png', 'skip rendering plot.png with Chromium')
    .option('--skip-corrupt', 'skip corrupt lines of results.jsonl (and say how many) instead of refusing')
    .action(async (dir: string, opts: { png: boolean; skipCorrupt?: boolean }) => {
      try {
        const a = await analyseRun(dir, {
          plots: opts.png ? 'html+png' : 'html',
          skipCorrupt: opts.skipCorrupt,
          onNotice: (l) => process.stderr.write(`gmoe report: ${l}\n`),
        });
        printAnalysis(a, 'report');
      } catch (e) {
        asCliError(e);
      }
    });
}
