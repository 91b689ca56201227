/**
 * The "Notes:" lines under a sweep's table: the metrics' warnings, with a note that several metrics
 * (or both curves of one) share said once. Why: a shard or a one-replication run gives every metric
 * the same "no interval" note twice (mean and median curve), 20 and more identical lines.
 */
import type { MetricSummary } from '../types.js';

const CURVE = /^(mean|median) curve: (.*)$/s;

/**
 * The notes in order of first appearance, one per distinct text: `D1, D2: mean and median curves: …`.
 * Metrics are named in the order of the summary; a note of one metric and one curve reads as before
 * (`D1: mean curve: …`).
 */
export function groupNotes(metrics: Pick<MetricSummary, 'metric' | 'warnings'>[]): string[] {
  // text → metric → curves that carry it ('' for a note about no curve in particular)
  const byText = new Map<string, Map<string, Set<string>>>();
  for (const m of metrics) {
    for (const w of m.warnings ?? []) {
      const hit = CURVE.exec(w);
      const text = hit ? hit[2]! : w;
      const curve = hit ? hit[1]! : '';
      let who = byText.get(text);
      if (!who) byText.set(text, (who = new Map()));
      let curves = who.get(m.metric);
      if (!curves) who.set(m.metric, (curves = new Set()));
      curves.add(curve);
    }
  }
  const lines: string[] = [];
  for (const [text, who] of byText) {
    // metrics with the same curves share a line
    const byCurves = new Map<string, string[]>();
    for (const [metric, curves] of who) {
      const key = curvesLabel(curves);
      byCurves.set(key, [...(byCurves.get(key) ?? []), metric]);
    }
    for (const [label, names] of byCurves) lines.push(`  ${names.join(', ')}: ${label}${text}`);
  }
  return lines;
}

function curvesLabel(curves: Set<string>): string {
  if (curves.has('mean') && curves.has('median')) return 'mean and median curves: ';
  if (curves.has('mean')) return 'mean curve: ';
  if (curves.has('median')) return 'median curve: ';
  return '';
}
