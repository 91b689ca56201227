/**
 * `gmoe select --data f.csv [--y COL --x COLS --drop-missing] --gate G[,G2,...] --k 1..6 [--restarts R]
 *               [--init auto|softmax-first[:kmeans|random]|kmeans|random] [--criterion bic|aic|icl]
 *               [--tol T] [--max-iter M] [--variance-floor V] [--optimizer em|hybrid]
 *               [--boot B [--alpha A] [--workers W]] [--out DIR]`
 * Chooses the number of experts like flexmix's stepFlexmix + getModel: one fit (best of R starts) per k,
 * with gmoe fit's default starts (--init auto, DEFAULT_STARTS starts),
 * AIC, BIC, ICL per k (flexmix's definitions), the smallest wins. Prints the table and writes
 * DIR/select.json, select.csv, select.html, select.png (Chromium) and the chosen fit as DIR/fit.json
 * (an earlier selection's files in DIR replaced: select-out.ts).
 * Several gates: each gate's files in DIR/<gate>/, and DIR/compare.* with every (gate, k) and the best.
 * --boot B: the sequential parametric-bootstrap likelihood-ratio test of k0 against k0 + 1 too
 * (select-boot.ts): its rows under the table, select.json's `lrt`, DIR/lrt.csv, lrt.html / .png.
 */
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import {
  checkKs,
  selectK,
  SELECT_CRITERIA,
  type SelectCriterion,
  type SelectOptions,
  type SelectResult,
} from '../../em/select.js';
import { formatJSON, makeDirs, writeFileAtomic } from '../../io/index.js';
import { csvNumber as num } from '../../models/dataset-io.js';
import { writeModelFile } from '../../models/io.js';
import { inputRange } from '../../models/predict.js';
import { hasTau } from '../../models/types.js';
import { getGate } from '../../models/gates/index.js';
import { ValidationError } from '../../models/validate.js';
import { MAX_SEED } from '../../random/rng.js';
import { writePlotHtml } from '../../experiments/plot/html.js';
import { renderPng } from '../../experiments/plot/png.js';
import { compareFigure, selectFigure } from '../../experiments/plot/select-figure.js';
import { lrtFigure } from '../../experiments/plot/lrt-figure.js';
import type { Figure } from '../../experiments/plot/figure.js';
import { alignCells, compareCsv, compareGates, compareTable, rowCells, type GateSelection } from './select-compare.js';
import type { Dataset, GateSpec } from '../../models/types.js';
import type { FitResult } from '../../em/types.js';
import { CliError } from '../errors.js';
import { BOOT_ALPHA, BOOT_MIN } from '../../em/boot-lrt.js';
import {
  DATA_INITS,
  DEFAULT_INIT,
  DEFAULT_STARTS,
  oneOf,
  parseDataInit,
  parseGate,
  parseNumber,
  readDataOption,
} from './fit.js';
import { parseIntOption } from './simulate.js';
import { checkSelectOut } from './select-out.js';
import {
  describeChoice,
  lrtCsv,
  lrtTable,
  parseBoot,
  runBoot,
  type BootChoice,
  type Selection,
} from './select-boot.js';
import { parseWorkers } from './workers-arg.js';
import { equalVariance, isVariance, type Variance } from './variance-arg.js';

interface SelectCliOptions {
  data: string;
  y?: string;
  x?: string;
  dropMissing?: boolean;
  gate: string;
  k: string;
  restarts: string;
  seed: string;
  init: string;
  criterion: string;
  tau: string;
  variance: string;
  selectOn?: string;
  bias: string;
  maxIter?: string;
  tol?: string;
  varianceFloor?: string;
  optimizer: string;
  out?: string;
  png: boolean;
  boot?: string;
  alpha?: string;
  workers?: string;
}

