/** Test helpers: seeded random models and designs for every gate configuration. */
import { createRng, type Rng } from '../../src/random/rng.js';
import { ACTIVATIONS } from '../../src/math/activations.js';
import type { GateSpec, Model } from '../../src/models/types.js';

/** Every gate configuration for k experts (topk with each K and both selection rules). */
export function allGateSpecs(k: number): GateSpec[] {
  const specs: GateSpec[] = [{ kind: 'softmax' }, { kind: 'temperature' }];
  for (let K = 1; K <= k; K++)
    for (const selectOn of ['slope', 'logit'] as const) specs.push({ kind: 'topk', K, selectOn });
  for (const activation of ACTIVATIONS)
    for (const bias of ['outside', 'inside'] as const) specs.push({ kind: 'activation', activation, bias });
  return specs;
}

export function gateLabel(g: GateSpec): string {
  if (g.kind === 'topk') return `topk K=${g.K} ${g.selectOn}`;
  if (g.kind === 'activation') return `activation ${g.activation} ${g.bias}`;
  return g.kind;
}

/** A random model: gate parameters ~ N(0, gateScale²), experts ~ N(0, 4), ν ∈ [0.05, 1.05), τ ∈ [0.5, 2). */
export function randomModel(gate: GateSpec, k: number, d: number, rng: Rng, gateScale = 2): Model {
  const vec = (len: number, s: number) => Float64Array.from({ length: len }, () => s * rng.normal());
  return {
    gate: { ...gate },
    k,
    d,
    beta0: vec(k, gateScale),
    beta1: vec(k * d, gateScale),
    a: vec(k * d, 2),
    b: vec(k, 2),
    nu: Float64Array.from({ length: k }, () => 0.05 + rng.uniform()),
    tau: gate.kind === 'temperature' || gate.kind === 'activation' ? 0.5 + 1.5 * rng.uniform() : 1,
  };
}

/** n × d design with entries uniform in [lo, hi). */
export function randomX(n: number, d: number, rng: Rng, lo = -1, hi = 1): Float64Array {
  return Float64Array.from({ length: n * d }, () => lo + (hi - lo) * rng.uniform());
}

export { createRng };

/** max_t |a_t − b_t| */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let t = 0; t < a.length; t++) m = Math.max(m, Math.abs(a[t]! - b[t]!));
  return m;
}
