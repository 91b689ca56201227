/** Populations of fits by Voronoi cell sizes: selection, the report's sub-directory, clear errors. */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listPopulations, parseCells, recordCells, selectPopulation } from '../../src/experiments/population.js';
import { analyseRun, runPopulations, runSweep } from '../../src/experiments/runner.js';
import { validateSpec } from '../../src/experiments/spec.js';
import type { CellRecord } from '../../src/experiments/types.js';
import { truthPreset } from '../../src/models/presets.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('population');

const truth = truthPreset('demy');
/** A record whose fit is demy's truth with true atom `split` (0 or 1) in two copies of half its weight. */
function splitRecord(split: number, rep: number): CellRecord {
  const rows = [0, 1, split].map((t) => ({
    beta0: truth.beta0[t]! - (t === split ? Math.log(2) : 0),
    beta1: [truth.beta1[t]!],
    a: [truth.a[t]!],
    b: truth.b[t]! + (t === split ? 0.01 * rep : 0),
    nu: truth.nu[t]!,
  }));
  return {
    n: 100,
    rep,
    seed: rep + 1,
    model: 'softmax',
    status: 'ok',
    metrics: { D2: 1 },
    logLik: -1,
    iterations: 1,
    converged: true,
    warnings: [],
    seconds: 0,
    fitted: {
      beta0: rows.map((r) => r.beta0),
      beta1: rows.map((r) => r.beta1),
      a: rows.map((r) => r.a),
      b: rows.map((r) => r.b),
      nu: rows.map((r) => r.nu),
    },
  };
}
const spec = validateSpec({
  name: 'pop',
  truth: 'demy',
  models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 3 }],
  n: [300, 600, 1200],
  replications: 6,
  loss: 'D2',
  record: { hellinger: false },
  em: { optimizer: 'hybrid' },
  theory: { D2: { exponent: -0.5, statistic: 'median' } },
  seed: 3,
});

describe('selectPopulation', () => {
  it('keeps the fits whose cells hold the given numbers of atoms, and counts the failed among those read', () => {
    const failed: CellRecord = { ...splitRecord(0, 9), status: 'failed', error: 'fit: boom', metrics: {} };
    delete failed.fitted;
    const records = [splitRecord(0, 0), splitRecord(1, 1), splitRecord(0, 2), failed];
    expect(recordCells(records[0]!, spec, truth)).toEqual([2, 1]);
    expect(recordCells(records[1]!, spec, truth)).toEqual([1, 2]);
    const a = selectPopulation(records, spec, [2, 1]);
    expect(a.records.map((r) => r.rep)).toEqual([0, 2]);
    expect(a.population).toEqual({ cells: [2, 1], kept: 2, of: 4 });
    expect(selectPopulation(records, spec, [1, 2]).records.map((r) => r.rep)).toEqual([1]);
    expect(listPopulations(records, spec)).toEqual([
      { cells: [2, 1], count: 2 },
      { cells: [1, 2], count: 1 },
    ]);
    // a population no fit has is an error that lists those the run has
    expect(() => selectPopulation(records, spec, [3, 0])).toThrow(
      /^--cells: no fit has Voronoi cells \(3, 0\); this run's fits have \(2, 1\) 2 · \(1, 2\) 1$/,
    );
  });

  it('says what is wrong: sizes per true atom, records without fitted parameters, a malformed --cells', () => {
    expect(() => selectPopulation([splitRecord(0, 0)], spec, [2, 1, 0])).toThrow(
      /^--cells must give one size per true atom: 2 for model softmax\. Value: 2,1,0$/,
    );
    const bare = splitRecord(0, 0);
    delete bare.fitted;
    expect(() => selectPopulation([bare], spec, [2, 1])).toThrow(/record\.fitted was false/);
    expect(parseCells('2, 1')).toEqual([2, 1]);
    for (const bad of ['', '2;1', '2,-1', '1.5,1', 'a'])
      expect(() => parseCells(bad)).toThrow(/^--cells must be comma-separated/);
  });
});

describe('analyseRun with cells', () => {
  const run = join(dir, 'run');
  beforeAll(async () => {
    await runSweep(spec, { outDir: run, workers: 1, plots: 'none' });
  }, 120_000);

  it("writes the population's summary into cells-<sizes>/ and leaves the whole run's summary as it was", async () => {
    const whole = readFileSync(join(run, 'summary.json'), 'utf8');
    const a = await analyseRun(run, { cells: [2, 1], plots: 'html' });
    const b = await analyseRun(run, { cells: [1, 2], plots: 'none' });
    expect(readFileSync(join(run, 'summary.json'), 'utf8')).toBe(whole);
    expect(existsSync(join(run, 'cells-2-1', 'summary.json'))).toBe(true);
    expect(existsSync(join(run, 'cells-2-1', 'plot.html'))).toBe(true);
    expect(a.files.every((f) => f.startsWith(join(run, 'cells-2-1')))).toBe(true);
    const pa = a.summary.population!;
    const pb = b.summary.population!;
    expect(pa.of).toBe(18);
    expect(pa.kept + pb.kept).toBeLessThanOrEqual(18);
    // real over-specified fits end in both populations (else this test shows nothing)
    expect(pa.kept).toBeGreaterThan(0);
    expect(pb.kept).toBeGreaterThan(0);
    expect(a.summary.cells.total).toBe(pa.kept);
    expect(a.table.split('\n')[1]).toBe(
      `only fits whose Voronoi cells hold (2, 1) fitted atoms: ${pa.kept} of 18 — chosen by the fits' outcome, so the rates are conditional`,
    );
    expect(readFileSync(join(run, 'cells-2-1', 'plot.html'), 'utf8')).toContain(
      'only fits whose Voronoi cells hold (2, 1)',
    );
    // the run's populations, as `--cells list` prints them
    const [{ model, populations: pops }] = runPopulations(run) as [ReturnType<typeof runPopulations>[number]];
    expect(model).toBe('softmax');
    expect(pops.map((p) => p.count).reduce((a, c) => a + c, 0)).toBe(18);
    expect(pops.find((p) => p.cells.join() === '2,1')?.count).toBe(pa.kept);
  });

  it('an absent population is refused before anything is written', async () => {
    await expect(analyseRun(run, { cells: [3, 0], plots: 'none' })).rejects.toThrow(
      /no fit has Voronoi cells \(3, 0\)/,
    );
    expect(existsSync(join(run, 'cells-3-0'))).toBe(false);
  });
});
