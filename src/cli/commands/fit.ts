/**
 * `gmoe fit --data data.csv --gate softmax|topk:K[:logit|slope]|temperature|activation:<σ> --k K
 *           [--init auto|softmax-first[:kmeans|random]|near-truth:<preset|model.json>|kmeans|random|<model.json>]
 *           [--restarts R (default 10)] [--restarts-max M] [--seed S]
 *           [--tol T] [--abs-tol A] [--max-iter M] [--tau free|fixed] [--bounds B] [--se [boot:B|both:B]] ... --out fit.json`
 * Fits a Gaussian MoE by EM (fitMoE) and writes the fitted model as a model file with an extra
 * "fit" block (log-likelihood, trace, iterations, stop reason, warnings, options, seconds), so the
 * file loads wherever a model does (`gmoe loss --fit fit.json`). Prints a short summary on stdout;
 * progress goes to stderr on a terminal, or every few seconds when the fit is long.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readDatasetCsv, type CsvColumnOptions } from '../../models/dataset-io.js';
import { resolveModel, writeModelFile } from '../../models/io.js';
import { listTruthPresets } from '../../models/presets.js';
import { ValidationError, parseGateSpec } from '../../models/validate.js';
import { oneOf as schemaOneOf } from '../../models/schema.js';
import { hasTau, type Dataset, type GateSpec, type Model } from '../../models/types.js';
import { findGate, gateCliSyntax, getGate } from '../../models/gates/index.js';
import { MAX_SEED } from '../../random/rng.js';
import {
  checkFitData,
  fitMoE,
  type FitOptions,
  type FitResult,
  type InitOption,
  type RestartResult,
} from '../../em/index.js';
import { formatStandardErrors, standardErrors, type StandardErrors } from '../../em/inference/se.js';
import { modelCriteria, type InformationCriteria } from '../../em/inference/criteria.js';
import { BOOT_SE_MIN } from '../../em/inference/boot-se.js';
import { formatBootstrapStandardErrors } from '../../em/inference/boot-se-format.js';
import { SE_SYNTAX, parseSe, parseSeWorkers, runBootSe, withoutSamples } from './fit-se.js';
import { CliError } from '../errors.js';
import { parameterTable, saturationHint } from './fit-table.js';
import { inputRange } from '../../models/predict.js';
import { parseIntOption } from './simulate.js';
import { BOUNDS_SYNTAX, parseBoundsArg } from './bounds-arg.js';
import { bothCallbacks, traceRecorder } from './fit-trace.js';
import { checkWritable, writeFileAtomic } from '../../io/index.js';
import { equalVariance, parseVariance } from './variance-arg.js';

interface FitCliOptions {
  data: string;
  gate: string;
  k: string;
  init: string;
  restarts?: string;
  seed: string;
  tol?: string;
  absTol?: string;
  maxIter?: string;
  tau: string;
  variance: string;
  selectOn?: string;
  bias: string;
  noise: string;
  noiseScale: string;
  assign: string;
  split: string;
  varianceFloor?: string;
  backend: string;
  accelerate: string;
  optimizer: string;
  prefit?: string;
  restartsMax?: string;
  stopRule?: string;
  decrementTol?: string;
  switchTol?: string;
  keepDominated?: boolean;
  diagnostics?: boolean;
  se?: boolean | string;
  workers?: string;
  progress: boolean;
  wasm: boolean;
  y?: string;
  x?: string;
  dropMissing?: boolean;
  out: string;
  bounds?: string;
  trace?: string;
}

/** Starts of a data-driven fit: cheap next to one over-specified fit, and enough to see several optima. */
export const DEFAULT_STARTS = 10;
/** The start families of `gmoe fit` and `gmoe select` unless --init says otherwise (docs/fitting.md). */
export const DEFAULT_INIT = 'auto';
/** The --init values that start from the data alone (what `gmoe select` accepts). */
export const DATA_INITS = ['auto', 'softmax-first', 'softmax-first:kmeans', 'softmax-first:random', 'kmeans', 'random'];

/** A data-driven --init (see DATA_INITS), or null for anything else. */
export function parseDataInit(raw: string): InitOption | null {
  if (raw === 'kmeans' || raw === 'random' || raw === 'auto') return { kind: raw };
  if (raw === 'softmax-first' || raw === 'softmax-first:kmeans') return { kind: 'softmax-first', from: 'kmeans' };
  if (raw === 'softmax-first:random') return { kind: 'softmax-first', from: 'random' };
  return null;
}

