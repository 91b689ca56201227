/**
 * `gmoe compare DIR[:MODEL] DIR[:MODEL] [...] [--label a,b,...] [--metric M ...] [--out DIR] [--no-png] [--json] [--skip-corrupt]`
 * — several sweeps' rate rows side by side: per metric, each run's slope on the curve its verdict reads, its
 * interval and verdict, and each later run's difference to the first (src/experiments/analysis/run-comparison.ts).
 * DIR:MODEL takes one model of a run of several. The table on stdout; with --out, compare.json, compare.csv,
 * compare.html and (Chromium) compare.png and compare.svg, and the differences as compare-delta.*.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  compareRuns,
  runComparisonCsv,
  runComparisonTable,
  type ComparedRun,
  type RunComparison,
} from '../../experiments/analysis/run-comparison.js';
import { modelView } from '../../experiments/analysis/model-view.js';
import { summarise } from '../../experiments/analysis/summarise.js';
import type { Figure } from '../../experiments/plot/figure.js';
import { writePlotHtml } from '../../experiments/plot/html.js';
import { renderImages } from '../../experiments/plot/png.js';
import { deltaFigure } from '../../experiments/plot/delta-figure.js';
import { figureRows, runComparisonFigure } from '../../experiments/plot/run-comparison-figure.js';
import { checkOutDir, loadRunRecords } from '../../experiments/runner.js';
import { formatJSON, makeDirs, writeFileAtomic } from '../../io/index.js';
import { CliError } from '../errors.js';
import { asCliError } from './sweep.js';
import { metricHint, swallowedByMetric } from './metric-arg.js';

interface CompareCliOptions {
  label?: string;
  metric?: string[];
  out?: string;
  png: boolean;
  json?: boolean;
  skipCorrupt?: boolean;
}

/** A run argument: a sweep directory, or DIR:MODEL — one model of a multi-model run (when DIR:MODEL is no path). */
function runArg(arg: string): { dir: string; model?: string } {
  const i = arg.lastIndexOf(':');
  if (existsSync(arg) || i <= 0 || !existsSync(arg.slice(0, i))) return { dir: arg };
  return { dir: arg.slice(0, i), model: arg.slice(i + 1) };
}

/** The runs' labels: --label's, else each directory's name (made unique with #2, #3, …). */
function labelsOf(dirs: readonly string[], raw: string | undefined): string[] {
  if (raw !== undefined) {
    const labels = raw.split(',').map((s) => s.trim());
    if (labels.length !== dirs.length || labels.some((l) => l === ''))
      throw new CliError(
        `--label must give one non-empty label per run (${dirs.length}), comma-separated. Value: ${raw}`,
      );
    if (new Set(labels).size !== labels.length) throw new CliError(`--label must give distinct labels. Value: ${raw}`);
    return labels;
  }
  const seen = new Map<string, number>();
  return dirs.map((d) => {
    const { dir, model } = runArg(d);
    const b = `${basename(resolve(dir))}${model !== undefined ? `:${model}` : ''}`;
    const k = (seen.get(b) ?? 0) + 1;
    seen.set(b, k);
    return k === 1 ? b : `${b}#${k}`;
  });
}

/** The JSON form: the comparison without each cell's full metric summary (its points stay in the runs' own files). */
function comparisonJson(c: RunComparison): unknown {
  return {
    runs: c.runs,
    rows: c.rows.map((r) => ({
      ...r,
      cells: r.cells.map((cell) => (cell === null ? null : { ...cell, metric: undefined })),
    })),
  };
}

function writeFiles(out: string, c: RunComparison, figure: Figure, delta: Figure | null, title: string): string[] {
  checkOutDir(out);
  makeDirs(out);
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileAtomic(join(out, name), text);
    files.push(join(out, name));
  };
  write('compare.json', `${formatJSON(comparisonJson(c))}\n`);
  write('compare.csv', runComparisonCsv(c));
  write('compare.txt', runComparisonTable(c));
  writePlotHtml(join(out, 'compare.html'), figure, title);
  files.push(join(out, 'compare.html'));
  if (delta) {
    writePlotHtml(join(out, 'compare-delta.html'), delta, title);
    files.push(join(out, 'compare-delta.html'));
  }
  return files;
}

