/**
 * The gate M-steps: one per gate form (linear, masked, activation — read from the gate's
 * descriptor), so a new gate kind of an existing form needs nothing here; a kind may register
 * its own M-step instead.
 */
import { getGate, type GateForm } from '../../models/gates/index.js';
import type { GateKind } from '../../models/types.js';
import { denseMStep } from './dense.js';
import { softmaxMStep } from './softmax.js';
import { topkMStep } from './topk.js';
import type { GateMStepFactory } from './types.js';

const registry = new Map<string, GateMStepFactory>();

/** Registers the M-step of a gate kind; registering a kind twice throws. */
export function registerGateMStep(kind: GateKind, factory: GateMStepFactory): void {
  if (registry.has(kind)) throw new Error(`a gate M-step for "${kind}" is already registered`);
  registry.set(kind, factory);
}

const BY_FORM: Readonly<Record<GateForm, GateMStepFactory>> = Object.freeze({
  linear: softmaxMStep,
  masked: topkMStep,
  activation: denseMStep,
});

/** The M-step factory of a gate kind: its own when registered, else its form's. @throws naming the known kinds */
export function gateMStepFor(kind: GateKind): GateMStepFactory {
  return registry.get(kind) ?? BY_FORM[getGate(kind).form];
}

export {
  gateLayout,
  layoutLabels,
  fixedLabels,
  packGate,
  unpackGate,
  normalizeGate,
  type GateLayoutInfo,
} from './layout.js';
export { GateQObjective } from './objective.js';
export type { GateMStep, GateMStepContext, GateMStepInfo, GateMStepResult, GateMStepFactory } from './types.js';
