import { describe, expect, it } from 'vitest';
import { exactHessianDamping, ridgeDamping } from '../../src/em/optim/damping.js';
import { maximize, type NewtonObjective, type Projection } from '../../src/em/optim/driver.js';

/** An objective from closures, positioned at the last accepted trial; records every accepted value. */
function closureObjective(
  p: number,
  f: (t: Float64Array) => number,
  gc: (t: Float64Array, g: Float64Array, C: Float64Array) => void,
): NewtonObjective & { values: number[] } {
  let cur = new Float64Array(p);
  let last = new Float64Array(p);
  let lastV = NaN;
  const o = {
    dim: p,
    values: [] as number[],
    trial(t: Float64Array) {
      last = Float64Array.from(t);
      lastV = f(t);
      return lastV;
    },
    accept() {
      cur = last;
      o.values.push(lastV);
    },
    gradCurv(g: Float64Array, C: Float64Array) {
      gc(cur, g, C);
    },
  };
  return o;
}

// f(θ) = −½ (θ − c)ᵀ A (θ − c), A = [[2, 1], [1, 2]], c = (3, −1): on the box [−1, 1]² the maximiser
// is (1, 0) (θ1 at its bound with ∂f/∂θ1 = 3 > 0, ∂f/∂θ2 = 0), not the projection (1, −1) of c
const A = [2, 1, 1, 2];
const c = [3, -1];
const quad = () =>
  closureObjective(
    2,
    (t) => {
      const d0 = t[0]! - c[0]!,
        d1 = t[1]! - c[1]!;
      return -0.5 * (d0 * (A[0]! * d0 + A[1]! * d1) + d1 * (A[2]! * d0 + A[3]! * d1));
    },
    (t, g, C) => {
      const d0 = t[0]! - c[0]!,
        d1 = t[1]! - c[1]!;
      g[0] = -(A[0]! * d0 + A[1]! * d1);
      g[1] = -(A[2]! * d0 + A[3]! * d1);
      C.set(A);
    },
  );
const clamp: Projection['project'] = (t) => {
  let moved = false;
  for (let i = 0; i < t.length; i++) {
    const v = Math.min(1, Math.max(-1, t[i]!));
    if (v !== t[i]) moved = true;
    t[i] = v;
  }
  return moved;
};

describe('driver: projection hook', () => {
  it('projected Newton with held bounds reaches the box-constrained maximiser, monotone in the objective', () => {
    const box: Projection = {
      project: clamp,
      hold(t, g, held) {
        let h = 0;
        for (let i = 0; i < t.length; i++)
          if ((t[i] === 1 && g[i]! > 0) || (t[i] === -1 && g[i]! < 0)) {
            held[i] = 1;
            h++;
          }
        return h;
      },
    };
    const obj = quad();
    const theta = new Float64Array(2);
    const r = maximize(obj, theta, ridgeDamping(), { tol: 1e-14, projection: box });
    expect(r.converged).toBe(true);
    expect(theta[0]).toBe(1);
    expect(Math.abs(theta[1]!)).toBeLessThan(1e-12);
    for (let t = 1; t < obj.values.length; t++) expect(obj.values[t]!).toBeGreaterThanOrEqual(obj.values[t - 1]!);
  });

  it('projection alone stops at the projected point and says the constraints block it', () => {
    const obj = quad();
    const theta = new Float64Array(2);
    const r = maximize(obj, theta, ridgeDamping(), { tol: 1e-14, projection: { project: clamp } });
    expect(r.blocked).toBe(true);
    expect(r.converged).toBe(false);
    expect(theta[0]).toBe(1);
    expect(theta[1]).toBeCloseTo(-1, 12);
  });

  it('no projection: the unconstrained maximiser c', () => {
    const theta = new Float64Array(2);
    const r = maximize(quad(), theta, ridgeDamping(), { tol: 1e-14 });
    expect(r.converged).toBe(true);
    expect(theta[0]).toBeCloseTo(3, 12);
    expect(theta[1]).toBeCloseTo(-1, 12);
  });
});

describe('driver: exact-Hessian trust region and budgets', () => {
  // f(x, y) = −(x² − 1)² − (y − x)²: non-concave (−∇²f indefinite near x = 0), maxima at ±(1, 1)
  const f = (t: Float64Array) => -((t[0]! ** 2 - 1) ** 2) - (t[1]! - t[0]!) ** 2;
  const gc = (fallback: Float64Array) => (t: Float64Array, g: Float64Array, H: Float64Array) => {
    const [x, y] = [t[0]!, t[1]!];
    g[0] = -4 * x * (x * x - 1) + 2 * (y - x);
    g[1] = -2 * (y - x);
    // exact −∇²f and a PSD fallback
    H.set([12 * x * x - 4 + 2, -2, -2, 2]);
    fallback.set([8 * x * x + 2, -2, -2, 2]);
  };

  it('climbs out of the saddle region to a maximiser, never lowering f', () => {
    const fb = new Float64Array(4);
    const obj = closureObjective(2, f, gc(fb));
    const theta = Float64Array.of(0.05, -0.3);
    const r = maximize(obj, theta, exactHessianDamping(fb, 1), {
      tol: 1e-20,
      maxStep: 0.5,
      maxHalvings: 0,
      stopOnModelAgreement: true,
    });
    expect(r.converged).toBe(true);
    expect(Math.abs(Math.abs(theta[0]!) - 1)).toBeLessThan(1e-8);
    expect(theta[1]! - theta[0]!).toBeCloseTo(0, 8);
    for (let t = 1; t < obj.values.length; t++) expect(obj.values[t]!).toBeGreaterThanOrEqual(obj.values[t - 1]!);
  });

  it('respects the trial budget and the generalised-EM early stop', () => {
    const fb = new Float64Array(4);
    const capped = maximize(closureObjective(2, f, gc(fb)), Float64Array.of(3, -2), exactHessianDamping(fb, 1), {
      tol: 1e-20,
      maxStep: 0.5,
      maxHalvings: 0,
      maxTrials: 3,
    });
    expect(capped.trials).toBe(3);
    expect(capped.converged).toBe(false);
    const fb2 = new Float64Array(4);
    const early = maximize(closureObjective(2, f, gc(fb2)), Float64Array.of(3, -2), exactHessianDamping(fb2, 1), {
      tol: 1e-20,
      maxStep: 0.5,
      maxHalvings: 0,
      relStop: 0.5,
    });
    expect(early.converged).toBe(false);
    expect(early.steps).toBeGreaterThan(0);
    expect(early.steps).toBeLessThan(20);
  });
});
