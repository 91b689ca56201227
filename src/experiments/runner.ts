/**
 * Runs a sweep into a directory, resumes it, merges shards, and (re)analyses results:
 *
 *   runSweep(spec, { outDir })   spec.json, then results.jsonl cell by cell, then the analysis
 *   analyseRun(dir)              summary.json, summary.txt, rates.csv, curves.csv, plot.html, .png, .svg from results.jsonl
 *   mergeRuns(dirs, outDir)      shards → one directory with the same summary as one run
 *
 * Every output is computed from the records sorted by (model, n, rep), never in completion order,
 * so worker count, scheduling and sharding do not change a byte of summary.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { checkoutRoot, formatJSON, makeDirs, packageInfo, writeFileAtomic } from '../io/index.js';
import { summarise } from './analysis/summarise.js';
import { curvesCsv, ratesCsv } from './analysis/summary-csv.js';
import { formatSummaryTable } from './analysis/table.js';
import { secondsPerWork } from './analysis/planner.js';
import { buildFigure } from './plot/figure.js';
import { writePlotHtml } from './plot/html.js';
import { renderImages } from './plot/png.js';
import { cellKey, planCells, plannedKeys, shardCells, sortRecords, type Cell, type Shard } from './plan.js';
import { reuseCells } from './reuse.js';
import { listPopulations, selectPopulation, type PopulationCount } from './population.js';
import { runPool } from './pool.js';
import { specKey, validateSpec } from './spec.js';
import {
  PLOT_HTML_FILE,
  PLOT_PNG_FILE,
  PLOT_SVG_FILE,
  CORRUPT_FILE,
  RESULTS_FILE,
  RUN_FORMAT,
  RUN_VERSION,
  ResultsWriter,
  SPEC_FILE,
  SUMMARY_FILE,
  StoreError,
  TABLE_FILE,
  RATES_CSV_FILE,
  CURVES_CSV_FILE,
  ResultsIOError,
  quarantineCorrupt,
  readResults,
  removeStaleTemps,
  readRunMeta,
  recordFingerprint,
  skippedNotice,
  truncateTornLine,
  writeResultsAtomic,
  writeRunMeta,
  type RunMeta,
  type RunProvenance,
} from './store.js';
import type { CellRecord, ExperimentSpec, InitSpec, Population, Summary } from './types.js';

/** Which plot files the analysis writes. */
export const PLOT_OUTPUTS = Object.freeze(['html+png', 'html', 'none'] as const);
export type PlotOutput = (typeof PLOT_OUTPUTS)[number];

// a script's typo ('png', 'svg') drew no PNG without a word, after the whole sweep had run
function checkPlots(plots: unknown): void {
  if (plots !== undefined && !(PLOT_OUTPUTS as readonly unknown[]).includes(plots))
    throw new StoreError(`plots must be one of ${PLOT_OUTPUTS.join(', ')}. Value: ${JSON.stringify(plots)}`);
}

/** Progress of a running sweep, after each finished cell. */
export interface SweepProgress {
  /** cells finished, including those found done on --resume */
  done: number;
  /** cells of this run (the shard's share) */
  total: number;
  /** cells found already done on --resume, or taken from earlier runs (`reuse`) */
  resumed: number;
  /** failed cells finished in this session */
  failed: number;
  /** the record just written */
  latest: CellRecord;
  /** seconds since the pool started */
  elapsed: number;
  /** estimated seconds left (work ∝ n), undefined until a cell has finished */
  eta?: number;
}

export interface SweepOptions {
  /** the sweep directory (created; must not already hold a sweep unless `resume`) */
  outDir: string;
  /** worker threads (default: os.availableParallelism()) */
  workers?: number;
  /** continue the sweep in `outDir`: skip finished cells, drop a torn last line */
  resume?: boolean;
  /** run only this share of the cells */
  shard?: Shard;
  onProgress?: (p: SweepProgress) => void;
  /** one-line notices (resuming, torn line dropped, PNG skipped, ...) */
  onNotice?: (line: string) => void;
  /** module URL of the cell evaluator (default: the real one, ./cell.ts); tests inject fakes */
  evaluator?: string;
  /** plot files written at the end (default "html+png") */
  plots?: PlotOutput;
  /** aborting stops the workers; finished cells stay on disk for --resume */
  signal?: AbortSignal;
  /** on resume, move corrupt lines of results.jsonl aside (results.corrupt.jsonl) and rerun their cells */
  skipCorrupt?: boolean;
  /**
   * earlier sweep directories whose cells this new run also plans and computes the same way (the same
   * gmoe version; only n, replications, theory, name, description may differ): taken, not recomputed.
   * With `resume`, only when `outDir` holds no sweep yet (a resumed one holds the cells it took).
   */
  reuse?: readonly string[];
}

