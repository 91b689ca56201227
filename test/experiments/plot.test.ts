import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixed, powerLawLabel, sig2, summarise } from '../../src/experiments/analysis/index.js';
import {
  buildFigure,
  CHROMIUM_PATH,
  plotlyBundlePath,
  renderPng,
  writePlotHtml,
} from '../../src/experiments/plot/index.js';
import { axisStyle, designTicks, MAX_DECADE_LABELS } from '../../src/experiments/plot/figure.js';
import type { SlopeFit } from '../../src/experiments/types.js';
import { syntheticRecords, syntheticSpec } from './analysis-helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('plot-test');

const records = syntheticRecords({
  ns: [100, 300, 1000, 3000, 10000],
  reps: 10,
  metrics: {
    D2: (n) => 2 * n ** -0.5,
    loss: () => NaN, // replaced below by D2's values: the duplicate is drawn once
    hellinger: (n) => 0.3 * n ** -0.5,
    'beta1|m=1': (n) => 3 * n ** -0.5,
    'a|m=1': (n) => 2 * n ** -0.5,
    'beta1|m=2': (n) => n ** -0.125,
    'a|m=2': (n) => n ** -0.25,
  },
  failed: (n, rep) => n === 100 && rep === 0,
}).map((r) => (r.status === 'ok' ? { ...r, metrics: { ...r.metrics, loss: r.metrics.D2 } } : r));
const spec = syntheticSpec({
  D2: { exponent: -0.5 },
  'beta1|m=1': { exponent: -0.5 },
  'beta1|m=2': { exponent: -1 / 8 },
  'a|m=2': { exponent: -1 / 4 },
});
const summary = summarise(records, spec, { bootstrap: 200 });
const figure = buildFigure(summary);
const names = figure.data.map((t) => String(t.name));

describe('fitted-line labels', () => {
  it('print the prefactor, the slope and its interval', () => {
    const fit: SlopeFit = {
      slope: -0.5123,
      intercept: Math.log(1.3),
      ci: [-0.5512, -0.4688],
      slopeDroppingSmallest: -0.5,
    };
    expect(powerLawLabel(fit)).toBe('1.3·n^-0.51 [-0.55, -0.47]');
    expect(sig2(0.004217)).toBe('0.0042');
    expect(sig2(3.14e-5)).toBe('3.1e-5');
  });

  it('of the figure match each metric’s summary', () => {
    for (const m of summary.metrics.filter((x) => x.metric !== 'loss')) {
      const { slope, intercept, ci } = m.mean;
      const label = `${sig2(Math.exp(intercept), true)}·n<sup>${fixed(slope, 2, '−')}</sup> [${fixed(ci[0], 2, '−')}, ${fixed(ci[1], 2, '−')}]`;
      expect(
        names.some((n) => n.includes(label)),
        `${m.metric}: ${label}`,
      ).toBe(true);
    }
  });
});

