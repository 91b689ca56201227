/** The gate M-steps' warnings, worded once (every Newton-type M-step reports through these). */
import type { WarningLog } from '../warnings.js';

export const gateWarn = {
  ridge(w: WarningLog, ridge: number, iteration: number): void {
    w.add(
      'gate-ridge',
      `gate M-step: singular or ill-conditioned Hessian, a ridge of ${ridge.toExponential(2)} was added (iteration ${iteration})`,
      iteration,
    );
  },
  nonFinite(w: WarningLog, iteration: number): void {
    w.add(
      'gate-nonfinite',
      `gate M-step: non-finite gradient or Hessian, the gate kept its last finite parameters (iteration ${iteration})`,
      iteration,
    );
  },
  noAscent(w: WarningLog, predicted: number, iteration: number): void {
    w.add(
      'gate-noascent',
      `gate M-step: no step increased Q (predicted gain ${predicted.toExponential(2)}), the gate kept its parameters (iteration ${iteration})`,
      iteration,
    );
  },
  maxSteps(w: WarningLog, maxSteps: number, iteration: number): void {
    w.add(
      'gate-maxsteps',
      `gate M-step: stopped after ${maxSteps} Newton steps without converging (iteration ${iteration})`,
      iteration,
    );
  },
  topkRefused(w: WarningLog, iteration: number): void {
    w.add(
      'topk-refused',
      `top-K gate M-step: refused a gate step that lowered the observed log-likelihood (kept the previous gate; iteration ${iteration})`,
      iteration,
    );
  },
};