export interface AnalyseResult {
  summary: Summary;
  /** the text table (also written to summary.txt) */
  table: string;
  /** files written */
  files: string[];
  warnings: string[];
}

export interface SweepResult {
  outDir: string;
  /** cells of this run (the shard's share) */
  total: number;
  /** cells computed in this session */
  ran: number;
  /** cells found done on --resume */
  resumed: number;
  /** cells taken from `reuse` directories */
  reused: number;
  /** failed cells among all finished ones */
  failed: number;
  interrupted: boolean;
  /** the analysis (absent when interrupted) */
  analysis?: AnalyseResult;
}

let cachedCommit: { value: string | undefined } | undefined;
/** The checkout's commit, read once per process (the code a process runs does not change under it). */
function gitCommit(): string | undefined {
  if (!cachedCommit) {
    const cwd = checkoutRoot(); // an installed package has no commit of its own
    try {
      if (cwd === undefined) throw new Error('not a checkout');
      cachedCommit = {
        value:
          execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
            .toString()
            .trim() || undefined,
      };
    } catch {
      cachedCommit = { value: undefined }; // not a git checkout, or no git
    }
  }
  return cachedCommit.value;
}

/** The initialisation scheme in words, for spec.json and figure captions. */
export function describeInit(init: InitSpec, restarts: number): string {
  const starts = restarts === 1 ? '1 start' : `best of ${restarts} starts`;
  if (init.kind !== 'near-truth')
    return `${init.kind === 'kmeans' ? 'k-means on (x, y)' : 'random partition'}, ${starts}`;
  const scale = init.noiseScale ?? 1;
  const noise =
    init.noise === 'fixed'
      ? 'Gaussian noise at the n = 1 scale (sd 0.005 gate, 0.05 experts), fixed: it does not shrink with n'
      : 'Gaussian noise sd 0.005·n^-0.083 (gate), 0.05·n^-0.083 (experts), variance + |N(0, (0.005·n^-0.25)²)|, shrinking with n';
  const assigned = Array.isArray(init.assign)
    ? `true atom (${init.assign.join(', ')}) respectively`
    : init.assign === 'ordered'
      ? 'true atom (ordered)'
      : 'true atom';
  return `near-truth (the authors' scheme, THEORY.md §6): each fitted atom starts at an assigned ${assigned} plus ${noise}${scale === 1 ? '' : `, noise ×${scale}`}; ${starts}`;
}

/** Provenance of a run made by this process. */
export function runProvenance(spec: ExperimentSpec): RunProvenance {
  const p: RunProvenance = {
    gmoe: packageInfo().version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    init: describeInit(spec.init, spec.restarts),
    created: new Date().toISOString(),
  };
  const commit = gitCommit();
  if (commit) p.commit = commit;
  return p;
}

function firstDifference(a: ExperimentSpec, b: ExperimentSpec): string {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const va = (a as unknown as Record<string, unknown>)[key];
    const vb = (b as unknown as Record<string, unknown>)[key];
    if (JSON.stringify(va) !== JSON.stringify(vb)) return key;
  }
  return '(key order)';
}

// shard 1/1 is the whole sweep, stored without a shard: it resumes as one (a Slurm array of one task)
function shardText(s: Shard | undefined): string {
  return s && s.count > 1 ? `${s.index}/${s.count}` : 'none';
}

/** Refuses an output path that exists and is not a directory (mkdir would fail with a raw EEXIST). */
export function checkOutDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new StoreError(`--out ${dir} is a file, not a directory: choose a directory`);
}

/** Creates the output directory, a failure being bad input (exit 2), not a crash. */
function makeOutDir(dir: string): void {
  try {
    makeDirs(dir);
  } catch (e) {
    throw new StoreError(e instanceof Error ? e.message : String(e));
  }
}

function isSweepDir(dir: string): boolean {
  return existsSync(join(dir, SPEC_FILE)) || existsSync(join(dir, RESULTS_FILE));
}

