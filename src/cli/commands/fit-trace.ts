/**
 * `gmoe fit --trace FILE`: every iteration of every start as CSV — its log-likelihood and phase, and for the
 * hybrid's trust-region steps the radius, step length, predicted gain, ρ, extension and refusals (FitOptions
 * onIteration's IterationInfo), to see where a fit's iterations went.
 */
import type { FitOptions, IterationInfo } from '../../em/types.js';
import { csvText, csvValue } from '../../experiments/analysis/summary-csv.js';

const HEADER = [
  'restart',
  'iteration',
  'logLik',
  'phase',
  'newton',
  'radius',
  'norm',
  'predicted',
  'rho',
  'alpha',
  'refused',
];

/** An onIteration that keeps every iteration, and the CSV of what it kept. */
export function traceRecorder(): { onIteration: NonNullable<FitOptions['onIteration']>; csv(): string } {
  const rows: string[][] = [HEADER];
  return {
    onIteration(it: IterationInfo) {
      const s = it.step;
      rows.push([
        String(it.restart + 1),
        String(it.iteration),
        csvValue(it.logLik),
        it.phase,
        ...(s
          ? [
              String(s.newton),
              csvValue(s.radius),
              csvValue(s.norm),
              csvValue(s.predicted),
              csvValue(s.rho),
              String(s.alpha),
              String(s.refused),
            ]
          : ['', '', '', '', '', '', '']),
      ]);
    },
    csv: () => csvText(rows),
  };
}

/** Both callbacks (either may be absent). */
export function bothCallbacks(a: FitOptions['onIteration'], b: FitOptions['onIteration']): FitOptions['onIteration'] {
  if (!a || !b) return a ?? b;
  return (it) => {
    a(it);
    b(it);
  };
}
