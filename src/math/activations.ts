/**
 * The activations σ of the activation dense-to-sparse gate: a registry of self-describing
 * descriptors (src/math/activation/*), one module each. Adding an activation is its module
 * and one entry in REGISTRY below.
 */
import type { ActivationDescriptor } from './activation/types.js';
import { identity } from './activation/identity.js';
import { tanh } from './activation/tanh.js';
import { sigmoid as sigmoidAct } from './activation/sigmoid.js';
import { gelu } from './activation/gelu.js';
import { relu } from './activation/relu.js';
import { softplusActivation } from './activation/softplus.js';

/** In the order of messages and --help. */
const REGISTRY = [tanh, sigmoidAct, gelu, relu, identity, softplusActivation] as const;

export type Activation = (typeof REGISTRY)[number]['name'];
/** Every descriptor, in REGISTRY's order (the SIMD generators emit kernels for those with `simd`). */
export const ACTIVATION_DESCRIPTORS: readonly ActivationDescriptor<Activation>[] = REGISTRY;
export const ACTIVATIONS: readonly Activation[] = Object.freeze(REGISTRY.map((a) => a.name));
export type { ActivationDescriptor } from './activation/types.js';
export { logistic as sigmoid } from './activation/sigmoid.js';

const BY_NAME = new Map<string, ActivationDescriptor<Activation>>(REGISTRY.map((a) => [a.name, a]));

/** True for a registered activation name. */
export function isActivation(name: unknown): name is Activation {
  return typeof name === 'string' && BY_NAME.has(name);
}

/** The descriptor of an activation. @throws naming the known ones */
export function activation(name: Activation): ActivationDescriptor<Activation> {
  const a = BY_NAME.get(name);
  if (!a) throw new Error(`activation must be one of ${ACTIVATIONS.join(', ')}. Value: ${String(name)}`);
  return a;
}

/** The descriptor with a fast-kernel code (see ActivationDescriptor.code), or undefined. */
export function activationByCode(code: number): ActivationDescriptor<Activation> | undefined {
  return code < 0 ? undefined : REGISTRY.find((a) => a.code === code);
}

/** σ(u) */
export function activate(kind: Activation, u: number): number {
  return activation(kind).sigma(u);
}

/** σ'(u) (relu: 0 at u = 0) */
export function activateDeriv(kind: Activation, u: number): number {
  return activation(kind).d1(u);
}

/** σ''(u) */
export function activateDeriv2(kind: Activation, u: number): number {
  return activation(kind).d2(u);
}

/** True when σ(cu) = cσ(u) for c > 0: such σ keep the (β1, τ) scaling symmetry. */
export function isPositivelyHomogeneous(kind: Activation): boolean {
  return activation(kind).positivelyHomogeneous;
}
