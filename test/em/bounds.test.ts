import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fitMoE, type FitOptions } from '../../src/em/index.js';
import { extrapolatedModel } from '../../src/em/fit.js';
import { packParams, squaremLength } from '../../src/em/squarem.js';
import {
  boxProjection,
  gateBox,
  parseBounds,
  projectToBounds,
  withinBounds,
  type Bounds,
} from '../../src/em/bounds.js';
import {
  createCpuBackend,
  createWorkspace,
  gateLayout,
  gateMStepFor,
  GateQObjective,
  WarningLog,
} from '../../src/em/index.js';
import { normalizeGate, packGate } from '../../src/em/gates/layout.js';
import { getGate, type Dataset, type GateSpec, type Model } from '../../src/models/index.js';
import { cloneModel, hasTau } from '../../src/models/types.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import { validateSpec } from '../../src/experiments/spec.js';
import { presetSpec } from '../../src/experiments/presets.js';
import { createRng } from '../../src/random/rng.js';
import { maximize } from '../../src/em/optim/driver.js';
import { ridgeDamping } from '../../src/em/optim/damping.js';

/** Every gate form and M-step path: softmax, top-K (cell A + surrogate B; K = 1: B + switch search C), identity proxy (bias outside and inside), exact-Hessian tanh, Fisher sigmoid. */
const FORMS: { name: string; truth: string; gate: GateSpec; k: number }[] = [
  { name: 'softmax', truth: 'demy', gate: { kind: 'softmax' }, k: 3 },
  { name: 'topk 2 of 3', truth: 'topk1', gate: { kind: 'topk', K: 2, selectOn: 'logit' }, k: 3 },
  { name: 'topk 1 of 2', truth: 'topk1', gate: { kind: 'topk', K: 1, selectOn: 'logit' }, k: 2 },
  { name: 'temperature', truth: 'temp', gate: { kind: 'temperature' }, k: 2 },
  {
    name: 'identity inside (proxy on β0/τ, β1/τ)',
    truth: 'temp',
    gate: { kind: 'activation', activation: 'identity', bias: 'inside' },
    k: 2,
  },
  {
    name: 'tanh (exact Hessian)',
    truth: 'temp-tanh',
    gate: { kind: 'activation', activation: 'tanh', bias: 'outside' },
    k: 3,
  },
  {
    name: 'sigmoid inside (Fisher)',
    truth: 'temp-sigmoid',
    gate: { kind: 'activation', activation: 'sigmoid', bias: 'inside' },
    k: 2,
  },
];

const BOUNDS: Bounds = { beta1: 10, beta0: 4, nu: [0.05, 2], tau: [0.5, 2] };

/** A start drawn at random, partly outside BOUNDS. */
function randomStart(gate: GateSpec, k: number, seed: number): Model {
  const rng = createRng(seed);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng.uniform();
  return {
    gate,
    k,
    d: 1,
    beta0: Float64Array.from({ length: k }, () => u(-12, 12)),
    beta1: Float64Array.from({ length: k }, () => u(-40, 40)),
    a: Float64Array.from({ length: k }, () => u(-25, 25)),
    b: Float64Array.from({ length: k }, () => u(-8, 16)),
    nu: Float64Array.from({ length: k }, () => u(0.005, 3)),
    tau: hasTau(gate) ? Math.exp(u(-2, 2)) : 1,
  };
}

function data(truth: string, n: number, seed: number): Dataset {
  const d = simulate(truthPreset(truth), { n, seed });
  return { n: d.n, d: d.d, X: d.X, y: d.y };
}

function maxDrop(trace: number[]): number {
  let drop = 0;
  for (let t = 1; t < trace.length; t++) drop = Math.max(drop, (trace[t - 1]! - trace[t]!) / (1 + Math.abs(trace[t]!)));
  return drop;
}

