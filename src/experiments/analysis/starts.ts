/**
 * How settled a sweep's best-of-R fits are: per fitted model, the ok cells whose fit ran several
 * starts (CellRecord.starts), how many of them had a best optimum that one start alone reached, and
 * how far above the next optimum it lay. Why: a cell's fit is the best of its starts' local maxima;
 * where one start alone found it, more starts may find a higher one and move the cell's losses
 * (demy-over's full size: D2 changed by more than 10× in 89 of 200 cells between two sets of starts,
 * docs/experiments.md).
 */
import type { CellRecord, StartsSummary, Summary } from '../types.js';
import { medianSorted } from './stats.js';

/** Per model label, the starts of its ok cells that ran several; undefined when no cell did. */
export function summariseStarts(
  records: readonly CellRecord[],
  labels: readonly string[],
): Record<string, StartsSummary> | undefined {
  const out: Record<string, StartsSummary> = {};
  for (const label of labels) {
    const rs = records.filter((r) => r.model === label && r.status === 'ok' && r.starts && r.starts.count > 1);
    if (rs.length === 0) continue;
    const single = rs.filter((r) => r.starts!.atBest === 1);
    const gaps = single
      .map((r) => r.starts!.gap)
      .filter((g): g is number => typeof g === 'number' && Number.isFinite(g))
      .sort((a, b) => a - b);
    const counts = rs.map((r) => r.starts!.count);
    const fewest = Math.min(...counts);
    const most = Math.max(...counts);
    out[label] = {
      cells: rs.length,
      restarts: most,
      ...(fewest < most ? { fewest } : {}),
      single: single.length,
      ...(gaps.length > 0 ? { medianGap: medianSorted(gaps) } : {}),
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The table's lines: one per model, under a heading that says what the count means. */
export function formatStarts(summary: Summary): string[] {
  const entries = Object.entries(summary.starts ?? {});
  if (entries.length === 0) return [];
  const lines = [
    "Starts: each cell's fit is the best of its starts' local maxima; where one start alone reached it, more starts may find a higher one:",
  ];
  for (const [label, s] of entries) {
    const gap = s.medianGap !== undefined ? ` (median ${formatNats(s.medianGap)} nats above the next optimum)` : '';
    lines.push(
      `  ${label}: the best of ${startsText(s)} starts reached by one start alone in ${s.single} of ${s.cells} cells${gap}`,
    );
  }
  return lines;
}

/** The figure's subtitle item ('' when no cell ran several starts). */
export function startsSubtitle(summary: Summary): string {
  const entries = Object.entries(summary.starts ?? {});
  if (entries.length === 0) return '';
  if (entries.length === 1) {
    const [, s] = entries[0]!;
    return `best of ${startsText(s)} starts: reached by one start alone in ${s.single} of ${s.cells} cells`;
  }
  return `best of the starts reached by one start alone: ${entries.map(([label, s]) => `${label} ${s.single}/${s.cells} cells`).join(', ')}`;
}

/** "5", or "5–20" where restartsMax added starts to some cells */
const startsText = (s: StartsSummary): string =>
  s.fewest !== undefined ? `${s.fewest}–${s.restarts}` : `${s.restarts}`;

const formatNats = (v: number): string => (v >= 0.01 ? v.toFixed(2) : v.toExponential(1));
