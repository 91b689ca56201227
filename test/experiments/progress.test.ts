/** The progress reporters' plain lines (stderr not a terminal: logs, CI). */
import { describe, expect, it } from 'vitest';
import { createCountReporter, createProgressReporter } from '../../src/experiments/progress.js';
import type { SweepProgress } from '../../src/experiments/runner.js';
import type { CellRecord } from '../../src/experiments/types.js';

function fakeStream(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe('progress reporters', () => {
  it('a count: the first update, then one line per interval, and the last', () => {
    const { stream, lines } = fakeStream();
    const r = createCountReporter({
      stream,
      intervalSeconds: 3600,
      title: 'boot',
      unit: 'samples',
      describe: () => '',
    });
    for (let done = 1; done <= 4; done++)
      r.update({ done, total: 4, failed: done > 2 ? 1 : 0, elapsed: done, eta: 4 - done });
    expect(lines).toEqual([
      'boot: 1/4 samples (25%), elapsed 1s, ETA 3s\n',
      'boot: 4/4 samples (100%), elapsed 4s, ETA 0s, 1 failed\n',
    ]);
  });

  it("a sweep's: cells and the latest cell", () => {
    const { stream, lines } = fakeStream();
    const latest = { n: 500, rep: 3, status: 'ok', metrics: { loss: 0.01234 } } as unknown as CellRecord;
    const p = { done: 2, total: 2, resumed: 0, failed: 0, latest, elapsed: 65 } as SweepProgress;
    createProgressReporter({ stream, title: 'demo' }).update(p);
    expect(lines).toEqual(['demo: 2/2 cells (100%), elapsed 1m05s, ETA ?; latest n=500 rep=3 loss=0.0123\n']);
  });
});