/** `--k`: a range `a..b`, a list `1,2,4`, or one k. */
export function parseKs(raw: string): number[] {
  const s = raw.trim();
  const range = /^(\d+)\s*\.\.\s*(\d+)$/.exec(s);
  let ks: number[];
  if (range) {
    const a = parseIntOption(range[1], '--k (from)', 1, 10_000);
    const b = parseIntOption(range[2], '--k (to)', 1, 10_000);
    if (b < a) throw new CliError(`--k range must go up (a..b with a ≤ b). Value: ${raw}`);
    if (b - a >= 100) throw new CliError(`--k range holds at most 100 values. Value: ${raw}`);
    ks = Array.from({ length: b - a + 1 }, (_, i) => a + i);
  } else {
    ks = s.split(',').map((p) => parseIntOption(p, '--k', 1, 10_000));
    if (new Set(ks).size !== ks.length) throw new CliError(`--k lists a value twice. Value: ${raw}`);
  }
  return ks.sort((x, y) => x - y);
}

/** The table as CSV (one row per k). */
export function selectCsv(r: SelectResult): string {
  const head = 'k,logLik,df,AIC,BIC,ICL,converged,iterations,chosen';
  const rows = r.rows.map((x) =>
    [x.k, num(x.logLik), x.df, num(x.aic), num(x.bic), num(x.icl), x.converged, x.iterations, x.k === r.chosen].join(
      ',',
    ),
  );
  return `${[head, ...rows].join('\n')}\n`;
}

/** The table as text, and the choice (and the bootstrap test's rows, when there is one). */
export function selectTable(r: Selection): string {
  const cells = [['k', 'logLik', 'df', 'AIC', 'BIC', 'ICL', 'converged']];
  for (const x of r.rows) cells.push(rowCells(x, x.k === r.chosen));
  const lines = alignCells(cells, 1);
  const others = SELECT_CRITERIA.filter((c) => c !== r.criterion)
    .map((c) => `${c.toUpperCase()}: ${r.best[c]}`)
    .join(', ');
  lines.push(`chosen k = ${r.chosen} by ${r.criterion.toUpperCase()} (${others})`);
  for (const note of r.notes) lines.push(`note: ${note}`);
  if (r.lrt) lines.push(...lrtTable(r));
  return `${lines.join('\n')}\n`;
}

/** What every gate's selection shares: the options parsed once. */
interface Common {
  ks: number[];
  restarts: number;
  seed: number;
  init: NonNullable<ReturnType<typeof parseDataInit>>;
  /** the fit options gmoe fit takes with the same flags (--max-iter, --tol, --variance-floor, --optimizer) */
  fit: Pick<SelectOptions, 'maxIter' | 'tol' | 'varianceFloor' | 'optimizer'>;
  boot?: BootChoice;
  /** worker threads of the bootstrap test */
  workers: number;
}

function parseCommon(opts: SelectCliOptions): Common {
  const ks = parseKs(opts.k);
  const restarts = parseIntOption(opts.restarts, '--restarts', 1, 1_000_000);
  const seed = parseIntOption(opts.seed, '--seed', 1, MAX_SEED - ks[ks.length - 1]!);
  if (!(SELECT_CRITERIA as readonly string[]).includes(opts.criterion))
    throw new CliError(`--criterion must be one of ${SELECT_CRITERIA.join(', ')}. Value: ${opts.criterion}`);
  const init = parseDataInit(opts.init);
  if (!init) throw new CliError(`--init must be one of ${DATA_INITS.join(', ')}. Value: ${opts.init}`);
  if (opts.tau !== 'free' && opts.tau !== 'fixed')
    throw new CliError(`--tau must be one of free, fixed. Value: ${opts.tau}`);
  if (opts.workers !== undefined && opts.boot === undefined)
    throw new CliError(`--workers needs --boot (the bootstrap test runs on worker threads). Value: ${opts.workers}`);
  const fit: Common['fit'] = { optimizer: oneOf(opts.optimizer, ['em', 'hybrid'] as const, '--optimizer') };
  if (opts.maxIter !== undefined) fit.maxIter = parseIntOption(opts.maxIter, '--max-iter', 0, 100_000_000);
  if (opts.tol !== undefined) fit.tol = parseNumber(opts.tol, '--tol', false);
  if (opts.varianceFloor !== undefined) fit.varianceFloor = parseNumber(opts.varianceFloor, '--variance-floor', true);
  const common: Common = { ks, restarts, seed, init, fit, workers: parseWorkers(opts.workers) };
  const boot = parseBoot(opts.boot, opts.alpha, ks);
  if (boot) common.boot = boot;
  return common;
}

