import { describe, expect, it } from 'vitest';
import { minimizeConvex, optimalScale, minimizeT1, addNormPower } from '../../src/voronoi/index.js';

/** Σ c_i ‖x − p_i‖^e_i with its subgradient */
function normSum(points: number[][], coefs: number[], exps: number[]) {
  return (x: Float64Array, g: Float64Array) => {
    g.fill(0);
    let f = 0;
    points.forEach((p, s) => {
      // addNormPower works on ‖u − t‖ with t = x
      f += addNormPower(p, 0, x, 0, x.length, coefs[s]!, exps[s]!, g, 0);
    });
    return f;
  };
}

describe('minimizeConvex', () => {
  it('finds a weighted median in 1-D (a kink)', () => {
    const r = minimizeConvex(normSum([[1], [2], [10]], [1, 1, 3], [1, 1, 1]), [1], [10]);
    expect(r.x[0]).toBeCloseTo(10, 12);
    expect(r.f).toBeCloseTo(9 + 8, 12);
  });

  it('finds the minimiser of a smooth 1-D function inside the box', () => {
    // (x − 1)^4 + 3(x − 4)^2: derivative 4(x−1)^3 + 6(x−4) = 0 has its root in (1, 4)
    const fg = (x: Float64Array, g: Float64Array) => {
      g[0] = 4 * (x[0]! - 1) ** 3 + 6 * (x[0]! - 4);
      return (x[0]! - 1) ** 4 + 3 * (x[0]! - 4) ** 2;
    };
    const r = minimizeConvex(fg, [1], [4]);
    // the root by Newton's method
    let xs = 2;
    for (let it = 0; it < 50; it++) xs -= (4 * (xs - 1) ** 3 + 6 * (xs - 4)) / (12 * (xs - 1) ** 2 + 6);
    const fs = (xs - 1) ** 4 + 3 * (xs - 4) ** 2;
    // f is flat to rounding within ~sqrt(eps) of the minimiser: judge x by f, and x loosely
    expect(r.f - fs).toBeLessThanOrEqual(4 * Number.EPSILON * fs);
    expect(Math.abs(r.x[0]! - xs)).toBeLessThan(1e-6);
  });

  it('finds the Fermat point of a triangle (2-D, non-smooth)', () => {
    // equilateral: the centroid
    const tri = [
      [0, 0],
      [1, 0],
      [0.5, Math.sqrt(3) / 2],
    ];
    const r = minimizeConvex(normSum(tri, [1, 1, 1], [1, 1, 1]), [0, 0], [1, 1]);
    expect(r.f).toBeCloseTo(Math.sqrt(3), 12);
    expect(r.x[0]).toBeCloseTo(0.5, 7);
    expect(r.x[1]).toBeCloseTo(Math.sqrt(3) / 6, 7);
    // an angle ≥ 120°: the obtuse vertex itself, where f is not differentiable
    const obtuse = [
      [0, 0],
      [-1, 0.2],
      [1, 0.2],
    ];
    const r2 = minimizeConvex(normSum(obtuse, [1, 1, 1], [1, 1, 1]), [-1, 0], [1, 0.2]);
    expect(r2.x[0]).toBeCloseTo(0, 7);
    expect(r2.x[1]).toBeCloseTo(0, 7);
    expect(r2.f).toBeCloseTo(2 * Math.hypot(1, 0.2), 12);
  });

  it('minimises a quadratic in 3-D and certifies the gap', () => {
    const c = [0.3, -1.2, 2.5];
    const fg = (x: Float64Array, g: Float64Array) => {
      let f = 0;
      for (let l = 0; l < 3; l++) {
        f += (l + 1) * (x[l]! - c[l]!) ** 2;
        g[l] = 2 * (l + 1) * (x[l]! - c[l]!);
      }
      return f;
    };
    const r = minimizeConvex(fg, [-2, -2, -2], [3, 3, 3], { tol: 1e-14 });
    expect(r.f).toBeLessThan(1e-12);
    expect(r.gap).toBeLessThanOrEqual(1e-14);
    r.x.forEach((v, l) => expect(v).toBeCloseTo(c[l]!, 6));
  });

  it('holds coordinates with lo = hi fixed', () => {
    const r = minimizeConvex(
      normSum(
        [
          [0, 0],
          [4, 0],
        ],
        [1, 1],
        [2, 2],
      ),
      [0, 1],
      [4, 1],
    );
    expect(r.x[1]).toBe(1);
    expect(r.x[0]).toBeCloseTo(2, 10);
  });

  it('respects linear constraints: the minimum of ‖x − p‖² over a half-plane is the projection of p', () => {
    const p0 = [2, 1];
    const fg = (x: Float64Array, g: Float64Array) => {
      g[0] = 2 * (x[0]! - p0[0]!);
      g[1] = 2 * (x[1]! - p0[1]!);
      return (x[0]! - p0[0]!) ** 2 + (x[1]! - p0[1]!) ** 2;
    };
    // x + y ≤ 1, i.e. −x − y ≥ −1: projection of (2, 1) is (1, 0)
    const r = minimizeConvex(fg, [-3, -3], [3, 3], { constraints: [{ normal: [-1, -1], rhs: -1 }] });
    expect(r.feasible).toBe(true);
    expect(r.x[0]).toBeCloseTo(1, 6);
    expect(r.x[1]).toBeCloseTo(0, 6);
    expect(r.f).toBeCloseTo(2, 10);
    expect(r.x[0]! + r.x[1]!).toBeLessThanOrEqual(1 + 1e-9);
    // one variable: the constraints become bounds
    const r1 = minimizeConvex(
      (x, g) => {
        g[0] = 2 * (x[0]! - 5);
        return (x[0]! - 5) ** 2;
      },
      [0],
      [10],
      { constraints: [{ normal: [-1], rhs: -2 }] },
    );
    expect(r1.x[0]).toBeCloseTo(2, 9); // within the rounding slack of the bound
  });

  it('reports an empty feasible set', () => {
    const fg = (x: Float64Array, g: Float64Array) => {
      g.fill(0);
      return 0;
    };
    const r = minimizeConvex(fg, [0, 0], [1, 1], { constraints: [{ normal: [1, 1], rhs: 3 }] });
    expect(r.feasible).toBe(false);
    expect(r.f).toBe(Infinity);
    expect(minimizeConvex(fg, [0], [1], { constraints: [{ normal: [1], rhs: 2 }] }).feasible).toBe(false);
  });

  it('rejects a bad box', () => {
    expect(() => minimizeConvex(() => 0, [1], [0])).toThrow(/hi ≥ lo\. Value: \[1, 0\]/);
    expect(() => minimizeConvex(() => 0, [0], [Infinity])).toThrow(/finite/);
    expect(() => minimizeConvex(() => NaN, [0], [1])).toThrow(/NaN/);
  });
});

