/**
 * `gmoe report DIR [--no-png] [--skip-corrupt] [--cells m1,m2,…]` — re-analyses a sweep directory from spec.json and
 * results.jsonl: rewrites summary.json, summary.txt, rates.csv, curves.csv, plot.html, plot.png and plot.svg, and prints the table; with --cells, of
 * one population of fits (src/experiments/population.ts), into DIR/cells-m1-m2…/.
 */
import type { Command } from 'commander';
import { parseCells, populationsText } from '../../experiments/population.js';
import { analyseRun, runPopulations } from '../../experiments/runner.js';
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
    .option(
      '--cells <m1,m2,...>',
      "analyse only the fits whose Voronoi cells hold these numbers of fitted atoms, one per true atom (e.g. 2,1: the first true atom split); written into DIR/cells-2-1/, the whole run's summary kept; 'list': print the populations and their counts",
    )
    .action(async (dir: string, opts: { png: boolean; skipCorrupt?: boolean; cells?: string }) => {
      try {
        if (opts.cells === 'list') {
          const byModel = runPopulations(dir, { skipCorrupt: opts.skipCorrupt });
          process.stdout.write('fitted atoms per true atom (Voronoi cells), and the number of fits:\n');
          for (const { model, populations } of byModel)
            process.stdout.write(`${byModel.length > 1 ? `${model}: ` : ''}${populationsText(populations)}\n`);
          return;
        }
        const a = await analyseRun(dir, {
          plots: opts.png ? 'html+png' : 'html',
          skipCorrupt: opts.skipCorrupt,
          ...(opts.cells !== undefined ? { cells: parseCells(opts.cells) } : {}),
          onNotice: (l) => process.stderr.write(`gmoe report: ${l}\n`),
        });
        printAnalysis(a, 'report');
      } catch (e) {
        asCliError(e);
      }
    });
}
