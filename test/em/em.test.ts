import { describe, expect, it } from 'vitest';
import { modelFromParams, simulate, truthPreset, type Dataset, type GateSpec } from '../../src/models/index.js';
import { cloneModel } from '../../src/models/types.js';
import {
  assignAtoms,
  createCpuBackend,
  diagnoseIdentifiability,
  fitMoE,
  nearTruthNoise,
  type FitOptions,
  type InitOption,
} from '../../src/em/index.js';
import { createRng } from '../../src/random/rng.js';
import { deriveSeed } from '../../src/random/seed.js';

/** Rounding slack of a log-likelihood summed over n samples: 64 ulps per sample at its size. */
const slack = (ll: number, n: number) => 64 * Number.EPSILON * (Math.abs(ll) + n);

function expectMonotone(trace: number[], n: number): void {
  expect(trace.length).toBeGreaterThan(1);
  for (let t = 1; t < trace.length; t++) {
    expect(Number.isFinite(trace[t]!)).toBe(true);
    expect(trace[t]! - trace[t - 1]!).toBeGreaterThanOrEqual(-slack(trace[t - 1]!, n));
  }
}

const softmax: GateSpec = { kind: 'softmax' };

describe('the log-likelihood trace never decreases', () => {
  const cases: [string, string, GateSpec, number, 'free' | 'fixed'][] = [
    ['softmax, exact', 'demy', softmax, 2, 'free'],
    ['softmax, over-specified', 'demy', softmax, 3, 'free'],
    ['top-1, exact', 'topk1', { kind: 'topk', K: 1, selectOn: 'logit' }, 2, 'free'],
    ['top-2 of 3, over-specified', 'topk1', { kind: 'topk', K: 2, selectOn: 'logit' }, 3, 'free'],
    ['top-2 of 3 selecting on the slope', 'topk1', { kind: 'topk', K: 2, selectOn: 'slope' }, 3, 'free'],
    ['temperature, τ free', 'temp', { kind: 'temperature' }, 2, 'free'],
    ['temperature, τ fixed, over-specified', 'temp', { kind: 'temperature' }, 3, 'fixed'],
    ['tanh activation', 'temp-tanh', { kind: 'activation', activation: 'tanh', bias: 'outside' }, 2, 'free'],
    [
      'sigmoid activation, over-specified',
      'temp-sigmoid',
      { kind: 'activation', activation: 'sigmoid', bias: 'outside' },
      3,
      'free',
    ],
  ];
  for (const [name, preset, gate, k, tauMode] of cases) {
    it(name, () => {
      const truth = truthPreset(preset);
      const n = 1000;
      // seed 3 runs plain EM, the others SQUAREM-accelerated EM (the default)
      for (const seed of [1, 2, 3]) {
        const data = simulate(truth, { n, seed });
        // seeds alternate between a near-truth start and a data-driven one
        const init: InitOption = seed === 2 ? { kind: 'kmeans' } : { kind: 'near-truth', truth };
        const fit = fitMoE(data, {
          gate,
          k,
          init,
          seed,
          tauMode,
          maxIter: 100,
          accelerate: seed === 3 ? 'none' : 'squarem',
        });
        expectMonotone(fit.trace, n);
        expect(fit.trace.at(-1)).toBe(fit.logLik);
        expect(fit.trace.length).toBe(fit.iterations + 1);
        expect(fit.warnings.some((w) => /decreased/.test(w))).toBe(false);
      }
    });
  }
});

