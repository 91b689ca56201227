import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyseRun, mergeRuns, runSweep } from '../../src/experiments/runner.js';
import { readResults, readRunMeta, recordFingerprint } from '../../src/experiments/store.js';
import { planCells } from '../../src/experiments/plan.js';
import { validateSpec } from '../../src/experiments/spec.js';
import type { CellRecord } from '../../src/experiments/types.js';
import { tempDir } from '../helpers/temp-dir.js';

const FAKE = new URL('./fixtures/fake-cell.ts', import.meta.url).href;
const tmp = () => tempDir('runner');

const spec = validateSpec({
  name: 'fake',
  truth: 'demy',
  models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
  n: { from: 100, to: 10000, count: 5, spacing: 'log' },
  replications: 4,
  theory: { D1: { exponent: -0.5 } },
  seed: 5,
});

/**
 * results.jsonl as compared between runs: lines sorted, each without its `seconds` (wall time is
 * the one field that legitimately differs between identical runs).
 */
function comparable(dir: string): string {
  const text = readFileSync(join(dir, 'results.jsonl'), 'utf8');
  const lines = text.split('\n').filter((l) => l !== '');
  return lines
    .map((l) => recordFingerprint(JSON.parse(l) as CellRecord))
    .sort()
    .join('\n');
}