const GATE_SYNTAX = gateCliSyntax();

/** The gate as the --gate syntax writes it (top-K with its selection rule). */
export function formatGate(g: GateSpec): string {
  return getGate(g).cliString(g);
}

/** A flag's value among `allowed` (the schema's check; the raw text in the message, as typed). */
export function oneOf<const T extends readonly [string, ...string[]]>(v: string, allowed: T, flag: string): T[number] {
  const r = schemaOneOf(allowed).safeParse(v);
  if (!r.success) throw new CliError(`${flag} ${r.error.issues[0]!.message}. Value: ${v}`);
  return r.data;
}

/** A finite number ≥ 0 (or > 0) from the command line. */
export function parseNumber(raw: string, flag: string, positive: boolean): number {
  const v = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(v) || v < 0 || (positive && v === 0))
    throw new CliError(`${flag} must be a finite number ${positive ? '> 0' : '≥ 0'}. Value: ${raw}`);
  return v;
}

function loadModel(arg: string, flag: string): Model {
  try {
    return resolveModel(arg, flag);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * Parses --gate `kind[:arg...]`: the gate's descriptor reads the syntax, and the one gate parser
 * (models/validate.ts parseGateSpec) checks the values, naming the flags. The top-K ranking
 * (--select-on) defaults to the init model's when it has a top-K gate (e.g. near-truth:topk1
 * selects on the logit), else to "logit"; `topk:K:logit|slope` gives it in the gate. Without a
 * rule a line saying which and why is pushed onto `notes`.
 */
export function parseGate(
  raw: string,
  k: number,
  opts: { selectOn?: string; bias: string },
  initModel?: Model,
  notes?: string[],
): GateSpec {
  const [kind, ...args] = raw.split(':');
  if (findGate(kind)?.form === 'masked') {
    const rule = args[1];
    if (rule !== undefined && opts.selectOn !== undefined && rule !== opts.selectOn)
      throw new CliError(`--select-on ${opts.selectOn} contradicts --gate ${raw}. Value: ${opts.selectOn}`);
    if (rule === undefined && opts.selectOn === undefined) {
      const fromInit = initModel ? getGate(initModel.gate).selection?.(initModel.gate).selectOn : undefined;
      notes?.push(
        fromInit
          ? `--gate ${raw} gives no selection rule: using ${fromInit}, the rule of the init model (write topk:K:logit or topk:K:slope to choose)`
          : `--gate ${raw} gives no selection rule: using logit (ranks experts by β0 + β1·x, so a switch can sit anywhere; slope ranks by β1·x alone, whose switches all pass through x = 0); write topk:K:slope for the other`,
      );
    }
  }
  const gate = findGate(kind);
  const spec = gate?.fromCli(args, { selectOn: opts.selectOn, bias: opts.bias, init: initModel?.gate });
  if (!gate || !spec) throw new CliError(`--gate must be one of ${GATE_SYNTAX}. Value: ${raw}`);
  try {
    return parseGateSpec(spec, k, '--gate', { kName: '--k', field: gate.cliField });
  } catch (e) {
    if (e instanceof ValidationError) throw new CliError(e.message);
    throw e;
  }
}

/** The values of the near-truth options (parseInit, checkApplies). */
const NOISES = ['shrinking', 'fixed'] as const;
const ASSIGNS = ['random', 'ordered'] as const;

/** --assign: random | ordered | a list of true atoms, one per fitted expert (e.g. 0,0,1; checked against k by fitMoE). */
function parseAssign(v: string): (typeof ASSIGNS)[number] | number[] {
  if (/^\d+(,\d+)*$/.test(v)) return v.split(',').map(Number);
  return oneOf(v, ASSIGNS, '--assign');
}
const SPLITS = ['divide', 'copy'] as const;

/** Parses --init; `near-truth:X` and a bare model path/preset load a model. */
function parseInit(raw: string, opts: FitCliOptions): { init: InitOption; model?: Model } {
  const data = parseDataInit(raw);
  if (data) return { init: data };
  if (raw.startsWith('near-truth:')) {
    const truth = loadModel(raw.slice('near-truth:'.length), '--init near-truth:<truth>');
    const init: InitOption = {
      kind: 'near-truth',
      truth,
      noise: oneOf(opts.noise, NOISES, '--noise'),
      noiseScale: parseNumber(opts.noiseScale, '--noise-scale', false),
      assign: parseAssign(opts.assign),
      splitWeights: oneOf(opts.split, SPLITS, '--split'),
    };
    return { init, model: truth };
  }
  if (raw === 'near-truth')
    throw new CliError('--init near-truth needs a truth: near-truth:<preset|model.json>. Value: near-truth');
  if (!existsSync(raw) && !listTruthPresets().some((p) => p.name === raw))
    throw new CliError(
      `--init must be ${DATA_INITS.join(', ')}, near-truth:<preset|model.json>, a truth preset (${listTruthPresets()
        .map((p) => p.name)
        .join(', ')}) or a path to a model file. Value: ${raw} (no such keyword, preset or file)`,
    );
  const model = loadModel(raw, '--init');
  return { init: { kind: 'model', model }, model };
}

/** Column options --y, --x, --drop-missing (shared by the commands that read a dataset). */
export function columnOptions(opts: { y?: string; x?: string; dropMissing?: boolean }): CsvColumnOptions {
  const out: CsvColumnOptions = { dropMissing: opts.dropMissing === true };
  if (opts.y !== undefined) out.y = opts.y;
  if (opts.x !== undefined) out.x = opts.x.split(',').map((s) => s.trim());
  return out;
}

/**
 * Reads --data with the column options; `note` says which columns were used and how many rows were
 * dropped (when that is not the plain x1..xd,y layout).
 */
export function readDataOption(opts: { data: string; y?: string; x?: string; dropMissing?: boolean }): {
  data: Dataset;
  columns: { x: string[]; y: string };
  dropped: number;
  note?: string;
} {
  try {
    const d = readDatasetCsv(opts.data, columnOptions(opts));
    const named = opts.y !== undefined || opts.x !== undefined;
    const parts = [];
    if (named) parts.push(`y = ${d.columns.y}, x = ${d.columns.x.join(',')}`);
    if (d.dropped > 0) parts.push(`dropped ${d.dropped} row(s) with a missing value, ${d.n} left`);
    const out = { data: { n: d.n, d: d.d, X: d.X, y: d.y }, columns: d.columns, dropped: d.dropped };
    checkColumns(out.data, opts.data, d.columns);
    return parts.length > 0 ? { ...out, note: `${opts.data}: ${parts.join('; ')}` } : out;
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * The fit's checks of the data (no constant x or y column, linearly independent x columns), refused
 * with the file and the columns' names rather than the library's data.X column x2.
 */
function checkColumns(data: Dataset, file: string, columns: { x: string[]; y: string }): void {
  try {
    checkFitData(data);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    const col = /^data\.X column x(\d+)$/.exec(e.field);
    const xs = columns.x.map((c) => JSON.stringify(c)).join(',');
    let named = e.message;
    if (col)
      named = `x column ${JSON.stringify(columns.x[Number(col[1]) - 1])} is constant (${String(e.value)}): the gate and expert slopes on it are not identifiable; leave it out of --x`;
    else if (e.field === 'data.X')
      named = `the x columns ${xs} are linearly dependent (one is a linear combination of the others, up to rounding): leave one out of --x`;
    else if (e.field === 'data.y')
      named = `y column ${JSON.stringify(columns.y)} is constant (${String(e.value)}): the likelihood is unbounded`;
    throw new CliError(`${file}: ${named}`);
  }
}

/** --out and --trace name files, and not the same one. */
function checkOutputs(opts: FitCliOptions): void {
  if (opts.out === '') throw new CliError('--out must be a file path. Value: ""');
  // stdout carries the summary: a model file written there would be mixed with it
  if (opts.out === '-') throw new CliError('--out must be a file path (the summary goes to stdout). Value: -');
  if (
    opts.trace !== undefined &&
    (opts.trace === '' || opts.trace === '-' || resolve(opts.trace) === resolve(opts.out))
  )
    throw new CliError(`--trace must be a file path other than --out's. Value: ${JSON.stringify(opts.trace)}`);
  // before the fit: a fit of minutes (or a bootstrap of hours) must not end on "cannot write"
  try {
    checkWritable(opts.out);
    if (opts.trace !== undefined) checkWritable(opts.trace);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** The library's option paths that the command line spells as flags, longest first. */
const FLAG_OF: [string, string][] = [
  ['init.model.', "--init's model: "],
  ['init.truth.', "--init's truth: "],
  ['init.assign ', '--assign '],
  ['init.noiseScale ', '--noise-scale '],
];

/** A fitMoE error about its options, in the flags the user typed (`init.assign …` → `--assign …`). */
export function asFlags(message: string): string {
  for (const [path, flag] of FLAG_OF) if (message.startsWith(path)) return flag + message.slice(path.length);
  return message;
}

/** Progress on stderr: a live line on a terminal, otherwise a line every few seconds once the fit is long. */
function progressReporter(enabled: boolean, restarts: number, restartsMax?: number): FitOptions['onIteration'] {
  if (!enabled) return undefined;
  const tty = process.stderr.isTTY === true;
  const t0 = performance.now();
  const every = tty ? 200 : 5000;
  // off a terminal: a first line once the fit has run for a second, then one every 5 s
  let last = tty ? t0 : t0 - every + 1000;
  return ({ restart, iteration, logLik }) => {
    const now = performance.now();
    if (now - last < every) return;
    last = now;
    const of = restartsMax !== undefined && restartsMax > restarts ? `${restarts}–${restartsMax}` : `${restarts}`;
    const line = `gmoe fit: start ${restart + 1}/${of}, iteration ${iteration}, log-likelihood ${logLik.toFixed(6)}, ${((now - t0) / 1000).toFixed(1)} s`;
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else process.stderr.write(`${line}\n`);
  };
}

const FROM_NAME = { kmeans: 'k-means++', random: 'random partitions' } as const;

/** A softmax-first start's own softmax fits, which the best start's iteration count leaves out. */
function softmaxStage(best: RestartResult): string {
  const fits = best.softmaxFits;
  if (!fits) return '';
  const each = fits.map((f) => `${FROM_NAME[f.from]} ${f.iterations}`).join(', ');
  return ` (plus its softmax-first start's softmax fits: ${each})`;
}

function summary(fit: FitResult, out: string, c: InformationCriteria): string {
  const best = fit.restartResults[fit.bestRestart]!;
  const lines = [
    `log-likelihood ${fit.logLik} (start ${fit.bestRestart + 1} of ${fit.restarts}, ${best.start})`,
    // the hybrid says which test stopped it (newton-decrement, …), not "converged (converged)" under --stop-rule tol
    `iterations ${fit.iterations}${softmaxStage(best)}, ${fit.converged ? 'converged' : 'not converged'}${(fit.hybrid || !fit.converged) && fit.stopReason !== 'converged' ? ` (${fit.stopReason})` : ''}, ${fit.seconds.toFixed(2)} s on ${fit.backend}`,
    `gate ${formatGate(fit.options.gate)}, k = ${fit.options.k}${fit.options.variance === 'equal' ? ', one variance shared by all experts' : ''}`,
    `criteria (flexmix's definitions, smaller is better): df ${c.df}, AIC ${c.aic.toFixed(3)}, BIC ${c.bic.toFixed(3)}, ICL ${c.icl.toFixed(3)}`,
  ];
  if (fit.hybrid) {
    const h = fit.hybrid;
    lines.push(
      `hybrid: ${h.emIterations} EM + ${h.newtonIterations} trust-region iterations, ${h.hessians} Hessians; at the end Newton decrement ${h.decrement === null ? 'n/a' : `${h.decrement.toExponential(2)} nats`}, −H ${h.negativeDefinite ? 'positive definite (a strict local maximum)' : 'NOT positive definite (not a strict local maximum)'}`,
    );
    // top-K: switches held on region boundaries (the decrement and definiteness above are along them)
    if (h.pinned.length > 0)
      lines.push(
        `pinned switches (on top-K region boundaries, decrement along them): ${h.pinned.map((p) => `sample ${p.sample}, experts ${p.experts[0] + 1} (active) and ${p.experts[1] + 1} tie`).join('; ')}`,
      );
  }
  if (fit.options.prefit) {
    const pre = fit.restartResults.map((r) => r.prefit);
    lines.push(
      `prefit: every start first on 1 sample in ${fit.options.prefit}: ${pre.map((p) => (p ? `${p.logLik.toFixed(4)} on ${p.samples} (${p.iterations} it, ${p.stopReason})` : 'failed')).join(', ')}`,
    );
  }
  if (fit.restarts > 1) {
    const start = (r: RestartResult): string =>
      r.stopReason === 'dominated' ? `${r.start}, dropped at iteration ${r.iterations}: dominated` : r.start;
    lines.push(`starts: ${fit.restartResults.map((r) => `${r.logLik.toFixed(4)} (${start(r)})`).join(', ')}`);
    const o = fit.optima;
    lines.push(
      `optima: ${o.length} distinct (within ${fit.optimumTol} nats); the best reached by ${o[0]?.count ?? 0} of ${fit.restarts} starts${
        o.length > 1
          ? `; others ${o
              .slice(1)
              .map((g) => `${g.logLik.toFixed(4)} (${g.count})`)
              .join(', ')}`
          : ''
      }`,
    );
  }
  if (fit.diagnostics) {
    const d = fit.diagnostics;
    lines.push(
      `identifiability: ${d.flat.length} flat direction(s) among ${d.params.length} gate parameters (eigenvalues ${d.eigenvalues.map((v) => v.toExponential(2)).join(', ')})`,
    );
  }
  lines.push(`wrote ${out}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Refuses a given option that the init, the gate or the optimizer does not use (the values of --noise,
 * --assign, --split, --bias, --select-on and --noise-scale are checked whether they apply or not).
 */
function checkApplies(
  opts: FitCliOptions,
  given: ReadonlySet<string>,
  init: InitOption,
  gate: GateSpec,
  optimizer: 'em' | 'hybrid',
): void {
  oneOf(opts.noise, NOISES, '--noise');
  parseNumber(opts.noiseScale, '--noise-scale', false);
  parseAssign(opts.assign);
  oneOf(opts.split, SPLITS, '--split');
  oneOf(opts.bias, ['outside', 'inside'] as const, '--bias');
  if (opts.selectOn !== undefined) oneOf(opts.selectOn, ['logit', 'slope'] as const, '--select-on');
  const flag = (o: string) => `--${o.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const value = (o: string) => String((opts as unknown as Record<string, unknown>)[o]);
  if (init.kind !== 'near-truth')
    for (const o of ['noise', 'noiseScale', 'assign', 'split'])
      if (given.has(o)) throw new CliError(`${flag(o)} applies only to --init near-truth:<truth>. Value: ${value(o)}`);
  const g = getGate(gate);
  if (given.has('bias') && !g.activation)
    throw new CliError(`--bias applies only to activation gates (--gate activation:<σ>). Value: ${opts.bias}`);
  if (given.has('selectOn') && !g.selection)
    throw new CliError(`--select-on applies only to top-K gates (--gate topk:K). Value: ${opts.selectOn}`);
  if (optimizer !== 'hybrid')
    for (const o of ['stopRule', 'decrementTol', 'switchTol'])
      if (given.has(o)) throw new CliError(`${flag(o)} applies only to --optimizer hybrid. Value: ${value(o)}`);
}

async function run(opts: FitCliOptions, given: ReadonlySet<string> = new Set()): Promise<void> {
  const k = parseIntOption(opts.k, '--k', 1, 10_000);
  const { init, model: initModel } = parseInit(opts.init, opts);
  // data-driven starts differ from one another; a model or near-truth start is one point
  const restarts =
    opts.restarts === undefined
      ? init.kind === 'model' || init.kind === 'near-truth'
        ? 1
        : DEFAULT_STARTS
      : parseIntOption(opts.restarts, '--restarts', 1, 1_000_000);
  const seed = parseIntOption(opts.seed, '--seed', 1, MAX_SEED);
  const tauMode = oneOf(opts.tau, ['free', 'fixed'] as const, '--tau');
  const variance = parseVariance(opts.variance);
  const backend = oneOf(opts.backend, ['cpu', 'gpu', 'auto'] as const, '--backend');
  const accelerate = oneOf(opts.accelerate, ['squarem', 'none'] as const, '--accelerate');
  const optimizer = oneOf(opts.optimizer, ['em', 'hybrid'] as const, '--optimizer');
  checkOutputs(opts);
  const notes: string[] = [];
  const gate = parseGate(opts.gate, k, opts, initModel, notes);
  checkApplies(opts, given, init, gate, optimizer);
  for (const line of notes) process.stderr.write(`gmoe fit: ${line}\n`);
  const options: FitOptions = {
    gate,
    k,
    init,
    restarts,
    seed,
    tauMode,
    backend,
    accelerate,
    optimizer,
    ...equalVariance(variance),
    diagnostics: opts.diagnostics === true,
    wasm: opts.wasm,
  };
  if (opts.tol !== undefined) options.tol = parseNumber(opts.tol, '--tol', false);
  if (opts.absTol !== undefined) options.absTol = parseNumber(opts.absTol, '--abs-tol', false);
  if (opts.stopRule !== undefined)
    options.stopRule = oneOf(opts.stopRule, ['decrement', 'tol'] as const, '--stop-rule');
  if (opts.decrementTol !== undefined) options.decrementTol = parseNumber(opts.decrementTol, '--decrement-tol', false);
  if (opts.switchTol !== undefined) options.switchTol = parseNumber(opts.switchTol, '--switch-tol', false);
  if (opts.keepDominated) options.dropDominated = false;
  if (opts.prefit !== undefined) options.prefit = parseIntOption(opts.prefit, '--prefit', 2, 1_000_000);
  if (opts.restartsMax !== undefined) {
    options.restartsMax = parseIntOption(opts.restartsMax, '--restarts-max', 1, 1_000_000);
    if (options.restartsMax < restarts)
      throw new CliError(`--restarts-max must be at least --restarts (${restarts}). Value: ${options.restartsMax}`);
  }
  if (opts.maxIter !== undefined) options.maxIter = parseIntOption(opts.maxIter, '--max-iter', 0, 100_000_000);
  if (opts.varianceFloor !== undefined)
    options.varianceFloor = parseNumber(opts.varianceFloor, '--variance-floor', true);
  if (opts.bounds !== undefined) options.bounds = parseBoundsArg(opts.bounds);
  if (options.bounds?.tau && !hasTau(gate))
    throw new CliError(
      `--bounds tau applies only to gates with a temperature (temperature, activation:<σ>). Value: ${opts.bounds}`,
    );
  if (tauMode === 'fixed' && !hasTau(gate))
    throw new CliError(
      `--tau fixed needs a gate with a temperature (temperature, activation:<σ>). Value: --gate ${opts.gate}`,
    );
  const seChoice = parseSe(opts.se);
  const workers = parseSeWorkers(opts.workers, seChoice);
  const { data, columns, dropped, note } = readDataOption(opts);
  if (note) process.stderr.write(`${note}\n`);
  const tracer = opts.trace !== undefined ? traceRecorder() : null;
  options.onIteration = bothCallbacks(
    progressReporter(opts.progress, restarts, options.restartsMax),
    tracer?.onIteration,
  );
  let fit: FitResult;
  try {
    fit = fitMoE(data, options);
  } catch (e) {
    // bad input (data, options, no GPU for --backend gpu) → exit 2; anything else is a bug → exit 1
    if (e instanceof ValidationError) throw new CliError(asFlags(e.message));
    if (e instanceof Error && e.name === 'GpuUnavailableError') throw new CliError(e.message);
    throw e;
  } finally {
    if (options.onIteration && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  }
  // standard errors before the write, so that the file holds them
  const se: StandardErrors | undefined = seChoice?.information
    ? standardErrors(fit.model, data, { tauMode, variance })
    : undefined;
  const { onIteration: _o, diagnostics: _d, ...refit } = options;
  const boot = seChoice?.boot
    ? await runBootSe(data, fit, seChoice.boot, refit, { progress: opts.progress, workers })
    : undefined;
  // AIC / BIC / ICL as gmoe select (and flexmix) compute them, df from parameterCount
  const criteria = modelCriteria(fit.model, data, tauMode, variance);
  const block = {
    fit: {
      logLik: fit.logLik,
      meanLogLik: fit.logLik / data.n,
      n: data.n,
      criteria: { df: criteria.df, aic: criteria.aic, bic: criteria.bic, icl: criteria.icl },
      // what the fit saw of x: gmoe predict warns on rows outside it
      xRange: inputRange(data.X, data.n, data.d),
      iterations: fit.iterations,
      converged: fit.converged,
      stopReason: fit.stopReason,
      restarts: fit.restarts,
      bestRestart: fit.bestRestart,
      restartLogLiks: fit.restartLogLiks,
      starts: fit.restartResults.map((r) => r.start),
      ...(fit.options.prefit ? { prefits: fit.restartResults.map((r) => r.prefit ?? null) } : {}),
      ...(fit.restartResults.some((r) => r.softmaxFits)
        ? { softmaxFits: fit.restartResults.map((r) => r.softmaxFits ?? null) }
        : {}),
      optima: fit.optima,
      optimumTol: fit.optimumTol,
      gate: formatGate(fit.options.gate),
      trace: fit.trace,
      warnings: fit.warnings,
      backend: fit.backend,
      options: {
        ...fit.options,
        data: opts.data,
        columns,
        ...(dropped > 0 ? { droppedRows: dropped } : {}),
        gateArg: opts.gate,
        initArg: opts.init,
      },
      seconds: fit.seconds,
      ...(fit.hybrid ? { hybrid: fit.hybrid } : {}),
      ...(fit.diagnostics ? { diagnostics: fit.diagnostics } : {}),
      ...(se ? { standardErrors: se } : {}),
      ...(boot ? { bootstrapStandardErrors: withoutSamples(boot) } : {}),
    },
  };
  try {
    // the trace first: a trace that cannot be written leaves no model file behind either
    if (tracer) writeFileAtomic(opts.trace!, tracer.csv());
    writeModelFile(opts.out, fit.model, block);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  process.stdout.write(summary(fit, opts.out, criteria));
  process.stdout.write(`${parameterTable(fit.model, data, columns.x).join('\n')}\n`);
  if (boot) process.stdout.write(formatBootstrapStandardErrors(boot, se));
  else if (se) process.stdout.write(formatStandardErrors(se));
  // warnings on stderr, also in the file's fit.warnings
  for (const w of fit.warnings) process.stderr.write(`gmoe fit: warning: ${w}\n`);
  const hint = saturationHint(fit.model, data, columns.x);
  if (hint) process.stderr.write(`gmoe fit: hint: ${hint}\n`);
}

/** Registers `gmoe fit`. */
export function register(program: Command): void {
  program
    .command('fit')
    .description('fit a Gaussian MoE to a CSV dataset by EM and write the fitted model (with a "fit" block) as JSON')
    .requiredOption(
      '--data <data.csv>',
      'dataset CSV: header x1,...,xd,y (e.g. written by `gmoe simulate`), or any CSV with --y/--x',
    )
    .option('--y <col>', 'response column by name (any CSV; RFC 4180 quoting, R row names skipped)')
    .option('--x <cols>', 'input columns by name, comma-separated (default with --y: every other column)')
    .option(
      '--drop-missing',
      'drop rows with NA or an empty cell in a chosen column (default: refuse them, naming line and column)',
    )
    .requiredOption('--gate <gate>', `gate: ${GATE_SYNTAX}`)
    .requiredOption('--k <K>', 'number of experts, integer ≥ 1')
    .option(
      '--init <init>',
      "start: auto (starts in turn from a softmax fit started by k-means++ / random partitions, k-means++, random partitions; see docs/fitting.md), softmax-first[:kmeans|random], kmeans, random, near-truth:<preset|model.json> (the authors' scheme), or a model file/preset",
      DEFAULT_INIT,
    )
    .option(
      '--restarts <R>',
      `number of starts (seeded; the best log-likelihood wins; the distinct optima are reported; default ${DEFAULT_STARTS} for data-driven starts, 1 for near-truth or a model)`,
    )
    .option('--seed <S>', `master seed, integer in [1, ${MAX_SEED}]`, '1')
    .option('--tol <T>', 'relative tolerance on the mean log-likelihood per sample (default 1e-10)')
    .option('--abs-tol <A>', 'absolute tolerance on the mean log-likelihood per sample (default 1e-13)')
    .option('--max-iter <M>', 'maximum EM iterations per start (default 5000)')
    .option('--tau <mode>', 'temperature/activation gates: free | fixed (τ stays at its start)', 'free')
    .option(
      '--variance <mode>',
      "experts' variances: free (one per expert) | equal (one shared by all: k − 1 fewer parameters, no spurious narrow expert; mixtools' arbvar = FALSE)",
      'free',
    )
    .option(
      '--select-on <score>',
      "top-K ranking: slope | logit (same as topk:K:<rule>; default: the init model's, else logit, said on stderr)",
    )
    .option('--bias <where>', 'activation gates: outside | inside σ', 'outside')
    .option(
      '--noise <noise>',
      "near-truth: shrinking (sd ∝ n^-0.083, the authors') | fixed (n-independent)",
      'shrinking',
    )
    .option('--noise-scale <c>', 'near-truth: multiplies every noise sd', '1')
    .option(
      '--assign <mode>',
      "near-truth: random (the authors') | ordered assignment of fitted to true atoms, or a list of true atoms (0-based), one per fitted expert, e.g. 0,0,1",
      'random',
    )
    .option(
      '--split <mode>',
      "near-truth: divide (copies share the weight: β0 − log m; β0 − τ·log m for the identity with the bias inside) | copy (the authors')",
      'divide',
    )
    .option('--variance-floor <v>', 'smallest expert variance (default 1e-6 × var(y))')
    .option(
      '--bounds <spec>',
      `the theorems' compact parameter space [U], off by default: ${BOUNDS_SYNTAX}; |β1| per coordinate, on the normalised gate (reference expert at 0); see docs/fitting.md`,
    )
    .option(
      '--backend <backend>',
      'cpu (Float64) | gpu (gpu.js on a real GPU, float32 per-sample terms; exits 2 saying why when there is none) | auto (the GPU only on a real one and for n·k ≥ 2^20, else the CPU); see docs/performance.md',
      'cpu',
    )
    .option(
      '--accelerate <how>',
      'squarem (SQUAREM extrapolation: same optimum, far fewer iterations where EM crawls) | none (plain EM, as the papers ran it)',
      'squarem',
    )
    .option(
      '--optimizer <how>',
      'em (EM, accelerated by --accelerate) | hybrid (EM/SQUAREM, then trust-region Newton steps on the exact Hessian once EM slows down; stops by the Newton decrement, prints whether −H is positive definite at the end; docs/fitting.md)',
      'em',
    )
    .option(
      '--stop-rule <rule>',
      'hybrid: decrement (default: Newton decrement ½gᵀ(−H)⁻¹g ≤ --decrement-tol nats) | tol (the relative tol, as EM)',
    )
    .option('--decrement-tol <e>', 'hybrid: Newton decrement threshold, nats for the whole sample (default 1e-8)')
    .option(
      '--switch-tol <s>',
      'hybrid: hand over from EM once an iteration gains ≤ s nats per sample (default 1e-5 with the softmax Hessian kernel, else 1e-6)',
    )
    .option(
      '--keep-dominated',
      'run every start to its own stop (by default a start that, at twice its recent gain rate, would still end below an earlier one at --max-iter stops: "dominated"; docs/fitting.md)',
    )
    .option(
      '--prefit <m>',
      'fit each start first on every m-th sample (start r from sample r mod m), then on all samples from there: at large n cheaper per start and more distinct optima (docs/fitting.md)',
    )
    .option(
      '--restarts-max <M>',
      'after the --restarts starts, more starts (up to M in all) while no start but the best has ended at the best optimum (within 0.1 nats): a best that one start alone reached may not be the maximum (docs/fitting.md)',
    )
    .option('--diagnostics', 'add the identifiability diagnostic (eigenvalues, flat directions of the gate)')
    .option(
      '--se [method]',
      `standard errors, printed and written into the fit block. --se alone: from the inverse observed information (exact Hessian of the log-likelihood at the fit; the reference expert's gate and a flat (β1, τ) direction are held fixed and said so, a singular information gets a note instead of errors). ${SE_SYNTAX}: parametric bootstrap with B ≥ ${BOOT_SE_MIN} refits from the estimate (SD and percentile interval; works where the information is singular); both:B: the two side by side`,
    )
    .option(
      '--workers <W>',
      `worker threads of the bootstrap (--se ${SE_SYNTAX}; default: all cores; same result for any W)`,
    )
    .option('--no-progress', 'no progress lines on stderr')
    .option(
      '--trace <file.csv>',
      "every iteration of every start as CSV: log-likelihood and phase (start, em, trust-region), and for the hybrid's trust-region steps the radius, step length, predicted gain, ρ, extension α and refusals before it",
    )
    .option(
      '--no-wasm',
      'CPU backend: the plain JS kernels instead of the WebAssembly SIMD ones (2 ≤ k ≤ 16, 1 ≤ d ≤ 8; same per-sample values, sums differ in the last bits)',
    )
    .requiredOption('--out <fit.json>', 'output model file with a "fit" block (written atomically)')
    .addHelpText(
      'after',
      [
        '',
        'Stopping: converged when the mean log-likelihood per sample changes by ≤ tol·|ℓ| or ≤ abs-tol;',
        'with --optimizer hybrid, when the Newton decrement and the gradient are ≤ --decrement-tol nats.',
        'Example:',
        '  gmoe simulate --truth demy --n 20000 --seed 1 --out d.csv',
        '  gmoe fit --data d.csv --gate softmax --k 2 --init near-truth:demy --seed 1 --out f.json',
        '  gmoe loss --fit f.json --truth demy',
        '  gmoe fit --data r.csv --y yn --x x --gate softmax --k 2 --restarts 5 --out f.json   # R write.csv file',
        '  gmoe fit --data d.csv --gate softmax --k 2 --se boot:199 --out f.json   # bootstrap standard errors',
      ].join('\n'),
    )
    .action((opts: FitCliOptions, cmd: Command) => {
      // options given on the command line (not their defaults): one that does not apply is refused, not ignored
      const given = new Set(
        cmd.options.map((o) => o.attributeName()).filter((o) => cmd.getOptionValueSource(o) === 'cli'),
      );
      return run(opts, given);
    });
}
