/**
 * The activation gates' generic gradient / Fisher / exact-Hessian sums (any k and d but d = 1 with
 * k ≤ 3: src/em/backend/cpu/activation-grad-g.ts and its SIMD kernel densegradg_<grad>), over
 * k = 2..8, d = 1..4 for identity, tanh and sigmoid:
 * - the SIMD kernel against its JS twin: on one row pair (the sums are then the two rows' terms, so
 *   the terms must agree to the bit) and on n = 1001 (another order of the sums: to rounding);
 * - the gradient and Fisher curvature against the generic path (Gate.logitDerivs + gateGradCurv);
 * - the exact −∇²Q against central differences of the gradient;
 * - the Fisher-scoring gate M-step (d ≥ 2) through these sums against the same step without them.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend, gateLayout, gateMStepFor, GateQObjective } from '../../src/em/index.js';
import { WarningLog } from '../../src/em/warnings.js';
import { packGate } from '../../src/em/gates/index.js';
import type { Backend, GateLayout } from '../../src/em/backend/types.js';
import type { DenseGateKernels } from '../../src/em/backend/cpu/activation-grad.js';
import { createArena } from '../../src/em/backend/simd/arena.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import { createWorkspace } from '../../src/em/workspace.js';
import { getGate } from '../../src/models/gates/index.js';
import { cloneModel, type GateSpec, type Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';

type Act = 'identity' | 'tanh' | 'sigmoid';
const ACTS: Act[] = ['identity', 'tanh', 'sigmoid'];
const spec = (act: Act): GateSpec => ({ kind: 'activation', activation: act, bias: 'outside' });
const be = createCpuBackend() as Backend & Required<DenseGateKernels>;

const SHAPES: [number, number][] = [];
for (let d = 1; d <= 4; d++) for (let k = 2; k <= 8; k++) if (d > 1 || k > 3) SHAPES.push([k, d]);
// the largest shape (the scratch and accumulator regions' sizes, simd/layout.ts)
SHAPES.push([16, 8]);

/** A model with slopes that reach σ's curved part (and a few rows beyond tanh's clamp), smooth responsibilities. */
function setup(act: Act, k: number, d: number, n: number, seed: number) {
  const rng = createRng(seed);
  const r = (len: number, s: number) => Float64Array.from({ length: len }, () => s * rng.normal());
  const beta0 = r(k, 1);
  beta0[k - 1] = 0;
  const m: Model = {
    gate: spec(act),
    k,
    d,
    beta0,
    beta1: r(k * d, 1.5 / Math.sqrt(d)),
    a: new Float64Array(k * d),
    b: new Float64Array(k),
    nu: new Float64Array(k).fill(1),
    tau: 0.6 + rng.uniform(),
  };
  const X = Float64Array.from({ length: n * d }, (_, t) => (t % 211 === 7 ? 40 : 1.3) * rng.normal());
  const resp = new Float64Array(n * k);
  const other: Model = { ...m, beta0: r(k, 1), beta1: r(k * d, 3), tau: 0.5 };
  getGate(m.gate).logProbs(other, X, n, resp);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const w = (i % 13 === 0 && j === 0 ? 0 : Math.exp(resp[i * k + j]!)) + 0.1 * rng.uniform();
      resp[i * k + j] = w;
      s += w;
    }
    for (let j = 0; j < k; j++) resp[i * k + j] = resp[i * k + j]! / s;
  }
  const pi = new Float64Array(n * k);
  be.gateProbs(m, X, n, new Float64Array(n * k), pi, null, 'none');
  return { m, X, resp, pi };
}

/** grad, Fisher and exact −∇²Q of m on (X, resp, pi), through the arena (SIMD) or plain arrays (JS) */
function sums(
  m: Model,
  L: GateLayout,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
  wasm: boolean,
) {
  const g = new Float64Array(L.p),
    F = new Float64Array(L.p * L.p),
    H = new Float64Array(L.p * L.p);
  if (!wasm) {
    expect(be.denseGradHess(m, L, X, n, resp, pi, g, F, H)).toBe(true);
    return { g, F, H };
  }
  const A = createArena([X.length, resp.length, pi.length])!;
  const s0 = wasmCalls.sums;
  expect(be.denseGradHess(m, L, A.copy(X), n, A.copy(resp), A.copy(pi), g, F, H)).toBe(true);
  expect(wasmCalls.sums - s0, 'the SIMD sums ran').toBe(1);
  return { g, F, H };
}

