/**
 * Columns of x on a scale the fit cannot take as it is. The gate's and the experts' normal equations hold a
 * column of ones beside each x column: with |x| in the thousands or far below 1, or a small spread around a
 * large offset (a Unix timestamp), their diagonal spans many orders of magnitude, the M-step's ridge
 * (relative to its largest diagonal entry) swamps the intercepts, and EM can stop — "converged" — far from the
 * maximum. Centring and scaling x (the model is equivariant under x → (x − c)/s for the linear gates) avoids it.
 */
import { columnMeanSd } from '../models/column-stats.js';
import type { Dataset } from '../models/types.js';

/** rms |x| beyond which (or below 1 / it) a column is called badly scaled: a diagonal ratio of 10⁶. */
export const X_SCALE_MAX = 1e3;
/** |mean| / sd beyond which a column is called offset: (1, x) collinear to a condition number of ≈ 10⁶. */
export const X_OFFSET_MAX = 1e3;

const fmt = (v: number) => v.toPrecision(3);

/** One line per badly scaled or offset column (x1, x2, … or the names given), empty when all are fine. */
export function xScaleWarnings(data: Dataset, names?: readonly string[]): string[] {
  return columnMeanSd(data.X, data.n, data.d).flatMap(({ mean, sd }, l) => {
    const rms = Math.hypot(mean, sd); // √(mean of x²), the population sd's identity
    const why =
      rms > X_SCALE_MAX || rms < 1 / X_SCALE_MAX
        ? `has rms ${fmt(rms)}`
        : Math.abs(mean) > X_OFFSET_MAX * sd
          ? `varies by sd ${fmt(sd)} around ${fmt(mean)}`
          : null;
    return why === null
      ? []
      : [
          `column ${names?.[l] ?? `x${l + 1}`} ${why}: the M-steps are ill-conditioned at this scale and the fit may stop far from the maximum — centre and scale it, e.g. (x − ${fmt(mean)}) / ${fmt(sd)}`,
        ];
  });
}
