/**
 * One contract for every backend: the same properties, checked with describe.each over the CPU
 * backend's JS kernels, its WebAssembly SIMD kernels (the arrays in the arena the backend creates
 * through Backend.fitStorage) and gpu.js's CPU mode (float32; optional: that leg is skipped with a
 * message when gpu.js cannot load). Each property is checked against a plain Float64 reference
 * written here from the definitions (softmax gate, Gaussian experts, log-sum-exp per row), and the
 * reference gradient against central finite differences of Q.
 *
 * Tolerances: |got − want| ≤ tol·(scale of the terms), with tol ~ n·u of the backend's arithmetic
 * (u = 2^-53 for Float64, 2^-24 for float32) — a rounding bound, not a fitted number.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  createCpuBackend,
  createGpuBackend,
  expertMoments,
  type Backend,
  type BufferStore,
  type GateLayout,
} from '../../src/em/backend/index.js';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import type { Model } from '../../src/models/types.js';
import { createRng } from '../../src/random/rng.js';

const LOG_2PI = Math.log(2 * Math.PI);

interface Leg {
  name: string;
  backend: Backend | null;
  /** why the leg cannot run (backend null) */
  skip?: string;
  /** relative tolerance per unit of the terms' scale, for n rows */
  tol: (n: number) => number;
  /** whether the leg must take the SIMD kernels on d = 1, k ∈ {2, 3} */
  simd: boolean;
  destroy?: () => void;
}

function gpuLeg(): Leg {
  try {
    const be = createGpuBackend({ mode: 'cpu', maxChunk: 96, blockSize: 8 });
    return {
      name: 'gpu.js (CPU mode, float32)',
      backend: be,
      tol: (n) => 64 * n * 2 ** -24,
      simd: false,
      destroy: () => be.destroy(),
    };
  } catch (e) {
    return {
      name: 'gpu.js (CPU mode, float32)',
      backend: null,
      skip: e instanceof Error ? e.message : String(e),
      tol: () => 0,
      simd: false,
    };
  }
}

const legs: Leg[] = [
  { name: 'cpu-js', backend: createCpuBackend({ simd: false }), tol: (n) => 8 * n * 2 ** -53, simd: false },
  { name: 'cpu-simd', backend: createCpuBackend(), tol: (n) => 8 * n * 2 ** -53, simd: true },
  gpuLeg(),
];
afterAll(() => {
  for (const l of legs) l.destroy?.();
});

function model(k: number, d: number, seed: number): Model {
  const rng = createRng(seed);
  const r = (len: number, s: number) => Float64Array.from({ length: len }, () => s * rng.normal());
  const beta0 = r(k, 1);
  beta0[k - 1] = 0;
  const beta1 = r(k * d, 2);
  beta1.fill(0, (k - 1) * d);
  return {
    gate: { kind: 'softmax' },
    k,
    d,
    beta0,
    beta1,
    a: r(k * d, 2),
    b: r(k, 1),
    nu: Float64Array.from({ length: k }, () => 0.2 + 0.5 * rng.uniform()),
    tau: 1,
  };
}

/** Softmax layout with the last expert as reference (its β0, β1 fixed). */
function layout(k: number, d: number): GateLayout {
  const b0Index = new Int32Array(k),
    b1Index = new Int32Array(k);
  let p = 0;
  for (let j = 0; j < k; j++) {
    if (j === k - 1) {
      b0Index[j] = -1;
      b1Index[j] = -1;
      continue;
    }
    b0Index[j] = p++;
    b1Index[j] = p;
    p += d;
  }
  return { k, d, p, b0Index, b1Index, tauIndex: -1, linear: true };
}

/** θ of the layout → β0, β1 of m (a copy). */
function withTheta(m: Model, L: GateLayout, theta: Float64Array): Model {
  const beta0 = Float64Array.from(m.beta0),
    beta1 = Float64Array.from(m.beta1);
  for (let j = 0; j < m.k; j++) {
    if (L.b0Index[j]! >= 0) beta0[j] = theta[L.b0Index[j]!]!;
    if (L.b1Index[j]! >= 0) for (let l = 0; l < m.d; l++) beta1[j * m.d + l] = theta[L.b1Index[j]! + l]!;
  }
  return { ...m, beta0, beta1 };
}

