/**
 * Buffers of one fit, allocated once and reused by every iteration and every restart:
 * n × k gate log-probabilities / probabilities (current and trial, swapped instead of copied),
 * responsibilities, the gate's logit-derivative coefficients and the top-K masks.
 */
export interface Workspace {
  n: number;
  k: number;
  logPi: Float64Array;
  pi: Float64Array;
  logPiT: Float64Array;
  piT: Float64Array;
  resp: Float64Array;
  dB0: Float64Array;
  dU: Float64Array;
  dTau: Float64Array;
  mask: Uint8Array;
  maskT: Uint8Array;
  /** top-K only: responsibilities of the dense (unmasked) surrogate model */
  respT: Float64Array;
}

/**
 * Allocates the buffers for n samples and k experts.
 * @param derivs allocate the logit-derivative arrays (gates whose logits are not linear in θ)
 * @param masks allocate the top-K masks and the surrogate responsibilities
 */
export function createWorkspace(n: number, k: number, derivs: boolean, masks: boolean): Workspace {
  const nk = n * k;
  const empty = new Float64Array(0);
  return {
    n, k,
    logPi: new Float64Array(nk), pi: new Float64Array(nk),
    logPiT: new Float64Array(nk), piT: new Float64Array(nk),
    resp: new Float64Array(nk),
    dB0: derivs ? new Float64Array(nk) : empty,
    dU: derivs ? new Float64Array(nk) : empty,
    dTau: derivs ? new Float64Array(nk) : empty,
    mask: masks ? new Uint8Array(nk) : new Uint8Array(0),
    maskT: masks ? new Uint8Array(nk) : new Uint8Array(0),
    respT: masks ? new Float64Array(nk) : empty,
  };
}

/** The trial gate buffers become the current ones (and vice versa). */
export function swapGateBuffers(ws: Workspace, masks = false): void {
  const lp = ws.logPi; ws.logPi = ws.logPiT; ws.logPiT = lp;
  const p = ws.pi; ws.pi = ws.piT; ws.piT = p;
  if (masks) { const m = ws.mask; ws.mask = ws.maskT; ws.maskT = m; }
}
