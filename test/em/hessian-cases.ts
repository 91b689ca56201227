/**
 * Seeded random models and data for the exact-Hessian tests of the activation gates
 * (hessian-activation.test.ts, hessian-activation-kernel.test.ts), the rows near the experts' lines, the
 * relative difference and the kernel / JS fit pair they and hessian-kernel.test.ts use.
 */
import { expect } from 'vitest';
import { wasmCalls } from '../../src/em/backend/simd/calls.js';
import type { LogLikDerivatives } from '../../src/em/inference/hessian.js';
import { fitMoE, type FitOptions, type FitResult } from '../../src/em/index.js';
import type { Dataset, GateSpec, Model } from '../../src/models/types.js';
import { createRng, type Rng } from '../../src/random/rng.js';

export interface Case {
  nuMin: number;
  /** sd of β1 (steep gates: large) */
  slope: number;
}

/** The two random cases of the activation Hessian tests: moderate, and small variances with a steep gate. */
export const CASES: Array<[string, Case]> = [
  ['moderate', { nuMin: 0.3, slope: 1.5 }],
  ['small variances, steep gate', { nuMin: 1e-3, slope: 8 }],
];

/**
 * The same hybrid fit with the WebAssembly kernels (`fast`) and without (`slow`), and the 'hessian' kernel
 * calls each made.
 */
export function fitsWithAndWithoutKernels(
  data: Dataset,
  opts: FitOptions,
): { fast: FitResult; slow: FitResult; fastCalls: number; slowCalls: number } {
  const c0 = wasmCalls.hessian;
  const fast = fitMoE(data, { ...opts, wasm: true });
  const c1 = wasmCalls.hessian;
  const slow = fitMoE(data, { ...opts, wasm: false });
  return { fast, slow, fastCalls: c1 - c0, slowCalls: wasmCalls.hessian - c1 };
}

/** A model of the gate (k experts, d coordinates, variances log-uniform in [nuMin, 2]) and n rows near its experts' lines. */
export function randomCase(gate: GateSpec, k: number, d: number, n: number, seed: number, c: Case) {
  const rng = createRng(seed);
  const r = (s: number, sd = 1) => Float64Array.from({ length: s }, () => sd * rng.normal());
  const m: Model = {
    gate,
    k,
    d,
    beta0: r(k),
    beta1: r(k * d, c.slope),
    a: r(k * d),
    b: r(k),
    nu: Float64Array.from({ length: k }, () => c.nuMin * Math.exp(rng.uniform() * Math.log(2 / c.nuMin))),
    tau: 0.4 + rng.uniform(),
  };
  const X = r(n * d);
  return { m, data: rowsNearExperts(m, X, n, rng) };
}

/**
 * y drawn near the experts' lines at X (each row's expert uniform), so that narrow experts carry
 * responsibility; shared with the softmax Hessian kernel's cases (hessian-kernel.test.ts).
 */
export function rowsNearExperts(m: Model, X: Float64Array, n: number, rng: Rng): Dataset {
  const { k, d } = m;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const j = Math.floor(rng.uniform() * k);
    let mu = m.b[j]!;
    for (let a = 0; a < d; a++) mu += m.a[j * d + a]! * X[i * d + a]!;
    y[i] = mu + Math.sqrt(m.nu[j]!) * rng.normal();
  }
  return { n, d, X, y };
}

/** max |u − v| / max |u| */
export function relDiff(u: Float64Array, v: Float64Array): number {
  let scale = 0,
    diff = 0;
  for (let t = 0; t < u.length; t++) {
    scale = Math.max(scale, Math.abs(u[t]!));
    diff = Math.max(diff, Math.abs(u[t]! - v[t]!));
  }
  return diff / scale;
}

/**
 * fast's value, gradient and Hessian against ref's, entry by entry, each relative to its row's and column's
 * scale (|g_u| or √|H_uu|; √(|H_uu H_vv|) or |H_uv|), below `tol`.
 */
export function expectDerivativesClose(
  ref: LogLikDerivatives,
  fast: LogLikDerivatives,
  labels: readonly string[],
  tol = 1e-10,
): void {
  expect(Math.abs(fast.logLik - ref.logLik) / Math.abs(ref.logLik)).toBeLessThan(1e-12);
  const P = ref.gradient.length;
  const H0 = ref.hessian!;
  const H1 = fast.hessian!;
  const diag = (t: number) => Math.abs(H0[t * P + t]!);
  for (let u = 0; u < P; u++) {
    const gs = Math.max(Math.abs(ref.gradient[u]!), Math.sqrt(diag(u)), 1e-300);
    expect(Math.abs(fast.gradient[u]! - ref.gradient[u]!) / gs, labels[u]).toBeLessThan(tol);
    for (let v = 0; v < P; v++) {
      const sc = Math.max(Math.sqrt(diag(u) * diag(v)), Math.abs(H0[u * P + v]!), 1e-300);
      expect(Math.abs(H1[u * P + v]! - H0[u * P + v]!) / sc, `${labels[u]}, ${labels[v]}`).toBeLessThan(tol);
    }
  }
}
