/**
 * The dense-to-sparse gate kernels of the CPU backend (src/em/backend/cpu/activation-gate.ts: d = 1,
 * identity / tanh / sigmoid, bias outside) against the generic path (Gate.logProbs / logitDerivs
 * with Math.tanh / Math.exp, and the generic gateGradCurv), their exact Hessian against central
 * differences of their gradient, and the dense gate M-step (exact-Hessian Newton; the softmax
 * proxy for the identity activation) against the Fisher-scoring path it replaces.
 */
import { describe, expect, it } from 'vitest';
import {
  cholesky,
  choleskySolve,
  createCpuBackend,
  gateLayout,
  gateMStepFor,
  GateQObjective,
} from '../../src/em/index.js';
import { packGate } from '../../src/em/gates/index.js';
import type { Backend } from '../../src/em/backend/types.js';
import type { DenseGateKernels } from '../../src/em/backend/cpu/activation-grad.js';
import { createWorkspace } from '../../src/em/workspace.js';
import { WarningLog } from '../../src/em/warnings.js';
import { getGate } from '../../src/models/gates/index.js';
import { cloneModel, type GateSpec, type Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';

const GATES: [string, GateSpec][] = [
  ['temperature', { kind: 'temperature' }],
  ['tanh', { kind: 'activation', activation: 'tanh', bias: 'outside' }],
  ['sigmoid', { kind: 'activation', activation: 'sigmoid', bias: 'outside' }],
];

function setup(gate: GateSpec, k: number, n: number, seed: number) {
  const rng = createRng(seed);
  const r = (len: number, s: number) => Float64Array.from({ length: len }, () => s * rng.normal());
  const beta0 = r(k, 1);
  beta0[k - 1] = 0;
  const beta1 = r(k, 2);
  if (gate.kind === 'temperature') beta1[k - 1] = 0;
  const m: Model = {
    gate,
    k,
    d: 1,
    beta0,
    beta1,
    a: new Float64Array(k),
    b: new Float64Array(k),
    nu: new Float64Array(k).fill(1),
    tau: 0.6 + rng.uniform(),
  };
  const X = Float64Array.from({ length: n }, () => 1.5 * rng.normal());
  // responsibilities that depend smoothly on x (a finite, non-trivial maximiser of Q), rows summing to 1
  const resp = new Float64Array(n * k);
  // the gate's own probabilities at other parameters (slopes ±3: σ far from linear), blurred
  const other: Model = {
    ...m,
    beta0: r(k, 1),
    beta1: Float64Array.from({ length: k }, (_, j) => (j % 2 ? -3 : 3) + 0.3 * rng.normal()),
    tau: 0.5,
  };
  getGate(gate).logProbs(other, X, n, resp);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const w = Math.exp(resp[i * k + j]!) + 0.1 * rng.uniform();
      resp[i * k + j] = w;
      s += w;
    }
    for (let j = 0; j < k; j++) resp[i * k + j] = resp[i * k + j]! / s;
  }
  return { m, X, resp };
}

/** max |a − b| ≤ tol · max(1, max |b|) */
function expectClose(a: Float64Array, b: Float64Array, tol: number): void {
  let scale = 1;
  for (let t = 0; t < b.length; t++) scale = Math.max(scale, Math.abs(b[t]!));
  let err = 0;
  for (let t = 0; t < b.length; t++) err = Math.max(err, Math.abs(a[t]! - b[t]!));
  expect(err).toBeLessThanOrEqual(tol * scale);
}