describe('buildFigure', () => {
  it('puts losses and each cell size in their own log-log panel, with a legend each', () => {
    const titles = (figure.layout.annotations as { text: string }[]).map((a) => a.text);
    expect(titles).toEqual(
      expect.arrayContaining([
        '<b>Losses</b>',
        '<b>Parameter errors, single-atom cells</b>',
        '<b>Parameter errors, 2-atom cells</b>',
      ]),
    );
    for (const ax of ['xaxis', 'yaxis', 'xaxis2', 'yaxis2', 'xaxis3', 'yaxis3'])
      expect((figure.layout[ax] as { type: string }).type).toBe('log');
    expect(figure.layout.xaxis4).toBeUndefined();
    expect(figure.layout.legend3).toBeDefined();
    // every trace of a panel sits on that panel's axes and legend
    for (const t of figure.data) expect(String(t.legend).replace('legend', '')).toBe(String(t.xaxis).replace('x', ''));
  });

  it("puts a multi-atom cell's weighted errors in a panel of their own, after its plain errors", () => {
    const recs = syntheticRecords({
      ns: [1000, 3000, 10000],
      reps: 6,
      metrics: {
        D2: (n) => n ** -0.5,
        'b|m=2': (n) => n ** -0.1,
        'b_w|m=2': (n) => 0.5 * n ** -0.2,
        'share_min|m=2': () => 0.08,
      },
    });
    const fig = buildFigure(summarise(recs, syntheticSpec({ 'b_w|m=2': { exponent: -1 / 8 } }), { bootstrap: 50 }));
    const titles = (fig.layout.annotations as { text: string }[]).map((a) => a.text).filter((t) => t.startsWith('<b>'));
    expect(titles.slice(1)).toEqual([
      '<b>Losses</b>',
      '<b>Parameter errors, 2-atom cells</b>',
      "<b>Weighted errors, 2-atom cells (D₂'s form)</b>",
    ]);
    const axisOf = (suffix: string) =>
      new Set(fig.data.filter((t) => String(t.legendgroup).endsWith(suffix)).map((t) => t.xaxis));
    expect([...axisOf(':b|m=2')]).toEqual(['x2']);
    expect([...axisOf(':b_w|m=2')]).toEqual(['x3']);
    expect([...axisOf(':share_min|m=2')]).toEqual(['x3']);
    // the weighted b keeps b's colour; its legend says b and the smallest share by name
    const names3 = fig.data.filter((t) => t.xaxis === 'x3').map((t) => String(t.name));
    expect(names3.some((n) => n.startsWith('b '))).toBe(true);
    expect(names3.some((n) => n.startsWith('smallest weight share'))).toBe(true);
    // the share draws no 5–95 % band (its lower end would squeeze the panel); b does
    expect(names3).toContain('b 5–95%');
    expect(names3.some((n) => n.startsWith('smallest weight share') && n.endsWith('5–95%'))).toBe(false);
    // and hides none of them: open markers, where the errors' medians are white-filled rings
    const marker = (name: string) => fig.data.find((t) => t.name === name)!.marker as { symbol: string; color: string };
    const share = fig.data.find(
      (t) => String(t.name).startsWith('smallest weight share') && String(t.name).endsWith('median'),
    )!;
    expect((share.marker as { symbol: string }).symbol).toBe('diamond-open');
    expect(marker('b median')).toMatchObject({ symbol: 'circle', color: '#ffffff' });
  });

  it('orders the rows of a multi-model figure by what they hold, a group only one model has below the shared ones', () => {
    // only the model whose label sorts first has a 3-atom cell (temp-over: 1 sigmoid fit in 9 172)
    const recs = syntheticRecords({
      ns: [1000, 3000, 10000],
      reps: 4,
      models: ['tanh', 'sigmoid'],
      prefix: true,
      metrics: { D2: (n) => n ** -0.5, 'a|m=2': (n) => n ** -0.25, 'a|m=3': (n) => n ** -0.2 },
    }).map((r) =>
      r.model === 'tanh'
        ? { ...r, metrics: Object.fromEntries(Object.entries(r.metrics).filter(([k]) => !k.endsWith('|m=3'))) }
        : r,
    );
    const fig = buildFigure(summarise(recs, syntheticSpec({}, ['tanh', 'sigmoid']), { bootstrap: 50 }));
    const titled = (fig.layout.annotations as { text: string; y: number }[]).filter((a) => a.text.startsWith('<b>'));
    const y = (t: string) => titled.filter((a) => a.text === t).map((a) => a.y);
    const [losses, two, three] = [
      '<b>sigmoid gate · Losses</b>',
      '<b>sigmoid gate · Parameter errors, 2-atom cells</b>',
      '<b>sigmoid gate · Parameter errors, 3-atom cells</b>',
    ].map(y);
    expect(three).toHaveLength(1);
    // paper y grows upwards: the losses' row on top, the 3-atom row at the bottom
    expect(losses[0]!).toBeGreaterThan(two[0]!);
    expect(two[0]!).toBeGreaterThan(three[0]!);
    expect(y('<b>tanh gate · Losses</b>')).toEqual(losses);
  });

  it("treats values below 1e-12 of a metric's largest as 0: a rounding residue does not stretch its axis", () => {
    const recs = syntheticRecords({
      ns: [1000, 3000, 10000],
      reps: 20,
      sigma: 0,
      metrics: { 'beta1|m=1': () => 1, 'a|m=1': (n) => n ** -0.5 },
    }).map((r) => (r.rep < 3 ? { ...r, metrics: { ...r.metrics, 'beta1|m=1': 1e-16 } } : r));
    const fig = buildFigure(summarise(recs, syntheticSpec({}), { bootstrap: 20 }));
    const band = fig.data.find((t) => t.name === 'β₁ 5–95%')!;
    const ys = (band.y as (number | null)[]).filter((v) => v !== null);
    expect(Math.min(...ys)).toBeGreaterThan(1e-12);
    expect((band.y as (number | null)[]).some((v) => v === null)).toBe(true);
  });

  it('draws the spread band, means, medians, fit and theory line; the duplicate loss only once', () => {
    const d2 = figure.data.filter((t) => String(t.legendgroup).endsWith(':D2'));
    expect(d2.map((t) => t.name)).toEqual([
      'D₂ = loss 5–95%',
      'D₂ = loss median',
      'D₂ = loss mean',
      expect.stringMatching(
        /^D₂ = loss: .*n<sup>.* · theory −1\/2 · <b><span style="color:#117733">confirmed<\/span><\/b>$/,
      ),
      'D₂ = loss theory: n<sup>−1/2</sup>',
    ]);
    expect(figure.data.some((t) => String(t.legendgroup).endsWith(':loss'))).toBe(false);
    const m = summary.metrics.find((x) => x.metric === 'D2')!;
    const band = d2[0] as { x: number[]; y: number[] };
    expect(band.x).toEqual([...m.points.map((p) => p.n), ...m.points.map((p) => p.n).reverse()]);
    expect(band.y[0]).toBe(m.points[0].q95);
    expect(band.y[band.y.length - 1]).toBe(m.points[0].q05);
    // the theory line goes through the geometric centre of the means with the predicted slope
    const th = d2[4] as { x: number[]; y: number[] };
    const k = (Math.log(th.y[1]) - Math.log(th.y[0])) / (Math.log(th.x[1]) - Math.log(th.x[0]));
    expect(k).toBeCloseTo(-0.5, 12);
    const lx = m.points.reduce((s, p) => s + Math.log(p.n), 0) / m.points.length;
    const ly = m.points.reduce((s, p) => s + Math.log(p.mean), 0) / m.points.length;
    expect(Math.log(th.y[0]) + k * (lx - Math.log(th.x[0]))).toBeCloseTo(ly, 10);
    // the fit line is the summary's law
    const fit = d2[3] as { x: number[]; y: number[] };
    expect(fit.y[1]).toBeCloseTo(Math.exp(m.mean.intercept + m.mean.slope * Math.log(fit.x[1])), 12);
  });

  it('says in the subtitle how many cells failed or did not converge, and how it was initialised', () => {
    const sub = (figure.layout.annotations as { text: string }[]).map((a) => a.text).join('\n');
    expect(sub).toMatch(/50 cells: 1 failed, 0 not converged \(kept\)/);
    expect(sub).toMatch(/init: near-truth \(shrinking noise\)/);
    expect(sub).not.toMatch(/prefitted/);
  });

  it('says when the starts were prefitted on a subsample (em.prefit), per model where they differ', () => {
    const pre = summarise(records, { ...spec, em: { ...spec.em, prefit: 10 } }, { bootstrap: 0 });
    const label = spec.models[0]!.label;
    expect(pre.prefit).toEqual({ [label]: 10 });
    const text = (f: ReturnType<typeof buildFigure>): string =>
      (f.layout.annotations as { text: string }[]).map((a) => a.text).join('\n');
    expect(text(buildFigure(pre))).toMatch(/starts prefitted on 1 sample in 10/);
    const two = { ...pre, prefit: { tanh: 10 }, cellsByModel: { tanh: pre.cells, sigmoid: pre.cells } };
    expect(text(buildFigure(two))).toMatch(/starts prefitted: tanh on 1 sample in 10/);
  });

  it('says when the experts share one variance (em.variance), naming the models where not all do', () => {
    const text = (f: ReturnType<typeof buildFigure>): string =>
      (f.layout.annotations as { text: string }[]).map((a) => a.text).join('\n');
    expect(summarise(records, spec, { bootstrap: 0 }).variance).toBeUndefined();
    expect(text(figure)).not.toMatch(/variance/);
    const eq = summarise(records, { ...spec, em: { ...spec.em, variance: 'equal' } }, { bootstrap: 0 });
    const label = spec.models[0]!.label;
    expect(eq.variance).toEqual({ [label]: 'equal' });
    expect(text(buildFigure(eq))).toMatch(/one variance shared by the experts(?! \()/);
    const two = { ...eq, variance: { tanh: 'equal' as const }, cellsByModel: { tanh: eq.cells, sigmoid: eq.cells } };
    expect(text(buildFigure(two))).toMatch(/one variance shared by the experts \(tanh\)/);
  });
});

describe('plot files', () => {
  it('writes a standalone HTML page with the plotly bundle and the figure inlined', () => {
    const p = join(dir, 'plot.html');
    writePlotHtml(p, figure, 'synthetic', { notes: 'table <here>' });
    const html = readFileSync(p, 'utf8');
    const bundle = readFileSync(plotlyBundlePath(), 'utf8');
    expect(html.length).toBeGreaterThan(bundle.length);
    expect(html).toContain(bundle.slice(0, 2000));
    expect(html).toContain(bundle.slice(-2000));
    expect(html).not.toMatch(/<script[^>]+src=/); // nothing to fetch
    expect(html).toContain('Plotly.newPlot(');
    const embedded = JSON.parse(/const figure = (.*);\n/.exec(html)![1]);
    expect(embedded).toEqual(JSON.parse(JSON.stringify(figure)));
    expect(html).toContain('table &lt;here&gt;');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    // a missing directory in writeFileAtomic's words, nothing left behind
    expect(() => writePlotHtml(join(dir, 'nodir', 'p.html'), figure, 't')).toThrow(
      `cannot write ${join(dir, 'nodir', 'p.html')}: directory ${join(dir, 'nodir')} does not exist`,
    );
  });

  it('reports a missing browser instead of throwing, and writes nothing', async () => {
    const p = join(dir, 'none.png');
    const r = await renderPng(figure, p, { executablePath: join(dir, 'no-chromium') });
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.reason).toMatch(/Chromium not found/);
    expect(existsSync(p)).toBe(false);
  });

  it.skipIf(!existsSync(CHROMIUM_PATH))('renders a real PNG with headless Chromium', async () => {
    const p = join(dir, 'plot.png');
    const r = await renderPng(figure, p, { scale: 1 });
    expect(r).toEqual({ ok: true });
    const png = readFileSync(p);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR: the image has the figure's size
    expect(png.readUInt32BE(16)).toBe(figure.layout.width);
    expect(png.readUInt32BE(20)).toBe(figure.layout.height);
    expect(statSync(p).size).toBeGreaterThan(30_000); // three panels of curves, not a blank page
  });
});

