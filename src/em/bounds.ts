/**
 * The compact parameter space the theorems assume ([U]: THEORY.md states the rates for parameters in
 * a compact set; the bound values are our choice, never the papers'): the fit option `bounds`
 *   |β1_jl| ≤ beta1 (every expert j and coordinate l: the ∞-norm of each gate slope row),
 *   |β0_j| ≤ beta0, ν_j ∈ [nu[0], nu[1]] (expert variances), τ ∈ [tau[0], tau[1]] (gates with τ),
 * each field optional (absent: that parameter is free). The gate bounds apply to the parameters
 * as the fit stores them: the reference expert's gate fixed at 0 (it always lies in the box).
 *
 * Enforcement (one place per parameter): the start is projected ({@link projectToBounds}); the
 * experts' M-step clamps ν (exact: Q is unimodal in ν_j); each gate M-step gives the Newton driver
 * (src/em/optim/driver.ts) the box as its projection ({@link boxProjection}: projected Newton,
 * Bertsekas 1982 — coordinates at a bound whose gradient points out are held, the rest take the
 * Newton step of the reduced system, trial points are projected, a step is accepted only when Q
 * does not drop), so EM stays monotone; SQUAREM's extrapolated point is projected before its
 * stabilising EM step.
 */
import { z } from 'zod';
import type { Model } from '../models/types.js';
import { parseWith, positiveNumber, strictObject } from '../models/schema.js';
import { fail, isRecord } from '../models/validate.js';
import type { GateLayout } from './backend/types.js';

export interface Bounds {
  /** |β1_jl| ≤ beta1 for every expert j and coordinate l (per-coordinate bound: the ∞-norm of β1_j) */
  beta1?: number;
  /** |β0_j| ≤ beta0 for every expert j */
  beta0?: number;
  /** expert variances ν_j ∈ [nu[0], nu[1]] (the variance floor still applies below) */
  nu?: [number, number];
  /** temperature τ ∈ [tau[0], tau[1]] (temperature and activation gates; ignored by the others) */
  tau?: [number, number];
}

const INTERVAL_RULE = 'must be [min, max] with 0 < min ≤ max (finite numbers)';
const interval = () => z.tuple([positiveNumber(), positiveNumber()], { error: INTERVAL_RULE });
const BOUNDS_RULE = 'must be an object { beta1?, beta0?, nu?: [min, max], tau?: [min, max] }';

/** The zod schema of the `bounds` option (fields checked one by one, then min ≤ max in code). */
export const BOUNDS_SCHEMA = strictObject(
  {
    beta1: positiveNumber().optional(),
    beta0: positiveNumber().optional(),
    nu: interval().optional(),
    tau: interval().optional(),
  },
  'bounds',
  BOUNDS_RULE,
);

/**
 * Checks a `bounds` option at `path` and returns it with only its given fields.
 * @throws ValidationError naming the field, e.g. `bounds.nu must be [min, max] with 0 < min ≤ max (finite numbers). Value: [2, 1]`
 */
export function parseBounds(v: unknown, path = 'bounds'): Bounds {
  if (!isRecord(v)) fail(path, BOUNDS_RULE, v);
  const o = parseWith(BOUNDS_SCHEMA, v, path);
  const out: Bounds = {};
  if (o.beta1 !== undefined) out.beta1 = o.beta1;
  if (o.beta0 !== undefined) out.beta0 = o.beta0;
  for (const key of ['nu', 'tau'] as const) {
    const iv = o[key];
    if (iv === undefined) continue;
    if (!(iv[0] <= iv[1])) fail(`${path}.${key}`, INTERVAL_RULE, iv);
    out[key] = [iv[0], iv[1]];
  }
  return out;
}