describe('fitMoE', () => {
  const truth = truthPreset('demy');
  const data = simulate(truth, { n: 2000, seed: 4 });

  it('same seed and options → bit-identical fit; another seed → another start', () => {
    const opts: FitOptions = { gate: softmax, k: 3, init: { kind: 'kmeans' }, restarts: 2, seed: 11, maxIter: 60 };
    const a = fitMoE(data, opts);
    const b = fitMoE(data, opts);
    expect(Object.is(a.logLik, b.logLik)).toBe(true);
    expect(b.trace).toEqual(a.trace);
    for (const key of ['beta0', 'beta1', 'a', 'b', 'nu'] as const)
      expect(Array.from(b.model[key])).toEqual(Array.from(a.model[key]));
    // (k-means from different seeds often lands on the same partition: compare random partitions)
    const r11 = fitMoE(data, { ...opts, init: { kind: 'random' }, maxIter: 0 });
    const r12 = fitMoE(data, { ...opts, init: { kind: 'random' }, maxIter: 0, seed: 12 });
    expect(r12.trace[0]).not.toBe(r11.trace[0]);
    // a backend object reused across fits carries no history into the next fit
    const be = createCpuBackend();
    fitMoE(data, { ...opts, seed: 12, backend: be });
    const d = fitMoE(data, { ...opts, backend: be });
    expect(d.trace).toEqual(a.trace);
    expect(Array.from(d.model.a)).toEqual(Array.from(a.model.a));
  });

  it('restarts are seeded by deriveSeed(seed, r) and the best log-likelihood wins', () => {
    const fit = fitMoE(data, { gate: softmax, k: 2, init: { kind: 'random' }, restarts: 3, seed: 5, maxIter: 100 });
    expect(fit.restarts).toBe(3);
    expect(fit.restartLogLiks).toHaveLength(3);
    expect(fit.restartResults.map((r) => r.seed)).toEqual([0, 1, 2].map((r) => deriveSeed(5, r)));
    expect(fit.logLik).toBe(Math.max(...fit.restartLogLiks));
    expect(fit.restartLogLiks[fit.bestRestart]).toBe(fit.logLik);
    // a restart run alone (with its own seed as the master of one start) reproduces its value
    const one = fitMoE(data, { gate: softmax, k: 2, init: { kind: 'random' }, restarts: 1, seed: 5, maxIter: 100 });
    expect(one.logLik).toBe(fit.restartLogLiks[0]);
  });

  it('recovers the truth from a near-truth start and reports convergence', () => {
    const fit = fitMoE(data, { gate: softmax, k: 2, init: { kind: 'near-truth', truth } });
    expect(fit.converged).toBe(true);
    expect(fit.stopReason).toBe('converged');
    expect(fit.model.beta0[1]).toBe(0); // reference expert fixed
    expect(fit.model.beta1[1]).toBe(0);
    expect(fit.backend).toBe('cpu');
    expect(fit.options.tol).toBe(1e-10);
    // the stopping rule held at the last iteration: |Δℓ| ≤ tol(|ℓ| + 1e-12) or ≤ absTol
    const n = data.n;
    const l1 = fit.trace.at(-1)! / n;
    const l0 = fit.trace.at(-2)! / n;
    expect(Math.abs(l1 - l0) <= 1e-10 * (Math.abs(l1) + 1e-12) || Math.abs(l1 - l0) <= 1e-13).toBe(true);
  });

  it('maxIter 0 evaluates the start only; near-truth with zero noise starts at the (split) truth', () => {
    const fit = fitMoE(data, {
      gate: softmax,
      k: 3,
      maxIter: 0,
      init: { kind: 'near-truth', truth, noiseScale: 0, assign: 'ordered' },
    });
    expect(fit.iterations).toBe(0);
    expect(fit.trace).toHaveLength(1);
    expect(fit.stopReason).toBe('max-iterations');
    expect(fit.warnings.some((w) => /did not converge/.test(w))).toBe(false);
    // ordered: fitted (0, 1, 2) ← true (0, 1, 1); 'divide' gives the copies of atom 1 β0 − log 2,
    // then the reference (last) expert is moved to 0: atom 0 gets −8 + log 2
    expect(fit.model.beta0[0]).toBeCloseTo(-8 + Math.log(2), 14);
    expect(Array.from(fit.model.beta0.subarray(1))).toEqual([0, 0]);
    expect(Array.from(fit.model.a)).toEqual([-20, 20, 20]);
    expect(Array.from(fit.model.nu)).toEqual([0.09, 0.16, 0.16]);
    // same density as the truth
    const t2 = fitMoE(data, { gate: softmax, k: 2, maxIter: 0, init: { kind: 'model', model: truth } });
    expect(fit.logLik / data.n).toBeCloseTo(t2.logLik / data.n, 12);
  });

  it("near-truth noise: the authors' sds, shrinking with n or fixed", () => {
    const s = nearTruthNoise(1e4);
    expect(s.gate).toBeCloseTo(0.005 * 1e4 ** -0.083, 15);
    expect(s.experts).toBeCloseTo(0.05 * 1e4 ** -0.083, 15);
    expect(s.variance).toBeCloseTo(0.005 * 1e4 ** -0.25, 15);
    expect(nearTruthNoise(1e6, 'fixed')).toEqual(nearTruthNoise(1, 'fixed'));
    // the spread of the fitted atoms' a around the truth matches sd 0.05·n^-0.083 (χ² bound, 2000 draws)
    const draws: number[] = [];
    for (let r = 0; r < 1000; r++) {
      const f = fitMoE(data, { gate: softmax, k: 2, maxIter: 0, seed: r + 1, init: { kind: 'near-truth', truth } });
      draws.push(f.model.a[0]! + 20, f.model.a[1]! - 20);
    }
    const sd = 0.05 * data.n ** -0.083;
    const v = draws.reduce((s2, x) => s2 + x * x, 0) / draws.length;
    // var of the sample variance of N(0, sd²) over m draws is 2sd⁴/m: allow 5 of its sds
    expect(Math.abs(v - sd * sd)).toBeLessThan(5 * Math.sqrt(2 / draws.length) * sd * sd);
  });

  it('near-truth τ: perturbed log-normally when free (last draw), the truth\'s τ with tau "truth" or τ fixed', () => {
    const temp = truthPreset('temp');
    const tdata = simulate(temp, { n: 500, seed: 5 });
    const gate = { kind: 'temperature' } as const;
    const start = (seed: number, tau?: 'perturbed' | 'truth', tauMode: 'free' | 'fixed' = 'free') =>
      fitMoE(tdata, {
        gate,
        k: 2,
        maxIter: 0,
        seed,
        tauMode,
        init: { kind: 'near-truth', truth: temp, noise: 'fixed', noiseScale: 10, ...(tau ? { tau } : {}) },
      }).model;
    const logTaus: number[] = [];
    for (let r = 1; r <= 400; r++) {
      const p = start(r);
      const t = start(r, 'truth');
      expect(t.tau).toBe(temp.tau);
      // τ's draw comes after the others: every other coordinate is the same with or without it
      expect(Array.from(p.beta1)).toEqual(Array.from(t.beta1));
      expect(Array.from(p.nu)).toEqual(Array.from(t.nu));
      logTaus.push(Math.log(p.tau / temp.tau));
    }
    expect(start(1, undefined, 'fixed').tau).toBe(temp.tau);
    const sd = nearTruthNoise(1, 'fixed', 10).gate;
    const v = logTaus.reduce((s2, x) => s2 + x * x, 0) / logTaus.length;
    expect(Math.abs(v - sd * sd)).toBeLessThan(5 * Math.sqrt(2 / logTaus.length) * sd * sd);
    expect(() =>
      fitMoE(tdata, { gate, k: 2, init: { kind: 'near-truth', truth: temp, tau: 'exact' as never } }),
    ).toThrow(/init\.tau must be one of perturbed, truth/);
  });

  it('random assignment uses every true atom and gives the last fitted atom the reference', () => {
    const rng = createRng(3);
    const seen = new Set<string>();
    for (let r = 0; r < 200; r++) {
      const s = assignAtoms(4, 3, 'random', rng);
      expect(s[3]).toBe(2);
      expect(new Set(s).size).toBe(3);
      seen.add(Array.from(s).join());
    }
    expect(seen.size).toBeGreaterThan(3);
    expect(Array.from(assignAtoms(4, 3, 'ordered', rng))).toEqual([0, 1, 2, 2]);
    expect(Array.from(assignAtoms(4, 3, [1, 0, 1, 2], rng))).toEqual([1, 0, 1, 2]);
  });

  it('an explicit assignment splits the atoms it names, and a wrong one is refused naming init.assign', () => {
    const fit = fitMoE(data, {
      gate: softmax,
      k: 3,
      maxIter: 0,
      init: { kind: 'near-truth', truth, noiseScale: 0, assign: [0, 0, 1] },
    });
    // true atom 0 (a* = −20) in two copies, the reference (a* = 20) last
    expect(Array.from(fit.model.a)).toEqual([-20, -20, 20]);
    const bad = (assign: number[]) => () =>
      fitMoE(data, { gate: softmax, k: 3, maxIter: 0, init: { kind: 'near-truth', truth, assign } });
    expect(bad([0, 0])).toThrow(/^init\.assign must list one true atom per fitted expert \(k = 3\)/);
    expect(bad([0, 0, 2])).toThrow(/^init\.assign must hold true atoms 0\.\.1/);
    expect(bad([1, 1, 1])).toThrow(/^init\.assign must use every true atom \(0 is missing\)/);
    expect(bad([1, 0, 0])).toThrow(/^init\.assign must end with the reference, true atom 1/);
  });

  it('a start with no finite likelihood stops as degenerate, with a warning and finite parameters', () => {
    const bad = cloneModel(truth);
    bad.nu.set([1e-320, 1e-320]); // every residual gets density 0
    const fit = fitMoE(data, { gate: softmax, k: 2, init: { kind: 'model', model: bad } });
    expect(fit.stopReason).toBe('degenerate');
    expect(fit.converged).toBe(false);
    expect(fit.logLik).toBe(-Infinity);
    expect(fit.warnings.join()).toMatch(/initial model has log-likelihood -Infinity/);
    for (const key of ['beta0', 'beta1', 'a', 'b', 'nu'] as const)
      for (const v of fit.model[key]) expect(Number.isNaN(v)).toBe(false);
  });

  it('reports the variance floor and an empty expert', () => {
    // five distinct points repeated: an expert can fit a subset exactly
    const n = 400;
    const X = Float64Array.from({ length: n }, (_, i) => (i % 5) / 4);
    const y = Float64Array.from(X, (x, i) => (i % 2 ? 2 * x : -x + 1));
    const fit = fitMoE({ n, d: 1, X, y }, { gate: softmax, k: 2, init: { kind: 'kmeans' }, maxIter: 50 });
    expect(fit.warnings.join('\n')).toMatch(/variance floor hit/);
    for (const v of fit.model.nu) expect(v).toBeGreaterThanOrEqual(fit.options.varianceFloor);
  });
});