/**
 * Runs (or resumes) a sweep. The spec is validated before anything touches the disk: a rejected
 * spec writes nothing. Each finished cell is appended to results.jsonl at once, so a run killed
 * at any moment loses only the cells in flight; `resume` continues it.
 * @throws SpecError for a bad spec; StoreError when `outDir` already holds a sweep (without
 *   `resume`) or a different spec or shard (with `resume`); Error when a worker cannot start
 */
export async function runSweep(specInput: ExperimentSpec | unknown, options: SweepOptions): Promise<SweepResult> {
  const spec = validateSpec(specInput);
  if (typeof options !== 'object' || options === null || typeof options.outDir !== 'string' || options.outDir === '')
    throw new StoreError(`options.outDir must name the sweep directory. Value: ${JSON.stringify(options?.outDir)}`);
  checkPlots(options.plots);
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1)
    throw new StoreError(`workers must be a positive integer. Value: ${workers}`);
  const outDir = options.outDir;
  checkOutDir(outDir);
  const notice = options.onNotice ?? (() => {});
  const cells = shardCells(planCells(spec), options.shard);
  const resultsPath = join(outDir, RESULTS_FILE);

  const done = new Set<string>();
  let resumed = 0;
  let reused = 0;
  // a requeued Slurm task may resume a directory its first start never made; a mistyped --out is said
  if (options.resume && !existsSync(join(outDir, SPEC_FILE)))
    notice(`nothing to resume in ${outDir} (no ${SPEC_FILE}): starting a new sweep there`);
  if (options.resume && existsSync(join(outDir, SPEC_FILE))) {
    // a Slurm task runs with --resume and --reuse each time: the first start reused, a requeued one continues
    if (options.reuse && options.reuse.length > 0)
      notice(`${outDir} holds a sweep: resumed as it is (--reuse takes cells into a new directory only)`);
    const meta = readRunMeta(outDir);
    if (specKey(meta.spec) !== specKey(spec)) {
      throw new StoreError(
        `cannot resume ${outDir}: its spec differs from this one (first difference: ${firstDifference(meta.spec, spec)}); use another --out`,
      );
    }
    if (shardText(meta.shard) !== shardText(options.shard)) {
      throw new StoreError(
        `cannot resume ${outDir}: it ran shard ${shardText(meta.shard)}, not ${shardText(options.shard)}`,
      );
    }
    const planned = plannedKeys(cells);
    if (options.skipCorrupt) {
      const moved = quarantineCorrupt(resultsPath, planned);
      if (moved.length > 0)
        notice(
          `moved ${moved.length} corrupt line${moved.length === 1 ? '' : 's'} of ${resultsPath} (line${moved.length === 1 ? '' : 's'} ${moved.map((m) => m.line).join(', ')}) to ${CORRUPT_FILE}: ${moved.length === 1 ? 'that cell runs' : 'those cells run'} again`,
        );
    }
    const torn = truncateTornLine(resultsPath);
    if (torn > 0) notice(`dropped a torn last line of ${RESULTS_FILE} (${torn} bytes): that cell runs again`);
    for (const r of readResults(resultsPath, { planned }).records) done.add(cellKey(r.model, r.n, r.rep));
    resumed = done.size;
    notice(`resuming ${outDir}: ${resumed} of ${cells.length} cells already done`);
  } else {
    if (options.resume && existsSync(resultsPath)) {
      throw new StoreError(
        `cannot resume ${outDir}: it has ${RESULTS_FILE} but no ${SPEC_FILE} to check the spec against`,
      );
    }
    if (isSweepDir(outDir)) {
      throw new StoreError(
        `${outDir} already holds a sweep (${SPEC_FILE} or ${RESULTS_FILE}): add --resume to continue it, or choose another --out (library: the options resume and outDir)`,
      );
    }
    const provenance = runProvenance(spec);
    // read (and refused) before anything is written
    const taken = options.reuse?.length
      ? reuseCells(spec, plannedKeys(cells), options.reuse, provenance, notice)
      : undefined;
    makeOutDir(outDir);
    const meta: RunMeta = { format: RUN_FORMAT, version: RUN_VERSION, spec, provenance };
    if (options.shard && options.shard.count > 1) meta.shard = options.shard;
    if (taken) meta.reusedFrom = taken.from;
    writeRunMeta(outDir, meta);
    if (taken && taken.records.length > 0) {
      writeResultsAtomic(resultsPath, taken.records);
      for (const r of taken.records) done.add(cellKey(r.model, r.n, r.rep));
      reused = taken.records.length;
      resumed = reused;
      notice(
        `reusing ${reused} of ${cells.length} cells from ${taken.from.map((f) => `${f.dir} (${f.cells})`).join(', ')}`,
      );
    }
  }

  // largest n first: the long cells start early and the workers finish together
  const todo = cells
    .filter((c) => !done.has(cellKey(c.label, c.n, c.rep)))
    .sort((p, q) => q.n - p.n || p.rep - q.rep || p.model - q.model);
  // a cell's cost ∝ n, plus a fixed part (Hellinger quadrature, set-up) worth a few thousand samples
  const cost = (c: Cell) => c.n + 5000;
  let workLeft = todo.reduce((s, c) => s + cost(c), 0);
  let workDone = 0;
  let ran = 0;
  let failedNow = 0;
  const t0 = performance.now();
  const writer = new ResultsWriter(resultsPath);
  let interrupted = false;
  let saved = resumed;
  try {
    ({ interrupted } = await runPool(todo, {
      spec,
      workers,
      evaluator: options.evaluator,
      signal: options.signal,
      onRecord: (record: CellRecord, cell: Cell) => {
        writer.append(record);
        saved++;
        ran++;
        if (record.status === 'failed') failedNow++;
        workDone += cost(cell);
        workLeft -= cost(cell);
        const elapsed = (performance.now() - t0) / 1000;
        options.onProgress?.({
          done: resumed + ran,
          total: cells.length,
          resumed,
          failed: failedNow,
          latest: record,
          elapsed,
          eta: workDone > 0 ? (elapsed * workLeft) / workDone : undefined,
        });
      },
    }));
  } catch (e) {
    // a full disk or a read-only results file: stop, saying what is kept and how to go on
    if (e instanceof ResultsIOError)
      throw new ResultsIOError(
        `${e.message}; the sweep stopped with ${saved} of ${cells.length} cells saved: free space (or fix permissions) and continue with --resume`,
        e.code,
      );
    throw e;
  } finally {
    writer.close();
  }
  const all = readResults(resultsPath).records;
  const failed = all.filter((r) => r.status === 'failed').length;
  const result: SweepResult = {
    outDir,
    total: cells.length,
    ran,
    resumed: resumed - reused,
    reused,
    failed,
    interrupted,
  };
  if (!interrupted) result.analysis = await analyseRun(outDir, { plots: options.plots, onNotice: notice });
  return result;
}

