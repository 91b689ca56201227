/**
 * Experts M-step (all gates, closed form; THEORY.md §6): for each expert j, weighted least
 * squares of y on (1, x) with weights r_·j — solved on data centred at the weighted means, which
 * keeps the normal equations well conditioned whatever the offset of x — then
 * ν_j = Σ_i r_ij (y_i − a_j·x_i − b_j)² / Σ_i r_ij, floored. The residual sum comes from the
 * centred moments (Syy − Sxyᵀa) when that keeps at least 13 significant digits, else from an
 * exact residual pass.
 * An expert whose total responsibility is below `minResponsibility`, or whose weighted design is
 * singular, keeps its previous parameters (never NaN) and the fit gets a warning.
 * With one variance shared by all experts ('equal'), Q's maximiser is the pooled
 * ν = Σ_j RSS_j / n over every expert (a kept one's RSS at its kept line), then floored as above.
 */
import type { Dataset, Model } from '../models/types.js';
import { expertMoments, type Backend, type ExpertMoments } from './backend/types.js';
import { cholesky, choleskySolve } from './optim/linalg.js';
import type { WarningLog } from './warnings.js';

export interface ExpertsMStepInfo {
  /** experts that kept their previous parameters */
  kept: number;
  /** experts whose variance was raised to the floor */
  floored: number;
}

export interface ExpertsMStep {
  /** Forgets the previous call's means (call at the start of each EM run: runs stay independent). */
  reset(): void;
  /** Updates a, b, ν of `model` in place from the responsibilities `resp` (n × k). */
  step(
    model: Model,
    resp: Float64Array,
    warnings: WarningLog,
    iteration: number,
  ): { params: Model; info: ExpertsMStepInfo };
}

/**
 * Creates the experts M-step of a fit (scratch allocated once).
 * @param varianceFloor smallest ν
 * @param minResponsibility smallest Σ_i r_ij for an expert to be re-estimated
 * @param nuBounds the `bounds.nu` interval: ν clamped into it (the exact maximiser there: for the
 *   least-squares line, Q_j is unimodal in ν_j with its peak at RSS_j/N_j)
 * @param variance 'equal': one ν shared by all experts (pooled)
 */
export function createExpertsMStep(
  backend: Backend,
  data: Dataset,
  k: number,
  varianceFloor: number,
  minResponsibility: number,
  nuBounds?: readonly [number, number],
  variance: 'free' | 'equal' = 'free',
): ExpertsMStep {
  const pooled = variance === 'equal';
  const nuLo = nuBounds ? Math.max(nuBounds[0], varianceFloor) : varianceFloor;
  const nuHi = nuBounds ? nuBounds[1] : Infinity;
  // a residual variance below the floor (or NaN) is raised to it and said; any other clamped into the bounds
  const belowFloor = (nu: number): boolean => nu < varianceFloor || !(nu === nu);
  const clamped = (nu: number): number => (nu < nuLo ? nuLo : nu > nuHi ? nuHi : nu);
  const { X, y, n, d } = data;
  const mom: ExpertMoments = expertMoments(k, d);
  const rss = new Float64Array(k);
  const updated = new Uint8Array(k);
  const A = new Float64Array(d * d);
  const L = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  const sol = new Float64Array(d);
  const info: ExpertsMStepInfo = { kept: 0, floored: 0 };
  const result = { params: null as unknown as Model, info };

  return {
    reset() {
      mom.shifted = false;
    },
    step(model, resp, warnings, iteration) {
      mom.Syy.fill(NaN);
      backend.expertMoments(X, y, n, d, k, resp, mom);
      info.kept = 0;
      info.floored = 0;
      for (let j = 0; j < k; j++) {
        updated[j] = 0;
        const Nj = mom.N[j]!;
        if (!(Nj >= minResponsibility)) {
          info.kept++;
          warnings.add(
            `expert-empty-${j}`,
            `expert ${j + 1} had almost no responsibility (Σ r = ${Nj.toPrecision(3)} < ${minResponsibility}): its M-step kept its previous parameters`,
            iteration,
            true,
          );
          continue;
        }
        for (let t = 0; t < d * d; t++) A[t] = mom.Sxx[j * d * d + t]!;
        for (let a = 0; a < d; a++) rhs[a] = mom.Sxy[j * d + a]!;
        // a weighted design of rank < d cannot identify the slopes
        if (cholesky(A, d, L) < 1e-13) {
          info.kept++;
          warnings.add(
            `expert-singular-${j}`,
            `expert ${j + 1}: its weighted design was singular (the responsibilities sat on too few distinct x): its M-step kept its previous parameters`,
            iteration,
            true,
          );
          continue;
        }
        choleskySolve(L, d, rhs, sol);
        let bj = mom.ybar[j]!;
        for (let a = 0; a < d; a++) {
          model.a[j * d + a] = sol[a]!;
          bj -= sol[a]! * mom.xbar[j * d + a]!;
        }
        model.b[j] = bj;
        updated[j] = 1;
      }
      // RSS = Syy − Sxyᵀa from the centred moments, unless that cancels more than 3 digits
      // (or the backend gave no Syy): then an exact residual pass
      let pass = false;
      for (let j = 0; j < k; j++) {
        if (!updated[j]) continue;
        const syy = mom.Syy[j]!;
        let r = syy;
        for (let a = 0; a < d; a++) r -= model.a[j * d + a]! * mom.Sxy[j * d + a]!;
        rss[j] = r;
        if (!(r > 1e-3 * syy)) pass = true;
      }
      // pooled: a kept expert's RSS too (at its kept line), which only the residual pass gives
      if (pass || (pooled && info.kept > 0)) backend.expertResiduals(model, X, y, n, resp, rss);
      if (pooled) {
        const nu = pooledVariance(rss, mom.N);
        if (belowFloor(nu)) {
          info.floored = k;
          warnings.add(
            'variance-floor-equal',
            `the shared variance hit the floor (ν = ${nu.toPrecision(3)} raised to ${nuLo.toPrecision(3)})`,
            iteration,
            true,
          );
        }
        model.nu.fill(belowFloor(nu) ? nuLo : clamped(nu));
        result.params = model;
        return result;
      }
      for (let j = 0; j < k; j++) {
        if (!updated[j]) continue;
        const nu = rss[j]! / mom.N[j]!;
        if (belowFloor(nu)) {
          model.nu[j] = nuLo;
          info.floored++;
          warnings.add(
            `variance-floor-${j}`,
            `expert ${j + 1}: variance floor hit (ν = ${nu.toPrecision(3)} raised to ${nuLo.toPrecision(3)})`,
            iteration,
            true,
          );
        } else {
          model.nu[j] = clamped(nu);
        }
      }
      result.params = model;
      return result;
    },
  };
}

/** Σ_j RSS_j / Σ_j N_j: the maximiser of Q in one variance shared by every expert. */
function pooledVariance(rss: Float64Array, N: Float64Array): number {
  let r = 0;
  let w = 0;
  for (let j = 0; j < N.length; j++) {
    r += rss[j]!;
    w += N[j]!;
  }
  return r / w;
}