describe('bad input gets a clear error', () => {
  const truth = truthPreset('demy');
  const data = simulate(truth, { n: 200, seed: 1 });
  const withX = (X: Float64Array): Dataset => ({ ...data, X });
  const cases: [string, () => unknown, RegExp][] = [
    [
      'NaN in X',
      () => {
        const X = Float64Array.from(data.X);
        X[5] = NaN;
        return fitMoE(withX(X), { gate: softmax, k: 2 });
      },
      /data\.X\[5\]\[0\] \(row 5, column x1\) must be a finite number\. Value: NaN/,
    ],
    [
      'Infinity in y',
      () => {
        const y = Float64Array.from(data.y);
        y[3] = Infinity;
        return fitMoE({ ...data, y }, { gate: softmax, k: 2 });
      },
      /data\.y\[3\].*finite.*Value: Infinity/,
    ],
    ['k < 1', () => fitMoE(data, { gate: softmax, k: 0 }), /^k must be an integer ≥ 1\. Value: 0$/],
    [
      'K > k',
      () => fitMoE(data, { gate: { kind: 'topk', K: 3, selectOn: 'logit' }, k: 2 }),
      /gate\.K must be an integer in \[1, 2\] \(k = 2\)\. Value: 3/,
    ],
    [
      'unknown gate',
      () => fitMoE(data, { gate: { kind: 'soft' } as unknown as GateSpec, k: 2 }),
      /gate\.kind must be one of softmax, topk, temperature, activation\. Value: "soft"/,
    ],
    [
      'too few samples',
      () => fitMoE({ n: 8, d: 1, X: data.X.slice(0, 8), y: data.y.slice(0, 8) }, { gate: softmax, k: 2 }),
      /data\.n must exceed the number of free parameters of k = 2 experts, 8 \(gate 2, experts 6\): with fewer samples the fit is not determined\. Value: 8/,
    ],
    [
      'constant x',
      () => fitMoE(withX(new Float64Array(200).fill(0.5)), { gate: softmax, k: 2 }),
      /data\.X column x1 must not be constant.*Value: "every value 0\.5"/,
    ],
    [
      'constant y',
      () => fitMoE({ ...data, y: new Float64Array(data.n).fill(3) }, { gate: softmax, k: 2 }),
      /data\.y must not be constant .*Value: "every value 3"/,
    ],
    [
      // distinct values whose variance underflows: said as such, not as a constant y
      'y on a scale Float64 cannot square',
      () => fitMoE({ ...data, y: data.y.map((v) => v * 1e-300) }, { gate: softmax, k: 2 }),
      /^data\.y must have a finite, positive variance for the default variance floor \(1e-6 × var\(y\) = 0\): rescale y, or give a variance floor/,
    ],
    [
      'collinear columns',
      () => {
        const X = new Float64Array(400);
        for (let i = 0; i < 200; i++) {
          X[2 * i] = data.X[i]!;
          X[2 * i + 1] = 3 * data.X[i]! - 1;
        }
        return fitMoE({ n: 200, d: 2, X, y: data.y }, { gate: softmax, k: 2 });
      },
      /data\.X must have linearly independent columns/,
    ],
    [
      'negative tol',
      () => fitMoE(data, { gate: softmax, k: 2, tol: -1 }),
      /^tol must be a finite number ≥ 0\. Value: -1$/,
    ],
    [
      'fractional restarts',
      () => fitMoE(data, { gate: softmax, k: 2, restarts: 1.5 }),
      /^restarts must be an integer ≥ 1\. Value: 1\.5$/,
    ],
    [
      'a typo in an option',
      () => fitMoE(data, { gate: softmax, k: 2, maxIters: 3 } as unknown as FitOptions),
      /maxIters is not a field of the fit options/,
    ],
    [
      'bad seed',
      () => fitMoE(data, { gate: softmax, k: 2, seed: 0 }),
      /seed must be an integer in \[1, 4294967295\]\. Value: 0/,
    ],
    [
      'near-truth with more true atoms than k',
      () => fitMoE(data, { gate: softmax, k: 1, init: { kind: 'near-truth', truth } }),
      /init\.truth\.k must be ≤ the fit's k = 1.*Value: 2/,
    ],
    [
      'an init model of another k',
      () => fitMoE(data, { gate: softmax, k: 3, init: { kind: 'model', model: truth } }),
      /init\.model\.k must equal the fit's k = 3\. Value: 2/,
    ],
    [
      'unknown noise',
      () => fitMoE(data, { gate: softmax, k: 2, init: { kind: 'near-truth', truth, noise: 'loud' as 'fixed' } }),
      /init\.noise must be one of shrinking, fixed\. Value: "loud"/,
    ],
    [
      'unknown backend',
      () => fitMoE(data, { gate: softmax, k: 2, backend: 'tpu' as 'cpu' }),
      /backend must be one of cpu, gpu, auto\. Value: "tpu"/,
    ],
  ];
  for (const [name, f, re] of cases) it(name, () => expect(f).toThrow(re));
});

