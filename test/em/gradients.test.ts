/**
 * Every gate's M-step objective Q(θ) = Σ_ij r_ij log π_ij: the analytic gradient (through
 * Gate.logitDerivs) matches central finite differences, and for the softmax (and top-K with S_K
 * held fixed) the curvature is exactly −∇²Q.
 */
import { describe, expect, it } from 'vitest';
import { getGate, type GateSpec, type Model } from '../../src/models/index.js';
import { cloneModel } from '../../src/models/types.js';
import { createCpuBackend, createWorkspace, gateLayout, GateQObjective } from '../../src/em/index.js';
import { packGate, normalizeGate } from '../../src/em/gates/layout.js';
import { createRng } from '../../src/random/rng.js';

function randomModel(gate: GateSpec, k: number, d: number, seed: number): Model {
  const rng = createRng(seed);
  const r = (s: number) => Float64Array.from({ length: s }, () => rng.normal());
  return {
    gate,
    k,
    d,
    beta0: r(k),
    beta1: r(k * d),
    a: r(k * d),
    b: r(k),
    nu: Float64Array.from({ length: k }, () => 0.5 + rng.uniform()),
    tau: 0.7 + rng.uniform(),
  };
}

interface Setup {
  obj: GateQObjective;
  theta: Float64Array;
  p: number;
  n: number;
}

function setup(gate: GateSpec, tauMode: 'free' | 'fixed', seed: number, d: number, k = 3, n = 300): Setup {
  const m = randomModel(gate, k, d, seed);
  const rng = createRng(seed + 100);
  const X = Float64Array.from({ length: n * d }, () => rng.normal());
  const layout = gateLayout(gate, k, d, tauMode);
  normalizeGate(layout, m);
  const topk = gate.kind === 'topk';
  const ws = createWorkspace(n, k, true, topk);
  const be = createCpuBackend();
  be.gateProbs(m, X, n, ws.logPi, ws.pi, topk ? ws.mask : null, topk ? 'compute' : 'none');
  // soft responsibilities, zero outside the active set (as an E-step gives)
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const v = topk && !ws.mask[i * k + j] ? 0 : 0.1 + rng.uniform();
      ws.resp[i * k + j] = v;
      s += v;
    }
    for (let j = 0; j < k; j++) ws.resp[i * k + j] = ws.resp[i * k + j]! / s;
  }
  const obj = new GateQObjective(be, layout, getGate(gate), X, n, ws, m, cloneModel(m));
  obj.maskMode = topk ? 'fixed' : 'none';
  const theta = new Float64Array(layout.p);
  packGate(layout, m, theta);
  return { obj, theta, p: layout.p, n };
}

/** Central difference of Q along coordinate c; step h relative to the coordinate. */
function fdGrad(s: Setup, h: number): Float64Array {
  const g = new Float64Array(s.p);
  for (let c = 0; c < s.p; c++) {
    const hp = Float64Array.from(s.theta);
    hp[c] = hp[c]! + h;
    const hm = Float64Array.from(s.theta);
    hm[c] = hm[c]! - h;
    g[c] = (s.obj.trial(hp) - s.obj.trial(hm)) / (2 * h);
  }
  return g;
}

const GATES: [string, GateSpec, 'free' | 'fixed'][] = [
  ['softmax', { kind: 'softmax' }, 'free'],
  ['top-2 of 3 (slope)', { kind: 'topk', K: 2, selectOn: 'slope' }, 'free'],
  ['top-2 of 3 (logit)', { kind: 'topk', K: 2, selectOn: 'logit' }, 'free'],
  ['temperature, τ free', { kind: 'temperature' }, 'free'],
  ['temperature, τ fixed', { kind: 'temperature' }, 'fixed'],
  ['tanh activation', { kind: 'activation', activation: 'tanh', bias: 'outside' }, 'free'],
  ['sigmoid activation', { kind: 'activation', activation: 'sigmoid', bias: 'outside' }, 'free'],
  ['gelu activation', { kind: 'activation', activation: 'gelu', bias: 'outside' }, 'free'],
  ['tanh activation, bias inside', { kind: 'activation', activation: 'tanh', bias: 'inside' }, 'free'],
];

describe('gate M-step objective: gradient = finite differences', () => {
  for (const [name, gate, tauMode] of GATES) {
    it(name, () => {
      // d = 1 runs the backend's fast paths, d = 2 its general loops
      for (const [seed, d] of [
        [1, 1],
        [2, 2],
      ] as const) {
        const s = setup(gate, tauMode, seed, d);
        const g = new Float64Array(s.p);
        s.obj.gradCurv(g, new Float64Array(s.p * s.p));
        const h = 1e-5;
        const fd = fdGrad(s, h);
        // central differences: truncation ~h²·|Q'''| and rounding ~eps·|Q|/h; Q and its derivatives are O(n)
        const tol = s.n * (h * h * 10 + (1e-16 / h) * 10);
        for (let c = 0; c < s.p; c++) expect(Math.abs(g[c]! - fd[c]!)).toBeLessThan(tol);
        // and the gradient-only pass agrees with the full one
        const g2 = new Float64Array(s.p);
        s.obj.grad(g2);
        for (let c = 0; c < s.p; c++) expect(g2[c]).toBe(g[c]);
      }
    });
  }
});

describe('softmax and top-K (S_K fixed): curvature = −Hessian of Q', () => {
  for (const [name, gate] of GATES.slice(0, 3)) {
    it.each([1, 2])(`${name}, d = %i`, (d) => {
      const s = setup(gate, 'free', 7, d);
      const C = new Float64Array(s.p * s.p);
      s.obj.gradCurv(new Float64Array(s.p), C);
      // −∂g/∂θ_c by central differences of the analytic gradient
      const h = 1e-5;
      const gp = new Float64Array(s.p);
      const gm = new Float64Array(s.p);
      const scratch = new Float64Array(s.p * s.p);
      for (let c = 0; c < s.p; c++) {
        const tp = Float64Array.from(s.theta);
        tp[c] = tp[c]! + h;
        s.obj.trial(tp);
        s.obj.accept();
        s.obj.gradCurv(gp, scratch);
        const tm = Float64Array.from(s.theta);
        tm[c] = tm[c]! - h;
        s.obj.trial(tm);
        s.obj.accept();
        s.obj.gradCurv(gm, scratch);
        for (let r = 0; r < s.p; r++) {
          const fd = -(gp[r]! - gm[r]!) / (2 * h);
          expect(Math.abs(C[r * s.p + c]! - fd)).toBeLessThan(s.n * (h * h * 10 + (1e-16 / h) * 10));
        }
      }
      // symmetric, positive semi-definite (diagonal ≥ 0)
      for (let r = 0; r < s.p; r++) {
        expect(C[r * s.p + r]!).toBeGreaterThanOrEqual(0);
        for (let c = 0; c < s.p; c++) expect(C[r * s.p + c]).toBe(C[c * s.p + r]);
      }
    });
  }
});