export { plannedKeys };

/** The cells of a sweep directory's run: its spec's, its shard's share. */
export function runCells(meta: RunMeta): Cell[] {
  return shardCells(planCells(meta.spec), meta.shard);
}

/**
 * A sweep directory's spec, records and summary, read without writing anything (`gmoe plan`, `gmoe compare`):
 * with `skipCorrupt`, corrupt lines are skipped and said through `onNotice` ("skipped 2 corrupt lines of F (lines 4, 9)").
 * @throws StoreError when the directory is no sweep, a line is corrupt (without `skipCorrupt`) or it has no results
 */
export function loadRun(
  dir: string,
  options: { skipCorrupt?: boolean; onNotice?: (line: string) => void } = {},
): { meta: RunMeta; records: CellRecord[]; summary: Summary } {
  const { meta, records } = loadRunRecords(dir, options);
  return { meta, records, summary: summarise(records, meta.spec) };
}

/** {@link loadRun} without the summary (for a caller that summarises a part of the run: one model of it). */
export function loadRunRecords(
  dir: string,
  options: { skipCorrupt?: boolean; onNotice?: (line: string) => void } = {},
): { meta: RunMeta; records: CellRecord[] } {
  const meta = readRunMeta(dir);
  const path = join(dir, RESULTS_FILE);
  const read = readResults(path, { planned: plannedKeys(runCells(meta)), skipCorrupt: options.skipCorrupt });
  const skipped = skippedNotice(path, read);
  if (skipped) options.onNotice?.(skipped);
  if (read.records.length === 0) throw new StoreError(`${dir} has no results yet (${RESULTS_FILE} is empty)`);
  return { meta, records: sortRecords(read.records, meta.spec) };
}

export interface AnalyseOptions {
  plots?: PlotOutput;
  onNotice?: (line: string) => void;
  /** skip corrupt lines of results.jsonl (and say how many) instead of refusing */
  skipCorrupt?: boolean;
  /**
   * analyse only the fits with these Voronoi cell sizes (population.ts), written into the sub-directory
   * `cells-<m1>-<m2>…` of the run so that the whole run's summary stays
   */
  cells?: number[];
}

