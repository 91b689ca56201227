/**
 * `gmoe plan <preset|spec.json|run-dir> [--metric M ...] [--budget 1h] [--workers W] [--out DIR] [--write-spec FILE] [--json] [--skip-corrupt]`
 * How large a sweep must be for each rate row to be decisive (src/experiments/analysis/planner.ts):
 * from a finished sweep directory, or from a short pilot sweep (a preset's quick size, or the spec
 * file as given) that it runs first into --out.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { decisiveSpec } from '../../experiments/analysis/decisive-spec.js';
import { formatPlan, planRates, secondsPerWork, type RatePlan } from '../../experiments/analysis/planner.js';
import { verdictText } from '../../experiments/analysis/verdict.js';
import { isExperimentPreset } from '../../experiments/presets.js';
import { loadRun, runProvenance, runSweep } from '../../experiments/runner.js';
import { reusableCount } from '../../experiments/reuse.js';
import { RESULTS_FILE, SPEC_FILE } from '../../experiments/store.js';
import type { CellRecord, ExperimentSpec, Summary } from '../../experiments/types.js';
import { checkWritable, formatJSON } from '../../io/index.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { CliError } from '../errors.js';
import { parseIntOption } from './simulate.js';
import { asCliError, specFromArgs, timestamp } from './sweep.js';
import { metricHint, swallowedByMetric } from './metric-arg.js';
import { parseWorkers } from './workers-arg.js';

interface PlanCliOptions {
  metric?: string[];
  budget?: string;
  workers?: string;
  out?: string;
  writeSpec?: string;
  json?: boolean;
  skipCorrupt?: boolean;
}

const UNIT: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86400, day: 86400, days: 86400 };

/**
 * A duration such as "1h", "30min", "2.5h", "3d", "90s" or plain seconds.
 * @throws CliError naming --budget and the value
 */
export function parseBudget(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/.exec(raw);
  const unit = m ? (m[2] === '' ? 1 : UNIT[m[2]]) : undefined;
  const v = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!(v > 0) || !Number.isFinite(v))
    throw new CliError(`--budget must be a positive duration such as 90s, 30min, 1h or 2d. Value: ${raw}`);
  return v;
}

/** The summary, records and spec of a sweep directory (corrupt lines skipped and said with `skipCorrupt`, as report). */
function fromRunDir(
  dir: string,
  skipCorrupt = false,
): { summary: Summary; records: CellRecord[]; spec: ExperimentSpec } {
  const { meta, records, summary } = loadRun(dir, {
    skipCorrupt,
    onNotice: (l) => process.stderr.write(`gmoe plan: ${l}: the plan leaves their cells out\n`),
  });
  return { summary, records, spec: meta.spec };
}

/**
 * Writes the spec of the plan's whole-figure design (--write-spec; `run` refused an existing file before
 * any pilot) and says how to run it.
 * @throws CliError naming --write-spec when the plan has no such design
 */
function writeDecisiveSpec(
  path: string,
  spec: ExperimentSpec,
  plan: RatePlan,
  workers: number,
  sourceDir: string,
): string {
  let d;
  try {
    d = decisiveSpec(spec, plan);
  } catch (e) {
    throw new CliError(`--write-spec: ${(e as Error).message}`);
  }
  try {
    writeFileAtomic(path, `${formatJSON(d.spec)}\n`);
  } catch (e) {
    throw new CliError(`--write-spec: ${(e as Error).message}`);
  }
  const left = d.leftOut.length
    ? `; left out, no planned row: ${d.leftOut.join(', ')}, whose cells the CPU above counts`
    : '';
  const models = d.spec.models.map((m) => m.label).join(', ');
  // the cells the pilot (or the run planned from) already holds need not run again
  const reusable = reusableCount(d.spec, sourceDir, runProvenance(d.spec));
  const reuse = reusable > 0 ? ` --reuse ${sourceDir}` : '';
  const done = reusable > 0 ? ` (${reusable} of its cells are done in ${sourceDir})` : '';
  return `wrote ${path}: the whole figure's design (${d.spec.replications} reps; models ${models}${left}) — run it with \`gmoe sweep ${path} --workers ${workers}${reuse}\`${done}`;
}

/** --write-spec's file, checked before a pilot that may run for minutes. */
function writable(path: string): void {
  try {
    checkWritable(path);
  } catch (e) {
    throw new CliError(`--write-spec: ${(e as Error).message}`);
  }
}

