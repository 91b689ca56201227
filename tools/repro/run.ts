/**
 * The reproducibility run: every experiment preset at its quick size, checked against the
 * theory (rules.ts, checks.ts) and against the committed goldens (golden.ts), with the report
 * (report.ts) and the figures written next to the goldens.
 *
 * Layout (relative to the repository root):
 *   repro/REPORT.md, repro/figures/<preset>.png   written by a run of all presets
 *   repro/golden/<preset>.json                    compared with, or rewritten by `update`
 *   build/repro/<preset>/                         the sweep directories (spec.json, results.jsonl, summary.json, plots)
 *   build/repro/REPORT.md                         the report of a run of some presets only
 * A run of a subset of the presets never touches repro/REPORT.md or the committed figures.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, relative } from 'node:path';
import { formatJSON, writeFileAtomic } from '../../src/io/index.js';
import { listExperimentPresets, presetSpec } from '../../src/experiments/presets.js';
import { createProgressReporter } from '../../src/experiments/progress.js';
import { runSweep } from '../../src/experiments/runner.js';
import { defaultProvenance } from '../../src/experiments/analysis/summarise.js';
import { checkSummary, failureMessage } from './checks.js';
import {
  changelogMissing, compareGolden, formatDifference, goldenNumbers, makeGolden, parseGolden, type Golden,
} from './golden.js';
import { checksTable, formatReport, type PresetReport, type RegressionResult, type ReportProvenance } from './report.js';
import { rulesFor } from './rules.js';
import type { PresetRules } from './checks.js';
import { costText, designText, formatPlan, planRates, secondsPerWork } from '../../src/experiments/analysis/planner.js';
import { readResults, RESULTS_FILE } from '../../src/experiments/store.js';
import type { Summary } from '../../src/experiments/types.js';

export interface ReproOptions {
  /** repository root (default: the current directory) */
  root?: string;
  /** presets to run (default: all, in listing order) */
  presets?: string[];
  /** rewrite the goldens that are missing or differ, instead of failing on them */
  update?: boolean;
  /** worker threads (default: all cores) */
  workers?: number;
  /** render the PNG figures (default true; without Chromium the report says why there is none) */
  png?: boolean;
  /** notices, one line each (default: stderr) */
  log?: (line: string) => void;
  /** a progress bar (terminal) or a line every 30 s on stderr while a sweep runs (default true) */
  progress?: boolean;
}

export interface ReproResult {
  /** every failure, one line naming the preset and the check (empty: green) */
  failures: string[];
  presets: PresetReport[];
  reportPath: string;
  changelogMissing: { preset: string; hash: string }[];
  totalWallSeconds: number;
}

export const REPRO_DIR = 'repro';
export const GOLDEN_DIR = join(REPRO_DIR, 'golden');
export const FIGURES_DIR = join(REPRO_DIR, 'figures');
export const WORK_DIR = join('build', 'repro');
export const CHANGELOG = 'CHANGELOG.md';
export const README = 'README.md';
/** Markers of the README section that `npm run repro` keeps in sync with the report's checks table. */
export const README_BEGIN = '<!-- repro:table (written by npm run repro) -->';
export const README_END = '<!-- /repro:table -->';

/** First lines of at most this many golden differences are reported per preset. */
const MAX_DIFFERENCES = 8;

function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000 }).toString();
  } catch {
    return undefined;
  }
}

function provenance(root: string, workers: number): ReportProvenance {
  const base = defaultProvenance();
  const commit = git(root, ['rev-parse', 'HEAD'])?.trim() || 'unknown (not a git checkout)';
  const status = git(root, ['status', '--porcelain']);
  return {
    gmoe: base.gmoe,
    commit,
    dirty: status !== undefined && status.trim().length > 0,
    node: process.version,
    platform: base.platform,
    cpus: cpus().length,
    workers,
    created: new Date().toISOString(),
  };
}

/** Reads and checks a committed golden; undefined when there is none. */
export function readGolden(root: string, preset: string): Golden | undefined {
  const path = join(root, GOLDEN_DIR, `${preset}.json`);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${relative(root, path)}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseGolden(json, relative(root, path));
}

/**
 * Static checks of the committed goldens, without running anything: each parses and its hash
 * matches its numbers, every preset has one, and CHANGELOG.md mentions every hash.
 * @returns failures, one line each (empty: fine)
 */
