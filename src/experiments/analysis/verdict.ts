/**
 * Rate verdicts (THEORY.md §5, "Deciding a rate"): an interval decides a rate only when it holds
 * the predicted law and excludes its competitors.
 *
 * - `confirmed`: the prediction lies in the interval and every competing law lies outside it;
 * - `contradicted`: the prediction lies outside the interval (for 1/log n: the data show a clean
 *   power law, see {@link cleanPowerLawOf}, or grow with n: the whole interval above 0);
 * - `inconclusive`: neither; `cannotExclude` names the competitors inside the interval;
 * - `by construction`: the estimator fixes the value (the identity gate's β1 and τ, whose M-step
 *   holds τ at its start): shown, never counted as evidence.
 *
 * Competitors: of n^e, the nearest exponents of the ladder {@link RATE_LADDER} on each side of e
 * (for −1/2: −1/4 and −1); of 1/log n, every polynomial rate at or steeper than −1/8 (a 1/log n
 * curve's local log-log slope is −1/ln n ≥ −0.15 at n ≥ 1000, so only slopes flatter than −1/8
 * are compatible with it) and, on the flat side, 0: an interval that reaches 0 has not shown the
 * curve falling at all, which a slowly converging curve and one that never converges share.
 */
import type { LawComparison, Prediction } from '../types.js';
import { exponentText, fixed } from './format.js';

/** The exponents of THEORY.md §5, flattest first. */
export const RATE_LADDER: readonly number[] = Object.freeze([0, -1 / 12, -1 / 8, -1 / 6, -1 / 4, -1 / 2, -1]);

/** The rates that compete with a 1/log n prediction: no fall at all (0), and −1/8 and steeper. */
export const INVLOG_COMPETITORS: readonly number[] = RATE_LADDER.filter((e) => e === 0 || e <= -1 / 8);

/** Share of bootstrap resamples that must prefer the power law for it to count as clean. */
export const CLEAN_SHARE = 0.95;

export type VerdictWord = 'confirmed' | 'inconclusive' | 'contradicted' | 'by construction' | 'no interval';

export interface RateVerdict {
  verdict: VerdictWord;
  /** the competing exponents the interval was checked against */
  competitors: number[];
  /** `inconclusive`: the competitors inside the interval */
  cannotExclude?: number[];
  /** `contradicted` against a power law: whether the curve falls faster or slower than predicted */
  direction?: 'faster' | 'slower';
  /** one line: what was compared and how it came out */
  detail: string;
}

/**
 * The competing laws of a prediction: the ladder's nearest exponents on each side of n^e, or 0 and the
 * polynomial rates at or steeper than −1/8 for 1/log n.
 */
export function competitorsOf(p: Prediction): number[] {
  if ('law' in p) return [...INVLOG_COMPETITORS];
  const e = p.exponent;
  const flatter = RATE_LADDER.filter((c) => c > e + 1e-12);
  const steeper = RATE_LADDER.filter((c) => c < e - 1e-12);
  const out: number[] = [];
  if (flatter.length > 0) out.push(Math.min(...flatter));
  if (steeper.length > 0) out.push(Math.max(...steeper));
  return out;
}

/** Half the distance from the prediction to its nearest competitor: the half-width that decides it. */
export function decisiveHalfWidth(p: Prediction, slope?: number): number {
  if ('law' in p) {
    // the interval sits around the measured slope and must clear both −1/8 and 0 (no slope: the middle)
    const s = slope !== undefined && Number.isFinite(slope) ? Math.min(slope, 0) : -1 / 16;
    return Math.min(s + 1 / 8, Math.abs(s));
  }
  const d = Math.min(...competitorsOf(p).map((c) => Math.abs(c - p.exponent)));
  return d / 2;
}

/**
 * Whether a curve shows a clean power law (the 1/log n prediction's contradiction), all three of:
 * (a) the power law fits the mean curve better than a + c/log n; (b) in at least CLEAN_SHARE of the
 * bootstrap resamples; (c) the whole slope interval lies below −1/ln(n_min), steeper than any
 * a + c/log n (a, c ≥ 0) can be on the grid.
 * @param ci the mean curve's slope interval
 * @param nMin the smallest n of the mean fit
 */