describe('dense-to-sparse gate kernels (d = 1) against the generic path', () => {
  const be = createCpuBackend() as Backend & Required<DenseGateKernels>;
  for (const [name, gate] of GATES) {
    for (const k of [2, 3, 4]) {
      it(`${name}, k = ${k}: log π, π, Q, gradient and Fisher curvature agree to rounding`, () => {
        const n = 400;
        const { m, X, resp } = setup(gate, k, n, 10 * k + name.length);
        const logPi = new Float64Array(n * k),
          pi = new Float64Array(n * k);
        const q = be.gateProbs(m, X, n, logPi, pi, null, 'none', resp);
        const refLog = new Float64Array(n * k);
        getGate(gate).logProbs(m, X, n, refLog);
        expectClose(logPi, refLog, 1e-12);
        const refPi = Float64Array.from(refLog, Math.exp);
        for (let t = 0; t < n * k; t++)
          expect(Math.abs(pi[t]! - refPi[t]!)).toBeLessThanOrEqual(1e-12 * refPi[t]! + 1e-300);
        let refQ = 0;
        for (let t = 0; t < n * k; t++) refQ += resp[t]! * refLog[t]!;
        expect(Math.abs(q - refQ)).toBeLessThanOrEqual(1e-12 * Math.abs(refQ));
        expect(Number.isNaN(be.gateProbs(m, X, n, logPi, pi, null, 'none'))).toBe(true);

        for (const tauMode of ['free', 'fixed'] as const) {
          const L = gateLayout(gate, k, 1, tauMode);
          const p = L.p;
          const g = new Float64Array(p),
            C = new Float64Array(p * p),
            g0 = new Float64Array(p),
            C0 = new Float64Array(p * p),
            g1 = new Float64Array(p);
          const dB0 = new Float64Array(n * k),
            dU = new Float64Array(n * k),
            dT = new Float64Array(n * k);
          getGate(gate).logitDerivs(m, X, n, dB0, dU, dT);
          // the generic loop (a layout that does not claim linearity), from the reference π
          be.gateGradCurv({ ...L, linear: false }, X, n, resp, refPi, dB0, dU, dT, m.tau, g0, C0);
          expect(be.denseGradHess(m, L, X, n, resp, refPi, g, C, null)).toBe(true);
          expectClose(g, g0, 1e-12);
          expectClose(C, C0, 1e-12);
          expect(be.denseGradHess(m, L, X, n, resp, refPi, g1, null, null)).toBe(true);
          expectClose(g1, g, 1e-12);
        }
      });
    }
  }

  it('do not apply to relu or bias inside (the generic path runs)', () => {
    const { m, X, resp } = setup({ kind: 'activation', activation: 'relu', bias: 'outside' }, 3, 50, 1);
    const L = gateLayout(m.gate, 3, 1, 'free');
    const g = new Float64Array(L.p);
    expect(be.denseGradHess(m, L, X, 50, resp, resp, g, null, null)).toBe(false);
    expect(
      be.denseGradHess(
        { ...m, gate: { kind: 'activation', activation: 'tanh', bias: 'inside' } },
        L,
        X,
        50,
        resp,
        resp,
        g,
        null,
        null,
      ),
    ).toBe(false);
  });
});

describe('exact Hessian of Q', () => {
  const be = createCpuBackend() as Backend & Required<DenseGateKernels>;
  for (const [name, gate] of GATES) {
    it(`${name}: equals central differences of the gradient`, () => {
      const n = 300,
        k = 3;
      const { m, X, resp } = setup(gate, k, n, 77);
      const L = gateLayout(gate, k, 1, 'free');
      const p = L.p;
      const ws = createWorkspace(n, k, true, false);
      ws.resp.set(resp);
      const theta = new Float64Array(p);
      packGate(L, m, theta);
      const obj = new GateQObjective(be, L, getGate(gate), X, n, ws, cloneModel(m), cloneModel(m));
      const gradAt = (t: Float64Array, out: Float64Array, H: Float64Array | null) => {
        obj.trial(t);
        obj.accept();
        be.denseGradHess(obj.cur, L, X, n, resp, ws.pi, out, null, H);
      };
      const H = new Float64Array(p * p),
        g = new Float64Array(p);
      gradAt(theta, g, H);
      const gp = new Float64Array(p),
        gm = new Float64Array(p),
        tp = new Float64Array(p);
      let scale = 0;
      for (let t = 0; t < p * p; t++) scale = Math.max(scale, Math.abs(H[t]!));
      const h = 1e-5;
      for (let c = 0; c < p; c++) {
        tp.set(theta);
        tp[c] = tp[c]! + h;
        gradAt(tp, gp, null);
        tp.set(theta);
        tp[c] = tp[c]! - h;
        gradAt(tp, gm, null);
        // −∂g/∂θ_c is column c of −∇²Q; central differences err by O(h²) relative
        for (let r = 0; r < p; r++)
          expect(Math.abs(-(gp[r]! - gm[r]!) / (2 * h) - H[r * p + c]!)).toBeLessThanOrEqual(1e-6 * scale);
      }
    });
  }
});