/** One --gate entry, checked against the k and --tau. */
function parseSelectGate(raw: string, ks: number[], opts: SelectCliOptions): GateSpec {
  const gate = parseGate(raw, ks[ks.length - 1]!, opts);
  const K = getGate(gate).selection?.(gate).K;
  if (K !== undefined && ks[0]! < K)
    throw new CliError(`--k must start at K = ${K} or more for --gate ${raw}. Value: ${opts.k}`);
  if (opts.tau === 'fixed' && !hasTau(gate))
    throw new CliError(
      `--tau fixed needs a gate with a temperature (temperature, activation:<σ>). Value: --gate ${raw}`,
    );
  return gate;
}

async function selectGate(
  data: Dataset,
  gate: GateSpec,
  label: string,
  c: Common,
  opts: SelectCliOptions,
  variance: Variance,
): Promise<Selection> {
  const fits = new Map<number, FitResult>();
  const options: SelectOptions = {
    gate,
    ks: c.ks,
    restarts: c.restarts,
    seed: c.seed,
    init: c.init,
    tauMode: opts.tau as 'free' | 'fixed',
    ...equalVariance(variance),
    ...c.fit,
    criterion: opts.criterion as SelectCriterion,
    onFit: (row, fit) => {
      fits.set(row.k, fit);
      process.stderr.write(
        `gmoe select: ${label}k = ${row.k}: log-likelihood ${row.logLik.toFixed(4)}, ${row.converged ? 'converged' : row.stopReason}, ${row.iterations} iterations\n`,
      );
    },
  };
  try {
    const r: Selection = selectK(data, options);
    if (c.boot) {
      r.lrt = await runBoot(data, options, fits, { ...c.boot, workers: c.workers }, label);
      process.stderr.write(`gmoe select: ${label}${describeChoice(r)}\n`);
    }
    return r;
  } catch (e) {
    // the library's list of k is the command's --k
    if (e instanceof ValidationError)
      throw new CliError(e.field === 'ks' ? e.message.replace(/^ks /, '--k ') : e.message);
    throw e;
  }
}

/** A fit as a model file with its "fit" block. */
function writeFit(path: string, fit: FitResult, extra: Record<string, unknown>, n: number): void {
  writeModelFile(path, fit.model, {
    fit: { ...extra, logLik: fit.logLik, n, converged: fit.converged, stopReason: fit.stopReason },
  });
}

/** Writes a figure as HTML and (unless --no-png) PNG; returns the file names written. */
async function writeFigure(out: string, name: string, figure: Figure, title: string, png: boolean): Promise<string[]> {
  writePlotHtml(join(out, `${name}.html`), figure, title);
  if (!png) return [`${name}.html`];
  const r = await renderPng(figure, join(out, `${name}.png`));
  if (r.ok) return [`${name}.html`, `${name}.png`];
  process.stderr.write(`gmoe select: warning: ${name}.png not written: ${r.reason}\n`);
  return [`${name}.html`];
}

