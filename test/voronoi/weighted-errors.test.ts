import { describe, expect, it } from 'vitest';
import { modelFromParams, type Model } from '../../src/models/types.js';
import { truthPreset } from '../../src/models/presets.js';
import { voronoiLoss } from '../../src/voronoi/index.js';
import { weightedCellErrors } from '../../src/voronoi/weighted-errors.js';

/** demy's truth (expert 0: β1* 25, a* −20, b* 15, ν* 0.09) with its expert 0 split in two. */
function split(opts: {
  beta0: [number, number];
  db: [number, number];
  da?: [number, number];
  order?: number[];
}): Model {
  const t = truthPreset('demy');
  const rows = [
    { beta0: opts.beta0[0], beta1: 25, a: -20 + (opts.da?.[0] ?? 0), b: 15 + opts.db[0], nu: 0.09 },
    { beta0: opts.beta0[1], beta1: 25, a: -20 + (opts.da?.[1] ?? 0), b: 15 + opts.db[1], nu: 0.09 },
    { beta0: 0, beta1: 0, a: 20, b: -5, nu: 0.16 },
  ];
  const o = opts.order ?? [0, 1, 2];
  const r = o.map((i) => rows[i]!);
  return modelFromParams(t.gate, {
    beta0: r.map((x) => x.beta0),
    beta1: r.map((x) => [x.beta1]),
    a: r.map((x) => [x.a]),
    b: r.map((x) => x.b),
    nu: r.map((x) => x.nu),
  });
}

const truth = truthPreset('demy');
const errorsOf = (fit: Model) => weightedCellErrors(fit, truth, voronoiLoss(fit, truth, { loss: 'D2' }));

describe('weightedCellErrors', () => {
  it('is zero for an exact split of a true atom, and reports the pair only', () => {
    const w = errorsOf(split({ beta0: [-8 - Math.log(2), -8 - Math.log(2)], db: [0, 0] }));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ true: 0, m: 2, beta1: 0, a: 0, b: 0, nu: 0, minShare: 0.5 });
  });

  it("is D2's power mean: shares 0.9 / 0.1, b errors 0.01 / 0.5 (r̄(2) = 4 for b, 2 for a)", () => {
    const beta0: [number, number] = [-8 + Math.log(0.9), -8 + Math.log(0.1)];
    const w = errorsOf(split({ beta0, db: [0.01, -0.5], da: [0.02, 0.3] }))[0]!;
    expect(w.b).toBeCloseTo((0.9 * 0.01 ** 4 + 0.1 * 0.5 ** 4) ** 0.25, 12);
    expect(w.a).toBeCloseTo((0.9 * 0.02 ** 2 + 0.1 * 0.3 ** 2) ** 0.5, 12);
    expect(w.minShare).toBeCloseTo(0.1, 12);
    // the plain error is the max over the pair: the light atom's 0.5
    const plain = voronoiLoss(split({ beta0, db: [0.01, -0.5], da: [0.02, 0.3] }), truth, { loss: 'D2' });
    expect(plain.cells[0]!.errors.b).toBeCloseTo(0.5, 12);
    expect(w.b).toBeLessThan(0.5 * 0.1 ** 0.25 + 0.01);
  });

  it('is invariant to relabelling the fitted experts and to a translation of their β0', () => {
    const base = {
      beta0: [-8.2, -10.5] as [number, number],
      db: [0.03, -0.2] as [number, number],
      da: [0.1, -0.4] as [number, number],
    };
    const a = errorsOf(split(base))[0]!;
    const b = errorsOf(split({ ...base, order: [2, 1, 0] }))[0]!;
    const moved = split(base);
    for (let i = 0; i < 3; i++) moved.beta0[i] = moved.beta0[i]! + 3.7;
    const c = errorsOf(moved)[0]!;
    for (const p of ['beta1', 'a', 'b', 'nu', 'minShare'] as const) {
      expect(b[p]).toBeCloseTo(a[p], 12);
      expect(c[p]).toBeCloseTo(a[p], 12);
    }
  });

  it('takes the shares in the log domain: β0 ≈ −1.7·10⁴ gives finite errors, not 0/0', () => {
    const fit = split({ beta0: [-17063.55, -17055.28], db: [0.001, 20] });
    const loss = voronoiLoss(fit, truth, { loss: 'D2' });
    const pair = loss.cells.find((c) => c.fitted.length === 2);
    expect(pair).toBeDefined();
    const w = weightedCellErrors(fit, truth, loss)[0]!;
    for (const v of Object.values(w)) expect(Number.isFinite(v)).toBe(true);
    const s = 1 / (1 + Math.exp(17055.28 - 17063.55));
    expect(w.minShare).toBeCloseTo(1 - s, 9);
  });
});