/** max |a − b| ≤ tol · max(1, max |b|) */
function expectClose(a: Float64Array, b: Float64Array, tol: number, what: string): void {
  let scale = 1,
    err = 0;
  for (let t = 0; t < b.length; t++) scale = Math.max(scale, Math.abs(b[t]!));
  for (let t = 0; t < b.length; t++) {
    expect(Number.isFinite(a[t]!), `${what}[${t}] finite`).toBe(true);
    err = Math.max(err, Math.abs(a[t]! - b[t]!));
  }
  expect(err, what).toBeLessThanOrEqual(tol * scale);
}

describe('activation gates, generic sums: SIMD kernel against its JS twin', () => {
  for (const act of ACTS)
    for (const [k, d] of SHAPES) {
      it(`${act}, k = ${k}, d = ${d}: one row pair to the bit, n = 1001 to rounding`, () => {
        const L = gateLayout(spec(act), k, d, 'free');
        const { m, X, resp, pi } = setup(act, k, d, 1001, 1000 + 10 * k + d);
        // one pair: each sum is row 0's term + row 1's term, in both
        for (let i = 0; i < 1001; i += 167) {
          const X2 = X.slice(i * d, (i + 2) * d),
            r2 = resp.slice(i * k, (i + 2) * k),
            p2 = pi.slice(i * k, (i + 2) * k);
          const J = sums(m, L, X2, 2, r2, p2, false),
            W = sums(m, L, X2, 2, r2, p2, true);
          for (const key of ['g', 'F', 'H'] as const)
            for (let t = 0; t < J[key].length; t++)
              expect(W[key][t], `${key}[${t}], rows ${i}, ${i + 1}`).toBe(J[key][t]);
        }
        const J = sums(m, L, X, 1001, resp, pi, false),
          W = sums(m, L, X, 1001, resp, pi, true);
        expectClose(W.g, J.g, 1e-12, 'grad');
        expectClose(W.F, J.F, 1e-12, 'Fisher');
        expectClose(W.H, J.H, 1e-12, 'exact');
      });
    }
});

