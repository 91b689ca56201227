/**
 * Number formats shared by the summary table and the figures: slopes with two decimals,
 * prefactors with two significant digits, exponents as small fractions when they are one.
 */
import type { Population, Prediction, SlopeFit } from '../types.js';
import { readsMedian } from './curve.js';

/** `x` with `digits` decimals, "—" when not finite; `minus` replaces the ASCII hyphen. */
export function fixed(x: number, digits = 2, minus = '-'): string {
  if (!Number.isFinite(x)) return '—';
  const s = (Object.is(x, -0) ? 0 : x).toFixed(digits);
  // "-0.00" reads as a sign without a value
  const t = /^-0\.?0*$/.test(s) ? s.slice(1) : s;
  return minus === '-' ? t : t.replace('-', minus);
}

/**
 * Two significant digits without an exponent between 1e-3 and 1e4 (e.g. 1.3, 0.0042, 250),
 * otherwise mantissa·10^exponent ("3.1e-5"; `html` gives "3.1·10<sup>−5</sup>").
 */
export function sig2(x: number, html = false): string {
  if (!Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const ax = Math.abs(x);
  if (ax >= 1e-3 && ax < 1e4) return String(Number(x.toPrecision(2)));
  const [mant, exp] = x.toExponential(1).split('e');
  const e = Number(exp);
  return html ? `${mant.replace('-', '−')}·10<sup>${String(e).replace('-', '−')}</sup>` : `${mant}e${e}`;
}

/** An exponent as a fraction with a small denominator when it is one (-0.5 → "-1/2"), else 2 decimals. */
export function exponentText(e: number, minus = '-'): string {
  if (!Number.isFinite(e)) return '—';
  if (Number.isInteger(e)) return String(e).replace('-', minus);
  for (let q = 2; q <= 24; q++) {
    const p = Math.round(e * q);
    if (Math.abs(e * q - p) < 1e-9) {
      const g = gcd(Math.abs(p), q);
      return `${p / g < 0 ? minus : ''}${Math.abs(p / g)}/${q / g}`;
    }
  }
  return fixed(e, 3, minus);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** A prediction as text: "-1/2" for n^-1/2, or "1/log n". */
export function predictionText(p: Prediction | undefined): string {
  if (!p) return '—';
  const law = 'exponent' in p ? exponentText(p.exponent) : p.law;
  return readsMedian(p) ? `${law} (median)` : law;
}

/** "[lo, hi]" with two decimals. */
export function ciText(ci: [number, number] | undefined, minus = '-'): string {
  if (!ci) return '[—]';
  return `[${fixed(ci[0], 2, minus)}, ${fixed(ci[1], 2, minus)}]`;
}

/**
 * The fitted law as plain text, e.g. `1.3·n^-0.51 [-0.55, -0.47]` (prefactor e^intercept,
 * slope, bootstrap interval of the slope).
 */
export function powerLawLabel(fit: SlopeFit): string {
  return `${sig2(Math.exp(fit.intercept))}·n^${fixed(fit.slope)} ${ciText(fit.ci)}`;
}

/** {@link powerLawLabel} for plotly text: superscript exponent and true minus signs. */
export function powerLawLabelHtml(fit: SlopeFit): string {
  return `${sig2(Math.exp(fit.intercept), true)}·n<sup>${fixed(fit.slope, 2, '−')}</sup> ${ciText(fit.ci, '−')}`;
}

/** A summary's population (`gmoe report --cells`) in words, for the table and the figure. */
export function populationText(p: Population): string {
  return `only fits whose Voronoi cells hold (${p.cells.join(', ')}) fitted atoms: ${p.kept} of ${p.of} — chosen by the fits' outcome, so the rates are conditional`;
}