async function run(dirs: string[], opts: CompareCliOptions): Promise<void> {
  if (dirs.length < 2) {
    const swallowed = swallowedByMetric(opts.metric);
    if (swallowed.length > 0) throw new CliError(metricHint(swallowed));
    throw new CliError(`compare needs at least two sweep directories. Value: ${dirs.join(' ')}`);
  }
  const labels = labelsOf(dirs, opts.label);
  const notice = (l: string) => process.stderr.write(`gmoe compare: ${l}\n`);
  let runs: ComparedRun[] = [];
  try {
    runs = dirs.map((arg, t) => {
      const { dir, model } = runArg(arg);
      const { meta, records } = loadRunRecords(dir, {
        skipCorrupt: opts.skipCorrupt,
        onNotice: (l) => notice(`${l}: their cells are left out`),
      });
      if (model === undefined)
        return { label: labels[t]!, dir, spec: meta.spec, summary: summarise(records, meta.spec), records };
      let view: ReturnType<typeof modelView>;
      try {
        view = modelView(meta.spec, records, model);
      } catch (e) {
        throw new CliError(`${arg}: ${(e as Error).message}`);
      }
      return { label: labels[t]!, dir: arg, ...view, summary: summarise(view.records, view.spec) };
    });
  } catch (e) {
    asCliError(e);
  }
  let c: RunComparison;
  try {
    c = compareRuns(runs, opts.metric);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(comparisonJson(c), null, 2)}\n`);
  else process.stdout.write(runComparisonTable(c));
  if (opts.out === undefined) return;
  const title = `${runs.map((r) => r.label).join(' vs ')}: convergence rates`;
  const figure = runComparisonFigure(c, title);
  const delta = deltaFigure(c, `Slope differences against ${runs[0]!.label}`);
  let files: string[] = [];
  try {
    files = writeFiles(opts.out, c, figure, delta, title);
  } catch (e) {
    asCliError(e);
  }
  const drawn = figureRows(c).length;
  if (drawn < c.rows.length)
    notice(
      `the figure draws ${drawn} of the ${c.rows.length} rows (those two runs share and one predicts; the table and compare.csv hold all): choose them with --metric`,
    );
  if (opts.png) {
    const paths = { png: join(opts.out, 'compare.png'), svg: join(opts.out, 'compare.svg') };
    const r = await renderImages(figure, paths);
    if (r.ok) files.push(paths.png, paths.svg);
    else notice(`warning: compare.png and compare.svg not written: ${r.reason}`);
    if (delta && r.ok) {
      const dp = { png: join(opts.out, 'compare-delta.png'), svg: join(opts.out, 'compare-delta.svg') };
      const rd = await renderImages(delta, dp);
      if (rd.ok) files.push(dp.png, dp.svg);
      else notice(`warning: compare-delta.png and compare-delta.svg not written: ${rd.reason}`);
    }
  }
  notice(`wrote ${files.join(', ')}`);
}

/** Registers `gmoe compare`. */
export function register(program: Command): void {
  program
    .command('compare')
    .description(
      "several sweeps' rate rows side by side: each run's slope, interval and verdict per metric (e.g. with and without bounds, EM against the hybrid, quick against full size), and each later run's slope minus the first's with an interval that pairs the cells they share",
    )
    .argument(
      '[dirs...]',
      'two or more sweep directories (each holds spec.json and results.jsonl); DIR:MODEL takes one model of a run of several, so two models of one run compare with their cells paired',
    )
    .option('--label <a,b,...>', "the runs' names in the table and figure (default: the directories' names)")
    .option(
      '--metric <M...>',
      "only these rows, by the table's names (a run of several models labels them: tanh:D2; with one model in every run, the bare name: D2)",
    )
    .option(
      '--out <dir>',
      'write compare.json, compare.csv, compare.txt, compare.html, compare.png and compare.svg there, and the differences drawn as compare-delta.html, .png and .svg',
    )
    .option('--no-png', 'with --out: skip rendering the PNG and SVG files with Chromium')
    .option('--json', 'print the comparison as JSON instead of the table')
    .option('--skip-corrupt', 'skip corrupt lines of results.jsonl (and say how many) instead of refusing')
    .action((dirs: string[], opts: CompareCliOptions) => run(dirs, opts));
}
