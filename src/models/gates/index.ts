/**
 * Name-keyed registry of gate descriptors, one module per kind (softmax, topk, temperature,
 * activation): each owns its logits, form, τ, spec parsing (model files and `--gate`), its
 * serialisation and its Voronoi exponents. Code elsewhere asks the descriptor, never the name.
 */
import type { Gate } from './gate.js';
import { softmaxGate } from './softmax.js';
import { topkGate } from './topk.js';
import { temperatureGate } from './temperature.js';
import { activationGate } from './activation.js';
import type { GateKind, GateSpec } from '../types.js';

const registry = new Map<string, Gate>();

/** Registers a gate; registering a kind twice throws. */
export function registerGate(g: Gate): void {
  if (registry.has(g.kind)) throw new Error(`gate kind "${g.kind}" is already registered`);
  registry.set(g.kind, g);
}
registerGate(softmaxGate);
registerGate(topkGate);
registerGate(temperatureGate);
registerGate(activationGate);

/** The registered kinds, in registration order. */
export function gateKinds(): string[] {
  return [...registry.keys()];
}

/** The descriptor of a kind, or undefined for anything else (untrusted input). */
export function findGate(kind: unknown): Gate | undefined {
  return typeof kind === 'string' ? registry.get(kind) : undefined;
}

/** The gate implementation for a kind or spec. @throws on an unknown kind, listing the known ones. */
export function getGate(kind: GateKind | GateSpec): Gate {
  const name = typeof kind === 'string' ? kind : kind.kind;
  const g = registry.get(name);
  if (!g) throw new Error(`gate.kind must be one of ${[...registry.keys()].join(', ')}. Value: ${String(name)}`);
  return g;
}

/** True when the gate carries a temperature τ. */
export function hasTau(gate: GateSpec): boolean {
  return getGate(gate).hasTau;
}

/** True for a top-K (masked) gate: its gate pass computes or reuses an active-set mask. */
export function isMasked(gate: GateSpec): boolean {
  return getGate(gate).form === 'masked';
}

/**
 * Where the bias of a gate whose logits are a softmax's over τ sits (σ = identity): 'outside' for
 * β1·x/τ + β0 (the temperature gate; a softmax in (β0, β1/τ), Q flat along (β1, τ) → (cβ1, cτ)),
 * 'inside' for (β1·x + β0)/τ (a softmax in (β0/τ, β1/τ), Q flat along (β0, β1, τ) → c(β0, β1, τ));
 * null for every other gate. The M-step holds τ on both (THEORY.md §5, "What is identified").
 */
export function scaledLinearBias(gate: GateSpec): 'outside' | 'inside' | null {
  const a = getGate(gate).activation?.(gate);
  if (a === undefined || !a.act.linear) return null;
  return a.inside ? 'inside' : 'outside';
}

/**
 * The orbit along which a gate with τ leaves π unchanged, in words, or null: (β1, τ) → (cβ1, cτ) for a
 * positively homogeneous σ with the bias outside (GateSymmetries.scaling), (β0, β1, τ) → c(β0, β1, τ) with
 * it inside (GateSymmetries.scalingWithBias). With τ free the likelihood is exactly flat along it.
 */
export function scalingOrbit(spec: GateSpec): string | null {
  const g = getGate(spec);
  const sym = g.symmetries(spec);
  if (sym.scaling) return '(β1, τ) → (cβ1, cτ)';
  return sym.scalingWithBias && g.hasTau ? '(β0, β1, τ) → c(β0, β1, τ)' : null;
}

/** True when the gate's logits are a softmax's over τ ({@link scaledLinearBias}: the bias either side). */
export function isScaledLinear(gate: GateSpec): boolean {
  return scaledLinearBias(gate) !== null;
}

/** The `--gate` syntax of every registered kind, e.g. `softmax | topk:K | …`. */
export function gateCliSyntax(): string {
  return [...registry.values()].map((g) => g.cliSyntax).join(' | ');
}

/** The family a fit must share with its truth for a Voronoi loss, e.g. `activation(tanh, bias inside)`. */
export function gateFamily(gate: GateSpec): string {
  return getGate(gate).family(gate);
}

/** One-line description of a gate spec, e.g. `topk K=1 on logit`. */
export function describeGate(gate: GateSpec): string {
  return getGate(gate).describe(gate);
}

export type {
  Gate,
  GateSymmetries,
  GateForm,
  GateActivation,
  GateParseContext,
  GateCliContext,
  ExponentTable,
  ExponentRule,
} from './gate.js';
export { logSoftmaxRows, slopeScores } from './gate.js';
export { topKMask, activeSet } from './topk.js';