describe('optimalScale (t0 in closed form)', () => {
  it('is the weighted median of W/w* with weights w*', () => {
    const r = optimalScale([1.5, 2.5], [1, 3]);
    expect(r.c).toBeCloseTo(5 / 6, 15);
    expect(r.t0).toBeCloseTo(Math.log(5 / 6), 15);
    expect(r.value).toBeCloseTo(2 / 3, 15);
  });

  it('is not beaten by any c on a fine grid', () => {
    const W = [0.3, 2, 0.01, 5, 1];
    const ws = [1, 0.5, 0.2, 3, 1.1];
    const r = optimalScale(W, ws);
    const f = (c: number) => W.reduce((s, w, j) => s + Math.abs(w - c * ws[j]!), 0);
    expect(r.value).toBeCloseTo(f(r.c), 14);
    for (let c = 0; c <= 10; c += 0.001) expect(r.value).toBeLessThanOrEqual(f(c) + 1e-12);
  });

  it('takes the median over the ratios sorted, not over the cells in their order', () => {
    // ratios 3, 1, 2 (weights 1 each): the median is 2; in cell order the half-weight is reached at ratio 1
    const r = optimalScale([3, 1, 2], [1, 1, 1]);
    expect(r.c).toBe(2);
    expect(r.value).toBe(2);
  });

  it('prefers a positive c on an exact tie with an empty cell, and c = 0 only when forced', () => {
    expect(optimalScale([0, 2], [1, 1]).c).toBe(2);
    const forced = optimalScale([0, 2], [3, 1]);
    expect(forced.c).toBe(0);
    expect(forced.t0).toBe(-Infinity);
    expect(forced.value).toBe(2);
  });

  it('rejects bad weights', () => {
    expect(() => optimalScale([1, -1], [1, 1])).toThrow(/W\[1\] must be a finite number ≥ 0\. Value: -1/);
    expect(() => optimalScale([1, 1], [1, 0])).toThrow(/wStar\[1\] must be a finite number > 0/);
  });
});

describe('minimizeT1', () => {
  it('is the weighted median of the anchors for exponent 1 in 1-D', () => {
    const { t1, value } = minimizeT1(
      [
        { anchor: Float64Array.of(0.5), coef: 1.5, exponent: 1 },
        { anchor: Float64Array.of(0.2), coef: 2.5, exponent: 1 },
      ],
      1,
    );
    expect(t1[0]).toBeCloseTo(0.2, 12);
    expect(value).toBeCloseTo(0.45, 12);
  });

  it('is the weighted mean for exponent 2', () => {
    const { t1 } = minimizeT1(
      [
        { anchor: Float64Array.of(1, 0), coef: 1, exponent: 2 },
        { anchor: Float64Array.of(0, 3), coef: 2, exponent: 2 },
      ],
      2,
    );
    expect(t1[0]).toBeCloseTo(1 / 3, 6);
    expect(t1[1]).toBeCloseTo(2, 6);
  });

  it('refuses exponents below 1 (not convex)', () => {
    expect(() => minimizeT1([{ anchor: Float64Array.of(1), coef: 1, exponent: 0.5 }], 1)).toThrow(/must be ≥ 1/);
  });
});