describe('bounds: the fit option', () => {
  for (const f of FORMS) {
    it(`${f.name}: every iteration stays in the box and EM stays monotone (random data and starts)`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 1e6 }),
          fc.integer({ min: 1, max: 1e6 }),
          fc.constantFrom('squarem' as const, 'none' as const),
          fc.constantFrom('em' as const, 'hybrid' as const),
          (dataSeed, startSeed, accelerate, optimizer) => {
            const x = data(f.truth, 300, dataSeed);
            const base: FitOptions = {
              gate: f.gate,
              k: f.k,
              init: { kind: 'model', model: randomStart(f.gate, f.k, startSeed) },
              bounds: BOUNDS,
              accelerate,
              optimizer,
              maxIter: 200,
            };
            const full = fitMoE(x, base);
            // the trace never drops (beyond rounding), and the fit says so itself
            expect(maxDrop(full.trace)).toBeLessThan(1e-12);
            expect(full.warnings.some((w) => w.includes('decreased'))).toBe(false);
            // the model after each of the first iterations (the same path, stopped there) lies in the box
            const last = full.iterations;
            for (const t of new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, last - 3, last - 2, last - 1, last])) {
              if (t < 0) continue;
              const fit = t === full.iterations ? full : fitMoE(x, { ...base, maxIter: t });
              expect(withinBounds(fit.model, BOUNDS)).toBe(true);
            }
          },
        ),
        { numRuns: 6, seed: 7 },
      );
    });
  }

  it('a box that never binds changes nothing, bit for bit (every gate form)', () => {
    // (the sigmoid-inside fit runs τ down to 4e-10: the box must be wider still)
    const loose: Bounds = { beta1: 1e9, beta0: 1e9, nu: [1e-300, 1e300], tau: [1e-300, 1e300] };
    for (const f of FORMS) {
      const x = data(f.truth, 400, 11);
      const opts: FitOptions = { gate: f.gate, k: f.k, init: { kind: 'near-truth', truth: truthPreset(f.truth) } };
      const a = fitMoE(x, opts);
      const b = fitMoE(x, { ...opts, bounds: loose });
      expect(b.trace).toEqual(a.trace);
      expect(b.model).toEqual(a.model);
      expect(b.warnings).toEqual(a.warnings);
      expect(a.options.bounds).toBeUndefined();
    }
  });

  it('top-1: the switch search only looks inside the β0 bound', () => {
    // the truth's switch at x = 0.32 needs β0 = −0.32·β1: with |β1| ≤ 2 and |β0| ≤ 0.5 it is out of reach
    const bounds: Bounds = { beta1: 2, beta0: 0.5 };
    const x = data('topk1', 500, 3);
    for (const t of [1, 2, 3, 5, 10, 100]) {
      const fit = fitMoE(x, {
        gate: { kind: 'topk', K: 1, selectOn: 'logit' },
        k: 2,
        init: { kind: 'near-truth', truth: truthPreset('topk1') },
        bounds,
        maxIter: t,
      });
      expect(withinBounds(fit.model, bounds)).toBe(true);
      expect(maxDrop(fit.trace)).toBeLessThan(1e-12);
    }
  });

  it("SQUAREM's extrapolated point is projected onto the box before its EM step", () => {
    const m = randomStart({ kind: 'temperature' }, 3, 1);
    const far = cloneModel(m);
    far.beta1.set([80, -60, 0]);
    far.nu.set([1e-4, 7, 0.5]);
    far.tau = 9;
    const px = new Float64Array(squaremLength(far));
    packParams(far, px);
    extrapolatedModel(px, m, 1e-6, null, BOUNDS, true);
    expect(Array.from(m.beta1)).toEqual([10, -10, 0]);
    expect(Array.from(m.nu)).toEqual([0.05, 2, 0.5]);
    expect(m.tau).toBe(2);
    // the gauge first (β1, τ) → (cβ1, cτ) to τ = 1, then the box
    extrapolatedModel(px, m, 1e-6, 1, BOUNDS, true);
    expect(m.tau).toBe(1);
    expect(m.beta1[0]).toBeCloseTo(80 / 9, 12);
    expect(m.beta1[1]).toBeCloseTo(-60 / 9, 12);
  });

  it('a fit ending on a bound says so, and the start is projected', () => {
    const x = data('demy', 1000, 2);
    const fit = fitMoE(x, {
      gate: { kind: 'softmax' },
      k: 2,
      init: { kind: 'near-truth', truth: truthPreset('demy'), noiseScale: 0 },
      bounds: { beta1: 10 },
    });
    expect(fit.model.beta1[0]).toBe(10);
    expect(fit.warnings.some((w) => w.startsWith('the start lay outside the bounds'))).toBe(true);
    expect(fit.warnings.some((w) => w.includes('ended on its bounds') && w.includes('beta1[0][0] = 10'))).toBe(true);
  });

  it('bad bounds: one-line errors naming the field and the value', () => {
    const x = data('demy', 200, 1);
    const fit = (bounds: unknown) => () => fitMoE(x, { gate: { kind: 'softmax' }, k: 2, bounds: bounds as Bounds });
    expect(fit({ beta1: -1 })).toThrow('bounds.beta1 must be a finite number > 0. Value: -1');
    expect(fit({ beta0: Infinity })).toThrow('bounds.beta0 must be a finite number > 0');
    expect(fit({ nu: [2, 1] })).toThrow(
      'bounds.nu must be [min, max] with 0 < min ≤ max (finite numbers). Value: [2,1]',
    );
    expect(fit({ tau: [0, 1] })).toThrow('bounds.tau[0] must be a finite number > 0. Value: 0');
    expect(fit({ tau: 3 })).toThrow('bounds.tau must be [min, max]');
    expect(fit({ beta: 1 })).toThrow('bounds.beta is not a field of bounds (allowed: beta1, beta0, nu, tau)');
    expect(fit([1])).toThrow('bounds must be an object');
    expect(fit({ nu: [1e-12, 1e-11] })).toThrow(/^bounds\.nu must reach at least the variance floor/);
    // in a spec: the path under em
    const spec = presetSpec('demy-over', { quick: true });
    expect(() => validateSpec({ ...spec, em: { bounds: { beta1: 0 } } })).toThrow(
      'em.bounds.beta1 must be a finite number > 0. Value: 0',
    );
    expect(() => validateSpec({ ...spec, models: [{ ...spec.models[0], em: { bounds: { nu: [1, 'a'] } } }] })).toThrow(
      'models[0].em.bounds.nu[1] must be a finite number > 0. Value: "a"',
    );
  });

  it('spec.json records em.bounds only when given', () => {
    const spec = presetSpec('demy-over', { quick: true });
    expect('bounds' in spec.em).toBe(false);
    const b = validateSpec({ ...spec, em: { ...spec.em, bounds: { beta1: 50, nu: [0.01, 10] } } });
    expect(JSON.parse(JSON.stringify(b)).em.bounds).toEqual({ beta1: 50, nu: [0.01, 10] });
    expect(parseBounds({ beta0: 3 })).toEqual({ beta0: 3 });
  });
});

