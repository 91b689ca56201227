/**
 * `gmoe predict --model <fit.json|preset> --data new.csv [--x COLS] [--y COL] [--drop-missing] --out pred.csv|-`
 * Predictions of a fitted model on a CSV of x (and optionally y), as flexmix's predict, posterior and
 * clusters: one output row per input row, the input columns first, then mean, sd, [lower, upper with
 * --interval], gate1..k, mu1..k, and with y logdens, pit (F(y|x)), post1..k and expert (1..k, the suffix of
 * the columns above). A summary (log-likelihood, RMSE and R² of the mean, samples per expert, the PIT's
 * calibration test) goes to stderr.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { writePlotHtml } from '../../experiments/plot/html.js';
import { renderPng } from '../../experiments/plot/png.js';
import { MAX_POINTS, predictFigure } from '../../experiments/plot/predict-figure.js';
import { describeGate } from '../../models/gates/index.js';
import { csvNumber, readInputsCsv, type CsvInputs } from '../../models/dataset-io.js';
import { resolveModel } from '../../models/io.js';
import { predictMoE, rowsOutside, type MoEPrediction } from '../../models/predict.js';
import { predictiveCdf, predictiveInterval } from '../../models/predictive-quantile.js';
import { ksUniform } from '../../math/kolmogorov.js';
import type { Model } from '../../models/types.js';
import { checkWritable, writeFileAtomic } from '../../io/index.js';
import { CliError } from '../errors.js';
import { columnOptions } from './fit.js';

interface PredictCliOptions {
  model: string;
  data: string;
  x?: string;
  y?: string;
  dropMissing?: boolean;
  out: string;
  plot?: string;
  png: boolean;
  interval?: string;
}

/** --interval's bounds: the (1 − level)/2 and (1 + level)/2 quantiles of p(y | x) per row. */
interface Interval {
  level: number;
  lower: Float64Array;
  upper: Float64Array;
}

/** The prediction columns' names after the input columns. */
export function predictionHeader(k: number, withY: boolean, interval = false): string[] {
  const of = (p: string) => Array.from({ length: k }, (_, j) => `${p}${j + 1}`);
  return [
    'mean',
    'sd',
    ...(interval ? ['lower', 'upper'] : []),
    ...of('gate'),
    ...of('mu'),
    ...(withY ? ['logdens', 'pit', ...of('post'), 'expert'] : []),
  ];
}

/** A number as the CSVs write it, NaN as R's NA. */
function num(v: number): string {
  return Number.isNaN(v) ? 'NA' : csvNumber(v);
}

