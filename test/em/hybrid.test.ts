/**
 * The hybrid optimizer (EM/SQUAREM, then trust-region Newton on the exact Hessian): monotone,
 * reaches the optimum EM reaches with tol 1e-15 in far fewer iterations, stops by the Newton
 * decrement, says when −H is not negative definite at the end, and runs with every gate.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE, type IterationInfo } from '../../src/em/index.js';
import { simulate } from '../../src/models/sample.js';
import { truthPreset } from '../../src/models/presets.js';
import { cloneModel, type GateSpec } from '../../src/models/types.js';

const demy = truthPreset('demy');
const demyData = simulate(demy, { n: 3000, seed: 3 });
/** demy's over-specified k = 3 fit from the near-truth start (the first tests' fit) */
const base = {
  gate: { kind: 'softmax' as const },
  k: 3,
  init: { kind: 'near-truth' as const, truth: demy },
  seed: 2,
};

function expectMonotone(trace: number[]): void {
  for (let i = 1; i < trace.length; i++)
    expect(trace[i]! - trace[i - 1]!).toBeGreaterThanOrEqual(-1e-12 * Math.abs(trace[i]!));
}

describe('optimizer hybrid', () => {
  it('reaches the tol-1e-15 EM optimum (to 1e-6 nats) of an over-specified k = 3 fit in far fewer iterations', () => {
    const ref = fitMoE(demyData, { ...base, tol: 1e-15, absTol: 0, maxIter: 100_000 });
    const fit = fitMoE(demyData, { ...base, optimizer: 'hybrid' });
    expect(fit.stopReason).toBe('newton-decrement');
    expect(fit.converged).toBe(true);
    expect(Math.abs(fit.logLik - ref.logLik)).toBeLessThan(1e-6);
    expect(fit.iterations * 10).toBeLessThan(ref.iterations);
    expectMonotone(fit.trace);
    const h = fit.hybrid!;
    expect(h.newtonIterations).toBeGreaterThan(0);
    expect(h.emIterations + h.newtonIterations).toBe(fit.iterations);
    expect(h.negativeDefinite).toBe(true);
    expect(h.decrement!).toBeLessThanOrEqual(1e-8);
    expect(h.gradientMetric).toBeLessThanOrEqual(1e-8);
    expect(fit.options.optimizer).toBe('hybrid');
    expect(fit.options.stopRule).toBe('decrement');
  });

  it('onIteration tells each iteration its phase, and each trust-region step its radius, length, gain ratio and extension', () => {
    const seen: IterationInfo[] = [];
    const fit = fitMoE(demyData, { ...base, optimizer: 'hybrid', onIteration: (it) => seen.push(it) });
    // the callback watches: the same fit without it
    expect(fit.logLik).toBe(fitMoE(demyData, { ...base, optimizer: 'hybrid' }).logLik);
    expect(seen.map((x) => x.iteration)).toEqual([...Array(fit.iterations + 1).keys()]);
    expect(seen.map((x) => x.logLik)).toEqual(fit.trace);
    expect(seen[0]!.phase).toBe('start');
    const tr = seen.filter((x) => x.phase === 'trust-region');
    expect(tr).toHaveLength(fit.hybrid!.newtonIterations);
    expect(seen.filter((x) => x.phase === 'em')).toHaveLength(fit.hybrid!.emIterations);
    expect(seen.every((x) => (x.phase === 'trust-region') === (x.step !== undefined))).toBe(true);
    for (const { step, iteration } of tr) {
      const s = step!;
      // the step lies in its region; an accepted step gained at least TR_ETA of its prediction
      expect(s.norm).toBeLessThanOrEqual(s.radius * (1 + 1e-9));
      expect(s.rho).toBeGreaterThanOrEqual(1e-4);
      expect(s.predicted).toBeGreaterThan(0);
      expect([1, 2, 4, 8, 16, 32, 64]).toContain(s.alpha);
      // a step's gain (ρ × predicted) is the log-likelihood's rise, unless extended further
      if (s.alpha === 1) expect(s.rho * s.predicted).toBeCloseTo(fit.trace[iteration]! - fit.trace[iteration - 1]!, 9);
    }
    // the last steps of a converged run are full Newton steps
    expect(tr[tr.length - 1]!.step!.newton).toBe(true);
    // plain EM: no trust-region phase
    const em: IterationInfo[] = [];
    fitMoE(demyData, { ...base, maxIter: 20, onIteration: (it) => em.push(it) });
    expect(new Set(em.slice(1).map((x) => x.phase))).toEqual(new Set(['em']));
  });

  it('hands over at switchTol 1e-5 with the softmax Hessian kernel, 1e-6 where the Hessian is the JS reference', () => {
    const emIts = (o: object) =>
      fitMoE(demyData, { ...base, optimizer: 'hybrid', maxIter: 60, ...o }).hybrid!.emIterations;
    const fast = emIts({});
    expect(fast).toBe(emIts({ switchTol: 1e-5 }));
    expect(emIts({ switchTol: 1e-6 })).toBeGreaterThan(fast);
    // without the WebAssembly kernels the Hessian is the reference: 1e-6
    expect(emIts({ wasm: false })).toBe(emIts({ wasm: false, switchTol: 1e-6 }));
    expect(emIts({ wasm: false })).toBeGreaterThan(emIts({ wasm: false, switchTol: 1e-5 }));
  });

  it("hands over at 1e-5 with the activation gates' Hessian kernel too (tanh, temp-over's bench cell)", () => {
    const truth = truthPreset('temp-tanh');
    const data = simulate(truth, { n: 3000, seed: 2 });
    const emIts = (o: object) =>
      fitMoE(data, {
        gate: { kind: 'activation', activation: 'tanh', bias: 'outside' },
        k: 3,
        init: { kind: 'near-truth', truth, noise: 'fixed', noiseScale: 10 },
        seed: 2,
        optimizer: 'hybrid',
        maxIter: 80,
        ...o,
      }).hybrid!.emIterations;
    const fast = emIts({});
    expect(fast).toBe(emIts({ switchTol: 1e-5 }));
    expect(emIts({ switchTol: 1e-6 })).toBeGreaterThan(fast);
    expect(emIts({ wasm: false })).toBe(emIts({ wasm: false, switchTol: 1e-6 }));
  });

  it('says so when −H is not negative definite where it stops (iteration cap at a saddle)', () => {
    // the pooled regression twice with equal gates: a fixed point of EM where −H is singular
    const start = cloneModel(truthPreset('demy'));
    start.beta0.fill(0);
    start.beta1.fill(0);
    start.a.fill(0.5);
    start.b.fill(0.2);
    start.nu.fill(1);
    const fit = fitMoE(demyData, {
      gate: { kind: 'softmax' },
      k: 2,
      init: { kind: 'model', model: start },
      optimizer: 'hybrid',
      maxIter: 3,
    });
    expect(fit.stopReason).toBe('max-iterations');
    expect(fit.converged).toBe(false);
    expect(fit.hybrid!.negativeDefinite).toBe(false);
    expect(fit.hybrid!.decrement).toBeNull();
    expect(fit.warnings.join('\n')).toMatch(/not negative definite/);
  });

  it("keeps the relative tol as stopRule 'tol', and refuses 'decrement' without the hybrid", () => {
    const base = { gate: { kind: 'softmax' as const }, k: 2, init: { kind: 'near-truth' as const, truth: demy } };
    const fit = fitMoE(demyData, { ...base, optimizer: 'hybrid', stopRule: 'tol' });
    expect(fit.stopReason).toBe('converged');
    expect(fit.hybrid).toBeDefined();
    const em = fitMoE(demyData, base);
    expect(em.hybrid).toBeUndefined();
    expect(em.options.optimizer).toBe('em');
    expect(() => fitMoE(demyData, { ...base, stopRule: 'decrement' })).toThrow(/^stopRule .*Value: "decrement"/);
    expect(() => fitMoE(demyData, { ...base, optimizer: 'newton' as never })).toThrow(/optimizer/);
  });

  const cases: [string, string, GateSpec, number][] = [
    ['softmax', 'demy', { kind: 'softmax' }, 3],
    ['top-1 (logit)', 'topk1', { kind: 'topk', K: 1, selectOn: 'logit' }, 2],
    ['top-1 (slope)', 'topk1', { kind: 'topk', K: 1, selectOn: 'slope' }, 3],
    ['top-2 (logit)', 'topk1', { kind: 'topk', K: 2, selectOn: 'logit' }, 3],
    ['top-2 (slope)', 'topk1', { kind: 'topk', K: 2, selectOn: 'slope' }, 3],
    ['temperature (identity)', 'temp', { kind: 'temperature' }, 3],
    ['activation tanh', 'temp-tanh', { kind: 'activation', activation: 'tanh', bias: 'outside' }, 3],
    ['activation sigmoid', 'temp-sigmoid', { kind: 'activation', activation: 'sigmoid', bias: 'outside' }, 3],
    [
      'activation sigmoid, bias inside',
      'temp-sigmoid',
      { kind: 'activation', activation: 'sigmoid', bias: 'inside' },
      2,
    ],
  ];
  it.each(cases)('runs with the %s gate: monotone, stopped by a test that says why', (_, preset, gate, k) => {
    const truth = truthPreset(preset);
    const data = simulate(truth, { n: 1000, seed: 7 });
    const init = truth.gate.kind === gate.kind ? { kind: 'near-truth' as const, truth } : { kind: 'kmeans' as const };
    const fit = fitMoE(data, { gate, k, init, seed: 1, optimizer: 'hybrid' });
    expect(fit.stopReason).not.toBe('degenerate');
    expect(fit.stopReason).not.toBe('max-iterations');
    expectMonotone(fit.trace);
    expect(fit.hybrid!.hessians).toBeGreaterThan(0);
    // top-K's runs may end on an exact EM fixed point (no gain over 10 iterations: 'converged')
    expect(['newton-decrement', 'converged']).toContain(fit.stopReason);
    if (fit.stopReason === 'newton-decrement') {
      expect(fit.hybrid!.decrement!).toBeLessThanOrEqual(1e-8);
      expect(fit.hybrid!.negativeDefinite).toBe(true);
    }
  });
});
