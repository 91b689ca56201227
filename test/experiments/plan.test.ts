import { describe, expect, it } from 'vitest';
import {
  cellKey,
  cellSeed,
  dataSeed,
  initSeed,
  parseShard,
  planCells,
  shardCells,
  sortRecords,
} from '../../src/experiments/plan.js';
import { validateSpec } from '../../src/experiments/spec.js';
import { deriveSeed } from '../../src/random/seed.js';

const spec = validateSpec({
  name: 'plan',
  truth: 'temp',
  models: [
    { label: 'identity', gate: { kind: 'temperature' }, k: 2 },
    { label: 'tanh', gate: { kind: 'activation', activation: 'tanh' }, k: 2, truth: 'temp-tanh' },
  ],
  n: [300, 100, 200],
  replications: 3,
  seed: 11,
});

describe('planCells', () => {
  it('lists every (n, rep, model) once, sorted by (n, rep, model), with seed deriveSeed(master, n, rep)', () => {
    const cells = planCells(spec);
    expect(cells.length).toBe(3 * 3 * 2);
    expect(new Set(cells.map((c) => cellKey(c.label, c.n, c.rep))).size).toBe(cells.length);
    expect(cells.slice(0, 3).map((c) => [c.n, c.rep, c.label])).toEqual([
      [100, 0, 'identity'],
      [100, 0, 'tanh'],
      [100, 1, 'identity'],
    ]);
    for (const c of cells) expect(c.seed).toBe(deriveSeed(11, c.n, c.rep));
    // both models of a cell share its seed (common random numbers)
    expect(cells[0]!.seed).toBe(cells[1]!.seed);
  });

  it('a cell seed depends on (master, n, rep) only: more replications keep the first ones', () => {
    const more = planCells({ ...spec, replications: 5 });
    const few = planCells(spec);
    for (const c of few)
      expect(more.find((m) => m.n === c.n && m.rep === c.rep && m.label === c.label)!.seed).toBe(c.seed);
    expect(cellSeed(11, 100, 0)).not.toBe(cellSeed(12, 100, 0));
    expect(dataSeed(7)).not.toBe(initSeed(7));
  });
});

describe('shards', () => {
  it('parses i/N and rejects the rest naming --shard', () => {
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    for (const bad of ['0/3', '4/3', '1/0', 'a/b', '1', '1.5/3'])
      expect(() => parseShard(bad)).toThrow(`--shard must be i/N with 1 ≤ i ≤ N (e.g. 2/8). Value: ${bad}`);
  });

  it('N shards partition the cells, round-robin over the sorted order', () => {
    const cells = planCells(spec);
    for (const N of [1, 2, 3, 7, 40]) {
      const parts = Array.from({ length: N }, (_, t) => shardCells(cells, { index: t + 1, count: N }));
      const keys = parts.flat().map((c) => cellKey(c.label, c.n, c.rep));
      expect(keys.length).toBe(cells.length);
      expect(new Set(keys).size).toBe(cells.length);
      const sizes = parts.map((p) => p.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(shardCells(cells, { index: 2, count: 3 })[0]).toEqual(cells[1]);
  });
});

describe('sortRecords', () => {
  it('orders by (model in spec order, n, rep), whatever the input order', () => {
    const recs = planCells(spec).map((c) => ({ model: c.label, n: c.n, rep: c.rep }));
    const shuffled = [...recs].reverse();
    const sorted = sortRecords(shuffled, spec);
    expect(sorted[0]).toEqual({ model: 'identity', n: 100, rep: 0 });
    expect(sorted.at(-1)).toEqual({ model: 'tanh', n: 300, rep: 2 });
    expect(sorted.slice(0, 9).every((r) => r.model === 'identity')).toBe(true);
    expect(
      sortRecords(
        [...recs].sort(() => 0),
        spec,
      ),
    ).toEqual(sorted);
  });
});