/** The CSV text in chunks of at most 8192 lines: input columns, then the predictions. */
function* predictionCsv(
  inputs: CsvInputs,
  p: MoEPrediction,
  iv: Interval | null,
  pit: Float64Array | null,
): Generator<string> {
  const { n, d, X, y } = inputs;
  const k = p.k;
  const head = [
    ...inputs.columns.x,
    ...(y ? [inputs.columns.y!] : []),
    ...predictionHeader(k, y !== undefined, iv !== null),
  ];
  yield `${head.map(csvName).join(',')}\n`;
  let lines: string[] = [];
  const row: string[] = [];
  for (let i = 0; i < n; i++) {
    row.length = 0;
    for (let l = 0; l < d; l++) row.push(num(X[i * d + l]!));
    if (y) row.push(num(y[i]!));
    row.push(num(p.mean[i]!), num(p.sd[i]!));
    if (iv) row.push(num(iv.lower[i]!), num(iv.upper[i]!));
    for (let j = 0; j < k; j++) row.push(num(p.gate[i * k + j]!));
    for (let j = 0; j < k; j++) row.push(num(p.expertMean[i * k + j]!));
    if (y) {
      row.push(num(p.logDensity![i]!), num(pit![i]!));
      for (let j = 0; j < k; j++) row.push(num(p.posterior![i * k + j]!));
      row.push(p.expert![i]! < 0 ? 'NA' : String(p.expert![i]! + 1));
    }
    lines.push(row.join(','));
    if (lines.length === 8192) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
}

/** A header name as an RFC 4180 field (quoted when it holds a comma, a quote or a line break). */
function csvName(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The summary lines for stderr: fit to y (when present) and how the samples split over the experts. */
export function predictionSummary(
  inputs: CsvInputs,
  p: MoEPrediction,
  iv: Interval | null = null,
  pit: Float64Array | null = null,
): string[] {
  const { n, y } = inputs;
  if (!y) return [];
  let ll = 0;
  let sse = 0;
  let ybar = 0;
  for (let i = 0; i < n; i++) ybar += y[i]! / n;
  let sst = 0;
  const counts = new Array<number>(p.k).fill(0);
  let none = 0;
  for (let i = 0; i < n; i++) {
    ll += p.logDensity![i]!;
    sse += (y[i]! - p.mean[i]!) ** 2;
    sst += (y[i]! - ybar) ** 2;
    const e = p.expert![i]!;
    if (e < 0) none++;
    else counts[e]++;
  }
  const g = (v: number) => Number(v.toPrecision(6)).toString();
  const lines = [
    `log-likelihood ${g(ll)} (${g(ll / n)} per sample); RMSE of the mean ${g(Math.sqrt(sse / n))}` +
      (sst > 0 ? `, R² ${g(1 - sse / sst)}` : ''),
    `most probable expert: ${counts.map((c, j) => `${j + 1}: ${c}`).join(', ')}`,
  ];
  if (none > 0)
    lines.push(`${none} sample(s) have zero density under the model (y too far from every expert): posterior NA`);
  if (iv) {
    let inside = 0;
    for (let i = 0; i < n; i++) if (y[i]! >= iv.lower[i]! && y[i]! <= iv.upper[i]!) inside++;
    lines.push(
      `${g(100 * iv.level)} % predictive interval [lower, upper]: holds ${inside} of ${n} samples (${g((100 * inside) / n)} %)`,
    );
  }
  if (pit) lines.push(calibrationLine(pit));
  return lines;
}

/** p below which the calibration line says the predictive distribution does not fit y */
const MISFIT_P = 0.01;

/** The PIT's Kolmogorov–Smirnov test against U(0, 1), as one line. */
export function calibrationLine(pit: Float64Array): string {
  const { statistic, pValue } = ksUniform(pit);
  const g = (v: number) => Number(v.toPrecision(3)).toString();
  const p = pValue < 1e-4 ? '< 1e-4' : `= ${g(pValue)}`;
  const verdict =
    pValue < MISFIT_P
      ? "p(y|x) does not fit y: see the pit column (and the figure's histogram)"
      : 'no evidence against p(y|x) (the p-value is conservative on the data the model was fitted on)';
  return `calibration: pit = F(y|x) is uniform where the model holds; Kolmogorov–Smirnov D = ${g(statistic)}, p ${p}: ${verdict}`;
}

/** A model file's "fit" block (gmoe fit and gmoe select write one), or undefined for a preset or a file without it. */
function fitBlock(arg: string): Record<string, unknown> | undefined {
  if (!existsSync(arg) || isDirectory(arg)) return undefined;
  try {
    const fit = (JSON.parse(readFileSync(arg, 'utf8')) as { fit?: unknown }).fit;
    return typeof fit === 'object' && fit !== null ? (fit as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The columns a fit was read from (`gmoe fit`: fit.options.columns; `gmoe select`: fit.columns), when it
 * records d x names.
 */
function fittedColumns(fit: Record<string, unknown> | undefined, d: number): { x: string[]; y?: string } | undefined {
  const c = (fit?.options as { columns?: unknown } | undefined)?.columns ?? fit?.columns;
  if (typeof c !== 'object' || c === null) return undefined;
  const { x, y } = c as { x?: unknown; y?: unknown };
  if (!Array.isArray(x) || x.length !== d || !x.every((n) => typeof n === 'string')) return undefined;
  return { x: x as string[], ...(typeof y === 'string' ? { y } : {}) };
}

/** The x range a fit saw (`fit.xRange`), when it has d columns. */
function fittedRange(
  fit: Record<string, unknown> | undefined,
  d: number,
): { min: number[]; max: number[] } | undefined {
  const r = fit?.xRange as { min?: unknown; max?: unknown } | undefined;
  const ok = (v: unknown): v is number[] => Array.isArray(v) && v.length === d && v.every((t) => typeof t === 'number');
  return r && ok(r.min) && ok(r.max) ? { min: r.min, max: r.max } : undefined;
}

/** The warning for rows outside the fitted x range, or null. */
export function extrapolationWarning(inputs: CsvInputs, range: { min: number[]; max: number[] }): string | null {
  const out = rowsOutside(inputs.X, inputs.n, inputs.d, range);
  if (out === 0) return null;
  const g = (v: number) => Number(v.toPrecision(6));
  const ranges = inputs.columns.x.map((c, l) => `${c} in [${g(range.min[l]!)}, ${g(range.max[l]!)}]`).join(', ');
  return `${out} of ${inputs.n} row(s) have x outside the range the model was fitted on (${ranges}): there the gate and the experts' lines are extrapolated`;
}

function load(arg: string): Model {
  try {
    return resolveModel(arg, '--model');
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}

/** The figure as HTML at `path` and, unless --no-png, as PNG beside it; a warning when there is none. */
async function writeFigure(
  opts: PredictCliOptions,
  model: Model,
  inputs: CsvInputs,
  p: MoEPrediction,
  summary: string[],
  level: number | null,
  pit: Float64Array | null,
): Promise<string[]> {
  const path = opts.plot!;
  // the summary's first line is the fit to y (none without y)
  const fit = summary.length > 0 ? `; ${summary[0]}` : '';
  const figure = predictFigure({
    model,
    n: inputs.n,
    X: inputs.X,
    ...(inputs.y ? { y: inputs.y } : {}),
    prediction: p,
    columns: inputs.columns,
    ...(level !== null ? { intervalLevel: level } : {}),
    ...(pit ? { pit } : {}),
    title: `Predictions of ${basename(opts.model)} on ${basename(opts.data)}`,
    subtitle: `n = ${inputs.n}${inputs.n > MAX_POINTS ? ` (every ${Math.ceil(inputs.n / MAX_POINTS)}th drawn)` : ''}, k = ${model.k}, gate ${describeGate(model.gate)}${fit}`,
  });
  if (!figure) {
    process.stderr.write(
      'gmoe predict: warning: no figure: with d > 1 it plots observed y against the prediction, and the data have no y\n',
    );
    return [];
  }
  try {
    writePlotHtml(path, figure, `gmoe predict: ${basename(opts.data)}`);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  if (!opts.png) return [path];
  const png = `${path.replace(/\.html?$/i, '')}.png`;
  const r = await renderPng(figure, png);
  if (r.ok) return [path, png];
  process.stderr.write(`gmoe predict: warning: ${png} not written: ${r.reason}\n`);
  return [path];
}

async function run(opts: PredictCliOptions): Promise<void> {
  if (opts.out === '') throw new CliError('--out must be a file path (or - for standard output). Value: ""');
  if (opts.plot !== undefined && (opts.plot === '' || opts.plot === '-' || isDirectory(opts.plot)))
    throw new CliError(`--plot must name a file (e.g. pred.html; the PNG goes beside it). Value: ${opts.plot}`);
  // both outputs checked before either is written: a figure that cannot be written leaves no CSV behind
  try {
    if (opts.out !== '-') checkWritable(opts.out);
    if (opts.plot !== undefined) checkWritable(opts.plot);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const level = intervalLevel(opts.interval);
  const model = load(opts.model);
  const fit = fitBlock(opts.model);
  const fitted = fittedColumns(fit, model.d);
  const byModel = fitted !== undefined && opts.x === undefined;
  let inputs: CsvInputs;
  try {
    inputs = readInputsCsv(opts.data, {
      ...columnOptions(opts),
      d: model.d,
      ...(byModel ? { x: fitted.x, xFromModel: true } : {}),
      ...(fitted?.y !== undefined ? { yIfPresent: fitted.y } : {}),
    });
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  if (inputs.d !== model.d)
    throw new CliError(`--x names ${inputs.d} column(s); the model ${opts.model} has d = ${model.d}`);
  const taken = predictionHeader(model.k, inputs.y !== undefined, level !== null);
  const clash = [...inputs.columns.x, inputs.columns.y].find((c) => c !== undefined && taken.includes(c));
  if (clash !== undefined)
    throw new CliError(`${opts.data}: column "${clash}" has the name of a prediction column: rename it`);
  const p = predictMoE(model, inputs.X, inputs.n, inputs.y);
  const iv = level === null ? null : { level, ...predictiveInterval(p, model.nu, level) };
  const pit = inputs.y ? predictiveCdf(p, model.nu, inputs.y) : null;
  const range = fittedRange(fit, model.d);
  const extrapolated = range ? extrapolationWarning(inputs, range) : null;
  const chunks = predictionCsv(inputs, p, iv, pit);
  if (opts.out === '-') {
    for (const c of chunks) process.stdout.write(c);
  } else {
    try {
      writeFileAtomic(opts.out, chunks);
    } catch (e) {
      throw new CliError(e instanceof Error ? e.message : String(e));
    }
  }
  const what = `${inputs.n} ${inputs.n === 1 ? 'row' : 'rows'} (k = ${model.k}${inputs.y ? `, y = ${inputs.columns.y}` : `, no y${fitted?.y !== undefined ? ` column ${JSON.stringify(fitted.y)}: --y COL names one` : ''}`})`;
  const dropped = inputs.dropped > 0 ? `; dropped ${inputs.dropped} row(s) with a missing value` : '';
  const lines = [`wrote ${what} to ${opts.out === '-' ? 'standard output' : opts.out}${dropped}`];
  const given = inputs.columns.x;
  if (
    !byModel &&
    fitted !== undefined &&
    given.join('\0') !== fitted.x.join('\0') &&
    [...given].sort().join('\0') === [...fitted.x].sort().join('\0')
  )
    lines.unshift(
      `warning: --x ${given.join(',')} names the model's columns in another order than it was fitted on (${fitted.x.join(',')}): they are read in the order given, as x1..x${model.d}; leave --x out to use the model's order`,
    );
  if (byModel) lines.unshift(`x = ${inputs.columns.x.join(',')} (the model's columns, from its fit block)`);
  const summary = predictionSummary(inputs, p, iv, pit);
  if (opts.plot !== undefined) {
    const files = await writeFigure(opts, model, inputs, p, summary, level, pit);
    if (files.length > 0) lines.push(`figure: ${files.join(', ')}`);
  }
  for (const l of [...lines, ...summary]) process.stderr.write(`gmoe predict: ${l}\n`);
  if (extrapolated) process.stderr.write(`gmoe predict: warning: ${extrapolated}\n`);
}

const isDirectory = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

/** --interval LEVEL: a probability strictly between 0 and 1, or null when not given. */
function intervalLevel(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const v = Number(raw);
  if (raw.trim() === '' || !(v > 0 && v < 1))
    throw new CliError(`--interval must be a level in (0, 1), e.g. 0.9 for a 90 % interval. Value: ${raw}`);
  return v;
}

/** Registers `gmoe predict`. */
export function register(program: Command): void {
  program
    .command('predict')
    .description(
      "predictions of a model at new x (flexmix's predict / posterior / clusters): conditional mean and sd, gate probabilities, experts' means; with y the posterior and most probable expert",
    )
    .requiredOption('--model <fit.json|preset>', 'a model file (e.g. written by `gmoe fit`) or a truth preset')
    .requiredOption('--data <data.csv>', "CSV with the model's x columns and, optionally, y")
    .option(
      '--x <cols>',
      'input columns by name, comma-separated, in the model order (default: the columns the model was fitted on, as its file records them, else x1..xd)',
    )
    .option(
      '--y <col>',
      "response column by name (default: the model's response column, else y, when the file has one; none is fine)",
    )
    .option('--drop-missing', 'drop rows with a missing value (NA or empty) in a chosen column, instead of refusing')
    .requiredOption('--out <pred.csv>', 'output CSV (written atomically), or - for standard output')
    .option(
      '--plot <fig.html>',
      'a figure: d = 1 the data by most probable expert, E[y|x], each expert ± 2 sd and the gate; d > 1 observed y against E[y|x]; with y, the histogram of pit',
    )
    .option(
      '--interval <level>',
      'add columns lower and upper: the central LEVEL (e.g. 0.9) predictive interval of y given x, quantiles of the mixture p(y|x)',
    )
    .option('--no-png', 'with --plot: skip the PNG beside the HTML (Chromium)')
    .addHelpText(
      'after',
      [
        '',
        'Columns written: the input columns, then mean (E[y|x]), sd (sd(y|x)), with --interval lower and',
        "upper, then gate1..k (π_j(x)), mu1..k (each expert's mean); with y also logdens (log p(y|x)),",
        'pit (F(y|x), the probability integral transform: uniform where the model holds), post1..k',
        '(P(expert j | x, y)) and expert (the most probable, 1..k; NA where y has zero density).',
        'A summary goes to stderr: with y the fit, a Kolmogorov–Smirnov test of the pit against U(0, 1) and,',
        'with --interval, how many samples the interval holds.',
        '',
        'Example:',
        '  gmoe predict --model fit.json --data new.csv --out pred.csv',
        '  gmoe predict --model fit.json --data data.csv --out pred.csv --plot pred.html   # and pred.png',
        '  gmoe predict --model fit.json --data new.csv --out pred.csv --interval 0.9        # 90 % intervals',
      ].join('\n'),
    )
    .action(async (opts: PredictCliOptions) => run(opts));
}
