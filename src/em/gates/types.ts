/**
 * One gate M-step per gate kind, behind one interface (after flexmix's FLXP and scikit-learn's
 * _m_step): it sees the data, the responsibilities and the current parameters, writes the new
 * gate parameters into the model and reports what happened. It never decides convergence.
 */
import type { Dataset, GateKind, Model } from '../../models/types.js';
import type { Backend } from '../backend/types.js';
import type { WarningLog } from '../warnings.js';
import type { Workspace } from '../workspace.js';
import type { Bounds } from '../bounds.js';
import type { GateLayoutInfo } from './layout.js';

export interface GateMStepContext {
  backend: Backend;
  data: Dataset;
  /** current model; its experts are already updated, its gate parameters get updated in place */
  model: Model;
  /** workspace: resp holds the responsibilities, logPi/pi (and mask) the gate at the current parameters */
  ws: Workspace;
  layout: GateLayoutInfo;
  /** maximum Newton steps */
  maxSteps: number;
  /** per-sample tolerance on the predicted gain of Q */
  tol: number;
  warnings: WarningLog;
  /** EM iteration (for warnings) */
  iteration: number;
  /** Q = Σ r log π at the current gate and responsibilities when the E-step computed it (NaN: unknown) */
  q0?: number;
}

export interface GateMStepInfo {
  /** Newton steps accepted */
  steps: number;
  /** step halvings (and, for top-K, backtracks on the observed log-likelihood) */
  halvings: number;
  /** the optimiser's convergence test passed */
  converged: boolean;
  /** top-K: the new gate was refused because the observed log-likelihood dropped */
  refused: boolean;
  /** ridge added to an ill-conditioned curvature (0 = none) */
  ridge: number;
  /** Q at the returned parameters */
  Q: number;
  /** ws.logPi / ws.pi (and ws.mask) hold the gate at the returned parameters */
  logPiValid: boolean;
}

export interface GateMStepResult {
  /** the model whose gate parameters (beta0, beta1, tau) were updated */
  params: Model;
  info: GateMStepInfo;
}

export interface GateMStep {
  readonly kind: GateKind;
  step(ctx: GateMStepContext): GateMStepResult;
}

/** Creates the M-step state of one fit (scratch allocated once). */
export type GateMStepFactory = (ctx: {
  backend: Backend;
  data: Dataset;
  model: Model;
  ws: Workspace;
  layout: GateLayoutInfo;
  /** the fit's bounds (src/em/bounds.ts): every step stays inside them; absent: unbounded */
  bounds?: Bounds;
}) => GateMStep;

export function emptyInfo(): GateMStepInfo {
  return { steps: 0, halvings: 0, converged: false, refused: false, ridge: 0, Q: NaN, logPiValid: false };
}
