/**
 * Power law c·n^s against a + c/log(n) (the signature of the temperature gate, THEORY.md §5).
 *
 * Both laws have two parameters and both are fitted and compared on the same scale: least
 * squares of log(value), so the comparison is a plain ratio of residual sums of squares
 * (with equal parameter counts, also a likelihood ratio under log-normal noise).
 *
 * The a + c/log(n) law is constrained to a ≥ 0 and c ≥ 0: a loss is non-negative, so a
 * negative floor a would predict it reaching zero at a finite n, and c < 0 would be a curve
 * that grows with n. Under the constraint the fit is a profile over ρ = a / (a + c/ū)
 * in [0, 1] (ū the mean of 1/log n): for fixed ρ the best log-scale factor is closed form.
 */
import type { LawComparison } from '../types.js';
import { ols } from './slope.js';

/** Fitted a + c/log(n) on the log scale. */
export interface InvLogFit {
  a: number;
  c: number;
  /** residual sum of squares of log(value) */
  rss: number;
}

// coarse profile grid in ρ; golden-section refinement does the rest
const GRID = 64;

/**
 * Precomputed pieces of the a + c/log(n) fit for a fixed set of n, reusable across many
 * curves (bootstrap resamples): log g_ρ(u_i) on a grid of ρ.
 */
export class InvLogFitter {
  readonly len: number;
  private readonly u: Float64Array;
  private readonly ubar: number;
  private readonly table: Float64Array; // (GRID + 1) × len, row k is log g_{k/GRID}(u)
  private readonly rowMean: Float64Array;
  private readonly ly: Float64Array;
  private readonly lg: Float64Array;

  /**
   * @param n sample sizes (> 1), distinct
   * @throws Error when an n is ≤ 1 (1/log n undefined)
   */
  constructor(n: ArrayLike<number>) {
    const len = n.length;
    this.len = len;
    this.u = new Float64Array(len);
    let s = 0;
    for (let i = 0; i < len; i++) {
      if (!(n[i] > 1)) throw new Error(`n[${i}] must be > 1 for a + c/log(n). Value: ${n[i]}`);
      this.u[i] = 1 / Math.log(n[i]);
      s += this.u[i];
    }
    this.ubar = s / len;
    this.table = new Float64Array((GRID + 1) * len);
    this.rowMean = new Float64Array(GRID + 1);
    for (let k = 0; k <= GRID; k++) {
      const rho = k / GRID;
      let m = 0;
      for (let i = 0; i < len; i++) {
        const v = Math.log(this.g(rho, i));
        this.table[k * len + i] = v;
        m += v;
      }
      this.rowMean[k] = m / len;
    }
    this.ly = new Float64Array(len);
    this.lg = new Float64Array(len);
  }

  private g(rho: number, i: number): number {
    return rho + ((1 - rho) * this.u[i]) / this.ubar;
  }

  /** rss at ρ given the log values in this.ly and their mean */
  private rssAt(rho: number, lyMean: number): number {
    let m = 0;
    for (let i = 0; i < this.len; i++) {
      this.lg[i] = Math.log(this.g(rho, i));
      m += this.lg[i];
    }
    const L = lyMean - m / this.len;
    let rss = 0;
    for (let i = 0; i < this.len; i++) {
      const r = this.ly[i] - this.lg[i] - L;
      rss += r * r;
    }
    return rss;
  }

  /**
   * Least-squares fit of log(y) by log(a + c/log n), a, c ≥ 0.
   * @param y positive values, one per n given to the constructor
   * @throws Error when a value is not positive and finite
   */
  fit(y: ArrayLike<number>): InvLogFit {
    const len = this.len;
    if (y.length < len) throw new Error(`y must have ${len} values. Value: length ${y.length}`);
    let lyMean = 0;
    for (let i = 0; i < len; i++) {
      if (!(y[i] > 0 && Number.isFinite(y[i]))) throw new Error(`y[${i}] must be positive and finite. Value: ${y[i]}`);
      this.ly[i] = Math.log(y[i]);
      lyMean += this.ly[i];
    }
    lyMean /= len;
    // coarse grid from the table, then golden-section refinement around the best node
    let best = 0;
    let bestRss = Infinity;
    for (let k = 0; k <= GRID; k++) {
      const L = lyMean - this.rowMean[k];
      let rss = 0;
      const off = k * len;
      for (let i = 0; i < len; i++) {
        const r = this.ly[i] - this.table[off + i] - L;
        rss += r * r;
      }
      if (rss < bestRss) {
        bestRss = rss;
        best = k;
      }
    }
    let lo = Math.max(0, best - 1) / GRID;
    let hi = Math.min(GRID, best + 1) / GRID;
    const phi = (Math.sqrt(5) - 1) / 2;
    let x1 = hi - phi * (hi - lo);
    let x2 = lo + phi * (hi - lo);
    let f1 = this.rssAt(x1, lyMean);
    let f2 = this.rssAt(x2, lyMean);
    for (let it = 0; it < 60 && hi - lo > 1e-10; it++) {
      if (f1 <= f2) {
        hi = x2;
        x2 = x1;
        f2 = f1;
        x1 = hi - phi * (hi - lo);
        f1 = this.rssAt(x1, lyMean);
      } else {
        lo = x1;
        x1 = x2;
        f1 = f2;
        x2 = lo + phi * (hi - lo);
        f2 = this.rssAt(x2, lyMean);
      }
    }
    let rho = f1 <= f2 ? x1 : x2;
    let rss = Math.min(f1, f2);
    if (bestRss <= rss) {
      rho = best / GRID;
      rss = bestRss;
    }
    let m = 0;
    for (let i = 0; i < len; i++) m += Math.log(this.g(rho, i));
    const scale = Math.exp(lyMean - m / len);
    return { a: scale * rho, c: (scale * (1 - rho)) / this.ubar, rss };
  }
}

