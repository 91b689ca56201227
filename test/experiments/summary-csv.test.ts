/** rates.csv and curves.csv: the summary's numbers, read back to the bit, and the verdict on the curve it reads. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { curvesCsv, ratesCsv } from '../../src/experiments/analysis/summary-csv.js';
import { runSweep } from '../../src/experiments/runner.js';
import { validateSpec } from '../../src/experiments/spec.js';
import type { Summary } from '../../src/experiments/types.js';
import { tempDir } from '../helpers/temp-dir.js';

const FAKE = new URL('./fixtures/fake-cell.ts', import.meta.url).href;
const rows = (text: string) => parse(text, { columns: true }) as Record<string, string>[];

async function summaryOf(models: { label: string; k: number }[], theory: Record<string, unknown>): Promise<Summary> {
  const spec = validateSpec({
    name: 'fake',
    truth: 'demy',
    models: models.map((m) => ({ ...m, gate: { kind: 'softmax' } })),
    n: { from: 100, to: 10000, count: 4, spacing: 'log' },
    replications: 5,
    theory,
    seed: 9,
  });
  const dir = join(tempDir('csv'), 'run');
  const r = await runSweep(spec, { outDir: dir, workers: 1, evaluator: FAKE, plots: 'none' });
  const summary = r.analysis!.summary;
  // the files the run wrote are these functions' output
  const lone = models.length === 1 ? models[0]!.label : '';
  expect(readFileSync(join(dir, 'rates.csv'), 'utf8')).toBe(ratesCsv(summary, lone));
  expect(readFileSync(join(dir, 'curves.csv'), 'utf8')).toBe(curvesCsv(summary, lone));
  return summary;
}

describe('ratesCsv, curvesCsv', () => {
  it('one model: every slope, interval and point of summary.json, to the bit; the verdict on the curve it reads', async () => {
    const s = await summaryOf([{ label: 'softmax', k: 2 }], {
      D1: { exponent: -0.5 },
      'a|m=1': { exponent: -0.5, statistic: 'median', note: 'heavy tails' },
    });
    const rates = rows(ratesCsv(s, 'softmax'));
    expect(rates).toHaveLength(2 * s.metrics.length);
    for (const m of s.metrics) {
      for (const curve of ['mean', 'median'] as const) {
        const r = rates.find((x) => x.metric === m.metric && x.curve === curve)!;
        expect(r.model).toBe('softmax');
        expect([Number(r.slope), Number(r.ci_low), Number(r.ci_high), Number(r.intercept)]).toEqual([
          m[curve].slope,
          m[curve].ci[0],
          m[curve].ci[1],
          m[curve].intercept,
        ]);
      }
    }
    const d1 = rates.filter((x) => x.metric === 'D1');
    expect(d1.map((x) => [x.curve, x.predicted, x.verdict])).toEqual([
      ['mean', '-0.5', s.metrics.find((m) => m.metric === 'D1')!.verdict],
      ['median', '-0.5', ''],
    ]);
    const a = rates.filter((x) => x.metric === 'a|m=1');
    expect(a.map((x) => [x.curve, x.verdict === '', x.note])).toEqual([
      ['mean', true, ''],
      ['median', false, 'heavy tails'],
    ]);
    // a detail with commas stays one field
    expect(a[1]!.verdict_detail).toBe(s.metrics.find((m) => m.metric === 'a|m=1')!.verdictDetail);

    const curves = rows(curvesCsv(s, 'softmax'));
    expect(curves).toHaveLength(s.metrics.reduce((t, m) => t + m.points.length, 0));
    const p = s.metrics[0]!.points[2]!;
    const r = curves.filter((x) => x.metric === s.metrics[0]!.metric)[2]!;
    expect([r.n, r.count, r.failed].map(Number)).toEqual([p.n, p.count, p.failed ?? 0]);
    expect([r.mean, r.median, r.q05, r.q25, r.q75, r.q95].map(Number)).toEqual([
      p.mean,
      p.median,
      p.q05,
      p.q25,
      p.q75,
      p.q95,
    ]);
  });

  it('several models: the label in its own column, the metric without it', async () => {
    const s = await summaryOf(
      [
        { label: 'exact', k: 2 },
        { label: 'over', k: 3 },
      ],
      { 'over:D1': { exponent: -0.5 } },
    );
    const rates = rows(ratesCsv(s));
    expect(new Set(rates.map((x) => x.model))).toEqual(new Set(['exact', 'over']));
    expect(rates.some((x) => x.metric.includes(':'))).toBe(false);
    expect(rates.filter((x) => x.predicted !== '').map((x) => [x.model, x.metric])).toEqual([
      ['over', 'D1'],
      ['over', 'D1'],
    ]);
  });
});