/** Reference gate: log π, π by a row-maximum log-sum-exp in Float64. */
function refGate(m: Model, X: Float64Array, n: number): { logPi: Float64Array; pi: Float64Array } {
  const { k, d } = m;
  const logPi = new Float64Array(n * k),
    pi = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      let v = m.beta0[j]!;
      for (let l = 0; l < d; l++) v += m.beta1[j * d + l]! * X[i * d + l]!;
      logPi[i * k + j] = v;
      mx = Math.max(mx, v);
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(logPi[i * k + j]! - mx);
    const lse = mx + Math.log(s);
    for (let j = 0; j < k; j++) {
      logPi[i * k + j] = logPi[i * k + j]! - lse;
      pi[i * k + j] = Math.exp(logPi[i * k + j]!);
    }
  }
  return { logPi, pi };
}

/** Reference E-step: responsibilities and Σ log p(y | x), and Σ|log p| (the scale of the total). */
function refEStep(
  m: Model,
  X: Float64Array,
  y: Float64Array,
  n: number,
  logPi: Float64Array,
): { resp: Float64Array; ll: number; scale: number } {
  const { k, d } = m;
  const resp = new Float64Array(n * k);
  let ll = 0,
    scale = 0;
  const v = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      let mu = m.b[j]!;
      for (let l = 0; l < d; l++) mu += m.a[j * d + l]! * X[i * d + l]!;
      const e = y[i]! - mu;
      v[j] = logPi[i * k + j]! - 0.5 * (LOG_2PI + Math.log(m.nu[j]!)) - (e * e) / (2 * m.nu[j]!);
      mx = Math.max(mx, v[j]!);
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(v[j]! - mx);
    const lse = mx + Math.log(s);
    for (let j = 0; j < k; j++) resp[i * k + j] = Math.exp(v[j]! - lse);
    ll += lse;
    scale += Math.abs(lse) + 1;
  }
  return { resp, ll, scale };
}

/** Reference Q = Σ r log π, its gradient over θ and −∇²Q (the Gauss–Newton curvature, exact for linear logits). */
function refGateSums(
  m: Model,
  L: GateLayout,
  X: Float64Array,
  n: number,
  resp: Float64Array,
  pi: Float64Array,
): { grad: Float64Array; curv: Float64Array; scale: Float64Array } {
  const { k, d, p } = L;
  const grad = new Float64Array(p),
    curv = new Float64Array(p * p),
    scale = new Float64Array(p);
  const z = new Float64Array(d + 1);
  for (let i = 0; i < n; i++) {
    z[0] = 1;
    for (let l = 0; l < d; l++) z[l + 1] = X[i * d + l]!;
    let R = 0;
    for (let j = 0; j < k; j++) R += resp[i * k + j]!;
    for (let j = 0; j < k; j++) {
      if (L.b0Index[j]! < 0) continue;
      const pj = pi[i * k + j]!;
      const G = resp[i * k + j]! - R * pj;
      for (let a = 0; a <= d; a++) {
        grad[L.b0Index[j]! + a] += G * z[a]!;
        scale[L.b0Index[j]! + a] += (resp[i * k + j]! + R * pj) * Math.abs(z[a]!);
      }
      for (let l = 0; l < k; l++) {
        if (L.b0Index[l]! < 0) continue;
        const w = R * pj * ((j === l ? 1 : 0) - pi[i * k + l]!);
        for (let a = 0; a <= d; a++)
          for (let b = 0; b <= d; b++) curv[(L.b0Index[j]! + a) * p + L.b0Index[l]! + b] += w * z[a]! * z[b]!;
      }
    }
  }
  return { grad, curv, scale };
}

function Q(m: Model, X: Float64Array, n: number, resp: Float64Array): number {
  const { logPi } = refGate(m, X, n);
  let q = 0;
  for (let t = 0; t < n * m.k; t++) if (resp[t] !== 0) q += resp[t]! * logPi[t]!;
  return q;
}

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, bound: (t: number) => number, what: string): void {
  expect(got.length, what).toBeGreaterThanOrEqual(want.length);
  for (let t = 0; t < want.length; t++) {
    expect(Math.abs(got[t]! - want[t]!), `${what}[${t}]: ${got[t]} vs ${want[t]}`).toBeLessThanOrEqual(bound(t));
  }
}

