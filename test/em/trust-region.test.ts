import { describe, expect, it } from 'vitest';
import { maximizeTrustRegion, newtonDecrement, TrustRegion } from '../../src/em/optim/trust-region.js';

type F = (t: Float64Array) => { value: number; gradient: Float64Array; hessian: Float64Array };

/** f = −Rosenbrock: maximum 0 at (1, 1); at (0, 1) the Hessian is indefinite. */
const rosen: F = (t) => {
  const [x, y] = [t[0]!, t[1]!];
  return {
    value: -(100 * (y - x * x) ** 2 + (1 - x) ** 2),
    gradient: new Float64Array([400 * x * (y - x * x) + 2 * (1 - x), -200 * (y - x * x)]),
    hessian: new Float64Array([-(1200 * x * x - 400 * y + 2), 400 * x, 400 * x, -200]),
  };
};

/** Wraps f, recording every value the optimiser accepted. */
function recorded(f: F) {
  const accepted: number[] = [];
  return {
    accepted,
    obj: {
      value: (t: Float64Array) => f(t).value,
      derivatives: (t: Float64Array) => {
        const d = f(t);
        accepted.push(d.value);
        return d;
      },
    },
  };
}

describe('maximizeTrustRegion', () => {
  it('maximises −Rosenbrock from an indefinite start, monotonically, finishing quadratically', () => {
    expect(
      newtonDecrement(rosen(new Float64Array([0, 1])).gradient, rosen(new Float64Array([0, 1])).hessian, 2)
        .positiveDefinite,
    ).toBe(false);
    const { accepted, obj } = recorded(rosen);
    const r = maximizeTrustRegion(obj, new Float64Array([0, 1]), { decrementTol: 1e-24 });
    expect(r.stopReason).toBe('newton-decrement');
    expect(r.theta[0]).toBeCloseTo(1, 10);
    expect(r.theta[1]).toBeCloseTo(1, 10);
    for (let i = 1; i < accepted.length; i++) expect(accepted[i]!).toBeGreaterThan(accepted[i - 1]!);
    // quadratic convergence: the last steps square the gradient (up to a constant)
    const g = r.gradientNorms;
    const tail = g.slice(-3);
    expect(tail[2]!).toBeLessThan(1e-10);
    expect(tail[1]!).toBeLessThan(1e3 * tail[0]! ** 2);
    expect(tail[2]!).toBeLessThan(1e3 * tail[1]! ** 2 + 1e-14);
    // and the decrements too
    const dec = r.decrements.filter((v) => Number.isFinite(v));
    expect(dec.at(-1)!).toBeLessThan(10 * dec.at(-2)! ** 2 + 1e-24);
  });

  it('leaves a saddle with zero gradient along its negative curvature (hard case)', () => {
    // f = −(x − 1)⁴ − y⁴ + y²: at (0, 0) g_y = 0 and ∂²f/∂y² = 2 > 0; maxima at y = ±1/√2
    const f: F = (t) => {
      const [x, y] = [t[0]!, t[1]!];
      return {
        value: -((x - 1) ** 4) - y ** 4 + y * y,
        gradient: new Float64Array([-4 * (x - 1) ** 3, -4 * y ** 3 + 2 * y]),
        hessian: new Float64Array([-12 * (x - 1) ** 2, 0, 0, -12 * y * y + 2]),
      };
    };
    const r = maximizeTrustRegion(recorded(f).obj, new Float64Array([0.5, 0]), { decrementTol: 1e-20, maxIter: 500 });
    expect(Math.abs(r.theta[1]!)).toBeCloseTo(Math.SQRT1_2, 8);
    expect(r.positiveDefinite).toBe(true);
  });

  it('respects a lower bound and stops with the bound active', () => {
    // f = −(x + 1)² − (y − 2)², x ≥ 0: maximum at (0, 2)
    const f: F = (t) => ({
      value: -((t[0]! + 1) ** 2) - (t[1]! - 2) ** 2,
      gradient: new Float64Array([-2 * (t[0]! + 1), -2 * (t[1]! - 2)]),
      hessian: new Float64Array([-2, 0, 0, -2]),
    });
    const r = maximizeTrustRegion(recorded(f).obj, new Float64Array([3, 0]), {
      lower: new Float64Array([0, -Infinity]),
    });
    expect(r.stopReason).toBe('newton-decrement');
    expect(r.theta[0]).toBe(0);
    expect(r.theta[1]).toBeCloseTo(2, 12);
  });

  it('takes the full Newton step inside the region and a boundary step outside it', () => {
    const g = new Float64Array([1, 0]);
    const H = new Float64Array([-1, 0, 0, -4]);
    const inside = new TrustRegion(2, { radius: 10 }).propose(new Float64Array(2), g, H);
    expect(inside.newton).toBe(true);
    expect(inside.step[0]).toBeCloseTo(1, 14);
    expect(inside.predicted).toBeCloseTo(0.5, 14);
    const tr = new TrustRegion(2, { radius: 0.1 });
    const out = tr.propose(new Float64Array(2), g, H);
    expect(out.newton).toBe(false);
    expect(out.norm).toBeCloseTo(0.1, 10);
    // a refused step shrinks the radius; a very good boundary step grows it
    expect(tr.judge(out, -1)).toBe(false);
    expect(tr.radius).toBeLessThan(0.1);
    const r0 = tr.radius;
    const s2 = tr.propose(new Float64Array(2), g, H);
    expect(tr.judge(s2, s2.predicted)).toBe(true);
    expect(tr.radius).toBeCloseTo(2 * r0, 12);
  });
});
