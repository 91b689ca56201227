import { describe, expect, it } from 'vitest';
import {
  cholesky,
  choleskySolve,
  ridgeSolve,
  newtonMaximize,
  newtonWorkspace,
  type NewtonObjective,
} from '../../src/em/index.js';
import { createRng } from '../../src/random/rng.js';

const EPS = Number.EPSILON;

/** A random symmetric positive-definite p × p matrix A = BᵀB + p·I. */
function spd(p: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const B = Float64Array.from({ length: p * p }, () => rng.normal());
  const A = new Float64Array(p * p);
  for (let r = 0; r < p; r++)
    for (let c = 0; c < p; c++) {
      let s = r === c ? p : 0;
      for (let t = 0; t < p; t++) s += B[t * p + r]! * B[t * p + c]!;
      A[r * p + c] = s;
    }
  return A;
}

function matvec(A: Float64Array, x: Float64Array, p: number): Float64Array {
  const out = new Float64Array(p);
  for (let r = 0; r < p; r++) for (let c = 0; c < p; c++) out[r] = out[r]! + A[r * p + c]! * x[c]!;
  return out;
}

/** An objective from closures, positioned at the last accepted trial. */
function closureObjective(
  p: number,
  f: (t: Float64Array) => number,
  gc: (t: Float64Array, g: Float64Array, C: Float64Array) => void,
): NewtonObjective & { evals: number } {
  let cur = new Float64Array(p);
  let last = new Float64Array(p);
  const o = {
    dim: p,
    evals: 0,
    trial(t: Float64Array) {
      o.evals++;
      last = Float64Array.from(t);
      return f(t);
    },
    accept() {
      cur = last;
    },
    gradCurv(g: Float64Array, C: Float64Array) {
      gc(cur, g, C);
    },
  };
  return o;
}

describe('linear algebra', () => {
  it('Cholesky solves an SPD system to rounding accuracy', () => {
    for (const p of [1, 3, 7]) {
      const A = spd(p, 10 + p);
      const b = Float64Array.from({ length: p }, (_, i) => i - 1.5);
      const L = new Float64Array(p * p);
      expect(cholesky(A, p, L)).toBeGreaterThan(0);
      const x = new Float64Array(p);
      choleskySolve(L, p, b, x);
      const r = matvec(A, x, p);
      // backward error of Cholesky: ‖Ax − b‖ ≲ c·p·eps·‖A‖‖x‖
      let normA = 0;
      for (const v of A) normA = Math.max(normA, Math.abs(v));
      const normX = Math.max(...Array.from(x, Math.abs));
      for (let i = 0; i < p; i++) expect(Math.abs(r[i]! - b[i]!)).toBeLessThan(16 * p * p * EPS * normA * normX);
    }
  });

  it('reports a matrix that is not positive definite, and ridgeSolve regularises it', () => {
    // rank 1: [1 1; 1 1]
    const A = Float64Array.of(1, 1, 1, 1);
    expect(cholesky(A, 2, new Float64Array(4))).toBeLessThan(1e-14);
    const b = Float64Array.of(1, 1);
    const x = new Float64Array(2);
    const res = ridgeSolve(A, 2, b, x, new Float64Array(4));
    expect(res.ok).toBe(true);
    expect(res.ridge).toBeGreaterThan(0);
    // (A + ridge I) x = b
    expect(x[0]! + x[1]! + res.ridge * x[0]!).toBeCloseTo(1, 10);
    expect(A).toEqual(Float64Array.of(1, 1, 1, 1)); // A untouched
  });
});