describe('runSweep', () => {
  it('same spec → identical results.jsonl (sorted, without seconds) and byte-identical summary.json with 1 and 2 workers and with 3 merged shards', async () => {
    const root = tmp();
    const one = join(root, 'one');
    const two = join(root, 'two');
    const r1 = await runSweep(spec, { outDir: one, workers: 1, evaluator: FAKE, plots: 'none' });
    const r2 = await runSweep(spec, { outDir: two, workers: 2, evaluator: FAKE, plots: 'none' });
    expect([r1.total, r1.ran, r1.failed, r1.interrupted]).toEqual([20, 20, 0, false]);
    expect(r2.ran).toBe(20);
    const shards = [1, 2, 3].map((i) => join(root, `shard-${i}`));
    for (const [t, dir] of shards.entries()) {
      const r = await runSweep(spec, {
        outDir: dir,
        workers: 2,
        evaluator: FAKE,
        plots: 'none',
        shard: { index: t + 1, count: 3 },
      });
      expect(r.total).toBe(t === 2 ? 6 : 7);
      expect(readRunMeta(dir).shard).toEqual({ index: t + 1, count: 3 });
    }
    const merged = join(root, 'merged');
    const m = await mergeRuns(shards, merged, { plots: 'none' });
    expect([m.cells, m.missing, m.duplicates]).toEqual([20, 0, 0]);

    const base = comparable(one);
    expect(base.split('\n').length).toBe(20);
    expect(comparable(two)).toBe(base);
    expect(comparable(merged)).toBe(base);
    // the raw lines really differ in seconds: the comparison is not vacuous
    expect(readFileSync(join(one, 'results.jsonl'), 'utf8')).toContain('"seconds":');
    const summary = readFileSync(join(one, 'summary.json'), 'utf8');
    expect(readFileSync(join(two, 'summary.json'), 'utf8')).toBe(summary);
    expect(readFileSync(join(merged, 'summary.json'), 'utf8')).toBe(summary);
    // the merged file is sorted by (model, n, rep)
    const recs = readResults(join(merged, 'results.jsonl')).records;
    expect(recs.map((r) => [r.n, r.rep])).toEqual(planCells(spec).map((c) => [c.n, c.rep]));
    // a run's summary reads as that of the fake 2·n^-1/2 losses
    const d1 = r1.analysis!.summary.metrics.find((x) => x.metric === 'D1')!;
    expect(d1.mean.slope).toBeGreaterThan(-0.7);
    expect(d1.mean.slope).toBeLessThan(-0.3);
    expect(r1.analysis!.table).toContain('D1');
    expect(existsSync(join(one, 'summary.txt'))).toBe(true);
  });

  it('a throwing cell becomes a failed record, and the sweep goes on', async () => {
    const dir = join(tmp(), 'fail');
    const r = await runSweep(
      { ...spec, name: 'fake-fail' },
      { outDir: dir, workers: 2, evaluator: FAKE, plots: 'none' },
    );
    expect([r.ran, r.failed]).toEqual([20, 1]);
    const failed = readResults(join(dir, 'results.jsonl')).records.filter((x) => x.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ n: 100, rep: 1, status: 'failed', error: 'fit exploded', metrics: {} });
    expect(r.analysis!.summary.cells.failed).toBe(1);
  });

  it("refuses a script's bad options before any cell runs, naming the option", async () => {
    const dir = join(tmp(), 'run');
    const small = { ...spec, replications: 1 };
    const bad = (options: unknown) => runSweep(small, options as Parameters<typeof runSweep>[1]);
    await expect(bad(undefined)).rejects.toThrow(/^options\.outDir must name the sweep directory\. Value: undefined$/);
    await expect(bad({ workers: 1 })).rejects.toThrow(/^options\.outDir must name the sweep directory/);
    // a typo drew no PNG, silently, after the whole sweep had run
    await expect(bad({ outDir: dir, evaluator: FAKE, plots: 'png' })).rejects.toThrow(
      /^plots must be one of html\+png, html, none\. Value: "png"$/,
    );
    expect(existsSync(dir)).toBe(false);
    await expect(analyseRun(dir, { plots: 'svg' as 'html' })).rejects.toThrow(/^plots must be one of/);
  });

  it('refuses to overwrite a sweep, and to resume a different spec or shard', async () => {
    const dir = join(tmp(), 'run');
    const small = { ...spec, replications: 1 };
    await runSweep(small, { outDir: dir, workers: 1, evaluator: FAKE, plots: 'none' });
    await expect(runSweep(small, { outDir: dir, workers: 1, evaluator: FAKE, plots: 'none' })).rejects.toThrow(
      /already holds a sweep.*--resume.*\(library: the options resume and outDir\)/,
    );
    await expect(
      runSweep(
        { ...small, replications: 2 },
        { outDir: dir, resume: true, workers: 1, evaluator: FAKE, plots: 'none' },
      ),
    ).rejects.toThrow(/cannot resume .*its spec differs from this one \(first difference: replications\)/);
    await expect(
      runSweep(small, {
        outDir: dir,
        resume: true,
        shard: { index: 1, count: 2 },
        workers: 1,
        evaluator: FAKE,
        plots: 'none',
      }),
    ).rejects.toThrow(/it ran shard none, not 1\/2/);
    const again = await runSweep(small, { outDir: dir, resume: true, workers: 1, evaluator: FAKE, plots: 'none' });
    expect([again.ran, again.resumed]).toEqual([0, 5]);
  });

  it('merge rejects different specs and conflicting duplicates, and keeps identical duplicates once', async () => {
    const root = tmp();
    const small = { ...spec, replications: 1 };
    await runSweep(small, { outDir: join(root, 'a'), workers: 1, evaluator: FAKE, plots: 'none' });
    await runSweep(small, { outDir: join(root, 'b'), workers: 1, evaluator: FAKE, plots: 'none' });
    await runSweep({ ...small, seed: 6 }, { outDir: join(root, 'c'), workers: 1, evaluator: FAKE, plots: 'none' });
    await expect(mergeRuns([join(root, 'a'), join(root, 'c')], join(root, 'x'))).rejects.toThrow(
      /specs differ \(first difference: seed\)/,
    );
    expect(existsSync(join(root, 'x'))).toBe(false);
    const m = await mergeRuns([join(root, 'a'), join(root, 'b')], join(root, 'ab'), { plots: 'none' });
    expect([m.cells, m.duplicates]).toEqual([5, 5]);
    await expect(mergeRuns([join(root, 'a')], join(root, 'a'))).rejects.toThrow(/must not be one of the merged/);
  });

  it('reports progress with a work-weighted ETA, and analyseRun re-analyses a directory', async () => {
    const dir = join(tmp(), 'p');
    const seen: number[] = [];
    let eta: number | undefined;
    await runSweep(spec, {
      outDir: dir,
      workers: 2,
      evaluator: FAKE,
      plots: 'none',
      onProgress: (p) => {
        seen.push(p.done);
        eta = p.eta;
        expect(p.total).toBe(20);
      },
    });
    expect(seen).toEqual(Array.from({ length: 20 }, (_, t) => t + 1));
    expect(eta).toBe(0);
    const before = readFileSync(join(dir, 'summary.json'), 'utf8');
    const again = await analyseRun(dir, { plots: 'none' });
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(before);
    expect(again.summary.cells.total).toBe(20);
  });
});
