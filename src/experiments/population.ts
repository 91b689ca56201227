/**
 * Populations of fits by their Voronoi cells: the records whose fitted atoms fall into the true atoms'
 * cells in given numbers (e.g. demy-over's (2, 1): the non-reference expert split, against (1, 2): the
 * reference split). Over-specified fits end at local maxima of several kinds whose losses differ by
 * decades (docs/experiments.md, "Weighted two-atom errors"), and a per-n median over a mix of them
 * moves with the mix. A population is chosen by the fits' outcome, so its rates are conditional ones:
 * the summary and the figure say so. Cell sizes are computed from each record's fitted parameters with
 * the spec's loss, as the cell evaluator's main loss assigns them.
 */
import { modelFromParams, type Model } from '../models/types.js';
import { ValidationError } from '../models/validate.js';
import { voronoiLoss } from '../voronoi/loss.js';
import { StoreError } from './store.js';
import { specTruths } from './spec.js';
import type { CellRecord, ExperimentSpec, Population } from './types.js';

/**
 * Parses a `--cells` value: comma-separated integers ≥ 0, one per true atom.
 * @throws ValidationError naming the option and the value
 */
export function parseCells(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((s) => !/^\d+$/.test(s)))
    throw new ValidationError(
      `--cells must be comma-separated integers ≥ 0, one per true atom (e.g. 2,1). Value: ${text}`,
      '--cells',
      text,
    );
  return parts.map(Number);
}

/** The Voronoi cell sizes of a record's fit against its truth (the spec's loss); undefined for a failed record. */
export function recordCells(r: CellRecord, spec: ExperimentSpec, truth: Model): number[] | undefined {
  if (r.status !== 'ok') return undefined;
  if (!r.fitted)
    throw new StoreError(
      "results.jsonl: its records hold no fitted parameters (the spec's record.fitted was false): populations by cell need them",
    );
  const fit = modelFromParams(truth.gate, r.fitted);
  return voronoiLoss(fit, truth, { loss: spec.loss }).cells.map((c) => c.fitted.length);
}

/** A pattern of cell sizes and how many fits have it. */
export interface PopulationCount {
  cells: number[];
  count: number;
}

/** Each ok record's cell sizes against its model's truth, in record order (undefined for a failed record). */
function cellsOfAll(
  records: readonly CellRecord[],
  spec: ExperimentSpec,
  truths: readonly Model[] = specTruths(spec),
): (number[] | undefined)[] {
  const truthOf = new Map(spec.models.map((m, t) => [m.label, truths[t]!]));
  return records.map((r) => recordCells(r, spec, truthOf.get(r.model) ?? truths[0]!));
}

/**
 * The populations of a run: each pattern of cell sizes with its number of fits, most frequent first
 * (failed records have none).
 * @throws StoreError when the records hold no fitted parameters
 */
export function listPopulations(records: readonly CellRecord[], spec: ExperimentSpec): PopulationCount[] {
  return countPatterns(cellsOfAll(records, spec));
}

function countPatterns(all: readonly (number[] | undefined)[]): PopulationCount[] {
  const counts = new Map<string, PopulationCount>();
  for (const c of all) {
    if (!c) continue;
    const key = c.join(',');
    const e = counts.get(key) ?? { cells: c, count: 0 };
    e.count++;
    counts.set(key, e);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || (a.cells.join(',') < b.cells.join(',') ? -1 : 1));
}

/** The populations in one line: "(1, 2) 444 · (2, 1) 356". */
export function populationsText(list: readonly PopulationCount[]): string {
  return list.length === 0
    ? 'none (no fit ended ok)'
    : list.map((p) => `(${p.cells.join(', ')}) ${p.count}`).join(' · ');
}

/**
 * The records whose fits have the given cell sizes.
 * @throws ValidationError when `cells` does not have one entry per true atom of every model's truth, or no fit has them
 * @throws StoreError when the records hold no fitted parameters
 */
export function selectPopulation(
  records: readonly CellRecord[],
  spec: ExperimentSpec,
  cells: readonly number[],
): { records: CellRecord[]; population: Population } {
  const truths = specTruths(spec);
  spec.models.forEach((m, t) => {
    const kStar = truths[t]!.k;
    if (cells.length !== kStar)
      throw new ValidationError(
        `--cells must give one size per true atom: ${kStar} for model ${m.label}. Value: ${cells.join(',')}`,
        '--cells',
        cells,
      );
  });
  const all = cellsOfAll(records, spec, truths);
  const kept = records.filter((_, i) => all[i]?.every((m, j) => m === cells[j]) ?? false);
  if (kept.length === 0)
    throw new ValidationError(
      `--cells: no fit has Voronoi cells (${cells.join(', ')}); this run's fits have ${populationsText(countPatterns(all))}`,
      '--cells',
      cells,
    );
  return { records: kept, population: { cells: [...cells], kept: kept.length, of: records.length } };
}