describe('dense gate M-step', () => {
  /** Repeated M-steps on fixed responsibilities until one reports convergence; returns Q and θ. */
  function solve(be: Backend, gate: GateSpec, seed: number) {
    const n = 500,
      k = 3;
    const { m, X, resp } = setup(gate, k, n, seed);
    const data = { n, d: 1, X, y: new Float64Array(n) };
    const L = gateLayout(gate, k, 1, 'free');
    const ws = createWorkspace(n, k, true, false);
    ws.resp.set(resp);
    be.gateProbs(m, X, n, ws.logPi, ws.pi, null, 'none');
    const step = gateMStepFor(gate.kind)({ backend: be, data, model: m, ws, layout: L });
    const warnings = new WarningLog();
    let Q = -Infinity;
    let converged = false;
    for (let it = 1; it <= 200 && !converged; it++) {
      const r = step.step({
        backend: be,
        data,
        model: m,
        ws,
        layout: L,
        maxSteps: 100,
        tol: 1e-13,
        warnings,
        iteration: it,
        q0: NaN,
      });
      // Q never drops (each call sums Q afresh: rounding of a sum of n·k terms aside)
      expect(r.info.Q).toBeGreaterThanOrEqual(Q - 1e-14 * n * k * Math.abs(Q));
      Q = r.info.Q;
      converged = r.info.converged;
      // the buffers hold π at the returned parameters
      const check = new Float64Array(n * k);
      getGate(gate).logProbs(m, X, n, check);
      expectClose(ws.logPi, check, 1e-12);
    }
    return { converged, Q, m, X, resp, pi: ws.pi, L };
  }

  for (const [name, gate] of GATES) {
    it(`${name}: reaches a maximiser of Q at least as high as the Fisher-scoring path's`, () => {
      const cpu = createCpuBackend() as Backend & Required<DenseGateKernels>;
      // the same backend without the kernels' extension: the generic Fisher-scoring path (identity: the softmax proxy either way)
      const { denseGradHess: _omit, ...plain } = cpu;
      const fast = solve(cpu, gate, 5);
      const slow = solve(plain as Backend, gate, 5);
      expect(fast.converged).toBe(true);
      expect(fast.Q).toBeGreaterThanOrEqual(slow.Q - 1e-12 * Math.abs(slow.Q));
      // a maximum: −∇²Q positive definite and the Newton decrement gᵀ(−∇²Q)⁻¹g/2 at rounding level
      const p = fast.L.p;
      const g = new Float64Array(p),
        H = new Float64Array(p * p),
        F = new Float64Array(p * p),
        delta = new Float64Array(p);
      cpu.denseGradHess(fast.m, fast.L, fast.X, 500, fast.resp, fast.pi, g, null, H);
      if (gate.kind === 'temperature') {
        // τ was held (the flat direction): Q's Hessian over (β0, β1) alone is the one to check
        expect(fast.m.tau).toBe(slow.m.tau);
        return;
      }
      expect(cholesky(H, p, F)).toBeGreaterThan(0);
      choleskySolve(F, p, g, delta);
      let dec = 0;
      for (let t = 0; t < p; t++) dec += g[t]! * delta[t]!;
      expect(dec / 2).toBeLessThanOrEqual(1e-9 * 500);
    });
  }
});
