/** `gmoe compare`: several runs' rate rows side by side, each the run's own reading, matched by model and metric. */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { verdictFit } from '../../src/experiments/analysis/curve.js';
import {
  compareRuns,
  runComparisonCsv,
  runComparisonTable,
  type ComparedRun,
} from '../../src/experiments/analysis/run-comparison.js';
import { deltaFigure } from '../../src/experiments/plot/delta-figure.js';
import {
  figureRows,
  MAX_COMPARE_PANELS,
  RUN_COLOURS,
  runComparisonFigure,
} from '../../src/experiments/plot/run-comparison-figure.js';
import { modelView } from '../../src/experiments/analysis/model-view.js';
import { summarise } from '../../src/experiments/analysis/summarise.js';
import { loadRun, runSweep } from '../../src/experiments/runner.js';
import { validateSpec } from '../../src/experiments/spec.js';
import type { ExperimentSpec } from '../../src/experiments/types.js';
import { tempDir } from '../helpers/temp-dir.js';

const FAKE = new URL('./fixtures/fake-cell.ts', import.meta.url).href;
const BIN = fileURLToPath(new URL('../../bin/gmoe.js', import.meta.url));

function gmoe(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const base = {
  name: 'fake',
  truth: 'demy',
  models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
  n: [100, 300, 1000, 3000],
  replications: 4,
  theory: { D1: { exponent: -0.5 }, 'a|m=1': { exponent: -0.5, statistic: 'median' } },
  seed: 5,
};

async function run(root: string, name: string, over: Record<string, unknown>): Promise<ComparedRun> {
  const dir = join(root, name);
  await runSweep(validateSpec({ ...base, ...over }) as ExperimentSpec, {
    outDir: dir,
    workers: 1,
    evaluator: FAKE,
    plots: 'none',
  });
  const { meta, records, summary } = loadRun(dir);
  return { label: name, dir, spec: meta.spec, summary, records };
}

describe('compareRuns', () => {
  it("each run's slope, interval and verdict on the curve its verdict reads; a metric one run lacks is a gap", async () => {
    const root = tempDir('compare');
    const a = await run(root, 'few', {});
    const b = await run(root, 'more', { replications: 9, n: [300, 1000, 3000, 10000], seed: 6 });
    const c = compareRuns([a, b]);
    expect(c.rows.map((r) => r.key)).toEqual(a.summary.metrics.map((m) => m.metric));
    for (const row of c.rows)
      [a, b].forEach((r, t) => {
        const m = r.summary.metrics.find((x) => x.metric === row.key)!;
        const f = verdictFit(m);
        expect(row.cells[t]).toMatchObject({ slope: f.slope, ci: f.ci, ...(m.verdict ? { verdict: m.verdict } : {}) });
        expect(row.cells[t]!.verdict).toBe(m.verdict);
      });
    expect(c.rows.find((r) => r.key === 'a|m=1')!.cells[0]!.curve).toBe('median');
    expect(c.rows.find((r) => r.key === 'D1')!.cells[0]!.curve).toBe('mean');
    expect(c.runs.map((r) => [r.label, r.n[0], r.replications])).toEqual([
      ['few', 100, 4],
      ['more', 300, 9],
    ]);

    const table = runComparisonTable(c);
    expect(table).toContain('few: fake (');
    expect(table).toMatch(/^D1 +-1\/2 +-?\d\.\d\d \[/m);
    const csv = parse(runComparisonCsv(c), { columns: true }) as Record<string, string>[];
    expect(csv).toHaveLength(2 * c.rows.length);
    expect(Number(csv.find((x) => x.metric === 'D1' && x.run === 'more')!.slope)).toBe(c.rows[0]!.cells[1]!.slope);

    // a prediction that differs between the runs is said
    const other = await run(root, 'other', { theory: { D1: { exponent: -0.25 } } });
    const d = compareRuns([a, other], ['D1', 'a|m=1']);
    expect(d.rows.map((r) => [r.key, r.predictionsDiffer])).toEqual([
      ['D1', true],
      ['a|m=1', false],
    ]);
    expect(d.rows[1]!.cells[1]!.verdictText).toBe('');
    expect(() => compareRuns([a, b], ['D3'])).toThrow(/--metric must name a metric of the runs .*Value: D3/);
    expect(() => compareRuns([a])).toThrow(/at least two runs/);
  });

  it("each later run's slope minus the first's, its interval resampling the shared cells (same n and seed) as pairs", async () => {
    const root = tempDir('compare');
    const a = await run(root, 'few', {});
    // the same seed: its first 4 replications at n 300, 1000, 3000 are a's cells
    const b = await run(root, 'more', { replications: 9, n: [300, 1000, 3000, 10000] });
    const c = compareRuns([a, b]);
    expect(c.runs.map((r) => r.sharedWithFirst)).toEqual([undefined, 12]);
    for (const row of c.rows) {
      const d = row.deltas[1]!;
      expect(row.deltas[0]).toBeNull();
      expect(d.curve).toBe(row.cells[0]!.curve);
      expect(d.difference).toBeCloseTo(row.cells[1]!.slope - row.cells[0]!.slope, 12);
      expect([d.shared, d.own]).toEqual([12, [4, 24]]);
      expect(d.differs).toBe(d.ci[0] > 0 || d.ci[1] < 0);
    }
    const csv = parse(runComparisonCsv(c), { columns: true }) as Record<string, string>[];
    const d1 = csv.filter((x) => x.metric === 'D1');
    expect(d1.map((x) => x.delta_shared_cells)).toEqual(['', '12']);
    expect(Number(d1[1]!.delta)).toBe(c.rows.find((r) => r.key === 'D1')!.deltas[1]!.difference);
    expect(runComparisonTable(c)).toMatch(/^D1 .* [+-]?\d\.\d\d \[-?\d\.\d\d, -?\d\.\d\d\]( \*)?$/m);
    // without the cells: no differences, no column
    const bare = compareRuns([{ ...a, records: undefined }, b]);
    expect(bare.rows.every((r) => r.deltas.every((x) => x === null))).toBe(true);
    expect(runComparisonTable(bare)).not.toContain('Δ vs');
  });

  it('two models of one run (modelView): rows by bare name, every cell paired, the model-specific prediction kept', async () => {
    const root = tempDir('compare');
    const two = await run(root, 'two', {
      models: [
        { label: 'softmax', gate: { kind: 'softmax' }, k: 2 },
        { label: 'over', gate: { kind: 'softmax' }, k: 3 },
      ],
      theory: { 'over:D1': { exponent: -0.25 }, 'softmax:a|m=1': { exponent: -0.5, statistic: 'median' } },
    });
    const view = (label: string): ComparedRun => {
      const v = modelView(two.spec, two.records!, label);
      return { label, dir: two.dir, ...v, summary: summarise(v.records, v.spec) };
    };
    const [soft, over] = [view('softmax'), view('over')];
    expect(soft.records!.every((r) => r.model === 'softmax' && 'D1' in r.metrics)).toBe(true);
    expect(over.spec.theory).toEqual({ D1: { exponent: -0.25 } });
    expect(soft.spec.theory).toEqual({ 'a|m=1': { exponent: -0.5, statistic: 'median' } });
    const c = compareRuns([soft, over]);
    expect(c.rows.map((r) => r.key)).toEqual(['D1', 'loss', 'a|m=1']);
    expect(c.rows.every((r) => r.model === undefined)).toBe(true);
    expect(c.runs[1]!.sharedWithFirst).toBe(16);
    const d1 = c.rows[0]!;
    expect(d1.deltas[1]).toMatchObject({ shared: 16, own: [0, 0] });
    // the fake cells' values depend on the cell seed alone: two models of one run read the same ones
    expect(d1.deltas[1]!.difference).toBe(0);
    expect(d1.deltas[1]!.ci).toEqual([0, 0]);
    expect(() => modelView(two.spec, two.records!, 'nope')).toThrow(
      /fake has no model "nope" \(its models: softmax, over\)/,
    );
  });

  it("a one-model run lines up with the same model's rows of a run of several (label:metric)", async () => {
    const root = tempDir('compare');
    const lone = await run(root, 'lone', {});
    const two = await run(root, 'two', {
      models: [
        { label: 'softmax', gate: { kind: 'softmax' }, k: 2 },
        { label: 'over', gate: { kind: 'softmax' }, k: 3 },
      ],
      theory: { 'softmax:D1': { exponent: -0.5 } },
    });
    const c = compareRuns([lone, two]);
    const d1 = c.rows.find((r) => r.key === 'softmax:D1')!;
    expect(d1.cells.map((x) => x !== null)).toEqual([true, true]);
    expect(c.rows.find((r) => r.key === 'over:D1')!.cells[0]).toBeNull();
  });

  it("the differences' figure: a row per metric with a difference, a point and interval per later run, filled where it excludes 0", async () => {
    const root = tempDir('compare');
    const a = await run(root, 'a', {});
    const b = await run(root, 'b', { replications: 9 });
    const c = compareRuns([a, b]);
    const fig = deltaFigure(c, 'b against a')!;
    expect(fig.data).toHaveLength(1);
    const tr = fig.data[0] as { x: number[]; y: number[]; marker: { color: string[] }; customdata: string[] };
    const rows = c.rows.filter((r) => r.deltas[1]);
    expect(tr.x).toEqual(rows.map((r) => r.deltas[1]!.difference));
    expect((fig.layout.yaxis as { ticktext: string[] }).ticktext).toHaveLength(rows.length);
    expect(tr.marker.color).toEqual(rows.map((r) => (r.deltas[1]!.differs ? RUN_COLOURS[1] : 'white')));
    expect(tr.customdata[0]).toMatch(/cells paired$/);
    // a row whose interval is far wider than the others' does not set the range: its point sits on the frame, an arrow with its value
    const wide = structuredClone(c);
    wide.rows[0]!.deltas[1] = { ...wide.rows[0]!.deltas[1]!, difference: -40, ci: [-90, 10], differs: false };
    const w = deltaFigure(wide, 'wide')!.data[0] as { x: number[]; text: string[]; marker: { symbol: string[] } };
    const range = (deltaFigure(wide, 'wide')!.layout.xaxis as { range: [number, number] }).range;
    expect(range[0]).toBeGreaterThan(-40);
    expect([w.x[0], w.text[0], w.marker.symbol[0]]).toEqual([range[0], '-40.00'.replace('-', '−'), 'triangle-left']);
    // no differences (the runs' cells unknown): no figure
    expect(deltaFigure(compareRuns([{ ...a, records: undefined }, b]), 'none')).toBeNull();
  });

  it('the figure: one panel per row, each run in its colour; over MAX_COMPARE_PANELS rows, those two runs share and one predicts', async () => {
    const root = tempDir('compare');
    const a = await run(root, 'a', {});
    const b = await run(root, 'b', { seed: 8 });
    const c = compareRuns([a, b]);
    const fig = runComparisonFigure(c, 'a vs b');
    const panels = Object.keys(fig.layout).filter((k) => k.startsWith('yaxis'));
    expect(panels).toHaveLength(c.rows.length);
    const curves = c.rows.map((r) => r.cells[0]!.curve);
    expect(fig.data.filter((t) => t.mode === 'markers').map((t) => t.name)).toEqual(
      curves.flatMap((curve) => [`a: ${curve}`, `b: ${curve}`]),
    );
    // under each panel, b's difference to a
    const notes = (fig.layout.annotations as { text: string }[])
      .map((x) => x.text)
      .filter((x) => x.includes('Δ b − a: '));
    expect(notes).toHaveLength(c.rows.length);
    // many rows: the shared, predicted ones come first
    const many = {
      ...c,
      rows: [
        ...c.rows,
        ...Array.from({ length: MAX_COMPARE_PANELS }, (_, t) => ({
          ...c.rows[0]!,
          key: `x${t}`,
          prediction: undefined,
        })),
      ],
    };
    const drawn = figureRows(many);
    expect(drawn.map((r) => r.key)).toEqual(c.rows.filter((r) => r.prediction).map((r) => r.key));
  });
});

describe('gmoe compare', () => {
  it('prints the table, writes its files with --out; bad input exits 2 with one line', async () => {
    const root = tempDir('compare');
    const a = await run(root, 'a', {});
    await run(root, 'b', { replications: 6 });
    const out = join(root, 'cmp');
    const r = await gmoe(['compare', a.dir, join(root, 'b'), '--out', out, '--no-png']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^metric +predicted +a +verdict +b +verdict +Δ vs a$/m);
    expect(r.stdout).toContain('16 cells shared with a');
    expect(readdirSync(out).sort()).toEqual([
      'compare-delta.html',
      'compare.csv',
      'compare.html',
      'compare.json',
      'compare.txt',
    ]);
    const json = await gmoe(['compare', a.dir, join(root, 'b'), '--json', '--metric', 'D1']);
    // DIR:MODEL: one model of a run, labelled so
    const models = await gmoe(['compare', `${a.dir}:softmax`, join(root, 'b'), '--metric', 'D1']);
    expect(models.code, models.stderr).toBe(0);
    expect(models.stdout).toMatch(/^metric +predicted +a:softmax +verdict +b +verdict +Δ vs a:softmax$/m);
    expect(JSON.parse(json.stdout).rows.map((x: { key: string }) => x.key)).toEqual(['D1']);
    const cases: [string[], RegExp][] = [
      [['compare', a.dir], /compare needs at least two sweep directories/],
      [['compare', a.dir, join(root, 'nothing')], /nothing is not a sweep directory: no spec\.json/],
      [['compare', a.dir, join(root, 'b'), '--label', 'x'], /--label must give one non-empty label per run \(2\)/],
      [['compare', a.dir, join(root, 'b'), '--metric', 'D7'], /--metric must name a metric of the runs .*Value: D7/],
      [['compare', `${a.dir}:nope`, join(root, 'b')], /a:nope: fake has no model "nope" \(its models: softmax\)/],
      [
        // --metric's list runs to the next option: it took the directories
        ['compare', '--metric', 'D1', a.dir, join(root, 'b')],
        /^gmoe: --metric took .*a .*b as metric names \(its list runs to the next option\): put the arguments before --metric, or end its list with --$/m,
      ],
    ];
    for (const [args, re] of cases) {
      const e = await gmoe([...args, '--out', join(root, 'never')]);
      expect([e.code, e.stderr.trim().split('\n').length], args.join(' ')).toEqual([2, 1]);
      expect(e.stderr).toMatch(re);
    }
    expect(existsSync(join(root, 'never'))).toBe(false);
  }, 60_000);
});
