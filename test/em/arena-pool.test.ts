/**
 * Fits reuse the memory of finished fits' arenas (src/em/backend/simd/arena.ts, the pool): a fit on a
 * reused memory — zeroed and instantiated again, of the same or a larger size — gives the bits of the
 * same fit on fresh memory, and no result of an earlier fit shares memory with a later one.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE, type FitOptions, type FitResult } from '../../src/em/index.js';
import { clearArenaPool, createArena, pooledArenas } from '../../src/em/backend/simd/arena.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';

const truth = truthPreset('demy');
const fit = (n: number, seed: number, optimizer: 'hybrid' | 'em'): FitResult =>
  fitMoE(simulate(truth, { n, seed }), {
    gate: { kind: 'softmax' },
    k: 3,
    init: { kind: 'near-truth', truth },
    seed,
    optimizer,
  } as FitOptions);
/** the result's numbers, copied */
const snap = (r: FitResult) => ({
  logLik: r.logLik,
  iterations: r.iterations,
  trace: [...r.trace],
  params: [r.model.beta0, r.model.beta1, r.model.a, r.model.b, r.model.nu].map((v) => [...v]),
});

describe('the arena pool', () => {
  for (const optimizer of ['hybrid', 'em'] as const)
    it(`a fit on a reused memory gives the fresh fit's bits (${optimizer}); earlier results stay intact`, () => {
      clearArenaPool();
      const fresh = fit(1500, 3, optimizer);
      const first = snap(fresh);
      expect(pooledArenas()).toBe(1);
      fit(2000, 4, optimizer); // reuses nothing (more pages) or the first memory; pooled after
      const before = pooledArenas();
      const again = fit(1500, 3, optimizer); // on a pooled memory (same or up to 2× the pages)
      expect(pooledArenas()).toBe(before);
      expect(snap(again)).toEqual(first);
      expect(Object.is(again.logLik, first.logLik)).toBe(true);
      expect(snap(fresh)).toEqual(first); // the first result shares no memory with the later fits
    });

  it('keeps at most two memories, each once, and hands them out zeroed', () => {
    clearArenaPool();
    const arenas = [createArena([10])!, createArena([10])!, createArena([10])!];
    for (const A of arenas) A.alloc(10).fill(7); // what a fit leaves behind
    arenas[0]!.release();
    arenas[0]!.release();
    expect(pooledArenas()).toBe(1);
    arenas[1]!.release();
    arenas[2]!.release();
    expect(pooledArenas()).toBe(2);
    const a = createArena([10])!; // takes one, zeroed
    expect(pooledArenas()).toBe(1);
    expect(a.alloc(10).every((v) => v === 0)).toBe(true);
    clearArenaPool();
  });
});