/** The problem's arrays, in the backend's fit storage when it has one for this shape (the SIMD arena). */
function arrays(be: Backend, m: Model, n: number, seed: number) {
  const { k, d } = m;
  const rng = createRng(seed);
  const X0 = Float64Array.from({ length: n * d }, () => 1.5 * rng.normal());
  const y0 = Float64Array.from({ length: n }, (_, i) => {
    const j = Math.floor(rng.uniform() * k);
    let mu = m.b[j]!;
    for (let l = 0; l < d; l++) mu += m.a[j * d + l]! * X0[i * d + l]!;
    return mu + Math.sqrt(m.nu[j]!) * rng.normal();
  });
  const nk = n * k;
  const store: BufferStore | null = be.fitStorage?.(k, d, { f64: [nk, nk, nk, n * d, n], u8: [] }) ?? null;
  const f64 = (len: number) => (store ? store.alloc(len) : new Float64Array(len));
  return {
    X: store ? store.copy(X0) : X0,
    y: store ? store.copy(y0) : y0,
    logPi: f64(nk),
    pi: f64(nk),
    resp: f64(nk),
    inStore: store !== null,
  };
}

const SHAPES = [
  [2, 1, 501],
  [3, 1, 600],
  [3, 2, 401],
  [5, 3, 301],
] as const;