describe('activation gates, generic sums: against the generic path and finite differences', () => {
  for (const act of ACTS)
    for (const [k, d] of [
      [4, 1],
      [2, 2],
      [3, 2],
      [5, 3],
      [8, 4],
    ] as const) {
      it(`${act}, k = ${k}, d = ${d}: gradient and Fisher curvature as Gate.logitDerivs + gateGradCurv (τ free and fixed)`, () => {
        const n = 400;
        const { m, X, resp, pi } = setup(act, k, d, n, 77 + k + d);
        const dB0 = new Float64Array(n * k),
          dU = new Float64Array(n * k),
          dT = new Float64Array(n * k);
        getGate(m.gate).logitDerivs(m, X, n, dB0, dU, dT);
        for (const tauMode of ['free', 'fixed'] as const) {
          const L = gateLayout(m.gate, k, d, tauMode);
          const g0 = new Float64Array(L.p),
            C0 = new Float64Array(L.p * L.p);
          be.gateGradCurv({ ...L, linear: false }, X, n, resp, pi, dB0, dU, dT, m.tau, g0, C0);
          for (const wasm of [false, true]) {
            const { g, F } = sums(m, L, X, n, resp, pi, wasm);
            expectClose(g, g0, 1e-11, 'grad');
            expectClose(F, C0, 1e-11, 'Fisher');
            // the gradient alone: the same entries
            const g1 = new Float64Array(L.p);
            expect(be.denseGradHess(m, L, X, n, resp, pi, g1, null, null)).toBe(true);
            expectClose(g1, g0, 1e-11, 'grad alone');
          }
        }
      });

      it(`${act}, k = ${k}, d = ${d}: exact −∇²Q equals central differences of the gradient`, () => {
        const n = 300;
        const { m, X, resp } = setup(act, k, d, n, 500 + k + d);
        const L = gateLayout(m.gate, k, d, 'free');
        const p = L.p;
        const ws = createWorkspace(n, k, true, false);
        ws.resp.set(resp);
        const theta = new Float64Array(p);
        packGate(L, m, theta);
        const obj = new GateQObjective(be, L, getGate(m.gate), X, n, ws, cloneModel(m), cloneModel(m));
        const gradAt = (t: Float64Array, out: Float64Array, H: Float64Array | null) => {
          obj.trial(t);
          obj.accept();
          be.denseGradHess(obj.cur, L, X, n, resp, ws.pi, out, null, H);
        };
        const H = new Float64Array(p * p),
          g = new Float64Array(p),
          gp = new Float64Array(p),
          gm = new Float64Array(p),
          tp = new Float64Array(p);
        gradAt(theta, g, H);
        let scale = 0;
        for (let t = 0; t < p * p; t++) scale = Math.max(scale, Math.abs(H[t]!));
        // steep rows (|x| up to ~100) make σ‴ large: a small step keeps the O(h²) error below the tolerance
        const h = 1e-6;
        for (let c = 0; c < p; c++) {
          tp.set(theta);
          tp[c] = tp[c]! + h;
          gradAt(tp, gp, null);
          tp.set(theta);
          tp[c] = tp[c]! - h;
          gradAt(tp, gm, null);
          for (let r = 0; r < p; r++)
            expect(Math.abs(-(gp[r]! - gm[r]!) / (2 * h) - H[r * p + c]!), `H[${r}, ${c}]`).toBeLessThanOrEqual(
              1e-6 * scale,
            );
        }
      });
    }
});

describe('activation gates, d ≥ 2: the Fisher-scoring M-step through the generic sums', () => {
  /** M-steps on fixed responsibilities until one reports convergence; Q and the number of fused passes */
  function solve(be: Backend, act: Act, k: number, d: number) {
    const n = 600;
    const { m, X, resp } = setup(act, k, d, n, 31 + k + d);
    const data = { n, d, X, y: new Float64Array(n) };
    const L = gateLayout(m.gate, k, d, 'free');
    const ws = createWorkspace(n, k, true, false);
    ws.resp.set(resp);
    be.gateProbs(m, X, n, ws.logPi, ws.pi, null, 'none');
    const step = gateMStepFor(m.gate.kind)({ backend: be, data, model: m, ws, layout: L });
    const warnings = new WarningLog();
    let Q = -Infinity,
      converged = false;
    for (let it = 1; it <= 300 && !converged; it++) {
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
      expect(r.info.Q).toBeGreaterThanOrEqual(Q - 1e-14 * n * k * Math.abs(Q));
      Q = r.info.Q;
      converged = r.info.converged;
    }
    return { Q, converged };
  }
  for (const act of ['tanh', 'sigmoid'] as const)
    for (const [k, d] of [
      [3, 2],
      [4, 3],
    ] as const)
      it(`${act}, k = ${k}, d = ${d}: the same maximum of Q as Gate.logitDerivs + gateGradCurv`, () => {
        const cpu = createCpuBackend() as Backend & Required<DenseGateKernels>;
        let calls = 0;
        const counted = {
          ...cpu,
          denseGradHess: (...a: Parameters<typeof cpu.denseGradHess>) => {
            calls++;
            return cpu.denseGradHess(...a);
          },
        };
        const { denseGradHess: _omit, ...plain } = cpu;
        const fast = solve(counted as Backend, act, k, d);
        const slow = solve(plain as Backend, act, k, d);
        expect(calls, 'the fused sums ran').toBeGreaterThan(0);
        expect(fast.converged && slow.converged).toBe(true);
        expect(Math.abs(fast.Q - slow.Q)).toBeLessThanOrEqual(1e-10 * Math.abs(slow.Q));
      });
});
