/** How settled best-of-R fits are: the cells' starts (CellRecord.starts) counted per model, in the summary, table and figure. */
import { describe, expect, it } from 'vitest';
import { summarise } from '../../src/experiments/analysis/summarise.js';
import { formatStarts, startsSubtitle, summariseStarts } from '../../src/experiments/analysis/starts.js';
import { formatSummaryTable } from '../../src/experiments/analysis/table.js';
import { buildFigure } from '../../src/experiments/plot/figure.js';
import { cellStarts } from '../../src/experiments/cell.js';
import type { CellRecord } from '../../src/experiments/types.js';
import { syntheticRecords, syntheticSpec } from './analysis-helpers.js';

const ns = [1000, 2000, 4000, 8000];

/** records of two models; cell (n, rep) of model m gets starts(m, n, rep) */
function withStarts(starts: (model: string, n: number, rep: number) => CellRecord['starts']): CellRecord[] {
  return syntheticRecords({
    ns,
    reps: 3,
    models: ['tanh', 'sigmoid'],
    prefix: true,
    metrics: { D2: (n) => n ** -0.5 },
    failed: (n, rep, model) => model === 'tanh' && n === 8000 && rep === 2,
  }).map((r) => {
    const s = starts(r.model, r.n, r.rep);
    return s ? { ...r, starts: s } : r;
  });
}

describe('summariseStarts', () => {
  it('counts per model the ok cells whose best optimum one start alone reached, with the median gap to the next', () => {
    // tanh: rep 0 single (gap n/1000), rep 1 two at the best, rep 2 all five; the failed cell is left out
    const records = withStarts((model, n, rep) =>
      model === 'tanh'
        ? rep === 0
          ? { count: 5, atBest: 1, gap: n / 1000 }
          : rep === 1
            ? { count: 5, atBest: 2, gap: 3 }
            : { count: 5, atBest: 5 }
        : { count: 5, atBest: rep === 2 ? 1 : 4, ...(rep === 2 ? { gap: 0.5 } : {}) },
    );
    const s = summariseStarts(records, ['tanh', 'sigmoid'])!;
    expect(s.tanh).toEqual({ cells: 11, restarts: 5, single: 4, medianGap: 3 }); // gaps 1, 2, 4, 8
    expect(s.sigmoid).toEqual({ cells: 12, restarts: 5, single: 4, medianGap: 0.5 });
    expect(Object.keys(s)).toEqual(['tanh', 'sigmoid']);
  });

  it('is undefined when no cell ran several starts; one-start records and models without starts are left out', () => {
    expect(
      summariseStarts(
        withStarts(() => undefined),
        ['tanh', 'sigmoid'],
      ),
    ).toBeUndefined();
    expect(
      summariseStarts(
        withStarts(() => ({ count: 1, atBest: 1 })),
        ['tanh', 'sigmoid'],
      ),
    ).toBeUndefined();
    const s = summariseStarts(
      withStarts((model) => (model === 'sigmoid' ? { count: 3, atBest: 3 } : undefined)),
      ['tanh', 'sigmoid'],
    )!;
    expect(s).toEqual({ sigmoid: { cells: 12, restarts: 3, single: 0 } });
  });

  it('says the range of starts where restartsMax added some to a few cells', () => {
    const s = summariseStarts(
      withStarts((_model, n, rep) =>
        n === 8000 && rep === 0 ? { count: 12, atBest: 1, gap: 0.2 } : { count: 5, atBest: 2, gap: 1 },
      ),
      ['sigmoid'],
    )!;
    expect(s.sigmoid).toEqual({ cells: 12, restarts: 12, fewest: 5, single: 1, medianGap: 0.2 });
    const summary = { ...summarise([], syntheticSpec({}), { bootstrap: 0 }), starts: s };
    expect(formatStarts(summary)[1]).toBe(
      '  sigmoid: the best of 5–12 starts reached by one start alone in 1 of 12 cells (median 0.20 nats above the next optimum)',
    );
    expect(startsSubtitle(summary)).toBe('best of 5–12 starts: reached by one start alone in 1 of 12 cells');
  });
});

