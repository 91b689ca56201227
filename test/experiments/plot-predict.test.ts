/** The predictions figure: what it draws for d = 1 and d > 1, and when it draws nothing. */
import { describe, expect, it } from 'vitest';
import { MAX_POINTS, predictFigure } from '../../src/experiments/plot/predict-figure.js';
import { predictMoE } from '../../src/models/predict.js';
import { predictiveCdf, predictiveQuantile } from '../../src/models/predictive-quantile.js';
import { ksUniform } from '../../src/math/kolmogorov.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';

type Trace = { name?: string; x: number[]; y: (number | null)[]; yaxis?: string };

function figureOf(preset: string, n: number, withY: boolean) {
  const model = truthPreset(preset);
  const data = simulate(model, { n, seed: 3 });
  const y = withY ? data.y : undefined;
  const prediction = predictMoE(model, data.X, n, y);
  const fig = predictFigure({ model, n, X: data.X, ...(y ? { y } : {}), prediction, title: 't', subtitle: 's' });
  return { fig, data, prediction };
}

describe('predictFigure', () => {
  it('d = 1: points by most probable expert, E[y|x], each expert ± 2 sd where π ≥ 1 %, the gate summing to 1', () => {
    const { fig, prediction } = figureOf('topk1', 500, true);
    const traces = fig!.data as Trace[];
    const points = traces.filter((t) => t.name?.startsWith('data, most probably expert'));
    expect(points.reduce((s, t) => s + t.x.length, 0)).toBe(500);
    for (const t of points) {
      const j = Number(t.name!.at(-1)) - 1;
      expect(t.x.length).toBe(Array.from(prediction.expert!).filter((e) => e === j).length);
    }
    const gates = traces.filter((t) => t.yaxis === 'y2');
    expect(gates).toHaveLength(2);
    for (let g = 0; g < gates[0]!.x.length; g++) expect(gates[0]!.y[g]! + gates[1]!.y[g]!).toBeCloseTo(1, 12);
    // the top-1 gate switches: each expert's line is drawn on its side only
    const lines = traces.filter((t) => t.name?.startsWith('expert ') && t.name.includes(': mean'));
    expect(lines).toHaveLength(2);
    for (const [e, line] of lines.entries()) {
      line.y.forEach((v, g) => expect(v === null, `expert ${e + 1} at ${line.x[g]}`).toBe(gates[e]!.y[g]! < 0.01));
      expect(line.y.some((v) => v === null)).toBe(true);
    }
    expect(traces.find((t) => t.name === 'E[y|x]')!.y).toHaveLength(gates[0]!.x.length);
    // one band per expert, μ_j ± 2√ν_j, over the same points as its line: the gap between them stays empty
    const model = truthPreset('topk1');
    for (const [e, line] of lines.entries()) {
      const band = traces.find((t) => t.name === `expert ${e + 1} ± 2 sd`)!;
      const upper = new Map<number, number>();
      const lower = new Map<number, number>();
      band.x.forEach((x, i) => {
        if (x === null) return;
        (upper.has(x as number) ? lower : upper).set(x as number, band.y[i]!);
      });
      const drawn = line.x.filter((_, g) => line.y[g] !== null);
      expect([...upper.keys()].sort()).toEqual([...drawn].sort());
      line.x.forEach((x, g) => {
        if (line.y[g] === null) return;
        expect(upper.get(x as number)! - line.y[g]!).toBeCloseTo(2 * Math.sqrt(model.nu[e]!), 12);
        expect(line.y[g]! - lower.get(x as number)!).toBeCloseTo(2 * Math.sqrt(model.nu[e]!), 12);
      });
    }
  });

  it('intervalLevel: the predictive quantiles over the grid as one dotted trace; none without it', () => {
    const model = truthPreset('demy');
    const data = simulate(model, { n: 50, seed: 2 });
    const prediction = predictMoE(model, data.X, 50, data.y);
    const base = { model, n: 50, X: data.X, y: data.y, prediction, title: 't', subtitle: 's' };
    const named = (f: ReturnType<typeof predictFigure>) =>
      (f!.data as Trace[]).filter((t) => t.name?.includes('interval'));
    expect(named(predictFigure(base))).toEqual([]);
    const [iv] = named(predictFigure({ ...base, intervalLevel: 0.8 }));
    expect(iv!.name).toBe('80 % predictive interval');
    const grid = (iv!.x.length - 1) / 2;
    expect(iv!.x[grid]).toBeNull();
    const gx = Float64Array.from(iv!.x.slice(0, grid) as number[]);
    const g = predictMoE(model, gx, grid);
    expect(iv!.y.slice(0, grid)).toEqual(Array.from(predictiveQuantile(g, model.nu, (1 - 0.8) / 2)));
    expect(iv!.y.slice(grid + 1)).toEqual(Array.from(predictiveQuantile(g, model.nu, (1 + 0.8) / 2)));
  });

  it('d > 1: observed y against E[y|x] with y; nothing without y; large n thinned to at most MAX_POINTS', () => {
    const { fig, prediction } = figureOf('d2', 300, true);
    const points = (fig!.data as Trace[]).filter((t) => t.name?.startsWith('data'));
    const all = points.flatMap((t) => t.x);
    expect(all.sort()).toEqual(Array.from(prediction.mean).sort());
    expect(figureOf('d2', 300, false).fig).toBeNull();
    const big = figureOf('demy', 2 * MAX_POINTS + 1, true).fig!;
    const drawn = (big.data as Trace[]).filter((t) => t.name?.startsWith('data')).reduce((s, t) => s + t.x.length, 0);
    expect(drawn).toBe(Math.ceil((2 * MAX_POINTS + 1) / 3)); // every 3rd row
    expect(figureOf('demy', 50, false).fig).not.toBeNull(); // d = 1 without y: the curves alone
  });
  it('with y, the PIT panel: its histogram (density, all n rows), the line at 1, its 95 % band and the KS p; none without y', () => {
    for (const [preset, d] of [
      ['demy', 1],
      ['d2', 2],
    ] as const) {
      const { fig, data, prediction } = figureOf(preset, 400, true);
      const model = truthPreset(preset);
      const pit = predictiveCdf(prediction, model.nu, data.y);
      const traces = fig!.data as (Trace & { type?: string; xaxis?: string })[];
      const panel = traces.filter((t) => t.xaxis === 'x9');
      expect(panel, `d = ${d}`).toHaveLength(3);
      const bars = panel.find((t) => t.type === 'bar')!;
      expect(bars.x).toHaveLength(20);
      // density: the bars' areas sum to 1, and bin b counts the pit values in [b/20, (b + 1)/20)
      expect(bars.y.reduce((s: number, v) => s + v! / 20, 0)).toBeCloseTo(1, 12);
      const third = Array.from(pit).filter((u) => u >= 0.1 && u < 0.15).length;
      expect(bars.y[2]).toBeCloseTo(third / (400 / 20), 12);
      const layout = fig!.layout as { annotations: { text: string }[]; xaxis9: unknown; yaxis9: unknown };
      const p = Number(ksUniform(pit).pValue.toPrecision(3));
      expect(layout.annotations.some((a) => a.text === `<b>calibration</b>: KS test p = ${p}`)).toBe(true);
    }
    const without = figureOf('demy', 50, false).fig!;
    expect((without.data as { xaxis?: string }[]).some((t) => t.xaxis === 'x9')).toBe(false);
    expect((without.layout as { xaxis9?: unknown }).xaxis9).toBeUndefined();
  });

  it("axis titles: the data's column names (escaped for plotly), else x and y", () => {
    const title = (fig: ReturnType<typeof predictFigure>, axis: string): string =>
      (fig!.layout as Record<string, { title: { text: string } }>)[axis]!.title.text;
    const model = truthPreset('demy');
    const data = simulate(model, { n: 20, seed: 1 });
    const prediction = predictMoE(model, data.X, 20, data.y);
    const base = { model, n: 20, X: data.X, y: data.y, prediction, title: 't', subtitle: 's' };
    const named = predictFigure({ ...base, columns: { x: ['waiting'], y: 'a<b' } });
    expect([title(named, 'xaxis'), title(named, 'yaxis')]).toEqual(['waiting', 'a&lt;b']);
    const plain = predictFigure(base);
    expect([title(plain, 'xaxis'), title(plain, 'yaxis')]).toEqual(['x', 'y']);
    const d2 = truthPreset('d2');
    const s2 = simulate(d2, { n: 20, seed: 1 });
    const p2 = predictMoE(d2, s2.X, 20, s2.y);
    const obs = predictFigure({
      ...base,
      model: d2,
      X: s2.X,
      y: s2.y,
      prediction: p2,
      columns: { x: ['u', 'v'], y: 'mpg' },
    });
    expect(title(obs, 'yaxis')).toBe('observed mpg');
  });
});

describe('predictFigure from a script', () => {
  it('draws without a subtitle (optional: npm run typecheck compiles this call), with no empty second title line', () => {
    const model = truthPreset('demy');
    const data = simulate(model, { n: 50, seed: 1 });
    const prediction = predictMoE(model, data.X, data.n, data.y);
    const fig = predictFigure({ model, n: data.n, X: data.X, y: data.y, prediction, title: 'mine' });
    expect((fig!.layout.title as { text: string }).text).toBe('<b>mine</b>');
  });
});