describe('log axes over many powers of ten', () => {
  it('label every power up to 8 decades, then every m-th (minor ticks at the others)', () => {
    const minor = (a: Record<string, unknown>) => (a.minor as Record<string, unknown>).dtick;
    // one decade: plotly's own ticks
    expect(axisStyle([2, 30]).dtick).toBeUndefined();
    // 10⁻² … 10⁴ (7 powers): each labelled, minor ticks at 2..9
    expect(axisStyle([0.01, 2e4]).dtick).toBe(1);
    expect(minor(axisStyle([0.01, 2e4]))).toBe('D1');
    expect(axisStyle([1e-3, 1e4]).dtick).toBe(1); // 8 powers: still each
    // topk-over's parameter panel at 3 724 replications: 10⁻¹⁵ … 10⁸ (24 powers) → every 3rd labelled
    const wide = axisStyle([3e-16, 4e8]);
    expect(wide.dtick).toBe(3);
    expect(minor(wide)).toBe(1);
    for (const [lo, hi] of [
      [1e-17, 1e9],
      [1e-30, 1e30],
      [1e-9, 1e9],
    ] as const) {
      const decades = Math.floor(Math.log10(hi)) - Math.ceil(Math.log10(lo)) + 1;
      expect(Math.ceil(decades / (axisStyle([lo, hi]).dtick as number))).toBeLessThanOrEqual(MAX_DECADE_LABELS);
    }
  });
});