describe('newtonMaximize', () => {
  it('maximises a concave quadratic exactly in one step', () => {
    const p = 4;
    const A = spd(p, 3);
    const c = Float64Array.of(1, -2, 0.5, 3);
    // f(θ) = cᵀθ − ½ θᵀAθ, maximiser θ* = A⁻¹c
    const f = (t: Float64Array) => {
      const At = matvec(A, t, p);
      let s = 0;
      for (let i = 0; i < p; i++) s += c[i]! * t[i]! - 0.5 * t[i]! * At[i]!;
      return s;
    };
    const obj = closureObjective(p, f, (t, g, C) => {
      const At = matvec(A, t, p);
      for (let i = 0; i < p; i++) g[i] = c[i]! - At[i]!;
      C.set(A);
    });
    const theta = new Float64Array(p);
    const r = newtonMaximize(obj, theta, { tol: 1e-14 });
    expect(r.converged).toBe(true);
    expect(r.steps).toBe(1);
    const L = new Float64Array(p * p);
    cholesky(A, p, L);
    const star = new Float64Array(p);
    choleskySolve(L, p, c, star);
    for (let i = 0; i < p; i++) expect(theta[i]).toBeCloseTo(star[i]!, 12);
  });

  it('maximises a logistic log-likelihood (zero gradient at the result, halvings on a bad start)', () => {
    const rng = createRng(5);
    const n = 400;
    const x = Float64Array.from({ length: n }, () => rng.normal());
    const yv = Float64Array.from(x, (xi) => (rng.uniform() < 1 / (1 + Math.exp(-(0.5 + 2 * xi))) ? 1 : 0));
    const ll = (t: Float64Array) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const e = t[0]! + t[1]! * x[i]!;
        s += yv[i]! * e - Math.log1p(Math.exp(e));
      }
      return s;
    };
    const gc = (t: Float64Array, g: Float64Array, C: Float64Array) => {
      g.fill(0);
      C.fill(0);
      for (let i = 0; i < n; i++) {
        const pr = 1 / (1 + Math.exp(-(t[0]! + t[1]! * x[i]!)));
        const z = [1, x[i]!];
        for (let a = 0; a < 2; a++) {
          g[a] = g[a]! + (yv[i]! - pr) * z[a]!;
          for (let b = 0; b < 2; b++) C[a * 2 + b] = C[a * 2 + b]! + pr * (1 - pr) * z[a]! * z[b]!;
        }
      }
    };
    const obj = closureObjective(2, ll, gc);
    const theta = Float64Array.of(8, -8); // far away: the full first step overshoots
    const r = newtonMaximize(obj, theta, { tol: 1e-14, scale: n });
    expect(r.converged).toBe(true);
    const g = new Float64Array(2);
    gc(theta, g, new Float64Array(4));
    // at the maximiser the gradient is rounding noise of a sum of n terms
    expect(Math.abs(g[0]!)).toBeLessThan(1e-8 * n);
    expect(Math.abs(g[1]!)).toBeLessThan(1e-8 * n);
    // the MLE is near the generating parameters (0.5, 2): within 5 standard errors ~ 5/sqrt(n)·c
    expect(Math.abs(theta[0]! - 0.5)).toBeLessThan((5 * 2.5) / Math.sqrt(n));
    expect(Math.abs(theta[1]! - 2)).toBeLessThan((5 * 4) / Math.sqrt(n));
  });

  it('Gauss–Newton with adaptive damping and a trust region solves Rosenbrock', () => {
    // maximise −‖r(θ)‖², r = (1 − x, 10(y − x²)); curvature 2JᵀJ (PSD)
    const f = (t: Float64Array) => -((1 - t[0]!) ** 2 + 100 * (t[1]! - t[0]! ** 2) ** 2);
    const gc = (t: Float64Array, g: Float64Array, C: Float64Array) => {
      const [x, y] = [t[0]!, t[1]!];
      const r = [1 - x, 10 * (y - x * x)];
      const J = [
        [-1, 0],
        [-20 * x, 10],
      ];
      for (let a = 0; a < 2; a++) {
        g[a] = -2 * (r[0]! * J[0]![a]! + r[1]! * J[1]![a]!);
        for (let b = 0; b < 2; b++) C[a * 2 + b] = 2 * (J[0]![a]! * J[0]![b]! + J[1]![a]! * J[1]![b]!);
      }
    };
    const obj = closureObjective(2, f, gc);
    const theta = Float64Array.of(-1.2, 1);
    const r = newtonMaximize(obj, theta, { tol: 1e-20, damping: 'adaptive', maxStep: 0.5, maxSteps: 200 });
    expect(r.converged).toBe(true);
    expect(theta[0]).toBeCloseTo(1, 8);
    expect(theta[1]).toBeCloseTo(1, 8);
  });

  it('never accepts a step that lowers the objective, and caps steps at maxStep', () => {
    const f = (t: Float64Array) => -(Math.abs(t[0]!) ** 1.5); // Newton on a model with too little curvature overshoots
    const values: number[] = [];
    const obj = closureObjective(
      1,
      (t) => {
        const v = f(t);
        return v;
      },
      (t, g, C) => {
        g[0] = -1.5 * Math.sign(t[0]!) * Math.abs(t[0]!) ** 0.5;
        C[0] = 0.01;
      },
    );
    const accept = obj.accept.bind(obj);
    const theta = Float64Array.of(3);
    const trial = obj.trial.bind(obj);
    let lastTrial = NaN;
    obj.trial = (t: Float64Array) => {
      lastTrial = trial(t);
      return lastTrial;
    };
    obj.accept = () => {
      accept();
      values.push(lastTrial);
    };
    const before = Float64Array.from(theta);
    const r = newtonMaximize(obj, theta, { maxSteps: 50, maxStep: 0.25, tol: 1e-12 }, newtonWorkspace(1));
    expect(values.length).toBeGreaterThan(2);
    for (let t = 1; t < values.length; t++) expect(values[t]!).toBeGreaterThanOrEqual(values[t - 1]!);
    expect(Math.abs(theta[0]!)).toBeLessThan(Math.abs(before[0]!));
    expect(r.steps).toBeGreaterThan(0);
    // a trust region of 0.25 per step: after s steps |θ − θ0| ≤ 0.25·s
    expect(Math.abs(theta[0]! - before[0]!)).toBeLessThanOrEqual(0.25 * r.steps + 1e-12);
  });
});