describe('summariseStarts: the edges', () => {
  it('counts two starts as several, sorts the gaps before the median and leaves a non-finite gap out', () => {
    // sigmoid: every cell ran 2 starts, one alone at the best; gaps out of order in n (8, 1, 4, 2), rep 1 never has one,
    // rep 2 an infinite one (the next optimum at −∞)
    const records = withStarts((_model, n, rep) => ({
      count: 2,
      atBest: 1,
      ...(rep === 0
        ? { gap: { 1000: 8, 2000: 1, 4000: 4, 8000: 2 }[n]! }
        : rep === 2
          ? { gap: Number.POSITIVE_INFINITY }
          : {}),
    }));
    expect(summariseStarts(records, ['sigmoid'])!.sigmoid).toEqual({
      cells: 12,
      restarts: 2,
      single: 12,
      medianGap: 3,
    });
  });

  it('writes a gap of 0.01 nats in fixed notation and a smaller one in exponential', () => {
    const summary = (medianGap: number) => ({
      ...summarise([], syntheticSpec({}), { bootstrap: 0 }),
      starts: { tanh: { cells: 4, restarts: 5, single: 2, medianGap } },
    });
    expect(formatStarts(summary(0.01))[1]).toMatch(/\(median 0\.01 nats above/);
    expect(formatStarts(summary(0.005))[1]).toMatch(/\(median 5\.0e-3 nats above/);
  });
});

describe('the summary, the table and the figure', () => {
  const spec = syntheticSpec({}, ['tanh', 'sigmoid']);
  const records = withStarts((model, _n, rep) =>
    model === 'tanh'
      ? { count: 5, atBest: rep === 0 ? 1 : 3, ...(rep === 0 ? { gap: 1.25 } : {}) }
      : { count: 5, atBest: 5 },
  );

  it('summary.starts holds the counts; the table says what they mean, per model', () => {
    const summary = summarise(records, spec, { bootstrap: 0 });
    expect(summary.starts).toEqual({
      tanh: { cells: 11, restarts: 5, single: 4, medianGap: 1.25 },
      sigmoid: { cells: 12, restarts: 5, single: 0 },
    });
    const lines = formatStarts(summary);
    expect(lines[0]).toMatch(/best of its starts' local maxima/);
    expect(lines[1]).toBe(
      '  tanh: the best of 5 starts reached by one start alone in 4 of 11 cells (median 1.25 nats above the next optimum)',
    );
    expect(lines[2]).toBe('  sigmoid: the best of 5 starts reached by one start alone in 0 of 12 cells');
    expect(formatSummaryTable(summary)).toContain(lines[1]!);
    const sub = (buildFigure(summary).layout.annotations as { text: string }[]).map((a) => a.text).join('\n');
    expect(sub).toContain('best of the starts reached by one start alone: tanh 4/11 cells, sigmoid 0/12 cells');
  });

  it('a sweep of one-start fits says nothing of starts (summary, table, figure)', () => {
    const plain = syntheticRecords({ ns, reps: 3, metrics: { D1: (n) => n ** -0.5 } });
    const summary = summarise(plain, syntheticSpec({}), { bootstrap: 0 });
    expect(summary).not.toHaveProperty('starts');
    expect(formatStarts(summary)).toEqual([]);
    expect(startsSubtitle(summary)).toBe('');
    expect(formatSummaryTable(summary)).not.toMatch(/Starts:/);
  });

  it('one model: the subtitle names the starts and the cells', () => {
    const one = {
      ...summarise(records, spec, { bootstrap: 0 }),
      starts: { tanh: { cells: 10, restarts: 5, single: 8 } },
    };
    expect(startsSubtitle(one)).toBe('best of 5 starts: reached by one start alone in 8 of 10 cells');
  });
});

describe('cellStarts', () => {
  it('reads the fit’s optima: starts run, starts at the best, the gap to the next optimum', () => {
    const restartResults = new Array(5).fill(null) as never[];
    expect(
      cellStarts({
        restartResults,
        optima: [
          { logLik: -10, count: 1, starts: [3] },
          { logLik: -10.75, count: 3, starts: [0, 1, 2] },
        ],
      }),
    ).toEqual({ count: 5, atBest: 1, gap: 0.75 });
    expect(cellStarts({ restartResults, optima: [{ logLik: -10, count: 4, starts: [0, 1, 2, 4] }] })).toEqual({
      count: 5,
      atBest: 4,
    });
  });
});