/**
 * (Re)analyses a sweep directory from spec.json and results.jsonl: writes summary.json,
 * summary.txt and the plots. A torn last line is ignored (not removed).
 * @throws StoreError when the directory is not a sweep or its results are corrupt
 */
export async function analyseRun(dir: string, options: AnalyseOptions = {}): Promise<AnalyseResult> {
  checkPlots(options.plots);
  const meta = readRunMeta(dir);
  const cells = runCells(meta);
  const read = readResults(join(dir, RESULTS_FILE), { skipCorrupt: options.skipCorrupt, planned: plannedKeys(cells) });
  const stale = removeStaleTemps(dir);
  if (stale.length > 0)
    options.onNotice?.(
      `removed ${stale.length} temp file${stale.length === 1 ? '' : 's'} of an interrupted write (${stale.join(', ')})`,
    );
  const warnings: string[] = [];
  const warn = (w: string) => {
    warnings.push(w);
    options.onNotice?.(w);
  };
  const skipped = skippedNotice(join(dir, RESULTS_FILE), read);
  if (skipped) warn(`${skipped}: the summary leaves their cells out`);
  if (read.tornBytes > 0)
    warn(
      `${RESULTS_FILE} ends with a torn line (${read.tornBytes} bytes), ignored: run the sweep with --resume to redo that cell`,
    );
  const all = sortRecords(read.records, meta.spec);
  const expected = cells.length;
  if (all.length < expected) warn(`${all.length} of ${expected} cells have results: the summary covers those only`);
  const chosen = options.cells ? selectPopulation(all, meta.spec, options.cells) : undefined;
  const records = chosen ? chosen.records : all;
  const { gmoe, node, platform, commit } = meta.provenance;
  const summary = withPopulation(
    summarise(records, meta.spec, {
      provenance: commit ? { gmoe, node, platform, commit } : { gmoe, node, platform },
    }),
    chosen?.population,
  );
  const outDir = chosen ? join(dir, `cells-${chosen.population.cells.join('-')}`) : dir;
  if (chosen) makeDirs(outDir);
  // the planner's CPU times: this run's measured seconds per unit of work, on this machine's cores
  const table = formatSummaryTable(summary, {
    plan: { secondsPerWork: secondsPerWork(records), workers: availableParallelism() },
  });
  const files: string[] = [];
  const write = (name: string, content: string) => {
    writeFileAtomic(join(outDir, name), content);
    files.push(join(outDir, name));
  };
  write(SUMMARY_FILE, `${formatJSON(summary)}\n`);
  write(TABLE_FILE, table.endsWith('\n') ? table : `${table}\n`);
  const lone = meta.spec.models.length === 1 ? meta.spec.models[0]!.label : '';
  write(RATES_CSV_FILE, ratesCsv(summary, lone));
  write(CURVES_CSV_FILE, curvesCsv(summary, lone));
  const plots = options.plots ?? 'html+png';
  if (plots !== 'none') {
    const figure = buildFigure(summary);
    const title = `${meta.spec.name}${meta.spec.quick ? ' (quick)' : ''}: ${meta.spec.description ?? ''}`;
    writePlotHtml(join(outDir, PLOT_HTML_FILE), figure, title);
    files.push(join(outDir, PLOT_HTML_FILE));
    if (plots === 'html+png') {
      // the SVG in the same browser session: a vector figure for papers
      const paths = { png: join(outDir, PLOT_PNG_FILE), svg: join(outDir, PLOT_SVG_FILE) };
      const images = await renderImages(figure, paths);
      if (images.ok) files.push(paths.png, paths.svg);
      else warn(`${PLOT_PNG_FILE} and ${PLOT_SVG_FILE} not written: ${images.reason}`);
    }
  }
  return { summary, table, files, warnings };
}

/**
 * The populations of a sweep directory's fits by Voronoi cell sizes, with their counts, per fitted model
 * (`gmoe report --cells list`); writes nothing.
 * @throws StoreError when the directory is not a sweep, its results are corrupt, or they hold no fitted parameters
 */
