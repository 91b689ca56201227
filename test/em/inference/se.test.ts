/**
 * standardErrors: the inverse of an independent finite-difference Hessian of L gives the same errors;
 * the reference expert and the identity gate's flat (β1, τ) direction are fixed and stated; singular
 * and not negative definite information get notes and no errors (never NaN).
 */
import { describe, expect, it } from 'vitest';
import { standardErrors, formatStandardErrors } from '../../../src/em/inference/se.js';
import { fitMoE } from '../../../src/em/index.js';
import { logLikelihood } from '../../../src/models/density.js';
import { simulate } from '../../../src/models/sample.js';
import { truthPreset } from '../../../src/models/presets.js';
import { cloneModel, type Model } from '../../../src/models/types.js';

/** The free natural-scale parameters of a 2-expert, d = 1 softmax/tanh model as setters (reference expert 1). */
function fdStandardErrors(
  m: Model,
  data: { n: number; d: number; X: Float64Array; y: Float64Array },
  refs: Array<[keyof Model, number]>,
): number[] {
  const P = refs.length;
  const val = (mm: Model, t: number) =>
    refs[t]![0] === 'tau' ? mm.tau : (mm[refs[t]![0]] as Float64Array)[refs[t]![1]]!;
  const set = (mm: Model, t: number, v: number) => {
    if (refs[t]![0] === 'tau') mm.tau = v;
    else (mm[refs[t]![0]] as Float64Array)[refs[t]![1]] = v;
  };
  const f = (steps: Array<[number, number]>) => {
    const mm = cloneModel(m);
    for (const [t, h] of steps) set(mm, t, val(mm, t) + h);
    return logLikelihood(mm, data);
  };
  const H = Array.from({ length: P }, () => new Array<number>(P).fill(0));
  for (let s = 0; s < P; s++) {
    for (let t = s; t < P; t++) {
      const hs = 1e-4 * Math.max(1, Math.abs(val(m, s)));
      const ht = 1e-4 * Math.max(1, Math.abs(val(m, t)));
      const v =
        (f([
          [s, hs],
          [t, ht],
        ]) -
          f([
            [s, hs],
            [t, -ht],
          ]) -
          f([
            [s, -hs],
            [t, ht],
          ]) +
          f([
            [s, -hs],
            [t, -ht],
          ])) /
        (4 * hs * ht);
      H[s]![t] = v;
      H[t]![s] = v;
    }
  }
  // (−H)⁻¹ by Gauss–Jordan
  const A = H.map((row, s) => [...row.map((v) => -v), ...Array.from({ length: P }, (_, t) => (t === s ? 1 : 0))]);
  for (let c = 0; c < P; c++) {
    let p = c;
    for (let s = c + 1; s < P; s++) if (Math.abs(A[s]![c]!) > Math.abs(A[p]![c]!)) p = s;
    [A[c], A[p]] = [A[p]!, A[c]!];
    const piv = A[c]![c]!;
    for (let t = 0; t < 2 * P; t++) A[c]![t] = A[c]![t]! / piv;
    for (let s = 0; s < P; s++) {
      if (s === c) continue;
      const f2 = A[s]![c]!;
      for (let t = 0; t < 2 * P; t++) A[s]![t] = A[s]![t]! - f2 * A[c]![t]!;
    }
  }
  return Array.from({ length: P }, (_, s) => Math.sqrt(A[s]![P + s]!));
}

const EXPERTS: Array<[keyof Model, number]> = [
  ['a', 0],
  ['b', 0],
  ['nu', 0],
  ['a', 1],
  ['b', 1],
  ['nu', 1],
];

