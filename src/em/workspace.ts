import type { BufferStore } from './backend/types.js';

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
 * @param arena place the n × k gate and responsibility buffers and the masks in this store (the
 *   backend's, from Backend.fitStorage: the CPU backend's SIMD kernels then run on them; see
 *   {@link workspaceArenaLengths})
 */
export function createWorkspace(
  n: number,
  k: number,
  derivs: boolean,
  masks: boolean,
  arena?: BufferStore | null,
): Workspace {
  const nk = n * k;
  const empty = new Float64Array(0);
  const f64 = (len: number): Float64Array => (arena ? arena.alloc(len) : new Float64Array(len));
  const u8 = (len: number): Uint8Array => (arena ? arena.allocU8(len) : new Uint8Array(len));
  return {
    n,
    k,
    logPi: f64(nk),
    pi: f64(nk),
    logPiT: f64(nk),
    piT: f64(nk),
    resp: f64(nk),
    dB0: derivs ? new Float64Array(nk) : empty,
    dU: derivs ? new Float64Array(nk) : empty,
    dTau: derivs ? new Float64Array(nk) : empty,
    mask: masks ? u8(nk) : new Uint8Array(0),
    maskT: masks ? u8(nk) : new Uint8Array(0),
    respT: masks ? f64(nk) : empty,
  };
}

/** The trial gate buffers become the current ones (and vice versa). */
export function swapGateBuffers(ws: Workspace, masks = false): void {
  const lp = ws.logPi;
  ws.logPi = ws.logPiT;
  ws.logPiT = lp;
  const p = ws.pi;
  ws.pi = ws.piT;
  ws.piT = p;
  if (masks) {
    const m = ws.mask;
    ws.mask = ws.maskT;
    ws.maskT = m;
  }
}

/**
 * Lengths of the arrays a fit places in an arena: the five n × k buffers (six with masks: the
 * top-K surrogate responsibilities), X (n × d) and y; and the byte lengths of the top-K masks.
 */
export function workspaceArenaLengths(
  n: number,
  k: number,
  d: number,
  masks: boolean,
): { f64: number[]; u8: number[] } {
  const nk = n * k;
  return masks
    ? { f64: [nk, nk, nk, nk, nk, nk, n * d, n], u8: [nk, nk] }
    : { f64: [nk, nk, nk, nk, nk, n * d, n], u8: [] };
}
