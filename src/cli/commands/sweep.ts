/**
 * `gmoe sweep <preset|spec.json> [--quick] [--reps R] [--workers W] [--out DIR] [--resume [--skip-corrupt]] [--reuse DIR]... [--shard i/N] [--seed S] [--bounds B] [--optimizer em|hybrid] [--prefit M] [--restarts-max M] [--variance free|equal] [--no-png]`
 * Runs an experiment: every (n, replication) cell simulates from the truth, fits by EM and
 * measures the losses; results.jsonl grows one line per cell; at the end summary.json, the
 * table (stdout), plot.html and plot.png. Ctrl-C (or SIGTERM) stops it; --resume continues it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../../models/validate.js';
import { MAX_SEED } from '../../random/rng.js';
import { parseShard, type Shard } from '../../experiments/plan.js';
import { isExperimentPreset, listExperimentPresets, presetSpec } from '../../experiments/presets.js';
import { createProgressReporter } from '../../experiments/progress.js';
import { runSweep, type AnalyseResult, type SweepResult } from '../../experiments/runner.js';
import { loadSpecFile, validateSpec } from '../../experiments/spec.js';
import { ResultsIOError, StoreError } from '../../experiments/store.js';
import type { ExperimentSpec } from '../../experiments/types.js';
import { CliError } from '../errors.js';
import { parseIntOption } from './simulate.js';
import { BOUNDS_SYNTAX, parseBoundsArg } from './bounds-arg.js';
import { parseWorkers } from './workers-arg.js';
import { equalVariance, parseVariance } from './variance-arg.js';

export interface SweepCliOptions {
  quick?: boolean;
  reps?: string;
  workers?: string;
  out?: string;
  resume?: boolean;
  shard?: string;
  seed?: string;
  png: boolean;
  skipCorrupt?: boolean;
  bounds?: string;
  optimizer?: string;
  prefit?: string;
  restartsMax?: string;
  variance?: string;
  reuse: string[];
}

/** A word of a shell command line, quoted when the shell would split or expand it. */
const shellWord = (w: string): string => (/^[\w./:=,@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/**
 * The command line that continues an interrupted sweep: every option that shapes its cells or how it runs
 * (workers, PNG), with --resume (cells taken by --reuse are in its results already).
 */
export function resumeCommand(arg: string, opts: SweepCliOptions, outDir: string): string {
  const flags: [string, string | boolean | undefined][] = [
    ['--quick', opts.quick],
    ['--reps', opts.reps],
    ['--seed', opts.seed],
    ['--bounds', opts.bounds],
    ['--optimizer', opts.optimizer],
    ['--prefit', opts.prefit],
    ['--restarts-max', opts.restartsMax],
    ['--variance', opts.variance],
    ['--shard', opts.shard],
    ['--workers', opts.workers],
    ['--no-png', !opts.png],
    ['--skip-corrupt', opts.skipCorrupt],
  ];
  const words = ['gmoe', 'sweep', shellWord(arg)];
  for (const [flag, v] of flags)
    if (v === true) words.push(flag);
    else if (typeof v === 'string' && v !== '') words.push(flag, shellWord(v));
  return [...words, '--out', shellWord(outDir), '--resume'].join(' ');
}

/** The cells an interrupted sweep holds: found from before, taken from --reuse runs, and run now. */
export function savedCells(r: Pick<SweepResult, 'resumed' | 'reused' | 'ran'>): number {
  return r.resumed + r.reused + r.ran;
}

/** Library errors about user input (bad spec, directory conflicts) → exit code 2. */
export function asCliError(e: unknown): never {
  if (e instanceof CliError) throw e;
  // a full disk or an unwritable results file is a failure of the run (exit 1), not bad input
  if (e instanceof ResultsIOError) throw new CliError(e.message, 1);
  if (e instanceof ValidationError || e instanceof StoreError) throw new CliError(e.message);
  throw e;
}

/** A local timestamp for directory names: 20250131-142501. */
export function timestamp(d = new Date()): string {
  const p = (v: number) => String(v).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/**
 * The spec named on the command line: a preset (with --quick) or a spec file, with --reps, --seed,
 * --bounds (every model's fits: the spec's em.bounds), --optimizer (em.optimizer), --prefit (em.prefit),
 * --restarts-max (em.restartsMax) and --variance (em.variance: 'equal', or none for free) applied.
 * @throws CliError naming the option for bad input
 */
export function specFromArgs(
  arg: string,
  opts: Pick<
    SweepCliOptions,
    'quick' | 'reps' | 'seed' | 'bounds' | 'optimizer' | 'prefit' | 'restartsMax' | 'variance'
  >,
): ExperimentSpec {
  let spec: ExperimentSpec;
  try {
    if (isExperimentPreset(arg)) spec = presetSpec(arg, { quick: opts.quick });
    else if (existsSync(arg)) {
      if (opts.quick)
        throw new CliError(`--quick applies to presets only (${arg} is a spec file: set its n and replications)`);
      spec = loadSpecFile(arg);
    } else {
      throw new CliError(
        `the experiment must be a preset (${listExperimentPresets()
          .map((p) => p.name)
          .join(', ')}) or a spec JSON file. Value: ${arg}`,
      );
    }
    if (opts.reps !== undefined)
      spec = validateSpec({ ...spec, replications: parseIntOption(opts.reps, '--reps', 1, 1e6) });
    if (opts.seed !== undefined)
      spec = validateSpec({ ...spec, seed: parseIntOption(opts.seed, '--seed', 1, MAX_SEED) });
    if (opts.bounds !== undefined)
      spec = validateSpec({ ...spec, em: { ...spec.em, bounds: parseBoundsArg(opts.bounds) } });
    if (opts.optimizer !== undefined) {
      if (opts.optimizer !== 'em' && opts.optimizer !== 'hybrid')
        throw new CliError(`--optimizer must be em or hybrid. Value: ${opts.optimizer}`);
      spec = validateSpec({ ...spec, em: { ...spec.em, optimizer: opts.optimizer } });
    }
    if (opts.prefit !== undefined) {
      const prefit = parseIntOption(opts.prefit, '--prefit', 2, 1e6);
      try {
        spec = validateSpec({ ...spec, em: { ...spec.em, prefit } });
      } catch (e) {
        // the flag set em.prefit: name the flag
        if (e instanceof Error && e.message.startsWith('em.prefit '))
          throw new CliError(`--prefit ${e.message.slice(10)}`);
        throw e;
      }
    }
    if (opts.restartsMax !== undefined) {
      const m = parseIntOption(opts.restartsMax, '--restarts-max', 1, 1000);
      if (m < spec.restarts)
        throw new CliError(`--restarts-max must be at least the spec's restarts (${spec.restarts}). Value: ${m}`);
      spec = validateSpec({ ...spec, em: { ...spec.em, restartsMax: m } });
    }
    if (opts.variance !== undefined) {
      // free is the default: the spec then holds no em.variance (spec.json as without the flag)
      const { variance: _, ...em } = spec.em;
      spec = validateSpec({ ...spec, em: { ...em, ...equalVariance(parseVariance(opts.variance)) } });
    }
  } catch (e) {
    asCliError(e);
  }
  return spec;
}

/** Prints an analysis: the table on stdout, the files on stderr. */
export function printAnalysis(a: AnalyseResult, command: string): void {
  process.stdout.write(a.table.endsWith('\n') ? a.table : `${a.table}\n`);
  process.stderr.write(`gmoe ${command}: wrote ${a.files.join(', ')}\n`);
}

async function run(arg: string, opts: SweepCliOptions): Promise<void> {
  const spec = specFromArgs(arg, opts);
  const workers = parseWorkers(opts.workers);
  let shard: Shard | undefined;
  if (opts.shard !== undefined) {
    try {
      shard = parseShard(opts.shard);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  if (opts.skipCorrupt && !opts.resume)
    throw new CliError(
      '--skip-corrupt applies with --resume (it moves corrupt lines of results.jsonl aside and reruns their cells)',
    );
  if (opts.resume && opts.out === undefined)
    throw new CliError('--resume needs --out DIR (the directory of the sweep to continue)');
  if (opts.out === '') throw new CliError('--out must be a directory path. Value: ""');
  const outDir = opts.out ?? join('results', `${spec.name}${spec.quick ? '-quick' : ''}-${timestamp()}`);

  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = createProgressReporter({ title: spec.name });
  const notice = (line: string) => process.stderr.write(`gmoe sweep: ${line}\n`);
  let result;
  try {
    result = await runSweep(spec, {
      outDir,
      workers,
      resume: opts.resume,
      skipCorrupt: opts.skipCorrupt,
      reuse: opts.reuse,
      shard,
      signal: ac.signal,
      plots: opts.png ? 'html+png' : 'html',
      onProgress: (p) => progress.update(p),
      onNotice: (line) => {
        progress.stop();
        notice(line);
      },
    });
  } catch (e) {
    progress.stop();
    asCliError(e);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  progress.stop();
  if (result.interrupted) {
    const again = resumeCommand(arg, opts, outDir);
    process.stderr.write(
      `gmoe sweep: interrupted; ${savedCells(result)} of ${result.total} cells are saved in ${outDir}. Continue with: ${again}\n`,
    );
    process.exitCode = 130;
    return;
  }
  const failed = result.failed ? `, ${result.failed} failed` : '';
  const reused = result.reused ? `, ${result.reused} reused` : '';
  notice(`${result.total} cells in ${outDir} (${result.ran} run now, ${result.resumed} from before${reused}${failed})`);
  if (result.analysis) printAnalysis(result.analysis, 'sweep');
}

/** Registers `gmoe sweep`. */
export function register(program: Command): void {
  program
    .command('sweep')
    .description(
      'run a convergence-rate experiment (sweep over n × replications) from a preset or a spec file; writes results/<name>-<timestamp>/',
    )
    .argument('<preset|spec.json>', 'experiment preset (see `gmoe presets`) or a spec JSON file')
    .option('--quick', "the preset's quick size (about a minute on 2 cores) instead of the paper's")
    .option('--reps <R>', 'replications per n (overrides the spec)')
    .option('--workers <W>', 'worker threads (default: all cores)')
    .option('--out <dir>', 'output directory (default results/<name>[-quick]-<timestamp>)')
    .option('--resume', 'continue the sweep in --out: finished cells are skipped')
    .option(
      '--reuse <dir>',
      'take the cells an earlier sweep DIR already computed that this one also plans (the same gmoe version and spec but for n, replications, theory, name, description: e.g. more replications after `gmoe plan`); repeatable; spec.json records them',
      (dir: string, dirs: string[]) => [...dirs, dir],
      [] as string[],
    )
    .option(
      '--shard <i/N>',
      'run only share i of N (1 ≤ i ≤ N), e.g. one task of a Slurm job array; join with `gmoe merge`',
    )
    .option(
      '--skip-corrupt',
      'with --resume: move corrupt lines of results.jsonl to results.corrupt.jsonl and rerun their cells',
    )
    .option('--seed <S>', 'master seed (overrides the spec; cell seeds are derived from (seed, n, rep))')
    .option(
      '--bounds <spec>',
      `fit within the theorems' compact parameter space [U] (the spec's em.bounds, recorded in spec.json): ${BOUNDS_SYNTAX}`,
    )
    .option(
      '--optimizer <em|hybrid>',
      "every fit's optimizer (the spec's em.optimizer, recorded in spec.json): em (EM + SQUAREM, the default) or hybrid (then trust-region Newton, stopped by the Newton decrement; docs/fitting.md)",
    )
    .option(
      '--prefit <m>',
      "fit every start first on every m-th sample, then on all (the spec's em.prefit, recorded in spec.json; docs/fitting.md)",
    )
    .option(
      '--restarts-max <M>',
      "after the spec's restarts, more starts per fit (up to M) while no start but the best has ended at the best optimum (the spec's em.restartsMax, recorded in spec.json; docs/fitting.md)",
    )
    .option(
      '--variance <free|equal>',
      "experts' variances in every fit: free (one per expert, the default) or equal (one shared by all, flexmix's varFix = TRUE; the spec's em.variance, recorded in spec.json; the figure's subtitle says so). Every preset's truth has experts of different variances: an equal-variance fit of it is misspecified (docs/experiments.md)",
    )
    .option('--no-png', 'skip rendering plot.png with Chromium (plot.html is still written)')
    .action((arg: string, opts: SweepCliOptions) => run(arg, opts));
}