describe('standardErrors', () => {
  it('softmax: equal to the inverse of a finite-difference Hessian (1e-4 relative), reference expert fixed and said so', () => {
    const truth = truthPreset('demy');
    const data = simulate(truth, { n: 1000, seed: 4 });
    const fit = fitMoE(data, { gate: truth.gate, k: 2, init: { kind: 'model', model: truth } });
    const r = standardErrors(fit.model, data);
    expect(r.status).toBe('ok');
    const fd = fdStandardErrors(fit.model, data, [['beta0', 0], ['beta1', 0], ...EXPERTS]);
    const got = ['beta0[0]', 'beta1[0][0]', 'a[0][0]', 'b[0]', 'nu[0]', 'a[1][0]', 'b[1]', 'nu[1]'].map(
      (p) => r.rows.find((row) => row.param === p)!.se!,
    );
    got.forEach((v, t) => expect(Math.abs(v / fd[t]! - 1), r.rows[t]!.param).toBeLessThan(1e-4));
    expect(r.rows.find((row) => row.param === 'beta0[1]')).toMatchObject({
      se: null,
      fixed: 'reference expert',
      estimate: 0,
    });
    expect(r.notes.join(' ')).toMatch(
      /reference expert 2 \(the last; index 1 in the names\): beta0\[1\], beta1\[1\]\[0\] fixed at 0/,
    );
    const sig = r.rows.find((row) => row.param === 'sigma[0]')!;
    expect(sig.se).toBeCloseTo(got[4]! / (2 * Math.sqrt(fit.model.nu[0]!)), 12);
    expect(formatStandardErrors(r)).toMatch(
      /^standard errors \(inverse observed information, n = 1000, status ok\):\nparameter +estimate +std\. error +z\nbeta0\[0\]/,
    );
  });

  it('tanh: τ is a free parameter with an error; equal to finite differences', () => {
    const truth = truthPreset('temp-tanh');
    const data = simulate(truth, { n: 1500, seed: 2 });
    const fit = fitMoE(data, { gate: truth.gate, k: 2, init: { kind: 'model', model: truth }, tol: 1e-14 });
    const r = standardErrors(fit.model, data);
    expect(r.status).toBe('ok');
    const fd = fdStandardErrors(fit.model, data, [['beta0', 0], ['beta1', 0], ['beta1', 1], ['tau', 0], ...EXPERTS]);
    const got = [
      'beta0[0]',
      'beta1[0][0]',
      'beta1[1][0]',
      'tau',
      'a[0][0]',
      'b[0]',
      'nu[0]',
      'a[1][0]',
      'b[1]',
      'nu[1]',
    ].map((p) => r.rows.find((row) => row.param === p)!.se!);
    got.forEach((v, t) => expect(Math.abs(v / fd[t]! - 1)).toBeLessThan(1e-4));
  });

  it('temperature gate: τ held at the fit along the flat (β1, τ) direction, stated; the rest has errors', () => {
    const truth = truthPreset('temp');
    const data = simulate(truth, { n: 1000, seed: 4 });
    const fit = fitMoE(data, { gate: truth.gate, k: 2, init: { kind: 'model', model: truth } });
    const r = standardErrors(fit.model, data);
    expect(r.status).toBe('ok');
    expect(r.rows.find((row) => row.param === 'tau')).toMatchObject({ se: null, estimate: fit.model.tau });
    expect(r.rows.find((row) => row.param === 'tau')!.fixed).toMatch(/flat/);
    expect(r.notes.join(' ')).toMatch(/τ held at its fitted value .* only β1\/τ is identified/);
    const fd = fdStandardErrors(fit.model, data, [['beta0', 0], ['beta1', 0], ...EXPERTS]);
    expect(Math.abs(r.rows.find((row) => row.param === 'beta1[0][0]')!.se! / fd[1]! - 1)).toBeLessThan(1e-4);
  });

  it('identity with the bias inside: the note names the (β0, β1, τ) orbit and both identified ratios', () => {
    const gate = { kind: 'activation' as const, activation: 'identity' as const, bias: 'inside' as const };
    const truth = { ...truthPreset('temp'), gate };
    const data = simulate(truth, { n: 1000, seed: 4 });
    const fit = fitMoE(data, { gate, k: 2, init: { kind: 'model', model: truth } });
    const r = standardErrors(fit.model, data);
    expect(r.status).toBe('ok');
    expect(r.notes.join(' ')).toMatch(
      /τ held at its fitted value .* bias inside .* \(β0, β1, τ\) → c\(β0, β1, τ\), only β0\/τ and β1\/τ are identified/,
    );
  });

  it('a collinear design (x2 = 2·x1): singular, the flat direction named, no errors, no NaN', () => {
    const truth = truthPreset('d2');
    const sim = simulate(truth, { n: 500, seed: 1 });
    const X = Float64Array.from(sim.X, (v, t) => (t % 2 === 1 ? 2 * sim.X[t - 1]! : v));
    const r = standardErrors(truth, { n: sim.n, d: 2, X, y: sim.y });
    expect(r.status).toBe('singular');
    expect(r.covariance).toBeNull();
    expect(r.notes.join(' ')).toMatch(
      /singular \(\d+ zero eigenvalue\(s\).*no standard errors\. Flat direction ≈ .*(a|beta1)\[0\]\[/,
    );
    for (const row of r.rows) {
      if (!row.fixed) expect(row.se).toBeNull();
      expect(Number.isNaN(row.estimate)).toBe(false);
    }
    expect(formatStandardErrors(r)).not.toMatch(/NaN/);
  });

  it('x far from 0 against its spread (1e6 + U(0, 1)): numerically singular, and the note says to centre x', () => {
    const truth = truthPreset('demy');
    const sim = simulate(truth, { n: 300, seed: 2 });
    const shift = (m: Model): Model => {
      const c = cloneModel(m); // the same model in x + 1e6: b −= a·1e6, β0 −= β1·1e6
      for (let j = 0; j < c.k; j++) {
        c.b[j] = c.b[j]! - c.a[j]! * 1e6;
        c.beta0[j] = c.beta0[j]! - c.beta1[j]! * 1e6;
      }
      return c;
    };
    const far = { ...sim, X: Float64Array.from(sim.X, (v) => v + 1e6) };
    const r = standardErrors(shift(truth), far);
    expect(r.status).toBe('singular');
    expect(r.notes.join(' ')).toMatch(/; here also x1 \(mean 1\.00e\+6, sd 0\.\d+\) lies far from 0 .*: centre it/);
    const near = standardErrors(truth, sim);
    expect(near.status).toBe('ok');
    expect(near.notes.join(' ')).not.toMatch(/far from 0/);
  });

  it('a model that is not a maximum: not negative definite, said so, with the gradient', () => {
    const truth = truthPreset('demy');
    const data = simulate(truth, { n: 500, seed: 1 });
    const m = cloneModel(truth);
    m.a[0] = 20;
    m.a[1] = -20; // experts swapped against the gate: far from any maximum
    const r = standardErrors(m, data);
    expect(r.status).toBe('not-negative-definite');
    expect(r.notes.join(' ')).toMatch(/not negative definite/);
    expect(r.notes.join(' ')).toMatch(/gradient is not zero/);
    expect(r.rows.every((row) => row.se === null)).toBe(true);
  });

  it('top-1 by slope: the gate the likelihood does not see is named, the experts get errors', () => {
    const truth = truthPreset('demy');
    const gate = { kind: 'topk' as const, K: 1, selectOn: 'slope' as const };
    // x ~ N(0, 1): expert 0 where x > 0, expert 1 where x < 0
    const m = { ...cloneModel(truth), gate, beta1: Float64Array.of(1, 0) };
    const data = simulate(m, { n: 800, seed: 3, design: 'normal' });
    const r = standardErrors(m, data);
    expect(r.notes.join(' ')).toMatch(/beta0\[0\], beta1\[0\]\[0\]: the log-likelihood does not depend on them/);
    expect(r.rows.find((row) => row.param === 'beta0[0]')!.se).toBeNull();
    expect(r.rows.find((row) => row.param === 'a[0][0]')!.se).toBeGreaterThan(0);
  });

  it('refuses data of another dimension', () => {
    const truth = truthPreset('demy');
    expect(() => standardErrors(truth, { n: 2, d: 2, X: new Float64Array(4), y: new Float64Array(2) })).toThrow(
      /data\.d/,
    );
  });
});
