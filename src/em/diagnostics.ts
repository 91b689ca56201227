/**
 * Identifiability diagnostic: the eigen-decomposition of the information matrix of the gate
 * M-step objective Q(θ) = Σ_ij r_ij log π_ij at the fit (responsibilities of the fit held
 * fixed), over the free gate parameters — the reference expert fixed as in the fitter, τ as
 * log τ. An eigenvalue ≤ relTol × the largest marks a (numerically) flat direction: a direction
 * along which the gate, and so the likelihood, does not change to second order. The temperature
 * gate with τ free shows the (β1, log τ) scaling direction (β1, 1); tanh shows none.
 *
 * matrix 'hessian' (default): −∇²Q by central differences of the analytic gradient (step
 * 1e-5·max(1, |θ_p|)), symmetrised; 'fisher': the Gauss–Newton curvature Σ_i J_iᵀ(diag π − ππᵀ)J_i,
 * analytic, equal to −∇²Q for the softmax and top-K gates.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { getGate, isMasked } from '../models/gates/index.js';
import { cloneModel, type Dataset, type Model } from '../models/types.js';
import { createCpuBackend } from './backend/cpu.js';
import { fixedLabels, gateLayout, layoutLabels, normalizeGate, packGate } from './gates/layout.js';
import { GateQObjective } from './gates/objective.js';
import { symmetrize } from './optim/linalg.js';
import type { FitResult, IdentifiabilityDiagnostic } from './types.js';
import { createWorkspace } from './workspace.js';

export interface DiagnosticOptions {
  /** flat when eigenvalue ≤ relTol × largest (default 1e-6) */
  relTol?: number;
  /** whether τ is a free parameter (default 'free'; a FitResult's own option wins) */
  tauMode?: 'free' | 'fixed';
  matrix?: 'hessian' | 'fisher';
}

/**
 * Eigenvalues and flat directions of the gate information matrix at a fit (see module doc).
 * @param fit a FitResult or a fitted Model
 * @param data the data the model was fitted to
 * @throws when the model and data disagree in d
 */
export function diagnoseIdentifiability(
  fit: FitResult | Model,
  data: Dataset,
  options: DiagnosticOptions = {},
): IdentifiabilityDiagnostic {
  const isResult = 'logLik' in fit && 'model' in fit;
  const model = cloneModel(isResult ? (fit as FitResult).model : (fit as Model));
  const tauMode = isResult ? (fit as FitResult).options.tauMode : (options.tauMode ?? 'free');
  const relTol = options.relTol ?? 1e-6;
  const which = options.matrix ?? 'hessian';
  if (model.d !== data.d) throw new Error(`data.d must equal the model's d = ${model.d}. Value: ${data.d}`);
  const { X, y, n } = data;
  const k = model.k;
  const layout = gateLayout(model.gate, k, model.d, tauMode);
  normalizeGate(layout, model);
  const topk = isMasked(model.gate);
  const backend = createCpuBackend();
  const ws = createWorkspace(n, k, true, topk);
  backend.gateProbs(model, X, n, ws.logPi, ws.pi, topk ? ws.mask : null, topk ? 'compute' : 'none');
  backend.eStep(model, X, y, n, ws.logPi, ws.resp);
  const p = layout.p;
  const obj = new GateQObjective(backend, layout, getGate(model.gate), X, n, ws, model, cloneModel(model));
  obj.maskMode = topk ? 'fixed' : 'none';
  const theta = new Float64Array(p);
  packGate(layout, model, theta);
  const info = new Float64Array(p * p);
  const curv = new Float64Array(p * p);
  if (which === 'fisher') {
    obj.gradCurv(new Float64Array(p), info);
  } else {
    const gp = new Float64Array(p);
    const gm = new Float64Array(p);
    const th = new Float64Array(p);
    for (let c = 0; c < p; c++) {
      const h = 1e-5 * Math.max(1, Math.abs(theta[c]!));
      th.set(theta);
      th[c] = theta[c]! + h;
      obj.trial(th);
      obj.accept();
      obj.gradCurv(gp, curv);
      th.set(theta);
      th[c] = theta[c]! - h;
      obj.trial(th);
      obj.accept();
      obj.gradCurv(gm, curv);
      for (let r = 0; r < p; r++) info[r * p + c] = -(gp[r]! - gm[r]!) / (2 * h);
    }
    symmetrize(info, p);
  }
  const rows = Array.from({ length: p }, (_, r) => Array.from(info.subarray(r * p, (r + 1) * p)));
  let eigenvalues: number[] = [];
  let vectors: number[][] = [];
  if (p > 0) {
    const e = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
    const V = e.eigenvectorMatrix.to2DArray();
    const order = e.realEigenvalues.map((v, i) => [v, i] as const).sort((u, v) => u[0] - v[0]);
    eigenvalues = order.map(([v]) => v);
    vectors = order.map(([, i]) => V.map((row) => row[i]!));
  }
  const largest = eigenvalues.length ? Math.max(...eigenvalues.map(Math.abs)) : 0;
  const flat = eigenvalues
    .map((ev, i) => ({ eigenvalue: ev, vector: vectors[i]! }))
    .filter((f) => f.eigenvalue <= relTol * largest);
  const labels = layoutLabels(layout).map((l) => (l === 'tau' ? 'log(tau)' : l));
  return {
    params: labels,
    fixed: fixedLabels(layout),
    eigenvalues,
    flat,
    relTol,
    matrix:
      which === 'fisher'
        ? 'Gauss–Newton (Fisher) information of the gate M-step objective Q at the fit'
        : '−Hessian of the gate M-step objective Q at the fit (central differences of the analytic gradient)',
  };
}
