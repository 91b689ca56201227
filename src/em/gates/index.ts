/** Name-keyed registry of gate M-steps (one per gate kind). */
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

registerGateMStep('softmax', softmaxMStep);
registerGateMStep('topk', topkMStep);
registerGateMStep('temperature', denseMStep);
registerGateMStep('activation', denseMStep);

/** The M-step factory of a gate kind. @throws naming the known kinds */
export function gateMStepFor(kind: GateKind): GateMStepFactory {
  const f = registry.get(kind);
  if (!f) throw new Error(`gate.kind must be one of ${[...registry.keys()].join(', ')}. Value: ${String(kind)}`);
  return f;
}

export { gateLayout, layoutLabels, fixedLabels, packGate, unpackGate, normalizeGate, type GateLayoutInfo } from './layout.js';
export { GateQObjective } from './objective.js';
export type { GateMStep, GateMStepContext, GateMStepInfo, GateMStepResult, GateMStepFactory } from './types.js';