export function checkGoldens(root: string, presets: readonly string[] = listExperimentPresets().map((p) => p.name)): string[] {
  const failures: string[] = [];
  const goldens: { preset: string; hash: string }[] = [];
  for (const preset of presets) {
    try {
      const g = readGolden(root, preset);
      if (!g) failures.push(`${preset}: regression check failed: no golden ${GOLDEN_DIR}/${preset}.json (make it with \`npm run repro -- --update\`)`);
      else goldens.push(g);
    } catch (e) {
      failures.push(`${preset}: regression check failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  failures.push(...changelogFailures(root, goldens));
  return failures;
}

function changelogFailures(root: string, goldens: readonly { preset: string; hash: string }[]): string[] {
  const path = join(root, CHANGELOG);
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return changelogMissing(goldens, text).map(
    (g) => `${g.preset}: changelog check failed: ${CHANGELOG} does not mention golden hash ${g.hash} — add a line saying why the ${g.preset} numbers moved, e.g. "- repro: ${g.preset} golden ${g.hash}: <why>"`,
  );
}

/** Replaces the README section between the repro markers, if both are there; true when it changed. */
export function updateReadmeTable(root: string, table: string): boolean {
  const path = join(root, README);
  if (!existsSync(path)) return false;
  const text = readFileSync(path, 'utf8');
  const i = text.indexOf(README_BEGIN);
  const j = text.indexOf(README_END);
  if (i < 0 || j < i) return false;
  const next = `${text.slice(0, i + README_BEGIN.length)}\n${table}\n${text.slice(j)}`;
  if (next === text) return false;
  writeFileAtomic(path, next);
  return true;
}

/**
 * Runs the presets, checks them, writes the report (also when a check fails) and, with
 * `update`, the goldens.
 * @throws Error for an unknown preset name (before anything runs)
 */
export async function runRepro(options: ReproOptions = {}): Promise<ReproResult> {
  const root = options.root ?? process.cwd();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const all = listExperimentPresets().map((p) => p.name);
  const names = options.presets ?? all;
  for (const n of names) if (!all.includes(n)) throw new Error(`preset must be one of ${all.join(', ')}. Value: ${n}`);
  const full = all.every((n) => names.includes(n));
  const workers = options.workers ?? availableParallelism();
  const pv = provenance(root, workers);
  const reportDir = full ? join(root, REPRO_DIR) : join(root, WORK_DIR);
  const figuresDir = full ? join(root, FIGURES_DIR) : join(root, WORK_DIR, 'figures');
  mkdirSync(figuresDir, { recursive: true });

  const t0 = performance.now();
  const reports: PresetReport[] = [];
  const failures: string[] = [];
  for (const preset of names) {
    const spec = presetSpec(preset, { quick: true });
    const outDir = join(root, WORK_DIR, preset);
    rmSync(outDir, { recursive: true, force: true });
    log(`repro: ${preset} (${(spec.n as number[]).length} n × ${spec.replications} reps × ${spec.models.length} model${spec.models.length > 1 ? 's' : ''}) …`);
    const w0 = performance.now();
    const c0 = process.cpuUsage();
    const progress = options.progress === false ? undefined : createProgressReporter({ title: `repro ${preset}`, intervalSeconds: 30 });
    let res: Awaited<ReturnType<typeof runSweep>> | undefined;
    let crash: string | undefined;
    try {
      res = await runSweep(spec, {
        outDir, workers, plots: options.png === false ? 'html' : 'html+png',
        onProgress: progress ? (p) => progress.update(p) : undefined,
        onNotice: (l) => {
          progress?.stop();
          log(`repro: ${preset}: ${l}`);
        },
      });
      if (!res.analysis) crash = 'the sweep was interrupted';
    } catch (e) {
      crash = e instanceof Error ? e.message : String(e);
    } finally {
      progress?.stop();
    }
    const cpu = process.cpuUsage(c0);
    const wallSeconds = (performance.now() - w0) / 1000;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (crash !== undefined || !res?.analysis) {
      // a sweep that cannot run is a failed check of its preset, not the end of the report
      const detail = `the sweep did not complete: ${crash ?? 'no analysis'}`;
      reports.push({
        preset, spec, wallSeconds, cpuSeconds, bootstrap: { B: 0, seed: 0, level: 0.95 }, figureMissing: detail,
        checks: [{ preset, metric: 'cells', kind: 'cells', status: 'fail', predicted: '—', detail }],
        regression: { status: 'fail', hash: '—', details: [detail] },
      });
      failures.push(`${preset}: run failed: ${detail}`);
      log(`repro: ${preset}: FAILED — ${detail}`);
      continue;
    }
    const summary = res.analysis.summary;

    const rules = rulesFor(preset);
    const checks = checkSummary(summary, rules);
    const regression = regressionCheck(root, preset, goldenNumbers(summary, spec), pv, options.update ?? false);

    const report: PresetReport = {
      preset, spec, checks, regression, wallSeconds, cpuSeconds, bootstrap: summary.bootstrap!, html: relative(root, join(outDir, 'plot.html')),
      exact: rules.exact ?? false, plan: headlinePlan(summary, rules, outDir, workers),
    };
    const png = join(outDir, 'plot.png');
    if (existsSync(png)) {
      copyFileSync(png, join(figuresDir, `${preset}.png`));
      report.figure = relative(reportDir, join(figuresDir, `${preset}.png`));
    } else {
      report.figureMissing = options.png === false ? 'PNG rendering switched off (--no-png)' : (res.analysis.warnings.find((w) => w.includes('plot.png')) ?? 'plot.png was not rendered');
      log(`repro: ${preset}: ${report.figureMissing}`);
    }
    reports.push(report);

    const failed = checks.filter((c) => c.status === 'fail').map(failureMessage);
    if (regression.status === 'fail') {
      const more = (regression.differences ?? 0) - 1;
      failed.push(`${preset}: regression check failed: ${regression.details[0] ?? 'differs from its golden'}${more > 0 ? ` (and ${more} more difference${more > 1 ? 's' : ''}: see the report)` : ''}`);
    }
    failures.push(...failed);
    const ok = checks.filter((c) => c.status === 'pass').length;
    const bad = checks.filter((c) => c.status === 'fail').length;
    log(`repro: ${preset}: ${failed.length === 0 ? 'ok' : 'FAILED'} — checks: ${ok} pass, ${bad} fail; golden ${regression.status}; ${wallSeconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU`);
  }

  const goldens = reports.map((r) => ({ preset: r.preset, hash: goldenOnDisk(r.regression) }))
    .filter((g): g is { preset: string; hash: string } => g.hash !== undefined);
  const missingLines = changelogFailures(root, goldens);
  failures.push(...missingLines);
  const text = existsSync(join(root, CHANGELOG)) ? readFileSync(join(root, CHANGELOG), 'utf8') : '';
  const missing = changelogMissing(goldens, text);

  const totalWallSeconds = (performance.now() - t0) / 1000;
  const reportPath = join(reportDir, 'REPORT.md');
  const md = formatReport({
    provenance: pv, presets: reports, changelogMissing: missing, failures, update: options.update ?? false, totalWallSeconds,
    goldenLink: relative(reportDir, join(root, GOLDEN_DIR)),
  });
  writeFileAtomic(reportPath, md);
  if (full && updateReadmeTable(root, readmeTable(reports))) log(`repro: updated the checks table in ${README}`);
  log(`repro: wrote ${relative(root, reportPath)} (${totalWallSeconds.toFixed(1)} s)`);
  return { failures, presets: reports, reportPath, changelogMissing: missing, totalWallSeconds };
}

/**
 * The planner on a preset's headline rows: its lines for the report, and the whole figure's decisive
 * design with its CPU time (the README's "decisive at").
 */
export function headlinePlan(summary: Summary, rules: PresetRules, outDir: string, workers: number): PresetReport['plan'] {
  const heads = rules.rules.filter((r) => r.headline && summary.metrics.some((m) => m.metric === r.metric)).map((r) => r.metric);
  if (heads.length === 0) return undefined;
  const records = readResults(join(outDir, RESULTS_FILE)).records;
  const plan = planRates(summary, records, { metrics: heads });
  if (!plan) return undefined;
  const o = { secondsPerWork: secondsPerWork(records), workers };
  return { lines: formatPlan(plan, o), ...(plan.figure ? { decisive: `${designText(plan.figure.design)}, ${costText(plan.figure.work, o)}` } : {}) };
}

/** The README's compact table: the checked rows and the goldens, no details. */
export function readmeTable(reports: readonly PresetReport[]): string {
  return checksTable(reports, { checkedOnly: true, details: false });
}

/**
 * The hash of the golden a preset ends the run with, which CHANGELOG.md must mention: the fresh one when
 * the run (re)wrote the golden, else the one on disk — a run within tolerance keeps the golden, and its
 * own hash differs in the last bits. Undefined when there is no golden.
 */
export function goldenOnDisk(r: RegressionResult): string | undefined {
  return r.status === 'updated' ? r.hash : r.goldenHash;
}

function regressionCheck(root: string, preset: string, numbers: ReturnType<typeof goldenNumbers>, pv: ReportProvenance, update: boolean): RegressionResult {
  const fresh = makeGolden(numbers, { gmoe: pv.gmoe, commit: pv.commit + (pv.dirty ? ' (with uncommitted changes)' : ''), node: pv.node, platform: pv.platform, created: pv.created });
  let golden: Golden | undefined;
  let unreadable: string | undefined;
  try {
    golden = readGolden(root, preset);
  } catch (e) {
    unreadable = e instanceof Error ? e.message : String(e);
  }
  const diffs = golden ? compareGolden(golden, numbers) : [];
  const details = unreadable ? [unreadable]
    : !golden ? (update ? [] : [`no golden ${GOLDEN_DIR}/${preset}.json (make it with \`npm run repro -- --update\`)`])
    : diffs.slice(0, MAX_DIFFERENCES).map(formatDifference);
  if (diffs.length > MAX_DIFFERENCES) details.push(`… ${diffs.length - MAX_DIFFERENCES} more`);
  const same = golden !== undefined && diffs.length === 0;
  if (same) return { status: update ? 'unchanged' : 'pass', hash: fresh.hash, goldenHash: golden!.hash, details: [] };
  if (!update) return { status: 'fail', hash: fresh.hash, ...(golden ? { goldenHash: golden.hash } : {}), details, differences: diffs.length };
  const path = join(root, GOLDEN_DIR, `${preset}.json`);
  mkdirSync(join(root, GOLDEN_DIR), { recursive: true });
  writeFileAtomic(path, `${formatJSON(fresh)}\n`);
  return { status: 'updated', hash: fresh.hash, ...(golden ? { goldenHash: golden.hash } : {}), details, differences: diffs.length };
}