describe('near-equal curves', () => {
  // top-K's loss differs from D2 by ≈ 2 %: two metrics, two lines, one on top of the other
  const withLoss = (factor: (n: number) => number) =>
    summarise(
      records.map((r) =>
        r.status === 'ok' ? { ...r, metrics: { ...r.metrics, loss: factor(r.n) * r.metrics.D2 } } : r,
      ),
      spec,
      { bootstrap: 0 },
    );
  const fitTrace = (f: ReturnType<typeof buildFigure>, metric: string) =>
    f.data.find((t) => String(t.legendgroup).endsWith(`:${metric}`) && t.showlegend === true) as {
      name: string;
      line: { width: number };
    };

  it('draws the covered line wide beneath the other and says so in its legend entry', () => {
    const f = buildFigure(withLoss(() => 1.02));
    const d2 = fitTrace(f, 'D2');
    const loss = fitTrace(f, 'loss');
    expect(d2.line.width).toBeGreaterThan(2 * loss.line.width);
    expect(d2.name).toContain("wide line: under loss's (within 10 %)");
    expect(loss.name).not.toContain('wide line');
  });

  it('leaves lines apart by more than 10 % at either end as they are', () => {
    // apart everywhere; together at the smallest n only; together at the largest n only (n 100–10 000)
    const s = Math.log(1.3) / Math.log(100);
    for (const factor of [() => 1.3, (n: number) => (n / 100) ** s, (n: number) => (10000 / n) ** s]) {
      const f = buildFigure(withLoss(factor));
      const d2 = fitTrace(f, 'D2');
      expect(d2.line.width).toBe(fitTrace(f, 'loss').line.width);
      expect(d2.name).not.toContain('wide line');
    }
  });
});

describe('n axes with fewer than two powers of ten', () => {
  const panel = (ns: number[]) =>
    ({ metrics: [{ ms: { points: ns.map((n) => ({ n })) } }] }) as unknown as Parameters<typeof designTicks>[0];

  it("label the design's sizes, upright", () => {
    expect(designTicks(panel([1000, 2236, 5000]))).toMatchObject({
      tickvals: [1000, 2236, 5000],
      ticktext: ['1000', '2236', '5000'],
      tickangle: 0,
    });
  });

  it('thin sizes that would crowd, and leave wider spans to the powers of ten', () => {
    const t = designTicks(panel([1000, 1050, 1100, 2000, 2100, 5000])).tickvals as number[];
    expect(t).toEqual([1000, 2000, 5000]);
    // two powers of ten inside: plotly's 10³, 10⁴ stand; one or none: the design's sizes
    expect(designTicks(panel([500, 1000, 1e5]))).toEqual({});
    expect(designTicks(panel([1000, 10000]))).toEqual({});
    expect(designTicks(panel([1001, 99999]))).toMatchObject({ tickvals: [1001, 99999] });
    expect(designTicks(panel([2000, 9000]))).toMatchObject({ tickvals: [2000, 9000] });
  });
});
