/**
 * Cells an earlier run already computed, taken into a new one (`gmoe sweep --reuse DIR`).
 *
 * A cell's record depends on its seed deriveSeed(seed, n, rep) and on the spec's fields that say how
 * a cell is simulated, fitted and measured — never on the n grid, the replications, the predictions or
 * the name. So when the planner asks for more replications, or a wider n range, the cells of the
 * earlier run that the new spec also plans are the records the new run would compute, bit for bit
 * (the same gmoe version: a release may change what a fit does). Only those are taken, and spec.json
 * says where they came from.
 */
import { join } from 'node:path';
import { cellKey, planCells, plannedKeys } from './plan.js';
import { canonicalJSON, metricPrefix } from './spec.js';
import { readResults, readRunMeta, RESULTS_FILE, StoreError, type RunMeta } from './store.js';
import type { CellRecord, ExperimentSpec } from './types.js';

/** The spec fields besides the model that decide what a cell computes (and the model's own entry). */
const CELL_FIELDS = ['design', 'init', 'restarts', 'em', 'loss', 'seed', 'record'] as const;

/** Where a run's reused cells came from, recorded in its spec.json provenance. */
export interface ReusedFrom {
  /** the directory, as given */
  dir: string;
  /** cells taken from it */
  cells: number;
  /** the commit that computed them, when known */
  commit?: string;
}

/** What {@link reuseCells} found. */
export interface Reused {
  /** records to take, in the order of their directories and lines */
  records: CellRecord[];
  from: ReusedFrom[];
}

/**
 * Canonical text of everything that decides what a cell of model `label` computes — but for its metrics'
 * prefix (`label:` in a spec of several models), which {@link reuseCells} renames.
 */
export function cellDefinition(spec: ExperimentSpec, label: string): string | undefined {
  const model = spec.models.find((m) => m.label === label);
  if (!model) return undefined;
  const fields: Record<string, unknown> = {};
  for (const f of CELL_FIELDS) fields[f] = spec[f];
  return canonicalJSON({ ...fields, truth: model.truth ?? spec.truth, model: { ...model, truth: undefined } });
}

/** The record with its metrics' prefix `from` replaced by `to` (a model alone in one spec, one of several in the other). */
function renamePrefix(r: CellRecord, from: string, to: string): CellRecord {
  if (from === to) return r;
  const metrics: Record<string, number> = {};
  for (const [key, v] of Object.entries(r.metrics)) metrics[to + key.slice(from.length)] = v;
  return { ...r, metrics };
}

/** The first field (of the cell-defining ones) in which two specs differ, for a refusal. */
function firstCellDifference(a: ExperimentSpec, b: ExperimentSpec): string | undefined {
  for (const f of CELL_FIELDS) if (canonicalJSON(a[f]) !== canonicalJSON(b[f])) return f;
  if (canonicalJSON(a.truth) !== canonicalJSON(b.truth)) return 'truth';
  return undefined;
}

/**
 * The ok records of `dirs` whose cells `spec` plans (`planned`, as cellKey) and computes the same way.
 * Failed cells are left to run again (a failure may have been the machine's). A cell found in two
 * directories is taken from the first.
 * `here` is this run's gmoe version and commit: another version is refused, another commit noticed.
 * @throws StoreError when a directory is no sweep, was made by another gmoe version, or differs from
 *   `spec` in a field that decides every cell (design, init, em, seed, ...: nothing could be reused)
 */
export function reuseCells(
  spec: ExperimentSpec,
  planned: ReadonlySet<string>,
  dirs: readonly string[],
  here: { gmoe: string; commit?: string },
  notice: (line: string) => void = () => {},
): Reused {
  const version = here.gmoe;
  const taken = new Set<string>();
  const records: CellRecord[] = [];
  const from: ReusedFrom[] = [];
  const defs = new Map(spec.models.map((m) => [m.label, cellDefinition(spec, m.label)]));
  for (const dir of dirs) {
    const meta: RunMeta = readRunMeta(dir);
    const made = meta.provenance?.gmoe;
    if (made !== version)
      throw new StoreError(
        `cannot reuse ${dir}: its cells were computed by gmoe ${made ?? '(unknown)'}, this is ${version} (a fit may differ between versions)`,
      );
    const differs = firstCellDifference(meta.spec, spec);
    if (differs)
      throw new StoreError(
        `cannot reuse ${dir}: its spec differs in ${differs}, which decides every cell (only n, replications, theory, name and description may differ)`,
      );
    const same = new Set(
      meta.spec.models.filter((m) => cellDefinition(meta.spec, m.label) === defs.get(m.label)).map((m) => m.label),
    );
    // a model this spec does not fit is simply not planned; one it fits otherwise is worth a word
    const other = meta.spec.models.filter((m) => defs.has(m.label) && !same.has(m.label)).map((m) => m.label);
    if (other.length > 0)
      notice(
        `${dir}: model${other.length === 1 ? '' : 's'} ${other.join(', ')} not reused (not fitted the same way here)`,
      );
    let cells = 0;
    for (const r of readResults(join(dir, RESULTS_FILE)).records) {
      const key = cellKey(r.model, r.n, r.rep);
      if (r.status !== 'ok' || !same.has(r.model) || !planned.has(key) || taken.has(key)) continue;
      taken.add(key);
      records.push(renamePrefix(r, metricPrefix(meta.spec, r.model), metricPrefix(spec, r.model)));
      cells++;
    }
    const commit = meta.provenance?.commit;
    if (cells > 0 && commit && here.commit && commit !== here.commit)
      notice(
        `${dir}: its ${cells} reused cell${cells === 1 ? ' was' : 's were'} computed at commit ${commit.slice(0, 10)}, this is ${here.commit.slice(0, 10)} (the same gmoe ${version}; spec.json records where each came from)`,
      );
    from.push({ dir, cells, ...(commit ? { commit } : {}) });
  }
  return { records, from };
}

/**
 * How many cells of `spec` (all of them: no shard) `--reuse dir` would take; 0 where it would refuse.
 * For a hint (`gmoe plan --write-spec`), never an error.
 */
export function reusableCount(spec: ExperimentSpec, dir: string, here: { gmoe: string; commit?: string }): number {
  try {
    return reuseCells(spec, plannedKeys(planCells(spec)), [dir], here).records.length;
  } catch {
    return 0;
  }
}