/** Short description, for logs and reports: e.g. "|β1| ≤ 50, |β0| ≤ 50, ν ∈ [1e-4, 100]". */
export function describeBounds(b: Bounds): string {
  const parts: string[] = [];
  if (b.beta1 !== undefined) parts.push(`|β1| ≤ ${b.beta1}`);
  if (b.beta0 !== undefined) parts.push(`|β0| ≤ ${b.beta0}`);
  if (b.nu) parts.push(`ν ∈ [${b.nu[0]}, ${b.nu[1]}]`);
  if (b.tau) parts.push(`τ ∈ [${b.tau[0]}, ${b.tau[1]}]`);
  return parts.length ? parts.join(', ') : 'none';
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/**
 * Projects a model's parameters onto the box (in place): β0, β1, ν and, when the gate has one, τ
 * clamped to their bounds. Call after the gate's translation normalisation (normalizeGate), since
 * the bounds apply to the normalised parameters. Returns true when some parameter moved.
 */
export function projectToBounds(m: Model, b: Bounds, hasTau = true): boolean {
  let moved = false;
  const put = (arr: Float64Array, t: number, lo: number, hi: number) => {
    const v = clamp(arr[t]!, lo, hi);
    if (v !== arr[t]) {
      arr[t] = v;
      moved = true;
    }
  };
  if (b.beta0 !== undefined) for (let t = 0; t < m.beta0.length; t++) put(m.beta0, t, -b.beta0, b.beta0);
  if (b.beta1 !== undefined) for (let t = 0; t < m.beta1.length; t++) put(m.beta1, t, -b.beta1, b.beta1);
  if (b.nu) for (let t = 0; t < m.nu.length; t++) put(m.nu, t, b.nu[0], b.nu[1]);
  if (b.tau && hasTau) {
    const v = clamp(m.tau, b.tau[0], b.tau[1]);
    if (v !== m.tau) {
      m.tau = v;
      moved = true;
    }
  }
  return moved;
}

/** True when every bounded parameter of m lies in the box. */
export function withinBounds(m: Model, b: Bounds, hasTau = true): boolean {
  const inside = (arr: Float64Array, lo: number, hi: number) => arr.every((v) => v >= lo && v <= hi);
  if (b.beta0 !== undefined && !inside(m.beta0, -b.beta0, b.beta0)) return false;
  if (b.beta1 !== undefined && !inside(m.beta1, -b.beta1, b.beta1)) return false;
  if (b.nu && !inside(m.nu, b.nu[0], b.nu[1])) return false;
  return !(b.tau && hasTau && !(m.tau >= b.tau[0] && m.tau <= b.tau[1]));
}

/** A box lo ≤ θ ≤ hi over the free gate parameters (±Infinity where free). */
export interface Box {
  lo: Float64Array;
  hi: Float64Array;
}

/**
 * The box of a gate layout's θ = (β0, β1, log τ) (see gates/layout.ts), or null when the bounds
 * constrain none of its free parameters. `beta1Scale` and `beta0Scale` divide the β1 and β0 bounds
 * (the identity gate's proxy softmax works on β1/τ, and on β0/τ with the bias inside, τ held).
 */
export function gateBox(L: GateLayout, b: Bounds, beta1Scale = 1, beta0Scale = 1): Box | null {
  const lo = new Float64Array(L.p).fill(-Infinity);
  const hi = new Float64Array(L.p).fill(Infinity);
  let any = false;
  for (let j = 0; j < L.k; j++) {
    const i0 = L.b0Index[j]!;
    if (i0 >= 0 && b.beta0 !== undefined) {
      lo[i0] = -b.beta0 / beta0Scale;
      hi[i0] = b.beta0 / beta0Scale;
      any = true;
    }
    const i1 = L.b1Index[j]!;
    if (i1 >= 0 && b.beta1 !== undefined) {
      for (let a = 0; a < L.d; a++) {
        lo[i1 + a] = -b.beta1 / beta1Scale;
        hi[i1 + a] = b.beta1 / beta1Scale;
      }
      any = true;
    }
  }
  if (L.tauIndex >= 0 && b.tau) {
    lo[L.tauIndex] = Math.log(b.tau[0]);
    hi[L.tauIndex] = Math.log(b.tau[1]);
    any = true;
  }
  return any ? { lo, hi } : null;
}

/** θ ← its projection onto the box (in place). */
export function projectTheta(box: Box, theta: Float64Array): void {
  const { lo, hi } = box;
  for (let t = 0; t < theta.length; t++) theta[t] = clamp(theta[t]!, lo[t]!, hi[t]!);
}

/**
 * The box as a Newton driver's projection: `project` clamps θ in place and says whether it moved
 * (feasible points stay bit for bit), `hold` marks the coordinates projected Newton keeps fixed.
 */
export function boxProjection(box: Box): {
  project(theta: Float64Array): boolean;
  hold(theta: Float64Array, grad: Float64Array, held: Uint8Array): number;
} {
  return {
    project(theta) {
      let moved = false;
      for (let t = 0; t < theta.length; t++) {
        const v = clamp(theta[t]!, box.lo[t]!, box.hi[t]!);
        if (v !== theta[t]) {
          theta[t] = v;
          moved = true;
        }
      }
      return moved;
    },
    hold: (theta, grad, held) => heldCoordinates(box, theta, grad, held),
  };
}

/**
 * Marks the coordinates held by projected Newton at θ: at a bound with the gradient pointing out of
 * the box (a maximiser would leave through that face). Returns how many; `held[t]` = 1 for those.
 */
export function heldCoordinates(box: Box, theta: Float64Array, grad: Float64Array, held: Uint8Array): number {
  let c = 0;
  for (let t = 0; t < theta.length; t++) {
    const v = theta[t]!;
    const h = (v <= box.lo[t]! && grad[t]! < 0) || (v >= box.hi[t]! && grad[t]! > 0);
    held[t] = h ? 1 : 0;
    if (h) c++;
  }
  return c;
}

/**
 * The warning of a fit that ends on its bounds (null when it ends inside): each parameter at a bound,
 * e.g. "ended on its bounds: beta1[0][0] = 50 (|β1| ≤ 50): the maximiser within the box, not an interior one".
 */
export function boundsReached(m: Model, b: Bounds, hasTau: { tauIndex: number }): string | null {
  const at: string[] = [];
  const { k, d } = m;
  for (let j = 0; j < k; j++) {
    if (b.beta0 !== undefined && Math.abs(m.beta0[j]!) >= b.beta0) at.push(`beta0[${j}] = ${m.beta0[j]}`);
    if (b.beta1 !== undefined)
      for (let a = 0; a < d; a++)
        if (Math.abs(m.beta1[j * d + a]!) >= b.beta1) at.push(`beta1[${j}][${a}] = ${m.beta1[j * d + a]}`);
    if (b.nu && (m.nu[j]! <= b.nu[0] || m.nu[j]! >= b.nu[1])) at.push(`nu[${j}] = ${m.nu[j]}`);
  }
  if (b.tau && hasTau.tauIndex >= 0 && (m.tau <= b.tau[0] || m.tau >= b.tau[1])) at.push(`tau = ${m.tau}`);
  if (at.length === 0) return null;
  return `ended on its bounds (${describeBounds(b)}): ${at.join(', ')}: the maximiser within the box, not an interior one`;
}
