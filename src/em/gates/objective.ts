/**
 * The gate M-step objective Q(θ) = Σ_i Σ_j r_ij log π_j(x_i; θ) over the free gate parameters,
 * as a {@link NewtonObjective}: trial points write their gate probabilities into the workspace's
 * trial buffers, accept() swaps them in, so the final probabilities are ready for the next
 * E-step without recomputation. Gradient and curvature come from the backend, through the
 * gate's logit-derivative coefficients (Gate.logitDerivs), so one objective serves every gate.
 */
import type { Gate } from '../../models/gates/gate.js';
import type { Model } from '../../models/types.js';
import type { NewtonObjective } from '../optim/newton.js';
import type { Backend, MaskMode } from '../backend/types.js';
import { swapGateBuffers, type Workspace } from '../workspace.js';
import { copyGateParams, unpackGate, type GateLayoutInfo } from './layout.js';

export class GateQObjective implements NewtonObjective {
  readonly dim: number;
  /** responsibilities the objective is built on (n × k) */
  resp: Float64Array;
  /** 'none': dense softmax; 'fixed': normalise over ws.mask (top-K with S_K held fixed) */
  maskMode: MaskMode = 'none';

  /**
   * @param cur model holding the current gate parameters (updated on accept)
   * @param scratch a model of the same shape used for trial points
   */
  constructor(
    private readonly backend: Backend,
    readonly layout: GateLayoutInfo,
    private readonly gate: Gate,
    private readonly X: Float64Array,
    private readonly n: number,
    private readonly ws: Workspace,
    public cur: Model,
    private readonly scratch: Model,
  ) {
    this.dim = layout.p;
    this.resp = ws.resp;
  }

  /** Q at the current point, from the current gate buffers. */
  currentValue(): number {
    return this.backend.gateQ(this.resp, this.ws.logPi, this.n, this.layout.k);
  }

  trial(theta: Float64Array): number {
    copyGateParams(this.cur, this.scratch);
    unpackGate(this.layout, theta, this.scratch);
    // exp(log τ) can overflow or underflow: such a trial is infeasible, not a NaN later
    if (!(this.scratch.tau > 0 && this.scratch.tau < Infinity)) return -Infinity;
    const mask = this.maskMode === 'fixed' ? this.ws.mask : null;
    return this.backend.gateProbs(
      this.scratch,
      this.X,
      this.n,
      this.ws.logPiT,
      this.ws.piT,
      mask,
      this.maskMode === 'fixed' ? 'fixed' : 'none',
      this.resp,
    );
  }

  accept(): void {
    swapGateBuffers(this.ws);
    copyGateParams(this.scratch, this.cur);
  }

  grad(grad: Float64Array): void {
    this.derivatives(grad, null);
  }

  gradCurv(grad: Float64Array, curv: Float64Array): void {
    this.derivatives(grad, curv);
  }

  /** Gradient, and the curvature unless `curv` is null, at the current point. */
  private derivatives(grad: Float64Array, curv: Float64Array | null): void {
    const { ws } = this;
    if (!this.layout.linear) this.gate.logitDerivs(this.cur, this.X, this.n, ws.dB0, ws.dU, ws.dTau);
    this.backend.gateGradCurv(
      this.layout,
      this.X,
      this.n,
      this.resp,
      ws.pi,
      ws.dB0,
      ws.dU,
      ws.dTau,
      this.cur.tau,
      grad,
      curv,
    );
  }
}