async function run(arg: string | undefined, opts: PlanCliOptions): Promise<void> {
  if (arg === undefined) {
    const swallowed = swallowedByMetric(opts.metric, isExperimentPreset);
    throw new CliError(
      swallowed.length > 0 ? metricHint(swallowed) : 'plan needs a preset, a spec file or a run directory',
    );
  }
  const workers = parseWorkers(opts.workers);
  const budgetSeconds = opts.budget === undefined ? undefined : parseBudget(opts.budget);
  let summary: Summary;
  let records: CellRecord[];
  let runSpec: ExperimentSpec;
  let sourceDir: string;
  // --write-spec never replaces a file: refused before a pilot that may run for minutes
  if (opts.writeSpec !== undefined && existsSync(opts.writeSpec))
    throw new CliError(`--write-spec: ${opts.writeSpec} already exists; choose another file`);
  if (opts.writeSpec !== undefined) writable(opts.writeSpec);
  try {
    if (!isExperimentPreset(arg) && existsSync(arg) && statSync(arg).isDirectory()) {
      ({ summary, records, spec: runSpec } = fromRunDir(arg, opts.skipCorrupt));
      sourceDir = arg;
    } else {
      // a pilot: the preset's quick size, or the spec file as it is
      const spec = specFromArgs(arg, { quick: isExperimentPreset(arg) });
      // the planner sizes designs for predicted rates: without any, a pilot would run for nothing
      if (Object.keys(spec.theory).length === 0)
        throw new CliError(`nothing to plan: ${arg} predicts no rate (its spec has no "theory")`);
      const outDir = opts.out ?? join('results', `${spec.name}-pilot-${timestamp()}`);
      if (existsSync(join(outDir, SPEC_FILE)) || existsSync(join(outDir, RESULTS_FILE)))
        throw new CliError(
          `${outDir} already holds a sweep: plan from it with \`gmoe plan ${outDir}\`, or choose another --out`,
        );
      process.stderr.write(
        `gmoe plan: pilot sweep ${spec.name} (${Array.isArray(spec.n) ? spec.n.length : '?'} n × ${spec.replications} reps) into ${outDir} …\n`,
      );
      const res = await runSweep(spec, {
        outDir,
        workers,
        plots: 'none',
        onNotice: (l) => process.stderr.write(`gmoe plan: ${l}\n`),
      });
      if (!res.analysis) throw new CliError('the pilot sweep was interrupted');
      ({ summary, records, spec: runSpec } = fromRunDir(outDir));
      sourceDir = outDir;
    }
  } catch (e) {
    asCliError(e);
  }
  let plan: RatePlan | undefined;
  try {
    plan = planRates(summary, records, opts.metric ? { metrics: opts.metric } : {});
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (!plan) throw new CliError(`nothing to plan: ${summary.spec} has no rate row with an interval`);
  const spw = secondsPerWork(records);
  const written =
    opts.writeSpec === undefined ? undefined : writeDecisiveSpec(opts.writeSpec, runSpec, plan, workers, sourceDir!);
  if (written) process.stderr.write(`gmoe plan: ${written}\n`);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...plan, secondsPerWork: spw, workers }, null, 2)}\n`);
    return;
  }
  const L: string[] = [`${summary.spec}: rate rows of this run and the designs that would decide them`];
  for (const r of plan.rows) {
    const m = summary.metrics.find((x) => x.metric === r.metric);
    L.push(`  ${r.metric}: ${verdictText(m)}${m?.verdictDetail ? ` — ${m.verdictDetail}` : ''}`);
  }
  L.push(
    ...formatPlan(plan, { secondsPerWork: spw, workers, ...(budgetSeconds !== undefined ? { budgetSeconds } : {}) }),
  );
  if (plan.figure && opts.writeSpec === undefined)
    L.push("  (--write-spec FILE writes the whole figure's design as a spec to run with gmoe sweep)");
  process.stdout.write(`${L.join('\n')}\n`);
}

/** Registers `gmoe plan`. */
export function register(program: Command): void {
  program
    .command('plan')
    .description(
      'size a sweep so that each rate row is decisive (confirmed or contradicted): design and CPU time per row and for the whole figure',
    )
    .argument(
      '[preset|spec.json|run-dir]',
      "a finished sweep directory, or a preset / spec file to run a pilot sweep of (the preset's quick size)",
    )
    .option('--metric <M...>', 'plan these rows only (metric names as in the table)')
    .option(
      '--budget <time>',
      'wall-clock budget with --workers workers, e.g. 1h: rows over it also get the narrowest interval it buys',
    )
    .option('--workers <W>', 'worker threads, for the pilot and the wall-clock estimates (default: all cores)')
    .option('--out <dir>', 'directory of the pilot sweep (default results/<name>-pilot-<timestamp>)')
    .option(
      '--write-spec <file>',
      "write the whole figure's design as a spec to run with gmoe sweep (the run's spec with the design's n and replications, and only the models with a planned row)",
    )
    .option('--json', 'print the plan as JSON')
    .option(
      '--skip-corrupt',
      'from a run directory: skip corrupt lines of results.jsonl (and say how many) instead of refusing',
    )
    .action((arg: string | undefined, opts: PlanCliOptions) => run(arg, opts));
}
