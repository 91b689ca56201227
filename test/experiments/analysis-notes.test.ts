/** The table's notes: one line per distinct text, naming every metric and curve that carries it. */
import { describe, expect, it } from 'vitest';
import { groupNotes } from '../../src/experiments/analysis/notes.js';

const single = 'no interval — the bootstrap resamples the replications at each n, and n = 10 has only one replication';

describe('groupNotes', () => {
  it('says a note shared by metrics and by both curves once, in order of first appearance', () => {
    const lines = groupNotes([
      { metric: 'D1', warnings: [`mean curve: ${single}`, `median curve: ${single}`] },
      {
        metric: 'D2',
        warnings: [
          'no value at n = 5 (1 failed, 0 ok cells without a finite value)',
          `mean curve: ${single}`,
          `median curve: ${single}`,
        ],
      },
      { metric: 'a|m=1', warnings: [`median curve: ${single}`, 'median curve: 1 usable n, a slope needs at least 2'] },
      { metric: 'b|m=1', warnings: [] },
      { metric: 'nu|m=1' },
      { metric: 'beta1|m=2', warnings: [`median curve: ${single}`] },
    ]);
    expect(lines).toEqual([
      `  D1, D2: mean and median curves: ${single}`,
      `  a|m=1, beta1|m=2: median curve: ${single}`,
      '  D2: no value at n = 5 (1 failed, 0 ok cells without a finite value)',
      '  a|m=1: median curve: 1 usable n, a slope needs at least 2',
    ]);
  });

  it('a note of one metric and one curve reads as the warning itself', () => {
    expect(groupNotes([{ metric: 'D1', warnings: ['mean curve: left out of the log-log fit'] }])).toEqual([
      '  D1: mean curve: left out of the log-log fit',
    ]);
    expect(groupNotes([])).toEqual([]);
  });
});
