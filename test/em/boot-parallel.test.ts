/**
 * The bootstraps on worker threads (src/em/boot-parallel.ts, boot-pool.ts): the same result as the
 * sequential functions, byte for byte, for 1, 2 and 3 workers; errors in a worker as one line.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapLRT } from '../../src/em/boot-lrt.js';
import { bootstrapLRTParallel, bootstrapStandardErrorsParallel } from '../../src/em/boot-parallel.js';
import { openBootPool } from '../../src/em/boot-pool.js';
import { fitMoE } from '../../src/em/fit.js';
import { bootstrapStandardErrors } from '../../src/em/inference/boot-se.js';
import { createCpuBackend } from '../../src/em/backend/cpu.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import type { Dataset } from '../../src/models/types.js';

const asData = (s: Dataset): Dataset => ({ n: s.n, d: s.d, X: s.X, y: s.y });
const softmax = { kind: 'softmax' } as const;
const FIXTURE = { module: new URL('./fixtures/boot-task.ts', import.meta.url).href, name: 'squares' };

describe('boot pool', () => {
  it('results in order of b whatever the completion order; progress sees every sample once', async () => {
    const pool = await openBootPool(FIXTURE, 3);
    try {
      const seen: number[] = [];
      const r = await pool.map<number>({ offset: 1 }, 40, (_v, b) => seen.push(b));
      expect(r).toEqual(Array.from({ length: 40 }, (_, b) => (b + 1) ** 2));
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, b) => b));
      // a second context on the same workers
      expect(await pool.map<number>({ offset: 0 }, 5)).toEqual([0, 1, 4, 9, 16]);
    } finally {
      await pool.close();
    }
  });

  it('a sample that throws: one line naming b; a dead worker: "crashed"; a missing task: "failed to start"', async () => {
    const pool = await openBootPool(FIXTURE, 2);
    await expect(pool.map({ offset: 0, throwAt: 7 }, 20)).rejects.toThrow(
      /^bootstrap sample 7: planted failure at b = 7$/,
    );
    await expect(pool.map({ offset: 0 }, 3)).rejects.toThrow(/bootstrap sample 7/); // the pool is closed
    const dying = await openBootPool(FIXTURE, 2);
    await expect(dying.map({ offset: 0, exitAt: 3 }, 20)).rejects.toThrow(
      /bootstrap worker crashed: exited with code 5/,
    );
    await expect(openBootPool({ ...FIXTURE, name: 'nothing' }, 1)).rejects.toThrow(
      /bootstrap worker failed to start: .*does not export a function nothing/,
    );
  });
});

describe('parallel bootstraps = sequential ones, byte for byte', () => {
  const data = asData(simulate(truthPreset('demy'), { n: 300, seed: 3 }));

  it('bootstrap LRT (k = 1..3, B = 19): 1, 2 and 3 workers', async () => {
    const opts = { gate: softmax, ks: [1, 2, 3], B: 19, seed: 1, restarts: 2 };
    const seq = JSON.stringify(bootstrapLRT(data, opts));
    for (const workers of [1, 2, 3]) {
      const progress: number[] = [];
      const par = await bootstrapLRTParallel(data, { ...opts, workers, onProgress: (p) => progress.push(p.done) });
      expect(JSON.stringify(par)).toBe(seq);
      expect(progress.slice(0, 19)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    }
    expect(JSON.parse(seq).tests.length).toBe(2); // both tests ran, the second one too
  }, 60_000);

  it('bootstrap standard errors (B = 24, starts estimate+fit): 1, 2 and 3 workers', async () => {
    const fit = fitMoE(data, { gate: softmax, k: 2, restarts: 2, seed: 1 });
    const opts = { B: 24, starts: 'estimate+fit' as const };
    const seq = JSON.stringify(bootstrapStandardErrors(data, fit, opts));
    for (const workers of [1, 2, 3])
      expect(JSON.stringify(await bootstrapStandardErrorsParallel(data, fit, { ...opts, workers }))).toBe(seq);
  }, 60_000);

  it('refuses workers < 1 or fractional and (on threads) a Backend object, naming the field', async () => {
    const fit = fitMoE(data, { gate: softmax, k: 1, seed: 1 });
    await expect(bootstrapStandardErrorsParallel(data, fit, { B: 20, workers: 0 })).rejects.toThrow(/workers/);
    await expect(bootstrapLRTParallel(data, { gate: softmax, ks: [1, 2], B: 19, workers: 1.5 })).rejects.toThrow(
      /workers/,
    );
    const backend = createCpuBackend();
    await expect(bootstrapStandardErrorsParallel(data, fit, { B: 20, workers: 2, fit: { backend } })).rejects.toThrow(
      /backend/,
    );
  });
});