export function runPopulations(
  dir: string,
  options: Pick<AnalyseOptions, 'skipCorrupt'> = {},
): { model: string; populations: PopulationCount[] }[] {
  const meta = readRunMeta(dir);
  const read = readResults(join(dir, RESULTS_FILE), {
    skipCorrupt: options.skipCorrupt,
    planned: plannedKeys(runCells(meta)),
  });
  return meta.spec.models.map((m) => ({
    model: m.label,
    populations: listPopulations(
      read.records.filter((r) => r.model === m.label),
      meta.spec,
    ),
  }));
}

/** The summary with its population (before the plan and provenance, so that the numbers come first). */
function withPopulation(summary: Summary, population: Population | undefined): Summary {
  if (!population) return summary;
  const { plan, provenance, ...rest } = summary;
  return { ...rest, population, ...(plan ? { plan } : {}), provenance };
}

/**
 * Merges sweep directories (e.g. the shards of one sweep) into `outDir`: checks that they ran the
 * same spec, joins their results (a cell present twice must be identical but for `seconds`),
 * writes spec.json and a sorted results.jsonl, then analyses. N merged shards give the summary
 * of one run. Everything is checked before `outDir` is created.
 * @throws StoreError naming the directory and the difference
 */
export async function mergeRuns(
  dirs: readonly string[],
  outDir: string,
  options: AnalyseOptions = {},
): Promise<AnalyseResult & { cells: number; missing: number; duplicates: number }> {
  if (dirs.length === 0) throw new StoreError('merge needs at least one sweep directory');
  const notice = options.onNotice ?? (() => {});
  const out = resolvePath(outDir);
  for (const d of dirs)
    if (resolvePath(d) === out)
      throw new StoreError(`--out must not be one of the merged directories. Value: ${outDir}`);
  checkOutDir(outDir);
  if (existsSync(outDir) && (isSweepDir(outDir) || readdirSync(outDir).length > 0))
    throw new StoreError(`--out ${outDir} exists and is not empty: choose a new directory`);
  const metas = dirs.map((d) => readRunMeta(d));
  const spec = metas[0]!.spec;
  metas.forEach((m, t) => {
    if (specKey(m.spec) !== specKey(spec)) {
      throw new StoreError(
        `cannot merge ${dirs[t]} with ${dirs[0]}: their specs differ (first difference: ${firstDifference(spec, m.spec)})`,
      );
    }
  });
  const byKey = new Map<string, { record: CellRecord; dir: string }>();
  let duplicates = 0;
  dirs.forEach((d) => {
    const read = readResults(join(d, RESULTS_FILE), { skipCorrupt: options.skipCorrupt });
    if (read.tornBytes > 0) notice(`${d}: ignoring a torn last line (${read.tornBytes} bytes)`);
    const skipped = skippedNotice(join(d, RESULTS_FILE), read);
    if (skipped) notice(`${skipped}: their cells count as missing`);
    for (const r of read.records) {
      const key = cellKey(r.model, r.n, r.rep);
      const prev = byKey.get(key);
      if (!prev) {
        byKey.set(key, { record: r, dir: d });
        continue;
      }
      if (recordFingerprint(prev.record) !== recordFingerprint(r)) {
        throw new StoreError(
          `cell (model ${r.model}, n = ${r.n}, rep = ${r.rep}) is in ${prev.dir} and ${d} with different results`,
        );
      }
      duplicates++;
    }
  });
  if (duplicates > 0)
    notice(`${duplicates} cells were present in more than one directory (identical results): kept once`);
  const planned = planCells(spec);
  const keys = plannedKeys(planned);
  for (const [key, { dir }] of byKey) {
    if (!keys.has(key)) throw new StoreError(`${dir} holds cell ${key} (label|n|rep), which its spec does not plan`);
  }
  const missing = planned.length - byKey.size;
  if (missing > 0) notice(`${missing} of ${planned.length} cells are missing (a shard not finished or not merged?)`);
  const records = sortRecords(
    [...byKey.values()].map((v) => v.record),
    spec,
  );

  makeOutDir(outDir);
  const meta: RunMeta = {
    format: RUN_FORMAT,
    version: RUN_VERSION,
    spec,
    mergedFrom: [...dirs],
    provenance: { ...metas[0]!.provenance, created: new Date().toISOString() },
  };
  writeRunMeta(outDir, meta);
  writeResultsAtomic(join(outDir, RESULTS_FILE), records);
  const analysis = await analyseRun(outDir, { plots: options.plots, onNotice: options.onNotice });
  return { ...analysis, cells: records.length, missing, duplicates };
}
