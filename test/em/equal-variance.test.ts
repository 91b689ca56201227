/**
 * One variance shared by all experts (FitOptions.variance 'equal'; mixtools' arbvar = FALSE, flexmix's
 * FLXMRglmfix(varFix = TRUE), compared in test/peers/flexmix.test.ts):
 * - the experts' M-step is the exact maximiser of Q under ν_j = ν: per-expert weighted least squares,
 *   then the pooled ν = Σ_ij r_ij (y_i − μ_j(x_i))² / n (checked against a hand computation);
 * - the log-likelihood never decreases, for every gate family, with and without SQUAREM, and the
 *   variances stay one;
 * - at the constrained optimum the shared ν's score is zero while the per-expert scores are not, and
 *   the standard error of ν is the one of a finite-difference Hessian in the tied parametrisation;
 * - the hybrid optimizer holds log ν_j = log ν_0 as ties and ends at EM's constrained optimum, certified;
 * - k − 1 fewer parameters in the criteria; bad values are refused by name.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import { parameterCount } from '../../src/em/inference/criteria.js';
import { bootstrapStandardErrors } from '../../src/em/inference/boot-se.js';
import { standardErrors } from '../../src/em/inference/se.js';
import { selectK } from '../../src/em/select.js';
import { logLikelihood, responsibilities } from '../../src/models/density.js';
import { truthPreset, withGate } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { cloneModel, type Dataset, type GateSpec, type Model } from '../../src/models/types.js';

function equalTruth(): Model {
  const t = truthPreset('demy');
  t.nu.fill(0.09);
  return t;
}

/** The pooled M-step by hand (d = 1): WLS line per expert, ν = Σ_ij r_ij e_ij² / Σ_ij r_ij. */
function handMStep(m: Model, data: Dataset): { a: number[]; b: number[]; nu: number } {
  const { resp } = responsibilities(m, data);
  const { X, y, n } = data;
  const a: number[] = [];
  const b: number[] = [];
  let rss = 0;
  let w = 0;
  for (let j = 0; j < m.k; j++) {
    let s0 = 0;
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      const r = resp[i * m.k + j]!;
      s0 += r;
      sx += r * X[i]!;
      sy += r * y[i]!;
    }
    const xb = sx / s0;
    const yb = sy / s0;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < n; i++) {
      const r = resp[i * m.k + j]!;
      sxx += r * (X[i]! - xb) ** 2;
      sxy += r * (X[i]! - xb) * (y[i]! - yb);
    }
    a.push(sxy / sxx);
    b.push(yb - (sxy / sxx) * xb);
    for (let i = 0; i < n; i++) rss += resp[i * m.k + j]! * (y[i]! - a[j]! * X[i]! - b[j]!) ** 2;
    w += s0;
  }
  return { a, b, nu: rss / w };
}

