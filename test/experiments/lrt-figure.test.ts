/** The figure of `gmoe select --boot`: one histogram per test, T a dashed line or, far off, an arrow. */
import { describe, expect, it } from 'vitest';
import type { BootLrtResult, BootTest } from '../../src/em/boot-lrt.js';
import { lrtFigure } from '../../src/experiments/plot/lrt-figure.js';

const test = (k0: number, T: number, Tstar: number[]) =>
  ({ k0, k1: k0 + 1, T, p: 0.5, rejected: false, Tstar }) as unknown as BootTest;

describe('lrtFigure', () => {
  it('a panel per test; T inside the T* as a dashed line, far beyond them as an arrow at the edge', () => {
    const lrt = { B: 19, alpha: 0.05, seed: 1, chosen: 2, exhausted: false } as BootLrtResult;
    lrt.tests = [test(1, 500, [1, 2, 3]), test(2, 2.5, [1, 2, 3])];
    const { data, layout } = lrtFigure(lrt, 't');
    expect(data.map((d) => [d.type, d.xaxis])).toEqual([
      ['histogram', 'x'],
      ['histogram', 'x2'],
    ]);
    const shapes = layout.shapes as { xref: string; x0: number }[];
    expect(shapes.map((s) => [s.xref, s.x0])).toEqual([['x2', 2.5]]);
    const arrows = (layout.annotations as { showarrow: boolean; xref: string; text: string }[]).filter(
      (a) => a.showarrow,
    );
    expect(arrows.map((a) => [a.xref, a.text])).toEqual([['x domain', 'T = 500.0<br>off the axis']]);
    expect((layout.xaxis as { range: number[] }).range[1]).toBeLessThan(10);
    expect((layout.xaxis2 as { range: number[] }).range[1]).toBeCloseTo(3 * 1.08, 12);
  });
});
