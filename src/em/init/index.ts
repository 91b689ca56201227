/**
 * Initialisation: the starting model of one EM run, from an {@link InitOption}.
 * Data-driven starts (k-means, random partition) turn hard labels into a model with one
 * M-step: the experts by weighted least squares on their own samples, the gate by its Newton
 * M-step on labels smoothed to (0.9 + 0.1/k, 0.1/k) — smoothing keeps the logistic fit finite
 * when the clusters are separable in x. A top-K gate is fitted as a dense softmax here (with
 * all gates at 0 the top-K ranking is a tie and would silence experts).
 */
import { getGate } from '../../models/gates/index.js';
import { cloneModel, hasTau, type Dataset, type GateSpec, type Model } from '../../models/types.js';
import type { Rng } from '../../random/rng.js';
import type { Backend } from '../backend/types.js';
import type { ExpertsMStep } from '../experts.js';
import { GateQObjective } from '../gates/objective.js';
import { DENSE_MAX_STEP } from '../gates/dense.js';
import { packGate, unpackGate, type GateLayoutInfo } from '../gates/layout.js';
import { newtonMaximize, newtonWorkspace } from '../optim/newton.js';
import type { InitOption } from '../types.js';
import type { WarningLog } from '../warnings.js';
import type { Workspace } from '../workspace.js';
import { kmeans, standardizedXY } from './kmeans.js';
import { nearTruthModel } from './nearTruth.js';

export { nearTruthModel, nearTruthNoise, assignAtoms } from './nearTruth.js';
export { kmeans, standardizedXY } from './kmeans.js';

const LABEL_SMOOTHING = 0.1;
/** Newton steps for the gate of a data-driven start: a rough gate is enough, EM refines it. */
const INIT_GATE_STEPS = 20;

export interface InitContext {
  data: Dataset;
  gate: GateSpec;
  k: number;
  layout: GateLayoutInfo;
  backend: Backend;
  ws: Workspace;
  experts: ExpertsMStep;
  warnings: WarningLog;
  /** variance floor of the fit */
  varianceFloor: number;
}

/** The starting model (not yet normalised for the gate's translation symmetries). */
export function initialModel(init: InitOption, ctx: InitContext, rng: Rng): Model {
  switch (init.kind) {
    case 'near-truth':
      return nearTruthModel(init, ctx.gate, ctx.k, ctx.data.n, ctx.layout, rng);
    case 'model': {
      const m = cloneModel(init.model);
      m.gate = { ...ctx.gate };
      m.tau = hasTau(ctx.gate) ? (hasTau(init.model.gate) ? init.model.tau : 1) : 1;
      return m;
    }
    case 'kmeans': {
      const { X, y, n, d } = ctx.data;
      const { labels } = kmeans(standardizedXY(X, y, n, d), n, d + 1, ctx.k, rng);
      return modelFromLabels(labels, ctx);
    }
    case 'random': {
      const labels = new Int32Array(ctx.data.n);
      for (let i = 0; i < labels.length; i++) labels[i] = rng.int(ctx.k);
      return modelFromLabels(labels, ctx);
    }
    case 'softmax-first':
    case 'auto':
      throw new Error(`initialModel: the ${init.kind} init is resolved per start by fitMoE (startFamily)`);
  }
}

/** One M-step from hard labels (see module doc). */
export function modelFromLabels(labels: Int32Array, ctx: InitContext): Model {
  const { data, k, ws, backend, layout } = ctx;
  const { n, d, y } = data;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (y[i]! - mean) ** 2;
  v = Math.max(v / n, ctx.varianceFloor);
  // fallback for an empty cluster: the marginal fit of y
  const m: Model = {
    gate: { ...ctx.gate },
    k,
    d,
    beta0: new Float64Array(k),
    beta1: new Float64Array(k * d),
    a: new Float64Array(k * d),
    b: new Float64Array(k).fill(mean),
    nu: new Float64Array(k).fill(v),
    tau: 1,
  };
  const resp = ws.resp;
  resp.fill(0);
  for (let i = 0; i < n; i++) resp[i * k + labels[i]!] = 1;
  ctx.experts.step(m, resp, ctx.warnings, 0);
  if (layout.p === 0) return m;
  const lo = LABEL_SMOOTHING / k;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) resp[i * k + j] = labels[i] === j ? 1 - LABEL_SMOOTHING + lo : lo;
  backend.gateProbs(m, data.X, n, ws.logPi, ws.pi, null, 'none');
  const obj = new GateQObjective(backend, layout, getGate(m.gate), data.X, n, ws, m, cloneModel(m));
  obj.maskMode = 'none';
  const theta = new Float64Array(layout.p);
  packGate(layout, m, theta);
  newtonMaximize(
    obj,
    theta,
    {
      maxSteps: INIT_GATE_STEPS,
      tol: 1e-10,
      scale: n,
      damping: layout.linear ? 'none' : 'adaptive',
      maxStep: layout.linear ? Infinity : DENSE_MAX_STEP,
    },
    newtonWorkspace(layout.p),
    obj.currentValue(),
  );
  unpackGate(layout, theta, m);
  return m;
}