describe.each(legs)('backend contract: $name', (leg) => {
  if (leg.backend === null) {
    it.skip(`skipped: gpu.js cannot load here (${leg.skip})`, () => {});
    return;
  }
  const be = leg.backend;

  describe.each(SHAPES)('k = %i, d = %i, n = %i', (k, d, n) => {
    const m = model(k, d, 10 * k + d);
    const tol = leg.tol(n);

    it('gate probabilities: log π and π of the softmax, rows summing to 1, Q = Σ r log π in the same pass', () => {
      const A = arrays(be, m, n, 1);
      if (leg.simd) expect(A.inStore, 'the CPU backend keeps fits of the SIMD shapes in its arena').toBe(true);
      const ref = refGate(m, A.X, n);
      const calls = wasmCalls.gate;
      be.gateProbs(m, A.X, n, A.logPi, A.pi, null, 'none');
      expect(wasmCalls.gate - calls, 'SIMD gate calls').toBe(leg.simd ? 1 : 0);
      expectNear(A.logPi.subarray(0, n * k), ref.logPi, (t) => tol * (1 + Math.abs(ref.logPi[t]!)), 'log π');
      expectNear(A.pi.subarray(0, n * k), ref.pi, () => tol, 'π');
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += A.pi[i * k + j]!;
        expect(Math.abs(s - 1), `row ${i}`).toBeLessThanOrEqual(k * tol);
      }
      const { resp } = refEStep(m, A.X, A.y, n, ref.logPi);
      A.resp.set(resp);
      let want = 0,
        scale = 0;
      for (let t = 0; t < n * k; t++) {
        want += resp[t]! * ref.logPi[t]!;
        scale += Math.abs(resp[t]! * ref.logPi[t]!) + resp[t]!;
      }
      const q = be.gateProbs(m, A.X, n, A.logPi, A.pi, null, 'none', A.resp);
      if (!Number.isNaN(q)) expect(Math.abs(q - want)).toBeLessThanOrEqual(tol * scale);
      expect(Math.abs(be.gateQ(A.resp, A.logPi, n, k) - want)).toBeLessThanOrEqual(tol * scale);
    });

    it("E-step and log-likelihood: responsibilities, Σ log p(y | x), and logLik = the E-step's total", () => {
      const A = arrays(be, m, n, 2);
      be.gateProbs(m, A.X, n, A.logPi, A.pi, null, 'none');
      const ref = refEStep(m, A.X, A.y, n, refGate(m, A.X, n).logPi);
      const calls = wasmCalls.eStep;
      const ll = be.eStep(m, A.X, A.y, n, A.logPi, A.resp);
      expect(wasmCalls.eStep - calls, 'SIMD E-step calls').toBe(leg.simd ? 1 : 0);
      expect(Math.abs(ll - ref.ll), `${ll} vs ${ref.ll}`).toBeLessThanOrEqual(tol * ref.scale);
      expectNear(A.resp.subarray(0, n * k), ref.resp, () => 4 * tol, 'r');
      const ll2 = be.logLik(m, A.X, A.y, n, A.logPi);
      expect(Math.abs(ll2 - ref.ll)).toBeLessThanOrEqual(tol * ref.scale);
    });

    it('expert moments: N, weighted means and centred cross-products of the reference', () => {
      const A = arrays(be, m, n, 3);
      be.gateProbs(m, A.X, n, A.logPi, A.pi, null, 'none');
      be.eStep(m, A.X, A.y, n, A.logPi, A.resp);
      const resp = Float64Array.from(A.resp);
      const out = expertMoments(k, d);
      be.expertMoments(A.X, A.y, n, d, k, A.resp, out);
      for (let j = 0; j < k; j++) {
        let N = 0,
          sy = 0;
        const sx = new Float64Array(d);
        for (let i = 0; i < n; i++) {
          const r = resp[i * k + j]!;
          N += r;
          sy += r * A.y[i]!;
          for (let a = 0; a < d; a++) sx[a] += r * A.X[i * d + a]!;
        }
        expect(Math.abs(out.N[j]! - N), `N[${j}]`).toBeLessThanOrEqual(tol * n);
        const yb = sy / N;
        expect(Math.abs(out.ybar[j]! - yb), `ȳ[${j}]`).toBeLessThanOrEqual((tol * n * 10) / N);
        for (let a = 0; a < d; a++) {
          const xb = sx[a]! / N;
          expect(Math.abs(out.xbar[j * d + a]! - xb), `x̄[${j},${a}]`).toBeLessThanOrEqual((tol * n * 10) / N);
          let sxy = 0,
            sxx = 0,
            scale = 0;
          for (let i = 0; i < n; i++) {
            const r = resp[i * k + j]!,
              dx = A.X[i * d + a]! - xb,
              dy = A.y[i]! - yb;
            sxy += r * dx * dy;
            sxx += r * dx * dx;
            scale += r * (dx * dx + Math.abs(dx * dy));
          }
          expect(Math.abs(out.Sxy[j * d + a]! - sxy), `Sxy[${j},${a}]`).toBeLessThanOrEqual(tol * 10 * scale);
          expect(Math.abs(out.Sxx[(j * d + a) * d + a]! - sxx), `Sxx[${j},${a},${a}]`).toBeLessThanOrEqual(
            tol * 10 * scale,
          );
        }
      }
    });

    it("gate gradient and curvature: the reference's (itself checked against finite differences of Q)", () => {
      const A = arrays(be, m, n, 4);
      const L = layout(k, d);
      be.gateProbs(m, A.X, n, A.logPi, A.pi, null, 'none');
      be.eStep(m, A.X, A.y, n, A.logPi, A.resp);
      const resp = Float64Array.from(A.resp);
      const ref = refGateSums(m, L, A.X, n, resp, refGate(m, A.X, n).pi);
      // the reference gradient is ∂Q/∂θ (central differences, h = 1e-5: truncation ~h²·Q''')
      const theta = new Float64Array(L.p);
      for (let j = 0; j < k; j++) {
        if (L.b0Index[j]! >= 0) theta[L.b0Index[j]!] = m.beta0[j]!;
        if (L.b1Index[j]! >= 0) for (let l = 0; l < d; l++) theta[L.b1Index[j]! + l] = m.beta1[j * d + l]!;
      }
      const h = 1e-5;
      for (let t = 0; t < L.p; t++) {
        const tp = Float64Array.from(theta),
          tm = Float64Array.from(theta);
        tp[t] += h;
        tm[t] -= h;
        const fd = (Q(withTheta(m, L, tp), A.X, n, resp) - Q(withTheta(m, L, tm), A.X, n, resp)) / (2 * h);
        expect(Math.abs(fd - ref.grad[t]!), `FD gradient ${t}`).toBeLessThanOrEqual(1e-6 * (1 + ref.scale[t]!));
      }
      const E = new Float64Array(0);
      const grad = new Float64Array(L.p),
        curv = new Float64Array(L.p * L.p);
      be.gateGradCurv(L, A.X, n, A.resp, A.pi, E, E, E, 1, grad, curv);
      expectNear(grad, ref.grad, (t) => tol * 10 * (1 + ref.scale[t]!), 'gradient');
      let cScale = 0;
      for (const c of ref.curv) cScale = Math.max(cScale, Math.abs(c));
      expectNear(curv, ref.curv, () => tol * 10 * n * (1 + cScale / n), 'curvature');
    });
  });
});