export function cleanPowerLawOf(
  law: LawComparison | undefined,
  ci: [number, number],
  nMin: number | undefined,
): { clean: boolean; why: string } {
  if (!law)
    return { clean: true, why: 'no power vs a + c/log n comparison in the summary (cannot rule out a power law)' };
  const [lo, hi] = ci;
  const share =
    law.bootstrapPreferInvLog === undefined || !Number.isFinite(law.bootstrapPreferInvLog)
      ? NaN
      : 1 - law.bootstrapPreferInvLog;
  if (law.preferred !== 'power')
    return { clean: false, why: `a + c/log n fits better (RSS ratio power/invlog ${fixed(law.ratio, 2)})` };
  if (!(share >= CLEAN_SHARE)) {
    return {
      clean: false,
      why: `power law preferred, but only in ${Number.isFinite(share) ? `${Math.round(100 * share)}%` : 'no'} of the bootstrap resamples (clean: ≥ ${Math.round(100 * CLEAN_SHARE)}%)`,
    };
  }
  if (nMin === undefined || !Number.isFinite(lo) || !Number.isFinite(hi))
    return { clean: true, why: 'power law preferred and no slope interval to show it is slow' };
  const steepest = -1 / Math.log(nMin);
  if (hi >= steepest) {
    return {
      clean: false,
      why: `power law preferred in ${Math.round(100 * share)}% of resamples, but the slope interval reaches ${fixed(steepest, 3)} = −1/ln ${nMin}, a slope a + c/log n can have`,
    };
  }
  return {
    clean: true,
    why: `power law preferred in ${Math.round(100 * share)}% of resamples and the whole slope interval [${fixed(lo, 3)}, ${fixed(hi, 3)}] is below −1/ln ${nMin} = ${fixed(steepest, 3)}`,
  };
}

const inside = (c: number, lo: number, hi: number) => lo <= c && c <= hi;
const list = (cs: number[]) => cs.map((c) => exponentText(c)).join(', ');

/**
 * The verdict of a rate row.
 * @param ci the interval of the curve the verdict reads (mean or median, see curve.ts)
 * @param context.law, context.meanCi, context.nMin the law comparison, the mean curve's interval
 *   and smallest n (1/log n predictions)
 * @param context.byConstruction why the estimator fixes this value (then no other reading is made)
 */
export function judgeRate(
  prediction: Prediction | undefined,
  ci: [number, number],
  context: { law?: LawComparison; meanCi?: [number, number]; nMin?: number; byConstruction?: string } = {},
): RateVerdict | undefined {
  if (context.byConstruction) return { verdict: 'by construction', competitors: [], detail: context.byConstruction };
  if (!prediction) return undefined;
  const competitors = competitorsOf(prediction);
  const [lo, hi] = ci;
  if (!Number.isFinite(lo) || !Number.isFinite(hi))
    return {
      verdict: 'no interval',
      competitors,
      detail:
        'no slope interval (too few sample sizes with a positive statistic, or one replication at some n: see the notes)',
    };
  const ciStr = `[${fixed(lo)}, ${fixed(hi)}]`;
  let holds: string;
  if ('exponent' in prediction) {
    const e = prediction.exponent;
    if (!inside(e, lo, hi)) {
      const direction = hi < e ? 'faster' : 'slower';
      return {
        verdict: 'contradicted',
        competitors,
        direction,
        detail: `${exponentText(e)} outside ${ciStr}: ${direction} than predicted`,
      };
    }
    holds = `${exponentText(e)} in ${ciStr}`;
  } else {
    // a + c/log n (c ≥ 0) never rises: a curve whose whole interval is above 0 grows with n, which no
    // rate of convergence does (outlying fits at the larger n, say), so it is no evidence for the law
    if (lo > 0)
      return {
        verdict: 'contradicted',
        competitors,
        detail: `grows with n: the slope interval ${ciStr} lies above 0, where no a + c/log n curve lies`,
      };
    const c = cleanPowerLawOf(context.law, context.meanCi ?? ci, context.nMin);
    if (c.clean) return { verdict: 'contradicted', competitors, detail: `clean power law: ${c.why}` };
    holds = `no clean power law (${c.why})`;
  }
  const cannot = competitors.filter((c) => inside(c, lo, hi));
  if (cannot.length > 0)
    return {
      verdict: 'inconclusive',
      competitors,
      cannotExclude: cannot,
      detail: `${holds}, but so is ${list(cannot)}`,
    };
  return { verdict: 'confirmed', competitors, detail: `${holds}; ${list(competitors)} outside` };
}

/** The verdict as a short cell: "inconclusive (−1/4 in CI)", "contradicted (faster)". */
export function verdictText(
  v: { verdict?: string; cannotExclude?: number[]; direction?: 'faster' | 'slower' } | undefined,
  minus = '-',
): string {
  if (!v?.verdict) return '';
  // a rate that is an upper bound can be beaten: say which way the curve missed it
  if (v.verdict === 'contradicted' && v.direction) return `contradicted (${v.direction})`;
  if (v.verdict === 'inconclusive' && v.cannotExclude && v.cannotExclude.length > 0) {
    return `inconclusive (${v.cannotExclude.map((c) => exponentText(c, minus)).join(', ')} in CI)`;
  }
  return v.verdict;
}