describe('bounds: projected Newton in the gate M-step', () => {
  /** Runs a gate's M-step to its end from a start in the box; returns the projected-gradient residual of Q there. */
  function kktResidual(
    gate: GateSpec,
    truth: string,
    bounds: Bounds,
    steps: number,
  ): { residual: number; held: number } {
    const n = 400;
    const x = data(truth, n, 5);
    const t = truthPreset(truth);
    const k = t.k;
    const m = cloneModel(t);
    m.gate = gate;
    const layout = gateLayout(gate, k, 1, 'free');
    normalizeGate(layout, m);
    projectToBounds(m, bounds);
    const be = createCpuBackend();
    const ws = createWorkspace(n, k, layout.linear === false, false);
    // responsibilities of the truth: the unconstrained maximiser of Q lies near the truth, outside the box
    be.gateProbs(t, x.X, n, ws.logPi, ws.pi, null, 'none');
    be.eStep(t, x.X, x.y, n, ws.logPi, ws.resp);
    be.gateProbs(m, x.X, n, ws.logPi, ws.pi, null, 'none');
    const step = gateMStepFor(gate.kind)({ backend: be, data: x, model: m, ws, layout, bounds });
    for (let s = 0; s < steps; s++) {
      step.step({
        backend: be,
        data: x,
        model: m,
        ws,
        layout,
        maxSteps: 100,
        tol: 1e-14,
        warnings: new WarningLog(),
        iteration: s + 1,
      });
      expect(withinBounds(m, bounds)).toBe(true);
    }
    // gradient of Q at the result, through an independent objective
    const obj = new GateQObjective(be, layout, getGate(gate), x.X, n, ws, m, cloneModel(m));
    be.gateProbs(m, x.X, n, ws.logPi, ws.pi, null, 'none');
    const theta = new Float64Array(layout.p);
    packGate(layout, m, theta);
    const g = new Float64Array(layout.p);
    obj.gradCurv(g, new Float64Array(layout.p * layout.p));
    const box = gateBox(layout, bounds)!;
    let residual = 0;
    let held = 0;
    for (let i = 0; i < layout.p; i++) {
      // KKT of a box: zero gradient inside, pointing out of the box at an active bound
      const atLo = theta[i]! <= box.lo[i]!;
      const atHi = theta[i]! >= box.hi[i]!;
      if ((atLo && g[i]! <= 0) || (atHi && g[i]! >= 0)) held++;
      else residual = Math.max(residual, Math.abs(g[i]!) / n);
    }
    return { residual, held };
  }

  it('softmax: ends at a KKT point of Q on the box, with a bound active', () => {
    const r = kktResidual({ kind: 'softmax' }, 'demy', { beta1: 10, beta0: 3 }, 1);
    expect(r.held).toBeGreaterThan(0);
    expect(r.residual).toBeLessThan(1e-7);
  });

  it('tanh (exact Hessian) and sigmoid inside (Fisher): KKT points after a few M-steps', () => {
    const tanh = kktResidual(
      { kind: 'activation', activation: 'tanh', bias: 'outside' },
      'temp-tanh',
      { beta1: 2, tau: [0.5, 0.8] },
      30,
    );
    expect(tanh.held).toBeGreaterThan(0);
    expect(tanh.residual).toBeLessThan(1e-6);
    const sig = kktResidual(
      { kind: 'activation', activation: 'sigmoid', bias: 'inside' },
      'temp-sigmoid',
      { beta1: 3, beta0: 2 },
      30,
    );
    expect(sig.held).toBeGreaterThan(0);
    expect(sig.residual).toBeLessThan(1e-6);
  });

  it('boxProjection gives the driver projected Newton: it reaches the box maximiser a plain projection misses', () => {
    // Q(θ) = −(θ − c)ᵀA(θ − c), A = [[2, 1], [1, 2]], c = (5, −1.5), box [−1, 1]²: the maximiser in the box
    // is (1, 0.5) (θ0 at its bound, θ1 inside); projecting the Newton step (→ c) alone ends at (1, −1)
    const c = [5, -1.5];
    const x = new Float64Array(2);
    const q = (t: Float64Array) => {
      const u = t[0]! - c[0]!;
      const v = t[1]! - c[1]!;
      return -(2 * u * u + 2 * u * v + 2 * v * v);
    };
    const pending = new Float64Array(2);
    const obj = {
      dim: 2,
      trial(t: Float64Array) {
        pending.set(t);
        return q(t);
      },
      accept() {
        x.set(pending);
      },
      gradCurv(g: Float64Array, curv: Float64Array) {
        const u = x[0]! - c[0]!;
        const v = x[1]! - c[1]!;
        g[0] = -(4 * u + 2 * v);
        g[1] = -(2 * u + 4 * v);
        curv.set([4, 2, 2, 4]);
      },
    };
    const box = { lo: Float64Array.of(-1, -1), hi: Float64Array.of(1, 1) };
    const theta = new Float64Array(2);
    const r = maximize(obj, theta, ridgeDamping(), { projection: boxProjection(box), tol: 1e-14 }, undefined, q(theta));
    expect(r.converged).toBe(true);
    expect(theta[0]).toBe(1);
    expect(theta[1]).toBeCloseTo(0.5, 12);
    // the projection alone (no hold): stuck on the corner
    const plain = new Float64Array(2);
    x.fill(0);
    const proj = boxProjection(box);
    maximize(obj, plain, ridgeDamping(), { projection: { project: proj.project }, tol: 1e-14 }, undefined, q(plain));
    expect(q(plain)).toBeLessThan(q(theta) - 1);
    // a feasible point is left bit for bit, and says so
    const inside = Float64Array.of(0.25, -1);
    expect(proj.project(inside)).toBe(false);
    expect(Array.from(inside)).toEqual([0.25, -1]);
  });
});
