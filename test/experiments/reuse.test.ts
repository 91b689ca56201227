/**
 * `--reuse DIR`: a new sweep takes the cells an earlier one computed the same way, and its results
 * are those of a run that computed every cell itself.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../src/experiments/runner.js';
import { cellDefinition, reusableCount } from '../../src/experiments/reuse.js';
import { validateSpec } from '../../src/experiments/spec.js';
import { recordFingerprint, readRunMeta } from '../../src/experiments/store.js';
import type { CellRecord, ExperimentSpec } from '../../src/experiments/types.js';
import { packageInfo } from '../../src/io/index.js';
import { tempDir } from '../helpers/temp-dir.js';

const FAKE = new URL('./fixtures/fake-cell.ts', import.meta.url).href;

const base = validateSpec({
  name: 'fake',
  truth: 'demy',
  models: [{ label: 'softmax', gate: { kind: 'softmax' }, k: 2 }],
  n: [100, 300, 1000],
  replications: 3,
  theory: { D1: { exponent: -0.5 } },
  seed: 5,
});
const respec = (over: Partial<ExperimentSpec>) => validateSpec({ ...base, ...over });

const records = (dir: string): string[] =>
  readFileSync(join(dir, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => recordFingerprint(JSON.parse(l) as CellRecord))
    .sort();
// summary.json but for its provenance (time, commit) and the plan (its costs are timed)
const summary = (dir: string) => {
  const { provenance: _p, plan: _q, ...rest } = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  return JSON.stringify(rest);
};

describe('runSweep({ reuse })', () => {
  it('more replications and a wider n grid: the earlier cells taken, the results those of a fresh run', async () => {
    const root = tempDir('reuse');
    const old = join(root, 'old');
    await runSweep(base, { outDir: old, workers: 1, evaluator: FAKE, plots: 'none' });
    const wider = respec({ name: 'fake-more', n: [100, 300, 1000, 3000], replications: 5, theory: {} });
    const notices: string[] = [];
    const r = await runSweep(wider, {
      outDir: join(root, 'new'),
      workers: 2,
      evaluator: FAKE,
      plots: 'none',
      reuse: [old],
      onNotice: (l) => notices.push(l),
    });
    expect(r).toMatchObject({ total: 20, ran: 11, reused: 9, resumed: 0, failed: 0, interrupted: false });
    expect(notices).toContain(`reusing 9 of 20 cells from ${old} (9)`);
    await runSweep(wider, { outDir: join(root, 'fresh'), workers: 1, evaluator: FAKE, plots: 'none' });
    expect(records(join(root, 'new'))).toEqual(records(join(root, 'fresh')));
    expect(summary(join(root, 'new'))).toBe(summary(join(root, 'fresh')));
    // the reused lines are the old lines, seconds included
    const oldLines = new Set(readFileSync(join(old, 'results.jsonl'), 'utf8').split('\n'));
    const kept = readFileSync(join(root, 'new', 'results.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => oldLines.has(l) && l !== '');
    expect(kept).toHaveLength(9);
    expect(readRunMeta(join(root, 'new')).reusedFrom).toEqual([expect.objectContaining({ dir: old, cells: 9 })]);
    expect(reusableCount(wider, old, { gmoe: packageInfo().version })).toBe(9);
  });

  it('failed cells run again; a shard takes only its own cells; two directories: a cell from the first', async () => {
    const root = tempDir('reuse');
    const failing = join(root, 'failing');
    await runSweep(respec({ name: 'fake-fail' }), { outDir: failing, workers: 1, evaluator: FAKE, plots: 'none' });
    const again = await runSweep(base, {
      outDir: join(root, 'again'),
      workers: 1,
      evaluator: FAKE,
      plots: 'none',
      reuse: [failing],
    });
    expect(again).toMatchObject({ ran: 1, reused: 8, failed: 0 });

    const half = await runSweep(base, {
      outDir: join(root, 'half'),
      workers: 1,
      evaluator: FAKE,
      plots: 'none',
      shard: { index: 1, count: 2 },
      reuse: [join(root, 'again'), failing],
    });
    expect(half.ran).toBe(0);
    expect(half.reused).toBe(half.total);
    expect(readRunMeta(join(root, 'half')).reusedFrom!.map((f) => f.cells)).toEqual([half.total, 0]);
  });

  it('refuses, writing nothing: a spec fitted otherwise, another gmoe version', async () => {
    const root = tempDir('reuse');
    const old = join(root, 'old');
    await runSweep(base, { outDir: old, workers: 1, evaluator: FAKE, plots: 'none' });
    const out = join(root, 'out');
    const go = (spec: ExperimentSpec, extra = {}) =>
      runSweep(spec, { outDir: out, workers: 1, evaluator: FAKE, plots: 'none', reuse: [old], ...extra });
    await expect(go(respec({ em: { maxIter: 50 } }))).rejects.toThrow(
      /cannot reuse .*old: its spec differs in em, which decides every cell/,
    );
    await expect(go(respec({ seed: 6 }))).rejects.toThrow(/differs in seed/);
    await expect(go(respec({ truth: 'd2' }))).rejects.toThrow(/differs in truth/);
    expect(existsSync(out)).toBe(false);

    const meta = JSON.parse(readFileSync(join(old, 'spec.json'), 'utf8'));
    meta.provenance.gmoe = '0.0.1';
    writeFileSync(join(old, 'spec.json'), JSON.stringify(meta));
    await expect(go(base)).rejects.toThrow(/computed by gmoe 0\.0\.1, this is /);
    expect(existsSync(out)).toBe(false);
    expect(reusableCount(base, old, { gmoe: packageInfo().version })).toBe(0);
  });

  it('with resume (a Slurm task, every start): a new directory reuses, one that holds the sweep resumes', async () => {
    const root = tempDir('reuse');
    const old = join(root, 'old');
    await runSweep(base, { outDir: old, workers: 1, evaluator: FAKE, plots: 'none' });
    const more = respec({ replications: 5 });
    const opts = { outDir: join(root, 'task'), workers: 1, evaluator: FAKE, plots: 'none' as const, resume: true };
    const said: string[] = [];
    const first = await runSweep(more, { ...opts, reuse: [old], onNotice: (l) => said.push(l) });
    expect(first).toMatchObject({ ran: 6, reused: 9, resumed: 0 });
    expect(said[0]).toBe(`nothing to resume in ${opts.outDir} (no spec.json): starting a new sweep there`);
    const notices: string[] = [];
    const again = await runSweep(more, { ...opts, reuse: [old], onNotice: (l) => notices.push(l) });
    expect(again).toMatchObject({ ran: 0, reused: 0, resumed: 15 });
    expect(notices[0]).toBe(
      `${opts.outDir} holds a sweep: resumed as it is (--reuse takes cells into a new directory only)`,
    );
  });

  it('a model fitted otherwise is not reused (noticed); the others are', async () => {
    const root = tempDir('reuse');
    const two = respec({
      models: [
        { label: 'exact', gate: { kind: 'softmax' }, k: 2 },
        { label: 'over', gate: { kind: 'softmax' }, k: 3 },
      ],
      theory: {},
    });
    const old = join(root, 'old');
    await runSweep(two, { outDir: old, workers: 1, evaluator: FAKE, plots: 'none' });
    const changed = respec({
      models: [
        { label: 'exact', gate: { kind: 'softmax' }, k: 2 },
        { label: 'over', gate: { kind: 'softmax' }, k: 4 },
      ],
      theory: {},
    });
    expect(cellDefinition(changed, 'exact')).toBe(cellDefinition(two, 'exact'));
    expect(cellDefinition(changed, 'over')).not.toBe(cellDefinition(two, 'over'));
    const notices: string[] = [];
    const r = await runSweep(changed, {
      outDir: join(root, 'new'),
      workers: 1,
      evaluator: FAKE,
      plots: 'none',
      reuse: [old],
      onNotice: (l) => notices.push(l),
    });
    expect(r).toMatchObject({ ran: 9, reused: 9 });
    expect(notices).toContain(`${old}: model over not reused (not fitted the same way here)`);
    // a model the new spec does not fit is not planned: no word about it
    const lone: string[] = [];
    const exact = respec({ models: [two.models[0]!] });
    await runSweep(exact, {
      outDir: join(root, 'exact'),
      workers: 1,
      evaluator: FAKE,
      plots: 'none',
      reuse: [old],
      onNotice: (l) => lone.push(l),
    });
    expect(lone.filter((l) => l.includes('not reused'))).toEqual([]);
  });
});

describe('--reuse with the real cell', () => {
  it('one model of a two-model run, alone in the new spec: its metrics lose the label and equal a fresh fit to the bit', async () => {
    const root = tempDir('reuse');
    const two = validateSpec({
      name: 'real-two',
      truth: 'demy',
      models: [
        { label: 'exact', gate: { kind: 'softmax' }, k: 2 },
        { label: 'over', gate: { kind: 'softmax' }, k: 3 },
      ],
      n: [200, 400],
      replications: 1,
      record: { hellingerPoints: 100 },
      theory: {},
      seed: 3,
    });
    await runSweep(two, { outDir: join(root, 'two'), workers: 1, plots: 'none' });
    const alone = validateSpec({ ...two, name: 'real-one', models: [two.models[1]!], replications: 2 });
    const r = await runSweep(alone, {
      outDir: join(root, 'one'),
      workers: 1,
      plots: 'none',
      reuse: [join(root, 'two')],
    });
    expect(r).toMatchObject({ ran: 2, reused: 2 });
    await runSweep(alone, { outDir: join(root, 'fresh'), workers: 1, plots: 'none' });
    const one = records(join(root, 'one'));
    expect(one).toEqual(records(join(root, 'fresh')));
    expect(one.join('\n')).not.toMatch(/"over:/);
    expect(one.join('\n')).toMatch(/"D2":/);
  }, 60_000);
});