describe("variance 'equal'", () => {
  const data = simulate(equalTruth(), { n: 3000, seed: 4 });

  it("one EM iteration's experts are the hand-computed pooled M-step from the start", () => {
    const start = cloneModel(equalTruth());
    start.a[0] = 15;
    start.b[1] = 12;
    start.nu[0] = 0.2;
    start.nu[1] = 0.1;
    const fit = fitMoE(data, {
      gate: { kind: 'softmax' },
      k: 2,
      init: { kind: 'model', model: start },
      maxIter: 1,
      accelerate: 'none',
      variance: 'equal',
    });
    // the start is put into the constrained space first: ν = the mean of the start's
    const eqStart = cloneModel(start);
    eqStart.nu.fill(0.15);
    const hand = handMStep(eqStart, data);
    for (let j = 0; j < 2; j++) {
      expect(fit.model.a[j]).toBeCloseTo(hand.a[j]!, 10);
      expect(fit.model.b[j]).toBeCloseTo(hand.b[j]!, 10);
      expect(Math.abs(fit.model.nu[j]! / hand.nu - 1)).toBeLessThan(1e-12);
    }
  });

  const gates: Array<[string, GateSpec]> = [
    ['softmax', { kind: 'softmax' }],
    ['temperature', { kind: 'temperature' }],
    ['top-2 of 3', { kind: 'topk', K: 2, selectOn: 'logit' }],
  ];
  for (const [label, gate] of gates)
    for (const accelerate of ['squarem', 'none'] as const)
      it(`${label}, ${accelerate}: the log-likelihood never decreases and the variances stay one`, () => {
        const k = gate.kind === 'topk' ? 3 : 2;
        const d = simulate(withGate(equalTruth(), { kind: 'softmax' }), { n: 1500, seed: 9 });
        const trace: number[] = [];
        const fit = fitMoE(d, {
          gate,
          k,
          init: { kind: 'kmeans' },
          accelerate,
          maxIter: 300,
          variance: 'equal',
          onIteration: (p) => {
            if (p.iteration > 0) trace.push(p.logLik);
          },
        });
        for (let t = 1; t < trace.length; t++) expect(trace[t]!).toBeGreaterThanOrEqual(trace[t - 1]! - 1e-9);
        expect(new Set(fit.model.nu).size).toBe(1);
        expect(fit.options.variance).toBe('equal');
        expect(Math.abs(logLikelihood(fit.model, d) - fit.logLik)).toBeLessThan(1e-8 * Math.abs(fit.logLik));
      });

  it("at the constrained optimum the shared ν's score is zero; its error matches a finite-difference Hessian", () => {
    const fit = fitMoE(data, {
      gate: { kind: 'softmax' },
      k: 2,
      init: { kind: 'kmeans' },
      restarts: 3,
      variance: 'equal',
      tol: 0,
      absTol: 1e-15,
    });
    const se = standardErrors(fit.model, data, { variance: 'equal' });
    expect(se.status).toBe('ok');
    expect(se.maxGradient).toBeLessThan(1e-4);
    expect(se.params).toContain('nu (shared)');
    // the free layout at the same model: each ν_j's own score is far from zero
    expect(standardErrors(fit.model, data).maxGradient).toBeGreaterThan(1);
    // tied parametrisation θ = (β0_0, β1_0, a_0, b_0, a_1, b_1, ν): −H⁻¹ by central differences
    const m0 = fit.model;
    const th0 = [m0.beta0[0]!, m0.beta1[0]!, m0.a[0]!, m0.b[0]!, m0.a[1]!, m0.b[1]!, m0.nu[0]!];
    const ll = (th: number[]): number => {
      const m = cloneModel(m0);
      m.beta0[0] = th[0]!;
      m.beta1[0] = th[1]!;
      [m.a[0], m.b[0], m.a[1], m.b[1]] = [th[2]!, th[3]!, th[4]!, th[5]!];
      m.nu.fill(th[6]!);
      return logLikelihood(m, data);
    };
    const P = th0.length;
    const h = th0.map((v) => 1e-4 * Math.max(Math.abs(v), 0.1));
    const H = Array.from({ length: P }, () => new Array<number>(P).fill(0));
    for (let s = 0; s < P; s++)
      for (let t = s; t < P; t++) {
        const at = (ds: number, dt: number) => {
          const th = [...th0];
          th[s] = th[s]! + ds * h[s]!;
          th[t] = th[t]! + dt * h[t]!;
          return ll(th);
        };
        H[s]![t] = H[t]![s] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h[s]! * h[t]!);
      }
    // the ν entry of (−H)⁻¹ by Gauss–Jordan on [−H | e_ν]
    const A = H.map((row, s) => [...row.map((v) => -v), s === P - 1 ? 1 : 0]);
    for (let c = 0; c < P; c++) {
      const piv = A[c]![c]!;
      for (let t = c; t <= P; t++) A[c]![t] = A[c]![t]! / piv;
      for (let r = 0; r < P; r++) {
        if (r === c) continue;
        const f = A[r]![c]!;
        for (let t = c; t <= P; t++) A[r]![t] = A[r]![t]! - f * A[c]![t]!;
      }
    }
    const fdSe = Math.sqrt(A[P - 1]![P]!);
    for (const j of [0, 1]) {
      const row = se.rows.find((r) => r.param === `nu[${j}]`)!;
      expect(Math.abs(row.se! / fdSe - 1)).toBeLessThan(1e-4);
    }
  });

  it("the bootstrap refits with one variance (the fit's options)", () => {
    const fit = fitMoE(data, { gate: { kind: 'softmax' }, k: 2, init: { kind: 'kmeans' }, variance: 'equal' });
    const bs = bootstrapStandardErrors(data, fit, { B: 20, seed: 3 });
    const i0 = bs.rows.findIndex((r) => r.param === 'nu[0]');
    const i1 = bs.rows.findIndex((r) => r.param === 'nu[1]');
    expect(bs.used).toBe(20);
    for (const sample of bs.samples) expect(sample[i0]).toBe(sample[i1]);
    expect(bs.rows[i0]!.se).toBeGreaterThan(0);
  });

  it('counts k − 1 fewer parameters, in the criteria and in select', () => {
    for (const k of [1, 2, 3])
      expect(parameterCount({ kind: 'softmax' }, k, 2, 'free', 'equal').total).toBe(
        parameterCount({ kind: 'softmax' }, k, 2).total - (k - 1),
      );
    const s = selectK(data, { gate: { kind: 'softmax' }, ks: [1, 2], variance: 'equal', init: { kind: 'kmeans' } });
    expect(s.rows.map((r) => r.df)).toEqual([3, 7]);
    expect(s.chosen).toBe(2);
  });

  for (const [label, gate] of gates)
    it(`${label}: the hybrid optimizer ends at EM's constrained optimum, one variance, −H positive definite`, () => {
      const k = gate.kind === 'topk' ? 3 : 2;
      const base = { gate, k, init: { kind: 'kmeans' as const }, restarts: 2, variance: 'equal' as const };
      const em = fitMoE(data, { ...base, tol: 0, absTol: 1e-15, maxIter: 20_000 });
      const hy = fitMoE(data, { ...base, optimizer: 'hybrid' });
      expect(hy.stopReason).toBe('newton-decrement');
      expect(hy.hybrid!.negativeDefinite).toBe(true);
      expect(new Set(hy.model.nu).size).toBe(1);
      expect(Math.abs(hy.logLik - em.logLik)).toBeLessThan(1e-6);
      // the shared variance's ties are not pinned switches (top-K may pin real ones)
      for (const pin of hy.hybrid!.pinned) expect(pin.sample).toBeGreaterThanOrEqual(0);
      expect(hy.warnings.join('\n')).not.toMatch(/sample -1/);
    });

  it('refuses unknown values, naming the option', () => {
    const o = { gate: { kind: 'softmax' as const }, k: 2 };
    expect(() => fitMoE(data, { ...o, variance: 'same' as 'equal' })).toThrow(/^variance must be one of free, equal/);
    expect(fitMoE(data, { ...o, maxIter: 2 }).options).not.toHaveProperty('variance');
  });
});