/** One gate's files: select.json, select.csv, fit.json, select.html and .png. */
async function writeSelection(
  out: string,
  r: Selection,
  gateArg: string,
  variance: Variance,
  c: Common,
  opts: SelectCliOptions,
  meta: {
    columns: unknown;
    n: number;
    droppedRows: { droppedRows?: number };
    xRange: { min: number[]; max: number[] };
  },
): Promise<string[]> {
  try {
    makeDirs(out);
    const { fit, ...rest } = r;
    const { restarts, seed } = c;
    const about = {
      data: opts.data,
      columns: meta.columns,
      ...meta.droppedRows,
      gate: gateArg,
      restarts,
      seed,
      init: opts.init,
      ...c.fit,
    };
    writeFileAtomic(
      join(out, 'select.json'),
      `${formatJSON({ ...rest, ...about, tauMode: opts.tau, ...equalVariance(variance) })}\n`,
    );
    writeFileAtomic(join(out, 'select.csv'), selectCsv(r));
    if (r.lrt) writeFileAtomic(join(out, 'lrt.csv'), lrtCsv(r.lrt));
    const fitMeta = {
      k: r.chosen,
      criterion: r.criterion,
      data: opts.data,
      columns: meta.columns,
      ...meta.droppedRows,
      xRange: meta.xRange,
    };
    writeFit(join(out, 'fit.json'), fit, fitMeta, meta.n);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  const figure = selectFigure(r, `Choice of k: ${basename(opts.data)}, gate ${gateArg}`);
  const figs = await writeFigure(out, 'select', figure, `gmoe select: ${basename(opts.data)}`, opts.png);
  const lrt = r.lrt ? ['lrt.csv'] : [];
  if (r.lrt) {
    const fig = lrtFigure(r.lrt, `Bootstrap likelihood-ratio test: ${basename(opts.data)}, gate ${gateArg}`);
    figs.push(...(await writeFigure(out, 'lrt', fig, `gmoe select --boot: ${basename(opts.data)}`, opts.png)));
  }
  return ['select.json', 'select.csv', ...lrt, 'fit.json', ...figs].map((f) => join(out, f));
}

async function run(opts: SelectCliOptions): Promise<void> {
  const c = parseCommon(opts);
  const gateArgs = opts.gate.split(',').map((g) => g.trim());
  const twice = gateArgs.find((g, i) => gateArgs.indexOf(g) !== i);
  if (twice !== undefined) throw new CliError(`--gate lists ${twice} twice. Value: ${opts.gate}`);
  const variants = selectVariants(
    gateArgs,
    gateArgs.map((g) => parseSelectGate(g, c.ks, opts)),
    opts.variance,
  );
  const out = opts.out ?? join('results', `select-${basename(opts.data, extname(opts.data))}`);
  const clearEarlier = checkSelectOut(out);
  const { data, columns, dropped, note } = readDataOption(opts);
  if (note) process.stderr.write(`${note}\n`);
  // as gmoe fit's model file: the rows --drop-missing left out, when there were any
  const droppedRows = dropped > 0 ? { droppedRows: dropped } : {};
  const meta = { columns, n: data.n, droppedRows, xRange: inputRange(data.X, data.n, data.d) };
  // every gate's k checked before the first fit: the last gate's refusal must not cost the others' fits
  for (const { gate, variance } of variants) {
    try {
      checkKs(data, gate, c.ks, opts.tau as 'free' | 'fixed', variance);
    } catch (e) {
      if (e instanceof ValidationError) throw new CliError(e.message.replace(/^ks /, '--k '));
      throw e;
    }
  }
  if (variants.length === 1) {
    const { gate, variance } = variants[0]!;
    const r = await selectGate(data, gate, '', c, opts, variance);
    process.stdout.write(selectTable(r));
    clearEarlier();
    const files = await writeSelection(out, r, opts.gate, variance, c, opts, meta);
    process.stdout.write(`wrote ${files.join(', ')}\n`);
    return;
  }
  const results: GateSelection[] = [];
  const files: string[] = [];
  for (const { gate, label, variance } of variants) {
    const r = await selectGate(data, gate, `${label}: `, c, opts, variance);
    results.push({ gate: label, result: r });
    clearEarlier();
    files.push(...(await writeSelection(join(out, gateDir(label)), r, label, variance, c, opts, meta)));
  }
  const cmp = compareGates(results, opts.criterion as SelectCriterion);
  process.stdout.write(compareTable(cmp));
  try {
    writeFileAtomic(join(out, 'compare.csv'), compareCsv(cmp));
    const about = {
      data: opts.data,
      columns,
      ...droppedRows,
      restarts: c.restarts,
      seed: c.seed,
      init: opts.init,
      ...c.fit,
    };
    const { criterion, chosen, best: bestOf, rows, notes } = cmp;
    const json = {
      criterion,
      chosen,
      best: bestOf,
      rows,
      notes,
      ...about,
      tauMode: opts.tau,
      ...variancesOf(variants),
    };
    writeFileAtomic(join(out, 'compare.json'), `${formatJSON(json)}\n`);
    const best = results.find((x) => x.gate === cmp.chosen.gate)!.result;
    writeFit(
      join(out, 'fit.json'),
      best.fit,
      { ...cmp.chosen, criterion: cmp.criterion, data: opts.data, columns, ...droppedRows, xRange: meta.xRange },
      data.n,
    );
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  const what = new Set(variants.map((v) => v.variance)).size > 1 ? 'gate, variance and k' : 'gate and k';
  const figure = compareFigure(results, cmp, `Choice of ${what}: ${basename(opts.data)}`);
  const figs = await writeFigure(out, 'compare', figure, `gmoe select: ${basename(opts.data)}`, opts.png);
  const top = ['compare.json', 'compare.csv', 'fit.json', ...figs].map((f) => join(out, f));
  process.stdout.write(`wrote ${[...top, ...files].join(', ')}\n`);
}

/** A gate's subdirectory name: its --gate text with ':' as '-' (topk:2:logit → topk-2-logit). */
export function gateDir(gate: string): string {
  return gate.replace(/[^A-Za-z0-9_.-]+/g, '-');
}

/** Registers `gmoe select`. */
export function register(program: Command): void {
  program
    .command('select')
    .description(
      "choose the number of experts k by AIC / BIC / ICL (flexmix's definitions): one fit per k, a table, JSON/CSV and a plot",
    )
    .requiredOption('--data <data.csv>', 'dataset CSV: header x1,...,xd,y, or any CSV with --y/--x')
    .option('--y <col>', 'response column by name (any CSV)')
    .option('--x <cols>', 'input columns by name, comma-separated (default with --y: every other column)')
    .option('--drop-missing', 'drop rows with NA or an empty cell in a chosen column')
    .requiredOption(
      '--gate <gates>',
      'gate: softmax | topk:K | temperature | activation:<σ> (as gmoe fit); several, comma-separated, to compare gates too',
    )
    .requiredOption('--k <ks>', 'the k to compare: a range 1..6, a list 1,2,4, or one k')
    .option(
      '--restarts <R>',
      'starts per k (seeded; the best log-likelihood wins; the same default as gmoe fit)',
      String(DEFAULT_STARTS),
    )
    .option('--seed <S>', 'master seed; k is fitted with seed S + k − 1', '1')
    .option(
      '--init <init>',
      `data-driven starts, as gmoe fit (docs/fitting.md): ${DATA_INITS.join(' | ')}`,
      DEFAULT_INIT,
    )
    .option('--criterion <c>', `what chooses: ${SELECT_CRITERIA.join(' | ')} (smaller is better)`, 'bic')
    .option('--tau <mode>', 'temperature/activation gates: free | fixed', 'free')
    .option(
      '--variance <rules>',
      "experts' variances: free (one per expert) | equal (one shared by all) | free,equal (both, compared as models)",
      'free',
    )
    .option('--select-on <score>', 'top-K ranking: slope | logit (default logit, as gmoe fit; or topk:K:slope)')
    .option('--bias <where>', 'activation gates: outside | inside σ', 'outside')
    .option('--max-iter <M>', 'maximum EM iterations per start (default 5000)')
    .option('--tol <T>', 'relative tolerance on the mean log-likelihood per sample, as gmoe fit (default 1e-10)')
    .option(
      '--variance-floor <v>',
      "smallest expert variance, as gmoe fit (default 1e-6 × var(y)); raise it when a k's expert ends at the floor",
    )
    .option('--optimizer <how>', 'em | hybrid (EM/SQUAREM, then trust-region Newton steps), as gmoe fit', 'em')
    .option(
      '--boot <B>',
      `also the parametric-bootstrap likelihood-ratio test of k0 against k0 + 1 (mixtools' boot.comp), B samples per test (≥ ${BOOT_MIN}; e.g. 99); needs consecutive k`,
    )
    .option('--alpha <A>', `level of the bootstrap test: H0 rejected when p ≤ A (default ${BOOT_ALPHA})`)
    .option('--workers <W>', 'worker threads of the bootstrap test (default: all cores; same result for any W)')
    .option('--out <dir>', 'output directory (default results/select-<data file name>)')
    .option('--no-png', 'skip rendering select.png with Chromium')
    .addHelpText(
      'after',
      [
        '',
        'Criteria (flexmix 2.3): AIC = −2 logLik + 2 df, BIC = −2 logLik + df log n, ICL = BIC − 2 Σ_i log max_j r_ij;',
        'df counts the free parameters (softmax: (k − 1)(d + 1) for the gate, k(d + 2) for the experts).',
        'Example:',
        '  gmoe simulate --truth demy --n 2000 --seed 1 --out d.csv',
        '  gmoe select --data d.csv --gate softmax --k 1..4 --restarts 5 --out sel',
        '  gmoe select --data d.csv --gate softmax,topk:1:logit,activation:tanh --k 2..4 --out cmp',
        '    # each gate in cmp/<gate>/ as above; cmp/compare.csv, .json, .html: every (gate, k), the best overall in cmp/fit.json',
        '  gmoe select --data d.csv --gate softmax --k 1..3 --boot 99 --out boot',
        '    # also tests k0 = 1 vs 2, then 2 vs 3, ... (y* drawn from the k0 fit at the observed x, both refitted B times),',
        '    # stopping at the first p > alpha: that k0 is the test\'s choice (boot/lrt.csv, select.json "lrt"); 2B fits per test',
      ].join('\n'),
    )
    .action((opts: SelectCliOptions) => run(opts));
}

/** compare.json's field: the variances compared, when one is shared. */
function variancesOf(variants: SelectVariant[]): { variances?: Variance[] } {
  const vs = [...new Set(variants.map((v) => v.variance))];
  return vs.includes('equal') ? { variances: vs } : {};
}

/** One model family of a selection: a gate with a variance rule, and its label in tables and directories. */
interface SelectVariant {
  gate: GateSpec;
  label: string;
  variance: Variance;
}

/**
 * Every (--gate, --variance) pair: labelled by the gate alone with one variance rule, else
 * "<gate>, variance <rule>".
 */
function selectVariants(gateArgs: string[], gates: GateSpec[], raw: string): SelectVariant[] {
  const variances = raw.split(',').map((v) => {
    const rule = v.trim();
    if (!isVariance(rule)) throw new CliError(`--variance must list free and/or equal. Value: ${raw}`);
    return rule;
  });
  if (new Set(variances).size !== variances.length) throw new CliError(`--variance lists a rule twice. Value: ${raw}`);
  return gates.flatMap((gate, g) =>
    variances.map((variance) => ({
      gate,
      variance,
      label: variances.length > 1 ? `${gateArgs[g]!}, variance ${variance}` : gateArgs[g]!,
    })),
  );
}
