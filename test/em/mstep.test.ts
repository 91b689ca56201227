import { describe, expect, it } from 'vitest';
import { Matrix, solve } from 'ml-matrix';
import { getGate, type Dataset, type Model } from '../../src/models/index.js';
import { cloneModel } from '../../src/models/types.js';
import {
  createCpuBackend,
  createExpertsMStep,
  createWorkspace,
  gateLayout,
  gateMStepFor,
  GateQObjective,
  WarningLog,
} from '../../src/em/index.js';
import { normalizeGate, packGate } from '../../src/em/gates/layout.js';
import { createRng } from '../../src/random/rng.js';

/** Nelder–Mead minimiser (the generic optimiser the Newton M-step is compared with). */
function nelderMead(f: (x: Float64Array) => number, x0: Float64Array, scale: number, iters: number): Float64Array {
  const p = x0.length;
  let simplex = Array.from({ length: p + 1 }, (_, i) => {
    const v = Float64Array.from(x0);
    if (i > 0) v[i - 1] = v[i - 1]! + scale;
    return v;
  });
  let vals = simplex.map(f);
  for (let it = 0; it < iters; it++) {
    const order = vals
      .map((v, i) => [v, i] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, i]) => i);
    simplex = order.map((i) => simplex[i]!);
    vals = order.map((i) => vals[i]!);
    const c = new Float64Array(p);
    for (let i = 0; i < p; i++) for (let t = 0; t < p; t++) c[t] = c[t]! + simplex[i]![t]! / p;
    const at = (s: number) => Float64Array.from(c, (ct, t) => ct + s * (simplex[p]![t]! - ct));
    const xr = at(-1);
    const fr = f(xr);
    if (fr < vals[0]!) {
      const xe = at(-2);
      const fe = f(xe);
      if (fe < fr) {
        simplex[p] = xe;
        vals[p] = fe;
      } else {
        simplex[p] = xr;
        vals[p] = fr;
      }
    } else if (fr < vals[p - 1]!) {
      simplex[p] = xr;
      vals[p] = fr;
    } else {
      const xc = at(fr < vals[p]! ? -0.5 : 0.5);
      const fc = f(xc);
      if (fc < Math.min(fr, vals[p]!)) {
        simplex[p] = xc;
        vals[p] = fc;
      } else
        for (let i = 1; i <= p; i++) {
          simplex[i] = Float64Array.from(simplex[i]!, (v, t) => simplex[0]![t]! + 0.5 * (v - simplex[0]![t]!));
          vals[i] = f(simplex[i]!);
        }
    }
  }
  return simplex[vals.indexOf(Math.min(...vals))]!;
}

function demyLike(n: number, seed: number): Dataset {
  const rng = createRng(seed);
  const X = Float64Array.from({ length: n }, () => rng.uniform());
  const y = Float64Array.from(X, (x) => (x < 0.4 ? -10 * x + 4 : 8 * x - 3) + 0.3 * rng.normal());
  return { n, d: 1, X, y };
}

describe('softmax gate M-step', () => {
  it('reaches the maximiser of Q found by a generic optimiser (Nelder–Mead)', () => {
    const n = 200;
    const k = 3;
    const data = demyLike(n, 3);
    const gate = { kind: 'softmax' } as const;
    const m: Model = {
      gate,
      k,
      d: 1,
      beta0: Float64Array.of(0.3, -0.2, 0),
      beta1: Float64Array.of(1, -1, 0),
      a: new Float64Array(k),
      b: new Float64Array(k),
      nu: new Float64Array(k).fill(1),
      tau: 1,
    };
    const layout = gateLayout(gate, k, 1, 'free');
    const be = createCpuBackend();
    const ws = createWorkspace(n, k, false, false);
    // smooth responsibilities with an x-dependent pattern, so that the maximiser is finite and non-trivial
    const rng = createRng(9);
    for (let i = 0; i < n; i++) {
      const x = data.X[i]!;
      const w = [Math.exp(3 * x) + rng.uniform(), Math.exp(-3 * x) + rng.uniform(), 1.5];
      const s = w[0]! + w[1]! + w[2]!;
      for (let j = 0; j < k; j++) ws.resp[i * k + j] = w[j]! / s;
    }
    be.gateProbs(m, data.X, n, ws.logPi, ws.pi, null, 'none');
    const step = gateMStepFor('softmax')({ backend: be, data, model: m, ws, layout });
    const res = step.step({
      backend: be,
      data,
      model: m,
      ws,
      layout,
      maxSteps: 100,
      tol: 1e-14,
      warnings: new WarningLog(),
      iteration: 1,
    });
    expect(res.info.converged).toBe(true);
    const thetaN = new Float64Array(layout.p);
    packGate(layout, m, thetaN);
    // Q through an independent route: the objective's trial evaluations
    const m2 = cloneModel(m);
    const ws2 = createWorkspace(n, k, false, false);
    ws2.resp.set(ws.resp);
    const obj = new GateQObjective(be, layout, getGate(gate), data.X, n, ws2, m2, cloneModel(m2));
    const negQ = (t: Float64Array) => -obj.trial(t);
    let thetaG: Float64Array = new Float64Array(layout.p); // generic optimiser from 0
    for (let r = 0; r < 4; r++) thetaG = nelderMead(negQ, thetaG, r === 0 ? 1 : 1e-3, 1500);
    const qN = -negQ(thetaN);
    const qG = -negQ(thetaG);
    // Newton is at least as high as the generic optimiser (up to rounding of a sum of n terms)
    expect(qN).toBeGreaterThanOrEqual(qG - 1e-12 * n);
    // and at the same point: Q is strongly concave here, so equal values mean equal parameters
    for (let t = 0; t < layout.p; t++) expect(Math.abs(thetaN[t]! - thetaG[t]!)).toBeLessThan(1e-4);
    // the returned buffers hold π at the new parameters (the next E-step reuses them)
    expect(res.info.logPiValid).toBe(true);
    const check = new Float64Array(n * k);
    be.gateProbs(m, data.X, n, check, new Float64Array(n * k), null, 'none');
    for (let t = 0; t < n * k; t++) expect(ws.logPi[t]).toBe(check[t]);
  });
});

