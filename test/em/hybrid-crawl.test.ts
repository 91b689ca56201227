/**
 * The hybrid's crawl stop (hybrid.ts CrawlWatch, fit.ts newtonCrawl): a Newton phase whose decrement
 * falls only linearly over HYBRID_CRAWL_STEPS accepted points (a runaway towards the boundary: τ → 0,
 * a variance at its floor) stops with stopReason 'newton-crawl', not converged, and says so; quadratic
 * or quartic convergence, refused steps, indefinite points and large decrements never trigger it.
 */
import { describe, expect, it } from 'vitest';
import { fitMoE } from '../../src/em/index.js';
import { CrawlWatch, HYBRID_CRAWL_STEPS } from '../../src/em/hybrid.js';
import { presetSpec } from '../../src/experiments/presets.js';
import { specTruths } from '../../src/experiments/spec.js';
import { dataSeed, initSeed, planCells } from '../../src/experiments/plan.js';
import { simulate } from '../../src/models/sample.js';

/** Feeds decrements d0·r^t at iterations 1, 2, …; the first iteration at which it reports a crawl (or −1). */
function firstCrawl(d0: number, r: number, points: number, pd = true): number {
  const w = new CrawlWatch();
  for (let t = 0; t < points; t++)
    if (w.crawling(t + 1, { decrement: d0 * r ** t, positiveDefinite: pd })) return t + 1;
  return -1;
}

describe('CrawlWatch', () => {
  it('reports a linear rate (decrement falling < 10× over the window) once the window is full', () => {
    expect(firstCrawl(1e-4, 0.95, 100)).toBe(HYBRID_CRAWL_STEPS + 1);
    const w = new CrawlWatch();
    for (let t = 1; t <= HYBRID_CRAWL_STEPS; t++)
      expect(w.crawling(t, { decrement: 5e-5, positiveDefinite: true })).toBe(false);
    expect(w.crawling(HYBRID_CRAWL_STEPS + 1, { decrement: 5e-5, positiveDefinite: true })).toBe(true);
    expect(w.from).toBe(5e-5);
  });

  it('never on fast convergence, at indefinite points, above the decrement threshold, or twice at one point', () => {
    expect(firstCrawl(1e-4, 0.5, 200)).toBe(-1); // 0.5^20 ≪ 0.1
    expect(firstCrawl(1e-4, 0.2, 200)).toBe(-1); // the quartic direction's (2/3)^4
    expect(firstCrawl(1e-4, 0.99, 200, false)).toBe(-1);
    expect(firstCrawl(1e-1, 0.99, 200)).toBe(-1); // 0.99^200 · 0.1 stays above 1e-3 nats
    const w = new CrawlWatch();
    // refused steps leave the point (and its iteration number) unchanged: they do not count
    for (let k = 0; k < 100; k++) expect(w.crawling(7, { decrement: 1e-5, positiveDefinite: true })).toBe(false);
    // an indefinite point in the middle restarts the window
    const v = new CrawlWatch();
    let t = 1;
    for (; t <= HYBRID_CRAWL_STEPS; t++) v.crawling(t, { decrement: 1e-5, positiveDefinite: true });
    expect(v.crawling(t++, { decrement: NaN, positiveDefinite: false })).toBe(false);
    expect(v.crawling(t++, { decrement: 1e-5, positiveDefinite: true })).toBe(false);
  });
});

describe('a hybrid fit running to the boundary', () => {
  it("temp-over's sigmoid cell n = 4 642, rep 0 (τ → 0): stops as a crawl, not converged, near SQUAREM's value", () => {
    const spec = presetSpec('temp-over', { quick: true });
    const truths = specTruths(spec);
    const cell = planCells(spec).find((c) => spec.models[c.model]!.label === 'sigmoid' && c.n === 4642 && c.rep === 0)!;
    const fm = spec.models[cell.model]!;
    const truth = truths[cell.model]!;
    const data = simulate(truth, { n: cell.n, seed: dataSeed(cell.seed), design: spec.design });
    const opts = {
      gate: fm.gate,
      k: fm.k,
      init: { kind: 'near-truth' as const, truth, noise: 'fixed' as const, noiseScale: 10 },
      restarts: 1,
      seed: initSeed(cell.seed),
      ...spec.em,
    };
    const hy = fitMoE(data, { ...opts, optimizer: 'hybrid' });
    expect(hy.stopReason).toBe('newton-crawl');
    expect(hy.converged).toBe(false);
    expect(hy.warnings.some((w) => /^trust-region Newton crawled: over 20 accepted steps/.test(w))).toBe(true);
    expect(hy.warnings.some((w) => /gate rows .* nearly collapsed .* growing 1\/τ/.test(w))).toBe(true);
    // without the stop: 515 Newton steps (one Hessian each) for the last 1e-5 nats
    expect(hy.hybrid!.newtonIterations).toBeLessThan(300);
    const sq = fitMoE(data, { ...opts, optimizer: 'em' });
    expect(hy.logLik).toBeGreaterThan(sq.logLik - 0.01);
  });
});