describe('identifiability diagnostic', () => {
  it('shows the (β1, τ) scaling direction of the temperature gate, none for tanh or softmax', () => {
    const n = 3000;
    const temp = truthPreset('temp');
    const dt = simulate(temp, { n, seed: 8 });
    const ft = fitMoE(dt, {
      gate: { kind: 'temperature' },
      k: 2,
      init: { kind: 'near-truth', truth: temp },
      diagnostics: true,
    });
    const dg = ft.diagnostics!;
    expect(dg.params).toEqual(['beta0[0]', 'beta1[0][0]', 'log(tau)']);
    expect(dg.fixed).toEqual(['beta0[1]', 'beta1[1][0]']);
    expect(dg.flat).toHaveLength(1);
    // (β1, τ) → (cβ1, cτ): in (β0, β1, log τ) the tangent at c = 1 is (0, β1, 1)
    const dir = [0, ft.model.beta1[0]!, 1];
    const norm = Math.hypot(...dir);
    const v = dg.flat[0]!.vector;
    const cos = Math.abs(v.reduce((s, x, i) => s + (x * dir[i]!) / norm, 0));
    expect(cos).toBeGreaterThan(0.9999);
    expect(ft.warnings.join()).toMatch(/invariant under \(β1, τ\) → \(cβ1, cτ\)/);

    // a tanh gate that actually switches (π_0 from 0.12 to 0.88 over [0, 1]); with the weak
    // temp-tanh preset gate, EM can drift to a nearly flat, degenerate fit, and the diagnostic says so
    const tanh = modelFromParams(
      { kind: 'activation', activation: 'tanh', bias: 'outside' },
      { beta0: [-2, 0], beta1: [[4], [0]], a: [[-20], [20]], b: [15, -5], nu: [0.09, 0.16], tau: 0.25 },
    );
    const dh = simulate(tanh, { n, seed: 8 });
    const fh = fitMoE(dh, { gate: tanh.gate, k: 2, init: { kind: 'near-truth', truth: tanh } });
    const dgh = diagnoseIdentifiability(fh, dh);
    expect(dgh.flat).toHaveLength(0);
    expect(dgh.eigenvalues[0]!).toBeGreaterThan(dgh.relTol * dgh.eigenvalues.at(-1)!);

    const demy = truthPreset('demy');
    const dd = simulate(demy, { n, seed: 8 });
    const fs = fitMoE(dd, { gate: softmax, k: 2, init: { kind: 'near-truth', truth: demy } });
    expect(diagnoseIdentifiability(fs, dd).flat).toHaveLength(0);
    // the Fisher (Gauss–Newton) matrix agrees with the Hessian for the softmax gate
    const h = diagnoseIdentifiability(fs, dd).eigenvalues;
    const f = diagnoseIdentifiability(fs, dd, { matrix: 'fisher' }).eigenvalues;
    for (let i = 0; i < h.length; i++) expect(Math.abs(h[i]! - f[i]!)).toBeLessThan(1e-5 * Math.abs(f.at(-1)!));
  });
});