describe('experts M-step', () => {
  const k = 2;
  const d = 2;
  const n = 500;
  const rng = createRng(21);
  const X = Float64Array.from({ length: n * d }, () => 100 + rng.uniform()); // offset: centring matters
  const y = Float64Array.from({ length: n }, (_, i) => 3 + 2 * X[i * d]! - X[i * d + 1]! + 0.1 * rng.normal());
  const data: Dataset = { n, d, X, y };
  const resp = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const w = rng.uniform();
    resp[i * k] = w;
    resp[i * k + 1] = 1 - w;
  }

  function model(): Model {
    return {
      gate: { kind: 'softmax' },
      k,
      d,
      beta0: new Float64Array(k),
      beta1: new Float64Array(k * d),
      a: new Float64Array(k * d),
      b: new Float64Array(k),
      nu: new Float64Array(k).fill(1),
      tau: 1,
    };
  }

  it('equals weighted least squares solved directly (ml-matrix on the weighted normal equations)', () => {
    const m = model();
    const ex = createExpertsMStep(createCpuBackend(), data, k, 1e-12, 3);
    const warnings = new WarningLog();
    ex.step(m, resp, warnings, 1);
    expect(warnings.list()).toEqual([]);
    for (let j = 0; j < k; j++) {
      // Z = (1, x), solve (ZᵀWZ) θ = ZᵀWy
      const Z = new Matrix(n, d + 1);
      for (let i = 0; i < n; i++) {
        Z.set(i, 0, 1);
        for (let l = 0; l < d; l++) Z.set(i, l + 1, X[i * d + l]!);
      }
      const ZtW = Z.transpose().clone();
      for (let i = 0; i < n; i++) for (let c = 0; c <= d; c++) ZtW.set(c, i, ZtW.get(c, i) * resp[i * k + j]!);
      const theta = solve(ZtW.mmul(Z), ZtW.mmul(Matrix.columnVector(Array.from(y))));
      // the direct normal equations lose ~cond(ZᵀWZ)·eps ≈ 1e4·1e-16 relative (x ≈ 100): compare at 1e-8
      expect(m.b[j]).toBeCloseTo(theta.get(0, 0), 6);
      for (let l = 0; l < d; l++) expect(m.a[j * d + l]).toBeCloseTo(theta.get(l + 1, 0), 8);
      let rss = 0;
      let N = 0;
      for (let i = 0; i < n; i++) {
        let mu = m.b[j]!;
        for (let l = 0; l < d; l++) mu += m.a[j * d + l]! * X[i * d + l]!;
        rss += resp[i * k + j]! * (y[i]! - mu) ** 2;
        N += resp[i * k + j]!;
      }
      expect(m.nu[j]! / (rss / N) - 1).toBeLessThan(1e-12);
      expect(m.nu[j]! / (rss / N) - 1).toBeGreaterThan(-1e-12);
    }
  });

  it('floors the variance with a warning, and keeps an expert with almost no responsibility', () => {
    const m = model();
    m.a.set([1, 1, 1, 1]);
    m.b.set([7, 7]);
    m.nu.set([2, 2]);
    const r = new Float64Array(n * k);
    for (let i = 0; i < n; i++) r[i * k] = 1; // expert 1 gets nothing
    const ex = createExpertsMStep(createCpuBackend(), data, k, 1, 3); // floor 1 ≫ the residual variance 0.01
    const warnings = new WarningLog();
    ex.step(m, r, warnings, 4);
    expect(m.nu[0]).toBe(1);
    expect(Array.from(m.a.subarray(2))).toEqual([1, 1]);
    expect(m.b[1]).toBe(7);
    expect(m.nu[1]).toBe(2);
    const text = warnings.list().join('\n');
    // a condition of that M-step, said with its iteration (it is no fact about a returned fit)
    expect(text).toMatch(/^expert 1: variance floor hit \(ν = .*\) \(at iteration 4\)$/m);
    expect(text).toMatch(
      /^expert 2 had almost no responsibility \(Σ r = .* < \d+\): its M-step kept its previous parameters \(at iteration 4\)$/m,
    );
  });
});
