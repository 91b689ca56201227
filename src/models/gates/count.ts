/**
 * Parameter counts of a k-expert, d-dimensional fit, both of them from one function:
 * - `free`: what the fit optimises — the gate's layout (each translation symmetry fixed at the
 *   reference expert k − 1, τ when tauMode is 'free'; src/em/gates/layout.ts builds the same
 *   count) plus the experts' k(d + 2). fitMoE requires n > free.total.
 * - identifiable (`gate`, `total`): what the likelihood can tell apart, the free count minus the
 *   flat directions the gate descriptor knows of (`Gate.identifiable`): the degrees of freedom of
 *   AIC / BIC / ICL. It differs from the free count where the likelihood has a flat direction the
 *   M-step keeps (the (β1, τ) scaling of the temperature gate and of positively homogeneous σ with
 *   τ free; top-1 by slope, where β0 has no effect and β1 counts up to scale), and for k = 1 (a
 *   constant gate identifies nothing).
 * Conventions:
 * - experts: k(d + 2) (slope a_j, intercept b_j, variance ν_j); with one variance shared by all
 *   experts (variance 'equal'), k(d + 1) + 1;
 * - softmax: (k − 1)(d + 1), the reference expert's (β0, β1) fixed at 0 (the translation symmetry;
 *   flexmix fixes component 1 instead, same count);
 * - top-K: counted like the softmax, (k − 1)(d + 1): the selection boundaries are parameters too;
 *   except K = 1 selecting on the slope, where π is the indicator of the argmax of β1_j·x: β0 has
 *   no effect and β1 counts only up to a positive scale, (k − 1)d − 1;
 * - temperature / activation: the translations the gate has fixed at the reference expert, plus τ when
 *   tauMode is 'free', minus 1 when σ is positively homogeneous (identity = the temperature gate, relu)
 *   and τ is free: (β1, τ) → (cβ1, cτ) (with the bias inside σ, (β0, β1, τ) → c(β0, β1, τ)) leaves
 *   the likelihood unchanged;
 * - k = 1: the gate is constant, 0 identifiable gate parameters whatever its kind.
 */
import { fail } from '../validate.js';
import type { GateSpec } from '../types.js';
import { getGate } from './index.js';

export interface ParameterCount {
  /** identifiable gate parameters (the likelihood depends on them) */
  gate: number;
  /** k(d + 2): a_j (d), b_j, ν_j per expert (k(d + 1) + 1 with one shared ν) */
  experts: number;
  /** identifiable parameters in all: the df of the information criteria */
  total: number;
  /** parameters the fit optimises: the gate's layout and the experts */
  free: { gate: number; total: number };
  /** how the gate was counted, one short sentence each */
  conventions: string[];
}

/**
 * Both parameter counts of a k-expert, d-dimensional fit of the gate `spec` (see module doc).
 * @throws ValidationError naming k or d when it is not an integer ≥ 1
 */
export function parameterCount(
  spec: GateSpec,
  k: number,
  d: number,
  tauMode: 'free' | 'fixed' = 'free',
  variance: 'free' | 'equal' = 'free',
): ParameterCount {
  if (!Number.isInteger(k) || k < 1) fail('k', 'must be an integer ≥ 1', k);
  if (!Number.isInteger(d) || d < 1) fail('d', 'must be an integer ≥ 1', d);
  const g = getGate(spec);
  const sym = g.symmetries(spec);
  const tauFree = g.hasTau && tauMode === 'free';
  const free = (sym.translationBeta0 ? k - 1 : k) + (sym.translationBeta1 ? k - 1 : k) * d + (tauFree ? 1 : 0);
  const experts = variance === 'equal' ? k * (d + 1) + 1 : k * (d + 2);
  const conventions = [
    variance === 'equal'
      ? `experts: k(d + 1) + 1 = ${experts} (a_j, b_j, one shared ν)`
      : `experts: k(d + 2) = ${experts} (a_j, b_j, ν_j)`,
  ];
  let gate = 0;
  if (k === 1) conventions.push('gate: constant with k = 1, no parameters');
  else {
    const id = g.identifiable(spec, k, d, free, tauFree);
    gate = id.count;
    conventions.push(`gate: ${id.convention}`);
  }
  return { gate, experts, total: gate + experts, free: { gate: free, total: free + experts }, conventions };
}