/**
 * Fits a + c/log(n) (a, c ≥ 0) to positive values on the log scale.
 * @param n sample sizes (> 1)
 * @param y positive values, one per n
 */
export function fitInvLog(n: ArrayLike<number>, y: ArrayLike<number>): InvLogFit {
  return new InvLogFitter(n).fit(y);
}

/** Whether a + c/log(n) fits better than a power law (log scale, equal parameter counts). */
function ratioOf(rssPower: number, rssInvLog: number): number {
  // both laws can be exact on noiseless data: treat a tie at zero as a tie
  if (rssPower === 0 && rssInvLog === 0) return 1;
  return rssPower / Math.max(rssInvLog, Number.MIN_VALUE);
}

/**
 * Compares a power law with a + c/log(n) on a curve (e.g. the per-n means), both fitted by
 * least squares of log(value); ties go to the power law.
 * @param n sample sizes (> 1), at least 3 (two-parameter laws on two points always fit exactly)
 * @param y positive values, one per n
 * @throws Error on fewer than 3 points or non-positive values
 */
export function compareLaws(n: ArrayLike<number>, y: ArrayLike<number>): LawComparison {
  if (n.length < 3) throw new Error(`compareLaws needs at least 3 sample sizes. Value: ${n.length}`);
  const fitter = new InvLogFitter(n);
  const inv = fitter.fit(y);
  const power = powerRss(n, y);
  const ratio = ratioOf(power, inv.rss);
  return {
    preferred: ratio > 1 ? '1/log n' : 'power',
    rssPower: power,
    rssInvLog: inv.rss,
    ratio,
    invLog: { a: inv.a, c: inv.c },
  };
}

/**
 * Counts, over many curves on the same n, how often a + c/log(n) fits better: feed it
 * bootstrap resamples. Allocation happens once, in the constructor.
 */
export class LawPreferenceCounter {
  private readonly fitter: InvLogFitter;
  private readonly x: Float64Array;
  private readonly ly: Float64Array;
  total = 0;
  preferInvLog = 0;

  constructor(n: ArrayLike<number>) {
    this.fitter = new InvLogFitter(n);
    this.x = Float64Array.from(n as ArrayLike<number>, Math.log);
    this.ly = new Float64Array(n.length);
  }

  /** Adds one curve; curves with a non-positive value are skipped (not counted). */
  add(y: ArrayLike<number>): void {
    for (let i = 0; i < this.ly.length; i++) {
      if (!(y[i] > 0)) return;
      this.ly[i] = Math.log(y[i]);
    }
    const power = ols(this.x, this.ly).rss;
    const inv = this.fitter.fit(y).rss;
    this.total++;
    if (ratioOf(power, inv) > 1) this.preferInvLog++;
  }

  /** Fraction of counted curves preferring a + c/log(n) (NaN when none counted). */
  fraction(): number {
    return this.total === 0 ? NaN : this.preferInvLog / this.total;
  }
}

function powerRss(n: ArrayLike<number>, y: ArrayLike<number>): number {
  const x = new Float64Array(n.length);
  const ly = new Float64Array(n.length);
  for (let i = 0; i < n.length; i++) {
    if (!(y[i] > 0 && Number.isFinite(y[i]))) throw new Error(`y[${i}] must be positive and finite. Value: ${y[i]}`);
    x[i] = Math.log(n[i]);
    ly[i] = Math.log(y[i]);
  }
  return ols(x, ly).rss;
}
