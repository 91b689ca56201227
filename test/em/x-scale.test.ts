/** A badly scaled or offset x column is said in the fit's warnings (and nothing is said of a well-scaled one). */
import { describe, expect, it } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import { xScaleWarnings, X_OFFSET_MAX, X_SCALE_MAX } from '../../src/em/x-scale.js';
import { truthPreset } from '../../src/models/presets.js';
import { simulate } from '../../src/models/sample.js';
import type { Dataset } from '../../src/models/types.js';

const sim = simulate(truthPreset('demy'), { n: 300, seed: 2 });
const data: Dataset = { n: sim.n, d: sim.d, X: sim.X, y: sim.y };
const mapX = (f: (x: number) => number): Dataset => ({ ...data, X: data.X.map(f) });

describe('xScaleWarnings', () => {
  it('says nothing of x in [0, 1] or rescaled within the limits', () => {
    expect(xScaleWarnings(data)).toEqual([]);
    expect(xScaleWarnings(mapX((x) => x * 500))).toEqual([]);
    expect(xScaleWarnings(mapX((x) => x / 500))).toEqual([]);
  });

  it(`says a column with rms beyond ${X_SCALE_MAX} (or below its inverse), or offset beyond ${X_OFFSET_MAX} sd`, () => {
    expect(xScaleWarnings(mapX((x) => x * 1e12))).toEqual([
      expect.stringMatching(
        /^column x1 has rms 5\.\d\de\+11: the M-steps are ill-conditioned at this scale .* centre and scale it, e\.g\. \(x − 4\.\d\de\+11\) \/ 2\.\d\de\+11$/,
      ),
    ]);
    expect(xScaleWarnings(mapX((x) => x * 1e-5))).toHaveLength(1);
    // a Unix timestamp over a year: the offset, not the rms, is the trouble too
    expect(xScaleWarnings(mapX((x) => 1.7e9 + x * 3e7))[0]).toMatch(/^column x1 has rms/);
    expect(
      xScaleWarnings(
        mapX((x) => 200 + x * 0.01),
        ['year'],
      )[0],
    ).toMatch(/^column year varies by sd 0\.00\d\d\d around 200: /);
  });

  it("reaches fitMoE's warnings", () => {
    const opts = { k: 2, gate: { kind: 'softmax' } as const, seed: 1, maxIter: 5 };
    expect(fitMoE(data, opts).warnings.some((w) => w.startsWith('column x1'))).toBe(false);
    expect(
      fitMoE(
        mapX((x) => x * 1e6),
        opts,
      ).warnings,
    ).toContainEqual(expect.stringMatching(/^column x1 has rms/));
  });
});
